"""Screen sharing in the window: the picker, the share button, and the partner's shared screen.

The picker is given its list (the app's comes from mss); the call view is driven through the
controller by the recording engine of tests/gui/recording.py.
"""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
from PySide6.QtCore import QPoint, Qt

from client import events as ev
from client import messages
from client.media.screen import ScreenSource
from client.ui.views.screenpicker import ScreenPicker

from .conftest import shown_notice, until
from .test_end_to_end import MEDIA_TIMEOUT, click, painted_pattern, two_in_a_call


def screen(n: int, bgr: tuple[int, int, int]) -> ScreenSource:
    thumb = np.zeros((150, 240, 3), np.uint8)
    thumb[:, :] = bgr
    return ScreenSource(messages.SCREEN_NAME.format(n=n, width=1920, height=1200),
                        {"left": 0, "top": 0, "width": 1920, "height": 1200}, thumb)


def text_frame(w: int = 1280, h: int = 720) -> av.VideoFrame:
    array = np.full((h, w, 3), 240, np.uint8)
    array[::16, :] = 20  # lines, so the picture is not uniform
    return av.VideoFrame.from_ndarray(array, format="rgb24")


def test_a_picker_with_nothing_to_share_says_why_and_lists_nothing(qtbot):
    picker = ScreenPicker(lambda: ([], messages.SCREEN_WAYLAND))
    qtbot.addWidget(picker)
    picker.show()
    assert picker.prompt.text() == messages.SCREEN_WAYLAND
    assert picker.prompt.isVisible()
    assert not picker.list.isVisible() and picker.list.count() == 0
    assert not picker.share_button.isVisible()
    with qtbot.assertNotEmitted(picker.chosen):
        picker.share()


def test_the_picker_shows_one_thumbnail_per_screen_and_emits_the_choice(qtbot):
    screens = [screen(1, (255, 0, 0)), screen(2, (0, 0, 255))]  # BGR: blue, then red
    picker = ScreenPicker(lambda: (screens, None))
    qtbot.addWidget(picker)
    picker.show()
    assert picker.prompt.text() == messages.SCREEN_PICKER_PROMPT
    assert picker.list.isVisible() and picker.list.count() == 2
    assert [picker.list.item(i).text() for i in range(2)] == [s.name for s in screens]
    # The thumbnails are the screens' own pictures, in their colours (BGR read as BGR).
    colours = [picker.list.item(i).icon().pixmap(240, 150).toImage().pixelColor(100, 60) for i in range(2)]
    assert [(c.red(), c.green(), c.blue()) for c in colours] == [(0, 0, 255), (255, 0, 0)]
    picker.list.setCurrentRow(1)
    with qtbot.waitSignal(picker.chosen) as blocker:
        qtbot.mouseClick(picker.share_button, Qt.MouseButton.LeftButton)
    assert blocker.args == [screens[1]]
    assert not picker.isVisible()


def in_call(h, qtbot, partner_mode: str = "video") -> None:
    qtbot.mouseClick(h.window.lobby.find_button, Qt.MouseButton.LeftButton)
    h.engine.emit(ev.Matched("s1", True, partner_mode, None))
    h.engine.emit(ev.MediaConnected("s1", 300.0))


def test_the_share_button_opens_the_picker_and_toggles_with_the_share(harness, aloop, qtbot):
    h, w = harness, harness.window
    screens = [screen(1, (0, 128, 0))]
    w.list_screens = lambda: (screens, None)
    view = w.call

    async def scenario() -> None:
        in_call(h, qtbot)
        await h.settle()
        assert view.share_button.isVisible() and view.share_button.text() == messages.SCREEN_SHARE
        qtbot.mouseClick(view.share_button, Qt.MouseButton.LeftButton)
        picker = w.screen_picker
        assert picker is not None and picker.isVisible() and picker.list.count() == 1
        qtbot.mouseClick(picker.share_button, Qt.MouseButton.LeftButton)
        await h.settle()
        assert ("share_screen", screens[0]) in h.engine.calls
        assert view.share_button.text() == messages.SCREEN_SHARE  # not until the engine says it began

        h.engine.emit(ev.ScreenShare("s1", True))
        assert view.share_button.text() == messages.SCREEN_STOP and view.sharing
        assert view.self_view._placeholder == messages.SCREEN_SHARING_SELF and not view.self_view.has_frame()
        h.engine.emit(ev.LocalVideoFrame(text_frame(320, 240)))  # a camera frame late in the queue
        assert not view.self_view.has_frame()

        qtbot.mouseClick(view.share_button, Qt.MouseButton.LeftButton)
        assert h.engine.calls[-1] == ("stop_screen_share",)
        h.engine.emit(ev.ScreenShare("s1", False))
        assert view.share_button.text() == messages.SCREEN_SHARE and not view.sharing
        assert view.self_view._placeholder == messages.NO_VIDEO_SELF
        h.engine.emit(ev.LocalVideoFrame(text_frame(320, 240)))
        assert view.self_view.has_frame()  # the camera's picture again

        # A share that could not start says why, and the button stays "Share screen".
        h.engine.emit(ev.ScreenShare("s1", False, messages.SCREEN_FAILED_MACOS))
        assert shown_notice(w, "screen").notice.text == messages.SCREEN_FAILED_MACOS
        assert view.share_button.text() == messages.SCREEN_SHARE

    aloop.run(scenario())


