"""The two kinds of peer process `bench/call.py` starts, each measuring itself the same way.

    python -m bench.call_peers sm   --server URL --warmup W --seconds S
    python -m bench.call_peers bare --role offer|answer --fd N --warmup W --seconds S

- `sm`: the headless client exactly as `studymatch --headless --fake-media
  --events json --calls 1` runs it (the CLI's `HeadlessRunner`, hooked only to
  see its events), so every cost of the engine is in the figures: the camera
  thread and its relay, the preview tap, the switchable track, the stats
  polling, read_pattern on every frame, the speaker sink, the JSON lines.
- `bare`: one `RTCPeerConnection` with `PatternVideoTrack` + `ToneAudioTrack`
  and no StudyMatch code; offer and answer go over a socketpair shared with
  the other bare peer. "Matched" is the `go` line the driver writes to both
  peers' stdin at once.

Both measure in-process with one `Probe`: ms from matched/go to connected and
to the first decoded remote video/audio frame, then (after a warm-up past the
encoder's ramp) frames received, pattern latency (`read_pattern`, which the
engine runs on every frame anyway, and the bare receiver does likewise) and
CPU from /proc/self/stat (all threads) over the same wall-clock window. Each
prints one JSON line `{"bench": {...}}` on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av import VideoFrame

from client import events as ev
from client.engine import EngineConfig
from client.headless import HeadlessOptions, HeadlessRunner
from client.heap import freeze_startup_heap
from client.media.synthetic import PatternVideoTrack, ToneAudioTrack, read_pattern

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
FIRST_FRAME_TIMEOUT = 30.0


def cpu_seconds() -> float:
    """User + system CPU of this process, every thread, from /proc (as for the server)."""
    with open("/proc/self/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


@dataclass
class Counters:
    video_frames: int
    audio_frames: int
    latencies_ms: Sequence[float]


class Probe:
    """Times since matched/go, then one measurement window over the call's counters."""

    def __init__(self) -> None:
        self.ms: dict[str, float] = {}
        self.first_video = asyncio.Event()

    def mark(self, name: str, ms: float) -> None:
        self.ms.setdefault(name, round(ms, 1))
        if name == "first_video":
            self.first_video.set()

    async def window(self, counters: Callable[[], Counters], warmup: float, seconds: float) -> dict[str, Any]:
        await asyncio.wait_for(self.first_video.wait(), FIRST_FRAME_TIMEOUT)
        await asyncio.sleep(warmup)
        c0, cpu0, t0 = counters(), cpu_seconds(), time.monotonic()
        n0 = len(c0.latencies_ms)
        video0, audio0 = c0.video_frames, c0.audio_frames
        await asyncio.sleep(seconds)
        c1, cpu1, t1 = counters(), cpu_seconds(), time.monotonic()
        wall = t1 - t0
        return {
            **self.ms,
            "video_fps": round((c1.video_frames - video0) / wall, 2),
            "audio_fps": round((c1.audio_frames - audio0) / wall, 2),
            "cpu_percent": round(100.0 * (cpu1 - cpu0) / wall, 1),
            "latencies_ms": [round(x, 2) for x in list(c1.latencies_ms)[n0:]],
        }


# --- StudyMatch: the headless client ------------------------------------------------------


class MeasuredRunner(HeadlessRunner):
    """The CLI's runner; the hook only copies the engine's own ms_since_matched figures."""

    probe: Probe

    def on_event(self, event: ev.EngineEvent) -> None:
        super().on_event(event)
        match event:
            case ev.MediaConnected(ms_since_matched=ms):
                self.probe.mark("connected", ms)
            case ev.FirstRemoteFrame(kind=kind, ms_since_matched=ms):
                self.probe.mark(f"first_{kind}", ms)

    def counters(self) -> Counters:
        call = self.engine.call
        if call is None:
            raise RuntimeError("the call ended before the measurement window did")
        got = call.received  # what the partner sent, counted (client/remotemedia.py)
        return Counters(got.video_frames, got.audio_frames, got.latencies_ms)


async def run_sm(server: str, warmup: float, seconds: float) -> dict[str, Any]:
    # The call outlasts the window (the skip timer runs from media_connected; the window starts
    # after the first frame), so both peers' windows fit in it.
    options = HeadlessOptions(calls=1, call_seconds=warmup + seconds + 1.5, events="json")
    runner = MeasuredRunner(EngineConfig(server=server, fake_media=True), options, sys.stdout, sys.stderr)
    runner.probe = Probe()
    measuring = asyncio.create_task(runner.probe.window(runner.counters, warmup, seconds))
    code = await runner.run()
    if not measuring.done():
        measuring.cancel()
        raise RuntimeError(f"the client exited ({code}) before the measurement window ended")
    return measuring.result()


