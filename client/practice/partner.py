"""The test call: a practice partner that sends your own video back and your
voice back about a second late, so a person can check camera, microphone,
speaker and echo before meeting anyone.

It is the real engine (a headless bot) on a private in-process server on a
free port; its devices are the echo of what it receives (client/practice/echo.py).
Nothing leaves the computer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from client import events as ev
from client.engine import Engine, EngineConfig
from client.practice.echo import EchoMedia
from server.config import ServerConfig
from server.ws.app import Server


async def start_practice_partner(mode: str, options: EngineConfig) -> tuple[str, Callable[[], Awaitable[None]]]:
    """A private server and the echo bot queued on it; returns (server URL, closer)."""
    server = Server(ServerConfig(host="127.0.0.1", port=0, log_level="warning"))
    await server.start()
    media = EchoMedia()

    def on_bot_event(event: Any) -> None:
        if isinstance(event, ev.RemoteVideoFrame):
            media.video.push(event.frame)

    bot = Engine(EngineConfig(server=server.url, mode=mode), on_bot_event, media=media)  # type: ignore[arg-type]
    await bot.start()
    await bot.find(mode, None)

    async def close() -> None:
        await bot.close()
        await server.stop()

    return server.url, close
