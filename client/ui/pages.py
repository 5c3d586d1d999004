"""The window's three pages, read off the session model of the engine on screen (client/session.py).

A call on (matched, connecting, in a call) shows the call; otherwise the wish
to be in the queue shows the search, and no wish the lobby.

The page moves with the person's moves and with a match, never by itself: a
call that ended by itself (the connection lost, the server's idle) or by a
report stays on screen until the person moves on, and when the partner leaves
it stays until the window has said so (client/ui/controller.py `_partner_left`
then searches again, or shows the lobby with a notice).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from enum import Enum

from client.session import Change, ClientSession, Intent, Subscriber, Trigger

# The person's moves that change the page; a report ends the call but leaves it on screen.
_MOVES_ON = frozenset({Intent.FIND, Intent.CANCEL, Intent.SKIP, Intent.LEAVE})


class Page(Enum):
    LOBBY = "lobby"
    SEARCHING = "searching"
    CALL = "call"

    @classmethod
    def of(cls, model: ClientSession) -> Page:
        if model.in_session:
            return cls.CALL
        return cls.SEARCHING if model.searching else cls.LOBBY

    def after(self, change: Change, model: ClientSession) -> Page:
        """The page after `change` of `model` (the one on screen), this page showing before it."""
        if change.intent in _MOVES_ON or change.trigger is Trigger.MATCHED:
            return Page.of(model)
        return self


class Screen:
    """The page of the window, following one session model at a time: the active engine's.

    `follow` moves to another model (a new engine, a test call starting or
    ending): the old one is heard no more, and the page is the new one's.
    """

    def __init__(self, on_page: Callable[[Page], None]) -> None:
        self.page = Page.LOBBY
        self.asked = False  # the person has moved since the window opened (any model): a reconnect is news
        self._model: ClientSession | None = None
        self._heard: Subscriber | None = None
        self._on_page = on_page

    def follow(self, model: ClientSession | None) -> None:
        """Show `model` (None: none while engines change; the page stays)."""
        if self._model is not None and self._heard is not None:
            self._model.unsubscribe(self._heard)
        self._model, self._heard = model, None
        if model is not None:
            self._heard = functools.partial(self._changed, model)
            model.subscribe(self._heard)
            self.show_model()

    def show_model(self) -> None:
        """The page the model makes, whatever the page kept until now (the window has said why)."""
        if self._model is not None:
            self._show(Page.of(self._model))

    def _changed(self, model: ClientSession, change: Change) -> None:
        self.asked = self.asked or change.intent is not None
        self._show(self.page.after(change, model))

    def _show(self, page: Page) -> None:
        if page is not self.page:
            self.page = page
            self._on_page(page)
