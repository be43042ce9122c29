-- ARGV: node, lease ms, grace ms, log ttl ms. Renews this node's lease (re-registering it,
-- after moving its peers into their grace, if it had lapsed), reaps nodes whose lease ended and
-- graces that ran out. Returns {'ok'|'lost', peers left}.
local node, lease, grace, log_ttl = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local now = now_ms()
local status = 'ok'
local mine = redis.call('ZSCORE', P .. 'nodes', node)
if not mine or tonumber(mine) < now then
  status = 'lost'
  reap_node(node, now + grace)
end
redis.call('ZADD', P .. 'nodes', now + lease, node)
for _, dead in ipairs(redis.call('ZRANGEBYSCORE', P .. 'nodes', '-inf', now - 1, 'LIMIT', 0, 16)) do
  reap_node(dead, now + grace)
end
local left = 0
for _, m in ipairs(redis.call('ZRANGEBYSCORE', P .. 'grace', '-inf', now, 'LIMIT', 0, 256)) do
  local slash = string.find(m, '/', 1, true)
  local room, peer = string.sub(m, 1, slash - 1), string.sub(m, slash + 1)
  if redis.call('HGET', rkey(room, 'conn'), peer) == '' then
    leave_peer(room, peer, log_ttl)
    left = left + 1
  else
    redis.call('ZREM', P .. 'grace', m)
  end
end
return {status, tostring(left)}
