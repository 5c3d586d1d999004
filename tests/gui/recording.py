"""A recording fake engine and a controller + window around it, for tests that play engine events.

The end-to-end tests use the real engine; these check the controller and the window
against exactly the events a test chooses.
"""

from __future__ import annotations

from typing import Any

from client.ui.controller import Controller, EngineOptions
from client.ui.window import MainWindow


class RecordingEngine:
    def __init__(self, options: EngineOptions, on_event: Any) -> None:
        self.options = options
        self.emit = on_event
        self.calls: list[tuple[Any, ...]] = []

    async def start(self) -> None:
        self.calls.append(("start",))

    async def close(self) -> None:
        self.calls.append(("close",))

    async def find(self, mode: str | None = None, topic: str | None = None) -> None:
        self.calls.append(("find", mode, topic))

    async def cancel(self) -> None:
        self.calls.append(("cancel",))

    async def skip(self) -> None:
        self.calls.append(("skip",))

    async def leave(self) -> None:
        self.calls.append(("leave",))

    async def report(self, reason: str) -> None:
        self.calls.append(("report", reason))

    async def send_chat(self, text: str) -> None:
        self.calls.append(("chat", text))

    def set_microphone_muted(self, muted: bool) -> None:
        self.calls.append(("muted", muted))

    async def set_camera_enabled(self, enabled: bool) -> None:
        self.calls.append(("camera", enabled))

    async def use_audio_only(self) -> None:
        self.calls.append(("audio_only",))

    async def retry_devices(self) -> None:
        self.calls.append(("retry",))


class Harness:
    def __init__(self, settings: Any, loop: Any, practice: Any = None) -> None:
        self.engines: list[RecordingEngine] = []

        def factory(options: EngineOptions, on_event: Any) -> RecordingEngine:
            engine = RecordingEngine(options, on_event)
            self.engines.append(engine)
            return engine

        self.controller = Controller(settings, factory, practice_factory=practice, loop=loop)
        self.window = MainWindow(self.controller)

    @property
    def engine(self) -> RecordingEngine:
        return self.engines[0]

    @property
    def page(self) -> Any:
        return self.window.pages.currentWidget()

    async def settle(self) -> None:
        await self.controller.settle()
