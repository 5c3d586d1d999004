"""Engine events as JSON lines (the CLI contract in the README) and as text."""

from __future__ import annotations

import json
from pathlib import Path

import av
import pytest

from client import events as ev
from client.eventformat import to_json_line, to_record, to_text

T0 = 1_700_000_000.25
FRAME = av.VideoFrame(16, 16, "yuv420p")  # frame events carry one; its pixels do not matter

# Every JSON event the README's headless section lists, with exactly its fields.
CONTRACT: list[tuple[ev.EngineEvent, dict[str, object]]] = [
    (ev.Connected("ws://h:1/ws"), {"event": "connected", "server": "ws://h:1/ws"}),
    (ev.Queued("video", None), {"event": "queued", "mode": "video", "topic": None}),
    (ev.Queued("audio", "maths"), {"event": "queued", "mode": "audio", "topic": "maths"}),
    (ev.Matched("s1", True, "video", None), {"event": "matched", "session": "s1", "initiator": True, "favourite": None}),
    (
        ev.Matched("s1", False, "video", None, favourite="Ana", avoidable=True),
        {"event": "matched", "session": "s1", "initiator": False, "favourite": "Ana"},
    ),
    (ev.MediaConnected("s1", 312.5), {"event": "media_connected", "session": "s1", "ms_since_matched": 312.5}),
    (
        ev.FirstRemoteFrame("s1", "audio", 400.0),
        {"event": "first_remote_frame", "session": "s1", "kind": "audio", "ms_since_matched": 400.0},
    ),
    (
        ev.DeviceErrorEvent("camera", "busy", "Close it."),
        {"event": "device_error", "device": "camera", "code": "busy", "message": "Close it."},
    ),
    (ev.PartnerLeft("s1", "skipped"), {"event": "partner_left", "session": "s1", "reason": "skipped"}),
    (
        ev.CallEnded("s1", 2.5, 70, 120, 41.26),
        {"event": "call_ended", "session": "s1", "seconds": 2.5, "video_frames": 70,
         "audio_frames": 120, "latency_ms_p50": 41.3},
    ),
    (
        ev.CallEnded("s1", 2.5, 0, 120, None),
        {"event": "call_ended", "session": "s1", "seconds": 2.5, "video_frames": 0, "audio_frames": 120},
    ),
    (ev.ErrorEvent("rate_limited", "slow down"), {"event": "error", "code": "rate_limited", "message": "slow down"}),
    # A call that outlives the network (README, "Headless client").
    (
        ev.SignalingLost("s1", 1.5, "Lost the server."),
        {"event": "signaling_lost", "session": "s1", "retry_in": 1.5, "message": "Lost the server."},
    ),
    (ev.Resumed("s1"), {"event": "resumed", "session": "s1"}),
    (ev.PartnerReconnecting("s1"), {"event": "partner_reconnecting", "session": "s1"}),
    (ev.PartnerResumed("s1"), {"event": "partner_resumed", "session": "s1"}),
    (ev.MediaReconnecting("s1", 2), {"event": "media_reconnecting", "session": "s1", "attempt": 2}),
    (ev.MediaRestored("s1", 2503.26), {"event": "media_restored", "session": "s1", "gone_ms": 2503.3}),
    # A study session (README, "Headless client").
    (
        ev.SessionStarted("s1", 25, "quiet", T0, T0 + 1500),
        {"event": "session_started", "session": "s1", "length": 25, "talk": "quiet", "started_at": T0,
         "ends_at": T0 + 1500},
    ),
    (
        ev.SessionStarted("s1", None, "talk", T0, None),
        {"event": "session_started", "session": "s1", "length": None, "talk": "talk", "started_at": T0,
         "ends_at": None},
    ),
    (ev.SessionPhase("s1", "focus", T0 + 60), {"event": "phase", "session": "s1", "phase": "focus", "until": T0 + 60}),
    (ev.PartnerGoal("s1", "ch. 3"), {"event": "partner_goal", "session": "s1", "text": "ch. 3"}),
    (ev.PartnerReady("s1"), {"event": "partner_ready", "session": "s1"}),
    (
        ev.PartnerCheckout("s1", "partly", "half"),
        {"event": "partner_checkout", "session": "s1", "done": "partly", "note": "half"},
    ),
    (ev.PartnerBrb("s1", T0 + 300), {"event": "partner_brb", "session": "s1", "until": T0 + 300}),
    (ev.PartnerBrb("s1", None), {"event": "partner_brb", "session": "s1", "until": None}),
    (ev.Pomodoro("s1", True), {"event": "pomodoro", "session": "s1", "on": True}),
    (ev.SpeakingWhileMuted("s1"), {"event": "speaking_while_muted", "session": "s1"}),
    # Chat lines, both ways (README, "Headless client").
    (ev.ChatMessage("s1", "hi", True), {"event": "chat", "session": "s1", "text": "hi", "mine": True}),
    (ev.ChatMessage("s1", "¿qué tal?", False), {"event": "chat", "session": "s1", "text": "¿qué tal?", "mine": False}),
    # Screen sharing (README, "Headless client"; --share-screen).
    (ev.ScreenShare("s1", True), {"event": "screen_share", "session": "s1", "on": True, "message": None}),
    (
        ev.ScreenShare("s1", False, "No screen."),
        {"event": "screen_share", "session": "s1", "on": False, "message": "No screen."},
    ),
    (ev.PartnerScreen("s1", True), {"event": "partner_screen", "session": "s1", "on": True}),
    (ev.PartnerScreen("s1", False), {"event": "partner_screen", "session": "s1", "on": False}),
    # Coming back (README, "Headless client").
    (ev.FavouriteSearch(2, 30.0), {"event": "favourite_search", "favourites": 2, "wait": 30.0}),
    (ev.FavouriteFallback("anyone now"), {"event": "favourite_fallback", "message": "anyone now"}),
    (ev.PartnerAgain("s1", True), {"event": "partner_again", "session": "s1", "on": True}),
    (ev.PartnerAgain("s1", False), {"event": "partner_again", "session": "s1", "on": False}),
    (ev.FavouriteSaved("s1", "Ana"), {"event": "favourite_saved", "session": "s1", "nickname": "Ana"}),
    (
        ev.PartnerBlocked("s1", True, "Blocked."),
        {"event": "partner_blocked", "session": "s1", "blocked": True, "message": "Blocked."},
    ),
]
# JSON lines with no text line: once a second while searching, too frequent for a person's log.
QUIET: list[tuple[ev.EngineEvent, dict[str, object]]] = [
    (ev.Counts(41, 6, 2, 1), {"event": "counts", "online": 41, "video": 6, "audio": 2, "topic": 1}),
    (ev.Counts(3, 0, 1, None), {"event": "counts", "online": 3, "video": 0, "audio": 1, "topic": None}),
    # --video-stats, once a second in a call.
    (ev.VideoStats("s1", 640, 480, 29.94, 512.26),
     {"event": "video_stats", "session": "s1", "width": 640, "height": 480, "fps": 29.9, "kbps": 512.3}),
    (ev.VideoStats("s1", 0, 0, 0.0, None),
     {"event": "video_stats", "session": "s1", "width": 0, "height": 0, "fps": 0.0, "kbps": None}),
]


