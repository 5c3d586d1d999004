"""A small protocol client for tests: real `websockets` client, JSON in and out.

Waits are bounded by one constant, `TIMEOUT`, scaled by the environment
variable STUDYMATCH_TEST_TIMEOUT_SCALE for slow machines.
"""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

SCALE = float(os.environ.get("STUDYMATCH_TEST_TIMEOUT_SCALE", "1"))
TIMEOUT = 5.0 * SCALE
# How long a negative check ("nothing else arrives") listens after a round trip
# proved that everything the server had already sent is in.
QUIET = 0.1 * SCALE


class WsClient:
    def __init__(self, ws: ClientConnection, url: str) -> None:
        self.ws = ws
        self.url = url
        self.id: str | None = None
        self.welcome: dict[str, Any] | None = None

    @classmethod
    async def open(cls, url: str, *, hello: bool = True, **connect_options: Any) -> WsClient:
        ws = await asyncio.wait_for(connect(url, **connect_options), TIMEOUT)
        client = cls(ws, url)
        if hello:
            await client.hello()
        return client

    async def hello(self, **fields: Any) -> dict[str, Any]:
        await self.send({"type": "hello", "protocol": 1, "client": "tests", **fields})
        self.welcome = await self.expect("welcome")
        self.id = self.welcome["id"]
        return self.welcome

    async def send(self, message: dict[str, Any] | str | bytes) -> None:
        await self.ws.send(json.dumps(message) if isinstance(message, dict) else message)

    async def recv(self, within: float = TIMEOUT) -> dict[str, Any]:
        frame = await asyncio.wait_for(self.ws.recv(), within)
        obj = json.loads(frame)
        assert isinstance(obj, dict), obj
        return obj

    async def expect(self, kind: str, within: float = TIMEOUT, **fields: Any) -> dict[str, Any]:
        """The next message, which must be of type `kind` (and carry `fields`)."""
        message = await self.recv(within)
        assert message["type"] == kind, f"expected {kind}, got {message}"
        for key, value in fields.items():
            assert message.get(key) == value, f"expected {key}={value!r} in {message}"
        return message

    async def expect_error(self, code: str) -> dict[str, Any]:
        message = await self.expect("error", code=code)
        assert isinstance(message["message"], str) and message["message"]
        return message

    async def request(self, message: dict[str, Any], kind: str, **fields: Any) -> dict[str, Any]:
        await self.send(message)
        return await self.expect(kind, **fields)

    async def find(self, mode: str = "video", topic: str | None = None) -> dict[str, Any]:
        """Send find; return `queued` (a `matched` may follow, read it with expect)."""
        return await self.request({"type": "find", "mode": mode, "topic": topic}, "queued")

    async def expect_closed(self, code: int | None = None, within: float = TIMEOUT) -> int | None:
        """Read (and drop) messages until the server closes; return the close code."""
        async with asyncio.timeout(within):
            try:
                while True:
                    await self.ws.recv()
            except ConnectionClosed as closed:
                received = closed.rcvd.code if closed.rcvd is not None else None
        if code is not None:
            assert received == code, f"expected close {code}, got {received}"
        return received

    async def sync(self) -> None:
        """Return once everything the server sent before now has arrived."""
        pong = await self.ws.ping()
        await asyncio.wait_for(pong, TIMEOUT)

    async def assert_silent(self) -> None:
        """Nothing was sent to this client (beyond what was already read)."""
        await self.sync()
        try:
            message = await asyncio.wait_for(self.ws.recv(), QUIET)
        except TimeoutError:
            return
        raise AssertionError(f"unexpected message {message!r}")

    async def close(self) -> None:
        await self.ws.close()
