"""The mini window (client/ui/miniwindow.py): what it shows, when it shows, where it stays.

The rules first (client/ui/miniplace.py, pure), then the real window offscreen, fed the
controller's signals by the recording engine (tests/gui/recording.py). Whether a real
window manager keeps it on top is tests/gui/test_miniwindow_x11.py's part.
"""

from __future__ import annotations

import time

import av
import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication, QWidget

from client import events as ev
from client import messages
from client.ui import miniplace
from client.ui.miniwindow import MiniWindow
from client.ui.pages import Page

from .conftest import until
from .recording import Harness

# --- the rules ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("enabled", "in_call", "minimised", "app_in_front", "shown"),
    [
        (True, True, True, False, True),  # minimised
        (True, True, False, False, True),  # another app has the focus
        (True, True, True, True, True),  # minimised, a dialog of ours focused
        (True, True, False, True, False),  # the person is in StudyMatch: the call page is in view
        (True, False, True, False, False),  # no call
        (False, True, True, False, False),  # switched off
    ],
)
def test_when_it_shows(enabled: bool, in_call: bool, minimised: bool, app_in_front: bool, shown: bool) -> None:
    assert miniplace.should_show(enabled=enabled, in_call=in_call, minimised=minimised,
                                 app_in_front=app_in_front) is shown


def test_clamp_keeps_a_visible_place_and_brings_back_a_lost_one() -> None:
    screens = [(0, 0, 1920, 1080), (1920, 0, 1280, 1024)]
    assert miniplace.clamp(100, 200, 260, 250, screens) == (100, 200)
    assert miniplace.clamp(2000, 50, 260, 250, screens) == (2000, 50)  # on the second monitor
    assert miniplace.clamp(1800, 900, 260, 250, screens) == (1660, 830)  # hanging off: pushed in
    assert miniplace.clamp(-500, -40, 260, 250, screens) == (0, 0)
    # Left on a monitor since unplugged: it comes back on the one still there.
    assert miniplace.clamp(3000, 300, 260, 250, screens[:1]) == (1660, 300)
    assert miniplace.clamp(5, 6, 260, 250, []) == (5, 6)
    assert miniplace.corner(260, 250, (0, 0, 1920, 1080)) == (1636, 24)


# --- the window, fed the controller's signals ---------------------------------------------


def grey(level: int) -> av.VideoFrame:
    return av.VideoFrame.from_ndarray(np.full((120, 160, 3), level, np.uint8), format="rgb24")


def other_app(qtbot) -> QWidget:
    """A window outside the main window's family: to the follower, the focus went elsewhere."""
    other = QWidget()
    qtbot.addWidget(other)
    other.resize(200, 100)
    other.show()
    return other


async def activate(widget: QWidget) -> None:
    widget.activateWindow()
    await until(lambda: QApplication.activeWindow() is widget, what=f"{widget} active")


async def into_call(h: Harness, qtbot, mode: str = "video", session: str = "s1") -> None:
    qtbot.mouseClick(h.window.lobby.find_button, Qt.MouseButton.LeftButton)
    await h.settle()
    h.engine.emit(ev.Matched(session, True, mode, None))
    h.engine.emit(ev.MediaConnected(session, 300.0))
    assert h.controller.page is Page.CALL


