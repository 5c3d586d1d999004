"""The call view says when the partner's camera is off, instead of showing black.

First with the controller fed engine events (the recording engine of
tests/gui/recording.py), then with two real windows on a real server, where one
person's camera button is what the other window reacts to.
"""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
from PySide6.QtCore import Qt

from client import events as ev
from client import messages
from client.ui.window import MainWindow

from .conftest import until
from .test_end_to_end import (
    MEDIA_TIMEOUT,
    click,
    image_to_frame,
    painted_pattern,
    two_in_a_call,
)


def grey(level: int) -> av.VideoFrame:
    return av.VideoFrame.from_ndarray(np.full((240, 320, 3), level, np.uint8), format="rgb24")


def shows_text(w: MainWindow) -> bool:
    """Something light is drawn on the remote video area (the placeholder's white text on black)."""
    pixels = image_to_frame(w.call.remote.grab().toImage()).to_ndarray(format="rgb24")
    light = pixels.min(axis=2) > 200
    own = w.call.self_view.geometry()  # the self-view floats on top; its own words do not count
    light[own.top() : own.bottom() + 1, own.left() : own.right() + 1] = False
    return bool(light.any())


def test_placeholder_on_camera_off_and_the_picture_again_on(harness, aloop, qtbot):
    h, w = harness, harness.window
    remote = w.call.remote

    async def scenario() -> None:
        qtbot.mouseClick(w.lobby.find_button, Qt.MouseButton.LeftButton)
        await h.settle()
        h.engine.emit(ev.Matched("s1", True, "video", None))
        h.engine.emit(ev.MediaConnected("s1", 300.0))
        h.engine.emit(ev.RemoteVideoFrame("s1", grey(90)))
        assert remote.has_frame() and remote.frames_received == 1
        assert not shows_text(w)  # a mid-grey picture, no words on it

        h.engine.emit(ev.PartnerCamera("s1", False))
        assert not remote.has_frame()
        assert remote._placeholder == messages.PARTNER_CAMERA_OFF
        assert remote.accessibleDescription() == messages.PARTNER_CAMERA_OFF
        assert shows_text(w)
        # The black frames a camera-off partner sends are not painted over the words.
        h.engine.emit(ev.RemoteVideoFrame("s1", grey(0)))
        assert not remote.has_frame() and remote.frames_received == 1
        h.engine.emit(ev.PartnerCamera("old-session", True))  # a stale session changes nothing
        assert remote._placeholder == messages.PARTNER_CAMERA_OFF

        h.engine.emit(ev.PartnerCamera("s1", True))
        assert remote._placeholder == "" and remote.accessibleDescription() == ""
        h.engine.emit(ev.RemoteVideoFrame("s1", grey(90)))
        assert remote.has_frame() and remote.frames_received == 2
        assert not shows_text(w)

    aloop.run(scenario())


def test_the_next_partner_starts_with_no_camera_notice(harness, aloop, qtbot):
    h, w = harness, harness.window
    remote = w.call.remote

    async def scenario() -> None:
        qtbot.mouseClick(w.lobby.find_button, Qt.MouseButton.LeftButton)
        await h.settle()
        h.engine.emit(ev.Matched("s1", True, "video", None))
        h.engine.emit(ev.PartnerCamera("s1", False))
        # Said before media connected: "Connecting…" must not replace it.
        h.engine.emit(ev.MediaConnected("s1", 300.0))
        assert remote._placeholder == messages.PARTNER_CAMERA_OFF
        qtbot.mouseClick(w.call.skip_button, Qt.MouseButton.LeftButton)
        await h.settle()
        h.engine.emit(ev.Matched("s2", False, "video", None))  # an older client: never says a thing
        h.engine.emit(ev.MediaConnected("s2", 300.0))
        assert remote._placeholder == messages.CONNECTING and remote.accessibleDescription() == ""
        h.engine.emit(ev.RemoteVideoFrame("s2", grey(90)))
        assert remote.has_frame()

    aloop.run(scenario())


def test_two_windows_camera_button_shows_and_clears_the_notice(qtbot, aloop, tmp_path: Path):
    async def scenario() -> None:
        async with two_in_a_call(qtbot, tmp_path) as (a, b):
            wa, wb = a.window, b.window

            click(qtbot, wa.call.camera_button)  # A: camera off
            await until(lambda: wb.call.remote._placeholder == messages.PARTNER_CAMERA_OFF, MEDIA_TIMEOUT,
                        what="B told A's camera is off")
            assert not wb.call.remote.has_frame() and shows_text(wb)

            click(qtbot, wa.call.camera_button)  # A: camera on again
            await until(lambda: painted_pattern(b) is not None, MEDIA_TIMEOUT, what="A's picture back in B")
            assert wb.call.remote._placeholder == ""

    aloop.run(scenario())
