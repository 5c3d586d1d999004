-- Sessions ending, and sides of a session that are away (docs/protocol.md,
-- "Resuming after a dropped socket"). Part of the pairing script: follows
-- matchmaking.lua (its locals) and precedes ops.lua; script.py joins them.
--
-- An away side has no client record (its connection is gone); the session
-- keeps its place: its old id, a grace deadline, its report key, the signals
-- sent to it meanwhile. A session that ends leaves a tombstone (session ->
-- the reason the side that did not end it was given) for the ticket's
-- lifetime, so a ticket for it gets `partner_left` rather than a rebuilt
-- session.

local MAX_KEPT = 16

local function load_session(sid)
  local raw = redis.call('HGET', K_SESSIONS, sid)
  if not raw then return nil end
  return cjson.decode(raw)
end

local function save_session(sid, s)
  redis.call('HSET', K_SESSIONS, sid, cjson.encode(s))
end

local function side_of(s, id)
  if s.a == id then return 'a' end
  return 'b'
end

local function other_side(side)
  if side == 'a' then return 'b' end
  return 'a'
end

local function is_away(s, side)
  return s['d' .. side] ~= nil
end

local function tombstone(sid, reason)
  redis.call('HSET', K_TOMBS, sid, reason)
  redis.call('ZADD', K_TOMBDUE, now + ticket_ttl, sid)
end

-- Forgets what was kept for a session's away sides (the session is ending).
local function forget_away(sid)
  redis.call('ZREM', K_AWAYDUE, sid .. '|a', sid .. '|b')
  redis.call('HDEL', K_KEPT, sid .. '|a', sid .. '|b')
end

-- Ends the session of r (the caller saves or deletes r); tells the partner
-- if it is here. Returns the partner's id, record (nil when it is gone or
-- away) and report key.
local function end_session(id, r, reason)
  local sid = r.ss
  local s = load_session(sid)
  redis.call('HDEL', K_SESSIONS, sid)
  local side = other_side(side_of(s, id))
  local pid = s[side]
  r.w, r.ss, r.ls, r.lr = 'i', nil, sid, ''
  tombstone(sid, reason)
  local away = is_away(s, side)
  if away then forget_away(sid) end
  if COOLDOWN_REASONS[reason] then
    local till = now + cooldown
    redis.call('ZADD', K_COOL, till, pair_key(id, pid))
    redis.call('ZADD', K_COOLDUE, till, pair_key(id, pid) .. '@' .. tostring(till))
  end
  if away then return pid, nil, s['k' .. side] end
  local pr = load(pid)
  if not pr then return pid, nil, pid end
  pr.w, pr.ss, pr.ls, pr.lr = 'i', nil, sid, reason
  save(pid, pr)
  send(pr, pid, 'partner_left', sid, reason)
  return pid, pr, pr.k or pid
end

-- The client `id` (record r, in a session) lost its connection but may come
-- back: its side waits for it until the grace runs out; the partner is told.
local function go_away(id, r)
  local sid = r.ss
  local s = load_session(sid)
  local side = side_of(s, id)
  s['d' .. side], s['k' .. side] = now + grace, r.k or id
  save_session(sid, s)
  redis.call('ZADD', K_AWAYDUE, now + grace, sid .. '|' .. side)
  redis.call('HDEL', K_CLIENTS, id)
  forget_avoid(id)
  local other = other_side(side)
  if not is_away(s, other) then
    local pid = s[other]
    local pr = load(pid)
    if pr then send(pr, pid, 'partner_reconnecting', sid) end
  end
end

-- A signal for an away side waits for it (the newest MAX_KEPT).
local function keep_signal(sid, side, data)
  local field = sid .. '|' .. side
  local kept = cjson.decode(redis.call('HGET', K_KEPT, field) or '[]')
  kept[#kept + 1] = data
  if #kept > MAX_KEPT then table.remove(kept, 1) end
  redis.call('HSET', K_KEPT, field, cjson.encode(kept))
end

-- Hands the signals kept for a side to the client now holding it, in order.
local function deliver_kept(sid, side, id, r)
  local field = sid .. '|' .. side
  local raw = redis.call('HGET', K_KEPT, field)
  if not raw then return end
  redis.call('HDEL', K_KEPT, field)
  for _, data in ipairs(cjson.decode(raw)) do send(r, id, 'signal', sid, data) end
end

-- A side came back: it is present again under the id `id` (record r).
local function come_back(sid, s, side, id, r)
  s[side], s['d' .. side], s['k' .. side] = id, nil, nil
  redis.call('ZREM', K_AWAYDUE, sid .. '|' .. side)
  r.w, r.ss = 's', sid
end

-- The grace of an away side ran out. The session ends once no away side has
-- time left: the partner, if here, gets `partner_left` `timeout`.
local function expire_side(sid, side)
  local s = load_session(sid)
  if not s or not is_away(s, side) or s['d' .. side] > now then return end
  local other = other_side(side)
  if is_away(s, other) and s['d' .. other] > now then return end -- ends with the other's grace
  redis.call('HDEL', K_SESSIONS, sid)
  forget_away(sid)
  tombstone(sid, 'timeout')
  if is_away(s, other) then return end
  local pid = s[other]
  local pr = load(pid)
  if not pr then return end
  pr.w, pr.ss, pr.ls, pr.lr = 'i', nil, sid, 'timeout'
  save(pid, pr)
  send(pr, pid, 'partner_left', sid, 'timeout')
end

local function expire_away()
  local due = redis.call('ZRANGEBYSCORE', K_AWAYDUE, '-inf', tostring(now), 'LIMIT', 0, 1000)
  for _, member in ipairs(due) do
    redis.call('ZREM', K_AWAYDUE, member)
    local sid, side = string.match(member, '^(.*)|([ab])$')
    expire_side(sid, side)
  end
end

-- Tombstones and spent queue tickets outlive every ticket that could name them, no longer.
local function forget_old()
  local old = redis.call('ZRANGEBYSCORE', K_TOMBDUE, '-inf', tostring(now), 'LIMIT', 0, 1000)
  if #old > 0 then
    redis.call('HDEL', K_TOMBS, unpack(old))
    redis.call('ZREM', K_TOMBDUE, unpack(old))
  end
  redis.call('ZREMRANGEBYSCORE', K_SPENT, '-inf', tostring(now))
end

local function drop_client(id)
  local r = load(id)
  if not r then return end
  if r.w == 's' then
    end_session(id, r, 'disconnected')
  elseif r.w == 'q' then
    dequeue(id, r)
  end
  redis.call('HDEL', K_CLIENTS, id)
  forget_avoid(id)
end

-- Takes out every client of the given instances (crashed, or retiring). One that
-- may resume keeps its side of its session for the grace period: it comes back
-- through another instance (or the same one restarted). Waiters leave the line;
-- their tickets carry their place.
local function reap(dead)
  if #dead == 0 then return 0 end
  local is_dead = {}
  for _, instance in ipairs(dead) do is_dead[instance] = true end
  local ids = redis.call('HKEYS', K_CLIENTS)
  local n = 0
  for _, id in ipairs(ids) do
    local r = load(id) -- fresh: an earlier drop may have ended its session
    if r and is_dead[r.i] then
      if r.rs and r.w == 's' then
        go_away(id, r)
      else
        drop_client(id)
      end
      n = n + 1
    end
  end
  redis.call('ZREM', K_INSTANCES, unpack(dead))
  return n
end

local function reap_expired()
  return reap(redis.call('ZRANGEBYSCORE', K_INSTANCES, '-inf', '(' .. tostring(now)))
end
