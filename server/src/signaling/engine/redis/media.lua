-- ARGV: room, from, audio, video, screen ('1'/'0'), sent us, frame, log ttl ms.
local room, from = ARGV[1], ARGV[2]
local raw = redis.call('HGET', rkey(room, 'info'), from)
if not raw then return 0 end
local info = cjson.decode(raw)
info.media = {audio = ARGV[3] == '1', video = ARGV[4] == '1', screen = ARGV[5] == '1'}
redis.call('HSET', rkey(room, 'info'), from, cjson.encode(info))
deliver_all(room, from, 'media', ARGV[6], ARGV[7], tonumber(ARGV[8]))
return 1
