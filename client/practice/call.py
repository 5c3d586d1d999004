"""The window's side of the test call: an engine of its own, calling the
practice partner (the echo bot beside this module) on that partner's private server.

The real engine stays connected meanwhile, so the lobby is ready the moment
the test ends; the controller shows one call at a time, and these rules say
which engine's events reach the window while a test call is on.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from client import events as ev
from client.ui.seams import EngineFactory, EngineLike, EngineOptions, PracticeFactory

# The private server's connection comes and goes with the test: not the person's concern.
_PRIVATE = (ev.Connected, ev.Disconnected, ev.Shutdown, ev.Idle)
# What the real engine could still paint or say over a test call on screen.
_ON_SCREEN = (ev.RemoteVideoFrame, ev.LocalVideoFrame, ev.ChatMessage, ev.CallStats)


def shown(event: Any) -> bool:
    """Is this event of the practice engine one for the window?"""
    return not isinstance(event, _PRIVATE)


def hidden_by_practice(event: Any) -> bool:
    """Would this event of the real engine show over a test call on screen?"""
    return isinstance(event, _ON_SCREEN)


class PracticeCall:
    """At most one test call: the partner's closer and the engine that calls it."""

    def __init__(self, factory: PracticeFactory | None, engine_factory: EngineFactory) -> None:
        self._factory = factory
        self._engine_factory = engine_factory
        self.engine: EngineLike | None = None
        self._close_partner: Callable[[], Awaitable[None]] | None = None

    @property
    def available(self) -> bool:
        return self._factory is not None

    async def open(self, mode: str, options: EngineOptions, on_event: Callable[[Any], None]) -> EngineLike:
        """Start the partner and make the engine that will call it.

        The engine is not started: the caller shows the search first. Whatever
        starting the partner raises is passed on. `on_event` hears what `shown` lets
        through, while the test call lasts.
        """
        assert self._factory is not None
        url, self._close_partner = await self._factory(mode, options)

        def heard(event: Any) -> None:
            if self.engine is not None and shown(event):  # None: ended, late news
                on_event(event)

        self.engine = self._engine_factory(dataclasses.replace(options, server=url), heard)
        return self.engine

    def call(self, engine: EngineLike, mode: str, *, muted: bool) -> Coroutine[Any, Any, None]:
        """Search for the partner with the test call's engine (made by `open`), and connect it.

        The search is in the engine's model at once, so the window shows it while the
        engine connects; the engine asks the partner's server once it is welcome there.
        """
        return self._call(engine, engine.find(mode, None), muted)

    async def _call(self, engine: EngineLike, finding: Coroutine[Any, Any, None], muted: bool) -> None:
        await engine.start()
        if self.engine is not engine:
            finding.close()
            return  # cancelled while it connected: closed already
        engine.set_microphone_muted(muted)
        await finding

    def close(self) -> Coroutine[Any, Any, None]:
        """Forget the test call at once; the coroutine returned closes its engine and partner.

        At once, not when the coroutine first runs: a task spawned to close it starts a
        loop iteration later, and the engine's events in between must no longer count.
        """
        engine, self.engine = self.engine, None
        closer, self._close_partner = self._close_partner, None
        return self._close(engine, closer)

    @staticmethod
    async def _close(engine: EngineLike | None, closer: Callable[[], Awaitable[None]] | None) -> None:
        if engine is not None:
            await engine.close()
        if closer is not None:
            await closer()
