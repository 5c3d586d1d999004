"""What the engine does because of a move of the session model (client/session.py).

Plain data, kept apart from the model's table so each reads on its own.
"""

from __future__ import annotations

from dataclasses import dataclass

from server.core import protocol as p


@dataclass(frozen=True, slots=True)
class Send:
    message: p.ClientMessage


@dataclass(frozen=True, slots=True)
class EndCall:
    """Tear down the call of `session` (the model has left it already)."""

    session: str
    reason: str | None = None  # the partner's reason, when the partner ended it


@dataclass(frozen=True, slots=True)
class FindAgain:
    """"Next" with no call on: the find intent again (with the engine's camera check)."""


@dataclass(frozen=True, slots=True)
class Farewell:
    """A call ended while the server was away: resume `ticket`, then say `message` about `session`."""

    ticket: str
    session: str
    message: p.Leave | p.Skip | p.Report


Effect = Send | EndCall | FindAgain
