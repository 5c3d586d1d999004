"""The window's three pages, read off the window's session model (client/session.py).

A call on (matched, connecting, in a call) shows the call; otherwise the wish
to be in the queue shows the search, and no wish the lobby. A call that ended
by itself (the connection lost, a report) keeps the call page until the person
moves on: the window's model hears only what the person does and what changes
the page (the controller's `_handle`).
"""

from __future__ import annotations

from enum import Enum

from client.session import ClientSession


class Page(Enum):
    LOBBY = "lobby"
    SEARCHING = "searching"
    CALL = "call"

    @classmethod
    def of(cls, model: ClientSession) -> Page:
        if model.in_session:
            return cls.CALL
        return cls.SEARCHING if model.searching else cls.LOBBY
