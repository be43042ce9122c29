-- ARGV: room, peer, node, conn, name, presented token ('' for none), new token, capacity,
-- new-peer frame, PeerInfo JSON of the joiner, log ttl ms, sent us.
-- Returns {status, seq, gseq, PeerInfo JSON of the others...}; status new|resumed|taken|full|fenced.
local room, peer, node, conn, name, presented, token = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local cap, log_ttl = tonumber(ARGV[8]), tonumber(ARGV[11])
local lease = redis.call('ZSCORE', P .. 'nodes', node)
if not lease or tonumber(lease) < now_ms() then return {'fenced'} end
local m = room .. '/' .. peer
local stored = redis.call('HGET', rkey(room, 'tok'), peer)
if stored then
  if presented == '' or redis.sha1hex(presented) ~= stored then return {'taken'} end
  local old = redis.call('HGET', rkey(room, 'conn'), peer)
  if old and old ~= '' then
    redis.call('SREM', P .. 'node:' .. node_of(old), m)
    redis.call('PUBLISH', P .. 'inbox:' .. node_of(old), local_of(old) .. '\n0\nreplaced\n0\n')
  end
  redis.call('ZREM', P .. 'grace', m)
  redis.call('HSET', rkey(room, 'conn'), peer, conn)
  redis.call('SADD', P .. 'node:' .. node, m)
  if name ~= '' then
    local info = cjson.decode(redis.call('HGET', rkey(room, 'info'), peer))
    info.name = name
    redis.call('HSET', rkey(room, 'info'), peer, cjson.encode(info))
  end
  local seq = redis.call('HGET', rkey(room, 'seq'), peer) or '0'
  local gseq = redis.call('HGET', rkey(room, 'gseq'), peer) or ''
  redis.call('HDEL', rkey(room, 'gseq'), peer)
  return others(room, peer, {'resumed', seq, gseq})
end
if redis.call('HLEN', rkey(room, 'tok')) >= cap then return {'full'} end
if redis.call('HLEN', rkey(room, 'tok')) == 0 then redis.call('HINCRBY', P .. 'count', 'rooms', 1) end
redis.call('HINCRBY', P .. 'count', 'peers', 1)
redis.call('HSET', rkey(room, 'tok'), peer, redis.sha1hex(token))
redis.call('HSET', rkey(room, 'conn'), peer, conn)
redis.call('HSET', rkey(room, 'info'), peer, ARGV[10])
redis.call('HSET', rkey(room, 'seq'), peer, 0)
redis.call('SADD', P .. 'node:' .. node, m)
local out = others(room, peer, {'new', '0', ''})
deliver_all(room, peer, 'new-peer', ARGV[12], ARGV[9], log_ttl)
return out
