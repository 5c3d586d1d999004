"""Where each client of the matchmaking core is, and the sessions it made (pure data).

`server/core/matchmaking.py` holds these and decides every change to them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from enum import Enum

from server.core.rules import Terms, Wish
from server.core.waiting import OrderKey


class Where(Enum):
    IDLE = "idle"
    QUEUED = "queued"
    IN_SESSION = "in_session"


@dataclass(slots=True)
class Client:
    id: str
    where: Where = Where.IDLE
    wish: Wish | None = None  # the last find's mode, topic, length and talk
    queued_at: float = 0.0
    seq: int = 0  # arrival order among waiters; with `queued_at`, the place in line
    session: str | None = None
    resumable: bool = False  # has tickets: its ended sessions are remembered (tombstones)
    install: str | None = None  # its installation's pseudonym (hello `install`), if it said one
    # Installations it avoids, oldest first (a dict: ordered, and a set's lookups).
    avoid: dict[str, None] = field(default_factory=dict)

    @property
    def order(self) -> OrderKey:
        return (self.queued_at, self.seq)


@dataclass(frozen=True, slots=True)
class Session:
    id: str
    initiator: str
    responder: str
    started: float
    terms: Terms
    # Each side's installation pseudonym, (initiator's, responder's): `partner.avoid` of `resumed`.
    installs: tuple[str | None, str | None] = (None, None)

    def partner_of(self, client_id: str) -> str:
        return self.responder if client_id == self.initiator else self.initiator

    def taken_over(self, side: str, by: str, install: str | None = None) -> Session:
        """The same session with `side` resumed by the connection `by` (of installation `install`)."""
        if side == self.initiator:
            return dataclasses.replace(self, initiator=by, installs=(install, self.installs[1]))
        return dataclasses.replace(self, responder=by, installs=(self.installs[0], install))

    def install_of(self, client_id: str) -> str | None:
        return self.installs[0] if client_id == self.initiator else self.installs[1]


