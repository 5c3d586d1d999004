"""The server's WebSocket connection: websockets' `ServerConnection`, with a cheaper relay path.

websockets' general machinery costs most of a relayed message (a task switch
and an awaited send per message). This subclass, installed with serve()'s
documented `create_connection` hook, adds a shortcut and falls back to
websockets whenever the shortcut does not apply:

- Writing: `send_now` hands a text frame to websockets' sans-I/O protocol
  without a task switch when the socket is writable and nothing is queued
  before it, and writes it at the end of the loop iteration, so that the
  frames one client gets in one go (a burst of ICE candidates) leave in one
  write. It refuses (returns False) whenever the shell's writer task must
  decide: the transport is paused (the client is not reading: the bounded
  outbox and its timeout take over), a fragmented send is in progress, or
  the connection is not open.
"""

from __future__ import annotations

from typing import Any

from websockets.asyncio.server import ServerConnection
from websockets.protocol import State


class RelayConnection(ServerConnection):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._flush_pending = False

    # --- writing ---------------------------------------------------------------------------

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
