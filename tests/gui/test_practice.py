"""The test call: the practice partner echoes your video and your voice a second late."""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np
from PySide6.QtCore import QSettings, Qt

from client import events as ev
from client import messages
from client.media.synthetic import ToneAudioTrack, dominant_frequency
from client.practice.echo import DelayedAudioTrack, EchoSink
from client.ui.app import App
from client.ui.seams import EngineOptions
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



class PracticePartner:
    """Stands in for the echo bot's private server: an address, and a closer that is recorded."""

    def __init__(self) -> None:
        self.started = asyncio.Event()  # set by the test: the partner's server is up
        self.started.set()
        self.asked = asyncio.Event()  # the controller has begun starting the partner
        self.closed: list[str] = []

    async def __call__(self, mode: str, options: EngineOptions) -> tuple[str, Any]:
        self.asked.set()
        await self.started.wait()

        async def close() -> None:
            self.closed.append(mode)

        return "ws://127.0.0.1:9/practice", close


def test_the_test_calls_page_follows_the_test_engines_model(make_harness, aloop, qtbot):
    partner = PracticePartner()
    h = make_harness(practice=partner)
    w = h.window

    async def scenario() -> None:
        h.controller.start_test_call("video")
        await h.settle()
        real, test = h.engines
        assert h.page is w.searching and test.model.searching and not real.model.searching
        real.emit(ev.Idle())  # the real engine's moves are not on screen meanwhile
        test.emit(ev.Matched("p1", True, "video", None))
        assert h.page is w.call and w.call.partner.text() == messages.PRACTICE_PARTNER
        test.emit(ev.Disconnected("ws://127.0.0.1:9/practice", 1.0, "gone"))  # its call ended by itself
        assert h.page is w.call
        qtbot.mouseClick(w.call.end_button, Qt.MouseButton.LeftButton)
        assert h.page is w.lobby and h.controller.active_engine() is real
        await h.settle()
        assert test.calls[-1] == ("close",) and partner.closed == ["video"]
        w.lobby.find_button.click()  # the real engine's model is shown again...
        assert h.page is w.searching and real.model.searching
        test.emit(ev.Matched("late", True, "video", None))  # ...and the test engine's no more
        assert h.page is w.searching

    aloop.run(scenario())


def test_a_search_begun_while_the_practice_partner_starts_drops_the_test_call(make_harness, aloop):
    """One call on screen: a real search that began first wins over the test call still starting."""
    partner = PracticePartner()
    partner.started.clear()
    h = make_harness(practice=partner)
    w = h.window

    async def scenario() -> None:
        h.controller.start_test_call("video")
        await asyncio.wait_for(partner.asked.wait(), TIMEOUT)  # the partner is starting
        w.lobby.find_button.click()
        assert h.page is w.searching
        partner.started.set()
        await h.settle()
        real, test = h.engines
        assert test.calls == [("close",)] and partner.closed == ["video"]
        assert h.page is w.searching and h.controller.active_engine() is real
        real.emit(ev.Matched("r1", True, "video", None))
        assert h.page is w.call and w.call.partner.text() != messages.PRACTICE_PARTNER

    aloop.run(scenario())
