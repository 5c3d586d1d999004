"""What the controller needs from the outside, as small interfaces: an engine
(client.engine.Engine in production, a recording fake in controller tests),
the lobby preview, and the practice partner."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Protocol

from client.engine import EngineConfig
from client.session import ClientSession


class EngineLike(Protocol):
    """The part of client.engine.Engine the window uses.

    The window shows `model` (it subscribes to it); the intents find..report move
    the model at once and return the coroutine that carries the move out."""

    @property
    def model(self) -> ClientSession: ...
    async def start(self) -> None: ...
    async def close(self) -> None: ...
    def find(self, mode: str | None = None, topic: str | None = None) -> Coroutine[Any, Any, None]: ...
    def cancel(self) -> Coroutine[Any, Any, None]: ...
    def skip(self) -> Coroutine[Any, Any, None]: ...
    def leave(self) -> Coroutine[Any, Any, None]: ...
    def report(self, reason: str) -> Coroutine[Any, Any, None]: ...
    async def send_chat(self, text: str) -> None: ...
    def set_microphone_muted(self, muted: bool) -> None: ...
    async def set_camera_enabled(self, enabled: bool) -> None: ...
    async def use_audio_only(self) -> None: ...
    async def retry_devices(self) -> None: ...


@dataclasses.dataclass(frozen=True)
class EngineOptions(EngineConfig):
    """What the controller asks of an engine: its EngineConfig, plus the speaker. The window
    opens the devices once for every engine (client.ui.wiring), so the speaker is chosen there."""

    speaker: str | None = None


# (options, on_event) -> engine. Production: client.ui.wiring.make_engine.
EngineFactory = Callable[[EngineOptions, Callable[[Any], None]], EngineLike]
# Starts a practice partner and returns (its server URL, an async closer).
PracticeFactory = Callable[[str, EngineOptions], Awaitable[tuple[str, Callable[[], Awaitable[None]]]]]



class PreviewHooks(Protocol):
    """The lobby's live self-preview (client.ui.wiring.Runtime); absent in controller unit tests."""

    async def start_preview(self, options: EngineOptions, on_frame: Callable[[Any], None],
                            on_event: Callable[[Any], None]) -> None: ...
    async def stop_preview(self) -> None: ...
    def previewing(self) -> bool: ...
