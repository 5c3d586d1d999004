"""`probe`: a signaling socket whose path is gone is found out at once (client/signaling.py).

When a laptop's address changes, its TCP connection to the server neither closes nor
errs: bytes just stop arriving, and the websocket keepalive takes up to 40 s to notice,
while the media rebuild's offer waits in it. The engine probes when the media is lost.
Here: the real server on port 0, reached through the test's own TCP relay, whose
connections can go silent (bytes dropped both ways: no FIN, no RST), as such a path does.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from client.signaling import WebSocketSignaling
from integration.engines import FAST_BACKOFF
from integration.wsclient import TIMEOUT
from server.config import ServerConfig
from server.core import protocol as p
from server.ws.app import running_server


class SilencingRelay:
    """Passes TCP to `port`; `silence()` makes the connections open now drop every byte."""

    def __init__(self, port: int) -> None:
        self.port = port
        self._silent: set[asyncio.StreamWriter] = set()
        self._open: set[asyncio.StreamWriter] = set()

    async def start(self) -> int:
        server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self._server = server
        return int(server.sockets[0].getsockname()[1])

    def silence(self) -> None:
        self._silent |= self._open

    async def close(self) -> None:
        for writer in self._open:
            writer.close()
        self._server.close()
        await self._server.wait_closed()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.port)
        self._open |= {writer, up_writer}
        await asyncio.gather(self._pipe(reader, up_writer, writer), self._pipe(up_reader, writer, writer),
                             return_exceptions=True)  # fmt: skip
        for w in (writer, up_writer):
            self._open.discard(w)
            w.close()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                    client: asyncio.StreamWriter) -> None:  # fmt: skip
        while data := await reader.read(65536):
            if client not in self._silent:
                writer.write(data)
                await writer.drain()
        writer.close()  # one side closed: so does the other, as a TCP path would pass on the FIN


class Channel:
    """A real WebSocketSignaling through the relay, recording its welcomes and disconnects."""

    def __init__(self, url: str) -> None:
        self.welcomes: asyncio.Queue[p.Welcome] = asyncio.Queue()
        self.disconnects = 0
        self.signaling = WebSocketSignaling(url, on_welcome=self._welcome, on_message=self._message,
                                            on_disconnected=self._disconnected, on_fatal=self._fatal,
                                            backoff=FAST_BACKOFF)  # fmt: skip

    async def _welcome(self, welcome: p.Welcome) -> None:
        await self.welcomes.put(welcome)

    async def _message(self, message: p.ServerMessage) -> None:
        pass

    async def _disconnected(self, retry_in: float, text: str) -> None:
        self.disconnects += 1

    async def _fatal(self, code: str, text: str) -> None:
        raise AssertionError(f"fatal: {code} {text}")


@pytest.fixture
async def channel() -> AsyncIterator[tuple[Channel, SilencingRelay]]:
    async with running_server(ServerConfig(port=0)) as server:
        relay = SilencingRelay(server.port)
        port = await relay.start()
        channel = Channel(f"ws://127.0.0.1:{port}/ws")
        await channel.signaling.start()
        await asyncio.wait_for(channel.welcomes.get(), TIMEOUT)
        try:
            yield channel, relay
        finally:
            await channel.signaling.close()
            await relay.close()


async def test_a_live_socket_answers_the_probe_and_stays(channel: tuple[Channel, SilencingRelay]) -> None:
    ch, _relay = channel
    assert await ch.signaling.probe()
    assert ch.signaling.connected and ch.disconnects == 0


async def test_a_silent_socket_is_dropped_by_the_probe_and_a_new_one_made(
    channel: tuple[Channel, SilencingRelay],
) -> None:
    ch, relay = channel
    relay.silence()  # the old path is gone; a new connection (a new path) works
    assert not await ch.signaling.probe()
    welcome = await asyncio.wait_for(ch.welcomes.get(), TIMEOUT)  # reconnected, said hello again
    assert ch.disconnects == 1 and ch.signaling.connected
    assert welcome.id  # a new connection, with its own welcome
    assert await ch.signaling.probe()
