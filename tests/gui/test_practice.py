"""The test call: the practice partner echoes your video and your voice a second late."""

from __future__ import annotations

import asyncio

import numpy as np
from PySide6.QtCore import QSettings, Qt

from client import messages
from client.media.synthetic import ToneAudioTrack, dominant_frequency
from client.practice.echo import DelayedAudioTrack, EchoSink
from client.ui.app import App
from client.ui.settings import Settings
from server.config import ServerConfig
from server.ws.app import running_server

from .conftest import TIMEOUT, until
from .test_end_to_end import MEDIA_TIMEOUT, painted_pattern


def test_delayed_audio_comes_back_a_second_late(aloop):
    async def scenario() -> None:
        echo = DelayedAudioTrack(delay=0.5)
        sink = EchoSink(echo)
        tone = ToneAudioTrack(frequency=660.0)
        for _ in range(10):  # 200 ms of voice, then nothing
            sink.play(await tone.recv())
        loop = asyncio.get_running_loop()
        start = loop.time()
        heard_at = None
        while loop.time() - start < 2 * TIMEOUT / 10 + 1:
            frame = await echo.recv()
            assert frame.samples == 960 and frame.sample_rate == 48000
            if np.abs(frame.to_ndarray()).max() > 1000:
                heard_at = loop.time() - start
                assert abs(dominant_frequency(frame) - 660.0) < 20
                break
        tone.stop()
        assert heard_at is not None and 0.3 < heard_at < 0.8

    aloop.run(scenario())


def test_test_call_shows_your_own_video_back(qtbot, aloop, tmp_path):
    async def scenario() -> None:
        # The app's own server is unused here; the practice partner brings a private one.
        async with running_server(ServerConfig(port=0, log_level="warning")) as srv:
            settings = Settings(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
            settings.server = srv.url
            app = App(settings, fake_media=True)
            qtbot.addWidget(app.window)
            app.window.show()
            await app.start()
            try:
                w = app.window
                qtbot.mouseClick(w.lobby.test_button, Qt.MouseButton.LeftButton)
                await until(lambda: w.pages.currentWidget() is w.call, TIMEOUT, what="practice call")
                assert w.call.partner.text() == messages.PRACTICE_PARTNER
                assert not w.call.skip_button.isEnabled()
                await until(lambda: painted_pattern(app) is not None, MEDIA_TIMEOUT, what="own video echoed")
                qtbot.mouseClick(w.call.end_button, Qt.MouseButton.LeftButton)
                assert w.pages.currentWidget() is w.lobby
                await app.controller.settle()
                assert app.controller.active_engine() is app.controller.engine  # the test call's is gone
                # The real server never saw the practice call.
                assert srv.backend.stats().matches_total == 0
            finally:
                await app.close()

    aloop.run(scenario())

