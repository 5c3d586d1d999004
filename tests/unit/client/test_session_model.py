"""The client's session model (client/session.py): intents and server messages in, effects out.

Hypothesis drives random sequences of everything that can happen to a client
(the person's intents, the server's answers, a lost connection) through the
model and checks after every step what the engine and the window rely on: a
session exists exactly while a call is on, the wish to be queued never
outlives a match, every move is heard once and names its cause (the person's
intent, or none), a call is torn down exactly when its session ends, and
illegal moves raise naming the state. The table itself is written out by hand
in test_call_state.py.
"""

from __future__ import annotations

import itertools

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from client.session import (
    IN_SESSION,
    CallState,
    Change,
    ClientSession,
    Effect,
    EndCall,
    FindAgain,
    Intent,
    InvalidStateError,
    Send,
    Trigger,
)
from client.ui.pages import Page
from server.core import protocol as p

S = CallState
INTENTS = {"find": Intent.FIND, "cancel": Intent.CANCEL, "skip": Intent.SKIP, "leave": Intent.LEAVE,
           "report": Intent.REPORT}


class SessionMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.model = ClientSession("video", None)
        self.heard: list[Change] = []
        self.model.subscribe(self.heard.append)
        self.ids = (f"s{i}" for i in itertools.count())
        self.tickets = (f"t{i}" for i in itertools.count())

    # --- helpers ----------------------------------------------------------------

    def step(self, move: str, *args: object, **kwargs: object) -> tuple[CallState, str | None, list[Effect]]:
        """Run one method of the model; returns the state and session before, and the effects."""
        before, session, heard = self.model.state, self.model.session, len(self.heard)
        effects = getattr(self.model, move)(*args, **kwargs) or []
        moved = self.heard[heard:]
        assert len(moved) <= 1, moved  # one move, heard once
        if moved:
            assert moved[0].before is before and moved[0].after is self.model.state
            assert moved[0].searching is self.model.searching
            # The window tells the person's moves from those that came by themselves (client/ui/pages.py).
            assert moved[0].intent is INTENTS.get(move), (move, moved[0])
            assert (moved[0].trigger is None) is (move in INTENTS and before is self.model.state)
        ended = [e for e in effects if isinstance(e, EndCall)]
        left_session = before in IN_SESSION and not self.model.in_session
        # The engine tears a call down exactly when its session ends, and names that session.
        if ended:
            assert left_session and [e.session for e in ended] == [session]
        elif move not in ("on_queued", "on_matched", "connecting", "media_up"):
            assert not left_session, (move, before, self.model.state)
        return before, session, effects

    # --- the person's intents -------------------------------------------------------

    @rule(mode=st.sampled_from([None, *p.MODES]), topic=st.sampled_from([None, "", "maths"]))
    def find(self, mode: str | None, topic: str | None) -> None:
        self.model.choose(mode, topic)
        before, _, effects = self.step("find")
        if before in IN_SESSION:
            assert effects == [] and not self.model.searching
        else:
            assert effects == [Send(p.Find(self.model.mode, self.model.topic))] and self.model.searching

    @rule()
    def cancel(self) -> None:
        before, _, effects = self.step("cancel")
        assert not self.model.searching
        assert effects == ([] if before in IN_SESSION else [Send(p.Cancel())])

    @rule()
    def skip(self) -> None:
        searching = self.model.searching
        before, session, effects = self.step("skip")
        if before in IN_SESSION:
            assert session is not None
            assert effects == [EndCall(session), Send(p.Skip(session))]
            assert self.model.state is S.SKIPPED and self.model.searching
        elif before is S.QUEUED:
            assert effects == [] and self.model.searching is searching  # the place is kept
        else:
            assert effects == [FindAgain()]

    @rule()
    def leave(self) -> None:
        before, session, effects = self.step("leave")
        assert effects[-1] == Send(p.Leave(session)) and not self.model.searching
        assert self.model.state is (S.ENDED if before in IN_SESSION else before)

    @rule(reason=st.sampled_from(["spam", "x" * (p.MAX_REASON_CHARS + 5)]))
    def report(self, reason: str) -> None:
        before, session, effects = self.step("report", reason)
        if before in IN_SESSION:
            assert session is not None
            assert effects == [EndCall(session), Send(p.Report(session, reason[: p.MAX_REASON_CHARS]))]
            assert self.model.state is S.ENDED and not self.model.searching
        else:
            assert effects == []

    @rule(mode=st.sampled_from(p.MODES))
    def set_mode(self, mode: str) -> None:
        queued_and_searching = self.model.searching and self.model.state is S.QUEUED
        _, _, effects = self.step("set_mode", mode)
        assert effects == ([Send(p.Find(mode, self.model.topic))] if queued_and_searching else [])

    # --- the server and the connection ------------------------------------------------

    @rule()
    def welcome(self) -> None:
        wants = self.model.searching and not self.model.in_session
        farewell, ticket = self.model.farewell, self.model.ticket
        place = ticket is not None and (self.model.in_session or self.model.searching)
        _, _, effects = self.step("on_welcome")
        if farewell is not None:  # a call ended while away: resumed first, to be said
            assert effects == [Send(p.Resume(farewell.ticket))] and self.model.resuming
        elif ticket is not None and place:  # resume is the first request, before any find
            assert effects == [Send(p.Resume(ticket))] and self.model.resuming
        else:
            assert effects == ([Send(p.Find(self.model.mode, self.model.topic))] if wants else [])
            assert not self.model.resuming and self.model.ticket is None

    @rule(ticketed=st.booleans())
    def queued(self, ticketed: bool) -> None:
        self.legal_or_named("on_queued", next(self.tickets) if ticketed else None)
        assert self.model.in_session or self.model.state is S.QUEUED

    @rule(initiator=st.booleans(), now=st.floats(0, 1e6), ticketed=st.booleans())
    def matched(self, initiator: bool, now: float, ticketed: bool) -> None:
        if not self.model.accepts_match():
            # The engine refuses (its cancel crossed the match); nothing moves.
            assert not (self.model.searching and self.model.state is S.QUEUED)
            return
        session = next(self.ids)
        ticket = next(self.tickets) if ticketed else None
        self.step("on_matched", session, initiator, now, ticket)
        assert self.model.ticket == ticket
        assert self.model.state is S.MATCHED and not self.model.searching
        assert (self.model.session, self.model.initiator, self.model.matched_at) == (session, initiator, now)

    @rule()
    def connecting(self) -> None:
        self.legal_or_named("connecting")

    @rule()
    def media_up(self) -> None:
        before = self.model.state
        self.step("media_up")  # only ever after CONNECTING; else nothing happens
        assert self.model.state is (S.IN_CALL if before is S.CONNECTING else before)

    @rule(stale=st.booleans())
    def partner_left(self, stale: bool) -> None:
        session = "old" if stale or self.model.session is None else self.model.session
        before, _, effects = self.step("on_partner_left", session, "left")
        if before in IN_SESSION and not stale:
            assert effects == [EndCall(session, "left")]
            assert self.model.state is S.PARTNER_LEFT and not self.model.searching
        else:
            assert effects == [] and self.model.state is before  # a stale message changes nothing

    @rule()
    def idle(self) -> None:
        self.step("on_idle")
        assert self.model.state is S.IDLE and not self.model.searching

    @rule()
    def lost(self) -> None:
        kept = self.model.in_session and self.model.ticket is not None
        before, _, effects = self.step("on_lost")
        if kept:  # the call goes on peer to peer; the session waits to be resumed
            assert self.model.state is before and effects == []
        else:
            assert self.model.state is (S.ENDED if before in IN_SESSION else S.IDLE)
        assert not self.model.online and not self.model.resuming

    @rule(ours=st.booleans())
    def resumed(self, ours: bool) -> None:
        farewell = self.model.farewell
        session = (farewell.session if farewell else self.model.session) if ours else "other"
        if session is None:
            return
        on, ticket = self.model.in_session, next(self.tickets)
        before, _, effects = self.step("on_resumed", session, ticket)
        assert self.model.state is before and self.model.farewell is None and not self.model.resuming
        if on and session == self.model.session:  # back in our call
            assert effects == [] and self.model.ticket == ticket
        elif farewell is not None and session == farewell.session:  # said now, as the person meant it
            (first, *rest) = effects
            assert isinstance(first, Send) and first.message.type in ("leave", "skip", "report")
            assert getattr(first.message, "session", None) == session
            if first.message.type == "skip":
                assert rest == [] and self.model.searching  # the server queues us itself
        else:
            assert effects == [Send(p.Leave(session))]  # a session we no longer want is ended

    @rule()
    def bad_ticket(self) -> None:
        resuming, on = self.model.resuming, self.model.in_session
        session = self.model.session
        before, _, effects = self.step("on_bad_ticket")
        assert not self.model.resuming and (self.model.ticket is None or not resuming)
        if not resuming:
            assert effects == [] and self.model.state is before
        elif on:  # a call cannot go on without its session: ended as a partner who left
            assert effects == [EndCall(str(session), "timeout")] and self.model.state is S.PARTNER_LEFT
        else:  # a place in line refused: searched anew, if still wanted
            assert effects == self.model.restate()

    @rule(stale=st.booleans())
    def replaced(self, stale: bool) -> None:
        session = "old" if stale or self.model.session is None else self.model.session
        before, _, effects = self.step("on_replaced", session)
        assert self.model.ticket is None and self.model.farewell is None  # never resumed again
        if before in IN_SESSION and not stale:
            assert effects == [EndCall(session)] and self.model.state is S.ENDED
        else:
            assert effects == [] and self.model.state is before

    @rule()
    def fresh_ticket(self) -> None:
        had = self.model.ticket
        self.step("on_ticket", "fresh")
        assert self.model.ticket == (None if had is None else "fresh")

    def legal_or_named(self, move: str, *args: object) -> None:
        before = self.model.state
        try:
            self.step(move, *args)
        except InvalidStateError as exc:
            assert exc.state is before and before.name in str(exc) and self.model.state is before

    # --- what must hold after every step ----------------------------------------------

    @invariant()
    def a_session_exactly_while_a_call_is_on(self) -> None:
        assert (self.model.session is not None) is self.model.in_session
        assert (self.model.matched_at is not None) is self.model.in_session

    @invariant()
    def a_farewell_is_never_for_the_call_on(self) -> None:
        farewell = self.model.farewell
        assert farewell is None or not self.model.is_current(farewell.session)

    @invariant()
    def no_wish_to_queue_during_a_call(self) -> None:
        assert not (self.model.in_session and self.model.searching)

    @invariant()
    def the_page_follows_the_model(self) -> None:
        page = Page.of(self.model)
        assert (page is Page.CALL) is self.model.in_session
        assert (page is Page.SEARCHING) is (self.model.searching and not self.model.in_session)


