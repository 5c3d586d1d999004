"""Live counts shared through Redis (server/backends/redis/counts.py), backend by backend.

Real redis-server. Each instance's `share_counts` writes its own figures and
answers the sum of the others'; an instance that stops says so at once, one
that died drops out when its entry runs out, and an entry that is not
figures is dropped with one log line, never summed.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator

import pytest
import redis

from integration.redis_support import RedisServer, hash_keys, own_redis, unique_prefix, until  # noqa: F401 (fixture)
from server.backends.redis.backend import RedisBackend
from server.backends.redis.counts import counts_key
from server.backends.redis.script import RedisKeys
from server.core.counts import Figures

pytestmark = pytest.mark.redis

MINE = Figures(3, {"video": 2}, {"maths": 1})
THEIRS = Figures(2, {"video": 1, "audio": 1}, {"maths": 1, "art": 1})


@contextlib.asynccontextmanager
async def started(url: str, prefix: str) -> AsyncIterator[RedisBackend]:
    backend = RedisBackend(url=url, prefix=prefix)
    await backend.start()
    try:
        yield backend
    finally:
        await backend.close()


async def test_each_instance_reads_the_sum_of_the_others(shared_redis: RedisServer) -> None:
    prefix = unique_prefix()
    async with started(shared_redis.url, prefix) as a, started(shared_redis.url, prefix) as b:
        assert await a.share_counts(MINE) == Figures()  # alone so far
        assert await b.share_counts(THEIRS) == MINE
        assert await a.share_counts(MINE) == THEIRS
        async with started(shared_redis.url, prefix) as c:
            assert await c.share_counts(Figures(1)) == MINE.plus(THEIRS)
            assert await a.share_counts(MINE) == THEIRS.plus(Figures(1))
        # `c` stopped: it said so, the others stop counting it at once.
        assert await a.share_counts(MINE) == THEIRS
    async with started(shared_redis.url, unique_prefix()) as elsewhere:
        assert await elsewhere.share_counts(MINE) == Figures()  # another deployment's prefix


async def test_a_dead_instance_drops_out_and_garbage_is_dropped_with_a_log_line(
    shared_redis: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    prefix = unique_prefix()
    key = counts_key(RedisKeys(prefix))
    r = redis.Redis.from_url(shared_redis.url)
    try:
        now_ms = int(time.time() * 1000)
        later = now_ms + 60_000
        r.hset(key, mapping={
            "dead": f"{now_ms - 10_000}|{json.dumps(THEIRS.to_json())}",  # its time ran out: a SIGKILLed one
            "garbled": f"{later}|not figures",
            "negative": f"{later}|" + json.dumps({"o": -5, "m": {}, "t": {}}),
            "no-time": "{}",
        })
        async with started(shared_redis.url, prefix) as backend:
            with caplog.at_level(logging.WARNING, "studymatch.server.redis"):
                assert await backend.share_counts(MINE) == Figures()
            dropped = [rec for rec in caplog.records if "counts_entry_dropped" in rec.getMessage()]
            assert len(dropped) == 2  # one line each for the garbled and the negative entry
            fields = set(hash_keys(r, key))
            assert "dead" not in fields and "no-time" not in fields  # deleted on the way
            assert r.pttl(key) > 0  # the hash goes when every instance has gone
    finally:
        r.delete(key)
        r.close()


async def test_while_redis_is_down_the_backend_cannot_say(own_redis: RedisServer) -> None:  # noqa: F811
    backend = RedisBackend(url=own_redis.url, prefix=unique_prefix(), lease=1.0, heartbeat=0.1, max_backoff=0.2)
    await backend.start()
    try:
        assert await backend.share_counts(MINE) == Figures()
        own_redis.stop()
        await until(lambda: not backend.stats().healthy)
        assert await backend.share_counts(MINE) is None  # the shell keeps the last figures
    finally:
        await backend.close()
