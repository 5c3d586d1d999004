"""The core's resume rules (docs/protocol.md, "Resuming after a dropped socket")."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest

from server.core import protocol as p
from server.core.matchmaking import Matchmaker, Where
from server.core.resume import QueueClaim, SessionClaim

GRACE = 60.0

# The study terms of a pair that asked for none (the core's default clock reads 0).
OPEN = p.Study(None, "talk", 0, None)


def core() -> Matchmaker:
    ids = itertools.count()
    return Matchmaker(rematch_cooldown=10.0, new_session_id=lambda: f"s{next(ids)}", resume_grace=GRACE,
                      ticket_ttl=600.0)


def paired(mm: Matchmaker) -> None:
    for cid in ("a", "b"):
        mm.connect(cid, resumable=True)
    mm.find("a", "video", None, 0.0)
    mm.find("b", "video", "maths", 1.0)


def claim(initiator: bool, epoch: int = 0, session: str = "s0") -> SessionClaim:
    return SessionClaim(session, initiator, epoch, "video",
                        None if initiator else "maths", "video", "maths" if initiator else None, "key")


def refused(action: Callable[[], object]) -> None:
    with pytest.raises(p.ProtocolError) as caught:
        action()
    assert caught.value.code == p.ErrorCode.BAD_TICKET


def test_a_held_side_resumes_with_the_signals_kept_for_it() -> None:
    mm = core()
    paired(mm)
    assert mm.disconnect("a", 5.0, hold=True) == [("b", p.PartnerReconnecting("s0"))]
    assert mm.session_count() == 1
    for n in range(20):
        assert mm.signal("b", "s0", {"n": n}) == []
    mm.connect("a2")
    out = mm.resume_session("a2", claim(True), 6.0)
    assert out[0] == ("a2", p.Resumed("s0", True, p.Partner("video", "maths"), study=OPEN))
    assert [m for _, m in out[1:-1]] == [p.Signal("s0", {"n": n}) for n in range(4, 20)], "the last 16"
    assert out[-1] == ("b", p.PartnerResumed("s0"))
    assert mm.signal("b", "s0", {}) == [("a2", p.Signal("s0", {}))]
    mm.connect("a3")
    refused(lambda: mm.resume_session("a3", claim(True), 7.0))
    assert mm.where("a3") is Where.IDLE, "a spent ticket changes nothing"


def test_the_grace_runs_out_and_a_late_resume_hears_why() -> None:
    mm = core()
    paired(mm)
    mm.disconnect("b", 5.0, hold=True)
    assert mm.tick(5.0 + GRACE - 1) == []
    assert mm.tick(5.0 + GRACE) == [("a", p.PartnerLeft("s0", "timeout"))]
    assert mm.session_count() == 0 and mm.where("a") is Where.IDLE
    mm.connect("b2")
    assert mm.resume_session("b2", claim(False), 70.0) == [("b2", p.PartnerLeft("s0", "timeout"))]
    assert mm.where("b2") is Where.IDLE


def test_a_partner_who_leaves_meanwhile_is_what_the_away_side_hears() -> None:
    mm = core()
    paired(mm)
    mm.disconnect("b", 5.0, hold=True)
    assert mm.leave("a", 6.0) == [("a", p.Idle())]
    mm.connect("b2")
    assert mm.resume_session("b2", claim(False), 7.0) == [("b2", p.PartnerLeft("s0", "left"))]


def test_both_away_the_session_lives_until_both_graces_ran_out() -> None:
    mm = core()
    paired(mm)
    mm.disconnect("a", 0.0, hold=True)
    mm.disconnect("b", 30.0, hold=True)
    assert mm.tick(GRACE) == [] and mm.session_count() == 1
    mm.connect("b2")
    out = mm.resume_session("b2", claim(False), GRACE + 1)
    assert [m for _, m in out] == [p.Resumed("s0", False, p.Partner("video", None), study=OPEN), p.PartnerReconnecting("s0")]
    assert mm.tick(GRACE + 2) == [("b2", p.PartnerLeft("s0", "timeout"))]


def test_a_still_connected_side_is_replaced_without_ending_anything() -> None:
    mm = core()
    paired(mm)
    mm.connect("a2")
    out = mm.resume_session("a2", claim(True), 3.0)
    assert out[0] == ("a", p.Replaced("s0"))
    assert ("b", p.PartnerResumed("s0")) in out
    assert not mm.is_connected("a") and mm.where("a2") is Where.IN_SESSION
    assert mm.disconnect("a", 4.0) == [], "the old id is forgotten"


def test_an_unknown_session_is_rebuilt_from_the_two_tickets() -> None:
    mm = core()  # a restarted server: it never saw s0
    mm.connect("b2")
    out = mm.resume_session("b2", claim(False, epoch=3), 0.0)
    assert [m for _, m in out] == [p.Resumed("s0", False, p.Partner("video", None), study=OPEN), p.PartnerReconnecting("s0")]
    mm.connect("a2")
    out = mm.resume_session("a2", claim(True, epoch=5), 1.0)
    assert out == [("a2", p.Resumed("s0", True, p.Partner("video", "maths"), study=OPEN)), ("b2", p.PartnerResumed("s0"))]
    assert mm.signal("a2", "s0", {"x": 1}) == [("b2", p.Signal("s0", {"x": 1}))]
    mm.connect("a3")
    refused(lambda: mm.resume_session("a3", claim(True, epoch=5), 2.0))


def test_a_queue_ticket_goes_back_before_later_waiters_and_resumes_once() -> None:
    mm = core()
    for cid in ("old", "late", "again"):
        mm.connect(cid, resumable=True)
    mm.find("old", "video", "maths", 0.0)
    mm.disconnect("old", 10.0, hold=True)
    mm.find("late", "video", "physics", 20.0)
    mm.connect("back")
    ticket = QueueClaim("video", "maths", 15.0, "n1", 1e12, "old")  # started at 15, before "late"
    assert mm.resume_queue("back", ticket, 30.0) == [("back", p.Queued("video", "maths"))]
    assert mm.waiting_order("video") == ["back", "late"]
    refused(lambda: mm.resume_queue("again", ticket, 31.0))
    mm.tick(31.0 + 600.0)
    assert mm.away.remembered() == 0, "spent nonces are forgotten once no ticket can name them"
