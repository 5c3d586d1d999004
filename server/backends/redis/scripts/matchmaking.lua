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
--       list of signals kept for an away side), 13 avoid (hash "id|install" -> 1:
--       the installations each client avoids), 14 avoidlist (hash id -> JSON list
--       of them, oldest first), 15 rdv (hash "mode|token" -> JSON list of the ids
--       searching for a favourite by that rendezvous token), 16.. one queue per mode
--       (zset id -> score: when it started waiting), in the order of ARGV[6],
--       then the penalty keys (abuse.lua's) the batch's find, skip and
--       resume_queue operations read.
-- ARGV: 1 now ('' = Redis' clock), 2 cool-down seconds, 3 lease seconds,
--       4 channel prefix, 5 calling instance, 6 modes (space separated),
--       7 the batch, JSON: a list of operations, each [name, arguments...],
--       8 resume grace seconds, 9 ticket lifetime seconds, 10 the most installations
--       one client avoids (server/core/rules.py MAX_AVOIDED).
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
-- follow (a signed token's subject; absent: its id), given by its instance,
-- iv = its installation's pseudonym (absent: none said), na = how many
-- installations it avoids (absent: none), fk = the last find's rendezvous
-- tokens as a JSON list (absent: not a search for a favourite; such a waiter
-- is in its mode's queue for the counts and the order, and in rdv for pairing).

-- Session fields: a/b = the initiator's/responder's client id (an away side's
-- is the id it had when it left), t = started, ma/ta, mb/tb = each side's
-- wish, sl/sk/sa = the study terms agreed (length, 0: open; talk; started at, ms on
-- Redis' clock), ea/eb = each side's resume epoch (-1: not known, the session was
-- rebuilt from the other side's ticket), da/db = an away side's grace deadline
-- (absent while present), ka/kb = an away side's report key, ia/ib = each side's
-- installation pseudonym (absent: none, or not known in a rebuilt session).

local K_CLIENTS, K_SESSIONS, K_COOL, K_COOLDUE = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local K_SEQ, K_MATCHES, K_INSTANCES = KEYS[5], KEYS[6], KEYS[7]
local K_TOMBS, K_TOMBDUE, K_SPENT, K_AWAYDUE, K_KEPT = KEYS[8], KEYS[9], KEYS[10], KEYS[11], KEYS[12]
local K_AVOID, K_AVOIDLIST, K_RDV = KEYS[13], KEYS[14], KEYS[15]

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
local max_avoided = tonumber(ARGV[10])
local QUEUE, MODES = {}, {}
do
  local k = 16
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

-- Either client avoids the other's installation (docs/protocol.md, "Coming back").
local function avoids(id, r, other, o)
  if o.iv and r.na and redis.call('HEXISTS', K_AVOID, id .. '|' .. o.iv) == 1 then return true end
  if r.iv and o.na and redis.call('HEXISTS', K_AVOID, other .. '|' .. r.iv) == 1 then return true end
  return false
end

-- Adds installations to a client's avoid set (oldest forgotten past max_avoided);
-- one already there keeps its age. Sets r.na; the caller saves r.
local function avoid_add(id, r, installs)
  local list = cjson.decode(redis.call('HGET', K_AVOIDLIST, id) or '[]')
  for _, install in ipairs(installs) do
    if redis.call('HSETNX', K_AVOID, id .. '|' .. install, 1) == 1 then list[#list + 1] = install end
  end
  while #list > max_avoided do
    redis.call('HDEL', K_AVOID, id .. '|' .. table.remove(list, 1))
  end
  if #list > 0 then
    redis.call('HSET', K_AVOIDLIST, id, cjson.encode(list))
    r.na = #list
  end
  return #list
end

-- A connection's avoid set lives as long as it does.
local function forget_avoid(id)
  local raw = redis.call('HGET', K_AVOIDLIST, id)
  if not raw then return end
  for _, install in ipairs(cjson.decode(raw)) do redis.call('HDEL', K_AVOID, id .. '|' .. install) end
  redis.call('HDEL', K_AVOIDLIST, id)
end

-- The compatible waiter who has waited longest (smaller score), skipping pairs
-- in cool-down or avoided, searches for a favourite, and waiters whose instance
-- stopped renewing its lease.
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
        if o and not o.fk and (r.t == '' or o.t == '' or o.t == r.t) and study_compatible(r, o)
            and not in_cooldown(id, other) and alive(o.i) and not avoids(id, r, other, o) then
          return other, o
        end
      end
    end
    start = start + 100
  end
end

-- Searches for a favourite: the longest waiter of the same mode sharing a
-- rendezvous token (not avoided), and the least token they share. Topic,
-- length, talk and the cool-down do not keep them apart.
local function favourite_waiter(id, r)
  local mine_tokens, seen = cjson.decode(r.fk), {}
  local best, best_r, best_score = nil, nil, nil
  for _, token in ipairs(mine_tokens) do
    for _, other in ipairs(cjson.decode(redis.call('HGET', K_RDV, r.m .. '|' .. token) or '[]')) do
      if other ~= id and not seen[other] then
        seen[other] = true
        local o = load(other)
        if o and o.w == 'q' and alive(o.i) and not avoids(id, r, other, o) then
          local score = tonumber(o.s)
          if not best_score or score < best_score then best, best_r, best_score = other, o, score end
        end
      end
    end
  end
  if not best then return nil end
  local theirs, shared = {}, nil
  for _, token in ipairs(cjson.decode(best_r.fk)) do theirs[token] = true end
  for _, token in ipairs(mine_tokens) do
    if theirs[token] and (not shared or token < shared) then shared = token end
  end
  return best, best_r, shared
end

local function rdv_change(id, r, add)
  for _, token in ipairs(cjson.decode(r.fk)) do
    local field = r.m .. '|' .. token
    local ids, kept = cjson.decode(redis.call('HGET', K_RDV, field) or '[]'), {}
    for _, other in ipairs(ids) do
      if other ~= id then kept[#kept + 1] = other end
    end
    if add then kept[#kept + 1] = id end
    if #kept > 0 then redis.call('HSET', K_RDV, field, cjson.encode(kept)) else redis.call('HDEL', K_RDV, field) end
  end
end

local function dequeue(id, r)
  redis.call('ZREM', QUEUE[r.m], id)
  if r.fk then rdv_change(id, r, false) end
  r.w, r.s = 'i', nil
end

local function send_queued(r, id)
  send(r, id, 'queued', r.m, r.t, r.ln or 0, r.tk or '', r.fk ~= nil)
end

local function start_session(aid, a, bid, b, favourite)
  local sid = next_session()
  local length, talk = agreed(a, b)
  local started = math.floor(now * 1000)
  redis.call('HSET', K_SESSIONS, sid, cjson.encode({
    a = aid, b = bid, t = now, ma = a.m, ta = a.t, mb = b.m, tb = b.t, ea = 0, eb = 0,
    sl = length, sk = talk, sa = started, ia = a.iv, ib = b.iv,
  }))
  a.w, a.ss, b.w, b.ss = 's', sid, 's', sid
  save(aid, a)
  save(bid, b)
  redis.call('INCR', K_MATCHES)
  waits[#waits + 1] = tostring(now - a.qa)
  waits[#waits + 1] = tostring(now - b.qa)
  send(a, aid, 'matched', sid, true, b.m, b.t, length, talk, started, b.iv or '', favourite or '')
  send(b, bid, 'matched', sid, false, a.m, a.t, length, talk, started, a.iv or '', favourite or '')
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
  send_queued(r, id)
  local pid, pr, favourite
  if r.fk then
    pid, pr, favourite = favourite_waiter(id, r)
  else
    pid, pr = longest_waiter(id, r, nil)
  end
  if not pid then
    local score = string.format('%.17g', queue_score(waited))
    r.w, r.s = 'q', score
    redis.call('ZADD', QUEUE[r.m], score, id)
    if r.fk then rdv_change(id, r, true) end
    save(id, r)
    return
  end
  dequeue(pid, pr)
  start_session(pid, pr, id, r, favourite)
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
      if r and r.w == 'q' and not r.fk then -- favourites have no cool-down: they paired as they came
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
