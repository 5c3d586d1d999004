"""Limits: rates, frame size, the hello deadline, slow readers, dead peers."""

from __future__ import annotations

import asyncio
import json
from urllib.parse import urlsplit

import pytest
from websockets.client import ClientProtocol
from websockets.exceptions import ConnectionClosed
from websockets.frames import Frame, Opcode
from websockets.http11 import Response
from websockets.protocol import State
from websockets.uri import parse_uri

from integration.conftest import Cluster, ServerFactory
from integration.wsclient import TIMEOUT


async def test_messages_over_the_rate_are_dropped_with_rate_limited(server_factory: ServerFactory) -> None:
    cluster = await server_factory(rate_messages=0.01, rate_burst=5, rate_abuse_strikes=100)
    client = await cluster.connect()  # hello is not counted
    for _ in range(7):
        await client.send({"type": "cancel"})
    replies = [await client.recv() for _ in range(7)]
    # A shared backend may answer `idle` after the shell already refused a later message.
    assert sorted(r["type"] for r in replies) == ["error"] * 2 + ["idle"] * 5
    assert {r.get("code") for r in replies if r["type"] == "error"} == {"rate_limited"}
    await client.assert_silent()  # the dropped ones are not answered later
    assert sum(await cluster.metric('studymatch_errors_total{code="rate_limited"}')) == 2


async def test_repeated_abuse_closes_the_connection(server_factory: ServerFactory) -> None:
    cluster = await server_factory(rate_messages=0.01, rate_burst=2, rate_abuse_strikes=3)
    a, b, session = await cluster.pair()
    for _ in range(10):
        await a.send({"type": "signal", "session": session, "data": {}})
    await b.expect("signal")  # pair()'s find spent one of two tokens: one signal got through
    for _ in range(3):
        await a.expect_error("rate_limited")
    await a.expect_closed(1008)
    await b.expect("partner_left", session=session, reason="disconnected")
    assert sum(await cluster.metric('studymatch_dropped_connections_total{reason="abuse"}')) == 1


async def test_find_and_skip_are_capped_per_minute(server_factory: ServerFactory) -> None:
    cluster = await server_factory(rate_finds_per_minute=3)
    client = await cluster.connect()
    await client.find("video", "maths")
    await client.request({"type": "cancel"}, "idle")
    await client.find("video", "maths")
    await client.request({"type": "skip"}, "queued")  # the third
    await client.send({"type": "find", "mode": "audio"})
    await client.expect_error("rate_limited")
    await client.send({"type": "skip"})
    await client.expect_error("rate_limited")
    await cluster.wait_until(lambda h: h["waiting_by_mode"] == {"video": 1, "audio": 0})  # nothing changed
    await client.request({"type": "cancel"}, "idle")  # other requests still work


async def test_a_frame_over_the_limit_closes_with_1009(cluster: Cluster) -> None:
    limit = cluster.config.max_frame_bytes
    a, b, session = await cluster.pair()
    envelope = json.dumps({"type": "signal", "session": session, "data": {"pad": ""}})
    fits = {"pad": "x" * (limit - len(envelope))}
    await a.send({"type": "signal", "session": session, "data": fits})
    assert (await b.expect("signal"))["data"] == fits  # exactly at the limit: relayed
    await a.send("x" * (limit + 1))
    await a.expect_closed(1009)
    await b.expect("partner_left", session=session, reason="disconnected")


async def test_no_hello_before_the_deadline_closes(server_factory: ServerFactory) -> None:
    cluster = await server_factory(hello_timeout=0.2)
    client = await cluster.connect(hello=False)
    await client.expect_error("hello_required")
    await client.expect_closed(1008)
    assert sum(await cluster.metric('studymatch_dropped_connections_total{reason="hello_timeout"}')) == 1


