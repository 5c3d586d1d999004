"""The client's session model: where the client is, what the person wants, and what follows.

No Qt, no aiortc, no asyncio (the time comes in as an argument). Intents of
the person (find, cancel, skip, leave, report) and what the server says
(queued, matched, partner left, idle, a lost connection) go in; out come the
effects for the engine to apply (`Send` a message, `EndCall` to tear the
call down, `FindAgain`), and every subscriber hears each `Change`.

The whole client state is here, so nothing outside keeps a parallel flag:
`state` (which moves are legal: every one is in `TRANSITIONS`, anything else
raises `InvalidStateError` naming the state, like aiortc's
RTCPeerConnection) and `searching`, the wish to be in the queue, which a
reconnect or a change of mode sends to the server again.

Two rules shape the table:
- Intents that end a call (skip, leave, report) change the state at once, so
  the engine can tear the peer connection down without waiting for the server.
- Queue changes follow the server's answers (`queued`, `idle`), because only
  the server knows whether a `matched` crossed our `cancel`.

The engine (client/engine.py) owns one, fed by the server and moved by the
person's intents at once; the window's controller (client/ui/controller.py)
subscribes to the model of the engine on screen and shows the page that its
state, its wish and the cause of each `Change` make (client/ui/pages.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from server.core import protocol as p


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
NO_SESSION = frozenset({S.IDLE, S.QUEUED, *AFTER_CALL})

TRANSITIONS: dict[tuple[CallState, Trigger], CallState] = {
    **{(s, T.QUEUED): S.QUEUED for s in NO_SESSION},
    # A match is legal wherever no session is; whether to take it is the wish's
    # business (`accepts_match`). The window hears its engine's `matched` without
    # the `queued` before it when the engine's search began before the window's.
    **{(s, T.MATCHED): S.MATCHED for s in NO_SESSION},
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
    **{(s, T.LOST): S.IDLE for s in NO_SESSION},
}


class Intent(Enum):
    """The person's moves, as a `Change` names its cause (None: the server, the connection or the engine)."""

    FIND = "find"
    CANCEL = "cancel"
    SKIP = "skip"
    LEAVE = "leave"
    REPORT = "report"


class InvalidStateError(Exception):
    """A trigger that is not legal in the current state."""

    def __init__(self, state: CallState, trigger: Trigger) -> None:
        super().__init__(f"cannot handle {trigger.value!r} in state {state.name}")
        self.state = state
        self.trigger = trigger


@dataclass(frozen=True, slots=True)
class Change:
    """One move of the model, as its subscribers hear it."""

    before: CallState
    after: CallState
    ended_session: str | None  # the session this move ended, if any
    searching: bool  # the wish to be in the queue, after the move
    trigger: Trigger | None = None  # the table's trigger; None when only the wish moved
    intent: Intent | None = None  # the person's intent behind the move; None when it came by itself


# --- effects: what the engine does because of a move -----------------------------------------


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


Effect = Send | EndCall | FindAgain
Subscriber = Callable[[Change], None]


