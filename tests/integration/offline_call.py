"""Run inside a network namespace with only `lo`: a server and two engines, one call.

    python -m tests.integration.offline_call [loopback|control]

Prints one JSON line: whether media connected both ways, or the failure seen.
`control` turns the loopback candidates off, to show the namespace really is
offline (without them the call must fail). Used by test_offline_loopback.py.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

import client.engine
from client import events as ev
from client.engine import Engine, EngineConfig
from server.config import ServerConfig
from server.ws.app import running_server

from .engines import MEDIA_TIMEOUT, Recorder, fast_signaling
from .wsclient import TIMEOUT


async def call(media_timeout: float) -> dict[str, Any]:
    async with running_server(ServerConfig(port=0)) as server:
        config = EngineConfig(server=server.url, fake_media=True, media_timeout=media_timeout)
        peers = [(Engine(config, r, signaling=fast_signaling), r) for r in (Recorder("a"), Recorder("b"))]
        try:
            for engine, events in peers:
                await engine.start()
                await events.next(ev.Connected)
                await engine.find("video")
            result: dict[str, Any] = {"server": server.url}
            for _, events in peers:
                kinds: Any = (ev.MediaConnected, ev.MediaFailed)  # isinstance() takes a tuple
                up = await events.next(kinds, within=media_timeout + MEDIA_TIMEOUT)
                result[events.name] = type(up).__name__
                if isinstance(up, ev.MediaConnected):
                    await events.wait_frames(1, MEDIA_TIMEOUT)
                    result[f"{events.name}_frames"] = events.remote_frame_count
            return result
        finally:
            await asyncio.gather(*(engine.close() for engine, _ in peers))


def main() -> None:
    mode = sys.argv[1] if len(sys.argv) > 1 else "loopback"
    if mode == "control":  # expected to fail: give up sooner
        client.engine.is_loopback_url = lambda url: False
    timeout = TIMEOUT if mode == "control" else MEDIA_TIMEOUT
    print(json.dumps(asyncio.run(call(media_timeout=timeout))), flush=True)


if __name__ == "__main__":
    main()
