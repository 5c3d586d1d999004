"""Two real windows, one real server (port 0), real engines with synthetic media,
all in one process on one qasync loop: what a person clicks is what is tested."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import AsyncIterator
from pathlib import Path

import av
import numpy as np
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QImage
from PySide6.QtMultimedia import QMediaDevices

from client import messages
from client.media.synthetic import PatternInfo, read_pattern
from client.ui.app import App
from client.ui.settings import Settings
from server.config import ServerConfig
from server.ws.app import running_server

from .conftest import TIMEOUT, real_engine, shown_notice, signal, until

MEDIA_TIMEOUT = 3 * TIMEOUT  # ICE + DTLS + first decoded frame on two busy cores


def image_to_frame(image: QImage) -> av.VideoFrame:
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    w, h = image.width(), image.height()
    data = np.frombuffer(image.constBits(), np.uint8, count=image.bytesPerLine() * h)
    array = data.reshape(h, image.bytesPerLine())[:, : w * 3].reshape(h, w, 3)
    return av.VideoFrame.from_ndarray(np.ascontiguousarray(array), format="rgb24")


def make_settings(tmp_path: Path, name: str, server: str, **values: object) -> Settings:
    settings = Settings(QSettings(str(tmp_path / f"{name}.ini"), QSettings.Format.IniFormat))
    settings.server = server
    for key, value in values.items():
        setattr(settings, key, value)
    return settings


@contextlib.asynccontextmanager
async def window(qtbot, settings: Settings, *, fake_media: bool = True, history: Path | None = None) -> AsyncIterator[App]:
    app = App(settings, fake_media=fake_media, history=history)
    qtbot.addWidget(app.window)
    app.window.show()
    await app.start()
    try:
        await until(lambda: app.controller.connected, what="connected to the server")
        yield app
    finally:
        await app.close()


def click(qtbot, button) -> None:
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


@contextlib.asynccontextmanager
async def two_in_a_call(qtbot, tmp_path: Path) -> AsyncIterator[tuple[App, App]]:
    """A real server and two windows: A searches, then B, until A's camera is painted in B."""
    async with running_server(ServerConfig(port=0, log_level="warning")) as srv:
        async with window(qtbot, make_settings(tmp_path, "a", srv.url)) as a, \
                window(qtbot, make_settings(tmp_path, "b", srv.url)) as b:  # fmt: skip
            click(qtbot, a.window.lobby.find_button)
            await until(lambda: a.window.pages.currentWidget() is a.window.searching, what="A searching")
            click(qtbot, b.window.lobby.find_button)
            await until(lambda: painted_pattern(b) is not None, MEDIA_TIMEOUT, what="A's picture in B")
            yield a, b


def painted_pattern(app: App) -> PatternInfo | None:
    image = app.window.call.remote.current_image()
    return None if image is None else read_pattern(image_to_frame(image))


async def paints_the_moving_pattern(app: App) -> None:
    """The window paints the partner's moving pattern: two painted images, two moments."""
    await until(lambda: painted_pattern(app) is not None, MEDIA_TIMEOUT, what="the partner's pattern painted")
    first = painted_pattern(app)
    assert first is not None
    await until(lambda: (p := painted_pattern(app)) is not None and p.sequence > first.sequence,
                what="the pattern moving")
    shot = app.window.call.remote.grab().toImage()
    pixels = image_to_frame(shot).to_ndarray(format="rgb24")
    assert pixels.std() > 40  # the bars really reach the screen
    assert app.window.call.remote.frames_painted <= app.window.call.remote.frames_received


def test_two_windows_call_chat_skip_end(qtbot, aloop, tmp_path):
    async def scenario() -> None:
        # No rematch cool-down: the same two windows meet again after a skip.
        async with running_server(ServerConfig(port=0, rematch_cooldown=0.0, log_level="warning")) as srv:
            async with window(qtbot, make_settings(tmp_path, "a", srv.url, topic="physics")) as a, \
                    window(qtbot, make_settings(tmp_path, "b", srv.url)) as b:
                wa, wb = a.window, b.window
                assert wa.pages.currentWidget() is wa.lobby
                click(qtbot, wa.lobby.find_button)
                await until(lambda: wa.pages.currentWidget() is wa.searching, what="A searching")
                click(qtbot, wb.lobby.find_button)
                await until(lambda: wa.pages.currentWidget() is wa.call and wb.pages.currentWidget() is wb.call,
                            what="both windows in the call")
                assert "physics" in wb.call.partner.text()  # B sees A's subject

                for app in (a, b):
                    await paints_the_moving_pattern(app)

                # Chat over the data channel (keys go to the active window, as on a desktop).
                wa.activateWindow()
                await until(wa.isActiveWindow, what="A active")
                wa.call.chat_input.setFocus()
                qtbot.keyClicks(wa.call.chat_input, "shall we start with chapter 3?")
                qtbot.keyClick(wa.call.chat_input, Qt.Key.Key_Return)
                await until(lambda: f"{messages.CHAT_PARTNER}: shall we start with chapter 3?" in wb.call.chat_texts(),
                            what="chat text at B")
                assert wa.call.chat_texts() == [f"{messages.CHAT_ME}: shall we start with chapter 3?"]

                # Skip in A: B is told its partner left; A searches again.
                click(qtbot, wa.call.skip_button)
                await until(lambda: messages.NOTICE_PARTNER_LEFT in wb.notices.texts(), what="partner-left notice")
                assert wb.pages.currentWidget() is wb.lobby
                assert wa.pages.currentWidget() is wa.searching

                # Next partner from B's notice meets A again; End in A returns it to the lobby.
                click(qtbot, shown_notice(wb, "partner").buttons["next"])
                await until(lambda: wa.pages.currentWidget() is wa.call and wb.pages.currentWidget() is wb.call,
                            what="second call")
                click(qtbot, wa.call.end_button)
                assert wa.pages.currentWidget() is wa.lobby
                await until(lambda: wb.pages.currentWidget() is wb.lobby, what="B back in the lobby")
                assert messages.NOTICE_PARTNER_LEFT in wb.notices.texts()

    aloop.run(scenario())


