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
-- The script is this file followed by sessions.lua (sessions, away sides,
-- tombstones, dead instances) and ops.lua (the operations and the batch),
-- joined into one text by script.py: one chunk, so they share these locals.
--
-- KEYS: 1 clients (hash id -> JSON record), 2 sessions (hash id -> JSON),
--       3 cool (zset "a|b" -> till), 4 cooldue (zset of ends not yet ticked),
--       5 seq (the last queue score given), 6 matches (counter),
--       7 instances (zset instance -> lease deadline),
--       8 tombs (hash session -> why it ended), 9 tombdue (zset session -> forget at),
--       10 spent (zset queue-ticket nonce -> forget at), 11 awaydue (zset
--       "session|side" -> grace deadline), 12 kept (hash "session|side" -> JSON
--       list of signals kept for an away side), 13.. one queue per mode
--       (zset id -> score: when it started waiting), in the order of ARGV[6],
--       then the penalty keys (abuse.lua's) the batch's find, skip and
--       resume_queue operations read.
-- ARGV: 1 now ('' = Redis' clock), 2 cool-down seconds, 3 lease seconds,
--       4 channel prefix, 5 calling instance, 6 modes (space separated),
--       7 the batch, JSON: a list of operations, each [name, arguments...],
--       8 resume grace seconds, 9 ticket lifetime seconds.
-- Reply: { outcomes (JSON: [status, detail] for each operation), waits (one
--          string, space separated), stats, sent (instance, payload for each
--          PUBLISH, flat) }. JSON rather than Redis arrays both ways: one
--          string costs redis-py far less to pack and parse than many.
-- Record fields: w = where ('i' idle, 'q' queued, 's' in session), m/t = the
-- last find's mode/topic, ln/tk = its study length (0: open) and talk ('': either)
-- (absent in a record from before study sessions: open, either), s = its queue score while queued (a string: cjson
-- would round it), qa = when it started waiting, rs = it may resume,
-- ss = session, i = owning instance, ls/lr = last ended session and why
-- ('' when this client ended it itself), k = the key reports about this client
-- follow (a signed token's subject; absent: its id), given by its instance.

-- Session fields: a/b = the initiator's/responder's client id (an away side's
-- is the id it had when it left), t = started, ma/ta, mb/tb = each side's
-- wish, sl/sk/sa = the study terms agreed (length, 0: open; talk; started at, ms on
-- Redis' clock), ea/eb = each side's resume epoch (-1: not known, the session was
-- rebuilt from the other side's ticket), da/db = an away side's grace deadline
-- (absent while present), ka/kb = an away side's report key.

local K_CLIENTS, K_SESSIONS, K_COOL, K_COOLDUE = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local K_SEQ, K_MATCHES, K_INSTANCES = KEYS[5], KEYS[6], KEYS[7]
local K_TOMBS, K_TOMBDUE, K_SPENT, K_AWAYDUE, K_KEPT = KEYS[8], KEYS[9], KEYS[10], KEYS[11], KEYS[12]

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
local grace = tonumber(ARGV[8])
local ticket_ttl = tonumber(ARGV[9])
local QUEUE, MODES = {}, {}
do
  local k = 13
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
-- Queue scores one after another at least this far apart: waiters queued in
-- the same run (one `now`) keep the order they came in. A microsecond stays
-- distinct from its neighbours in a double at today's Unix times.
local SCORE_STEP = 0.000001

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

-- Study lengths and talk wishes agree like topics: equal, or either one open.
local function agree(x, y, open)
  return x == open or y == open or x == y
end

local function study_compatible(r, o)
  return agree(r.ln or 0, o.ln or 0, 0) and agree(r.tk or '', o.tk or '', '')
end

-- The study terms of a pair (server/core/rules.py `agreed_terms`): the
-- non-open length and the non-either talk ('talk' when both are either).
local function agreed(a, b)
  local length, talk = a.ln or 0, a.tk or ''
  if length == 0 then length = b.ln or 0 end
  if talk == '' then talk = b.tk or '' end
  if talk == '' then talk = 'talk' end
  return length, talk
end

-- The compatible waiter who has waited longest (smaller score), skipping pairs
-- in cool-down and waiters whose instance stopped renewing its lease.
local function longest_waiter(id, r, older_than)
  local queue = QUEUE[r.m]
  local start = 0
  while true do
    local batch = redis.call('ZRANGE', queue, start, start + 99, 'WITHSCORES')
    if #batch == 0 then return nil end
    for j = 1, #batch, 2 do
      local other, score = batch[j], tonumber(batch[j + 1])
      if older_than and score >= older_than then return nil end
      if other ~= id then
        local o = load(other)
        if o and (r.t == '' or o.t == '' or o.t == r.t) and study_compatible(r, o)
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
  local length, talk = agreed(a, b)
  local started = math.floor(now * 1000)
  redis.call('HSET', K_SESSIONS, sid, cjson.encode({
    a = aid, b = bid, t = now, ma = a.m, ta = a.t, mb = b.m, tb = b.t, ea = 0, eb = 0,
    sl = length, sk = talk, sa = started,
  }))
  a.w, a.ss, b.w, b.ss = 's', sid, 's', sid
  save(aid, a)
  save(bid, b)
  redis.call('INCR', K_MATCHES)
  waits[#waits + 1] = tostring(now - a.qa)
  waits[#waits + 1] = tostring(now - b.qa)
  send(a, aid, 'matched', sid, true, b.m, b.t, length, talk, started)
  send(b, bid, 'matched', sid, false, a.m, a.t, length, talk, started)
end

-- Where a waiter goes in line: when it started waiting. A newcomer's score
-- is now (or just after the last newcomer's); a client resuming its place
-- (`waited` seconds in line before its socket dropped) goes back where that
-- many seconds ago puts it: before everyone who came later.
local function queue_score(waited)
  if waited then return now - waited end
  local score = math.max(now, tonumber(redis.call('GET', K_SEQ) or '0') + SCORE_STEP)
  redis.call('SET', K_SEQ, string.format('%.17g', score))
  return score
end

local function enqueue(id, r, waited)
  r.qa = now - (waited or 0)
  send(r, id, 'queued', r.m, r.t, r.ln or 0, r.tk or '')
  local pid, pr = longest_waiter(id, r, nil)
  if not pid then
    local score = string.format('%.17g', queue_score(waited))
    r.w, r.s = 'q', score
    redis.call('ZADD', QUEUE[r.m], score, id)
    save(id, r)
    return
  end
  dequeue(pid, pr)
  start_session(pid, pr, id, r)
end

-- Only an ending cool-down can make two clients who already wait pairable,
-- so the queues are scanned only when one has ended since the last tick.
local function tick()
  local due = redis.call('ZRANGEBYSCORE', K_COOLDUE, '-inf', tostring(now), 'LIMIT', 0, 1)
  if #due == 0 then return end
  redis.call('ZREMRANGEBYSCORE', K_COOLDUE, '-inf', tostring(now))
  redis.call('ZREMRANGEBYSCORE', K_COOL, '-inf', tostring(now))
  for _, mode in ipairs(MODES) do
    local line = redis.call('ZRANGE', QUEUE[mode], 0, -1, 'WITHSCORES')
    for j = 1, #line, 2 do
      local id = line[j]
      local r = load(id)
      if r and r.w == 'q' then
        local pid, pr = longest_waiter(id, r, tonumber(line[j + 1]))
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