# --- bare aiortc: two peer connections, no StudyMatch code ----------------------------------


class BarePeer:
    def __init__(self, probe: Probe, t0: float) -> None:
        self.probe = probe
        self.t0 = t0
        self.video_frames = 0
        self.audio_frames = 0
        self.latencies_ms: list[float] = []
        self.tasks: set[asyncio.Task[None]] = set()
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))  # as StudyMatch: no STUN on loopback
        self.pc.on("track", self.on_track)
        self.pc.on("connectionstatechange", self.on_state)

    def since_go(self) -> float:
        return 1000.0 * (time.monotonic() - self.t0)

    def on_state(self) -> None:
        if self.pc.connectionState == "connected":
            self.probe.mark("connected", self.since_go())

    def on_track(self, track: MediaStreamTrack) -> None:
        task = asyncio.create_task(self.consume(track))
        self.tasks.add(task)

    async def consume(self, track: MediaStreamTrack) -> None:
        """Every frame of a remote track, to `on_video` or `on_audio`, until the track ends."""
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            if track.kind == "video":
                # A video track yields VideoFrames; aiortc types recv() as Frame | Packet.
                self.on_video(cast(VideoFrame, frame))
            else:
                self.on_audio()

    def on_video(self, frame: VideoFrame) -> None:
        self.video_frames += 1
        self.probe.mark("first_video", self.since_go())
        info = read_pattern(frame)
        if info is not None:
            self.latencies_ms.append(1000.0 * (time.time() - info.capture_time))

    def on_audio(self) -> None:
        self.audio_frames += 1
        self.probe.mark("first_audio", self.since_go())

    def add_tracks(self) -> None:
        self.pc.addTrack(ToneAudioTrack())
        self.pc.addTrack(PatternVideoTrack(640, 480, 30))

    async def negotiate(self, role: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Offer or answer over the socketpair shared with the other bare peer, one JSON line each."""
        pc = self.pc

        async def send(desc: RTCSessionDescription) -> None:
            writer.write(json.dumps({"type": desc.type, "sdp": desc.sdp}).encode() + b"\n")
            await writer.drain()

        async def receive() -> RTCSessionDescription:
            return RTCSessionDescription(**json.loads(await reader.readline()))

        if role == "offer":
            self.add_tracks()
            await pc.setLocalDescription(await pc.createOffer())
            await send(pc.localDescription)
            await pc.setRemoteDescription(await receive())
        else:
            await pc.setRemoteDescription(await receive())
            self.add_tracks()  # after the offer, so addTrack reuses its transceivers
            await pc.setLocalDescription(await pc.createAnswer())
            await send(pc.localDescription)

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        await self.pc.close()

    def counters(self) -> Counters:
        return Counters(self.video_frames, self.audio_frames, self.latencies_ms)


async def stdin_reader() -> asyncio.StreamReader:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    return reader


async def run_bare(role: str, fd: int, warmup: float, seconds: float) -> dict[str, Any]:
    reader, writer = await asyncio.open_connection(sock=socket.socket(fileno=fd))
    control = await stdin_reader()
    print(json.dumps({"ready": role}), flush=True)
    if (await control.readline()).strip() != b"go":
        raise RuntimeError("the driver did not say go")
    probe = Probe()
    peer = BarePeer(probe, time.monotonic())
    await peer.negotiate(role, reader, writer)
    result = await probe.window(peer.counters, warmup, seconds)
    print(json.dumps({"bench": result}), flush=True)
    await control.readline()  # "stop" (or EOF): both windows are over
    await peer.close()
    writer.close()
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=("sm", "bare"))
    parser.add_argument("--server")
    parser.add_argument("--role", choices=("offer", "answer"))
    parser.add_argument("--fd", type=int)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args(argv)
    if args.kind == "sm":
        freeze_startup_heap()  # as `studymatch` does before it starts the engine
        result = asyncio.run(run_sm(args.server, args.warmup, args.seconds))
        print(json.dumps({"bench": result}), flush=True)
    else:
        asyncio.run(run_bare(args.role, args.fd, args.warmup, args.seconds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
