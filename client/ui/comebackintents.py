"""Coming back (issue 14): "Study again", "never again" and the favourites, between the window and
the engine. Part of the controller (client/ui/controller.py), kept apart as studyintents.py is.

The intents go to the real engine only (a test call's partner is oneself). It hears every event
of the real engine, as the history recorder does, and says what the window shows: the notices
after a call (a favourite saved, a partner blocked), whether the lobby offers to block the last
partner, and the favourites and blocked count (`on_people`) for the lobby and the History view.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from client import events as ev
from client import messages
from client.ui.seams import EngineLike, FavouriteLike
from client.ui.widgets.notices import Notice


class ComebackIntents:
    def __init__(self, engine: Callable[[], EngineLike | None], call_engine: Callable[[], EngineLike | None],
                 spawn: Callable[[Coroutine[Any, Any, None]], object], notify: Callable[[Notice], None],
                 on_people: Callable[[Sequence[FavouriteLike], int], None],
                 on_blockable: Callable[[bool], None]) -> None:
        self._engine = engine  # the real engine (None between engines)
        self._call_engine = call_engine  # the engine of a real call on screen, or None
        self._spawn = spawn
        self._notify = notify
        self._on_people = on_people
        self._on_blockable = on_blockable
        self._reported: str | None = None  # the session reported: its block needs no notice of its own

    # --- intents ----------------------------------------------------------------------------
    def set_again(self, on: bool, nickname: str) -> None:
        if (engine := self._call_engine()) is not None:
            engine.set_again(on, nickname.strip())

    def block_partner(self) -> None:
        """The partner of the call now, or else of the last call (the engine knows which)."""
        if (engine := self._engine()) is not None:
            self._spawn(engine.block_partner())

    def reported(self, session: str | None) -> None:
        self._reported = session

    def rename(self, key: str, nickname: str) -> None:
        if (engine := self._engine()) is not None and nickname.strip():
            engine.people.rename(key, nickname.strip())
        self.refresh()

    def forget(self, key: str) -> None:
        if (engine := self._engine()) is not None:
            engine.people.forget(key)
        self.refresh()

    def new_engine(self) -> None:
        """A fresh engine knows no last partner: nothing to block from the lobby; its favourites shown."""
        self._on_blockable(False)
        self.refresh()

    def refresh(self) -> None:
        """Tell the window the favourites and the blocked count as they are now."""
        engine = self._engine()
        if engine is None:
            self._on_people([], 0)
        else:
            self._on_people(list(engine.people.favourites()), engine.people.blocked_count())

    # --- the real engine's events --------------------------------------------------------------
    def on_event(self, event: Any) -> None:
        match event:
            case ev.Matched():
                self._on_blockable(event.avoidable)  # "never again" for this partner, in the call and after
            case ev.FavouriteSaved():
                self._notify(Notice("favourite", messages.NOTICE_FAVOURITE_SAVED.format(nickname=event.nickname),
                                    "info", timeout=10))
                self.refresh()
            case ev.PartnerBlocked() if event.blocked:
                self._on_blockable(False)
                if event.session != self._reported:  # the report's notice said so already
                    self._notify(Notice("block", event.message, "info", timeout=8))
                self.refresh()  # a blocked favourite is a favourite no more
            case ev.PartnerBlocked():  # the engine's sentence says why not
                self._notify(Notice("block", event.message, "warning", timeout=10))
