"""Nothing spent on what nobody sees (client/ui/visibility.py): real windows offscreen.

The offscreen platform keeps painting a minimised window (it has no window manager to unmap
it), so these show that StudyMatch itself stops converting and painting, not the platform.
"""

from __future__ import annotations

import asyncio

import av
import numpy as np
import pytest
from PySide6.QtWidgets import QApplication

from client import events as ev
from client.ui.controller import Controller
from client.ui.visibility import seen
from client.ui.window import MainWindow
from client.ui.wiring import Runtime

from .conftest import until
from .recording import Harness, RecordingEngine
from .test_miniwindow import into_call


def frame(level: int) -> av.VideoFrame:
    return av.VideoFrame.from_ndarray(np.full((240, 320, 3), level, np.uint8), format="rgb24")


@pytest.mark.parametrize(
    ("visible", "minimised", "exposed", "expected"),
    [(True, False, True, True), (True, True, True, False), (True, False, False, False), (False, False, True, False)],
)
def test_the_rule(visible: bool, minimised: bool, exposed: bool, expected: bool) -> None:
    assert seen(visible=visible, minimised=minimised, exposed=exposed) is expected


def pump() -> None:
    for _ in range(5):
        QApplication.processEvents()


def test_a_minimised_call_converts_and_paints_nothing_but_the_mini_window(harness: Harness, aloop, qtbot):
    h = harness
    remote, self_view, mini = h.window.call.remote, h.window.call.self_view, h.window.mini

    async def scenario() -> None:
        await into_call(h, qtbot)
        h.engine.emit(ev.RemoteVideoFrame("s1", frame(90)))
        h.engine.emit(ev.LocalVideoFrame(frame(60)))
        await until(lambda: remote.frames_painted == 1 and self_view.frames_painted == 1, what="both painted")

        h.window.showMinimized()
        await until(lambda: not h.window.sight.seen, what="the window unseen")
        await until(mini.isVisible, what="the mini window shown")
        for level in range(100, 130):
            h.engine.emit(ev.RemoteVideoFrame("s1", frame(level)))
            h.engine.emit(ev.LocalVideoFrame(frame(level)))
            pump()
        remote.repaint()  # even a forced paint converts nothing while unseen
        self_view.repaint()
        assert remote.frames_received == 31 and self_view.frames_received == 31  # the latest is kept
        assert remote.frames_painted == 1 and self_view.frames_painted == 1
        assert mini.picture.frames_painted >= 1  # the partner, small, in the mini window

        h.window.showNormal()
        await until(lambda: h.window.sight.seen, what="the window seen again")
        await until(lambda: remote.frames_painted == 2 and self_view.frames_painted == 2, what="latest painted")
        pump()
        assert remote.frames_painted == 2 and self_view.frames_painted == 2  # once, the latest only

    aloop.run(scenario())


def test_the_lobby_preview_stops_while_the_window_is_hidden(settings, aloop, qtbot):
    """A real preview: the shared synthetic camera through the runtime, as the app wires it; the
    camera only it used closes, and opens again when the window is seen."""
    runtime = Runtime()
    controller = Controller(settings, RecordingEngine, fake_media=True, preview=runtime, loop=aloop.loop)
    window = MainWindow(controller)
    qtbot.addWidget(window)
    preview = window.lobby.preview

    async def scenario() -> None:
        window.show()
        await controller.start()
        await until(lambda: runtime.previewing() and preview.frames_painted >= 2, what="the preview painted")
        window.showMinimized()
        await until(lambda: not runtime.previewing(), what="the preview stopped")
        await until(lambda: not runtime.media.camera_is_open, what="the unused camera closed")
        received, captured = preview.frames_received, runtime.media.camera_frames[0]
        await asyncio.sleep(0.2)
        pump()
        assert preview.frames_received == received and runtime.media.camera_frames[0] == captured
        window.showNormal()
        await until(lambda: runtime.previewing() and preview.frames_received > received, what="preview back")
        await until(lambda: preview.frames_painted > 2, what="painted again")
        await controller.shutdown()
        await runtime.close()

    aloop.run(scenario())


def test_a_window_minimised_before_the_call_paints_nothing_of_it(settings, aloop, qtbot):
    """Minimised right after it was shown, before the platform exposed it (bench/power.py's case)."""
    h = Harness(settings, aloop.loop)
    qtbot.addWidget(h.window)
    remote = h.window.call.remote

    async def scenario() -> None:
        h.window.show()
        h.window.showMinimized()
        await h.controller.start()
        assert not h.window.sight.seen
        await into_call(h, qtbot)
        for level in range(100, 110):
            h.engine.emit(ev.RemoteVideoFrame("s1", frame(level)))
            pump()
        remote.repaint()
        assert remote.frames_received == 10 and remote.frames_painted == 0
        await until(lambda: h.window.mini.picture.frames_painted >= 1, what="the mini window painted")
        await h.controller.shutdown()

    aloop.run(scenario())