@pytest.mark.parametrize(
    ("reason", "limits", "pause"),
    [
        # Flooded as fast as possible: the outbox fills first.
        ("outbox_full", {"outbox_messages": 16, "outbox_bytes": 256 * 1024, "send_timeout": 60.0}, 0.0),
        # Paced: one send blocks longer than allowed while the outbox has room.
        ("send_timeout", {"outbox_messages": 10**6, "outbox_bytes": 256 * 1024**2, "send_timeout": 0.5}, 0.01),
    ],
    ids=["outbox-full", "send-timeout"],
)
async def test_a_client_that_stops_reading_is_dropped_and_memory_stays_bounded(
    server_factory: ServerFactory, reason: str, limits: dict[str, float], pause: float
) -> None:
    cluster = await server_factory(rate_messages=10_000.0, rate_burst=10_000, close_timeout=0.5, **limits)
    # `reader` reads nothing from here on; websockets then stops reading the
    # socket after a few frames, so the kernel buffers fill and the server's
    # sends to it block.
    flooder, reader, session = await cluster.pair()
    left = asyncio.Event()

    async def watch() -> None:
        while True:
            message = await flooder.recv(within=4 * TIMEOUT)
            if message["type"] == "partner_left":
                assert message == {"type": "partner_left", "session": session, "reason": "disconnected"}
                left.set()
                return

    watcher = asyncio.create_task(watch())
    payload = {"blob": "y" * 60_000}
    sent = 0
    async with asyncio.timeout(4 * TIMEOUT):
        while not left.is_set():
            await flooder.send({"type": "signal", "session": session, "data": payload})
            sent += 60_000
            if pause:
                await asyncio.sleep(pause)  # pacing, not waiting for anything
            assert sent < 500_000_000, "the slow reader was never dropped"
    await watcher
    assert sum(await cluster.metric(f'studymatch_dropped_connections_total{{reason="{reason}"}}')) == 1
    assert max(await cluster.metric("studymatch_outbox_peak_bytes")) <= limits["outbox_bytes"]
    with pytest.raises(ConnectionClosed):  # its socket was closed (or aborted) too
        async with asyncio.timeout(TIMEOUT):
            while True:
                await reader.ws.recv()
    # The flooder is unharmed: it can search again (its signals sent after the
    # partner left are refused first).
    await flooder.send({"type": "find", "mode": "video"})
    while (message := await flooder.recv())["type"] != "queued":
        assert message["type"] == "error" and message["code"] == "not_in_session", message


async def test_a_slow_reader_that_catches_up_gets_every_message_in_order(server_factory: ServerFactory) -> None:
    cluster = await server_factory(rate_messages=10_000.0, rate_burst=10_000, outbox_messages=10**6,
                                   outbox_bytes=256 * 1024**2, send_timeout=4 * TIMEOUT)
    flooder, reader, session = await cluster.pair()
    blob = "y" * 60_000
    sent = 0
    # `reader` reads nothing until the socket's buffers are full and the server queues for it.
    async with asyncio.timeout(4 * TIMEOUT):
        while max(await cluster.metric("studymatch_outbox_peak_bytes")) == 0:
            for _ in range(10):
                await flooder.send({"type": "signal", "session": session, "data": {"n": sent, "blob": blob}})
                sent += 1
    for n in range(sent):  # the outbox drains as the socket takes data again, in order, nothing lost
        assert await reader.recv() == {"type": "signal", "session": session, "data": {"n": n, "blob": blob}}


class SilentPeer:
    """A WebSocket client that says hello, then never answers a ping (or anything).

    Built on websockets' sans-I/O protocol, so it can go quiet at the protocol
    level while its TCP connection stays open.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.protocol = ClientProtocol(parse_uri(url))
        self.messages: list[dict[str, object]] = []

    async def start(self, *requests: dict[str, object]) -> None:
        parts = urlsplit(self.url)
        self.reader, self.writer = await asyncio.open_connection(parts.hostname, parts.port)
        self.protocol.send_request(self.protocol.connect())
        self._flush()
        while self.protocol.state is State.CONNECTING:
            await self._feed()
        assert isinstance(self.protocol.handshake_exc, type(None))
        for request in ({"type": "hello", "protocol": 1}, *requests):
            self.protocol.send_text(json.dumps(request).encode())
        self._flush()  # the last write: from now on pings go unanswered

    def _flush(self) -> None:
        for data in self.protocol.data_to_send():
            if data:
                self.writer.write(data)

    async def _feed(self) -> bool:
        data = await self.reader.read(65536)
        if not data:
            self.protocol.receive_eof()
            return False
        self.protocol.receive_data(data)
        for item in self.protocol.events_received():
            if isinstance(item, Frame) and item.opcode is Opcode.TEXT:
                self.messages.append(json.loads(bytes(item.data)))
            assert not isinstance(item, Response) or item.status_code == 101
        return True

    async def wait_closed(self) -> None:
        """Read (without answering) until the server drops the TCP connection."""
        while await self._feed():
            pass
        self.writer.close()


async def test_a_peer_that_stops_answering_pings_is_dropped(server_factory: ServerFactory) -> None:
    cluster = await server_factory(ping_interval=0.2, ping_timeout=0.3, close_timeout=0.3)
    silent = SilentPeer(cluster.next_url())
    partner = await cluster.connect()
    await silent.start({"type": "find", "mode": "video"})
    await partner.find()
    session = (await partner.expect("matched"))["session"]
    # Pings run for everyone; the partner answers them and stays.
    await partner.expect("partner_left", session=session, reason="disconnected")
    async with asyncio.timeout(TIMEOUT):
        await silent.wait_closed()
    assert [m["type"] for m in silent.messages] == ["welcome", "queued", "matched"]
    await partner.find()
