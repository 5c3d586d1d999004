"""One `Call` with fake media in a process of its own, so a test can put it in a lab namespace.

    python -m tests.integration.client.callpeer --initiator|--responder [--grace S]

The test relays the signals: one JSON line each way.
- out: `{"signal": data}` to pass on; `{"event": name, ...}` for MediaConnected,
  MediaReconnecting, MediaRestored, MediaFailed; `{"gone": true}` when on_gone fires;
  `{"frames": n}` every 15th remote video frame; `{"first_frame": t}` (wall clock) for the
  first remote frame after each MediaReconnecting; `{"closed": seconds}` at the end.
- in: `{"signal": data}`, `{"resumed": true}` (the signaling socket is back), `{"stop": true}`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import time
from collections.abc import Sequence
from typing import Any

from client import events as ev
from client import lostsends
from client.call import Call, CallMedia
from client.media.audio import NullSpeaker
from client.media.synthetic import PatternVideoTrack, ToneAudioTrack
from client.tracks import GatedAudioTrack


def say(**fields: Any) -> None:
    print(json.dumps(fields), flush=True)


def on_event(event: ev.EngineEvent) -> None:
    match event:
        case ev.RemoteVideoFrame():
            pass
        case ev.MediaConnected() | ev.MediaFailed():
            say(event=type(event).__name__)
        case ev.MediaReconnecting(attempt=attempt):
            say(event="MediaReconnecting", attempt=attempt)
        case ev.MediaRestored(gone_ms=gone_ms):
            say(event="MediaRestored", gone_ms=gone_ms)


async def run(initiator: bool, grace: float, loopback: bool) -> None:
    lostsends.install(asyncio.get_running_loop())  # as the app does (client/headless.py, client/ui/app.py)
    async def send_signal(data: dict[str, Any]) -> None:
        say(signal=data)

    frames = 0
    rebuilding = False

    def emit(event: ev.EngineEvent) -> None:
        nonlocal frames, rebuilding
        if isinstance(event, ev.RemoteVideoFrame):
            frames += 1
            if rebuilding:
                rebuilding = False
                say(first_frame=time.time())
            if frames % 15 == 0:
                say(frames=frames)
        elif isinstance(event, ev.MediaReconnecting):
            rebuilding = True
        on_event(event)

    async def media() -> CallMedia:
        return CallMedia(audio=GatedAudioTrack(ToneAudioTrack()), video=PatternVideoTrack(320, 240, 15),
                         receive_video=True, speaker=NullSpeaker(), camera_on=True)  # fmt: skip

    call = Call(session="s", initiator=initiator, ice_servers=[], send_signal=send_signal, emit=emit,
                on_media_up=lambda call: None, matched_at=time.monotonic(), media_timeout=60.0,
                loopback=loopback, grace=grace, on_gone=lambda call: say(gone=True))  # fmt: skip
    call.start(media)
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while line := await reader.readline():
        message = json.loads(line)
        if "signal" in message:
            call.handle_signal(message["signal"])
        elif "resumed" in message:
            call.signaling_resumed()
        elif "stop" in message:
            break
    started = time.monotonic()
    call.close()
    assert call.closing is not None
    await call.closing
    say(closed=round(time.monotonic() - started, 3))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    role = parser.add_mutually_exclusive_group(required=True)
    role.add_argument("--initiator", action="store_true")
    role.add_argument("--responder", action="store_true")
    parser.add_argument("--grace", type=float, default=60.0)
    parser.add_argument("--loopback", action="store_true", help="offer 127.0.0.1 (both on this host)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(name)s %(levelname)s %(message)s")
    asyncio.run(run(args.initiator, args.grace, args.loopback))
    return 0


if __name__ == "__main__":
    sys.exit(main())