def test_an_audio_call_offers_no_screen_share(harness, aloop, qtbot):
    h = harness

    async def scenario() -> None:
        in_call(h, qtbot, partner_mode="audio")
        await h.settle()
        assert not h.window.call.share_button.isVisible()

    aloop.run(scenario())


def test_the_partner_screen_is_said_fitted_zoomed_on_a_click_and_gone_when_they_stop(harness, aloop, qtbot):
    h, w = harness, harness.window
    view, remote = w.call, w.call.remote

    async def scenario() -> None:
        in_call(h, qtbot)
        await h.settle()
        assert not view.screen_banner.isVisible()
        h.engine.emit(ev.PartnerScreen("s1", True))
        h.engine.emit(ev.RemoteVideoFrame("s1", text_frame()))
        assert view.screen_banner.isVisible()
        assert view.screen_banner.text().startswith(messages.SCREEN_PARTNER_SHARING)
        assert messages.SCREEN_ZOOM_IN in view.screen_banner.text()
        fitted = remote.size()
        assert fitted.width() < 1280 and fitted == view.remote_area.viewport().size()

        # A click on the right half: actual size, scrolled to where the click was.
        qtbot.mouseClick(remote, Qt.MouseButton.LeftButton, pos=QPoint(fitted.width() * 3 // 4, fitted.height() // 2))
        assert view.zoomed and (remote.width(), remote.height()) == (1280, 720)
        bar = view.remote_area.horizontalScrollBar()
        assert bar.maximum() > 0 and bar.value() > bar.maximum() // 2
        assert messages.SCREEN_ZOOM_OUT in view.screen_banner.text()
        qtbot.mouseClick(remote, Qt.MouseButton.LeftButton, pos=QPoint(10, 10))
        assert not view.zoomed and remote.size() == fitted

        qtbot.mouseClick(remote, Qt.MouseButton.LeftButton, pos=QPoint(10, 10))
        assert view.zoomed
        h.engine.emit(ev.PartnerScreen("s1", False))  # they stop: their camera, fitted as ever
        assert not view.screen_banner.isVisible() and not view.zoomed and remote.size() == fitted
        qtbot.mouseClick(remote, Qt.MouseButton.LeftButton, pos=QPoint(10, 10))
        assert not view.zoomed  # a camera picture does not zoom
        h.engine.emit(ev.PartnerScreen("old", True))  # a stale session's word changes nothing
        assert not view.screen_banner.isVisible()

    aloop.run(scenario())


def test_two_windows_share_a_screen_and_stop(qtbot, aloop, tmp_path: Path):
    """Real engines on a real server: a's controller shares the synthetic screen (what the picker's
    choice calls), b's window says so and shows it; a's Stop sharing brings a's camera back to b."""

    async def scenario() -> None:
        async with two_in_a_call(qtbot, tmp_path) as (a, b):
            wa, wb = a.window, b.window
            assert wa.call.share_button.isVisible()

            a.controller.share_screen("fake")
            await until(lambda: wa.call.sharing, MEDIA_TIMEOUT, what="A sharing")
            assert wa.call.share_button.text() == messages.SCREEN_STOP
            await until(lambda: wb.call.partner_screen and wb.call.remote.frame_size() == (1280, 720),
                        MEDIA_TIMEOUT, what="A's screen in B")
            assert wb.call.screen_banner.isVisible() and wb.call.partner_camera_on

            click(qtbot, wa.call.share_button)  # Stop sharing
            await until(lambda: not wb.call.partner_screen, MEDIA_TIMEOUT, what="B told A stopped")
            await until(lambda: painted_pattern(b) is not None, MEDIA_TIMEOUT, what="A's camera back in B")
            assert not wb.call.screen_banner.isVisible()
            assert wa.call.share_button.text() == messages.SCREEN_SHARE

    aloop.run(scenario())