TestSessionMachine = SessionMachine.TestCase
TestSessionMachine.settings = settings(max_examples=300, stateful_step_count=40, deadline=None)


def test_illegal_moves_raise_naming_the_state() -> None:
    model = ClientSession()
    with pytest.raises(InvalidStateError, match="IDLE"):
        model.connecting()
    model.on_queued()
    model.on_matched("s1", True, 1.0)
    with pytest.raises(InvalidStateError, match="MATCHED"):
        model.on_queued()
    assert model.state is S.MATCHED and model.session == "s1"


def test_a_match_is_taken_only_while_wanted() -> None:
    model = ClientSession()
    model.find()
    assert not model.accepts_match()  # not queued yet: the server has not said so
    model.on_queued()
    assert model.accepts_match()
    model.cancel()
    assert not model.accepts_match()  # the cancel crossed the match


def test_a_reconnect_sends_the_search_again_until_it_is_cancelled() -> None:
    model = ClientSession("audio", "maths")
    model.find()
    model.on_queued()
    assert model.on_lost() == [] and model.state is S.IDLE and model.searching
    assert model.on_welcome() == [Send(p.Find("audio", "maths"))]
    model.cancel()
    assert model.on_welcome() == []


def test_the_windows_pages_through_an_evening() -> None:
    """The engine's model through an evening, and the page the window shows after each move."""
    model = ClientSession()
    pages = [Page.of(model)]
    model.subscribe(lambda change: pages.append(pages[-1].after(change, model)))
    model.find()  # the person: Find
    model.on_queued()  # the server: queued
    model.on_matched("a", True, 0.0)  # the server: matched
    model.connecting()
    model.media_up()
    model.skip()  # the person: Next
    model.on_queued()
    model.on_matched("b", False, 0.0)
    model.on_partner_left("b", "left")  # the partner leaves: the call stays until the window says so...
    model.find()  # ...and auto-search finds again
    model.on_queued()
    model.on_matched("c", True, 0.0)
    model.on_lost()  # the connection drops: the ended call stays on screen
    model.on_idle()
    model.leave()  # until the person ends it
    model.find()
    model.on_queued()
    model.on_matched("d", True, 0.0)
    model.report("rude")  # a report ends the call, and leaves it on screen too
    model.on_idle()
    model.cancel()  # any move of the person's goes on from there
    L, F, C = Page.LOBBY, Page.SEARCHING, Page.CALL
    assert pages == [L, F, F, C, C, C, F, F, C, C, F, F, C, C, C, L, F, F, C, C, C, L]


