"""The server's connection (server/ws/connection.py) against a real server.

It drives websockets' sans-I/O protocol from an asyncio `Protocol`: a
message is handled inside the socket's read, a request that must be awaited
holds the client's next messages in order behind it, and pings go on
timers. These tests send what a browser or a hostile client may send
(frames cut anywhere, many frames in one write, fragments, pings in
between, bad UTF-8, requests mixed with signals) and check that the
partner gets exactly the messages, in order.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import urlsplit

import pytest
from websockets.client import ClientProtocol
from websockets.frames import Frame, Opcode
from websockets.protocol import State
from websockets.uri import parse_uri

from integration.conftest import TIMEOUT, Cluster, ServerFactory, WsClient
from server.ws.connection import Connection


@pytest.fixture
async def cluster(server_factory: ServerFactory) -> Cluster:
    return await server_factory(max_frame_bytes=70_000)


def masked(opcode: Opcode, data: bytes, fin: bool = True) -> bytes:
    """A client frame as it travels on the wire (clients mask every frame)."""
    return Frame(opcode, data, fin).serialize(mask=True, extensions=[])


def signal(session: str, n: int, size: int = 0) -> str:
    return json.dumps(
        {"type": "signal", "session": session, "data": {"n": n, "pad": "é" * size}}, ensure_ascii=False
    )


async def expect_signals(client: WsClient, session: str, count: int, size: int = 0) -> None:
    for n in range(count):
        message: dict[str, Any] = await client.expect("signal", session=session)
        assert message["data"] == {"n": n, "pad": "é" * size}


def server_side(cluster: Cluster, client: WsClient) -> Connection:
    """The server's connection object for `client`, to hand it bytes in chosen pieces."""
    return next(s._clients[client.id] for s in cluster.servers if client.id in s._clients)


@pytest.mark.parametrize(
    ("size", "piece"),
    [(0, 1), (0, 2), (0, 3), (0, 7), (60, 1), (60, 5), (30_000, 1), (30_000, 1000)],
)
async def test_frames_cut_anywhere_are_read_whole(cluster: Cluster, size: int, piece: int) -> None:
    a, b, session = await cluster.pair()
    await a.sync()  # the server has read everything `a` sent: its parser is between frames
    stream = b"".join(masked(Opcode.TEXT, signal(session, n, size).encode()) for n in range(3))
    connection = server_side(cluster, a)
    for start in range(0, len(stream), piece):  # as the network may cut it, down to single bytes
        connection.data_received(stream[start : start + piece])
    await expect_signals(b, session, 3, size)
    await a.sync()  # and the real socket's stream is still in step
    assert connection.open and not connection.busy


async def test_many_frames_in_one_write_arrive_in_order(cluster: Cluster) -> None:
    a, b, session = await cluster.pair()
    a.ws.transport.write(b"".join(masked(Opcode.TEXT, signal(session, n).encode()) for n in range(30)))
    await expect_signals(b, session, 30)


async def test_pings_and_fragments_between_plain_frames_keep_their_meaning(cluster: Cluster) -> None:
    a, b, session = await cluster.pair()
    first, second = signal(session, 1).encode(), signal(session, 2).encode()
    a.ws.transport.write(
        masked(Opcode.TEXT, signal(session, 0).encode())
        + masked(Opcode.PING, b"are you there")  # answered by websockets with a pong
        + masked(Opcode.TEXT, first[:10], fin=False)  # a fragmented message...
        + masked(Opcode.PING, b"in between")  # ...a control frame may come between fragments
        + masked(Opcode.CONT, first[10:])
        + masked(Opcode.TEXT, second)
    )
    await expect_signals(b, session, 3)
    await a.sync()  # the connection still answers pings
    a.ws.transport.write(masked(Opcode.TEXT, signal(session, 3).encode()))
    message = await b.expect("signal", session=session)
    assert message["data"]["n"] == 3


async def test_a_data_frame_inside_a_fragmented_message_is_a_protocol_error(cluster: Cluster) -> None:
    a, b, session = await cluster.pair()
    a.ws.transport.write(
        masked(Opcode.TEXT, b'{"type":', fin=False) + masked(Opcode.TEXT, signal(session, 0).encode())
    )
    await a.expect_closed(1002)
    await b.expect("partner_left", session=session, reason="disconnected")


