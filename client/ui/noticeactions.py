"""What a notice's button does.

client/ui/alerts.py decides which buttons a notice offers; here each button
becomes the window's intents, chosen by the page it is pressed on. The
controller stays the one QObject: these work through its public intents and
signals, and it hands every button press to `perform`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from client.ui.controller import Controller


def perform(c: Controller, key: str, action: str) -> None:
    """The notice `key` is answered by pressing `action`: it goes, and the action runs."""
    c.notice_cleared.emit(key)
    handler = _ACTIONS.get(action)
    if handler is not None:
        handler(c, key, action)


def _audio_only(c: Controller, key: str, action: str) -> None:
    engine = c.active_engine()
    c.mode = "audio"
    c.settings.mode = "audio"
    c.mode_changed.emit("audio")
    c.update_preview()
    if engine is not None:
        c.spawn(engine.use_audio_only())
    if c.page == "lobby" and c.engine is not None:
        # Chosen before a call: go straight on to find a partner by voice.
        c.find("audio", c.topic)


def _try_again(c: Controller, key: str, action: str) -> None:
    engine = c.active_engine()
    if engine is not None:
        c.spawn(engine.retry_devices())
    c.update_preview()


def _choose_device(c: Controller, key: str, action: str) -> None:
    if c.page == "call":
        c.end()  # the pickers are in the lobby
    c.device_action.emit(action)


def _open_settings(c: Controller, key: str, action: str) -> None:
    c.settings_requested.emit(key)


def _relay_off(c: Controller, key: str, action: str) -> None:
    c.settings.relay_only = False
    c.reconnect()


def _next(c: Controller, key: str, action: str) -> None:
    if c.page == "call":
        c.skip()
    elif c.page == "lobby":
        c.find(c.mode, c.topic)


# Action names are the ones client/ui/alerts.py and the controller put on notices.
_ACTIONS: dict[str, Callable[[Controller, str, str], None]] = {
    "audio_only": _audio_only,
    "try_again": _try_again,
    "choose_camera": _choose_device,
    "choose_microphone": _choose_device,
    "open_settings": _open_settings,
    "relay_off": _relay_off,
    "next": _next,
}
