"""The presence policy alone: beats and times in, decisions out (client/presence.py)."""

from __future__ import annotations

from client.presence import (
    ATTEMPT_TIMEOUT,
    BLIP,
    FREEZE,
    FREEZE_GAPS,
    FREEZE_RTTS,
    RESEND,
    SILENCE,
    STALL,
    Ask,
    Decision,
    Gone,
    Phase,
    Presence,
    Rebuild,
    Reconnecting,
    Resend,
    Restored,
)

GRACE = 60.0


def up(initiator: bool, *, beats: bool = True, video: bool = True) -> Presence:
    presence = Presence(initiator=initiator, grace=GRACE)
    presence.expect_video = video
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
    initiator, responder = up(initiator=True, video=False), up(initiator=False, video=False)
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
        presence.heard(float(t), video=True)  # media, no beat
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


def carrying_video(initiator: bool) -> Presence:
    """Up, with video frames every second until t=10."""
    presence = up(initiator)
    for t in range(11):
        presence.heard(float(t), video=True)
    return presence


def beats(presence: Presence, start: float, end: float, step: float = 0.5) -> list[Decision]:
    """Beats and audio (no video) every `step` s from `start` until before `end`, a tick between
    each two: every decision they bring."""
    decisions, t = [], start
    while t < end:
        decisions += presence.heard(t, beat=True)
        decisions += presence.tick(t + step / 2)
        t += step
    return decisions


def test_video_stalled_while_the_partner_beats_makes_the_initiator_rebuild() -> None:
    # The hole in aiortc's video receiver: beats and audio go on, the picture is frozen.
    presence = carrying_video(initiator=True)
    assert beats(presence, 10.5, 10.0 + FREEZE, step=0.25) == []  # a lossy moment, not yet a stall
    assert presence.heard(10.0 + FREEZE + 0.5, beat=True) == [Reconnecting(1), Rebuild(1)]
    # The new connection's video restores it; its own stall is watched again.
    assert presence.heard(11.0 + FREEZE + 0.5, video=True) == [Restored(1000.0)]
    assert presence.phase is Phase.UP


def test_video_stalled_makes_the_responder_ask_again_while_stalled_until_the_offer_comes() -> None:
    presence = carrying_video(initiator=False)
    assert beats(presence, 10.5, 10.0 + FREEZE, step=0.25) == []
    t = 10.0 + FREEZE + 0.5
    assert presence.heard(t, beat=True) == [Ask(1)]
    assert presence.phase is Phase.UP  # media still flows (audio, beats): no "reconnecting" yet
    assert beats(presence, t + 0.25, t + RESEND, step=0.25) == []  # asked a moment ago
    assert presence.tick(t + RESEND) == [Ask(1)]  # the request may have been dropped
    assert presence.offered(1, t + RESEND + 0.2) == [Reconnecting(1)]


def test_a_stall_is_seen_on_the_next_audio_frame_not_the_next_tick() -> None:
    # Audio frames come every 20 ms: a stall is acted on 20 ms after FREEZE, not up to 1 s later.
    initiator, responder = carrying_video(initiator=True), carrying_video(initiator=False)
    for presence in (initiator, responder):
        presence.heard(10.1, beat=True)
        assert presence.heard(10.0 + FREEZE - 0.01) == []
    assert initiator.heard(10.0 + FREEZE + 0.01) == [Reconnecting(1), Rebuild(1)]
    assert responder.heard(10.0 + FREEZE + 0.01) == [Ask(1)]
    assert responder.heard(10.0 + FREEZE + 0.03) == []  # asked a moment ago
    assert responder.heard(10.0 + FREEZE + 0.02 + RESEND) == [Ask(1)]


def test_a_freeze_waits_out_the_resends_of_a_long_round_trip() -> None:
    # On a 200 ms round trip a lost packet's resend (or the resend of that) takes that long.
    far = carrying_video(initiator=True)
    far.rtt = 0.2
    far.heard(10.1, beat=True)
    waits = FREEZE + FREEZE_RTTS * far.rtt
    assert far.heard(10.0 + FREEZE + 0.1) == []  # would be a stall on a near link
    assert far.heard(10.0 + waits - 0.01) == []
    assert far.heard(10.0 + waits + 0.01) == [Reconnecting(1), Rebuild(1)]
    near = carrying_video(initiator=True)
    near.rtt = 0.001
    near.heard(10.1, beat=True)
    assert near.heard(10.0 + FREEZE + 0.01) == [Reconnecting(1), Rebuild(1)]