async def test_bad_utf8_closes_with_1007_and_binary_is_refused(cluster: Cluster) -> None:
    a, b, session = await cluster.pair()
    a.ws.transport.write(masked(Opcode.BINARY, signal(session, 0).encode()))
    await a.expect_error("bad_message")
    a.ws.transport.write(masked(Opcode.TEXT, b'{"type":"cancel","x":"\xff"}'))
    await a.expect_closed(1007)
    await b.expect("partner_left", session=session, reason="disconnected")


async def test_an_oversize_header_closes_with_1009_before_the_payload_arrives(cluster: Cluster) -> None:
    a, b, session = await cluster.pair()
    frame = masked(Opcode.TEXT, b"x" * 70_001)
    a.ws.transport.write(frame[:20])  # the length alone says it is too big
    await a.expect_closed(1009)
    await b.expect("partner_left", session=session, reason="disconnected")


async def test_a_request_read_by_the_task_is_not_overtaken_by_a_signal_behind_it(cluster: Cluster) -> None:
    a, b, session = await cluster.pair()
    await a.sync()
    # `leave` is awaited; the signal right behind it in the same read must wait for it,
    # and so find the session over.
    a.ws.transport.write(
        masked(Opcode.TEXT, b'{"type":"leave"}') + masked(Opcode.TEXT, signal(session, 0).encode())
    )
    await a.expect("idle")
    await a.expect_error("not_in_session")
    await b.expect("partner_left", session=session, reason="left")
    await b.assert_silent()


async def test_a_lone_request_read_by_the_task_is_not_overtaken_by_the_next_read(cluster: Cluster) -> None:
    a, b, session = await cluster.pair()
    await a.sync()
    connection = server_side(cluster, a)
    # Each frame in a read of its own, the second before the `leave` is done:
    # the signal waits in the inbox behind it.
    connection.data_received(masked(Opcode.TEXT, b'{"type":"leave"}'))
    assert connection.busy
    connection.data_received(masked(Opcode.TEXT, signal(session, 0).encode()))
    await a.expect("idle")
    await a.expect_error("not_in_session")
    await b.expect("partner_left", session=session, reason="left")
    await b.assert_silent()
    await a.sync()
    assert not connection.busy and not connection.inbox  # messages go straight to the session again


async def test_signals_and_refusals_keep_their_order(server_factory: ServerFactory) -> None:
    cluster = await server_factory(rate_messages=0.01, rate_burst=4, rate_abuse_strikes=100)
    a, b, session = await cluster.pair()  # the finds spent one token each: 3 left for `a`
    a.ws.transport.write(
        masked(Opcode.TEXT, signal(session, 0).encode())
        + masked(Opcode.TEXT, b'{"type":"signal","session":"stale","data":{}}')
        + masked(Opcode.TEXT, signal(session, 1).encode())
        + masked(Opcode.TEXT, signal(session, 2).encode())  # over the rate: refused, in order
    )
    await a.expect_error("not_in_session")
    await a.expect_error("rate_limited")
    await expect_signals(b, session, 2)
    await b.assert_silent()


async def test_pings_go_on_every_interval_while_pongs_come_back(server_factory: ServerFactory) -> None:
    cluster = await server_factory(ping_interval=0.05, ping_timeout=1.0)
    url = cluster.next_url()
    reader, writer = await asyncio.open_connection(urlsplit(url).hostname, urlsplit(url).port)
    protocol = ClientProtocol(parse_uri(url))
    protocol.send_request(protocol.connect())
    pings = 0
    try:
        async with asyncio.timeout(TIMEOUT):
            while pings < 4:  # a pong answers each ping (the sans-I/O protocol queues it)
                for data in protocol.data_to_send():
                    writer.write(data)
                protocol.receive_data(await reader.read(65536))
                pings += sum(
                    1 for e in protocol.events_received() if isinstance(e, Frame) and e.opcode is Opcode.PING
                )
        assert protocol.state is State.OPEN
    finally:
        writer.close()
        await writer.wait_closed()
