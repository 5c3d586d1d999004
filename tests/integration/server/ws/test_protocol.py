"""The wire contract end to end: a real server, real WebSocket clients.

One test (or a few) per row of the tables in docs/protocol.md: hello, signal, disconnects,
errors, shutdown, isolation here; the queue's messages in test_protocol_queue.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import json

import pytest
from websockets.exceptions import ConnectionClosed

from integration.conftest import Cluster, ServerFactory
from integration.wsclient import TIMEOUT
from server.backends.memory import MemoryBackend
from server.config import ServerConfig
from server.core import protocol as p
from server.ws.app import running_server

# --- hello / welcome ------------------------------------------------------------


async def test_welcome_carries_id_ice_servers_and_limits(cluster: Cluster) -> None:
    a, b = await cluster.connect(), await cluster.connect()
    assert a.welcome is not None and b.welcome is not None
    assert a.welcome["protocol"] == 1
    assert isinstance(a.id, str) and a.id and a.id != b.id
    assert a.welcome["ice_servers"] == []  # no public STUN server unless configured
    limits = a.welcome["limits"]
    assert limits["max_frame_bytes"] == 64 * 1024
    assert {"messages_per_second", "message_burst", "finds_per_minute", "hello_timeout",
            "ping_interval", "rematch_cooldown"} <= set(limits)
    p.decode_server(json.dumps(a.welcome))  # the schema accepts it


async def test_welcome_lists_configured_stun_servers(server_factory: ServerFactory) -> None:
    cluster = await server_factory(stun=("stun:stun.example.org:3478", "stun:10.0.0.1"))
    client = await cluster.connect()
    assert client.welcome is not None
    assert client.welcome["ice_servers"] == [
        {"urls": "stun:stun.example.org:3478"}, {"urls": "stun:10.0.0.1"}
    ]


@pytest.mark.parametrize(
    "first",
    [
        {"type": "find", "mode": "video"},
        {"type": "cancel"},
        "not json at all",
        b"\x00binary",
        {"type": "hello"},  # no protocol: not a valid hello
    ],
    ids=["find", "cancel", "garbage", "binary", "hello-without-protocol"],
)
async def test_anything_but_hello_first_is_refused_and_closed(
    cluster: Cluster, first: dict[str, object] | str | bytes
) -> None:
    client = await cluster.connect(hello=False)
    await client.send(first)
    await client.expect_error("hello_required")
    await client.expect_closed(1008)


async def test_unsupported_protocol_is_refused_and_closed(cluster: Cluster) -> None:
    client = await cluster.connect(hello=False)
    await client.send({"type": "hello", "protocol": 2})
    await client.expect_error("unsupported_protocol")
    await client.expect_closed(1008)


async def test_token_is_checked_when_the_server_requires_one(server_factory: ServerFactory) -> None:
    cluster = await server_factory(tokens=("s3cret", "other"))
    for hello in ({"type": "hello", "protocol": 1}, {"type": "hello", "protocol": 1, "token": "wrong"}):
        client = await cluster.connect(hello=False)
        await client.send(hello)
        await client.expect_error("unauthorized")
        await client.expect_closed(1008)
    good = await cluster.connect(hello=False)
    await good.hello(token="other")
    await good.find()


async def test_a_second_hello_is_a_bad_message_and_the_connection_stays(cluster: Cluster) -> None:
    client = await cluster.connect()
    await client.send({"type": "hello", "protocol": 1})
    await client.expect_error("bad_message")
    await client.find()


# --- signal -------------------------------------------------------------------------


async def test_signal_is_relayed_unchanged_to_the_partner_only(cluster: Cluster) -> None:
    a, b, session = await cluster.pair()
    c, d, _ = await cluster.pair()
    data = {"sdp": "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n", "kind": "offer",
            "nested": [1, {"x": None}], "é": "ü"}
    await a.send({"type": "signal", "session": session, "data": data})
    assert await b.recv() == {"type": "signal", "session": session, "data": data}
    await b.send({"type": "signal", "session": session, "data": {"kind": "answer"}})
    await a.expect("signal", data={"kind": "answer"})
    for bystander in (a, b, c, d):
        await bystander.assert_silent()


async def test_signal_for_a_session_that_is_not_yours_relays_nothing(cluster: Cluster) -> None:
    a, b, session = await cluster.pair()
    c, d, other = await cluster.pair()
    await a.send({"type": "signal", "session": other, "data": {"evil": True}})
    await a.expect_error("not_in_session")
    idle = await cluster.connect()
    await idle.send({"type": "signal", "session": session, "data": {}})
    await idle.expect_error("not_in_session")
    for x in (b, c, d):
        await x.assert_silent()


async def test_signal_for_a_stale_session_is_refused_after_skip(cluster: Cluster) -> None:
    a, b, old = await cluster.pair()
    await b.request({"type": "skip"}, "queued")
    await a.expect("partner_left", session=old)
    await a.send({"type": "signal", "session": old, "data": {"late": 1}})
    await a.expect_error("not_in_session")
    c = await cluster.connect()
    await c.find()
    new = (await c.expect("matched"))["session"]
    assert (await b.expect("matched"))["session"] == new
    await a.send({"type": "signal", "session": old, "data": {"late": 2}})
    await a.expect_error("not_in_session")
    await b.assert_silent()
    await c.assert_silent()


@pytest.mark.parametrize(
    "message",
    [
        {"type": "signal", "data": {}},
        {"type": "signal", "session": "s", "data": "not an object"},
        {"type": "signal", "session": 5, "data": {}},
    ],
)
async def test_malformed_signal_is_a_bad_message(cluster: Cluster, message: dict[str, object]) -> None:
    a, b, _ = await cluster.pair()
    await a.send(message)
    await a.expect_error("bad_message")
    await b.assert_silent()


# --- disconnects ----------------------------------------------------------------------


@pytest.mark.parametrize("how", ["close", "abort"])
async def test_a_partner_that_disconnects_is_reported_at_once(cluster: Cluster, how: str) -> None:
    a, b, session = await cluster.pair()
    if how == "close":
        await a.close()
    else:
        a.ws.transport.abort()
    await b.expect("partner_left", session=session, reason="disconnected")
    await cluster.wait_until(lambda h: h["sessions"] == 0 and h["connections"] == 1)


async def test_a_queued_client_that_disconnects_leaves_the_queue(cluster: Cluster) -> None:
    ghost = await cluster.connect()
    await ghost.find()
    await ghost.close()
    await cluster.wait_until(lambda h: h["waiting"] == 0)
    b = await cluster.connect()
    await b.find()
    await b.assert_silent()


# --- errors -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("{not json", "bad_json"),
        ("[1, 2, 3]", "bad_json"),
        ('"a string"', "bad_json"),
        ("{}", "bad_message"),
        ('{"type": 3}', "bad_message"),
        (b'{"type": "cancel"}', "bad_message"),  # binary frames are refused
        ('{"type": "teleport"}', "unknown_type"),
        ('{"type": "welcome"}', "unknown_type"),  # a server message is not a request
    ],
)
async def test_errors_keep_the_connection_open(cluster: Cluster, frame: str | bytes, code: str) -> None:
    client = await cluster.connect()
    await client.send(frame)
    await client.expect_error(code)
    await client.request({"type": "cancel", "unknown_field": "ignored"}, "idle")


async def test_every_error_code_is_known_to_the_schema(cluster: Cluster) -> None:
    client = await cluster.connect()
    await client.send("nope")
    error = await client.recv()
    decoded = p.decode_server(json.dumps(error))
    assert isinstance(decoded, p.Error) and decoded.code in p.ALL_ERROR_CODES


# --- shutdown -----------------------------------------------------------------------


async def test_stopping_the_server_sends_shutdown_then_closes(server_factory: ServerFactory) -> None:
    cluster = await server_factory(shutdown_retry_after=3.0)
    a, b, _ = await cluster.pair()
    queued = await cluster.connect()
    await queued.find("audio")
    fresh = await cluster.connect(hello=False)
    await asyncio.wait_for(asyncio.gather(*(s.stop() for s in cluster.servers)), TIMEOUT)
    for client in (a, b, queued, fresh):
        shutdown = await client.recv()
        # A partner may learn of the other's going first; shutdown comes all the same.
        while shutdown["type"] == "partner_left":
            shutdown = await client.recv()
        assert shutdown == {"type": "shutdown", "retry_after": 3.0}
        await client.expect_closed(1001)


# --- isolation ----------------------------------------------------------------------


async def test_a_misbehaving_connection_does_not_disturb_another_pair(server_factory: ServerFactory) -> None:
    # Room for the honest pair's 40 messages each; the rogue's 300 are far over.
    cluster = await server_factory(rate_messages=100.0, rate_burst=100, max_frame_bytes=4096)
    a, b, session = await cluster.pair()
    rogue = await cluster.connect()
    other = await cluster.connect(hello=False)

    async def misbehave() -> None:
        await other.send("x" * 10_000)  # over the frame limit: closed with 1009
        with contextlib.suppress(ConnectionClosed):  # closed for abuse on the way
            junk: list[str | bytes] = [b"\xff\x00", "{{{", '{"type":"x"}', '{"type":"find","mode":1}']
            for i in range(300):
                await rogue.send(junk[i % 4])

    async def converse() -> None:
        for i in range(40):
            await a.send({"type": "signal", "session": session, "data": {"i": i}})
            assert (await b.expect("signal"))["data"] == {"i": i}
            await b.send({"type": "signal", "session": session, "data": {"j": i}})
            assert (await a.expect("signal"))["data"] == {"j": i}

    await asyncio.gather(misbehave(), converse())
    await other.expect_closed(1009)
    await rogue.expect_closed(1008)
    await a.assert_silent()
    await b.assert_silent()
    await cluster.wait_until(lambda h: h["sessions"] == 1)


async def test_clients_on_every_instance_meet(cluster: Cluster) -> None:
    clients = [await cluster.connect() for _ in range(2 * len(cluster.servers))]
    for client in clients:
        await client.find("video", None)
    sessions = [(await c.expect("matched"))["session"] for c in clients]
    assert len(set(sessions)) == len(clients) // 2


class _FaultyBackend(MemoryBackend):
    """The real memory backend with one injected bug: a find for topic "boom" raises."""

    async def find(
        self, client_id: str, mode: str, topic: str | None, length: int | None = None, talk: str | None = None,
        favourites: tuple[str, ...] = (),
    ) -> None:
        if topic == "boom":
            raise RuntimeError("injected fault")
        await super().find(client_id, mode, topic, length, talk, favourites)


async def test_an_exception_in_one_handler_closes_only_that_connection(
    caplog: pytest.LogCaptureFixture,
) -> None:
    config = ServerConfig(port=0)
    async with running_server(config, _FaultyBackend(rematch_cooldown=config.rematch_cooldown)) as server:
        cluster = Cluster([server])
        try:
            a, b, session = await cluster.pair()
            victim = await cluster.connect()
            await victim.send({"type": "find", "mode": "video", "topic": "boom"})
            await victim.expect_closed(1011)
            await a.send({"type": "signal", "session": session, "data": {"ok": True}})
            await b.expect("signal", data={"ok": True})
            newcomer = await cluster.connect()  # the server still accepts and serves
            await newcomer.find("audio")
            await cluster.wait_until(lambda h: h["connections"] == 3)
        finally:
            await cluster.close_clients()
    failures = [r for r in caplog.records if "handler_failed" in r.getMessage()]
    assert len(failures) == 1 and failures[0].exc_info is not None
    caplog.clear()  # the one expected error log; anything else still fails the test