@pytest.mark.parametrize(("event", "expected"), CONTRACT + QUIET)
def test_json_lines_follow_the_contract(event: ev.EngineEvent, expected: dict[str, object]) -> None:
    line = to_json_line(event, T0)
    assert line is not None and "\n" not in line
    assert json.loads(line) == {**expected, "t": T0}


NOT_JSON = [
    ev.Disconnected("ws://h/ws", 1.0, "gone"),
    ev.MediaFailed("s1", "no"),
    ev.RemoteVideoFrame("s1", FRAME),
    ev.LocalVideoFrame(FRAME),
    ev.CallStats("s1", 1.0, 0.0, 900.0),
    ev.ModeChanged("audio", "audio only"),
    ev.Idle(),
    ev.Shutdown(5.0),
]


@pytest.mark.parametrize("event", NOT_JSON)
def test_events_outside_the_table_have_no_json_line(event: ev.EngineEvent) -> None:
    assert to_record(event, T0) is None


def test_the_readme_lists_every_json_event() -> None:
    readme = (Path(__file__).parents[3] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Headless client", 1)[1].split("\n## ", 1)[0]
    for name in {str(expected["event"]) for _, expected in CONTRACT + QUIET} | {"retry_in", "attempt", "gone_ms"}:
        assert f"`{name}`" in section, name


def test_non_ascii_is_kept_readable() -> None:
    line = to_json_line(ev.ErrorEvent("x", "déjà vu"), T0)
    assert line is not None and "déjà vu" in line


@pytest.mark.parametrize("event", [e for e, _ in CONTRACT] + NOT_JSON[:2] + NOT_JSON[5:])
def test_text_for_people(event: ev.EngineEvent) -> None:
    text = to_text(event)
    assert text and "\n" not in text


def test_frames_and_stats_are_not_printed_for_people() -> None:
    assert to_text(ev.RemoteVideoFrame("s", FRAME)) is None
    assert to_text(ev.CallStats("s", None, None, None)) is None
    level = ev.PartnerAudioLevel("s", 0.7)  # ten a second: for the window's meter, not for a log
    assert to_text(level) is None and to_record(level, T0) is None
    for event, _ in QUIET:
        assert to_text(event) is None


def test_text_examples() -> None:
    assert to_text(ev.Matched("s", True, "video", None, favourite="Ana")) == "matched with your favourite Ana (session s)"
    assert to_text(ev.Queued("video", None)) == "looking for a video partner (any topic)"
    assert to_text(ev.CallEnded("s", 2.0, 60, 100, 40.0)) == (
        "call ended after 2.0 s (60 video frames, 100 audio frames, latency p50 40 ms)"
    )


def test_screen_share_text() -> None:
    assert to_text(ev.ScreenShare("s", True)) == "sharing the screen"
    assert to_text(ev.ScreenShare("s", False, "No screen.")) == "stopped sharing the screen: No screen."
    assert to_text(ev.PartnerScreen("s", True)) == "your partner is sharing their screen"
    assert to_text(ev.PartnerScreen("s", False)) == "your partner stopped sharing their screen"
