-- The operations an instance asks for, and the batch that runs them. Part of
-- the pairing script: follows matchmaking.lua and sessions.lua (their locals);
-- script.py joins them.

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

local function set_key(r, key)
  if key and key ~= '' then r.k = key else r.k = nil end
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

local function penalty_reply(left)
  return reply('penalty', string.format('%.17g', left))
end

local OPS = {}

function OPS.connect(A)
  local id = A[1]
  local r = load(id) or { w = 'i' }
  r.i = me
  set_key(r, A[2])
  if A[3] == '1' then r.rs = true end
  if A[4] and A[4] ~= '' then r.iv = A[4] end
  save(id, r)
  return reply('ok')
end

-- A[2]: a JSON list of installations (unsealed by the instance). Pairs nobody.
function OPS.avoid(A)
  local id = A[1]
  local r = mine(id)
  if not r then return reply('gone') end
  local count = avoid_add(id, r, cjson.decode(A[2]))
  save(id, r)
  return reply('ok', tostring(count))
end

-- A[8]: the rendezvous tokens as a JSON list ('' or absent: an ordinary search).
function OPS.find(A)
  local id, mode, topic, length, talk = A[1], A[2], A[3], tonumber(A[6]) or 0, A[7] or ''
  local fk = A[8]
  if fk == '' then fk = nil end
  session_base = A[4]
  local left = penalty_left(A[5])
  if left > 0 then return penalty_reply(left) end
  local r = mine(id)
  if not r then return reply('gone') end
  if r.w == 's' then return reply('err', 'find_in_session') end
  if r.w == 'q' and r.m == mode and r.t == topic and (r.ln or 0) == length and (r.tk or '') == talk
      and r.fk == fk then
    send_queued(r, id)
    return reply('ok')
  end
  if r.w == 'q' then dequeue(id, r) end
  r.m, r.t, r.ln, r.tk, r.fk = mode, topic, length, talk, fk
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
  if left > 0 then return penalty_reply(left) end
  local r = mine(id)
  if not r then return reply('gone') end
  if not r.m then return reply('err', 'nothing_to_skip') end
  if r.w == 's' then
    end_session(id, r, 'skipped')
    save(id, r)
  end
  if r.w == 'q' then
    send_queued(r, id)
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
  local pid, _, key = end_session(id, r, 'reported')
  save(id, r)
  send(r, id, 'reported', sid)
  -- Who was reported, for the report penalties (server/backends/redis/abuse.py);
  -- nobody known when the session was rebuilt and the partner never came back.
  if pid == '' or not key then return reply('ok') end
  return reply('ok', cjson.encode({ pid, key }))
end

function OPS.signal(A)
  local id, sid, data = A[1], A[2], A[3]
  local r = load(id)
  if not r then return reply('gone') end
  if r.w ~= 's' or r.ss ~= sid then return reply('err', 'not_your_session') end
  local s = load_session(sid)
  local side = other_side(side_of(s, id))
  if is_away(s, side) then
    keep_signal(sid, side, data)
    return reply('ok')
  end
  local pid = s[side]
  local pr = load(pid)
  if pr then send(pr, pid, 'signal', sid, data) end
  return reply('ok')
end

function OPS.disconnect(A)
  -- A[2] '1': the connection dropped and may come back (its instance's call):
  -- in a session, its side is kept for the grace period.
  local id = A[1]
  local r = load(id)
  if r and A[2] == '1' and r.w == 's' then
    go_away(id, r)
  else
    drop_client(id)
  end
  return reply('ok')
end

-- A ticket of another epoch than the side's present one has been used (or a
-- newer one given); so has one presented on a connection that is not idle.
function OPS.resume_session(A)
  local id, sid, initiator, epoch = A[1], A[2], A[3] == '1', tonumber(A[4])
  local mode, topic, pmode, ptopic = A[5], A[6], A[7], A[8]
  local r = mine(id)
  if not r then return reply('gone') end
  if r.w ~= 'i' then return reply('err', 'ticket_spent') end
  local side = 'b'
  if initiator then side = 'a' end
  local other = other_side(side)
  local s = load_session(sid)
  if not s then
    local reason = redis.call('HGET', K_TOMBS, sid)
    if reason then
      set_key(r, A[9])
      r.ls, r.lr = sid, reason
      save(id, r)
      send(r, id, 'partner_left', sid, reason)
      return reply('ok')
    end
    -- Redis lost it (restarted empty): rebuilt from this ticket; the partner's
    -- side waits for its own first ticket, whatever its epoch, for the grace.
    -- Its terms are the ticket's (A[10..12]; a ticket from before study sessions: open, now).
    s = { t = now, sl = tonumber(A[10]) or 0, sk = A[11] or '', sa = tonumber(A[12]) }
    if s.sk == '' then s.sk = 'talk' end
    if not s.sa then s.sa = math.floor(now * 1000) end
    s[other], s['e' .. other], s['d' .. other] = '', -1, now + grace
    s['m' .. other], s['t' .. other] = pmode, ptopic
    redis.call('ZADD', K_AWAYDUE, now + grace, sid .. '|' .. other)
  else
    local held = s['e' .. side]
    if held ~= -1 and held ~= epoch then return reply('err', 'ticket_spent') end
    local old = s[side]
    if not is_away(s, side) and old ~= id then
      -- Its old connection is still here for all the server knows: this one takes over.
      local o = load(old)
      if o then
        send(o, old, 'replaced', sid)
        redis.call('HDEL', K_CLIENTS, old)
        forget_avoid(old)
      end
    end
  end
  s['m' .. side], s['t' .. side], s['e' .. side], s['i' .. side] = mode, topic, epoch + 1, r.iv
  set_key(r, A[9])
  r.m, r.t, r.ln, r.tk, r.fk = mode, topic, tonumber(A[13]) or 0, A[14] or '', nil
  come_back(sid, s, side, id, r)
  save_session(sid, s)
  save(id, r)
  send(r, id, 'resumed', sid, initiator, s['m' .. other] or '', s['t' .. other] or '', s.sl or 0, s.sk or 'talk',
       s.sa or math.floor(s.t * 1000), s['i' .. other] or '')
  deliver_kept(sid, side, id, r)
  if is_away(s, other) then
    send(r, id, 'partner_reconnecting', sid)
  else
    local pid = s[other]
    local pr = load(pid)
    if pr then send(pr, pid, 'partner_resumed', sid) end
  end
  return reply('ok')
