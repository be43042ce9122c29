-- ARGV: room, peer, conn, grace ms. Returns 1 when the slot was this socket's.
local room, peer, conn = ARGV[1], ARGV[2], ARGV[3]
if redis.call('HGET', rkey(room, 'conn'), peer) ~= conn then return 0 end
start_grace(room, peer, now_ms() + tonumber(ARGV[4]))
return 1