def test_it_shows_the_session_and_its_buttons_drive_the_call(harness, aloop, qtbot):
    h, mini = harness, harness.window.mini

    async def scenario() -> None:
        await into_call(h, qtbot)
        h.window.showMinimized()
        await until(mini.isVisible, what="the mini window shown")
        now = time.time()
        h.engine.emit(ev.SessionStarted("s1", 25, "talk", now, now + 1500))
        h.engine.emit(ev.SessionPhase("s1", "check_in", now + 120))
        assert mini.phase.text() == messages.STUDY_PHASES["check_in"]
        assert mini.countdown.text() == h.window.call.study.clock.text() == "2:00"  # one clock, both places
        assert mini.partner_goal.text() == messages.STUDY_GOAL_PARTNER.format(goal=messages.STUDY_GOAL_NONE)
        h.engine.emit(ev.PartnerGoal("s1", "Finish <b>chapter</b> 3"))
        assert mini.partner_goal.text() == messages.STUDY_GOAL_PARTNER.format(goal="Finish <b>chapter</b> 3")
        assert mini.partner_goal.textFormat() == Qt.TextFormat.PlainText  # shown as typed, never as markup
        mine = "Read " + "very " * 25 + "much"  # 134 characters, within the goal's 140
        h.window.call.study.goal.setText(mine)
        h.window.call.study.submit_goal()  # the study panel's Ready: the goal shows here too
        assert mini.my_goal.text().endswith("…")  # elided to fit; the tooltip has it whole
        assert mini.my_goal.toolTip() == messages.STUDY_GOAL_MINE.format(goal=mine)
        h.engine.emit(ev.PartnerGoal("other-session", "not theirs"))  # a stale session changes nothing
        assert "chapter" in mini.partner_goal.text()
        h.engine.emit(ev.SessionPhase("s1", "focus", now + 1500))
        assert mini.phase.text() == messages.STUDY_PHASES["focus"]
        assert mini.countdown.text() == h.window.call.study.clock.text() == "25:00"

        # The partner's picture, only while the window shows.
        h.engine.emit(ev.RemoteVideoFrame("s1", grey(90)))
        assert mini.picture.has_frame()
        await until(lambda: mini.picture.frames_painted >= 1, what="the picture painted")
        assert not mini.level.isVisible()  # a video call shows the partner, not a meter
        h.engine.emit(ev.PartnerCamera("s1", False))
        assert not mini.picture.has_frame()
        assert mini.picture.accessibleDescription() == messages.PARTNER_CAMERA_OFF

        # Mute and End are the call's own intents.
        qtbot.mouseClick(mini.mute, Qt.MouseButton.LeftButton)
        await h.settle()
        assert h.controller.muted and ("muted", True) in h.engine.calls
        assert mini.mute.text() == messages.UNMUTE and h.window.call.mute_button.isChecked()
        h.controller.set_muted(False)  # the main window's button (or M) shows here too
        assert not mini.mute.isChecked() and mini.mute.text() == messages.MUTE
        qtbot.mouseClick(mini.end, Qt.MouseButton.LeftButton)
        await h.settle()
        assert ("leave",) in h.engine.calls and h.controller.page is Page.LOBBY
        assert not mini.isVisible()  # the call is over

    aloop.run(scenario())


def test_an_open_audio_session_counts_up_and_paints_no_picture(harness, aloop, qtbot):
    h, mini = harness, harness.window.mini

    async def scenario() -> None:
        h.window.showMinimized()
        assert not mini.isVisible()  # no call: no mini window
        await into_call(h, qtbot, mode="audio")
        await until(mini.isVisible, what="the mini window shown")
        assert mini.picture.accessibleDescription() == messages.MINI_AUDIO_CALL
        h.engine.emit(ev.SessionStarted("s1", None, "quiet", time.time() - 65, None))
        assert mini.phase.text() == messages.MINI_OPEN_SESSION
        assert mini.countdown.text() in ("1:05", "1:06")
        h.engine.emit(ev.RemoteVideoFrame("s1", grey(90)))
        assert not mini.picture.has_frame()
        # In place of a picture, the partner's voice on a meter; another session's moves nothing.
        assert mini.level.isVisible() and mini.level.value() == 0
        h.engine.emit(ev.PartnerAudioLevel("s1", 0.72))
        assert mini.level.value() == 72
        h.engine.emit(ev.PartnerAudioLevel("old-session", 0.1))
        assert mini.level.value() == 72
        h.engine.emit(ev.PartnerAudioLevel("s1", 0.0))
        assert mini.level.value() == 0

    aloop.run(scenario())


def test_hidden_it_converts_no_frame(harness, aloop, qtbot):
    h, mini = harness, harness.window.mini

    async def scenario() -> None:
        await into_call(h, qtbot)
        await activate(h.window)
        assert not mini.isVisible()
        h.engine.emit(ev.RemoteVideoFrame("s1", grey(90)))
        assert h.window.call.remote.has_frame() and not mini.picture.has_frame()
        assert mini.picture.frames_painted == 0

    aloop.run(scenario())


