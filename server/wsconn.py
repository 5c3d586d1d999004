"""The server's WebSocket connection: websockets' `ServerConnection`, with a cheaper relay path.

websockets' general machinery costs most of a relayed message: generator-based
frame parsing, a task switch to the reader and another to the writer, an
awaited send. This subclass, installed with serve()'s documented
`create_connection` hook, adds shortcuts for the common case and hands
everything else to websockets unchanged:

- Reading: while websockets' parser is between frames, plain frames (FIN,
  text or binary, masked, within the size limit) are cut here
  (`server/wsframes.py`); the first other frame and all after it go to
  websockets' parser, and the reading comes back here once that parser is
  between frames again. Pings, closes, fragments, errors and 1009 keep
  websockets' exact behaviour.
- Writing: `send_now` hands a text frame to websockets' sans-I/O protocol
  without a task switch when the socket is writable and nothing is queued
  before it, and writes at the end of the loop iteration, so that the frames
  one client gets in one go (a burst of ICE candidates) leave in one write.
  It refuses (returns False) whenever the shell's writer task must decide:
  the transport is paused (the client is not reading: the bounded outbox and
  its timeout take over), a fragmented send is in progress, or the
  connection is not open.
"""

from __future__ import annotations

from typing import Any

from websockets.asyncio.server import ServerConnection
from websockets.protocol import Protocol, State
from websockets.streams import StreamReader

from .wsframes import split_frames

_AT_EOF = StreamReader.at_eof.__code__


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


class RelayConnection(ServerConnection):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # True while frames are cut here: websockets' parser is then between
        # frames, and stays so, since it is only ever given whole frames.
        self._own_frames = False
        self._pending = bytearray()  # the start of a frame still arriving
        limits = [n for n in (self.protocol.max_message_size, self.protocol.max_fragment_size) if n]
        self._max_size = min(limits) if limits else None
        self._flush_pending = False

    @property
    def reads_frames(self) -> bool:
        """Plain frames are cut here, not by websockets' parser (for tests)."""
        return self._own_frames

    # --- reading -----------------------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
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

    # --- writing -----------------------------------------------------------------------------

    def send_now(self, data: bytes) -> bool:
        """Queue one text frame (UTF-8 `data`) unless the writer task must handle it."""
        if self.paused or self.send_in_progress is not None or self.protocol.state is not State.OPEN:
            return False
        self.protocol.send_text(data)
        if not self._flush_pending:
            self._flush_pending = True
            self.loop.call_soon(self._flush)
        return True

    def _flush(self) -> None:
        self._flush_pending = False
        try:
            self.send_data()
        except Exception as exc:
            # As websockets does in data_received: the connection fails, the reader sees it closed.
            self.set_connection_exc(exc)
            self.transport.abort()
