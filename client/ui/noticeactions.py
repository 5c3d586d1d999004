"""What each button on a notice does (client/ui/alerts.py names them), through the controller's intents.

The controller (client/ui/controller.py) stays the one object between the window and
the engines; this is its dispatch of a notice's answer, kept apart so each reads on its own.
It uses only the controller's public side (`Answerer`).
"""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any, Protocol

from PySide6.QtCore import SignalInstance

from client.ui.pages import Page
from client.ui.seams import EngineLike
from client.ui.settings import Settings


class Answerer(Protocol):
    """The controller, as a notice's buttons move it."""

    settings: Settings
    mode: str
    topic: str
    device_action: SignalInstance
    settings_requested: SignalInstance

    @property
    def page(self) -> Page: ...
    @property
    def engine(self) -> EngineLike | None: ...
    def active_engine(self) -> EngineLike | None: ...
    def spawn(self, coro: Coroutine[Any, Any, Any]) -> Any: ...
    def update_preview(self) -> None: ...
    def audio_only(self) -> None: ...
    def end(self) -> None: ...
    def skip(self) -> None: ...
    def find(self, mode: str, topic: str) -> None: ...
    def reconnect(self) -> None: ...


def run(c: Answerer, key: str, action: str) -> None:
    match action:
        case "audio_only":
            c.audio_only()
        case "try_again":
            engine = c.active_engine()
            if engine is not None:
                c.spawn(engine.retry_devices())
            c.update_preview()
        case "choose_camera" | "choose_microphone":
            if c.page is Page.CALL:
                c.end()  # the pickers are in the lobby
            c.device_action.emit(action)
        case "open_settings":
            c.settings_requested.emit(key)
        case "relay_off":
            c.settings.relay_only = False
            c.reconnect()
        case "next":
            if c.page is Page.CALL:
                c.skip()
            elif c.page is Page.LOBBY:
                c.find(c.mode, c.topic)
