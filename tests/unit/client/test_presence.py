"""The presence policy alone: beats and times in, decisions out (client/presence.py)."""

from __future__ import annotations

from client.presence import (
    ATTEMPT_TIMEOUT,
    BLIP,
    SILENCE,
    Ask,
    Gone,
    Phase,
    Presence,
    Rebuild,
    Reconnecting,
    Resend,
    Restored,
)

GRACE = 60.0


def up(initiator: bool, *, beats: bool = True) -> Presence:
    presence = Presence(initiator=initiator, grace=GRACE)
    presence.connected(0.0)
    presence.heard(0.0, beat=beats)
    return presence


def test_a_beating_partner_silent_past_the_threshold_makes_the_initiator_rebuild() -> None:
    presence = up(initiator=True)
    assert presence.tick(SILENCE - 0.5) == []
    assert presence.tick(SILENCE + 0.5) == [Reconnecting(1), Rebuild(1)]
    assert presence.phase is Phase.LOST


def test_heard_again_after_a_blip_the_initiator_rebuilds_and_the_responder_waits_for_its_offer() -> None:
    # The old connection came back by itself, but aiortc's video would lag behind by seconds.
    initiator, responder = up(initiator=True), up(initiator=False)
    assert initiator.heard(BLIP - 0.5, beat=True) == []  # a lossy moment, not an outage
    assert initiator.heard(2 * BLIP, beat=True) == [Reconnecting(1), Rebuild(1)]
    assert responder.heard(2 * BLIP, beat=True) == []
    assert responder.offered(1, 2 * BLIP + 0.1) == [Reconnecting(1)]


def test_a_partner_that_never_beats_gets_no_rebuild_after_a_gap() -> None:
    presence = up(initiator=True, beats=False)
    assert presence.heard(3 * BLIP) == []


def test_frames_alone_keep_a_beating_partner_present() -> None:
    presence = up(initiator=True)
    for t in range(1, 30):
        presence.heard(float(t))  # media, no beat
        assert presence.tick(t + 0.5) == []


def test_a_partner_that_never_beats_is_never_declared_silent() -> None:
    presence = up(initiator=True, beats=False)
    assert presence.tick(1000.0) == []
    assert presence.failed(1000.0) == [Reconnecting(1), Rebuild(1)]


def test_the_responder_asks_and_resends_its_request() -> None:
    presence = up(initiator=False)
    assert presence.tick(SILENCE + 1) == [Reconnecting(1), Ask(1)]
    assert presence.tick(SILENCE + 2) == []
    assert presence.tick(SILENCE + 1 + presence.resend) == [Resend()]
    assert not presence.rebuilt


def test_the_responder_takes_only_newer_offers() -> None:
    presence = up(initiator=False)
    assert presence.offered(1, 2.0) == [Reconnecting(1)]
    assert presence.rebuilt and presence.restart == 1
    assert presence.offered(1, 2.5) is None  # the same again: the caller re-sends its answer
    assert presence.offered(0, 2.5) is None
    assert presence.offered(2, 3.0) == [Reconnecting(2)]  # a second attempt of the same loss
    assert presence.heard(4.0) == [Restored(4000.0)]
    assert presence.phase is Phase.UP


def test_the_initiator_answers_a_request_with_a_rebuild_or_its_pending_offer() -> None:
    presence = up(initiator=True)
    assert presence.asked(1, 1.0) == [Reconnecting(1), Rebuild(1)]
    assert presence.asked(1, 2.0) == [Resend()]  # it missed our offer
    assert presence.asked(2, 3.0) == [Reconnecting(2), Rebuild(2)]  # it had it and wants another


def test_a_rebuild_not_up_in_time_is_followed_by_another() -> None:
    presence = up(initiator=True)
    presence.tick(SILENCE + 1)
    start = SILENCE + 1
    assert presence.tick(start + presence.resend) == [Resend()]
    assert presence.tick(start + ATTEMPT_TIMEOUT) == [Reconnecting(2), Rebuild(2)]
    assert presence.failed(start + ATTEMPT_TIMEOUT + 1) == []
    # A failed attempt is not waited for: the next comes at the resend interval.
    assert presence.tick(start + ATTEMPT_TIMEOUT + presence.resend) == [Reconnecting(3), Rebuild(3)]


def test_media_back_is_restored_once_with_the_time_it_was_away() -> None:
    presence = up(initiator=True)
    presence.tick(SILENCE + 1)
    presence.connected(20.0)
    assert presence.heard(20.5, beat=True) == [Restored(20500.0)]
    assert presence.heard(21.0) == []


def test_gone_once_past_the_grace_and_nothing_after() -> None:
    presence = up(initiator=False)
    presence.tick(SILENCE + 1)
    assert Gone() not in presence.tick(GRACE - 1)
    assert presence.tick(GRACE + 1) == [Gone()]
    assert presence.tick(GRACE + 2) == []
    assert presence.offered(5, GRACE + 3) is None
    assert presence.phase is Phase.GONE


def test_nothing_happens_before_the_first_connection() -> None:
    presence = Presence(initiator=True, grace=GRACE)
    assert presence.tick(1000.0) == []
    assert presence.failed(1000.0) == []
    assert presence.asked(1, 1000.0) == []
