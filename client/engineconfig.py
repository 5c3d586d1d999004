"""What a call engine (client/engine.py) is set up with, and what it checks the server's offer against."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class EngineConfig:
    server: str = "ws://127.0.0.1:8765/ws"
    mode: str = "video"  # "video" | "audio"
    topic: str | None = None
    camera: str | None = None  # None = system default, "fake" = synthetic pattern, else a device
    microphone: str | None = None  # None = default, "fake" = synthetic tone
    fake_media: bool = False  # both synthetic, no device touched
    media_timeout: float = 15.0  # seconds from matched to media connected before MediaFailed
    relay_only: bool = False  # TURN only (iceTransportPolicy "relay")
    token: str | None = None  # sent in hello, for servers that need one
    ca_file: str | None = None  # extra trusted CA for wss:// (a school's private CA)
    length: int | None = None  # the study session's length wished for, minutes (25, 50, 75); None: open
    talk: str | None = None  # "talk" | "quiet"; None: either
    favourite_wait: float = 30.0  # seconds a search for a favourite waits before searching for anyone
    smooth_video: bool = False  # "Always smooth video": every camera frame sent, still or not
    scene: str = "moving"  # what the synthetic camera shows: moving, still, reading (benchmarks)


def offers_turn(ice_servers: list[dict[str, Any]]) -> bool:
    for server in ice_servers:
        urls = server.get("urls")
        for url in [urls] if isinstance(urls, str) else urls or []:
            if isinstance(url, str) and url.startswith(("turn:", "turns:")):
                return True
    return False