end

-- How long a spent queue ticket's nonce is kept past the ticket's expiry: the
-- instance that checked the expiry reads its own clock, this script Redis'.
local CLOCK_SKEW = 60

function OPS.resume_queue(A)
  local id, mode, topic, waited, nonce, expires = A[1], A[2], A[3], tonumber(A[4]), A[5], tonumber(A[6])
  session_base = A[8]
  local r = mine(id)
  if not r then return reply('gone') end
  if r.w ~= 'i' or redis.call('ZSCORE', K_SPENT, nonce) then return reply('err', 'ticket_spent') end
  local left = penalty_left(A[9])
  if left > 0 then return penalty_reply(left) end
  redis.call('ZADD', K_SPENT, math.max(expires, now) + CLOCK_SKEW, nonce)
  set_key(r, A[7])
  r.m, r.t, r.ln, r.tk, r.fk = mode, topic, tonumber(A[10]) or 0, A[11] or '', nil
  enqueue(id, r, math.max(0, waited))
  return reply('ok')
end

-- Re-reads a client's truth into its instance's stream of messages (after a
-- lost subscription or a lost Redis). A client Redis forgot is re-created
-- idle and, if it was waiting, queued again with the wish its instance kept;
-- if its session kept its side (its instance was taken for dead), it takes
-- that side back; if another connection took its side (a resume), it is told
-- `replaced`.
local function recreate(id, A)
  local requeue, mode, topic, view_session = A[2], A[3], A[4], A[8]
  local r = { w = 'i', i = me }
  set_key(r, A[6])
  if A[7] == '1' then r.rs = true end
  -- A[11]: its installation, A[12]: its search's rendezvous tokens, A[13]: the installations it avoids.
  if A[11] and A[11] ~= '' then r.iv = A[11] end
  if A[13] and A[13] ~= '' then avoid_add(id, r, cjson.decode(A[13])) end
  if mode ~= '' then r.m, r.t, r.ln, r.tk = mode, topic, tonumber(A[9]) or 0, A[10] or '' end
  if mode ~= '' and A[12] and A[12] ~= '' then r.fk = A[12] end
  local s = view_session ~= '' and load_session(view_session)
  if s then
    -- Its side: the one with its id, else one a rebuilt session does not know yet.
    local side = nil
    if s.a == id or (s.b ~= id and s.a == '') then side = 'a' end
    if s.b == id or (s.a ~= id and s.b == '') then side = side or 'b' end
    if not side then
      send(r, id, 'replaced', view_session)
      return nil
    end
    local other, was_away = other_side(side), is_away(s, side)
    come_back(view_session, s, side, id, r)
    save_session(view_session, s)
    save(id, r)
    return r, function()
      deliver_kept(view_session, side, id, r)
      if was_away and not is_away(s, other) then
        local pr = load(s[other])
        if pr then send(pr, s[other], 'partner_resumed', view_session) end
      end
    end
  end
  if view_session ~= '' then
    local reason = redis.call('HGET', K_TOMBS, view_session)
    if reason then r.ls, r.lr = view_session, reason end
  end
  if requeue == '1' and r.m then
    enqueue(id, r)
    r = load(id)
  end
  return r, nil
end

function OPS.sync(A)
  local id = A[1]
  session_base = A[5]
  local r = mine(id)
  local lost, after = 0, nil
  if not r then
    lost = 1
    r, after = recreate(id, A)
    if not r then return reply('ok') end
  end
  save(id, r)
  local initiator, pm, pt, away = false, '', '', false
  local sl, sk, sa = 0, 'talk', 0
  if r.w == 's' then
    local s = load_session(r.ss)
    initiator = s.a == id
    local other = other_side(side_of(s, id))
    pm, pt, away = s['m' .. other] or '', s['t' .. other] or '', is_away(s, other)
    sl, sk, sa = s.sl or 0, s.sk or 'talk', s.sa or math.floor(s.t * 1000)
  end
  send(r, id, 'sync', lost, r.w, r.ss or '', initiator, pm, pt,
       r.m or '', r.t or '', r.ls or '', r.lr or '', away, r.ln or 0, r.tk or '', sl, sk, sa, r.fk or '')
  if after then after() end
  return reply('ok')
end

function OPS.beat(A)
  -- One round trip a heartbeat: renew this instance's lease, take out the
  -- clients of instances that stopped renewing theirs, end the sessions whose
  -- away side's grace ran out, pair what an ending cool-down made pairable,
  -- forget old tombstones. 'new' tells an instance Redis had forgotten it.
  session_base = A[1]
  local known = redis.call('ZSCORE', K_INSTANCES, me)
  redis.call('ZADD', K_INSTANCES, now + lease, me)
  reap_expired()
  expire_away()
  tick()
  forget_old()
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