class ClientSession:
    def __init__(self, mode: str = "video", topic: str | None = None) -> None:
        self.state = CallState.IDLE
        self.searching = False  # the person wants to be in the queue (sent again after a reconnect)
        self.session: str | None = None
        self.initiator = False
        self.matched_at: float | None = None
        self.mode = mode
        self.topic = topic
        self._subscribers: list[Subscriber] = []

    def subscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.append(subscriber)

    def unsubscribe(self, subscriber: Subscriber) -> None:
        """Hear no more moves (a window that shows another engine's model now); unknown: nothing."""
        if subscriber in self._subscribers:
            self._subscribers.remove(subscriber)

    # --- queries ------------------------------------------------------------------------

    def can(self, trigger: Trigger) -> bool:
        return (self.state, trigger) in TRANSITIONS

    def is_current(self, session: str) -> bool:
        """Whether a message about `session` concerns the call we are in now."""
        return self.session is not None and self.session == session

    @property
    def in_session(self) -> bool:
        return self.state in IN_SESSION

    def accepts_match(self) -> bool:
        """A `matched` is taken only while we still want it; else it crossed our cancel."""
        return self.searching and self.state is CallState.QUEUED

    # --- the person's intents -----------------------------------------------------------

    def choose(self, mode: str | None = None, topic: str | None = None) -> None:
        """What to search for next (None keeps it; an empty topic means any)."""
        if mode is not None:
            self.mode = mode
        if topic is not None:
            self.topic = topic or None

    def find(self) -> list[Effect]:
        if self.in_session:
            return []
        self._move(None, searching=True, intent=Intent.FIND)
        return [Send(p.Find(self.mode, self.topic))]

    def cancel(self) -> list[Effect]:
        self._move(None, searching=False, intent=Intent.CANCEL)
        return [] if self.in_session else [Send(p.Cancel())]

    def skip(self) -> list[Effect]:
        if self.in_session:
            session = self._session()
            self._move(Trigger.SKIP, searching=True, intent=Intent.SKIP)
            return [EndCall(session), Send(p.Skip(session))]
        if self.state is CallState.QUEUED:
            return []  # already searching: the place in the queue is kept
        return [FindAgain()]

    def leave(self) -> list[Effect]:
        session = self.session
        effects: list[Effect] = []
        if session is not None and self.in_session:
            effects.append(EndCall(session))
            self._move(Trigger.LEAVE, searching=False, intent=Intent.LEAVE)
        else:
            self._move(None, searching=False, intent=Intent.LEAVE)
        return [*effects, Send(p.Leave(session))]

    def report(self, reason: str) -> list[Effect]:
        if not self.in_session:
            return []
        session = self._session()
        self._move(Trigger.LEAVE, searching=False, intent=Intent.REPORT)
        return [EndCall(session), Send(p.Report(session, reason[: p.MAX_REASON_CHARS]))]

    def set_mode(self, mode: str) -> list[Effect]:
        """The mode changed under a search (a camera lost or back): the server is told at once."""
        self.mode = mode
        if self.searching and self.state is CallState.QUEUED:
            return [Send(p.Find(mode, self.topic))]
        return []

    # --- the server and the connection --------------------------------------------------

    def restate(self) -> list[Effect]:
        """The wish as it stands, for the server: after a reconnect, or once the engine's camera check is done."""
        if self.searching and not self.in_session:
            return [Send(p.Find(self.mode, self.topic))]
        return []

    def on_welcome(self) -> list[Effect]:
        return self.restate()

    def on_queued(self) -> None:
        self._move(Trigger.QUEUED)

    def on_matched(self, session: str, initiator: bool, now: float) -> None:
        self._move(Trigger.MATCHED, searching=False, session=session, initiator=initiator, now=now)

    def connecting(self) -> None:
        self._move(Trigger.CONNECT)

    def media_up(self) -> None:
        if self.can(Trigger.MEDIA_UP):
            self._move(Trigger.MEDIA_UP)

    def on_partner_left(self, session: str, reason: str) -> list[Effect]:
        """The partner ended `session`; a stale one changes nothing. Searching again is the window's choice."""
        if not (self.in_session and self.is_current(session)):
            return []
        self._move(Trigger.PARTNER_LEFT, searching=False)
        return [EndCall(session, reason)]

    def on_idle(self) -> list[Effect]:
        return self._end_or_move(Trigger.IDLE, searching=False)

    def on_lost(self) -> list[Effect]:
        return self._end_or_move(Trigger.LOST)

    # --- moves --------------------------------------------------------------------------

    def fire(
        self, trigger: Trigger, *, session: str | None = None, initiator: bool = False, now: float = 0.0
    ) -> Change:
        """One move of the table; `session`/`initiator`/`now` matter only for MATCHED."""
        return self._move(trigger, session=session, initiator=initiator, now=now)

    def _end_or_move(self, trigger: Trigger, searching: bool | None = None) -> list[Effect]:
        ended = self._move(trigger, searching=searching).ended_session
        return [EndCall(ended)] if ended is not None else []

    def _session(self) -> str:
        assert self.session is not None, self.state
        return self.session

    def _move(
        self,
        trigger: Trigger | None,
        *,
        searching: bool | None = None,
        session: str | None = None,
        initiator: bool = False,
        now: float = 0.0,
        intent: Intent | None = None,
    ) -> Change:
        """Apply one move (a table trigger and/or a new wish) and tell every subscriber, once."""
        before, ended = self.state, None
        after = before
        if trigger is not None:
            found = TRANSITIONS.get((before, trigger))
            if found is None:
                raise InvalidStateError(before, trigger)
            if trigger is Trigger.MATCHED and session is None:
                raise ValueError("MATCHED needs the session id")
            after = found
            if before in IN_SESSION and after not in IN_SESSION:
                ended = self.session
                self.session, self.initiator, self.matched_at = None, False, None
            if trigger is Trigger.MATCHED:
                self.session, self.initiator, self.matched_at = session, initiator, now
            self.state = after
        if searching is not None:
            self.searching = searching
        change = Change(before, after, ended, self.searching, trigger, intent)
        for subscriber in list(self._subscribers):
            subscriber(change)
        return change