@pytest.mark.parametrize("trigger", [Trigger.LOST, Trigger.IDLE, Trigger.PARTNER_LEFT])
def test_a_call_that_ends_by_itself_keeps_the_call_page(trigger: Trigger) -> None:
    model = ClientSession()
    model.on_matched("a", True, 0.0)
    heard: list[Change] = []
    model.subscribe(heard.append)
    model.fire(trigger)
    (change,) = heard
    assert change.trigger is trigger and change.intent is None and change.ended_session == "a"
    assert Page.of(model) is Page.LOBBY and Page.CALL.after(change, model) is Page.CALL


def test_a_model_heard_no_more_after_unsubscribe() -> None:
    model = ClientSession()
    heard: list[Change] = []
    model.subscribe(heard.append)
    model.find()
    model.unsubscribe(heard.append)
    model.unsubscribe(heard.append)  # twice: nothing to do
    model.cancel()
    assert [c.intent for c in heard] == [Intent.FIND]


# --- resuming after a dropped socket (docs/protocol.md) -------------------------------------------


def in_call(ticket: str | None = "t1") -> ClientSession:
    model = ClientSession()
    model.on_welcome()
    model.find()
    model.on_queued("q0" if ticket else None)
    model.on_matched("s1", True, 0.0, ticket)
    model.connecting()
    model.media_up()
    return model