def test_shown_when_minimised_or_deactivated_hidden_when_back_or_ended(harness, aloop, qtbot):
    h, w, mini = harness, harness.window, harness.window.mini

    async def scenario() -> None:
        await activate(w)
        other = other_app(qtbot)
        await activate(other)
        assert not mini.isVisible()  # in the lobby the mini window never shows
        await activate(w)
        await into_call(h, qtbot)
        assert not mini.isVisible()  # the call page is in front of the person

        # The person works in another app. (Offscreen, Qt activates every window it shows, the
        # mini window too, so "other" may not stay active; a real window manager keeps the focus
        # off a WindowDoesNotAcceptFocus window: test_miniwindow_x11.py.)
        other.activateWindow()
        await until(mini.isVisible, what="shown on deactivation")
        assert mini.windowFlags() & Qt.WindowType.WindowStaysOnTopHint
        assert mini.windowFlags() & Qt.WindowType.WindowDoesNotAcceptFocus
        await activate(w)
        await until(lambda: not mini.isVisible(), what="hidden on activation")

        w.showMinimized()
        await until(mini.isVisible, what="shown on minimise")
        w.showNormal()
        await activate(w)
        await until(lambda: not mini.isVisible(), what="hidden when restored")

        w.showMinimized()
        await until(mini.isVisible, what="shown on minimise")
        h.engine.emit(ev.PartnerLeft("s1", "left"))  # the call page may stay a moment to say why
        await until(lambda: not mini.isVisible(), what="hidden when the partner leaves")

        await into_call(h, qtbot, session="s2")  # the next partner, found while still minimised
        await until(mini.isVisible, what="shown for the next call")
        h.engine.emit(ev.CallEnded("s2", 42.0, 0, 0, None))
        await until(lambda: not mini.isVisible(), what="hidden when the call ends")

    aloop.run(scenario())


def test_switched_off_in_settings_it_never_shows(harness, aloop, qtbot):
    h, w, mini = harness, harness.window, harness.window.mini

    async def scenario() -> None:
        w.open_settings()
        dialog = w.settings_dialog
        assert dialog is not None and dialog.mini_window.isChecked()
        dialog.mini_window.setChecked(False)
        dialog.buttons.button(dialog.buttons.StandardButton.Save).click()
        assert h.controller.settings.mini_window is False
        await into_call(h, qtbot)
        w.showMinimized()
        await h.settle()
        assert not mini.isVisible()
        w.open_settings()  # on again, during the call: it shows at once
        assert w.settings_dialog is not None and not w.settings_dialog.mini_window.isChecked()
        w.settings_dialog.mini_window.setChecked(True)
        w.settings_dialog.buttons.button(w.settings_dialog.buttons.StandardButton.Save).click()
        await until(mini.isVisible, what="shown once switched on")

    aloop.run(scenario())


def drag(widget: QWidget, start: QPoint, by: QPoint) -> None:
    """A left-button drag on the widget's body, as real mouse events (local and global positions)."""
    origin = widget.mapToGlobal(start)
    steps = ((QEvent.Type.MouseButtonPress, QPoint(0, 0), Qt.MouseButton.LeftButton),
             (QEvent.Type.MouseMove, by / 2, Qt.MouseButton.LeftButton),
             (QEvent.Type.MouseMove, by, Qt.MouseButton.LeftButton),
             (QEvent.Type.MouseButtonRelease, by, Qt.MouseButton.NoButton))
    for kind, offset, buttons in steps:
        glob = origin + offset
        event = QMouseEvent(kind, QPointF(widget.mapFromGlobal(glob)), QPointF(glob), Qt.MouseButton.LeftButton,
                            buttons, Qt.KeyboardModifier.NoModifier)
        QApplication.sendEvent(widget, event)


def test_dragged_by_its_body_it_remembers_where_it_was(qtbot, settings):
    mini = MiniWindow(settings)
    qtbot.addWidget(mini)
    mini.place()
    mini.show()
    screen = mini.screen().availableGeometry()
    first = mini.pos()
    assert (first.x(), first.y()) == miniplace.corner(mini.width(), mini.height(),
                                                      (screen.x(), screen.y(), screen.width(), screen.height()))
    body = mini.phase.geometry().center()  # a label: the body, not a button
    with qtbot.waitSignal(mini.moved) as moved:
        drag(mini, body, QPoint(-300, 120))
    assert mini.pos() == first + QPoint(-300, 120) == moved.args[0]
    assert settings.mini_window_pos == mini.pos()

    again = MiniWindow(settings)  # the next call, or the next run: the same place
    qtbot.addWidget(again)
    again.place()
    assert again.pos() == mini.pos()

    settings.mini_window_pos = QPoint(screen.right() + 5000, -3000)  # a monitor since unplugged
    again.place()
    assert screen.contains(again.geometry())
