-- StudyMatch's report penalties, shared by every instance: the same rules as
-- server/core/abuse.py's ReportLedger (the pure one), restated here because the
-- count and the penalty must be decided where the data lives. One run is one
-- step, so two instances taking reports on the same client at once can
-- neither both miss the threshold nor both start a penalty.
--
-- One run does a batch of operations, one after the other, each as if it were
-- its own run (see server/backends/redis/batch.py): 3 KEYS each, and ARGV[1]
-- is JSON: a list of the operations' 9 arguments each.
--
-- KEYS (each operation's): 1 reports of the reported key (zset reporter -> time of their last
--       report within the window), 2 its penalty (string: refused until, with
--       a TTL), 3 the report log (zset JSON record -> time; a moderator's view).
--       All under the deployment's hash tag, so the script runs on Cluster too.
-- Arguments (each operation's): 1 op ('record' | 'check'), 2 now ('' = Redis' clock), 3 threshold,
--       4 window seconds, 5 penalty seconds, 6 most records kept in the log,
--       7 reporter, 8 reported, 9 reason ('record' only).
-- The reply is JSON, one answer per operation, a string ('%.17g'): a Lua
-- number would come back truncated to an integer. 'record' answers the penalty it
-- started (0 when none), 'check' the seconds of penalty left (0 when none).

local clock
local function number(x)
  return string.format('%.17g', x)
end

local function ms(seconds)
  return math.max(1, math.ceil(seconds * 1000))
end

local function one(K_REPORTS, K_PENALTY, K_LOG, A)
  local op = A[1]
  local now
  if A[2] == '' then
    if not clock then
      local t = redis.call('TIME')
      clock = tonumber(t[1]) + tonumber(t[2]) / 1000000
    end
    now = clock
  else
    now = tonumber(A[2])
  end

  local function refused_for()
    local until_ = redis.call('GET', K_PENALTY)
    if not until_ then return 0 end
    local left = tonumber(until_) - now
    if left <= 0 then return 0 end
    return left
  end

  if op == 'check' then
    return number(refused_for())

  elseif op == 'record' then
    local threshold, window, penalty = tonumber(A[3]), tonumber(A[4]), tonumber(A[5])
    local max_records = tonumber(A[6])
    local reporter, reported, reason = A[7], A[8], A[9]
    local cutoff = number(now - window)
    -- What fell out of the window is forgotten, as the ledger prunes it.
    redis.call('ZREMRANGEBYSCORE', K_REPORTS, '-inf', cutoff)
    redis.call('ZREMRANGEBYSCORE', K_LOG, '-inf', cutoff)
    if reporter == reported then return number(0) end
    redis.call('ZADD', K_LOG, number(now),
               cjson.encode({ reporter = reporter, reported = reported, reason = reason, at = now }))
    redis.call('ZREMRANGEBYRANK', K_LOG, 0, -(max_records + 1))
    redis.call('PEXPIRE', K_LOG, ms(window))
    -- One member per reporter: the same partner reporting again counts once.
    redis.call('ZADD', K_REPORTS, number(now), reporter)
    redis.call('PEXPIRE', K_REPORTS, ms(window))
    if redis.call('ZCARD', K_REPORTS) >= threshold and refused_for() == 0 and penalty > 0 then
      redis.call('SET', K_PENALTY, number(now + penalty), 'PX', ms(penalty))
      -- Starting over after the penalty: the same reports do not count twice.
      redis.call('DEL', K_REPORTS)
      return number(penalty)
    end
    return number(0)
  end
  return redis.error_reply('studymatch: unknown abuse op ' .. tostring(op))
end

local answers = {}
for i, A in ipairs(cjson.decode(ARGV[1])) do
  local answer = one(KEYS[3 * i - 2], KEYS[3 * i - 1], KEYS[3 * i], A)
  if type(answer) == 'table' then return answer end -- an error: a bug of the caller's
  answers[#answers + 1] = answer
end
return cjson.encode(answers)
