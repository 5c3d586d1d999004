"""An instance's lease in Redis under a storm of requests: a live instance is never reaped.

Two real server instances share a real redis-server. A pair of clients talks
over websockets, one on each instance. Then a crowd arrives at one instance
at once, as after a restart (each connects, searches and leaves): what a
websocket connection asks of the backend, thousands of times. The lease
renewal must not wait behind those requests; if it did, the other
instance's heartbeat would take the busy one for dead and tell the pair's
other half `partner_left`.

The lease is short here (0.5 s) so that a storm of a few seconds outlasts
it whenever renewals queue behind requests: on a 2-core machine, a beat
queued behind the crowd's 5,000 to 9,000 waiting requests took 0.6 to
0.8 s; on a path of its own, under 0.1 s. What the test checks is the
outcome a user sees, not how long anything took.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest
import redis

from integration.redis_support import RedisServer, hash_json, own_redis, unique_prefix, until  # noqa: F401 (fixture)
from integration.wsclient import SCALE, TIMEOUT, WsClient
from server.backends.base import Backend
from server.backends.redis.backend import RedisBackend
from server.backends.redis.script import RedisKeys
from server.config import ServerConfig
from server.core.resume import QueueClaim
from server.ws.app import running_server

pytestmark = [pytest.mark.redis, pytest.mark.slow]

LEASE = 0.5 * SCALE
HEARTBEAT = LEASE / 10
# The crowd, and how many of it arrive in one turn of the event loop (what reading a
# hundred ready sockets hands the backend): the requests pile up far faster than Redis
# answers them, thousands deep at the peak.
CROWD = 24_000
WAVE = 100


async def visitor(backend: Backend, client_id: str) -> None:
    """One client of the crowd: connects, searches, leaves (the calls its websocket makes)."""
    await backend.connect(client_id)
    try:
        await backend.find(client_id, "video", "crowd")
    finally:
        await backend.disconnect(client_id)


async def returning(backend: Backend, client_id: str) -> None:
    """One client of a crowd coming back after a restart: resumes its place in line, drops again."""
    await backend.connect(client_id, resumable=True)
    try:
        await backend.resume(client_id, QueueClaim("video", "crowd", 5.0, client_id, 4e9, client_id))
    finally:
        await backend.disconnect(client_id, hold=True)


Visitor = Callable[[Backend, str], Awaitable[None]]


async def crowd(backend: Backend, size: int, wave: int, visit: Visitor = visitor) -> list[BaseException]:
    """The crowd comes and goes; what the backend refused it."""
    visits: list[asyncio.Future[None]] = []
    for start in range(0, size, wave):
        visits += [asyncio.ensure_future(visit(backend, f"crowd-{n}")) for n in range(start, start + wave)]
        await asyncio.sleep(0)  # the next wave on the next turn of the loop, as sockets are read
    results = await asyncio.gather(*visits, return_exceptions=True)
    return [r for r in results if isinstance(r, BaseException)]


@pytest.mark.parametrize("visit", [visitor, returning], ids=["finds", "resumes"])
async def test_a_storm_of_requests_does_not_get_a_live_instance_reaped(
    own_redis: RedisServer, visit: Visitor,  # noqa: F811
) -> None:
    prefix = unique_prefix()
    options = {"prefix": prefix, "lease": LEASE, "heartbeat": HEARTBEAT}
    config = ServerConfig(port=0, backend="redis", redis_url=own_redis.url, backend_options=options)
    keys = RedisKeys(prefix)
    r = redis.Redis.from_url(own_redis.url)
    async with running_server(config) as busy, running_server(config) as calm:
        here, there = await WsClient.open(busy.url), await WsClient.open(calm.url)
        try:
            await here.find("video", "pair")
            await there.find("video", "pair")
            session = (await there.expect("matched"))["session"]
            await here.expect("matched", session=session)

            # The pair's half on the calm instance hears nothing, during the storm or after.
            storm = asyncio.ensure_future(crowd(busy.backend, CROWD, WAVE, visit))
            heard = asyncio.ensure_future(there.recv(within=4 * TIMEOUT))
            await asyncio.wait({storm, heard}, return_when=asyncio.FIRST_COMPLETED)
            if heard.done():
                storm.cancel()  # failing: no need to wait for the rest of the crowd
                await asyncio.gather(storm, return_exceptions=True)
                pytest.fail(f"the busy instance was taken for dead during the storm: its partner got {heard.result()}")
            heard.cancel()
            await asyncio.gather(heard, return_exceptions=True)
            refused = storm.result()
            # Both instances renew after the storm: a reaping would have happened by now.
            storm_over = r.time()
            await until(lambda: _renewed_since(r, keys, storm_over) == 2)

            # The pair is still together, in Redis and for both of its clients.
            records = hash_json(r, keys.clients)
            assert {records[c.id or ""].get("ss") for c in (here, there)} == {session}, records.get(here.id or "")
            await there.assert_silent()
            await here.assert_silent()
            assert not refused, f"{len(refused)} requests of the crowd refused, first: {refused[0]!r}"
            assert hash_json(r, keys.clients).keys() == {here.id, there.id}  # the crowd left
        finally:
            await asyncio.gather(here.close(), there.close(), return_exceptions=True)
            r.close()


def _renewed_since(r: redis.Redis, keys: RedisKeys, when: tuple[int, int]) -> int:
    """How many instances renewed their lease after `when` (a Redis TIME)."""
    since = when[0] + when[1] / 1e6 + LEASE
    return int(r.zcount(keys.instances, f"({since}", "+inf"))




async def test_a_closed_instance_leaves_no_lease_and_no_client(own_redis: RedisServer) -> None:  # noqa: F811
    # Beats back to back and a lease that outlasts the test: a beat landing after the
    # retire would renew the lease (and, taken for new, bring its clients back) for good.
    keys = RedisKeys(unique_prefix())
    r = redis.Redis.from_url(own_redis.url)
    try:
        for round_ in range(20):
            backend = RedisBackend(url=own_redis.url, prefix=keys.prefix, lease=60.0, heartbeat=1e-6)
            backend.attach(lambda client_id, msg: None, lambda seconds: None)
            await backend.start()
            await backend.connect(f"waiter-{round_}")
            await backend.find(f"waiter-{round_}", "video", f"alone-{round_}")
            await backend.close()
            assert r.zcard(keys.instances) == 0, f"round {round_}: the lease outlived close()"
            assert hash_json(r, keys.clients) == {}, f"round {round_}: clients outlived close()"
    finally:
        r.close()
