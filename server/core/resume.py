"""What a valid resume ticket claims, once its signature and expiry are checked.

The shell (server/ws/) verifies a ticket (server/core/tickets.py) and hands the
backend one of these; the backend decides, atomically, whether the claim still
holds (docs/protocol.md, "Resuming after a dropped socket"). Pure data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

from server.core.rules import Terms


@dataclass(frozen=True, slots=True)
class SessionClaim:
    """One side of a session, as its last ticket described it."""

    session: str
    initiator: bool
    # This side's resumes so far: `matched` gives epoch 0, each `resumed` the next one.
    # A ticket of another epoch than the side's present one is spent.
    epoch: int
    mode: str  # this side's wish, for `resumed` and to rebuild the session
    topic: str | None
    partner_mode: str
    partner_topic: str | None
    abuse_key: str  # the key reports about this client follow
    # The session's agreed study terms (length, talk, started_at ms), to rebuild it as it was.
    terms: Terms | None = None


@dataclass(frozen=True, slots=True)
class QueueClaim:
    """A place in line, as the last `queued` ticket described it."""

    mode: str
    topic: str | None
    waited: float  # seconds in line before the drop: the place kept is that old
    nonce: str  # each queue ticket resumes once
    expires: float  # Unix time the ticket expires: its nonce need not be remembered longer
    abuse_key: str
    length: int | None = None  # the study wish the place was for
    talk: str | None = None


Claim: TypeAlias = SessionClaim | QueueClaim
