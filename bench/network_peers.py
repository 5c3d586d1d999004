"""The two kinds of peer `bench/network.py` starts inside lab namespaces, recording every frame.

    python -m bench.network_peers sm   --server URL
    python -m bench.network_peers bare --role offer|answer --fd N

Unlike `bench/call_peers.py`, which counts inside one window, these keep the arrival time
(wall clock, shared by every namespace on the machine) and the capture-to-decode latency
of every remote video frame, so the driver can cut the call into phases around an outage
it makes itself. Control on stdin/stdout, one JSON line each way:
- a peer prints `{"first_video": t}` when its first remote video frame arrives;
- the driver writes `stop`; the peer ends its call (the StudyMatch one as `studymatch
  --headless` does on SIGTERM), then prints `{"bench": {"frames": [[t, latency_ms], ...],
  "events": [[t, name], ...]}}`, latency -1 when a frame carried no readable pattern.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import signal
import socket
import sys
import time
from collections.abc import Sequence
from typing import Any

from av import VideoFrame

from bench.call_peers import BarePeer, Probe, stdin_reader
from client import events as ev
from client.engine import EngineConfig
from client.headless import HeadlessOptions, HeadlessRunner
from client.heap import freeze_startup_heap
from client.media.synthetic import read_pattern


class Record:
    def __init__(self) -> None:
        self.frames: list[tuple[float, float]] = []
        self.events: list[tuple[float, str]] = []
        self.video_packets: int | None = None

    def frame(self, frame: VideoFrame) -> None:
        """A remote video frame arrived: when, and its pattern's capture-to-decode latency."""
        now = time.time()
        if not self.frames:
            print(json.dumps({"first_video": now}), flush=True)
        info = read_pattern(frame)
        self.frames.append((round(now, 4), -1.0 if info is None else round(1000.0 * (now - info.capture_time), 2)))

    def event(self, name: str) -> None:
        self.events.append((round(time.time(), 3), name))

    def result(self) -> dict[str, Any]:
        return {"frames": self.frames, "events": self.events, "video_packets": self.video_packets}


# --- StudyMatch: the headless client ------------------------------------------------------


class RecordingRunner(HeadlessRunner):
    """The CLI's runner; the hook records each remote frame's arrival and its pattern's latency.

    The pattern is read here, as the bare peer does, not taken from the engine's own figures:
    `client/remotemedia.py` stops reading it after 90 frames without one (a real camera), and
    the garbled decodes right after an outage are that many, so the engine's figures stop there.
    """

    record: Record

    def on_event(self, event: ev.EngineEvent) -> None:
        super().on_event(event)
        match event:
            case ev.RemoteVideoFrame(frame=frame):
                self.record.frame(frame)
            case ev.LocalVideoFrame() | ev.CallStats():
                pass  # many a second, and not about the network
            case _:
                self.record.event(type(event).__name__)


async def run_sm(server: str) -> dict[str, Any]:
    options = HeadlessOptions(calls=1, call_seconds=None, events="json", connect_timeout=60.0)
    runner = RecordingRunner(EngineConfig(server=server, fake_media=True), options, io.StringIO(), sys.stderr)
    runner.record = Record()
    control = await stdin_reader()

    async def stop_on_request() -> None:
        await control.readline()
        os.kill(os.getpid(), signal.SIGTERM)  # the runner's own way out: hang up, close, exit 0

    stopping = asyncio.create_task(stop_on_request())
    await runner.run()
    stopping.cancel()
    return runner.record.result()


# --- bare aiortc ---------------------------------------------------------------------------


class RecordingBarePeer(BarePeer):
    record: Record

    def on_video(self, frame: VideoFrame) -> None:
        self.record.frame(frame)

    def on_audio(self) -> None:
        pass  # only the video is recorded


async def run_bare(role: str, fd: int) -> dict[str, Any]:
    reader, writer = await asyncio.open_connection(sock=socket.socket(fileno=fd))
    control = await stdin_reader()
    record = Record()

    async def connect() -> RecordingBarePeer:
        peer = RecordingBarePeer(Probe(), time.monotonic())
        peer.record = record
        pc = peer.pc
        # A replaced peer connection's own closing is not the call's: only the current one's count.
        pc.on("connectionstatechange",
              lambda: record.event(f"connection_{pc.connectionState}" if not current or pc is current[0].pc else "replaced"))  # fmt: skip
        await peer.negotiate(role, reader, writer)
        return peer

    current: list[RecordingBarePeer] = []
    peer = await connect()
    current.append(peer)
    closing = []
    # "rebuild": a new RTCPeerConnection over the same socketpair (what a client would do on a
    # video stall), the old one closed beside it; "stop" (or EOF) ends the call.
    while (await control.readline()).strip() == b"rebuild":
        old, peer = peer, await connect()
        current[0] = peer
        closing.append(asyncio.create_task(old.close()))
    # Video packets sent over the call: the partner's jitter buffer holds 512 of them, so its
    # fill time after an outage is 512 over this rate (docs/benchmarks.md, the outage). Sent,
    # not received: aiortc reports one inbound-rtp per receiver, the last SSRC's (RTX's).
    report = await peer.pc.getStats()
    record.video_packets = sum(int(getattr(s, "packetsSent", 0)) for s in report.values()
                               if s.type == "outbound-rtp" and getattr(s, "kind", "") == "video")  # fmt: skip
    await peer.close()
    await asyncio.gather(*closing)
    writer.close()
    return record.result()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=("sm", "bare"))
    parser.add_argument("--server")
    parser.add_argument("--role", choices=("offer", "answer"))
    parser.add_argument("--fd", type=int)
    args = parser.parse_args(argv)
    if args.kind == "sm":
        freeze_startup_heap()
        result = asyncio.run(run_sm(args.server))
    else:
        result = asyncio.run(run_bare(args.role, args.fd))
    print(json.dumps({"bench": result}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
