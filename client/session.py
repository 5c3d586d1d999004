"""The call state machine: which state the client is in and what may happen next.

No Qt, no aiortc, no asyncio: the engine feeds it triggers (intents of the
user and messages of the server) and acts on the state it enters. Every legal
move is in `TRANSITIONS`; anything else raises `InvalidStateError` naming the
current state, like aiortc's RTCPeerConnection does.

Two rules shape the table:
- Intents that end a call (skip, leave, report) change the state at once, so
  the engine can tear the peer connection down without waiting for the server.
- Queue changes follow the server's answers (`queued`, `idle`), because only
  the server knows whether a `matched` crossed our `cancel`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class CallState(Enum):
    IDLE = "idle"
    QUEUED = "queued"
    MATCHED = "matched"
    CONNECTING = "connecting"
    IN_CALL = "in_call"
    PARTNER_LEFT = "partner_left"
    SKIPPED = "skipped"
    ENDED = "ended"


class Trigger(Enum):
    QUEUED = "queued"  # server: you are waiting
    MATCHED = "matched"  # server: you are paired
    CONNECT = "connect"  # engine: the peer connection is being negotiated
    MEDIA_UP = "media_up"  # engine: media flows
    PARTNER_LEFT = "partner_left"  # server: the partner ended the session
    SKIP = "skip"  # user: next partner
    LEAVE = "leave"  # user: end the call (also a report)
    IDLE = "idle"  # server: neither queued nor in a session
    LOST = "lost"  # the signaling connection dropped


S, T = CallState, Trigger

# The states in which a session (and a peer connection) exists.
IN_SESSION = frozenset({S.MATCHED, S.CONNECTING, S.IN_CALL})
# After a call: the window still shows what happened until the next search.
AFTER_CALL = frozenset({S.PARTNER_LEFT, S.SKIPPED, S.ENDED})

TRANSITIONS: dict[tuple[CallState, Trigger], CallState] = {
    **{(s, T.QUEUED): S.QUEUED for s in (S.IDLE, S.QUEUED, *AFTER_CALL)},
    (S.QUEUED, T.MATCHED): S.MATCHED,
    (S.MATCHED, T.CONNECT): S.CONNECTING,
    (S.CONNECTING, T.MEDIA_UP): S.IN_CALL,
    **{(s, T.PARTNER_LEFT): S.PARTNER_LEFT for s in IN_SESSION},
    **{(s, T.SKIP): S.SKIPPED for s in IN_SESSION},
    # Skipping while searching keeps the place in the queue (the server does the same).
    (S.QUEUED, T.SKIP): S.QUEUED,
    **{(s, T.LEAVE): S.ENDED for s in IN_SESSION},
    # `idle` can cross a match (leave raced with matched): it ends that session too.
    **{(s, T.IDLE): S.IDLE for s in S},
    **{(s, T.LOST): S.ENDED for s in IN_SESSION},
    **{(s, T.LOST): S.IDLE for s in (S.IDLE, S.QUEUED, *AFTER_CALL)},
}


class InvalidStateError(Exception):
    """A trigger that is not legal in the current state."""

    def __init__(self, state: CallState, trigger: Trigger) -> None:
        super().__init__(f"cannot handle {trigger.value!r} in state {state.name}")
        self.state = state
        self.trigger = trigger


@dataclass(frozen=True, slots=True)
class Transition:
    before: CallState
    after: CallState
    ended_session: str | None  # the session this transition ended, if any


class CallMachine:
    """The current state plus the session it belongs to (for stale-message checks)."""

    def __init__(self) -> None:
        self.state = CallState.IDLE
        self.session: str | None = None
        self.initiator = False
        self.matched_at: float | None = None

    def can(self, trigger: Trigger) -> bool:
        return (self.state, trigger) in TRANSITIONS

    def fire(
        self, trigger: Trigger, *, session: str | None = None, initiator: bool = False, now: float = 0.0
    ) -> Transition:
        """Move to the next state; `session`/`initiator`/`now` matter only for MATCHED."""
        after = TRANSITIONS.get((self.state, trigger))
        if after is None:
            raise InvalidStateError(self.state, trigger)
        if trigger is Trigger.MATCHED and session is None:
            raise ValueError("MATCHED needs the session id")
        before, ended = self.state, None
        if before in IN_SESSION and after not in IN_SESSION:
            ended = self.session
            self.session, self.initiator, self.matched_at = None, False, None
        if trigger is Trigger.MATCHED:
            self.session, self.initiator, self.matched_at = session, initiator, now
        self.state = after
        return Transition(before, after, ended)

    def is_current(self, session: str) -> bool:
        """Whether a message about `session` concerns the call we are in now."""
        return self.session is not None and self.session == session

    @property
    def in_session(self) -> bool:
        return self.state in IN_SESSION
