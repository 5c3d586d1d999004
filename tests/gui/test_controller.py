"""The controller drives the window through its states from engine events.

Here the engine is a recording fake (tests/gui/recording.py; the end-to-end
tests use the real one): it records the intents it gets and lets the test play
engine events.
"""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any

import av
import numpy as np
from PySide6.QtCore import Qt

from client import events as ev
from client import messages
from client.ui.controller import EngineOptions, Page
from client.ui.views.call import RECONNECTING_AFTER_MS


def test_find_search_match_call_end(harness, aloop, qtbot):
    h, w = harness, harness.window
    pages: list[Page] = []
    h.controller.page_changed.connect(pages.append)

    async def scenario() -> None:
        w.lobby.set_topic("algebra")
        qtbot.mouseClick(w.lobby.find_button, Qt.MouseButton.LeftButton)
        assert h.page is w.searching and "algebra" in w.searching.subject.text()
        await h.settle()
        assert h.engine.calls[-1] == ("find", "video", "algebra")
        h.engine.emit(ev.Queued("video", "algebra"))
        h.engine.emit(ev.Matched("s1", True, "video", "algebra"))
        assert h.page is w.call and "algebra" in w.call.partner.text()
        assert w.sounds.played == ["partner_found"]
        frame = av.VideoFrame.from_ndarray(np.full((480, 640, 3), 90, np.uint8), format="rgb24")
        h.engine.emit(ev.RemoteVideoFrame("s1", frame))
        h.engine.emit(ev.RemoteVideoFrame("old-session", frame))  # a stale session never paints
        assert w.call.remote.frames_received == 1
        h.engine.emit(ev.ChatMessage("s1", "hi!", False))
        assert w.call.chat_texts() == [f"{messages.CHAT_PARTNER}: hi!"]
        h.engine.emit(ev.CallStats("s1", 320.0, 0.0, 700.0))
        assert w.call.quality.quality.level == "poor"
        qtbot.mouseClick(w.call.end_button, Qt.MouseButton.LeftButton)
        assert h.page is w.lobby
        await h.settle()
        assert h.engine.calls[-1] == ("leave",)
        assert h.controller.settings.topic == "algebra"  # remembered for next time
        assert pages == [Page.SEARCHING, Page.CALL, Page.LOBBY] and h.controller.page is Page.LOBBY

    aloop.run(scenario())


def test_a_failing_engine_call_is_logged_and_the_window_goes_on(harness, aloop, caplog):
    h, w = harness, harness.window

    async def fall_over() -> None:
        raise OSError("the engine fell over")

    def broken_find(mode: str | None = None, topic: str | None = None) -> Coroutine[Any, Any, None]:
        h.engine.model.find()  # the wish moves at once, as the real engine's does...
        return fall_over()  # ...and what goes to the server fails

    h.engine.find = broken_find  # one intent's call fails
    w.lobby.find_button.click()
    aloop.run(h.settle())
    failed = [r for r in caplog.records if r.getMessage() == "engine call failed"]
    assert len(failed) == 1 and failed[0].exc_info is not None
    assert str(failed[0].exc_info[1]) == "the engine fell over"
    assert h.page is w.searching  # the window goes on: the person can still cancel
    h.controller.cancel()
    aloop.run(h.settle())
    assert h.page is w.lobby and h.engine.calls[-1] == ("cancel",)


def test_cancel_skip_and_shortcuts(harness, aloop, qtbot):
    h, w = harness, harness.window

    async def scenario() -> None:
        qtbot.keyClick(w, Qt.Key.Key_Return)  # Enter finds
        assert h.page is w.searching
        qtbot.keyClick(w, Qt.Key.Key_Escape)  # Esc stops searching
        assert h.page is w.lobby
        await h.settle()
        assert [c[0] for c in h.engine.calls[-2:]] == ["find", "cancel"]
        w.lobby.find_button.click()
        h.engine.emit(ev.Matched("s2", False, "video", None))
        qtbot.keyClick(w, Qt.Key.Key_M)
        qtbot.keyClick(w, Qt.Key.Key_V)
        assert w.call.mute_button.isChecked() and w.call.camera_button.isChecked()
        qtbot.keyClick(w, Qt.Key.Key_N)
        assert h.page is w.searching
        await h.settle()
        assert ("muted", True) in h.engine.calls and ("camera", False) in h.engine.calls
        assert h.engine.calls[-1] == ("skip",)
        qtbot.keyClick(w, Qt.Key.Key_F1)
        assert w.help.isVisible()
        qtbot.keyClick(w.help, Qt.Key.Key_Escape)
        assert not w.help.isVisible() and h.page is w.searching  # Esc closed help only

    aloop.run(scenario())


