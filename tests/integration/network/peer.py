"""`studymatch --headless --fake-media --events json`, plus a line whenever video keeps arriving.

    python -m integration.network.peer --server URL [--calls 1] [--call-seconds 15]

The network tests run this inside lab namespaces. It is the CLI's own runner, printing the
CLI's JSON lines; besides them, at most every `TICK` seconds while remote video frames
arrive, `{"event": "video", "t": ..., "frames": n}` (n counted since the start), so a test
can see when frames stopped and came back, which the CLI's `call_ended` total cannot show.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Sequence

from client import events as ev
from client.engine import EngineConfig
from client.headless import HeadlessOptions, HeadlessRunner

TICK = 0.5


class TickingRunner(HeadlessRunner):
    frames = 0
    last_tick = 0.0

    def on_event(self, event: ev.EngineEvent) -> None:
        super().on_event(event)
        if isinstance(event, ev.RemoteVideoFrame):
            self.frames += 1
            now = time.time()
            if now - self.last_tick >= TICK:
                self.last_tick = now
                self.out.write(json.dumps({"event": "video", "t": now, "frames": self.frames}) + "\n")
                self.out.flush()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", required=True)
    parser.add_argument("--calls", type=int, default=1)
    parser.add_argument("--call-seconds", type=float, default=None)
    parser.add_argument("--connect-timeout", type=float, default=60.0)
    parser.add_argument("--media-timeout", type=float, default=30.0)
    args = parser.parse_args(argv)
    config = EngineConfig(server=args.server, fake_media=True, media_timeout=args.media_timeout)
    options = HeadlessOptions(calls=args.calls, call_seconds=args.call_seconds, events="json",
                              connect_timeout=args.connect_timeout)  # fmt: skip

    async def run() -> int:
        return await TickingRunner(config, options, sys.stdout, sys.stderr).run()

    return asyncio.run(run())


if __name__ == "__main__":
    sys.exit(main())
