"""Never again and favourites when Redis forgets everything (a restart without persistence).

The avoid sets and the searches for a favourite live in Redis, where every
instance's pairing reads them; each instance also keeps what its own clients
said, and tells Redis again when it re-creates them on catching up. Real
redis-server, stopped and started; two real server instances sharing the
ticket key; real WebSocket clients.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
import redis

from integration.redis_support import RedisServer, own_redis, unique_prefix, until  # noqa: F401 (fixture)
from integration.wsclient import WsClient
from server.backends.redis.script import RedisKeys
from server.config import ServerConfig
from server.core.avoidtokens import AvoidSeal
from server.ws.app import running_server

pytestmark = [pytest.mark.redis, pytest.mark.slow]

KEY = "a ticket key both instances share, long enough"
INSTALL_A, INSTALL_B = "installation-aaaaaaaa", "installation-bbbbbbbb"
FAV = "rendezvous-token-0001"


async def client(url: str, **hello: Any) -> WsClient:
    c = await WsClient.open(url, hello=False)
    await c.hello(**hello)
    return c


async def test_after_redis_forgot_everything_avoidance_and_favourite_searches_hold(
    own_redis: RedisServer,  # noqa: F811
) -> None:
    prefix = unique_prefix()
    options = {"prefix": prefix, "heartbeat": 0.2, "lease": 1.0, "max_backoff": 0.2}
    config = ServerConfig(port=0, backend="redis", redis_url=own_redis.url, backend_options=options, ticket_key=KEY)
    keys = RedisKeys(prefix)
    r = redis.Redis.from_url(own_redis.url)
    async with running_server(config) as one, running_server(config) as two:
        opened: list[WsClient] = []
        try:
            a = await client(one.url, install=INSTALL_A)
            favourite = await client(one.url)
            opened += [a, favourite]
            await a.request({"type": "avoid", "tokens": [AvoidSeal(KEY.encode()).seal(INSTALL_B)]}, "avoiding", count=1)
            await a.request({"type": "find", "mode": "video"}, "queued")
            await favourite.request({"type": "find", "mode": "video", "favourites": [FAV]}, "queued", favourite=True)

            await asyncio.to_thread(own_redis.restart)

            def requeued() -> bool:
                records = {cid: json.loads(raw) for cid, raw in r.hgetall(keys.clients).items()}
                return all(records.get(c.id.encode() if c.id else b"", {}).get("w") == "q" for c in (a, favourite))

            await until(requeued)  # the instance re-created its clients, and queued them again
            told = await favourite.recv()
            while told["type"] == "error":  # backend_unavailable, while Redis was away
                told = await favourite.recv()
            assert told == {**told, "type": "queued", "favourite": True}  # still a search for a favourite
            b = await client(two.url, install=INSTALL_B)
            opened.append(b)
            await b.request({"type": "find", "mode": "video"}, "queued")
            await b.assert_silent()  # not paired with A: A's avoid set was told again
            other = await client(two.url)
            opened.append(other)
            await other.request({"type": "find", "mode": "video", "favourites": [FAV]}, "queued", favourite=True)
            matched = await other.expect("matched", favourite=FAV)  # the favourite search was kept as one
            assert matched["initiator"] is False
        finally:
            for c in opened:
                await c.close()
            r.close()
