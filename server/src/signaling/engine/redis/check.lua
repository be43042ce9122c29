-- ARGV: room, peer, presented token ('' for none), capacity. Returns ok|taken|full.
local room, peer, presented, cap = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local stored = redis.call('HGET', rkey(room, 'tok'), peer)
if stored then
  if presented ~= '' and redis.sha1hex(presented) == stored then return 'ok' end
  return 'taken'
end
if redis.call('HLEN', rkey(room, 'tok')) >= cap then return 'full' end
return 'ok'