def test_typing_m_in_chat_does_not_mute(harness, aloop, qtbot):
    h, w = harness, harness.window
    w.lobby.find_button.click()
    h.engine.emit(ev.Matched("s3", True, "video", None))
    w.activateWindow()
    w.call.chat_input.setFocus()
    qtbot.keyClicks(w.call.chat_input, "mvn")
    assert w.call.chat_input.text() == "mvn"
    assert not w.call.mute_button.isChecked() and h.page is w.call
    qtbot.keyClick(w.call.chat_input, Qt.Key.Key_Return)
    aloop.run(h.settle())
    assert h.engine.calls[-1] == ("chat", "mvn")


def test_partner_left_notice_then_auto_search(harness, aloop, qtbot):
    h, w = harness, harness.window
    w.lobby.find_button.click()
    h.engine.emit(ev.Matched("s4", True, "video", None))
    h.engine.emit(ev.PartnerLeft("s4", "skipped"))
    assert h.page is w.lobby and messages.NOTICE_PARTNER_LEFT in w.notices.texts()
    assert w.sounds.played[-1] == "partner_left"
    # "Next partner" on the notice searches again.
    qtbot.mouseClick(w.notices.item("partner").buttons["next"], Qt.MouseButton.LeftButton)
    assert h.page is w.searching
    h.controller.settings.auto_search = True
    h.engine.emit(ev.Matched("s5", True, "video", None))
    h.engine.emit(ev.PartnerLeft("s5", "left"))
    assert h.page is w.searching and messages.NOTICE_PARTNER_LEFT_AGAIN in w.notices.texts()
    aloop.run(h.settle())
    assert h.engine.calls[-1] == ("find", "video", None)


def test_server_unreachable_notice_shows_address_and_clears(harness, aloop):
    h, w = harness, harness.window
    url = "ws://example.invalid:1/ws"
    h.engine.emit(ev.Disconnected(url, 2.0, messages.SERVER_UNREACHABLE.format(server=url, seconds=2.0)))
    (text,) = w.notices.texts()
    assert url in text and "2.0 s" in text
    assert set(w.notices.item("server").buttons) == {"open_settings"}  # where the address is fixed
    h.engine.emit(ev.Disconnected(url, 4.0, messages.SERVER_UNREACHABLE.format(server=url, seconds=4.0)))
    assert len(w.notices.texts()) == 1 and "4.0 s" in w.notices.texts()[0]  # updated in place
    h.engine.emit(ev.Connected(url))
    assert "server" not in w.notices.keys() or "Connected" in w.notices.texts()[0]
    assert w.status.text().startswith("●")


def test_media_failed_offers_next_partner(harness, aloop, qtbot):
    h, w = harness, harness.window
    w.lobby.find_button.click()
    h.engine.emit(ev.Matched("s6", True, "video", None))
    h.engine.emit(ev.MediaFailed("s6", "No media after 15 s."))
    item = w.notices.item("media")
    assert item is not None and item.notice.level == "error"
    qtbot.mouseClick(item.buttons["next"], Qt.MouseButton.LeftButton)
    assert h.page is w.searching
    aloop.run(h.settle())
    assert h.engine.calls[-1] == ("skip",)


