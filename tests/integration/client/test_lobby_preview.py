"""The lobby's self-preview (client/ui/wiring.py): the shared camera's frames go through the
same throttle as the preview in a call (client/tracks.py), and stopping it leaves nothing running."""

from __future__ import annotations

import asyncio
import itertools
import time
from typing import Any

from client.tracks import PREVIEW_FPS
from client.ui.seams import EngineOptions
from client.ui.wiring import Runtime
from integration.wsclient import TIMEOUT


async def test_the_lobby_preview_is_throttled_and_stops() -> None:
    runtime = Runtime()
    shown: list[float] = []
    events: list[Any] = []
    enough = asyncio.Event()

    def on_frame(frame: Any) -> None:
        shown.append(time.monotonic())
        if len(shown) >= 6:
            enough.set()

    try:
        # The synthetic camera runs at 30 fps: twice what the preview may show.
        await runtime.start_preview(EngineOptions(fake_media=True), on_frame, events.append)
        assert runtime.previewing()
        await asyncio.wait_for(enough.wait(), TIMEOUT)
        gaps = [later - earlier for earlier, later in itertools.pairwise(shown)]
        assert min(gaps) >= 1 / PREVIEW_FPS - 1e-3, gaps
        await runtime.stop_preview()
        assert not runtime.previewing()
        count = len(shown)
        await asyncio.sleep(3 / PREVIEW_FPS)
        assert len(shown) == count  # no frame after the preview stopped
    finally:
        await runtime.close()
    assert events == [] and runtime.media is None
