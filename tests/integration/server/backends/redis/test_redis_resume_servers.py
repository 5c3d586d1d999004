"""Resuming across two real Redis-backed servers, over real websockets.

Written against the contract (docs/protocol.md, "Resuming after a dropped
socket"): two `Server` instances share one redis-server and one ticket key; a
client's socket drops, or its instance stops, and the client resumes through
the other instance in the same session. test_redis_resume.py drives the
backend alone; this is what a client sees.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import AsyncIterator

import pytest

from integration.redis_support import RedisServer, own_redis, unique_prefix  # noqa: F401 (fixture)
from integration.wsclient import WsClient
from server.config import ServerConfig
from server.ws.app import Server, running_server

pytestmark = [pytest.mark.redis, pytest.mark.slow]


def shared_config(url: str) -> ServerConfig:
    """What every instance of one deployment shares: Redis, its prefix, the ticket key."""
    options = {"prefix": unique_prefix(), "heartbeat": 0.1, "lease": 1.0}
    return ServerConfig(port=0, backend="redis", redis_url=url, backend_options=options,
                        ticket_key=secrets.token_hex(32))


async def resumable(url: str) -> WsClient:
    client = await WsClient.open(url, hello=False)
    await client.hello(resume=True)
    return client


async def paired(first: Server, second: Server) -> tuple[WsClient, WsClient, dict[str, object]]:
    """A resumable client on each instance, matched; the first one's `matched`."""
    one, two = await resumable(first.url), await resumable(second.url)
    await one.find("video")
    await two.find("video")
    matched = await one.expect("matched")
    await two.expect("matched", session=matched["session"])
    assert isinstance(matched.get("ticket"), str)
    return one, two, matched


@contextlib.asynccontextmanager
async def closing(*clients: WsClient) -> AsyncIterator[None]:
    try:
        yield
    finally:
        for client in clients:
            with contextlib.suppress(Exception):
                await client.close()


async def test_a_dropped_client_resumes_on_the_other_instance(own_redis: RedisServer) -> None:  # noqa: F811
    config = shared_config(own_redis.url)
    async with running_server(config) as first, running_server(config) as second:
        one, two, matched = await paired(first, second)
        back = await resumable(second.url)
        async with closing(one, two, back):
            one.ws.transport.abort()  # the socket drops: no close frame
            await two.expect("partner_reconnecting", session=matched["session"])
            await two.send({"type": "signal", "session": matched["session"], "data": {"sdp": "kept"}})
            await back.send({"type": "resume", "ticket": matched["ticket"]})
            resumed = await back.expect("resumed", session=matched["session"], initiator=matched["initiator"])
            assert isinstance(resumed.get("ticket"), str) and resumed["ticket"] != matched["ticket"]
            await back.expect("signal", session=matched["session"], data={"sdp": "kept"})
            await two.expect("partner_resumed", session=matched["session"])
            # The spent ticket again, on another connection: refused, nothing changes.
            again = await resumable(first.url)
            async with closing(again):
                await again.send({"type": "resume", "ticket": matched["ticket"]})
                await again.expect_error("bad_ticket")
            await two.assert_silent()


async def test_a_stopped_instance_keeps_its_clients_sessions(own_redis: RedisServer) -> None:  # noqa: F811
    config = shared_config(own_redis.url)
    async with running_server(config) as staying:
        leaving_server = Server(config)
        await leaving_server.start()
        try:
            one, two, matched = await paired(leaving_server, staying)
        finally:
            await leaving_server.stop()  # what SIGTERM does
        async with closing(one, two):
            await two.expect("partner_reconnecting", session=matched["session"])
            back = await resumable(staying.url)
            async with closing(back):
                await back.send({"type": "resume", "ticket": matched["ticket"]})
                await back.expect("resumed", session=matched["session"])
                await two.expect("partner_resumed", session=matched["session"])
