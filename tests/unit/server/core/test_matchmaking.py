"""Worked examples of the pairing rules, one scenario each."""

from __future__ import annotations

import itertools

import pytest

from server.core import protocol as p
from server.core.matchmaking import Matchmaker, Where
from server.core.resume import SessionClaim
from server.core.rules import MAX_AVOIDED
from server.core.tickets import TicketBook, Tickets

# The study terms of a pair that asked for none (the core's default clock reads 0).
OPEN = p.Study(None, "talk", 0, None)


@pytest.fixture
def core() -> Matchmaker:
    counter = itertools.count(1)
    core = Matchmaker(rematch_cooldown=120.0, new_session_id=lambda: f"s{next(counter)}")
    for cid in "abcdef":
        core.connect(cid)
    return core


def test_two_finds_make_one_session_and_the_waiter_offers(core: Matchmaker) -> None:
    assert core.find("a", "video", None, 0) == [("a", p.Queued("video", None))]
    assert core.find("b", "video", "Maths", 1) == [
        ("b", p.Queued("video", "maths")),
        ("a", p.Matched("s1", True, p.Partner("video", "maths"), study=OPEN)),
        ("b", p.Matched("s1", False, p.Partner("video", None), study=OPEN)),
    ]


def test_modes_and_distinct_topics_never_meet(core: Matchmaker) -> None:
    core.find("a", "video", "maths", 0)
    core.find("b", "audio", "maths", 0)
    core.find("c", "video", "physics", 0)
    assert core.session_count() == 0 and core.waiting_count() == 3


def test_any_topic_takes_the_longest_waiter_across_topics(core: Matchmaker) -> None:
    core.find("a", "video", "physics", 0)
    core.find("b", "video", "maths", 1)
    out = core.find("c", "video", None, 2)
    assert ("a", p.Matched("s1", True, p.Partner("video", None), study=OPEN)) in out
    assert core.waiting_order("video") == ["b"]


def test_a_topic_takes_an_older_any_topic_waiter_before_a_same_topic_one(core: Matchmaker) -> None:
    core.find("a", "video", None, 0)
    core.find("b", "audio", "maths", 1)
    core.find("c", "video", "maths", 2)  # pairs with a at once
    core.find("d", "video", "maths", 3)
    assert core.session_of("c") == core.session_of("a")
    assert core.waiting_order("video") == ["d"]


def test_skip_requeues_and_does_not_rematch_until_the_cool_down_ends(core: Matchmaker) -> None:
    core.find("a", "video", None, 0)
    core.find("b", "video", None, 0)
    out = core.skip("a", 10)
    assert out == [("b", p.PartnerLeft("s1", "skipped")), ("a", p.Queued("video", None))]
    assert core.where("b") is Where.IDLE
    core.find("b", "video", None, 11)
    assert core.waiting_order("video") == ["a", "b"]
    assert core.tick(129) == []
    out = core.tick(130)
    assert [m for _, m in out] == [
        p.Matched("s2", True, p.Partner("video", None), study=OPEN),
        p.Matched("s2", False, p.Partner("video", None), study=OPEN),
    ]


def test_crossing_skips_both_search_again(core: Matchmaker) -> None:
    core.find("a", "audio", None, 0)
    core.find("b", "audio", None, 0)
    core.skip("a", 1)
    # b's skip was sent before b heard that a left: it still re-queues b.
    assert core.skip("b", 1) == [("b", p.Queued("audio", None))]
    core.find("c", "audio", None, 2)
    assert core.session_of("c") == core.session_of("a")


def test_skip_without_an_earlier_find_is_an_error(core: Matchmaker) -> None:
    with pytest.raises(p.ProtocolError) as caught:
        core.skip("a", 0)
    assert caught.value.code == "not_in_session"


def test_report_ends_the_session_and_blocks_the_rematch(core: Matchmaker) -> None:
    core.find("a", "video", None, 0)
    core.find("b", "video", None, 0)
    assert core.report("b", "s1", 5) == [("a", p.PartnerLeft("s1", "reported")), ("b", p.Reported("s1"))]
    assert core.where("b") is Where.IDLE and core.in_cooldown("a", "b", 6)


def test_leave_tells_the_partner_and_does_not_block_a_rematch(core: Matchmaker) -> None:
    core.find("a", "video", None, 0)
    core.find("b", "video", None, 0)
    assert core.leave("a", 1) == [("b", p.PartnerLeft("s1", "left")), ("a", p.Idle())]
    core.find("a", "video", None, 2)
    core.find("b", "video", None, 2)
    assert core.session_of("a") == core.session_of("b") is not None


