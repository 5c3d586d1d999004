"""The server's WebSocket connection: websockets' `ServerConnection`, with a cheaper relay path.

websockets' general machinery costs most of a relayed message: generator-based
frame parsing, a task switch to the reader and another to the writer, an
awaited send. This subclass, installed with serve()'s documented
`create_connection` hook, adds shortcuts for the common case and hands
everything else to websockets unchanged:

- Reading: while websockets' parser is between frames, plain frames (FIN,
  text or binary, masked, within the size limit) are cut here
  (`server/ws/wsframes.py`); the first other frame and all after it go to
  websockets' parser, and the reading comes back here once that parser is
  between frames again. Pings, closes, fragments, errors and 1009 keep
  websockets' exact behaviour. A read that is exactly one whole text frame
  (a paced client's message) is read in one step (`wsframes.lone_text`).
- Handling: a whole text message is first offered to `on_message` (the shell
  relays a signal there, with every check), but only while the reader task
  has no message waiting, so messages are handled in the order they came.
  Anything `on_message` declines goes to the reader task (`recv`) as before.
- Writing: `send_now` hands a text frame to websockets' sans-I/O protocol
  without a task switch when the socket is writable and nothing is queued
  before it. What one read makes the server send leaves in one write per
  connection at the end of that read (at the end of the loop iteration when
  sent from elsewhere). It refuses (returns False) whenever the shell's
  writer task must decide: the transport is paused (the client is not
  reading: the bounded outbox and its timeout take over), a fragmented send
  is in progress, or the connection is not open.
- Keepalive: pings on timers instead of one task per connection (see below).
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import threading
from collections.abc import Callable
from typing import Any

from websockets.asyncio.server import ServerConnection
from websockets.datastructures import Headers
from websockets.frames import CloseCode, Frame, Opcode
from websockets.protocol import Protocol, State
from websockets.streams import StreamReader

from server.core import texts
from server.ws.wsframes import lone_text, split_frames, text_frame

_AT_EOF = StreamReader.at_eof.__code__
_MESSAGE_OPCODES = (Opcode.TEXT, Opcode.BINARY, Opcode.CONT)


def at_frame_boundary(protocol: Protocol) -> bool:
    """websockets' parser is between frames, outside any fragmented message, connection open.

    Its parser is a chain of generators; between frames the innermost one
    waits in `StreamReader.at_eof` (its buffer empty). Anywhere else the
    parser is inside a frame (or the HTTP request).
    """
    if protocol.state is not State.OPEN or protocol.current_size is not None:
        return False
    waiting: Any = protocol.parser
    while (inner := getattr(waiting, "gi_yieldfrom", None)) is not None:
        waiting = inner
    return getattr(waiting, "gi_code", None) is _AT_EOF and not protocol.reader.buffer


class _Writes(threading.local):
    """The connections written to while one read is handled; flushed when it ends."""

    pending: list[RelayConnection] | None = None


_writes = _Writes()


class RelayConnection(ServerConnection):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Set by the shell once the client may send requests: takes a whole text
        # message, returns True when it handled it, False to leave it to `recv`.
        self.on_message: Callable[[str], bool] | None = None
        self._unread = 0  # messages handed to the reader task and not yet done
        # True while frames are cut here: websockets' parser is then between
        # frames, and stays so, since it is only ever given whole frames.
        self._own_frames = False
        self._pending = bytearray()  # the start of a frame still arriving
        limits = [n for n in (self.protocol.max_message_size, self.protocol.max_fragment_size) if n]
        self._max_size = min(limits) if limits else None
        self._flush_pending = False
        self._keepalive: asyncio.TimerHandle | None = None

    def forget_handshake_headers(self) -> None:
        """Let the opening handshake's headers go, once the shell has read what it needs."""
        if self.request is not None:
            self.request = dataclasses.replace(self.request, headers=Headers())
        if self.response is not None:
            self.response = dataclasses.replace(self.response, headers=Headers())

    @property
    def reads_frames(self) -> bool:
        """Plain frames are cut here, not by websockets' parser (for tests)."""
        return self._own_frames

    @property
    def offers_messages(self) -> bool:
        """The next whole text message goes to `on_message` first (for tests)."""
        return self.on_message is not None and not self._unread

    # --- reading -----------------------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        if _writes.pending is not None:  # pragma: no cover (a read inside a read: none known)
            self._read(data)
            return
        _writes.pending = []
        try:
            if not self._read_lone_signal(data):
                self._read(data)
        finally:
            pending, _writes.pending = _writes.pending, None
            for connection in pending:
                connection._flush()

    def _read_lone_signal(self, data: bytes) -> bool:
        """The paced case in one step: `data` is one whole text frame, offered to `on_message`.

        What `_read` -> `split_frames` -> `process_event` do for it, without the general
        machinery; False (nothing done) for anything else, which `_read` then reads.
        """
        on_message = self.on_message
        if on_message is None or self._unread or self._pending or not self._own_frames:
            return False
        if self.protocol.state is not State.OPEN:
            return False
        payload = lone_text(data, self._max_size)
        if payload is None:
            return False
        try:
            text = str(payload, "utf-8")
        except UnicodeDecodeError:
            return False  # `_read` hands it on: `recv` raises it, and websockets closes with 1007
        if not on_message(text):  # declined, nothing done: the reader task decides (`recv`)
            self._unread += 1
            super().process_event(Frame(Opcode.TEXT, payload))
        return True

    def _read(self, data: bytes) -> None:
        if not self._own_frames or self.protocol.state is not State.OPEN:
            self._own_frames = False
            if self._pending:  # the start of a frame cut here before the state changed
                data, self._pending = bytes(self._pending) + data, bytearray()
            self._to_websockets(data)
            return
        # A frame arriving in pieces is gathered in a bytearray: appending is
        # amortized O(1), so a client sending a byte at a time costs linear time.
        buffer: bytes | bytearray = data
        if self._pending:
            self._pending += data
            buffer = self._pending
        split = split_frames(buffer, self._max_size)
        for frame in split.frames:
            self.process_event(frame)  # what websockets does with a data frame it parsed
        if not split.plain:
            rest = bytes(buffer[split.end :])
            self._pending = bytearray()
            self._own_frames = False
            self._to_websockets(rest)
        elif buffer is self._pending:
            del self._pending[: split.end]
        elif split.end < len(buffer):
            self._pending = bytearray(buffer[split.end :])

    def _to_websockets(self, data: bytes) -> None:
        super().data_received(data)
        # Take the reading back as soon as websockets' parser is between frames again.
        self._own_frames = at_frame_boundary(self.protocol)

    def eof_received(self) -> None:
        if self._pending:  # a frame cut short: websockets reports it as it would have
            pending, self._pending = bytes(self._pending), bytearray()
            self._own_frames = False
            super().data_received(pending)
        super().eof_received()

    def process_event(self, event: Any) -> None:
        if type(event) is Frame and event.fin:
            if event.opcode is Opcode.TEXT and self.on_message is not None and not self._unread:
                try:
                    text = str(event.data, "utf-8")
                except UnicodeDecodeError:
                    pass  # `recv` raises it, and websockets closes with 1007
                else:
                    if self.on_message(text):
                        return
            if event.opcode in _MESSAGE_OPCODES:
                self._unread += 1
        super().process_event(event)

    def message_done(self) -> None:
        """The reader task has handled one message it got from `recv`."""
        self._unread -= 1

    # --- writing -----------------------------------------------------------------------------

    def send_now(self, data: bytes) -> bool:
        """Queue one text frame (UTF-8 `data`) unless the writer task must handle it."""
        protocol = self.protocol
        if self.paused or self.send_in_progress is not None or protocol.state is not State.OPEN:
            return False
        if protocol.extensions or protocol.debug or protocol.expect_continuation_frame:
            protocol.send_text(data)  # websockets' own path: encodes, logs or refuses
        else:
            # What send_text would queue, built in one step (half the Python work of a
            # paced relay was websockets' general frame encoder and the calls around it).
            protocol.writes.append(text_frame(data))
        if not self._flush_pending:
            self._flush_pending = True
            if _writes.pending is not None:
                _writes.pending.append(self)
            else:
                self.loop.call_soon(self._flush)
        return True

    def _flush(self) -> None:
        self._flush_pending = False
        protocol = self.protocol
        writes = protocol.writes
        try:
            if len(writes) == 1 and writes[0]:
                # The common case: one frame. (An empty write is websockets' half-close:
                # send_data handles it, and any mix.)
                protocol.writes = []
                self.transport.write(writes[0])
            elif writes:
                self.send_data()
        except Exception as exc:
            # As websockets does in data_received: the connection fails, the reader sees it closed.
            self.set_connection_exc(exc)
            self.transport.abort()

    # --- keepalive on timers -------------------------------------------------------------------
    # websockets keeps a task per connection for its pings (~2.4 KB each, a sixth of an
    # idle connection here). Timers do the same: a ping every `ping_interval` after the
    # last one was sent, and, as websockets' `keepalive` does, a close with 1011 when its
    # pong is later than `ping_timeout`, then an abort if the client does not close.

    def start_keepalive(self) -> None:
        if self.ping_interval is not None:
            self._keepalive = self.loop.call_later(self.ping_interval, self._ping)

    def _ping(self) -> None:
        self._keepalive = None
        if self.protocol.state is not State.OPEN:
            return
        data = os.urandom(4)
        while data in self.pending_pings:  # pragma: no cover (a 1 in 2**32 collision)
            data = os.urandom(4)
        pong: asyncio.Future[float] = self.loop.create_future()
        self.pending_pings[data] = (pong, self.loop.time())
        self.protocol.send_ping(data)
        self._flush()
        if self.ping_timeout is not None:
            self._keepalive = self.loop.call_later(self.ping_timeout, self._pong_late)
        pong.add_done_callback(self._pong)

    def _pong(self, pong: asyncio.Future[float]) -> None:
        if pong.cancelled() or pong.exception() is not None:
            return  # the connection is closed
        if self._keepalive is not None:
            self._keepalive.cancel()
        assert self.ping_interval is not None
        self._keepalive = self.loop.call_later(max(0.0, self.ping_interval - pong.result()), self._ping)

    def _pong_late(self) -> None:
        self._keepalive = None
        if self.protocol.state is not State.OPEN:
            return
        self.protocol.fail(CloseCode.INTERNAL_ERROR, texts.CLOSE_PING_TIMEOUT)
        self._flush()
        self._keepalive = self.loop.call_later(self.close_timeout or 0.0, self._abort)

    def _abort(self) -> None:
        self._keepalive = None
        if not self.connection_lost_waiter.done():
            self.transport.abort()

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        if self._keepalive is not None:
            self._keepalive.cancel()
            self._keepalive = None
