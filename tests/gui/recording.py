"""A recording fake engine and a controller + window around it, for tests that play engine events.

The end-to-end tests use the real engine; these check the controller and the window
against exactly the events a test chooses. The fake carries a real session model
(client/session.py) and real favourites (client/people.py, in memory), the model moved as the
real engine moves it: by an intent at once, and by an event the test plays just before the
window hears that event.
"""

from __future__ import annotations

import contextlib
from collections.abc import Coroutine
from typing import Any

from client import events as ev
from client.people import People
from client.session import ClientSession, Effect, FindAgain, InvalidStateError
from client.study import StudySession
from client.ui.controller import Controller, EngineOptions
from client.ui.window import MainWindow


class RecordingEngine:
    def __init__(self, options: EngineOptions, on_event: Any) -> None:
        self.options = options
        self._on_event = on_event
        self.model = ClientSession(options.mode, options.topic)
        self.calls: list[tuple[Any, ...]] = []
        self.ticket: str | None = None  # a resume ticket each matched carries (a server that resumes)
        self.people = People.in_memory()  # the real favourites and blocks, kept for this test only

    def emit(self, event: Any) -> None:
        """Play an engine event: the model moves as the real engine's would (client/engine.py), then
        the window hears it. A matched is taken whatever the wish, as if the search had been queued."""
        match event:
            case ev.Queued():
                with contextlib.suppress(InvalidStateError):  # the engine only logs a crossing message
                    self.model.on_queued()
            case ev.Matched() if not self.model.in_session:
                self.model.on_matched(event.session, event.initiator, 0.0, self.ticket)
                self.model.connecting()
            case ev.MediaConnected() if self.model.is_current(event.session):
                self.model.media_up()
            case ev.PartnerLeft():
                self.model.on_partner_left(event.session, event.reason)
            case ev.Idle():
                self.model.on_idle()
            case ev.Disconnected():
                self.model.on_lost()
        self._on_event(event)

    async def start(self) -> None:
        self.calls.append(("start",))

    async def close(self) -> None:
        self.model.leave()
        self.calls.append(("close",))

    def _intent(self, call: tuple[Any, ...], effects: list[Effect]) -> Coroutine[Any, Any, None]:
        """The model has moved; the call is recorded when its coroutine runs, as the engine carries it out."""
        then = [self.find() for effect in effects if isinstance(effect, FindAgain)]

        async def carry_out() -> None:
            self.calls.append(call)
            for finding in then:
                await finding

        return carry_out()

    def find(self, mode: str | None = None, topic: str | None = None) -> Coroutine[Any, Any, None]:
        if self.model.in_session:
            return self._intent(("find", mode, topic), [])
        self.model.choose(mode, topic)
        return self._intent(("find", mode, topic), self.model.find())

    def cancel(self) -> Coroutine[Any, Any, None]:
        return self._intent(("cancel",), self.model.cancel())

    # --- the study session: recorded at once (the real engine's are plain calls too) ---

    study: StudySession | None = None  # a test sets one to show

    def choose_study(self, length: int | None, talk: str | None) -> None:
        self.model.choose_study(length, talk)
        self.calls.append(("choose_study", length, talk))

    def set_goal(self, text: str) -> None:
        self.calls.append(("set_goal", text))

    def set_ready(self) -> None:
        self.calls.append(("set_ready",))

    def check_out(self, done: str, note: str = "") -> None:
        self.calls.append(("check_out", done, note))

    def set_brb(self, away: bool) -> None:
        self.calls.append(("set_brb", away))

    def set_pomodoro(self, on: bool) -> None:
        self.calls.append(("set_pomodoro", on))

    # --- coming back -------------------------------------------------------------

    def find_favourite(self) -> Coroutine[Any, Any, None]:
        return self._intent(("find_favourite", self.model.mode, self.model.topic), self.model.find())

    def set_again(self, on: bool, nickname: str = "") -> None:
        self.calls.append(("set_again", on, nickname))

    def block_partner(self) -> Coroutine[Any, Any, None]:
        return self._intent(("block_partner",), [])

    def skip(self) -> Coroutine[Any, Any, None]:
        return self._intent(("skip",), self.model.skip())

    def leave(self) -> Coroutine[Any, Any, None]:
        return self._intent(("leave",), self.model.leave())

    def report(self, reason: str) -> Coroutine[Any, Any, None]:
        return self._intent(("report", reason), self.model.report(reason))

    async def send_chat(self, text: str) -> None:
        self.calls.append(("chat", text))

    def set_microphone_muted(self, muted: bool) -> None:
        self.calls.append(("muted", muted))

    async def set_camera_enabled(self, enabled: bool) -> None:
        self.calls.append(("camera", enabled))

    def share_screen(self, choice: Any) -> Coroutine[Any, Any, None]:
        return self._intent(("share_screen", choice), [])

    def stop_screen_share(self) -> None:
        self.calls.append(("stop_screen_share",))

    async def use_audio_only(self) -> None:
        self.calls.append(("audio_only",))

    async def retry_devices(self) -> None:
        self.calls.append(("retry",))


class Harness:
    def __init__(self, settings: Any, loop: Any, practice: Any = None, history: Any = None) -> None:
        self.engines: list[RecordingEngine] = []

        def factory(options: EngineOptions, on_event: Any) -> RecordingEngine:
            engine = RecordingEngine(options, on_event)
            self.engines.append(engine)
            return engine

        self.controller = Controller(settings, factory, practice_factory=practice, loop=loop, history=history)
        self.window = MainWindow(self.controller)

    @property
    def engine(self) -> RecordingEngine:
        return self.engines[0]

    @property
    def page(self) -> Any:
        return self.window.pages.currentWidget()

    async def settle(self) -> None:
        await self.controller.settle()
