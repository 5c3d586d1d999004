"""Report penalties in Redis (`server/backends/redis/scripts/abuse.lua`, `server/backends/redis/abuse.py`), on a real redis-server.

- The script against the pure `ReportLedger`: same random reports and checks
  on an explicit clock, same answers, same reports kept.
- The store on Redis' clock: the penalty is a key with a TTL, the reports
  start over after it, the report log keeps who, whom, why and when.
- Redis restarted empty: the instances' catch-up gives every client back the
  key its reports follow (a signed token's subject).
- Redis down: the find of a penalised client is refused at once for the true
  reason, `backend_unavailable`, not `refused`; a store asked on its own
  fails open at once.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest
import redis
import redis.asyncio as aioredis
from hypothesis import example, given, settings
from hypothesis import strategies as st

from integration.redis_support import RedisServer, own_redis, shared_redis, unique_prefix  # noqa: F401 (fixtures)
from integration.server.ws.test_reports import SECRET, report_from, token
from integration.wsclient import SCALE, TIMEOUT, WsClient
from server.backends.redis.abuse import (
    ABUSE_SCRIPT_TEXT,
    AbuseLimits,
    AbuseUnavailable,
    RedisAbuseStore,
    abuse_answers,
    abuse_args,
    abuse_batch,
)
from server.backends.redis.script import RedisKeys
from server.config import ServerConfig
from server.core.abuse import ReportLedger
from server.ws.app import running_server

pytestmark = pytest.mark.redis

USERS = [f"u{n}" for n in range(3)]  # reporters and reported from one pool: self-reports happen too
WINDOW = 30.0
# Steps that land exactly on the window's and the penalties' edges, where an off-by-one would show.
STEPS = [0, 0, 1, 5, 10, 25, 30, 31]
EVENT = st.tuples(st.sampled_from(["record", "record", "check"]), st.sampled_from(USERS),
                  st.sampled_from(USERS[:2]), st.sampled_from(STEPS))


@given(
    threshold=st.integers(1, 3),
    penalty=st.sampled_from([0.0, 10.0, 25.0, 50.0]),
    events=st.lists(EVENT, max_size=60),
)
# Counting starts over after a penalty; a report exactly one window old no longer counts.
@example(threshold=2, penalty=10.0, events=[("record", "u1", "u0", 0), ("record", "u2", "u0", 0),
                                            ("record", "u1", "u0", 10)])
@example(threshold=2, penalty=10.0, events=[("record", "u1", "u0", 0), ("record", "u2", "u0", 30)])
@settings(max_examples=200, deadline=None)
def test_the_script_agrees_with_the_ledger(
    shared_redis: RedisServer,  # noqa: F811
    threshold: int, penalty: float, events: list[tuple[str, str, str, int]],
) -> None:
    window = WINDOW
    ledger = ReportLedger(threshold, window, penalty)
    limits = AbuseLimits(threshold, window, penalty)
    keys = RedisKeys(unique_prefix())
    with redis.Redis.from_url(shared_redis.url) as r:
        script = r.register_script(ABUSE_SCRIPT_TEXT)
        now = 0.0
        for op, reporter, reported, step in events:
            now += step
            if op == "record":
                expected = ledger.record(reporter, reported, "why", now)
                args = abuse_args("record", limits, reporter, reported, "why", now)
            else:
                expected = ledger.refused_for(reported, now)
                args = abuse_args("check", limits, "", reported, "", now)
            [answer] = abuse_answers(script(*abuse_batch([(keys.abuse_keys(reported), args)])))  # a batch of one
            got = float(answer)
            assert got == expected, f"{op} {reporter}->{reported} at {now}: redis {got}, ledger {expected}"
        logged = [json.loads(m) for m in r.zrange(keys.report_log, 0, -1)]
        kept = {(x["reporter"], x["reported"], x["reason"], x["at"]) for x in logged}
        assert kept == {(rec.reporter, rec.reported, rec.reason, rec.at) for rec in ledger.records()}


def _store(client: aioredis.Redis, limits: AbuseLimits) -> tuple[RedisAbuseStore, RedisKeys]:
    script = client.register_script(ABUSE_SCRIPT_TEXT)

    async def run(keys: list[str], args: list[str]) -> Any:
        [answer] = abuse_answers(await script(*abuse_batch([(keys, args)])))  # a batch of one
        return answer

    keys = RedisKeys(unique_prefix())
    return RedisAbuseStore(run, keys, limits), keys


async def test_the_penalty_is_a_key_with_a_ttl_on_redis_clock(shared_redis: RedisServer) -> None:  # noqa: F811
    async with aioredis.Redis.from_url(shared_redis.url) as client:
        store, keys = _store(client, AbuseLimits(threshold=2, window=60.0, penalty=30.0))
        # The shell's `now` is ignored: Redis' clock is the one all instances share.
        assert await store.record_report("a", "x", "rude", now=0.0) == 0.0
        assert await store.record_report("a", "x", "rude again", now=1e12) == 0.0  # counts once
        assert 0 < await client.pttl(keys.reports("x")) <= 60_000  # forgotten with the window
        assert await store.record_report("b", "x", "spam", now=5.0) == 30.0
        assert 29.0 < await store.refused_for("x", now=1e12) <= 30.0
        assert 0 < await client.pttl(keys.penalty("x")) <= 30_000  # Redis ends the penalty itself
        assert await client.exists(keys.reports("x")) == 0  # after the penalty, counting starts over
        assert await store.refused_for("a", now=0.0) == 0.0  # nobody else is touched
        records = await store.records(client)
        assert [(rec.reporter, rec.reported, rec.reason) for rec in records] == [
            ("a", "x", "rude"), ("a", "x", "rude again"), ("b", "x", "spam")]
        assert all(abs(rec.at - time.time()) < TIMEOUT for rec in records)
        assert 0 < await client.pttl(keys.report_log) <= 60_000


async def test_while_redis_is_down_a_penalised_client_is_told_the_true_reason_at_once(
    own_redis: RedisServer,  # noqa: F811
) -> None:
    config = ServerConfig(port=0, backend="redis", redis_url=own_redis.url, report_threshold=1,
                          report_penalty=120.0, backend_options={"prefix": unique_prefix()})
    async with running_server(config) as server:
        target, reporter = await WsClient.open(server.url), await WsClient.open(server.url)
        await report_from(target, reporter)
        await target.request({"type": "find", "mode": "video"}, "error", code="refused")
        await asyncio.to_thread(own_redis.stop)
        for client in (target, reporter):
            started = time.monotonic()
            await client.request({"type": "find", "mode": "video"}, "error", code="backend_unavailable")
            # Not held up by the penalty check: no socket timeout (2 s) was waited out.
            assert time.monotonic() - started < 1.5 * SCALE


async def test_a_store_asked_on_its_own_fails_open_at_once_and_says_so_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def unreachable(keys: list[str], args: list[str]) -> Any:
        raise AbuseUnavailable  # what `RedisLink.run_abuse` raises while Redis is down

    store = RedisAbuseStore(unreachable, RedisKeys(unique_prefix()), AbuseLimits(1, 60.0, 120.0))
    assert [await store.refused_for("x", now=0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    logged = [r.getMessage() for r in caplog.records]
    assert logged.count("event=abuse_store_unavailable policy=fail_open") == 1


async def test_after_redis_forgot_everything_reports_still_follow_the_subject(
    own_redis: RedisServer,  # noqa: F811
) -> None:
    prefix = unique_prefix()
    options = {"prefix": prefix, "heartbeat": 0.2, "lease": 1.0, "max_backoff": 0.2}
    config = ServerConfig(port=0, backend="redis", redis_url=own_redis.url, backend_options=options,
                          token_secret=SECRET, report_threshold=1, report_penalty=120.0)
    async with running_server(config) as one, running_server(config) as two:
        target = await WsClient.open(one.url, hello=False)
        await target.hello(token=token("student-9"))
        reporter = await WsClient.open(two.url, hello=False)
        await reporter.hello(token=token("student-1"))
        await asyncio.to_thread(own_redis.restart)
        # The instance that owns the target re-creates its record, key included, on catching up.
        async with aioredis.Redis.from_url(own_redis.url) as client:
            async with asyncio.timeout(TIMEOUT):
                while True:  # read as an operator would: no event says the catch-up is done
                    raw = await client.hget(RedisKeys(prefix).clients, target.id or "")
                    if raw is not None:
                        break
                    await asyncio.sleep(0.02)
        assert json.loads(raw)["k"] == "sub:student-9"
        await report_from(target, reporter)
        again = await WsClient.open(two.url, hello=False)  # the subject, on the reporter's instance
        await again.hello(token=token("student-9"))
        await again.request({"type": "find", "mode": "video"}, "error", code="refused")
