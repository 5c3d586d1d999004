"""Catching a client up with Redis' truth after lost messages (pure, no Redis)."""

from __future__ import annotations

from server.backends.redis.script import Truth
from server.backends.redis.sync import ClientView, admit, reconcile
from server.core import protocol as p
from server.core.rules import Wish

PARTNER = p.Partner("video", None)
VIDEO = Wish("video", None)


def truth(where: str = "i", session: str | None = None, *, lost: bool = False, last: str | None = None,
          reason: str = "", wish: Wish | None = VIDEO) -> Truth:
    return Truth(lost=lost, where=where, session=session, initiator=True,
                 partner=PARTNER if session else None, wish=wish, last_session=last, last_reason=reason)


def in_session(session: str) -> ClientView:
    view = ClientView()
    assert admit(view, p.Matched(session, False, PARTNER)) == [p.Matched(session, False, PARTNER)]
    return view


def test_a_session_redis_forgot_ends_with_partner_left_disconnected() -> None:
    view = in_session("S")
    assert reconcile(view, truth(lost=True)) == [p.PartnerLeft("S", "disconnected")]
    assert view.where == "i" and view.session is None


def test_a_partner_left_that_was_lost_is_told_with_its_reason_then_the_new_match() -> None:
    view = in_session("S")
    out = reconcile(view, truth("s", "T", last="S", reason="skipped"))
    assert out == [p.PartnerLeft("S", "skipped"), p.Matched("T", True, PARTNER)]
    assert view.session == "T"


def test_a_skip_whose_queued_was_lost_is_replayed_before_the_new_match() -> None:
    view = in_session("S")
    out = reconcile(view, truth("s", "T", last="S", reason=""))
    assert out == [p.Queued("video", None), p.Matched("T", True, PARTNER)]


def test_a_queued_client_told_unavailable_hears_queued_again() -> None:
    view = ClientView()
    admit(view, p.Queued("audio", "maths"))
    view.told_unavailable = True
    assert reconcile(view, truth("q", wish=Wish("audio", "maths"))) == [p.Queued("audio", "maths")]
    assert reconcile(view, truth("q", wish=Wish("audio", "maths"))) == []  # nothing new: nothing said


def test_nothing_is_said_when_the_view_already_matches() -> None:
    view = in_session("S")
    assert reconcile(view, truth("s", "S")) == []


def test_stale_and_duplicate_messages_are_dropped() -> None:
    view = in_session("S")
    assert admit(view, p.Matched("S", False, PARTNER)) == []  # caught up already
    assert admit(view, p.Signal("old", {})) == []
    assert admit(view, p.PartnerLeft("old", "left")) == []
    assert admit(view, p.PartnerLeft("S", "left")) == [p.PartnerLeft("S", "left")]
    assert admit(view, p.Matched("S", False, PARTNER)) == []  # an ended session never comes back


def test_a_new_match_over_an_unheard_ending_tells_the_ending_first() -> None:
    view = in_session("S")
    assert admit(view, p.Matched("T", True, PARTNER)) == [
        p.PartnerLeft("S", "disconnected"), p.Matched("T", True, PARTNER)
    ]


def away_truth(session: str, *, away: bool) -> Truth:
    return Truth(lost=False, where="s", session=session, initiator=True, partner=PARTNER,
                 wish=Wish("video", None), last_session=None, last_reason="", partner_away=away)


def test_a_missed_partner_reconnecting_is_told_once_and_its_return_too() -> None:
    view = in_session("S")
    assert reconcile(view, away_truth("S", away=True)) == [p.PartnerReconnecting("S")]
    assert reconcile(view, away_truth("S", away=True)) == []  # told already
    assert reconcile(view, away_truth("S", away=False)) == [p.PartnerResumed("S")]
    assert reconcile(view, away_truth("S", away=False)) == []


def test_a_side_taken_back_after_a_catch_up_is_the_same_session() -> None:
    view = in_session("S")
    back = Truth(lost=True, where="s", session="S", initiator=True, partner=PARTNER,
                 wish=Wish("video", None), last_session=None, last_reason="")
    assert reconcile(view, back) == []  # no partner_left, no second matched


def test_a_resume_whose_answer_was_lost_hears_resumed_not_matched() -> None:
    view = ClientView()
    view.resuming = "S"
    assert reconcile(view, away_truth("S", away=True)) == [
        p.Resumed("S", True, PARTNER), p.PartnerReconnecting("S"),
    ]
    ended = ClientView()
    ended.resuming = "T"
    assert reconcile(ended, truth("i", last="T", reason="timeout")) == [p.PartnerLeft("T", "timeout")]


def test_resume_messages_pass_only_for_the_current_session() -> None:
    view = ClientView()
    view.resuming = "S"
    assert admit(view, p.Resumed("S", False, PARTNER)) == [p.Resumed("S", False, PARTNER)]
    assert admit(view, p.PartnerReconnecting("old")) == []
    assert admit(view, p.PartnerReconnecting("S")) == [p.PartnerReconnecting("S")]
    assert view.partner_away
    assert admit(view, p.Replaced("S")) == [p.Replaced("S")]
    assert view.session is None and not view.partner_away


def test_a_search_for_a_favourite_told_again_after_an_outage_still_says_so() -> None:
    view = ClientView()
    admit(view, p.Queued("video", None, favourite=True))
    view.told_unavailable = True  # Redis went away meanwhile: the client was told
    favourites = Wish("video", None, favourites=("rendezvous-token-0001",))
    assert reconcile(view, truth("q", wish=favourites)) == [p.Queued("video", None, favourite=True)]