def test_device_error_actions(harness, aloop, qtbot):
    h, w = harness, harness.window
    h.engine.emit(ev.DeviceErrorEvent("camera", "busy", "Your camera is busy."))
    item = w.notices.item("device:camera")
    assert item is not None
    assert [b.text() for b in item.buttons.values()] == [
        messages.ACTION_AUDIO_ONLY, messages.ACTION_TRY_AGAIN, messages.ACTION_CHOOSE_CAMERA]
    qtbot.mouseClick(item.buttons["try_again"], Qt.MouseButton.LeftButton)
    aloop.run(h.settle())
    assert h.engine.calls[-1] == ("retry",)
    h.engine.emit(ev.DeviceErrorEvent("camera", "busy", "Your camera is busy."))
    qtbot.mouseClick(w.notices.item("device:camera").buttons["audio_only"], Qt.MouseButton.LeftButton)
    assert w.lobby.mode() == "audio" and h.page is w.searching
    aloop.run(h.settle())
    assert ("audio_only",) in h.engine.calls and h.engine.calls[-1] == ("find", "audio", None)
    h.engine.emit(ev.DeviceErrorEvent("microphone", "not_found", "No microphone."))
    assert set(w.notices.item("device:microphone").buttons) == {"try_again", "choose_microphone"}


def test_choose_a_device_ends_the_call_and_opens_the_picker(harness, aloop, qtbot):
    h, w = harness, harness.window
    w.lobby.find_button.click()
    h.engine.emit(ev.Matched("s9", True, "video", None))
    assert h.page is w.call
    h.engine.emit(ev.DeviceErrorEvent("camera", "not_found", "No camera was found."))
    qtbot.mouseClick(w.notices.item("device:camera").buttons["choose_camera"], Qt.MouseButton.LeftButton)
    assert h.page is w.lobby  # the pickers are in the lobby
    assert w.notices.item("device:camera") is None
    qtbot.waitUntil(lambda: w.lobby.camera.view().isVisible())  # its list is open to pick from
    w.lobby.camera.hidePopup()
    aloop.run(h.settle())
    assert h.engine.calls[-1] == ("leave",)
    h.engine.emit(ev.DeviceErrorEvent("microphone", "busy", "Your microphone is busy."))
    qtbot.mouseClick(w.notices.item("device:microphone").buttons["choose_microphone"], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: w.lobby.microphone.view().isVisible())
    w.lobby.microphone.hidePopup()
    assert h.page is w.lobby and h.engine.calls[-1] == ("leave",)  # nothing more sent from the lobby


def test_report_and_mode_changed(harness, aloop):
    h, w = harness, harness.window
    w.lobby.find_button.click()
    h.engine.emit(ev.Matched("s7", True, "video", None))
    w.call.report_actions[0].trigger()
    aloop.run(h.settle())
    assert h.engine.calls[-1] == ("report", messages.REPORT_REASONS[0])
    assert messages.NOTICE_REPORTED in w.notices.texts()
    h.engine.emit(ev.ModeChanged("audio", "Continuing with audio only."))
    assert not w.call.camera_button.isEnabled() and w.lobby.mode() == "audio"


def test_server_change_in_settings_restarts_engine(harness, aloop):
    h, w = harness, harness.window
    w.open_settings()
    dialog = w.settings_dialog
    assert dialog is not None and dialog.isVisible()
    dialog.server.setText("ws://127.0.0.1:9/ws")
    dialog.sounds.setChecked(False)
    dialog._save()
    aloop.run(h.settle())
    assert len(h.engines) == 2 and h.engines[1].options.server == "ws://127.0.0.1:9/ws"
    assert h.engines[0].calls[-1] == ("close",)
    assert h.controller.settings.server == "ws://127.0.0.1:9/ws" and not w.sounds.enabled


def test_matched_in_background_notifies(harness, aloop, qtbot):
    from PySide6.QtWidgets import QWidget

    h, w = harness, harness.window
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow)
    w.lobby.find_button.click()
    h.engine.emit(ev.Matched("s8", True, "video", None))
    assert w.notifications_shown == []  # the person is looking at the window already
    w.call.end_button.click()
    other = QWidget()
    qtbot.addWidget(other)
    other.show()
    other.activateWindow()
    qtbot.waitUntil(lambda: not w.isActiveWindow())
    w.lobby.find_button.click()
    h.engine.emit(ev.Matched("s9", True, "video", None))
    assert w.notifications_shown == [messages.NOTIFY_MATCHED_TITLE]