def test_a_partner_sending_slowly_gets_a_longer_freeze() -> None:
    # A shared screen goes at 5 fps (more slowly from a busy machine): a gap of FREEZE is its pace.
    slow = up(initiator=True)
    for i in range(1, 30):
        assert slow.heard(0.2 * i, video=True) == []
    last = 0.2 * 29
    slow.heard(last + 0.1, beat=True)
    waits = FREEZE_GAPS * 0.2
    assert slow.heard(last + FREEZE + 0.1) == []
    assert slow.heard(last + waits - 0.05) == []
    assert slow.heard(last + waits + 0.05) == [Reconnecting(1), Rebuild(1)]


def test_the_first_frame_after_the_partner_switched_its_video_gets_the_stall_time() -> None:
    # Camera to screen: the first frame is a new size's keyframe, which a busy machine is slow to make.
    presence = carrying_video(initiator=True)
    presence.heard(10.1, beat=True)
    presence.switched(10.2)
    assert presence.heard(10.2 + FREEZE + 0.5) == []
    assert presence.heard(10.2 + STALL - 0.1) == []
    assert presence.heard(10.2 + STALL + 0.1) == [Reconnecting(1), Rebuild(1)]
    # Once its frames come, a freeze is a freeze again.
    switched = carrying_video(initiator=True)
    switched.switched(10.2)
    for t in (10.4, 10.45, 10.5):
        switched.heard(t, video=True)
    switched.heard(10.6, beat=True)
    assert switched.heard(10.5 + FREEZE + 0.05) == [Reconnecting(1), Rebuild(1)]


def test_no_stall_when_the_partner_is_not_heard_either_that_is_an_outage() -> None:
    presence = carrying_video(initiator=True)
    assert presence.tick(10.0 + FREEZE + 0.5) == []  # silence and the blip on return handle it
    assert presence.tick(10.0 + SILENCE + 0.5) == [Reconnecting(1), Rebuild(1)]


def test_an_audio_call_is_never_rebuilt_for_a_stall() -> None:
    presence = up(initiator=True, video=False)
    for t in range(1, 30):
        presence.heard(float(t), beat=True)
        assert presence.tick(t + 0.5) == []


def test_a_first_connection_whose_video_never_comes_is_rebuilt_once() -> None:
    # A hole among the first video packets: the picture would start 8 s late, then lag.
    presence = up(initiator=True)
    assert beats(presence, 0.5, STALL) == []
    assert presence.heard(STALL + 0.5, beat=True) == [Reconnecting(1), Rebuild(1)]


def test_connections_whose_video_never_comes_are_not_rebuilt_again_and_again() -> None:
    # No rebuild loop when the partner's video is broken for good; video back re-arms it.
    stalled = carrying_video(initiator=True)
    assert beats(stalled, 10.5, 10.0 + FREEZE, step=0.25) == []
    assert stalled.heard(10.0 + FREEZE + 0.5, beat=True) == [Reconnecting(1), Rebuild(1)]
    t = 11.0 + FREEZE + 0.5
    assert stalled.heard(t, beat=True) == [Restored(1000.0)]  # the new one: beats, no video yet
    # Once more (its hole may have been among its first packets), then no more.
    assert beats(stalled, t + 0.5, 40.0) == [Reconnecting(1), Rebuild(2), Restored(500.0)]
    for second in range(40, 45):
        stalled.heard(float(second), video=True)  # video at last: a later stall rebuilds again
    assert beats(stalled, 44.5, 44.0 + FREEZE, step=0.25) == []
    assert stalled.heard(44.0 + FREEZE + 0.5, beat=True) == [Reconnecting(1), Rebuild(3)]


def test_a_first_connection_without_video_makes_the_responder_ask_and_keep_asking() -> None:
    presence = up(initiator=False)
    assert beats(presence, 0.5, STALL) == []
    assert presence.heard(STALL + 0.5, beat=True) == [Ask(1)]
    assert beats(presence, STALL + 1.0, STALL + 0.5 + RESEND) == []
    assert presence.heard(STALL + 0.5 + RESEND, beat=True) == [Ask(1)]


def test_a_partner_that_never_beats_is_not_rebuilt_for_a_stall() -> None:
    presence = up(initiator=True, beats=False)
    for t in range(11):
        presence.heard(float(t), video=True)
    for t in range(11, 30):
        presence.heard(float(t))  # audio only from here
        assert presence.tick(t + 0.5) == []