def test_a_lost_socket_with_a_ticket_keeps_the_call_and_resumes_it_first() -> None:
    model = in_call()
    assert model.on_lost() == [] and model.state is S.IN_CALL and model.session == "s1"
    model.find()  # the person cannot search from a call: nothing goes before the resume
    assert model.on_welcome() == [Send(p.Resume("t1"))]
    assert model.on_resumed("s1", "t2") == [] and model.state is S.IN_CALL and model.ticket == "t2"
    model.on_ticket("t3")  # a fresh one before t2 expires
    assert model.on_lost() == [] and model.on_welcome() == [Send(p.Resume("t3"))]


def test_a_lost_socket_without_a_ticket_ends_the_call_as_before() -> None:
    model = in_call(ticket=None)
    assert model.on_lost() == [EndCall("s1")] and model.state is S.ENDED
    assert model.on_welcome() == []


def test_a_place_in_line_is_asked_back_unless_cancelled_meanwhile() -> None:
    model = ClientSession("audio", "maths")
    model.on_welcome()
    model.find()
    model.on_queued("q1")
    assert model.on_lost() == [] and model.searching
    assert model.on_welcome() == [Send(p.Resume("q1"))]  # not a find: the original place counts
    model.on_queued("q2")
    assert model.state is S.QUEUED and model.ticket == "q2"
    model.on_lost()
    model.cancel()  # while away: the place is given up
    assert model.on_welcome() == [] and model.ticket is None