def test_camera_error_then_continue_with_audio_only(qtbot, aloop, tmp_path):
    async def scenario() -> None:
        async with running_server(ServerConfig(port=0, log_level="warning")) as srv:
            # A real camera path that does not exist: PyAV's v4l2 really fails on it.
            broken = make_settings(tmp_path, "a", srv.url, camera="/dev/video9", microphone="fake")
            async with window(qtbot, broken, fake_media=False) as a, \
                    window(qtbot, make_settings(tmp_path, "b", srv.url, mode="audio")) as b:
                wa, wb = a.window, b.window
                await until(lambda: wa.notices.item("device:camera") is not None, what="camera notice")
                notice = shown_notice(wa, "device:camera")
                assert notice.notice.text.startswith("No camera was found")
                assert set(notice.buttons) == {"audio_only", "try_again", "choose_camera"}
                click(qtbot, wb.lobby.find_button)
                click(qtbot, notice.buttons["audio_only"])
                assert wa.lobby.mode() == "audio"
                await until(lambda: wa.pages.currentWidget() is wa.call and wb.pages.currentWidget() is wb.call,
                            what="an audio call")
                assert wb.call.partner.text() == messages.PARTNER_AUDIO
                assert not wa.call.camera_button.isEnabled()
                await until(lambda: wa.call.remote._placeholder == messages.NO_VIDEO_PARTNER, MEDIA_TIMEOUT,
                            what="media connected")

    aloop.run(scenario())


def test_end_right_after_matched_leaks_nothing(qtbot, aloop, tmp_path):
    """End pressed the moment the call page appears, while ICE is still gathering: the
    engine closes the peer connection's UDP sockets (a leak fails this test in aloop's gc)."""
    async def scenario() -> None:
        async with running_server(ServerConfig(port=0, rematch_cooldown=0.0, log_level="warning")) as srv:
            async with window(qtbot, make_settings(tmp_path, "a", srv.url)) as a, \
                    window(qtbot, make_settings(tmp_path, "b", srv.url)) as b:
                wa, wb = a.window, b.window
                assert gc.get_freeze_count() == 0  # the window froze nothing in the test's process
                for round_ in range(3):
                    click(qtbot, wa.lobby.find_button)
                    await until(lambda: wa.pages.currentWidget() is wa.searching, what="A searching")
                    matched = signal(a.controller.partner_found)
                    click(qtbot, wb.lobby.find_button)
                    await matched
                    click(qtbot, wa.call.end_button)  # the same loop turn the call page appeared
                    assert wa.pages.currentWidget() is wa.lobby
                    await until(lambda: wb.pages.currentWidget() is wb.lobby, what=f"B back in the lobby ({round_})")
                    await until(lambda: real_engine(a).call is None and real_engine(b).call is None,
                                what="both calls closed")

    aloop.run(scenario())


def test_unknown_speaker_is_an_information_notice(qtbot, aloop, tmp_path):
    """Real Qt audio (no sound card here): the chosen speaker is not there, the test call
    still runs, and the window says where the sound goes, as information, not as an error."""
    async def scenario() -> None:
        async with running_server(ServerConfig(port=0, log_level="warning")) as srv:
            name = "Headphones that are not plugged in"
            settings = make_settings(tmp_path, "a", srv.url, camera="fake", microphone="fake", speaker=name)
            async with window(qtbot, settings, fake_media=False) as a:
                w = a.window
                click(qtbot, w.lobby.test_button)
                await until(lambda: w.notices.item("speaker") is not None, MEDIA_TIMEOUT, what="speaker notice")
                item = shown_notice(w, "speaker")
                assert item.notice.level == "info" and item.buttons == {}
                if QMediaDevices.audioOutputs():  # a machine with speakers: the default one plays
                    assert name in item.notice.text
                else:
                    assert item.notice.text == messages.NO_SPEAKER
                assert not any(k.startswith("device:") for k in w.notices.keys())

    aloop.run(scenario())
