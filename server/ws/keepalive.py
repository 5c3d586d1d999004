"""Keepalive pings on timers, not a task per connection.

A ping every `ping_interval` after the last one was answered; a pong later
than `ping_timeout` fails the connection with 1011, as websockets' own
keepalive does. Timers instead of websockets' keepalive task: a task is
~2.4 KB per idle connection, a timer handle a tenth of that.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable

from websockets.frames import CloseCode
from websockets.protocol import State
from websockets.server import ServerProtocol
from websockets.typing import BytesLike

from server.core import texts


class Keepalive:
    __slots__ = ("_flush", "_interval", "_ping", "_timeout", "_timer", "_ws")

    def __init__(self, ws: ServerProtocol, flush: Callable[[], None], interval: float, timeout: float) -> None:
        self._ws = ws
        self._flush = flush  # writes what websockets holds for the socket
        self._interval = interval
        self._timeout = timeout
        self._timer: asyncio.TimerHandle | None = None
        self._ping: tuple[bytes, float] | None = None  # the ping waiting for its pong, and when

    def start(self) -> None:
        if self._interval:
            self._timer = asyncio.get_running_loop().call_later(self._interval, self._send_ping)

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def pong(self, data: BytesLike) -> None:
        """A pong came: ours (then the next ping is due an interval after this one was sent) or not."""
        if self._ping is None or self._ping[0] != data:
            return  # not ours (websockets answers the client's own pings itself)
        sent = self._ping[1]
        self._ping = None
        self.stop()
        self._timer = asyncio.get_running_loop().call_at(sent + self._interval, self._send_ping)

    def _send_ping(self) -> None:
        self._timer = None
        if self._ws.state is not State.OPEN:
            return
        loop = asyncio.get_running_loop()
        data = os.urandom(4)
        self._ping = (data, loop.time())
        self._ws.send_ping(data)
        self._flush()
        if self._timeout:
            self._timer = loop.call_later(self._timeout, self._pong_late)

    def _pong_late(self) -> None:
        self._timer = None
        if self._ws.state is State.OPEN:
            self._ws.fail(CloseCode.INTERNAL_ERROR, texts.CLOSE_PING_TIMEOUT)
            self._flush()