def test_a_refused_place_in_line_searches_anew() -> None:
    model = ClientSession("audio", "maths")
    model.on_welcome()
    model.find()
    model.on_queued("q1")
    model.on_lost()
    model.on_welcome()
    assert model.on_bad_ticket() == [Send(p.Find("audio", "maths"))] and model.ticket is None


def test_a_refused_session_ticket_ends_the_call_as_a_partner_who_left() -> None:
    model = in_call()
    model.on_lost()
    model.on_welcome()
    assert model.on_bad_ticket() == [EndCall("s1", "timeout")]
    assert model.state is S.PARTNER_LEFT and model.ticket is None and not model.resuming
    assert model.on_bad_ticket() == []  # not resuming: an error like any other, nothing moves


def test_replaced_ends_the_call_here_and_is_never_resumed() -> None:
    model = in_call()
    assert model.on_replaced("s1") == [EndCall("s1")] and model.state is S.ENDED
    model.on_lost()
    assert model.on_welcome() == []


def test_the_session_over_when_resuming_is_a_partner_who_left() -> None:
    model = in_call()
    model.on_lost()
    model.on_welcome()
    assert model.on_partner_left("s1", "timeout") == [EndCall("s1", "timeout")]
    assert model.state is S.PARTNER_LEFT and model.ticket is None


@pytest.mark.parametrize(
    ("end", "then", "said"),
    [
        ("leave", None, [Send(p.Leave("s1"))]),
        ("report", None, [Send(p.Report("s1", "rude"))]),
        ("skip", None, [Send(p.Skip("s1"))]),  # the server puts us back in line itself
        ("skip", "cancel", [Send(p.Leave("s1"))]),  # "Next", then cancelled while away: just leave
        ("leave", "find", [Send(p.Leave("s1")), Send(p.Find("video", None))]),
    ],
)
def test_a_call_ended_while_away_is_ended_at_once_and_said_after_resuming(
    end: str, then: str | None, said: list[Effect]
) -> None:
    model = in_call()
    model.on_lost()
    effects = model.report("rude") if end == "report" else getattr(model, end)()
    assert effects[0] == EndCall("s1") and not model.in_session  # at once, not after the reconnect
    if then is not None:
        getattr(model, then)()
    assert model.on_welcome() == [Send(p.Resume("t1"))]  # the call's ticket, to tell the partner at once
    assert model.on_resumed("s1", "t9") == said
    assert model.farewell is None and model.ticket is None  # said once


def test_a_farewell_to_a_session_already_over_leaves_the_wish_as_it_was() -> None:
    model = in_call()
    model.on_lost()
    model.skip()
    model.on_welcome()
    assert model.on_partner_left("s1", "timeout") == [Send(p.Find("video", None))]  # the skip's search
    assert model.farewell is None


def test_an_end_while_connected_owes_nothing() -> None:
    model = in_call()
    model.leave()
    assert model.farewell is None and model.ticket is None
    model.on_lost()
    assert model.on_welcome() == []


# --- a search for a favourite (docs/protocol.md, "Coming back") ---


def test_a_search_for_a_favourite_sends_its_tokens_until_it_turns_to_anyone() -> None:
    m = ClientSession("audio", "maths")
    tokens = ("r" * 43, "s" * 43)
    assert m.find(tokens) == [Send(p.Find("audio", "maths", favourites=tokens))]
    m.on_queued()
    m.on_lost()
    assert m.on_welcome() == [Send(p.Find("audio", "maths", favourites=tokens))]  # no ticket: asked again
    assert m.any_partner() == [Send(p.Find("audio", "maths"))]
    assert m.favourites == () and m.any_partner() == []  # only once


def test_a_match_a_cancel_or_a_plain_find_ends_the_search_for_a_favourite() -> None:
    tokens = ("r" * 43,)
    m = ClientSession()
    m.find(tokens)
    m.on_queued()
    m.on_matched("s1", True, 0.0)
    assert m.favourites == ()
    m = ClientSession()
    m.find(tokens)
    m.cancel()
    assert m.favourites == () and m.any_partner() == []
    m = ClientSession()
    m.find(tokens)
    assert m.find() == [Send(p.Find("video", None))]
