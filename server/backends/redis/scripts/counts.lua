-- StudyMatch's live counts, shared by every instance (server/backends/redis/counts.py).
--
-- Each instance, once a second, writes its own figures and reads the others'.
-- One hash holds them all: field = instance, value = "<until ms>|<figures JSON>".
-- An entry past its time (an instance that died without retiring) is deleted
-- here rather than read; the hash itself expires when every instance is gone.
--
-- KEYS: 1 the hash (under the deployment's hash tag).
-- ARGV: 1 this instance, 2 its figures (JSON; '' = retire: delete this instance's entry),
--       3 how long an entry lives, in ms.
-- The reply: the other instances' figures (JSON strings), fresh ones only.

local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[3])
if ARGV[2] == '' then
  redis.call('HDEL', KEYS[1], ARGV[1])
  return {}
end
redis.call('HSET', KEYS[1], ARGV[1], (now + ttl) .. '|' .. ARGV[2])
redis.call('PEXPIRE', KEYS[1], ttl)
local all = redis.call('HGETALL', KEYS[1])
local others = {}
for i = 1, #all, 2 do
  local field, value = all[i], all[i + 1]
  local bar = string.find(value, '|', 1, true)
  local fresh = bar ~= nil and tonumber(string.sub(value, 1, bar - 1))
  if not fresh or fresh < now then
    redis.call('HDEL', KEYS[1], field)
  elseif field ~= ARGV[1] then
    others[#others + 1] = string.sub(value, bar + 1)
  end
end
return others