def test_every_control_has_an_accessible_name(harness):
    from PySide6.QtWidgets import QAbstractButton, QComboBox, QLineEdit, QWidget

    controls: list[QWidget] = []
    for kind in (QAbstractButton, QComboBox, QLineEdit):
        controls += harness.window.findChildren(kind)
    # Qt's own sub-widgets (a line edit's clear button, a combo's popup) are named by Qt.
    ours = [c for c in controls if not isinstance(c.parent(), QLineEdit)]
    missing = [f"{type(c).__name__} {c.objectName()} {getattr(c, 'text', str)()}" for c in ours if not c.accessibleName()]
    assert len(ours) >= 15
    assert missing == []


def test_cancelling_a_test_calls_search_ends_the_test_not_the_real_search(make_harness, aloop, qtbot):
    closed: list[str] = []

    async def practice(mode: str, options: EngineOptions) -> tuple[str, Any]:
        async def close_partner() -> None:
            closed.append(mode)

        return "ws://127.0.0.1:9/practice", close_partner

    h = make_harness(practice=practice)
    w = h.window

    async def scenario() -> None:
        h.controller.start_test_call("video")
        await h.settle()
        assert h.page is w.searching and len(h.engines) == 2
        real, test = h.engines
        assert test.options.server == "ws://127.0.0.1:9/practice"
        assert test.calls[-1] == ("find", "video", None)
        qtbot.keyClick(w, Qt.Key.Key_Escape)
        assert h.page is w.lobby
        await h.settle()
        assert ("close",) in test.calls and closed == ["video"]  # the test call and its partner are gone
        assert ("cancel",) not in real.calls  # the real engine was not searching: nothing to cancel
        test.emit(ev.Matched("late", True, "video", None))  # a match that raced the close shows nothing
        assert h.page is w.lobby

    aloop.run(scenario())


def test_a_new_engine_is_shown_and_the_old_ones_model_no_more(harness, aloop):
    """Settings restart the engine: the window follows the new engine's model, not the old one's."""
    h, w = harness, harness.window
    h.controller.apply_connection("ws://127.0.0.1:9/ws", relay_only=False, token="", ca_file="")
    aloop.run(h.settle())
    old, new = h.engines
    assert old.calls[-1] == ("close",)
    old.model.find()  # the old model moves on: heard no more
    old.emit(ev.Matched("old", True, "video", None))
    assert h.page is w.lobby and h.controller.page is Page.LOBBY
    w.lobby.find_button.click()
    assert h.page is w.searching and new.model.searching and old.model.in_session
    new.emit(ev.Matched("s10", True, "video", None))
    assert h.page is w.call
    aloop.run(h.settle())
    assert new.calls[-1] == ("find", "video", None)


def test_a_call_that_ended_by_itself_stays_until_the_person_moves_on(harness, aloop, qtbot):
    h, w = harness, harness.window
    w.lobby.find_button.click()
    h.engine.emit(ev.Matched("s11", True, "video", None))
    h.engine.emit(ev.Disconnected("ws://x/ws", 1.0, "lost"))  # the connection dropped: the call is over
    assert not h.engine.model.in_session and h.page is w.call
    h.engine.emit(ev.Connected("ws://x/ws"))
    h.engine.emit(ev.Idle())
    assert h.page is w.call
    qtbot.keyClick(w, Qt.Key.Key_N)  # "Next" from the ended call searches again, at once
    assert h.page is w.searching and h.engine.model.searching
    h.engine.emit(ev.Matched("s12", True, "video", None))
    w.call.report_actions[0].trigger()  # a report ends the call and leaves it on screen
    assert not h.engine.model.in_session and h.page is w.call
    qtbot.mouseClick(w.call.end_button, Qt.MouseButton.LeftButton)
    assert h.page is w.lobby
    aloop.run(h.settle())
    assert [c[0] for c in h.engine.calls[-4:]] == ["skip", "find", "report", "leave"]


