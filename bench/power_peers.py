"""The peer processes `bench/power.py` starts, each measuring itself the same way.

    python -m bench.power_peers sm     --server URL --scene S --warmup W --seconds S
    python -m bench.power_peers window --server URL --scene S [--minimised] --warmup W --seconds S
    python -m bench.power_peers bare   --role offer|answer --fd N --scene S --warmup W --seconds S

- `sm`: the headless client as `studymatch --headless --fake-media --scene S` runs it (the CLI's
  `HeadlessRunner`, as bench/call_peers.py): the camera's reader thread and its MotionGate decide
  which frames are sent.
- `window`: the whole app, window and all (client/ui/app.py's `App`, offscreen Qt), shown, or
  minimised before the call (then the mini window shows the partner small).
- `bare`: one `RTCPeerConnection` sending `PatternVideoTrack` at 30 fps in the same scene, plus
  the tone; no StudyMatch code (bench/call_peers.py's `BarePeer`).

Each prints one JSON line `{"bench": {...}}`: CPU of its own process (every thread, from
/proc/self/stat), video frames sent and received per second, and the latency (capture to the
frame handed to the display) of each first moving frame after a still stretch, over a window
that opens `warmup` s after the first remote frame.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from av import VideoFrame

from bench.call_peers import BarePeer, MeasuredRunner, Probe, cpu_seconds, stdin_reader
from client.engine import EngineConfig
from client.headless import HeadlessOptions
from client.heap import freeze_startup_heap
from client.media.synthetic import CaptureClock, PatternVideoTrack, Scene, ToneAudioTrack, read_pattern

FIRST_FRAME_TIMEOUT = 30.0


@dataclass
class Counters:
    sent: int
    received: int
    first_moving_ms: Sequence[float]
    painted: int = 0


async def measure(first_video: asyncio.Event, counters: Callable[[], Counters], warmup: float,
                  seconds: float) -> dict[str, Any]:
    await asyncio.wait_for(first_video.wait(), FIRST_FRAME_TIMEOUT)
    await asyncio.sleep(warmup)
    c0, cpu0, t0 = counters(), cpu_seconds(), time.monotonic()
    moving0 = len(c0.first_moving_ms)  # the same growing list as at the end: its length now
    await asyncio.sleep(seconds)
    c1, cpu1, t1 = counters(), cpu_seconds(), time.monotonic()
    wall = t1 - t0
    return {
        "cpu_percent": round(100.0 * (cpu1 - cpu0) / wall, 2),
        "sent_fps": round((c1.sent - c0.sent) / wall, 2),
        "received_fps": round((c1.received - c0.received) / wall, 2),
        "painted_fps": round((c1.painted - c0.painted) / wall, 2),
        "first_moving_ms": [round(x, 1) for x in list(c1.first_moving_ms)[moving0:]],
        "load": round(os.getloadavg()[0], 2),
    }


# --- StudyMatch, headless ---------------------------------------------------------------------


class PowerRunner(MeasuredRunner):
    def power_counters(self) -> Counters:
        call = self.engine.call
        if call is None:
            raise RuntimeError("the call ended before the measurement window did")
        got = call.received
        return Counters(self.engine.media.camera_frames[1], got.video_frames, got.first_moving_ms)


async def run_sm(server: str, scene: str, warmup: float, seconds: float) -> dict[str, Any]:
    options = HeadlessOptions(calls=1, call_seconds=warmup + seconds + 1.5, events="json")
    config = EngineConfig(server=server, fake_media=True, scene=scene)
    runner = PowerRunner(config, options, sys.stdout, sys.stderr)
    runner.probe = Probe()
    measuring = asyncio.create_task(measure(runner.probe.first_video, runner.power_counters, warmup, seconds))
    code = await runner.run()
    if not measuring.done():
        measuring.cancel()
        raise RuntimeError(f"the client exited ({code}) before the measurement window ended")
    return measuring.result()


# --- StudyMatch, the whole app --------------------------------------------------------------


async def run_window(server: str, scene: str, minimised: bool, warmup: float, seconds: float) -> dict[str, Any]:
    from PySide6.QtCore import QSettings

    from client.engine import Engine
    from client.ui.app import App
    from client.ui.settings import Settings

    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(QSettings(str(Path(folder) / "power.ini"), QSettings.Format.IniFormat))
        settings.server = server
        app = App(settings, fake_media=True, scene=scene, history=Path(folder) / "history.sqlite")
        window = app.window
        window.resize(1100, 720)
        window.show()
        if minimised:
            window.showMinimized()
        await app.start()
        while not app.controller.connected:  # noqa: ASYNC110 (the app's own state, no event)
            await asyncio.sleep(0.05)
        app.controller.find(app.controller.mode, app.controller.topic)
        first_video = asyncio.Event()
        engine = cast(Engine, app.controller.engine)

        def counters() -> Counters:
            call = engine.call
            if call is None:
                raise RuntimeError("the call ended before the measurement window did")
            painted = window.call.remote.frames_painted + window.mini.picture.frames_painted
            return Counters(engine.media.camera_frames[1], call.received.video_frames,
                            call.received.first_moving_ms, painted)

        async def first() -> None:
            while engine.call is None or engine.call.received.video_frames == 0:  # noqa: ASYNC110
                await asyncio.sleep(0.02)
            first_video.set()

        waiting = asyncio.create_task(first())
        try:
            result = await measure(first_video, counters, warmup, seconds)
        finally:
            waiting.cancel()
        result["painted_main"] = window.call.remote.frames_painted
        result["painted_mini"] = window.mini.picture.frames_painted
        result["mini_window_shown"] = window.mini.isVisible()
        result["window_seen"] = window.sight.seen
        await app.close()
        window.hide()
        return result


def window_main(server: str, scene: str, minimised: bool, warmup: float, seconds: float) -> None:
    import qasync

    from client.ui.app import make_qapp

    qapp = make_qapp([sys.argv[0]])
    qapp.setQuitOnLastWindowClosed(False)
    loop = qasync.QEventLoop(qapp)
    asyncio.set_event_loop(loop)
    result = loop.run_until_complete(run_window(server, scene, minimised, warmup, seconds))
    print(json.dumps({"bench": result}), flush=True)
    # The figures are out; qasync's teardown of a closed app's leftover relay tasks only logs noise
    # (and can fail the exit code), so leave at once.
    os._exit(0)


# --- bare aiortc --------------------------------------------------------------------------------


class CountedTrack(PatternVideoTrack):
    def __init__(self, scene: Scene, fps: int = 30) -> None:
        super().__init__(640, 480, fps, scene=scene)
        self.sent = 0

    async def recv(self) -> VideoFrame:
        frame = await super().recv()
        self.sent += 1
        return frame


class ScenePeer(BarePeer):
    def __init__(self, probe: Probe, t0: float, scene: Scene, fps: int = 30) -> None:
        super().__init__(probe, t0)
        self.track = CountedTrack(scene, fps)
        self.clock = CaptureClock()
        self.first_moving_ms: list[float] = []

    def add_tracks(self) -> None:
        self.pc.addTrack(ToneAudioTrack())
        self.pc.addTrack(self.track)

    def on_video(self, frame: VideoFrame) -> None:
        self.video_frames += 1
        self.probe.mark("first_video", self.since_go())
        info = read_pattern(frame)
        if info is not None:
            latency, after_still = self.clock.heard(info, time.time())
            if after_still and latency is not None:
                self.first_moving_ms.append(latency)

    def on_audio(self) -> None:
        self.audio_frames += 1

    def power_counters(self) -> Counters:
        return Counters(self.track.sent, self.video_frames, self.first_moving_ms)


async def run_bare(role: str, fd: int, scene: Scene, warmup: float, seconds: float,
                   fps: int = 30) -> dict[str, Any]:
    reader, writer = await asyncio.open_connection(sock=socket.socket(fileno=fd))
    control = await stdin_reader()
    print(json.dumps({"ready": role}), flush=True)
    if (await control.readline()).strip() != b"go":
        raise RuntimeError("the driver did not say go")
    probe = Probe()
    peer = ScenePeer(probe, time.monotonic(), scene, fps)
    await peer.negotiate(role, reader, writer)
    result = await measure(probe.first_video, peer.power_counters, warmup, seconds)
    print(json.dumps({"bench": result}), flush=True)
    await control.readline()  # "stop" (or EOF): both windows are over
    await peer.close()
    writer.close()
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=("sm", "window", "bare"))
    parser.add_argument("--server")
    parser.add_argument("--role", choices=("offer", "answer"))
    parser.add_argument("--fd", type=int)
    parser.add_argument("--scene", choices=("still", "reading", "moving"), default="moving")
    parser.add_argument("--minimised", action="store_true")
    parser.add_argument("--fps", type=int, default=30, help="bare: the frame rate it sends")
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args(argv)
    if args.kind != "bare":
        freeze_startup_heap()  # as `studymatch` does before it starts the engine
    if args.kind == "sm":
        result = asyncio.run(run_sm(args.server, args.scene, args.warmup, args.seconds))
    elif args.kind == "window":
        window_main(args.server, args.scene, args.minimised, args.warmup, args.seconds)
        return 0
    else:
        asyncio.run(run_bare(args.role, args.fd, args.scene, args.warmup, args.seconds, args.fps))
        return 0
    print(json.dumps({"bench": result}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
