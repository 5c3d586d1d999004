"""Real call engines for tests: an `Engine` plus a recorder of its events to await on."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Protocol, TypeVar

from client import events as ev
from client.backoff import Backoff
from client.engine import Engine, EngineConfig, websocket_signaling
from client.media.factory import MediaFactory
from client.session import CallState
from client.signaling import SignalingChannel

from .wsclient import TIMEOUT

E = TypeVar("E")

# Reconnect quickly in tests; the schedule itself is unit-tested.
FAST_BACKOFF = Backoff(base=0.05, factor=2.0, cap=0.5, jitter=0.5)
# Media needs longer than a websocket round trip on two shared cores.
MEDIA_TIMEOUT = 3 * TIMEOUT


class Recorder:
    """Every event of one engine, in order; frames kept apart (there are many)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.events: list[ev.EngineEvent] = []
        self.remote_frames: deque[ev.RemoteVideoFrame] = deque(maxlen=300)
        self.remote_frame_count = 0
        self.local_frame_count = 0
        self._changed = asyncio.Event()
        self._frame = asyncio.Event()
        self._taken: set[int] = set()  # indexes already returned by next()

    def __call__(self, event: ev.EngineEvent) -> None:
        if isinstance(event, ev.RemoteVideoFrame):
            self.remote_frames.append(event)
            self.remote_frame_count += 1
            self._frame.set()
            return
        if isinstance(event, ev.LocalVideoFrame):
            self.local_frame_count += 1
            return
        self.events.append(event)
        self._changed.set()

    def of(self, kind: type[E]) -> list[E]:
        return [e for e in self.events if isinstance(e, kind)]

    async def next(
        self, kind: type[E], where: Callable[[E], bool] = lambda e: True, within: float = TIMEOUT
    ) -> E:
        """The earliest event of `kind` satisfying `where` that no earlier call returned."""
        try:
            async with asyncio.timeout(within):
                while True:
                    for i, event in enumerate(self.events):
                        if i not in self._taken and isinstance(event, kind) and where(event):
                            self._taken.add(i)
                            return event
                    self._changed.clear()
                    await self._changed.wait()
        except TimeoutError:
            raise AssertionError(f"{self.name}: no {kind.__name__} within {within} s; seen: {self._seen()}") from None

    async def latest(self, kind: type[E], where: Callable[[E], bool], within: float = TIMEOUT) -> E:
        """Until the latest event of `kind` satisfies `where`: for readings that repeat (a level)."""
        try:
            async with asyncio.timeout(within):
                while not ((found := self.of(kind)) and where(found[-1])):
                    self._changed.clear()
                    await self._changed.wait()
                return found[-1]
        except TimeoutError:
            raise AssertionError(f"{self.name}: no such {kind.__name__} within {within} s; "
                                 f"the last: {self.of(kind)[-3:]}") from None  # fmt: skip

    def _seen(self) -> list[ev.EngineEvent]:
        """What a failure shows: the events but the periodic ones."""
        return [e for e in self.events if not isinstance(e, (ev.CallStats, ev.PartnerAudioLevel))]

    async def wait_frames(self, count: int, within: float = TIMEOUT) -> None:
        async with asyncio.timeout(within):
            while self.remote_frame_count < count:
                self._frame.clear()
                await self._frame.wait()


class Peer:
    def __init__(self, engine: Engine, events: Recorder) -> None:
        self.engine = engine
        self.events = events

    @property
    def state(self) -> CallState:
        return self.engine.state


def fast_signaling(engine: Engine) -> SignalingChannel:
    """The engine's own signaling (token, CA file and all), reconnecting faster."""
    return websocket_signaling(engine, backoff=FAST_BACKOFF)


class MakePeer(Protocol):
    def __call__(
        self, name: str, url: str, *, media: MediaFactory | None = None, **config: Any
    ) -> Awaitable[Peer]: ...


@contextlib.asynccontextmanager
async def engines() -> AsyncIterator[MakePeer]:
    """`await make(name, url, **config)` -> a started `Peer`; every one closed on exit."""
    made: list[Peer] = []

    async def make(name: str, url: str, *, media: MediaFactory | None = None, **config: Any) -> Peer:
        config.setdefault("fake_media", media is None)
        config.setdefault("media_timeout", MEDIA_TIMEOUT)
        clock = config.pop("clock", time.time)  # the engine's wall clock (a study session's times)
        people = config.pop("people", None)  # client/people.py; None: a fresh one in memory
        # `connect`: the instance to reach while `url` is the server's public name (one load
        # balancer's URL for many instances): what pseudonyms and rendezvous tokens are made of.
        connect = config.pop("connect", None)
        recorder = Recorder(name)
        engine = Engine(EngineConfig(server=url, **config), recorder, media, clock=clock, people=people,
                        signaling=lambda e: websocket_signaling(e, backoff=FAST_BACKOFF, url=connect))
        peer = Peer(engine, recorder)
        made.append(peer)
        await engine.start()
        await recorder.next(ev.Connected)
        return peer

    try:
        yield make
    finally:
        await asyncio.gather(*(p.engine.close() for p in made))