def test_a_lost_server_in_a_call_is_a_quiet_notice_gone_on_resumed(harness, aloop):
    h, w = harness, harness.window
    h.engine.ticket = "t1"  # the server resumes: a lost socket keeps the call (client/session.py)
    w.lobby.find_button.click()
    h.engine.emit(ev.Matched("s1", True, "video", None))
    h.engine.emit(ev.MediaConnected("s1", 100.0))
    text = messages.SERVER_WENT_AWAY.format(seconds=1.0)
    h.engine.emit(ev.Shutdown(1.0))  # a restart: no warning over a call that goes on
    h.engine.emit(ev.SignalingLost("s1", 1.0, text))
    h.engine.emit(ev.Disconnected("ws://h:1/ws", 1.0, text))
    assert h.page is w.call  # the call goes on
    # One quiet notice, no warning with Settings: the person has nothing to fix.
    assert w.notices.keys() == ["signaling"] and w.notices.texts() == [messages.NOTICE_SIGNALING_LOST]
    assert w.notices.item("signaling").notice.level == "info" and not w.notices.item("signaling").buttons
    h.engine.emit(ev.SignalingLost("s1", 2.0, text))  # a retry failed: still the one notice
    assert w.notices.keys() == ["signaling"]
    h.engine.emit(ev.Connected("ws://h:1/ws"))
    h.engine.emit(ev.Resumed("s1"))
    assert "signaling" not in w.notices.keys() and h.page is w.call


def test_partner_reconnecting_notice_goes_when_they_are_back(harness, aloop):
    h, w = harness, harness.window
    w.lobby.find_button.click()
    h.engine.emit(ev.Matched("s1", True, "video", None))
    h.engine.emit(ev.PartnerReconnecting("old"))  # a stale session says nothing
    assert "partner_away" not in w.notices.keys()
    h.engine.emit(ev.PartnerReconnecting("s1"))
    assert messages.NOTICE_PARTNER_RECONNECTING in w.notices.texts()
    h.engine.emit(ev.PartnerResumed("s1"))
    assert "partner_away" not in w.notices.keys()
    h.engine.emit(ev.PartnerReconnecting("s1"))
    h.engine.emit(ev.MediaRestored("s1", 2500.0))  # media both ways: the partner is there
    assert "partner_away" not in w.notices.keys()
    h.engine.emit(ev.PartnerReconnecting("s1"))
    w.call.end_button.click()  # leaving the call page takes its network notices along
    assert "partner_away" not in w.notices.keys()


def test_reconnecting_over_the_partners_last_picture(harness, aloop, qtbot):
    h, w = harness, harness.window
    w.resize(800, 600)
    w.show()
    w.lobby.find_button.click()
    h.engine.emit(ev.Matched("s1", True, "video", None))
    h.engine.emit(ev.MediaConnected("s1", 100.0))
    frame = av.VideoFrame.from_ndarray(np.full((240, 320, 3), 200, np.uint8), format="rgb24")
    h.engine.emit(ev.RemoteVideoFrame("s1", frame))
    plain = w.call.remote.grab().toImage()
    # Most rebuilds bring the picture back in a blink: no words flash over it.
    h.engine.emit(ev.MediaReconnecting("s1", 1))
    assert w.call.remote.overlay() == ""
    h.engine.emit(ev.MediaRestored("s1", 600.0))
    qtbot.wait(RECONNECTING_AFTER_MS + 300)
    assert w.call.remote.overlay() == ""
    # One that takes longer says so, a second after it began.
    h.engine.emit(ev.MediaReconnecting("s1", 1))
    qtbot.waitUntil(lambda: w.call.remote.overlay() == messages.MEDIA_RECONNECTING, timeout=3000)
    assert w.call.remote.has_frame()
    assert w.call.remote.accessibleDescription() == messages.MEDIA_RECONNECTING
    dimmed = w.call.remote.grab().toImage()
    centre = (w.call.remote.width() // 2, w.call.remote.height() // 3)
    # The last picture stays, dimmed under the words: darker, not black, not gone.
    assert 0 < dimmed.pixelColor(*centre).lightness() < plain.pixelColor(*centre).lightness()
    h.engine.emit(ev.MediaRestored("s1", 2500.0))
    assert w.call.remote.overlay() == "" and w.call.remote.accessibleDescription() == ""
    h.engine.emit(ev.MediaReconnecting("s1", 1))
    w.call.end_button.click()  # off the call page: nothing of this call's network stays for the next
    qtbot.wait(RECONNECTING_AFTER_MS + 300)
    assert w.call.remote.overlay() == ""
