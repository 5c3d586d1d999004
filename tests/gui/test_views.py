"""Each view renders its states and every control emits its intent (real widgets, offscreen)."""

from __future__ import annotations

import av
import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from client import messages
from client.ui.quality import classify
from client.ui.views.call import CallView
from client.ui.views.lobby import LobbyView
from client.ui.views.searching import SearchingView
from client.ui.views.settings_dialog import SettingsDialog, SettingsValues
from client.ui.widgets.help_overlay import HelpOverlay
from client.ui.widgets.notices import Notice, NoticeArea
from client.ui.widgets.video import VideoWidget, fit_rect


def _frame(color: tuple[int, int, int], w: int = 640, h: int = 480) -> av.VideoFrame:
    array = np.zeros((h, w, 3), np.uint8)
    array[:, :] = color
    return av.VideoFrame.from_ndarray(array, format="rgb24")


def test_lobby_emits_find_with_mode_and_topic(qtbot):
    lobby = LobbyView()
    qtbot.addWidget(lobby)
    lobby.set_topic("  Calculus ")
    lobby.audio_button.click()
    with qtbot.waitSignal(lobby.find_requested) as blocker:
        qtbot.mouseClick(lobby.find_button, Qt.MouseButton.LeftButton)
    assert blocker.args == ["audio", "Calculus"]
    with qtbot.waitSignal(lobby.find_requested) as blocker:
        lobby.subject.setFocus()
        qtbot.keyClick(lobby.subject, Qt.Key.Key_Return)
    assert blocker.args == ["audio", "Calculus"]
    with qtbot.waitSignal(lobby.test_call_requested) as blocker:
        qtbot.mouseClick(lobby.test_button, Qt.MouseButton.LeftButton)
    assert blocker.args == ["audio"]


def test_lobby_mode_switch_disables_camera_and_clears_preview(qtbot):
    lobby = LobbyView()
    qtbot.addWidget(lobby)
    lobby.set_cameras([("/dev/video0", "Webcam")], "/dev/video0")
    assert lobby.camera.isEnabled() and lobby.camera.currentText() == "Webcam"
    lobby.preview.set_frame(_frame((200, 0, 0)))
    with qtbot.waitSignal(lobby.mode_changed) as blocker:
        lobby.audio_button.click()
    assert blocker.args == ["audio"]
    assert not lobby.camera.isEnabled()
    assert not lobby.preview.has_frame()


def test_lobby_device_pickers_list_devices_and_emit_choice(qtbot):
    lobby = LobbyView()
    qtbot.addWidget(lobby)
    lobby.set_microphones([("Mic A", "Mic A"), ("Mic B", "Mic B")], "Mic B")
    assert [lobby.microphone.itemText(i) for i in range(3)] == [messages.SYSTEM_DEFAULT, "Mic A", "Mic B"]
    assert lobby.microphone.currentText() == "Mic B"
    with qtbot.waitSignal(lobby.microphone_selected) as blocker:
        lobby.microphone.setCurrentIndex(1)
        lobby.microphone.activated.emit(1)
    assert blocker.args == ["Mic A"]
    lobby.set_speakers([], "")
    assert messages.NO_DEVICES.lower() in lobby.speaker.itemText(0)
    with qtbot.waitSignal(lobby.speaker_selected) as blocker:
        lobby.speaker.activated.emit(0)
    assert blocker.args == [""]
    lobby.set_cameras([("/dev/video2", "USB cam")], "")
    with qtbot.waitSignal(lobby.camera_selected) as blocker:
        lobby.camera.setCurrentIndex(1)
        lobby.camera.activated.emit(1)
    assert blocker.args == ["/dev/video2"]


def test_searching_shows_subject_elapsed_and_cancel(qtbot):
    view = SearchingView()
    qtbot.addWidget(view)
    view.start("biology")
    assert "biology" in view.subject.text()
    assert view.pulse.running()
    view.show()
    qtbot.waitUntil(lambda: view.pulse.frames >= 2)  # the animation really paints
    with qtbot.waitSignal(view.cancel_requested):
        qtbot.mouseClick(view.cancel_button, Qt.MouseButton.LeftButton)
    view.stop()
    assert not view.pulse.running()
    view.start("")
    assert view.subject.text() == messages.SEARCHING_ANY


