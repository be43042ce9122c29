-- ARGV: room, peer, conn, log ttl ms. Returns 1 when the slot was this socket's and it left.
local room, peer, conn = ARGV[1], ARGV[2], ARGV[3]
if redis.call('HGET', rkey(room, 'conn'), peer) ~= conn then return 0 end
leave_peer(room, peer, tonumber(ARGV[4]))
return 1
