-- Shared by every script of the Redis engine (prepended to each). All room keys of room R share
-- the hash tag {R}. A connection id is "<node>.<n>"; '' marks a peer in its resume grace.
local P = 'rm:'
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function rkey(room, what) return P .. 'r:{' .. room .. '}:' .. what end
local function logkey(room, peer) return P .. 'log:{' .. room .. '}:' .. peer end
local function node_of(conn) return string.sub(conn, 1, string.find(conn, '.', 1, true) - 1) end
local function local_of(conn) return string.sub(conn, string.find(conn, '.', 1, true) + 1) end
local LOG_CAP = 512

-- Numbers a frame for one recipient, keeps it in the recipient's capped log and publishes it
-- to the inbox of the node holding the recipient's socket (if any).
local function deliver(room, peer, kind, sent, frame, log_ttl)
  local seq = redis.call('HINCRBY', rkey(room, 'seq'), peer, 1)
  local log = logkey(room, peer)
  redis.call('XADD', log, 'MAXLEN', LOG_CAP, seq .. '-0', 'k', kind, 'f', frame)
  redis.call('PEXPIRE', log, log_ttl)
  local conn = redis.call('HGET', rkey(room, 'conn'), peer)
  if conn and conn ~= '' then
    redis.call('PUBLISH', P .. 'inbox:' .. node_of(conn),
      local_of(conn) .. '\n' .. seq .. '\n' .. kind .. '\n' .. sent .. '\n' .. frame)
  end
end

local function deliver_all(room, except, kind, sent, frame, log_ttl)
  for _, p in ipairs(redis.call('HKEYS', rkey(room, 'tok'))) do
    if p ~= except then deliver(room, p, kind, sent, frame, log_ttl) end
  end
end

-- Removes a peer for good and tells the others; removes the room's keys when it empties.
local function leave_peer(room, peer, log_ttl)
  local m = room .. '/' .. peer
  local conn = redis.call('HGET', rkey(room, 'conn'), peer)
  if conn and conn ~= '' then redis.call('SREM', P .. 'node:' .. node_of(conn), m) end
  for _, h in ipairs({'tok', 'conn', 'info', 'seq', 'gseq'}) do
    redis.call('HDEL', rkey(room, h), peer)
  end
  redis.call('DEL', logkey(room, peer))
  redis.call('ZREM', P .. 'grace', m)
  if redis.call('HINCRBY', P .. 'count', 'peers', -1) <= 0 then
    redis.call('HSET', P .. 'count', 'peers', 0)
  end
  if redis.call('HLEN', rkey(room, 'tok')) == 0 then
    redis.call('DEL', rkey(room, 'tok'), rkey(room, 'conn'), rkey(room, 'info'),
      rkey(room, 'seq'), rkey(room, 'gseq'), rkey(room, 'chat'))
    if redis.call('HINCRBY', P .. 'count', 'rooms', -1) <= 0 then
      redis.call('DEL', P .. 'count')
    end
  else
    local frame = '{"type":"peer-left","room":"' .. room .. '","from":"server","data":"' .. peer .. '"}'
    deliver_all(room, '', 'peer-left', '0', frame, log_ttl)
  end
end

-- A peer whose socket is gone keeps its slot until `deadline`; what it is sent meanwhile is
-- logged (from `gseq` on) for its resume.
local function start_grace(room, peer, deadline)
  local m = room .. '/' .. peer
  local conn = redis.call('HGET', rkey(room, 'conn'), peer)
  if conn and conn ~= '' then redis.call('SREM', P .. 'node:' .. node_of(conn), m) end
  redis.call('HSET', rkey(room, 'conn'), peer, '')
  redis.call('HSET', rkey(room, 'gseq'), peer, redis.call('HGET', rkey(room, 'seq'), peer) or '0')
  redis.call('ZADD', P .. 'grace', deadline, m)
end

-- Every peer of a node whose lease ended enters its grace.
local function reap_node(node, deadline)
  for _, m in ipairs(redis.call('SMEMBERS', P .. 'node:' .. node)) do
    local slash = string.find(m, '/', 1, true)
    local room, peer = string.sub(m, 1, slash - 1), string.sub(m, slash + 1)
    local conn = redis.call('HGET', rkey(room, 'conn'), peer)
    if conn and conn ~= '' and node_of(conn) == node then start_grace(room, peer, deadline) end
  end
  redis.call('DEL', P .. 'node:' .. node)
  redis.call('ZREM', P .. 'nodes', node)
end

-- The other peers' PeerInfo JSON, for `welcome`.
local function others(room, peer, out)
  local all = redis.call('HGETALL', rkey(room, 'info'))
  for i = 1, #all, 2 do
    if all[i] ~= peer then out[#out + 1] = all[i + 1] end
  end
  return out
end
