-- StudyMatch's shared queue: every decision about it, atomically, in Redis.
--
-- The same rules as server/core/matchmaking.py (the pure core) and server/core/rules.py,
-- restated here because a pairing must be decided where the data lives: one
-- script run is one step, so two server instances racing can never pair a
-- client twice. Every key is passed in KEYS (all under one hash tag), so the
-- script also runs on Redis Cluster. Topics arrive normalized by Python;
-- '' means "any topic".
--
-- One run carries a batch of operations (the requests of an instance's clients
-- that arrived while its previous run was under way), done one after the other
-- as if each were its own run: a script call and its reply cost more than the
-- decisions themselves. The messages of the whole run go out as one PUBLISH
-- per receiving instance (a JSON array, in the order decided here).
--
-- KEYS: 1 clients (hash id -> JSON record), 2 sessions (hash id -> JSON),
--       3 cool (zset "a|b" -> till), 4 cooldue (zset of ends not yet ticked),
--       5 seq (counter: the global waiting order), 6 matches (counter),
--       7 instances (zset instance -> lease deadline), 8.. one queue per mode
--       (zset id -> seq), in the order of ARGV[6], then the penalty keys
--       (abuse.lua's) the batch's find and skip operations read.
-- ARGV: 1 now ('' = Redis' clock), 2 cool-down seconds, 3 lease seconds,
--       4 channel prefix, 5 calling instance, 6 modes (space separated),
--       7 the batch, JSON: a list of operations, each [name, arguments...].
-- Reply: { outcomes (JSON: [status, detail] for each operation), waits (one
--          string, space separated), stats, sent (instance, payload for each
--          PUBLISH, flat) }. JSON rather than Redis arrays both ways: one
--          string costs redis-py far less to pack and parse than many.
-- Record fields: w = where ('i' idle, 'q' queued, 's' in session), m/t = the
-- last find's mode/topic, s = seq while queued, qa = when it was queued,
-- ss = session, i = owning instance, ls/lr = last ended session and why
-- ('' when this client ended it itself), k = the key reports about this client
-- follow (a signed token's subject; absent: its id), given by its instance.

local K_CLIENTS, K_SESSIONS, K_COOL, K_COOLDUE = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local K_SEQ, K_MATCHES, K_INSTANCES = KEYS[5], KEYS[6], KEYS[7]

local now
if ARGV[1] == '' then
  local t = redis.call('TIME')
  now = tonumber(t[1]) + tonumber(t[2]) / 1000000
else
  now = tonumber(ARGV[1])
end
local cooldown = tonumber(ARGV[2])
local lease = tonumber(ARGV[3])
local chan_prefix = ARGV[4]
local me = ARGV[5]
local QUEUE, MODES = {}, {}
do
  local k = 8
  for mode in string.gmatch(ARGV[6], '%S+') do
    QUEUE[mode] = KEYS[k]
    MODES[#MODES + 1] = mode
    k = k + 1
  end
end

-- outbox: instance -> encoded envelopes; order: instances in first-use order.
local outbox, order, waits = {}, {}, {}
local session_base, session_n = '', 0
local COOLDOWN_REASONS = { skipped = true, reported = true }

local function load(id)
  local raw = redis.call('HGET', K_CLIENTS, id)
  if not raw then return nil end
  return cjson.decode(raw)
end

local function save(id, r)
  redis.call('HSET', K_CLIENTS, id, cjson.encode(r))
end

local function send(r, to, ...)
  local box = outbox[r.i]
  if not box then
    box = {}
    outbox[r.i] = box
    order[#order + 1] = r.i
  end
  box[#box + 1] = cjson.encode({ to, ... })
end

local function next_session()
  session_n = session_n + 1
  if session_n == 1 then return session_base end
  return session_base .. '.' .. session_n
end

local function pair_key(a, b)
  if a < b then return a .. '|' .. b end
  return b .. '|' .. a
end

local function in_cooldown(a, b)
  local till = redis.call('ZSCORE', K_COOL, pair_key(a, b))
  return till ~= false and tonumber(till) > now
end

local function alive(instance)
  local deadline = redis.call('ZSCORE', K_INSTANCES, instance)
  return deadline ~= false and tonumber(deadline) >= now
end

-- The compatible waiter who has waited longest (smaller seq), skipping pairs
-- in cool-down and waiters whose instance stopped renewing its lease.
local function longest_waiter(id, r, older_than)
  local queue = QUEUE[r.m]
  local start = 0
  while true do
    local batch = redis.call('ZRANGE', queue, start, start + 99, 'WITHSCORES')
    if #batch == 0 then return nil end
    for j = 1, #batch, 2 do
      local other, seq = batch[j], tonumber(batch[j + 1])
      if older_than and seq >= older_than then return nil end
      if other ~= id then
        local o = load(other)
        if o and (r.t == '' or o.t == '' or o.t == r.t)
            and not in_cooldown(id, other) and alive(o.i) then
          return other, o
        end
      end
    end
    start = start + 100
  end
end

local function dequeue(id, r)
  redis.call('ZREM', QUEUE[r.m], id)
  r.w, r.s = 'i', nil
end

local function start_session(aid, a, bid, b)
  local sid = next_session()
  redis.call('HSET', K_SESSIONS, sid, cjson.encode({ a = aid, b = bid, t = now }))
  a.w, a.ss, b.w, b.ss = 's', sid, 's', sid
  save(aid, a)
  save(bid, b)
  redis.call('INCR', K_MATCHES)
  waits[#waits + 1] = tostring(now - a.qa)
  waits[#waits + 1] = tostring(now - b.qa)
  send(a, aid, 'matched', sid, true, b.m, b.t)
  send(b, bid, 'matched', sid, false, a.m, a.t)
end

local function enqueue(id, r)
  r.qa = now
  send(r, id, 'queued', r.m, r.t)
  local pid, pr = longest_waiter(id, r, nil)
  if not pid then
    local seq = redis.call('INCR', K_SEQ)
    r.w, r.s = 'q', seq
    redis.call('ZADD', QUEUE[r.m], seq, id)
    save(id, r)
    return
  end
  dequeue(pid, pr)
  start_session(pid, pr, id, r)
end

-- Ends the session of r (the caller saves or deletes r); tells the partner.
-- Returns the partner's id and record (nil when it is gone).
local function end_session(id, r, reason)
  local sid = r.ss
  local s = cjson.decode(redis.call('HGET', K_SESSIONS, sid))
  redis.call('HDEL', K_SESSIONS, sid)
  local pid = s.a
  if pid == id then pid = s.b end
  r.w, r.ss, r.ls, r.lr = 'i', nil, sid, ''
  local pr = load(pid)
  if not pr then return pid, nil end
  pr.w, pr.ss, pr.ls, pr.lr = 'i', nil, sid, reason
  save(pid, pr)
  if COOLDOWN_REASONS[reason] then
    local till = now + cooldown
    redis.call('ZADD', K_COOL, till, pair_key(id, pid))
    redis.call('ZADD', K_COOLDUE, till, pair_key(id, pid) .. '@' .. tostring(till))
  end
  send(pr, pid, 'partner_left', sid, reason)
  return pid, pr
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
end

-- Takes out every client of the given instances (crashed, or retiring).
local function reap(dead)
  if #dead == 0 then return 0 end
  local is_dead = {}
  for _, instance in ipairs(dead) do is_dead[instance] = true end
  local ids = redis.call('HKEYS', K_CLIENTS)
  local n = 0
  for _, id in ipairs(ids) do
    local r = load(id) -- fresh: an earlier drop may have ended its session
    if r and is_dead[r.i] then
      drop_client(id)
      n = n + 1
    end
  end
  redis.call('ZREM', K_INSTANCES, unpack(dead))
  return n
end

local function reap_expired()
  return reap(redis.call('ZRANGEBYSCORE', K_INSTANCES, '-inf', '(' .. tostring(now)))
end

-- Only an ending cool-down can make two clients who already wait pairable,
-- so the queues are scanned only when one has ended since the last tick.
local function tick()
  local due = redis.call('ZRANGEBYSCORE', K_COOLDUE, '-inf', tostring(now), 'LIMIT', 0, 1)
  if #due == 0 then return end
  redis.call('ZREMRANGEBYSCORE', K_COOLDUE, '-inf', tostring(now))
  redis.call('ZREMRANGEBYSCORE', K_COOL, '-inf', tostring(now))
  for _, mode in ipairs(MODES) do
    local order = redis.call('ZRANGE', QUEUE[mode], 0, -1, 'WITHSCORES')
    for j = 1, #order, 2 do
      local id = order[j]
      local r = load(id)
      if r and r.w == 'q' then
        local pid, pr = longest_waiter(id, r, r.s)
        if pid then
          dequeue(pid, pr)
          dequeue(id, r)
          start_session(pid, pr, id, r)
        end
      end
    end
  end
end

local function stats()
  local out = {}
  for _, mode in ipairs(MODES) do out[#out + 1] = redis.call('ZCARD', QUEUE[mode]) end
  out[#out + 1] = redis.call('HLEN', K_SESSIONS)
  out[#out + 1] = tonumber(redis.call('GET', K_MATCHES) or '0')
  return out
end

-- What an operation answers: ok | err (detail: a refusal of the core's) | gone
-- (the client's record is missing; detail unused) | penalty (detail: seconds left).
local function reply(status, detail)
  return status, detail or ''
end

local function mine(id)
  local r = load(id)
  if r then r.i = me end
  return r
end

-- --- the operations ----------------------------------------------------------

local function set_key(r, key)
  if key and key ~= '' then r.k = key else r.k = nil end
end

local OPS = {}

function OPS.connect(A)
  local id = A[1]
  local r = load(id) or { w = 'i' }
  r.i = me
  set_key(r, A[2])
  save(id, r)
  return reply('ok')
end

-- A find or a skip of a client serving a report penalty (its key, set by
-- abuse.lua, is declared in KEYS after the queues) is refused first, whatever
-- its state: checked in the same step as the pairing, so no round trip of its
-- own and no moment between the check and the pairing.
local function penalty_left(key)
  if not key or key == '' then return 0 end
  local till = redis.call('GET', key)
  if not till then return 0 end
  return math.max(0, tonumber(till) - now)
end

function OPS.find(A)
  local id, mode, topic = A[1], A[2], A[3]
  session_base = A[4]
  local left = penalty_left(A[5])
  if left > 0 then return reply('penalty', string.format('%.17g', left)) end
  local r = mine(id)
  if not r then return reply('gone') end
  if r.w == 's' then return reply('err', 'find_in_session') end
  if r.w == 'q' and r.m == mode and r.t == topic then
    send(r, id, 'queued', mode, topic)
    return reply('ok')
  end
  if r.w == 'q' then dequeue(id, r) end
  r.m, r.t = mode, topic
  enqueue(id, r)
  return reply('ok')
end

function OPS.cancel(A)
  local id = A[1]
  local r = mine(id)
  if not r then return reply('gone') end
  if r.w == 's' then return reply('err', 'cancel_in_session') end
  if r.w == 'q' then
    dequeue(id, r)
    save(id, r)
  end
  send(r, id, 'idle')
  return reply('ok')
end

function OPS.skip(A)
  local id = A[1]
  session_base = A[2]
  local left = penalty_left(A[3])
  if left > 0 then return reply('penalty', string.format('%.17g', left)) end
  local r = mine(id)
  if not r then return reply('gone') end
  if not r.m then return reply('err', 'nothing_to_skip') end
  if r.w == 's' then
    end_session(id, r, 'skipped')
    save(id, r)
  end
  if r.w == 'q' then
    send(r, id, 'queued', r.m, r.t)
    return reply('ok')
  end
  enqueue(id, r)
  return reply('ok')
end

function OPS.leave(A)
  local id = A[1]
  local r = mine(id)
  if not r then return reply('gone') end
  if r.w == 's' then
    end_session(id, r, 'left')
  elseif r.w == 'q' then
    dequeue(id, r)
  end
  save(id, r)
  send(r, id, 'idle')
  return reply('ok')
end

function OPS.report(A)
  local id, sid = A[1], A[2]
  local r = mine(id)
  if not r then return reply('gone') end
  if r.w ~= 's' or r.ss ~= sid then return reply('err', 'not_your_session') end
  local pid, pr = end_session(id, r, 'reported')
  save(id, r)
  send(r, id, 'reported', sid)
  -- Who was reported, for the report penalties (server/backends/redis/abuse.py).
  return reply('ok', cjson.encode({ pid, (pr and pr.k) or pid }))
end

function OPS.signal(A)
  local id, sid, data = A[1], A[2], A[3]
  local r = load(id)
  if not r then return reply('gone') end
  if r.w ~= 's' or r.ss ~= sid then return reply('err', 'not_your_session') end
  local s = cjson.decode(redis.call('HGET', K_SESSIONS, sid))
  local pid = s.a
  if pid == id then pid = s.b end
  local pr = load(pid)
  if pr then send(pr, pid, 'signal', sid, data) end
  return reply('ok')
end

function OPS.disconnect(A)
  drop_client(A[1])
  return reply('ok')
end

function OPS.sync(A)
  -- Re-read a client's truth into its instance's stream of messages (after a
  -- lost subscription or a lost Redis); a client Redis forgot is re-created
  -- idle and, if it was waiting, queued again with the wish its instance kept.
  local id, requeue, mode, topic = A[1], A[2], A[3], A[4]
  session_base = A[5]
  local r = mine(id)
  local lost = 0
  if not r then
    lost = 1
    r = { w = 'i', i = me }
    set_key(r, A[6])
    if mode ~= '' then r.m, r.t = mode, topic end
    if requeue == '1' and r.m then
      enqueue(id, r)
      r = load(id)
    end
  end
  save(id, r)
  local initiator, pm, pt = false, '', ''
  if r.w == 's' then
    local s = cjson.decode(redis.call('HGET', K_SESSIONS, r.ss))
    initiator = s.a == id
    local pid = s.a
    if initiator then pid = s.b end
    local pr = load(pid)
    if pr then pm, pt = pr.m, pr.t end
  end
  send(r, id, 'sync', lost, r.w, r.ss or '', initiator, pm, pt,
       r.m or '', r.t or '', r.ls or '', r.lr or '')
  return reply('ok')
end

function OPS.beat(A)
  -- One round trip a heartbeat: renew this instance's lease, take out the
  -- clients of instances that stopped renewing theirs, pair what an ending
  -- cool-down made pairable. 'new' tells an instance Redis had forgotten it.
  session_base = A[1]
  local known = redis.call('ZSCORE', K_INSTANCES, me)
  redis.call('ZADD', K_INSTANCES, now + lease, me)
  reap_expired()
  tick()
  if known then return reply('ok', 'known') end
  return reply('ok', 'new')
end

function OPS.reap(A)
  return reply('ok', tostring(reap_expired()))
end

function OPS.retire(A)
  return reply('ok', tostring(reap({ me })))
end

function OPS.tick(A)
  session_base = A[1]
  tick()
  return reply('ok')
end

function OPS.stats(A)
  return reply('ok')
end

-- --- the batch ----------------------------------------------------------------

local outcomes = {}
for _, op in ipairs(cjson.decode(ARGV[7])) do
  local name = op[1]
  local args = {}
  for k = 2, #op do args[k - 1] = op[k] end
  session_base, session_n = '', 0
  local fn = OPS[name]
  local ok, status, detail
  if fn then
    -- One failing operation (a bug) must not take the others' messages with it.
    ok, status, detail = pcall(fn, args)
    if not ok then
      -- redis.call raises a table ({ err = ... }); Lua itself a string.
      if type(status) == 'table' then status = status.err end
      status, detail = 'fail', tostring(status)
    end
  else
    status, detail = 'fail', 'unknown op ' .. tostring(name)
  end
  outcomes[#outcomes + 1] = { status, detail }
end

local sent = {}
for _, instance in ipairs(order) do
  local payload = '[' .. table.concat(outbox[instance], ',') .. ']'
  redis.call('PUBLISH', chan_prefix .. instance, payload)
  sent[#sent + 1] = instance
  sent[#sent + 1] = payload
end
return { cjson.encode(outcomes), table.concat(waits, ' '), stats(), sent }
