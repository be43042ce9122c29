-- ARGV: room, from, text, sent us, log ttl ms. The chat frame is built here so that its id,
-- time and order are the same for everyone.
local room, from = ARGV[1], ARGV[2]
local info = redis.call('HGET', rkey(room, 'info'), from)
if not info then return 0 end
local id = redis.call('INCR', rkey(room, 'chat'))
local frame = cjson.encode({type = 'chat', room = room, from = from,
  data = {text = ARGV[3], ts = now_ms(), id = id, name = cjson.decode(info).name}})
deliver_all(room, '', 'chat', ARGV[4], frame, tonumber(ARGV[5]))
return 1
