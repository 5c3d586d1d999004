"""One client's socket: websockets' sans-I/O `ServerProtocol`, driven from an asyncio `Protocol`.

websockets parses and writes the WebSocket protocol (the handshake, frames,
pings and pongs, the closing handshake, 1002/1007/1009); this module moves
its bytes and keeps what a signaling server adds around them: the opening
handshake's timeout, keepalive pings (`server/ws/keepalive.py`), the close
timeout, a small bounded outbox for a client that stops reading, and, once
open, whole messages handed to the server (`Host.received`) in the order
they came.

Why not websockets' `ServerConnection`: it gives every connection a reader
task and awaits every send, two task switches per relayed message, which
were half of the relay's CPU (docs/benchmarks.md). Here a message is
handled inside the socket's read, and what it makes the server send leaves
in one write per connection at the end of that read. Everything used is
websockets' documented sans-I/O API (`receive_data`, `events_received`,
`data_to_send`, `accept`, `send_response`, `send_text`, `send_close`,
`send_ping`, `fail`, `close_expected`).

Sending never awaits: a message goes to websockets at once while the
socket takes data; once the transport says its buffer is full
(`pause_writing`), messages wait in the outbox, and a client that lets the
outbox fill, or leaves it full for `send_timeout`, is dropped. So no
client can stall another one.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import sys
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol, cast

import websockets
from websockets.frames import CloseCode, Frame, Opcode
from websockets.http11 import Request, Response
from websockets.protocol import State
from websockets.server import ServerProtocol
from websockets.typing import BytesLike

from server.config import ServerConfig
from server.core import protocol as p
from server.core import texts
from server.core.codec import Codec
from server.core.session import ClientSession
from server.core.tickets import TicketBook
from server.ws.keepalive import Keepalive
from server.ws.metrics import Metrics

log = logging.getLogger("studymatch.server")
_ws_log = logging.getLogger("studymatch.server.websockets")

OPEN_TIMEOUT = 10.0  # the opening handshake, as websockets' serve() allows by default
WRITE_LIMIT = 32 * 1024  # the transport's buffer before `pause_writing`, as websockets' default
INBOX_LIMIT = 16  # messages read ahead of a request still being handled, as websockets' max_queue
_OPEN = State.OPEN
SERVER_HEADER = f"Python/{sys.version_info[0]}.{sys.version_info[1]} websockets/{websockets.__version__}"


def event(name: str, level: int = logging.INFO, **fields: Any) -> None:
    """One log line per event, as key=value pairs (no SDP, ICE or addresses at info)."""
    if log.isEnabledFor(level):
        log.log(level, " ".join([f"event={name}", *(f"{k}={v}" for k, v in fields.items())]))


class Host(Protocol):
    """What a connection needs from the server that holds it."""

    config: ServerConfig
    codec: Codec
    metrics: Metrics

    def made(self, conn: Connection) -> None: ...
    def handshake(self, conn: Connection, request: Request) -> Response | None: ...
    def opened(self, conn: Connection) -> None: ...
    def received(self, conn: Connection, frame: str | bytes) -> None: ...
    def lost(self, conn: Connection) -> None: ...
    def spawn(self, coro: Any) -> asyncio.Task[None]: ...
    async def detach(self, conn: Connection) -> None: ...
    @property
    def writes(self) -> Writes: ...


class Writes:
    """The connections websockets holds bytes for, written once at the end of a read.

    A flood brings many messages in one read; their relays to one partner leave
    in one write. Outside a read (a backend's delivery, a timer) the write is
    made at the end of the loop's iteration.
    """

    def __init__(self) -> None:
        self._dirty: list[Connection] = []
        self.reading = False  # inside a socket's read: its end writes them
        self._scheduled = False

    def add(self, conn: Connection) -> None:
        self._dirty.append(conn)
        if not self.reading and not self._scheduled:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self.flush)

    def flush(self) -> None:
        self._scheduled = False
        if self._dirty:
            dirty, self._dirty = self._dirty, []
            for conn in dirty:
                conn.flush()


class Connection(asyncio.Protocol):
    """One client: its WebSocket, its session, its bounded outbox."""

    def __init__(self, host: Host) -> None:
        config = host.config
        self.host = host
        self.config = config
        self.id = secrets.token_urlsafe(12)
        self.address = "-"  # counted per address by the gate; never logged
        self.abuse_key = self.id  # a signed token's subject when there is one (reports follow it)
        self.attached = False  # known to the backend
        self.tickets: TicketBook | None = None  # said `"resume": true`: it is given tickets
        self.wants_counts = False  # said `"counts": true`: it is sent `counts` while queued
        self.closing = False  # no more messages are taken or queued once a close is decided
        self.session: ClientSession | None = None  # from the opening handshake on
        self.busy = False  # a request is being awaited: later messages wait in `inbox`
        self.inbox: deque[str | bytes] = deque()
        self.ws = ServerProtocol(max_size=config.max_frame_bytes, logger=_ws_log)
        self.transport: asyncio.Transport | None = None
        self.dirty = False  # websockets holds bytes for this socket not yet written
        self._paused = False
        self._outbox: deque[bytes] | None = None  # only while the socket takes no more
        self._outbox_bytes = 0
        self._close_after: tuple[int, str] | None = None  # a close waiting behind the outbox
        self._fragments: list[BytesLike] | None = None
        self._fragmented_text = False
        self._deadline: asyncio.TimerHandle | None = None  # handshake, then close timeout
        self._stall: asyncio.TimerHandle | None = None  # the outbox full for too long
        self._hello: asyncio.TimerHandle | None = None
        self._keepalive = Keepalive(self.ws, self.flush, config.ping_interval, config.ping_timeout)

    @property
    def remote_address(self) -> Any:
        return self.transport.get_extra_info("peername") if self.transport is not None else None

    @property
    def open(self) -> bool:
        return self.ws.state is _OPEN

    @property
    def close_code(self) -> int | None:
        return self.ws.close_code

    # --- asyncio's side ---------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        transport = cast(asyncio.Transport, transport)  # uvloop's are not subclasses
        self.transport = transport
        transport.set_write_buffer_limits(WRITE_LIMIT)
        self._deadline = asyncio.get_running_loop().call_later(OPEN_TIMEOUT, self._handshake_late)
        self.host.made(self)

    def data_received(self, data: bytes) -> None:
        ws = self.ws
        ws.receive_data(data)
        writes = self.host.writes
        writes.reading = True
        try:
            for ev in ws.events_received():
                if type(ev) is not Frame:
                    if isinstance(ev, Request):
                        self._handshake(ev)
                elif ev.opcode is Opcode.TEXT and ev.fin:  # a whole text message: most of them
                    self._message(ev.data, True)
                else:
                    self._frame(ev)
        finally:
            writes.reading = False
            self.flush()  # pongs and close replies websockets made, and this client's replies
            writes.flush()  # what the messages made the server send to others

    def eof_received(self) -> None:
        self.ws.receive_eof()
        self.flush()

    def connection_lost(self, exc: Exception | None) -> None:
        self.ws.receive_eof()  # idempotent: the state is CLOSED from here on
        self.closing = True
        for timer in (self._deadline, self._stall, self._hello):
            if timer is not None:
                timer.cancel()
        self._deadline = self._stall = self._hello = None
        self._keepalive.stop()
        self._outbox = None
        self.host.lost(self)

    def pause_writing(self) -> None:
        self._paused = True

    def resume_writing(self) -> None:
        self._paused = False
        if self._stall is not None:
            self._stall.cancel()
            self._stall = None
        outbox = self._outbox
        while outbox and not self._paused:
            item = outbox.popleft()
            self._outbox_bytes -= len(item)
            if self.ws.state is _OPEN:
                self.ws.send_text(item)
            self.flush()  # one by one: a write may pause the transport again
        if outbox:
            self._stall_timer()
            return
        self._outbox = None
        if self._close_after is not None:
            code, reason = self._close_after
            self._close_after = None
            self._send_close(code, reason)

    # --- incoming ---------------------------------------------------------------------

    def _handshake(self, request: Request) -> None:
        ws = self.ws
        response = self.host.handshake(self, request)
        if response is None:
            response = ws.accept(request)
        response.headers["Server"] = SERVER_HEADER  # as websockets' serve() says it
        ws.send_response(response)
        self.flush()
        if ws.state is _OPEN:
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None
            self._keepalive.start()
            self.host.opened(self)

    def _frame(self, frame: Frame) -> None:
        opcode = frame.opcode
        if opcode is Opcode.TEXT or opcode is Opcode.BINARY:
            if frame.fin:
                self._message(frame.data, opcode is Opcode.TEXT)
            else:
                self._fragments, self._fragmented_text = [frame.data], opcode is Opcode.TEXT
        elif opcode is Opcode.CONT:
            if self._fragments is None:  # pragma: no cover (websockets refuses it with 1002)
                return
            self._fragments.append(frame.data)
            if frame.fin:
                data, self._fragments = b"".join(self._fragments), None
                self._message(data, self._fragmented_text)
        elif opcode is Opcode.PONG:
            self._keepalive.pong(frame.data)

    def _message(self, data: BytesLike, text: bool) -> None:
        if self.closing:
            return
        if text:
            try:
                frame: str | bytes = str(data, "utf-8")
            except UnicodeDecodeError as exc:
                self.closing = True
                self.ws.fail(CloseCode.INVALID_DATA, texts.CLOSE_BAD_UTF8.format(reason=exc.reason, position=exc.start))
                self._written()
                return
        else:
            frame = bytes(data)  # refused by the session (binary frames are not accepted)
        if self.busy:
            self.inbox.append(frame)
            if len(self.inbox) >= INBOX_LIMIT and self.transport is not None:
                self.transport.pause_reading()  # TCP holds the rest until the request is done
            return
        self.host.received(self, frame)

    def next_message(self) -> str | bytes | None:
        """The next message read while a request was awaited, if any (the server's loop)."""
        if not self.inbox or self.closing:
            return None
        frame = self.inbox.popleft()
        if len(self.inbox) == INBOX_LIMIT - 1 and self.transport is not None:
            self.transport.resume_reading()
        return frame

    # --- outgoing ---------------------------------------------------------------------

    def send(self, message: p.ServerMessage) -> None:
        """Send without waiting: at once while the socket takes data, else through the outbox."""
        if self.closing:
            return
        text = self.host.codec.encode(message)
        if self._outbox is None and not self._paused:
            if self.ws.state is _OPEN:
                self.ws.send_text(text)
                if not self.dirty:
                    self.dirty = True
                    self.host.writes.add(self)
            return
        self._queue(text)

    def _queue(self, text: bytes) -> None:
        """Into the outbox; a client that lets it fill is dropped."""
        config = self.config
        queued = len(self._outbox) if self._outbox is not None else 0
        if queued >= config.outbox_messages or self._outbox_bytes + len(text) > config.outbox_bytes:
            self.drop("outbox_full")
            return
        if self._outbox is None:
            self._outbox = deque()
            self._stall_timer()
        self._outbox.append(text)
        self._outbox_bytes += len(text)
        metrics = self.host.metrics
        metrics.outbox_peak_bytes = max(metrics.outbox_peak_bytes, self._outbox_bytes)

    def close(self, code: int, reason: str) -> None:
        """Close after what is already queued has been written."""
        if self.closing:
            return
        self.closing = True
        if self._outbox:
            self._close_after = (code, reason[:120])
        else:
            self._send_close(code, reason[:120])

    def drop(self, reason: str) -> None:
        """Let go of a client now: out of the backend at once, closed (or aborted if it does not read)."""
        if self.closing and reason != "internal":
            return  # already on its way out (a close queued behind the outbox is dropped with it)
        self.host.metrics.dropped[reason] += 1
        event("dropped", id=self.id, reason=reason, queued=len(self._outbox or ()))
        self.closing = True
        self._outbox, self._outbox_bytes, self._close_after = None, 0, None
        internal = reason == "internal"
        code = CloseCode.INTERNAL_ERROR if internal else CloseCode.POLICY_VIOLATION
        self._send_close(code, texts.CLOSE_INTERNAL if internal else texts.CLOSE_SLOW)
        self.host.spawn(self.host.detach(self))

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()

    def _send_close(self, code: int, reason: str) -> None:
        if self.ws.state is _OPEN:
            self.ws.send_close(code, reason)
            self.flush()

    def _written(self) -> None:
        if not self.dirty:
            self.dirty = True
            self.host.writes.add(self)

    def flush(self) -> None:
        """Write what websockets has for this socket (the server calls it once per read)."""
        self.dirty = False
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        ws = self.ws
        chunks = ws.data_to_send()
        if not chunks:
            pass
        elif b"" not in chunks:
            transport.writelines(chunks)  # a flood's frames to one client in one system call
        else:
            for data in chunks:
                if data:
                    transport.write(data)
                elif transport.can_write_eof():  # websockets ends the TCP stream after its close
                    transport.write_eof()
                else:  # TLS cannot half-close
                    transport.close()
        if ws.state is not _OPEN and self._deadline is None and ws.close_expected():
            # The client has `close_timeout` to finish the closing handshake.
            loop = asyncio.get_running_loop()
            self._deadline = loop.call_later(self.config.close_timeout, self.abort)

    # --- timers -------------------------------------------------------------------------

    def set_hello_deadline(self, when: float, expire: Callable[[Connection], None]) -> None:
        self._hello = asyncio.get_running_loop().call_at(when, expire, self)

    def cancel_hello_deadline(self) -> None:
        if self._hello is not None:
            self._hello.cancel()
            self._hello = None

    def _handshake_late(self) -> None:
        self._deadline = None
        if self.ws.state is State.CONNECTING:
            self.abort()

    def _stall_timer(self) -> None:
        loop = asyncio.get_running_loop()
        self._stall = loop.call_later(self.config.send_timeout, self.drop, "send_timeout")
