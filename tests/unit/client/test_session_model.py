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
        _, _, effects = self.step("on_welcome")
        assert effects == ([Send(p.Find(self.model.mode, self.model.topic))] if wants else [])

    @rule()
    def queued(self) -> None:
        self.legal_or_named("on_queued")
        assert self.model.in_session or self.model.state is S.QUEUED

    @rule(initiator=st.booleans(), now=st.floats(0, 1e6))
    def matched(self, initiator: bool, now: float) -> None:
        if not self.model.accepts_match():
            # The engine refuses (its cancel crossed the match); nothing moves.
            assert not (self.model.searching and self.model.state is S.QUEUED)
            return
        session = next(self.ids)
        self.step("on_matched", session, initiator, now)
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
        before, _, _ = self.step("on_lost")
        assert self.model.state is (S.ENDED if before in IN_SESSION else S.IDLE)

    def legal_or_named(self, move: str) -> None:
        before = self.model.state
        try:
            self.step(move)
        except InvalidStateError as exc:
            assert exc.state is before and before.name in str(exc) and self.model.state is before

    # --- what must hold after every step ----------------------------------------------

    @invariant()
    def a_session_exactly_while_a_call_is_on(self) -> None:
        assert (self.model.session is not None) is self.model.in_session
        assert (self.model.matched_at is not None) is self.model.in_session

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
