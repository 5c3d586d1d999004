"""What background blur costs (CPU per frame and end-to-end latency, blur off and on, in one
run), and how readable a shared screen of text is on the receiving side.

    python bench/camera_effects.py [--phases 4] [--seconds 8] [--warmup 2] [--json]

One process, two real aiortc peers on this machine (VP8 both ways of the codec, ICE over the
machine's own addresses, no STUN). The sender's video is the app's own path: `SharedCamera`
reading a synthetic person in a synthetic room (client/media/synthscene.py) at 640x480 30 fps
through `with_background` (client/media/effects.py), so blur runs in the camera's reader thread
exactly as in a call. Phases alternate blur off / on on the same connection, so the machine's
noise hits both.

- CPU: this process's CPU time (every thread: capture, blur, VP8 encode and decode) over each
  phase, as a share of one core and per frame sent.
- Latency: each frame carries its sequence number as 16 black/white blocks on the person's
  chest (inside the mask, so blur keeps them sharp); the receiver reads them back and looks up
  when the camera made that frame. Same process, same clock.
- Shared screen: the synthetic screen of text (client/media/screentext.py) at 1280x720 and
  1920x1080 through `ScreenTrack` (5 fps) to a real receiver, each frame read back by matching
  our own glyphs; the share of characters right.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import av
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aiortc import RTCConfiguration, RTCPeerConnection
from aiortc.mediastreams import MediaStreamError

from bench.common import percentile
from client.media import screentext
from client.media.backdrop import Backdrop
from client.media.camera import SharedCamera
from client.media.effects import BackgroundEffect, with_background
from client.media.screen import ScreenTrack, fake_screen
from client.media.synthscene import PersonCamera

WIDTH, HEIGHT, FPS = 640, 480, 30
BITS, BLOCK = 16, 16  # the sequence number: 2 rows of 8 blocks of 16 px
CODE_X, CODE_Y = WIDTH // 2 - 4 * BLOCK, 400


class StampedPersonCamera(PersonCamera):
    """The synthetic person with its frame number on the chest; remembers when each was made."""

    def __init__(self, made: dict[int, float]) -> None:
        super().__init__(WIDTH, HEIGHT, FPS)
        self.made = made

    def read(self) -> av.VideoFrame:
        seq = self.sequence
        frame = super().read()
        img = frame.to_ndarray(format="yuv420p")  # planar: Y rows first
        for bit in range(BITS):
            x = CODE_X + (bit % 8) * BLOCK
            y = CODE_Y + (bit // 8) * BLOCK
            img[y : y + BLOCK, x : x + BLOCK] = 235 if (seq >> bit) & 1 else 16
        out = av.VideoFrame.from_ndarray(img, format="yuv420p")
        self.made[seq % (1 << BITS)] = time.monotonic()
        return out


def read_code(frame: av.VideoFrame) -> int:
    y = frame.to_ndarray(format="gray")
    seq = 0
    for bit in range(BITS):
        x = CODE_X + (bit % 8) * BLOCK + BLOCK // 2
        yy = CODE_Y + (bit // 8) * BLOCK + BLOCK // 2
        if y[yy - 3 : yy + 3, x - 3 : x + 3].mean() > 125:
            seq |= 1 << bit
    return seq


async def connect(track: Any) -> tuple[RTCPeerConnection, RTCPeerConnection, asyncio.Future[Any]]:
    sender = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    receiver = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    remote: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

    @receiver.on("track")
    def on_track(t: Any) -> None:
        if not remote.done():
            remote.set_result(t)

    sender.addTrack(track)
    await sender.setLocalDescription(await sender.createOffer())
    await receiver.setRemoteDescription(sender.localDescription)
    await receiver.setLocalDescription(await receiver.createAnswer())
    await sender.setRemoteDescription(receiver.localDescription)
    return sender, receiver, remote


def cpu() -> float:
    t = os.times()
    return t.user + t.system


async def run(phases: int, seconds: float, warmup: float) -> dict[str, Any]:
    made: dict[int, float] = {}
    effect = BackgroundEffect()
    camera = SharedCamera(with_background(lambda: StampedPersonCamera(made), effect))
    track = await camera.subscribe()
    sender, receiver, remote_f = await connect(track)
    remote = await asyncio.wait_for(remote_f, 20)
    results: dict[str, list[dict[str, float]]] = {"off": [], "on": []}
    latencies: dict[str, list[float]] = {"off": [], "on": []}
    try:
        for phase in range(phases):
            name = "on" if phase % 2 else "off"
            effect.set(Backdrop.BLUR if name == "on" else Backdrop.NONE)
            lat: list[float] = []
            end_warm = time.monotonic() + warmup
            while time.monotonic() < end_warm:
                await remote.recv()
            made_before = len(made)
            seq_before = max(made) if made else 0
            c0, t0 = cpu(), time.monotonic()
            received = 0
            while time.monotonic() - t0 < seconds:
                frame = await remote.recv()
                now = time.monotonic()
                seq = read_code(frame)
                if seq in made and 0 <= now - made[seq] < 2.0:
                    lat.append((now - made[seq]) * 1000)
                received += 1
            wall, used = time.monotonic() - t0, cpu() - c0
            sent = max(1, (max(made) - seq_before) if len(made) > made_before else 1)
            results[name].append({
                "cpu_core_pct": 100 * used / wall,
                "cpu_ms_per_frame": 1000 * used / sent,
                "fps_received": received / wall,
                "read_back_pct": 100 * len(lat) / max(1, received),
                "latency_p50_ms": statistics.median(lat) if lat else float("nan"),
                "latency_p95_ms": percentile(lat, 95) if lat else float("nan"),
            })
            latencies[name].extend(lat)
    except MediaStreamError:
        raise SystemExit("the video stopped during the run") from None
    finally:
        await sender.close()
        await receiver.close()
        await camera.release()

    def median(name: str, key: str) -> float:
        return statistics.median(r[key] for r in results[name])

    summary: dict[str, Any] = {name: {key: round(median(name, key), 2) for key in results[name][0]}
                               for name in ("off", "on")}
    for name in ("off", "on"):
        summary[name]["latency_pooled_p50_ms"] = round(statistics.median(latencies[name]), 1)
        summary[name]["latency_pooled_p95_ms"] = round(percentile(latencies[name], 95), 1)
    summary["blur_cost_core_pct"] = round(summary["on"]["cpu_core_pct"] - summary["off"]["cpu_core_pct"], 1)
    summary["blur_latency_p50_ms"] = round(summary["on"]["latency_pooled_p50_ms"]
                                           - summary["off"]["latency_pooled_p50_ms"], 1)
    summary["blur_latency_p95_ms"] = round(summary["on"]["latency_pooled_p95_ms"]
                                           - summary["off"]["latency_pooled_p95_ms"], 1)
    summary["phases"] = results
    return summary


async def screen_readability(width: int, height: int, seconds: float) -> dict[str, float]:
    """The synthetic screen of text sent as a shared screen (5 fps) and read back on receipt."""
    grab, lines = fake_screen(width, height)
    track = ScreenTrack(grab)
    sender, receiver, remote_f = await connect(track)
    cols, rows = screentext.grid(width, height)
    scores: list[float] = []
    c0, t0 = cpu(), time.monotonic()
    try:
        remote = await asyncio.wait_for(remote_f, 20)
        while time.monotonic() - t0 < seconds:
            frame = await asyncio.wait_for(remote.recv(), 10)
            scores.append(screentext.accuracy(lines, screentext.read(frame.to_ndarray(format="gray"), rows, cols)))
    finally:
        wall, used = time.monotonic() - t0, cpu() - c0
        track.stop()
        await sender.close()
        await receiver.close()
    return {
        "chars": rows * cols,
        "frames": len(scores),
        "first_frame_pct": round(100 * scores[0], 2),
        "median_pct": round(100 * statistics.median(scores), 2),
        "worst_after_1s_pct": round(100 * min(scores[5:] or scores), 2),
        "cpu_core_pct": round(100 * used / wall, 1),  # capture + VP8 both ways + the reader
    }


def machine() -> str:
    load = os.getloadavg()
    return (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
            f"load {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, Python {platform.python_version()}, "
            f"numpy {np.__version__}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--phases", type=int, default=int(os.environ.get("BENCH_PHASES", "4")),
                        help="alternating off/on phases (even)")
    parser.add_argument("--seconds", type=float, default=float(os.environ.get("BENCH_SECONDS", "8")))
    parser.add_argument("--warmup", type=float, default=float(os.environ.get("BENCH_WARMUP", "2")))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    before = machine()
    summary = asyncio.run(run(max(2, args.phases), args.seconds, args.warmup))
    summary["screen"] = {f"{w}x{h}": asyncio.run(screen_readability(w, h, args.seconds))
                         for w, h in ((1280, 720), (1920, 1080))}
    summary["machine_before"], summary["machine_after"] = before, machine()
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    print(f"machine before: {summary['machine_before']}\nmachine after:  {summary['machine_after']}")
    print(f"{'':6}{'CPU % core':>12}{'CPU ms/frame':>14}{'fps recv':>10}{'read %':>8}{'lat p50':>9}{'lat p95':>9}")
    for name in ("off", "on"):
        s = summary[name]
        print(f"blur {name:<3}{s['cpu_core_pct']:>10.1f}{s['cpu_ms_per_frame']:>14.2f}{s['fps_received']:>10.1f}"
              f"{s['read_back_pct']:>8.1f}{s['latency_pooled_p50_ms']:>9.1f}{s['latency_pooled_p95_ms']:>9.1f}")
    print(f"blur costs {summary['blur_cost_core_pct']:+.1f} % of one core (target <= +15), "
          f"latency p50 {summary['blur_latency_p50_ms']:+.1f} ms, p95 {summary['blur_latency_p95_ms']:+.1f} ms "
          f"(target <= +10)")
    for size, r in summary["screen"].items():
        print(f"shared screen {size}: {r['chars']} characters, {r['frames']} frames, read back: first frame "
              f"{r['first_frame_pct']} %, median {r['median_pct']} %, worst after 1 s {r['worst_after_1s_pct']} % "
              f"(target >= 99), CPU {r['cpu_core_pct']} % of one core")
    return 0


if __name__ == "__main__":
    sys.exit(main())
