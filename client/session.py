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

Resuming (docs/protocol.md, "Resuming after a dropped socket"): the model
keeps the last ticket the server gave (`ticket`). A lost connection with a
session ticket keeps the session (`AWAY`: the call goes on peer to peer); with
a queue ticket the wish stays and the place in line is asked back. The next
`welcome` then sends `resume` first. A call the person ends while the
connection is down is ended here at once, and its `Farewell` (leave, skip or
report) is owed to the server: resumed, then said, so the partner is told at
once rather than after the grace period.

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

from .sessioneffects import Effect, EndCall, Farewell, FindAgain, Send


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
    AWAY = "away"  # the signaling connection dropped, and a ticket keeps our place in the session


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
    # The call goes on peer to peer while the engine resumes its session on a new connection.
    **{(s, T.AWAY): s for s in IN_SESSION},
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
        self.length: int | None = None  # the session length wished for (minutes); None: open
        self.talk: str | None = None  # "talk" | "quiet"; None: either
        # Non-empty: the search is for a favourite only, by these rendezvous tokens (docs/protocol.md,
        # "Coming back"); sent with every find until a match, a cancel or the engine's fallback.
        self.favourites: tuple[str, ...] = ()
        self.ticket: str | None = None  # the last resume ticket: of the session, or of the place in line
        self.online = False  # between welcome and a lost connection
        self.resuming = False  # a `resume` is on its way; its answer settles it
        self.farewell: Farewell | None = None
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

    def choose_study(self, length: int | None, talk: str | None) -> None:
        """The session terms to search with next (docs/protocol.md, "Study sessions")."""
        self.length, self.talk = length, talk

    def find(self, favourites: tuple[str, ...] = ()) -> list[Effect]:
        """Search (for a favourite only, when `favourites` holds rendezvous tokens)."""
        if self.in_session:
            return []
        self.favourites = favourites
        self._move(None, searching=True, intent=Intent.FIND)
        return [Send(self._find())]

    def _find(self) -> p.Find:
        return p.Find(self.mode, self.topic, self.length, self.talk, favourites=self.favourites)

    def any_partner(self) -> list[Effect]:
        """A search for a favourite becomes a search for anyone (no favourite came in time)."""
        if not self.favourites:
            return []
        self.favourites = ()
        return self.restate()

    def cancel(self) -> list[Effect]:
        self.favourites = ()
        self._move(None, searching=False, intent=Intent.CANCEL)
        if self.in_session:
            return []
        self.ticket = None  # a place in line given up is not asked back after a reconnect
        return [Send(p.Cancel())]

    def skip(self) -> list[Effect]:
        if self.in_session:
            session = self._session()
            self._owe(session, p.Skip(session))
            self._move(Trigger.SKIP, searching=True, intent=Intent.SKIP)
            return [EndCall(session), Send(p.Skip(session))]
        if self.state is CallState.QUEUED:
            return []  # already searching: the place in the queue is kept
        return [FindAgain()]

    def leave(self) -> list[Effect]:
        session = self.session
        effects: list[Effect] = []
        if session is not None and self.in_session:
            self._owe(session, p.Leave(session))
            effects.append(EndCall(session))
            self._move(Trigger.LEAVE, searching=False, intent=Intent.LEAVE)
        else:
            self._move(None, searching=False, intent=Intent.LEAVE)
        return [*effects, Send(p.Leave(session))]

    def report(self, reason: str) -> list[Effect]:
        if not self.in_session:
            return []
        session = self._session()
        report = p.Report(session, reason[: p.MAX_REASON_CHARS])
        self._owe(session, report)
        self._move(Trigger.LEAVE, searching=False, intent=Intent.REPORT)
        return [EndCall(session), Send(report)]

    def _owe(self, session: str, message: p.Leave | p.Skip | p.Report) -> None:
        """The person ends the call: said at once when connected, else owed to the server."""
        if not self.online and self.ticket is not None:
            self.farewell = Farewell(self.ticket, session, message)
        self.ticket = None

    def set_mode(self, mode: str) -> list[Effect]:
        """The mode changed under a search (a camera lost or back): the server is told at once."""
        self.mode = mode
        if self.searching and self.state is CallState.QUEUED:
            return [Send(self._find())]
        return []

    # --- the server and the connection --------------------------------------------------

    def restate(self) -> list[Effect]:
        """The wish as it stands, for the server: after a reconnect, or once the engine's camera check is done."""
        if self.searching and not self.in_session:
            return [Send(self._find())]
        return []

    def on_welcome(self) -> list[Effect]:
        """Connected: `resume` first when a ticket keeps our place (it must be the first request), else the wish."""
        self.online, self.resuming = True, False
        ticket = self.farewell.ticket if self.farewell is not None else self.ticket
        if ticket is not None and (self.farewell is not None or self.in_session or self.searching):
            self.resuming = True
            return [Send(p.Resume(ticket))]
        self.ticket = None
        return self.restate()

    def on_queued(self, ticket: str | None = None) -> None:
        self.resuming = False
        self.ticket = ticket
        self._move(Trigger.QUEUED)

    def on_matched(self, session: str, initiator: bool, now: float, ticket: str | None = None) -> None:
        self.ticket = ticket
        self.favourites = ()
        self._move(Trigger.MATCHED, searching=False, session=session, initiator=initiator, now=now)

    def on_ticket(self, ticket: str) -> None:
        """A fresh ticket for where we are, before the last one expires."""
        if self.ticket is not None:
            self.ticket = ticket

    def on_resumed(self, session: str, ticket: str | None) -> list[Effect]:
        """Back in `session`: the call goes on, or, ended meanwhile, its farewell is said now."""
        self.resuming = False
        farewell, self.farewell = self.farewell, None
        if self.in_session and self.is_current(session):
            self.ticket = ticket
            return []
        if farewell is None or farewell.session != session:
            return [Send(p.Leave(session))]  # a session we no longer want: the partner is told at once
        message = farewell.message
        if isinstance(message, p.Skip) and not self.searching:  # "Next", then cancelled: leave, no search
            message = p.Leave(session)
        if isinstance(message, p.Skip):
            return [Send(message)]  # the server puts us back in line itself
        return [Send(message), *self.restate()]

    def connecting(self) -> None:
        self._move(Trigger.CONNECT)

    def media_up(self) -> None:
        if self.can(Trigger.MEDIA_UP):
            self._move(Trigger.MEDIA_UP)

    def on_partner_left(self, session: str, reason: str) -> list[Effect]:
        """The partner ended `session`; a stale one changes nothing. Searching again is the window's choice."""
        self.resuming = False
        if self.farewell is not None and self.farewell.session == session:
            self.farewell = None  # the answer to resuming a call ended meanwhile: nothing left to say
            return self.restate()
        if not (self.in_session and self.is_current(session)):
            return []
        self.ticket = None
        self._move(Trigger.PARTNER_LEFT, searching=False)
        return [EndCall(session, reason)]

    def on_bad_ticket(self) -> list[Effect]:
        """The server refused our ticket: a session cannot be resumed (it ends); a place in line is searched anew."""
        if not self.resuming:
            return []
        self.resuming, self.ticket, self.farewell = False, None, None
        if self.in_session:
            session = self._session()
            self._move(Trigger.PARTNER_LEFT, searching=False)
            return [EndCall(session, "timeout")]
        return self.restate()

    def on_replaced(self, session: str) -> list[Effect]:
        """Another connection took our session with our ticket: ended here, and not resumed."""
        self.ticket, self.farewell, self.resuming = None, None, False
        if not (self.in_session and self.is_current(session)):
            return []
        return self._end_or_move(Trigger.LOST)

    def on_idle(self) -> list[Effect]:
        self.resuming, self.ticket, self.farewell = False, None, None
        return self._end_or_move(Trigger.IDLE, searching=False)

    def on_lost(self) -> list[Effect]:
        """The connection dropped: a session ticket keeps the call; a queue ticket, the place in line."""
        self.online, self.resuming = False, False
        if self.in_session and self.ticket is not None:
            self._move(Trigger.AWAY)
            return []
        if not self.searching:
            self.ticket = None
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
