"""Batches (`server/backends/redis/batch.py`) on a real redis-server, through the backend.

Requests asked at once share script runs, and each still gets its own
answer; a lone request runs at once, in a run of its own. Script calls are
counted by Redis itself (`INFO commandstats`), as `bench/backends.py` does.
The batcher alone, with a run of its own, for what needs no Redis: a
request asked as the last run ends still gets one.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import redis

from integration.redis_support import RedisServer, own_redis, unique_prefix, until  # noqa: F401 (fixture)
from integration.wsclient import TIMEOUT
from server.backends.redis.backend import RedisBackend
from server.backends.redis.batch import Batcher
from server.core import protocol as p

pytestmark = pytest.mark.redis

CLIENTS = 40


def script_calls(url: str) -> int:
    with redis.Redis.from_url(url) as r:
        stats = r.info("commandstats")
    return int(stats.get("cmdstat_evalsha", {}).get("calls", 0)) + int(stats.get("cmdstat_eval", {}).get("calls", 0))


@pytest.fixture
async def backend(own_redis: RedisServer) -> AsyncIterator[tuple[RedisBackend, dict[str, list[p.ServerMessage]]]]:  # noqa: F811
    # A long heartbeat: no beat lands among the calls counted.
    backend = RedisBackend(url=own_redis.url, prefix=unique_prefix(), heartbeat=30.0, lease=60.0)
    received: dict[str, list[p.ServerMessage]] = {}
    backend.attach(lambda cid, msg: received.setdefault(cid, []).append(msg), lambda seconds: None)
    await backend.start()
    try:
        yield backend, received
    finally:
        await backend.close()


async def test_requests_asked_at_once_share_runs_and_each_gets_its_answer(
    own_redis: RedisServer,  # noqa: F811
    backend: tuple[RedisBackend, dict[str, list[p.ServerMessage]]],
) -> None:
    b, received = backend
    ids = [f"c{n}" for n in range(CLIENTS)]
    await asyncio.gather(*(b.connect(cid) for cid in ids))
    before = script_calls(own_redis.url)
    await asyncio.gather(*(b.find(cid, "video", None) for cid in ids))
    calls = script_calls(own_redis.url) - before
    assert calls <= CLIENTS // 4, f"{CLIENTS} finds asked at once took {calls} script calls"
    await until(lambda: sum(isinstance(m, p.Matched) for ms in received.values() for m in ms) == CLIENTS)
    # Each its own answer: every client queued once, then matched once, in that order.
    for cid in ids:
        assert [type(m) for m in received[cid]] == [p.Queued, p.Matched], (cid, received[cid])
    sessions = {m.session for ms in received.values() for m in ms if isinstance(m, p.Matched)}
    assert len(sessions) == CLIENTS // 2


async def test_a_lone_request_runs_at_once_in_a_run_of_its_own(
    own_redis: RedisServer,  # noqa: F811
    backend: tuple[RedisBackend, dict[str, list[p.ServerMessage]]],
) -> None:
    b, received = backend
    await b.connect("alone")
    before = script_calls(own_redis.url)
    await b.find("alone", "audio", "maths")
    assert script_calls(own_redis.url) - before == 1
    await until(lambda: bool(received.get("alone")))
    assert received["alone"] == [p.Queued("audio", "maths")]


async def test_a_refusal_in_a_batch_is_that_requests_alone(
    backend: tuple[RedisBackend, dict[str, list[p.ServerMessage]]],
) -> None:
    b, received = backend
    await asyncio.gather(*(b.connect(cid) for cid in ("a", "b", "c")))
    await b.find("a", "video", None)
    await b.find("b", "video", None)  # a and b are in a session now
    results = await asyncio.gather(b.find("a", "video", None), b.find("c", "video", None), return_exceptions=True)
    assert isinstance(results[0], p.ProtocolError) and results[0].code is p.ErrorCode.IN_SESSION
    assert results[1] is None
    await until(lambda: bool(received.get("c")))
    assert received["c"] == [p.Queued("video", None)]


async def test_a_request_asked_as_the_last_run_ends_gets_a_run() -> None:
    """The caller, woken by its answer, asks again at once: in the turn where the run that
    answered it has ended but is not yet seen as ended. With every place for a run taken
    (one here; two for the pairing script, under load), such a request waited until some
    other request came: after a storm, on a quiet instance, for good."""

    async def echo(ops: list[int]) -> list[int | BaseException]:
        await asyncio.sleep(0)  # a run answers on a later turn of the loop, as Redis does
        return list(ops)

    batcher: Batcher[int, int] = Batcher(echo, size=64, parallel=1, name="test-batcher")
    async with asyncio.timeout(TIMEOUT):
        answers = [await batcher(n) for n in range(3)]
    assert answers == [0, 1, 2]