def test_call_controls_emit_intents(qtbot):
    view = CallView()
    qtbot.addWidget(view)
    view.start("video", "physics", practice=False, own_mode="video")
    assert "physics" in view.partner.text()
    with qtbot.waitSignal(view.mute_toggled) as blocker:
        qtbot.mouseClick(view.mute_button, Qt.MouseButton.LeftButton)
    assert blocker.args == [True] and view.mute_button.text() == messages.UNMUTE
    with qtbot.waitSignal(view.camera_toggled) as blocker:
        qtbot.mouseClick(view.camera_button, Qt.MouseButton.LeftButton)
    assert blocker.args == [False] and view.camera_button.text() == messages.CAMERA_ON
    with qtbot.waitSignal(view.skip_requested):
        qtbot.mouseClick(view.skip_button, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(view.end_requested):
        qtbot.mouseClick(view.end_button, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(view.report_requested) as blocker:
        view.report_actions[1].trigger()
    assert blocker.args == [messages.REPORT_REASONS[1]]
    qtbot.keyClicks(view.chat_input, "hello there")
    with qtbot.waitSignal(view.chat_submitted) as blocker:
        qtbot.keyClick(view.chat_input, Qt.Key.Key_Return)
    assert blocker.args == ["hello there"] and view.chat_input.text() == ""
    with qtbot.assertNotEmitted(view.chat_submitted):
        qtbot.mouseClick(view.send_button, Qt.MouseButton.LeftButton)  # nothing typed: nothing sent


def test_call_renders_partner_chat_stats_and_modes(qtbot):
    view = CallView()
    qtbot.addWidget(view)
    view.start("audio", "", practice=False, own_mode="audio")
    assert view.partner.text() == messages.PARTNER_AUDIO
    assert not view.camera_button.isEnabled() and view.self_view.isHidden()
    view.add_chat("hi", mine=True)
    view.add_chat("hello", mine=False)
    assert view.chat_texts() == [f"{messages.CHAT_ME}: hi", f"{messages.CHAT_PARTNER}: hello"]
    view.set_stats(40.0, 0.0, 900.0)
    assert view.quality.quality.level == "good" and "good" in view.quality_label.text()
    view.set_stats(450.0, 9.0, 100.0)
    assert view.quality.quality.bars == 1 and "450 ms" in view.quality.toolTip()
    view.start("video", "", practice=True, own_mode="video")
    assert view.partner.text() == messages.PRACTICE_PARTNER
    assert not view.skip_button.isEnabled() and not view.report_button.isEnabled()
    assert view.chat_texts() == []


def test_video_widget_paints_frame_scaled_with_aspect(qtbot):
    widget = VideoWidget("nothing yet")
    qtbot.addWidget(widget)
    widget.resize(400, 400)
    widget.show()
    qtbot.waitExposed(widget)
    widget.set_frame(_frame((0, 200, 0)))
    widget.repaint()
    image = widget.grab().toImage()
    centre = image.pixelColor(200, 200)
    assert (centre.red(), centre.green(), centre.blue()) == (0, 200, 0)
    top = image.pixelColor(200, 5)  # 4:3 in a square: letterboxed above and below
    assert (top.red(), top.green(), top.blue()) == (0, 0, 0)
    painted_image = widget.current_image()
    assert painted_image is not None and painted_image.width() == 400
    painted = widget.frames_painted
    widget.repaint()  # no new frame: the cached image is reused, not converted again
    assert widget.frames_painted == painted


@pytest.mark.parametrize(
    ("frame", "area", "expected"),
    [((640, 480), (400, 400), (0, 50, 400, 300)), ((640, 480), (800, 300), (200, 0, 400, 300))],
)
def test_fit_rect_keeps_aspect(frame, area, expected):
    assert fit_rect(*frame, *area) == expected


def test_quality_classification():
    assert classify(None, None, None).level == "unknown"
    assert classify(100, 0.5, 500).level == "good"
    assert classify(250, 2.0, 500).level == "fair"
    assert classify(80, 12.0, 500).level == "poor"
    # A still picture sent at 5 fps (client/media/motion.py) carries a fraction of the bitrate:
    # the label follows round trip and loss only, never the rate, so it stays "good".
    assert classify(100, 0.5, 40).level == "good"


def test_notices_replace_by_key_and_emit_actions(qtbot):
    area = NoticeArea()
    qtbot.addWidget(area)
    area.show_notice(Notice("server", "first", "warning"))
    area.show_notice(Notice("server", "second", "warning"))
    assert area.texts() == ["second"] and not area.isHidden()
    item = area.show_notice(Notice("device:camera", "busy", "error", (("audio_only", "Audio"), ("try_again", "Retry"))))
    with qtbot.waitSignal(area.action_triggered) as blocker:
        qtbot.mouseClick(item.buttons["try_again"], Qt.MouseButton.LeftButton)
    assert blocker.args == ["device:camera", "try_again"]
    qtbot.mouseClick(item.close_button, Qt.MouseButton.LeftButton)
    assert area.keys() == ["server"]
    area.show_notice(Notice("gone", "bye", timeout=0.05))
    qtbot.waitUntil(lambda: "gone" not in area.keys())
    area.dismiss("server")
    assert area.isHidden()


def test_help_overlay_lists_every_shortcut_and_closes_with_escape(qtbot):
    parent = QWidget()
    qtbot.addWidget(parent)
    parent.resize(600, 400)
    overlay = HelpOverlay(parent)
    parent.show()
    overlay.toggle()
    assert overlay.isVisible() and overlay.geometry() == parent.rect()
    keys = [key for key, _ in overlay.rows]
    assert {"M", "V", "N", "Esc", "Enter"} <= set(keys)
    with qtbot.waitSignal(overlay.closed):
        qtbot.keyClick(overlay, Qt.Key.Key_Escape)
    assert not overlay.isVisible()


def test_settings_dialog_validates_and_saves(qtbot):
    dialog = SettingsDialog(SettingsValues("ws://127.0.0.1:8765/ws", False, True, True))
    qtbot.addWidget(dialog)
    dialog.server.setText("http://nope")
    with qtbot.assertNotEmitted(dialog.saved):
        dialog._save()
    assert dialog.error.isVisibleTo(dialog)
    dialog.server.setText("wss://study.example.org/ws")
    dialog.auto_search.setChecked(True)
    with qtbot.waitSignal(dialog.saved) as blocker:
        dialog._save()
    assert blocker.args[0] == SettingsValues("wss://study.example.org/ws", True, True, True)
