-- ARGV: room, to, kind, sent us, frame, log ttl ms. Returns 1, or 0 when `to` is not in the room.
if redis.call('HEXISTS', rkey(ARGV[1], 'tok'), ARGV[2]) == 0 then return 0 end
deliver(ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], tonumber(ARGV[6]))
return 1
