"""One client's connection as the shell sees it: its limits, its bounded outbox, its writer.

The server (`server/ws/app.py`) reads each client's messages and calls the
backend; what goes back to a client goes through its `Connection`, which never
awaits: a message goes straight to the socket when it can take it, else into a
small bounded outbox drained by a writer task made only then. A client that
lets its outbox fill is dropped, so no client can stall another one's handler.
Errors become wire `error` messages in one place, `Connection.fail()`.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections import deque
from dataclasses import dataclass
from typing import Any, Protocol

from websockets.exceptions import ConnectionClosed
from websockets.frames import CloseCode

from server.config import ServerConfig
from server.core import protocol as p
from server.core import texts
from server.core.codec import Codec
from server.core.limits import TokenBucket, per_minute
from server.ws.metrics import Metrics
from server.ws.wsconn import RelayConnection

log = logging.getLogger("studymatch.server")


def event(name: str, level: int = logging.INFO, **fields: Any) -> None:
    """One log line per event, as key=value pairs (no SDP, ICE or addresses at info)."""
    if log.isEnabledFor(level):
        log.log(level, " ".join([f"event={name}", *(f"{k}={v}" for k, v in fields.items())]))


class Host(Protocol):
    """What a connection needs from the server that holds it."""

    config: ServerConfig
    codec: Codec
    metrics: Metrics

    def spawn(self, coro: Any) -> asyncio.Task[None]: ...
    async def detach(self, conn: Connection) -> None: ...


@dataclass(frozen=True, slots=True)
class _Close:
    code: int
    reason: str


class Connection:
    """One client: its limits, its bounded outbox and the task that writes it.

    Most clients read as fast as they are written to: a message goes straight
    to the socket (`RelayConnection.send_now`). The outbox and its writer task
    exist only from the first message the socket could not take at once (or
    the close), which keeps an idle connection small.
    """

    __slots__ = (
        "_dropping",
        "_outbox",
        "_outbox_bytes",
        "_wakeup",
        "abuse_key",
        "address",
        "attached",
        "bucket",
        "closing",
        "finds",
        "id",
        "server",
        "strikes",
        "writer",
        "ws",
    )

    def __init__(self, server: Host, ws: RelayConnection, now: float) -> None:
        config = server.config
        self.server = server
        self.ws = ws
        self.id = secrets.token_urlsafe(12)
        self.address = "-"  # counted per address by the gate; never logged
        self.abuse_key = self.id  # a signed token's subject when there is one (reports follow it)
        self.attached = False  # known to the backend
        self.closing = False  # no more messages are queued once a close is requested
        self.bucket = TokenBucket(config.rate_messages, config.rate_burst, now)
        self.strikes = per_minute(config.rate_abuse_strikes)
        self.finds = per_minute(config.rate_finds_per_minute)
        self._outbox: deque[bytes | _Close] | None = None
        self._outbox_bytes = 0
        self._wakeup: asyncio.Event | None = None
        self.writer: asyncio.Task[None] | None = None
        self._dropping: asyncio.Task[None] | None = None

    def _queue(self, item: bytes | _Close) -> None:
        if self._outbox is None:
            self._outbox = deque()
            self._wakeup = asyncio.Event()
            self.writer = asyncio.create_task(self._write(self._outbox, self._wakeup), name=f"writer-{self.id}")
        self._outbox.append(item)
        assert self._wakeup is not None
        self._wakeup.set()

    # --- outgoing ------------------------------------------------------------

    def send(self, message: p.ServerMessage) -> None:
        """Queue a message without waiting; a client that lags too far is dropped."""
        if self.closing:
            return
        self.send_encoded(self.server.codec.encode(message))

    def send_encoded(self, text: bytes) -> None:
        """`send` for a message already encoded (UTF-8 JSON)."""
        if self.closing:
            return
        # Nothing queued before it and the socket writable: out without a task switch.
        if not self._outbox and self.ws.send_now(text):
            return
        config = self.server.config
        queued = len(self._outbox) if self._outbox is not None else 0
        if queued >= config.outbox_messages or self._outbox_bytes + len(text) > config.outbox_bytes:
            self.drop("outbox_full")
            return
        self._outbox_bytes += len(text)
        metrics = self.server.metrics
        metrics.outbox_peak_bytes = max(metrics.outbox_peak_bytes, self._outbox_bytes)
        self._queue(text)

    def fail(self, error: p.ProtocolError) -> None:
        """The one place a refusal becomes a wire `error` (and, if fatal, a close)."""
        self.server.metrics.errors[error.code] += 1
        event("error", logging.DEBUG, id=self.id, code=error.code)
        self.send(p.Error(error.code, error.message))
        if error.code in p.FATAL_ERROR_CODES:
            self.close(CloseCode.POLICY_VIOLATION, error.message)

    def close(self, code: int, reason: str) -> None:
        """Close after what is already queued has been written."""
        if not self.closing:
            self.closing = True
            self._queue(_Close(code, reason[:120]))

    def drop(self, reason: str) -> None:
        """Let go of a client now: out of the backend at once, socket closed or aborted."""
        if self.closing and reason != "internal":
            return  # already on its way out
        self.server.metrics.dropped[reason] += 1
        event("dropped", id=self.id, reason=reason, queued=len(self._outbox or ()))
        self.closing = True
        if self._outbox is not None:
            self._outbox.clear()
        self._outbox_bytes = 0
        if self.writer is not None:
            self.writer.cancel()
        self._dropping = self.server.spawn(self._drop(reason))

    async def _drop(self, reason: str) -> None:
        await self.server.detach(self)
        code = CloseCode.POLICY_VIOLATION if reason != "internal" else CloseCode.INTERNAL_ERROR
        text = texts.CLOSE_INTERNAL if reason == "internal" else texts.CLOSE_SLOW
        await self._close_or_abort(code, text)

    async def _close_or_abort(self, code: int, reason: str) -> None:
        # A client that does not read never lets the close frame drain: abort.
        try:
            async with asyncio.timeout(self.server.config.close_timeout):
                await self.ws.close(code, reason)
        except TimeoutError:
            self.ws.transport.abort()

    async def _write(self, outbox: deque[bytes | _Close], wakeup: asyncio.Event) -> None:
        try:
            while True:
                while not outbox:
                    wakeup.clear()
                    await wakeup.wait()
                item = outbox.popleft()
                if isinstance(item, _Close):
                    await self._close_or_abort(item.code, item.reason)
                    return
                self._outbox_bytes -= len(item)
                async with asyncio.timeout(self.server.config.send_timeout):
                    await self.ws.send(item, text=True)
        except TimeoutError:
            self.drop("send_timeout")
        except ConnectionClosed:
            pass

    async def flush_and_wait(self) -> None:
        """Wait (boundedly) until the writer has written everything and closed."""
        config = self.server.config
        # The reader is done: whatever is queued goes out, then the close.
        self.close(CloseCode.NORMAL_CLOSURE, "")
        if self.writer is None:
            # Dropped before it ever needed a writer: the drop closes it (1008/1011), not
            # websockets' default close when this handler returns.
            if self._dropping is not None:
                await asyncio.wait({self._dropping}, timeout=config.close_timeout + 1.0)
            return
        await asyncio.wait({self.writer}, timeout=config.close_timeout + config.send_timeout)
        if not self.writer.done():
            self.writer.cancel()
            self.ws.transport.abort()
