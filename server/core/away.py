"""What the matchmaking core remembers for clients that may come back with a ticket.

Pure, like the core that holds it (`server/core/matchmaking.py`): the time is
an argument. Three things, each with an end:

- an *away side*: one side of a session whose socket dropped, kept until
  its grace period runs out, with the signals its partner sent meanwhile
  (at most `KEPT_SIGNALS`; the oldest go first);
- a *tombstone*: how a session ended, so a ticket for it gets `partner_left`
  instead of rebuilding it, kept as long as a ticket for it can be valid;
- a *spent nonce*: a queue ticket that resumed once, kept as long.

docs/protocol.md, "Resuming after a dropped socket", is the contract.
"""

from __future__ import annotations

import heapq
from collections import deque
from dataclasses import dataclass, field
from typing import Final

from server.core import protocol as p
from server.core.rules import Wish

KEPT_SIGNALS: Final = 16


@dataclass(slots=True)
class AwaySide:
    session: str
    deadline: float
    wish: Wish  # for the partner's `resumed` while this side is away
    kept: deque[p.Signal] = field(default_factory=lambda: deque(maxlen=KEPT_SIGNALS))


class AwayBook:
    """Away sides, tombstones and spent nonces, each forgotten when its time is up."""

    def __init__(self, grace: float, remember: float) -> None:
        self.grace = grace  # how long an away side is kept
        self.remember = remember  # how long a ticket can be valid: tombstones and nonces last that long
        self.sides: dict[str, AwaySide] = {}
        self._deadlines: list[tuple[float, str]] = []  # heap of (deadline, side)
        self._overdue: set[str] = set()  # past their deadline, waiting for an away partner's
        self._tombstones: dict[str, str] = {}  # session -> the reason it ended
        self._spent: set[str] = set()
        # (until, session or nonce), in the order they were added: `remember` is one constant
        # and the time only goes forward, so the oldest is always first.
        self._tombstone_ends: deque[tuple[float, str]] = deque()
        self._spent_ends: deque[tuple[float, str]] = deque()

    # --- away sides ------------------------------------------------------------------

    def hold(self, side: str, session: str, wish: Wish, now: float) -> None:
        deadline = now + self.grace
        self.sides[side] = AwaySide(session, deadline, wish)
        heapq.heappush(self._deadlines, (deadline, side))

    def keep(self, side: str, message: p.Signal) -> bool:
        """Keep a signal for an away side; False when the side is not away (deliver it)."""
        away = self.sides.get(side)
        if away is None:
            return False
        away.kept.append(message)
        return True

    def take(self, side: str) -> AwaySide | None:
        """The side is back (or its session ended): forget it, and hand over what was kept."""
        return self.sides.pop(side, None)

    def due(self, now: float) -> list[str]:
        """Away sides whose grace ran out by `now`: new ones, and those `defer`red before."""
        out = [side for side in self._overdue if side in self.sides]
        self._overdue.clear()
        while self._deadlines and self._deadlines[0][0] <= now:
            deadline, side = heapq.heappop(self._deadlines)
            away = self.sides.get(side)
            if away is not None and away.deadline == deadline:
                out.append(side)
        return out

    def defer(self, side: str) -> None:
        """Its grace ran out, but its session waits for an away partner: ask again next time."""
        self._overdue.add(side)

    def is_away(self, side: str) -> bool:
        return side in self.sides

    def away_until(self, side: str) -> float | None:
        away = self.sides.get(side)
        return None if away is None else away.deadline

    # --- ended sessions and spent tickets --------------------------------------------------

    def bury(self, session: str, reason: str, now: float) -> None:
        self._tombstones[session] = reason
        self._tombstone_ends.append((now + self.remember, session))

    def tombstone(self, session: str) -> str | None:
        return self._tombstones.get(session)

    def spend(self, nonce: str, now: float) -> bool:
        """Mark a queue ticket's nonce used; False if it was already."""
        if nonce in self._spent:
            return False
        self._spent.add(nonce)
        self._spent_ends.append((now + self.remember, nonce))
        return True

    def forget(self, now: float) -> None:
        """Drop tombstones and nonces no valid ticket can name any more."""
        ends = self._tombstone_ends
        while ends and ends[0][0] <= now:
            self._tombstones.pop(ends.popleft()[1], None)
        ends = self._spent_ends
        while ends and ends[0][0] <= now:
            self._spent.discard(ends.popleft()[1])

    def remembered(self) -> int:
        """Tombstones and spent nonces held (for tests: they must not grow forever)."""
        return len(self._tombstones) + len(self._spent)
