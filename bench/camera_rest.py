"""What the camera costs while the screen is shared in its place, awake and resting, in one run.

    python bench/camera_rest.py [--phases 6] [--seconds 6] [--json]

The app's camera path in one process: `SharedCamera` reading the synthetic person in a synthetic
room (client/media/synthscene.py) at 640x480, 30 fps, through `with_background` (blur on, or
off), with one subscriber set aside as a shared screen's camera is: nothing reads it, but the
camera's relay still takes every frame from the reader thread. Phases alternate awake / resting
(`SharedCamera.resting`, which the engine sets while the screen is shared), so the machine's
noise hits both. CPU is this process's (every thread), as a share of one core.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from client.media.backdrop import Backdrop
from client.media.camera import SharedCamera
from client.media.effects import BackgroundEffect, with_background
from client.media.synthscene import PersonCamera


def cpu() -> float:
    t = os.times()
    return t.user + t.system


async def run(backdrop: Backdrop, phases: int, seconds: float) -> dict[str, Any]:
    camera = SharedCamera(with_background(lambda: PersonCamera(640, 480, 30), BackgroundEffect(backdrop)))
    aside = await camera.subscribe()  # unread, as while the screen is shared
    await asyncio.wait_for(aside.recv(), 20)
    samples: dict[str, list[float]] = {"awake": [], "resting": []}
    reads: dict[str, list[float]] = {"awake": [], "resting": []}
    try:
        for phase in range(phases):
            name = "resting" if phase % 2 else "awake"
            camera.resting = name == "resting"
            await asyncio.sleep(1.0)  # settle
            c0, t0, r0 = cpu(), time.monotonic(), camera.frames_read
            await asyncio.sleep(seconds)
            wall = time.monotonic() - t0
            samples[name].append(100 * (cpu() - c0) / wall)
            reads[name].append((camera.frames_read - r0) / wall)
    finally:
        await camera.release()
    out: dict[str, Any] = {name: {"cpu_core_pct": round(statistics.median(samples[name]), 1),
                                  "frames_read_per_s": round(statistics.median(reads[name]), 1)}
                           for name in samples}  # fmt: skip
    out["saved_core_pct"] = round(out["awake"]["cpu_core_pct"] - out["resting"]["cpu_core_pct"], 1)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--phases", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results = {backdrop.value: asyncio.run(run(backdrop, args.phases, args.seconds))
               for backdrop in (Backdrop.NONE, Backdrop.BLUR)}  # fmt: skip
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    print(f"{'background':12} {'awake, % core':>14} {'resting, % core':>16} {'saved':>7} {'reads/s awake':>14} {'resting':>8}")
    for name, r in results.items():
        print(f"{name:12} {r['awake']['cpu_core_pct']:>14} {r['resting']['cpu_core_pct']:>16} {r['saved_core_pct']:>7}"
              f" {r['awake']['frames_read_per_s']:>14} {r['resting']['frames_read_per_s']:>8}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