def test_find_and_cancel_in_a_session_are_refused_and_change_nothing(core: Matchmaker) -> None:
    core.find("a", "video", None, 0)
    core.find("b", "video", None, 0)
    for action in (lambda: core.find("a", "audio", None, 1), lambda: core.cancel("a", 1)):
        with pytest.raises(p.ProtocolError) as caught:
            action()
        assert caught.value.code == "in_session"
    assert core.where("a") is Where.IN_SESSION


def test_finding_again_while_queued_keeps_the_place_unless_the_wish_changes(core: Matchmaker) -> None:
    core.find("a", "video", "maths", 0)
    core.find("b", "video", "physics", 1)
    core.find("a", "video", "Maths", 2)
    assert core.waiting_order("video") == ["a", "b"]
    core.find("a", "video", "chemistry", 3)
    assert core.waiting_order("video") == ["b", "a"]


def test_disconnect_frees_the_queue_and_tells_the_partner(core: Matchmaker) -> None:
    core.find("a", "video", None, 0)
    core.find("c", "audio", None, 0)
    core.find("b", "video", None, 0)
    assert core.disconnect("a", 1) == [("b", p.PartnerLeft("s1", "disconnected"))]
    assert core.disconnect("c", 1) == []
    assert core.waiting_count() == 0 and core.session_count() == 0
    assert core.disconnect("c", 2) == []  # twice is harmless


def test_signals_reach_only_the_partner_of_the_current_session(core: Matchmaker) -> None:
    core.find("a", "video", None, 0)
    core.find("b", "video", None, 0)
    assert core.signal("a", "s1", {"sdp": "x"}) == [("b", p.Signal("s1", {"sdp": "x"}))]
    assert core.signal_partner("a", "s1") == "b" and core.signal_partner("b", "s1") == "a"
    core.skip("a", 1)
    with pytest.raises(p.ProtocolError) as caught:
        core.signal("b", "s1", {"sdp": "late"})
    assert caught.value.code == "not_in_session"
    with pytest.raises(p.ProtocolError) as caught:
        core.signal_partner("b", "s1")  # the shell's fast path asks the same question
    assert caught.value.code == "not_in_session"


def test_waits_are_observed_for_both_partners() -> None:
    waits: list[float] = []
    core = Matchmaker(observe_wait=waits.append)
    core.connect("a")
    core.connect("b")
    core.find("a", "video", None, 10.0)
    core.find("b", "video", None, 12.5)
    assert sorted(waits) == [0.0, 2.5]


def test_past_the_most_avoided_the_oldest_installation_is_forgotten() -> None:
    core = Matchmaker(rematch_cooldown=10.0, new_session_id=iter(f"s{n}" for n in itertools.count()).__next__)
    core.connect("a", install="install-a-0000000")
    installs = [f"install-{n:09d}" for n in range(MAX_AVOIDED + 1)]
    assert core.avoid("a", installs[:MAX_AVOIDED]) == MAX_AVOIDED
    assert core.avoid("a", installs[:3]) == MAX_AVOIDED  # already there: nothing changes
    assert core.avoid("a", installs[MAX_AVOIDED:]) == MAX_AVOIDED
    core.connect("first", install=installs[0])
    core.connect("second", install=installs[1])
    core.find("a", "video", None, 0.0)
    core.find("second", "video", None, 1.0)
    assert core.where("a") is Where.QUEUED, "the second oldest is still avoided"
    out = core.find("first", "video", None, 2.0)
    assert any(isinstance(m, p.Matched) for _, m in out), "the oldest was forgotten"
    assert core.session_of("a") == core.session_of("first")


def test_a_search_for_a_favourite_gets_no_ticket_but_is_said_so() -> None:
    core = Matchmaker(rematch_cooldown=10.0)
    core.connect("a")
    assert core.find("a", "video", "maths", 0.0, favourites=("token-0000000000001",)) == [
        ("a", p.Queued("video", "maths", favourite=True))]
    book = TicketBook(Tickets(b"k" * 32, 600.0), "a")
    sent = book.observe(p.Queued("video", "maths", favourite=True), 0.0)
    assert sent == p.Queued("video", "maths", favourite=True) and book.refresh(1e6) is None
    matched = book.observe(p.Matched("s1", True, p.Partner("video", None)), 1.0)
    assert isinstance(matched, p.Matched) and matched.ticket is not None
    claim = Tickets(b"k" * 32, 600.0).verify(matched.ticket, 2.0)
    assert isinstance(claim, SessionClaim) and (claim.mode, claim.topic) == ("video", "maths")  # its own wish
