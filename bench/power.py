"""A study call that sips battery (issue 17): the same call four ways, beside a bare aiortc pair.

    python bench/power.py [--seconds 60] [--warmup 2] [--rounds 1] [--json]

Scenes of the synthetic camera (client/media/synthetic.py): `still` (nothing moves), `reading`
(a page scrolls for 0.5 s every 10 s), `moving` (the pattern moves all along). Each is run as:
- StudyMatch: two headless clients in their own processes (`bench/power_peers.py sm`) against
  `python -m server --port 0`: the camera's MotionGate decides what is sent;
- bare aiortc: two processes with one RTCPeerConnection each sending the same scene at 30 fps
  (`bench/power_peers.py bare`), offer/answer over a socketpair.
Then the whole app, windows and all (offscreen Qt), two processes in the reading scene and in
the moving one: both windows shown, then both minimised before the call (the mini window shows
the partner). And the bare pair once more in the still scene at 5 fps: the floor (audio,
transport, the loop) that no frame rate goes below.

Every peer measures its own process's CPU (every thread) over the same window; a figure is the
two peers' mean. Runs go scene by scene, StudyMatch then bare, so the machine's load at that
moment falls on both; the load average is printed with each run.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.call import machine
from bench.common import ServerProcess, drive_bare_peers, start_server

ROOT = Path(__file__).resolve().parents[1]
PEER = [sys.executable, "-m", "bench.power_peers"]
SCENES = ("still", "reading", "moving")
WINDOW_SCENES = ("reading", "moving")
TARGET_STILL = 0.5  # still and reading: at most 0.5x the bare pair's CPU
TARGET_MOVING = 1.1
TARGET_FIRST_MOVING_MS = 100.0
TARGET_MINIMISED = 0.5  # a minimised call: at most 0.5x a visible one


def _result(out: str) -> dict[str, Any]:
    for line in out.splitlines():
        if line.startswith('{"bench"'):
            result: dict[str, Any] = json.loads(line)["bench"]
            return result
    raise RuntimeError(f"a peer printed no result:\n{out[-2000:]}")


def _mean(peers: list[dict[str, Any]]) -> dict[str, Any]:
    run: dict[str, Any] = {key: round(statistics.fmean(p[key] for p in peers), 2)
                           for key in ("cpu_percent", "sent_fps", "received_fps", "painted_fps", "load")}
    run["first_moving_ms"] = sorted(x for p in peers for x in p["first_moving_ms"])
    for key in ("mini_window_shown", "window_seen"):
        if key in peers[0]:
            run[key] = [p[key] for p in peers]
    return run


def sm_run(server: ServerProcess, kind: str, extra: list[str], warmup: float, seconds: float) -> dict[str, Any]:
    args = [*PEER, kind, "--server", server.url, "--warmup", str(warmup), "--seconds", str(seconds), *extra]
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    peers = [subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, text=True, env=env) for _ in range(2)]
    outs = [p.communicate(timeout=seconds + warmup + 120)[0] for p in peers]
    for p, out in zip(peers, outs, strict=True):
        if p.returncode != 0:
            raise RuntimeError(f"a StudyMatch peer exited {p.returncode}:\n{out[-2000:]}")
    return _mean([_result(out) for out in outs])


def bare_run(scene: str, warmup: float, seconds: float, fps: int = 30) -> dict[str, Any]:
    a, b = socket.socketpair()
    peers = []
    for role, sock in (("offer", a), ("answer", b)):
        fd = sock.fileno()
        args = [*PEER, "bare", "--role", role, "--fd", str(fd), "--scene", scene, "--fps", str(fps),
                "--warmup", str(warmup), "--seconds", str(seconds)]
        peers.append(subprocess.Popen(args, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      text=True, pass_fds=(fd,)))
    a.close()
    b.close()
    results = [_result(line) for line in drive_bare_peers(peers)]
    return _mean(results)


def summarize(runs: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    def med(name: str, key: str) -> float:
        return round(statistics.median(r[key] for r in runs[name]), 2)

    rows: dict[str, Any] = {}
    for name in runs:
        moving = sorted(x for r in runs[name] for x in r["first_moving_ms"])
        rows[name] = {key: med(name, key) for key in ("cpu_percent", "sent_fps", "received_fps", "painted_fps",
                                                      "load")}
        rows[name]["first_moving_ms"] = moving
    ratios = {scene: round(rows[f"sm_{scene}"]["cpu_percent"] / rows[f"bare_{scene}"]["cpu_percent"], 2)
              for scene in SCENES}
    ratios["bare_5fps_still"] = round(rows["bare_still_5fps"]["cpu_percent"] / rows["bare_still"]["cpu_percent"], 2)
    for scene in WINDOW_SCENES:
        ratios[f"minimised_over_visible_{scene}"] = round(
            rows[f"window_minimised_{scene}"]["cpu_percent"] / rows[f"window_visible_{scene}"]["cpu_percent"], 2)
    firsts = rows["sm_reading"]["first_moving_ms"] + rows["window_visible_reading"]["first_moving_ms"]
    targets = {
        "still_within_0.5x_bare": ratios["still"] <= TARGET_STILL,
        "reading_within_0.5x_bare": ratios["reading"] <= TARGET_STILL,
        "moving_within_1.1x_bare": ratios["moving"] <= TARGET_MOVING,
        "first_moving_frame_within_100ms": bool(firsts) and max(firsts) <= TARGET_FIRST_MOVING_MS,
        "minimised_within_0.5x_visible": all(ratios[f"minimised_over_visible_{scene}"] <= TARGET_MINIMISED
                                             for scene in WINDOW_SCENES),
    }
    return {"rows": rows, "cpu_ratios": ratios, "targets_met": targets}


def print_table(summary: dict[str, Any]) -> None:
    print(f"{'run':18} {'CPU %/peer':>10} {'sent fps':>9} {'recv fps':>9} {'painted':>8} {'load':>5}"
          "   first moving frame (ms, every one)")
    for name, row in summary["rows"].items():
        print(f"{name:18} {row['cpu_percent']:10.1f} {row['sent_fps']:9.1f} {row['received_fps']:9.1f} "
              f"{row['painted_fps']:8.1f} {row['load']:5.1f}   {row['first_moving_ms']}")
    print("CPU ratios:", summary["cpu_ratios"])
    for name, ok in summary["targets_met"].items():
        print(f"target {name}: {'met' if ok else 'MISSED'}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="measurement window per call")
    parser.add_argument("--warmup", type=float, default=2.0, help="after the first frame, before the window")
    parser.add_argument("--rounds", type=int, default=1, help="each run this many times (medians)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    runs: dict[str, list[dict[str, Any]]] = {}
    started = time.time()
    server = start_server()
    try:
        for _ in range(args.rounds):
            for scene in SCENES:
                runs.setdefault(f"sm_{scene}", []).append(
                    sm_run(server, "sm", ["--scene", scene], args.warmup, args.seconds))
                runs.setdefault(f"bare_{scene}", []).append(bare_run(scene, args.warmup, args.seconds))
                print(f"{scene} done ({time.time() - started:.0f} s)", file=sys.stderr)
            runs.setdefault("bare_still_5fps", []).append(bare_run("still", args.warmup, args.seconds, fps=5))
            for scene in WINDOW_SCENES:
                for name, extra in (("window_visible", []), ("window_minimised", ["--minimised"])):
                    runs.setdefault(f"{name}_{scene}", []).append(
                        sm_run(server, "window", ["--scene", scene, *extra], args.warmup, args.seconds))
                    print(f"{name} {scene} done ({time.time() - started:.0f} s)", file=sys.stderr)
    finally:
        server.stop()
    summary = summarize(runs)
    summary["machine"] = machine()
    summary["runs"] = runs
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(f"machine: {summary['machine']}")
        print(f"{args.rounds} round(s), {args.seconds:g} s windows after {args.warmup:g} s warm-up")
        print_table(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
