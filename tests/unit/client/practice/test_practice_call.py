"""The test call's rules (client/practice/call.py): which engine's events reach
the window while a practice call is on, and the practice call's own lifetime.

The end-to-end test (tests/gui/test_practice.py) runs the real partner; here the
partner and its engine are recorders, so the order of starting and closing shows.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import av
import pytest

from client import events as ev
from client.practice.call import PracticeCall, hidden_by_practice, shown
from client.ui.seams import EngineOptions

FRAME = av.VideoFrame(16, 16, "rgb24")
OPTIONS = EngineOptions(server="ws://real.example/ws", mode="video", topic="algebra", camera=None,
                        microphone=None, speaker=None, fake_media=True, token="t")
PRIVATE_URL = "ws://127.0.0.1:1234/ws"

CONNECTION = [ev.Connected("s"), ev.Disconnected("s", 1.0, "gone"), ev.Shutdown(5.0), ev.Idle()]
ON_SCREEN = [ev.RemoteVideoFrame("x", FRAME), ev.LocalVideoFrame(FRAME), ev.ChatMessage("x", "hi", False),
             ev.CallStats("x", 10.0, 0.0, 500.0)]
CALL = [ev.Queued("video", None), ev.Matched("x", True, "video", None), ev.MediaFailed("x", "no media"),
        ev.PartnerLeft("x", "left"), ev.CallEnded("x", 1.0, 1, 1, None),
        ev.DeviceErrorEvent("camera", "busy", "busy"), ev.ModeChanged("audio", "audio only")]


@pytest.mark.parametrize("event", CONNECTION, ids=lambda e: type(e).__name__)
def test_the_private_servers_connection_is_not_shown(event: Any) -> None:
    assert not shown(event)


@pytest.mark.parametrize("event", ON_SCREEN + CALL, ids=lambda e: type(e).__name__)
def test_the_practice_calls_own_events_are_shown(event: Any) -> None:
    assert shown(event)


@pytest.mark.parametrize("event", ON_SCREEN, ids=lambda e: type(e).__name__)
def test_the_real_engines_pictures_chat_and_stats_stay_off_a_practice_call(event: Any) -> None:
    assert hidden_by_practice(event)


@pytest.mark.parametrize("event", CONNECTION + CALL, ids=lambda e: type(e).__name__)
def test_the_real_engines_connection_and_devices_are_still_heard(event: Any) -> None:
    assert not hidden_by_practice(event)


class Recorder:
    def __init__(self) -> None:
        self.log: list[tuple[Any, ...]] = []
        self.engine_options: EngineOptions | None = None

    def engine(self, options: EngineOptions, on_event: Callable[[Any], None]) -> Any:
        self.engine_options = options
        recorder = self

        class Engine:
            async def close(self) -> None:
                recorder.log.append(("engine closed",))

        return Engine()

    async def partner(self, mode: str, options: EngineOptions) -> tuple[str, Callable[[], Awaitable[None]]]:
        self.log.append(("partner", mode, options.server))

        async def close() -> None:
            self.log.append(("partner closed",))

        return PRIVATE_URL, close


async def test_the_practice_engine_calls_the_private_server_and_closes_before_it() -> None:
    rec = Recorder()
    practice = PracticeCall(rec.partner, rec.engine)
    assert practice.available and practice.engine is None
    engine = await practice.open("audio", OPTIONS, lambda event: None)
    assert practice.engine is engine
    assert rec.engine_options is not None
    assert rec.engine_options.server == PRIVATE_URL
    assert rec.engine_options.token == "t" and rec.engine_options.topic == "algebra"  # the rest as given
    await practice.close()
    await practice.close()  # twice (End, then shutdown): closed once
    assert rec.log == [("partner", "audio", OPTIONS.server), ("engine closed",), ("partner closed",)]
    assert practice.engine is None


async def test_a_partner_that_fails_to_start_leaves_nothing_to_close() -> None:
    rec = Recorder()

    async def failing(mode: str, options: EngineOptions) -> tuple[str, Callable[[], Awaitable[None]]]:
        raise OSError("no free port")

    practice = PracticeCall(failing, rec.engine)
    with pytest.raises(OSError):
        await practice.open("video", OPTIONS, lambda event: None)
    assert practice.engine is None and rec.engine_options is None
    await practice.close()
    assert rec.log == []


def test_no_partner_factory_no_test_call() -> None:
    assert not PracticeCall(None, Recorder().engine).available
