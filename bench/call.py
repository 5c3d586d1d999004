"""One 640x480 30 fps call on loopback, StudyMatch beside a bare aiortc loopback, in one run.

    python bench/call.py [--runs 3] [--seconds 10] [--warmup 2] [--json]

Layout (the same on both sides, so the comparison is fair): each call is two
peer processes started by this driver (`bench/call_peers.py`); each peer
measures itself the same way and its CPU is its own process's (every
thread), read from /proc/self/stat over the same window.
- StudyMatch: two headless clients (the CLI's runner, `--fake-media`: the
  synthetic pattern camera and the tone) against `python -m server --port 0`
  in a third process, signaling through it. The server's CPU is not counted
  (it is idle during a call: media never passes through it).
- bare aiortc: two processes with one RTCPeerConnection each, PatternVideoTrack
  + ToneAudioTrack, offer/answer over a socketpair; "matched" is a `go` line
  written to both at once.
Runs alternate (StudyMatch, bare, StudyMatch, bare, ...) so the machine's
noise hits both; each figure is the median over runs of the two peers' mean,
latency percentiles are over both directions' frames pooled per run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import ServerProcess, drive_bare_peers, percentile, start_server

ROOT = Path(__file__).resolve().parents[1]
PEER = [sys.executable, "-m", "bench.call_peers"]
# Per-peer figures averaged over the two peers of a run; the latency ones are pooled.
FIGURES = [
    ("connected", "matched -> media connected (ms)"),
    ("first_video", "matched -> first remote video frame (ms)"),
    ("first_audio", "matched -> first remote audio frame (ms)"),
    ("latency_p50", "capture -> decode latency p50 (ms)"),
    ("latency_p95", "capture -> decode latency p95 (ms)"),
    ("video_fps", "received video (frames/s)"),
    ("audio_fps", "received audio (frames/s, 50 = all)"),
    ("cpu_percent", "CPU per client (% of one core)"),
]
SIDES = ("studymatch", "bare_aiortc")
TARGET_FIRST_FRAME_MS = 150.0
TARGET_RATIO = 1.2


def _result(out: str) -> dict[str, Any]:
    for line in out.splitlines():
        if line.startswith('{"bench"'):
            result: dict[str, Any] = json.loads(line)["bench"]
            return result
    raise RuntimeError(f"a peer printed no result:\n{out[-2000:]}")


def _summarize(peers: list[dict[str, Any]], pooled: list[float]) -> dict[str, float]:
    """One run's figures: the two peers' mean; latency over both directions' frames."""
    latencies = [x for p in peers for x in p["latencies_ms"]]
    if not latencies:
        raise RuntimeError("no pattern frame was read in the window: no latency to report")
    pooled.extend(latencies)
    run = {
        key: statistics.fmean(p[key] for p in peers) for key, _ in FIGURES if not key.startswith("latency")
    }
    run["latency_p50"] = percentile(latencies, 50)
    run["latency_p95"] = percentile(latencies, 95)
    return run


def studymatch_run(
    server: ServerProcess, warmup: float, seconds: float, pooled: list[float]
) -> dict[str, float]:
    cpu0 = server.cpu_seconds()
    args = [*PEER, "sm", "--server", server.url, "--warmup", str(warmup), "--seconds", str(seconds)]
    peers = [subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=seconds + warmup + 90)[0] for p in peers]
    for p, out in zip(peers, outs, strict=True):
        if p.returncode != 0:
            raise RuntimeError(f"a StudyMatch peer exited {p.returncode}:\n{out[-2000:]}")
    run = _summarize([_result(out) for out in outs], pooled)
    run["server_cpu_ms"] = 1000.0 * (server.cpu_seconds() - cpu0)  # the whole call, not counted above
    return run


def bare_run(warmup: float, seconds: float, pooled: list[float]) -> dict[str, float]:
    a, b = socket.socketpair()
    peers = []
    for role, sock in (("offer", a), ("answer", b)):
        fd = sock.fileno()
        args = [
            *PEER,
            "bare",
            "--role",
            role,
            "--fd",
            str(fd),
            "--warmup",
            str(warmup),
            "--seconds",
            str(seconds),
        ]
        peers.append(
            subprocess.Popen(
                args, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, pass_fds=(fd,)
            )
        )
    a.close()
    b.close()
    results = [_result(line) for line in drive_bare_peers(peers)]
    return _summarize(results, pooled)


def machine() -> str:
    with open("/proc/cpuinfo") as f:
        model = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), "?")
    load = os.getloadavg()[0]
    return f"{model}, {os.cpu_count()} cores, load avg {load:.1f}, Python {platform.python_version()}"


def report(runs: dict[str, list[dict[str, float]]], pooled: dict[str, list[float]]) -> dict[str, Any]:
    med = {
        side: {key: round(statistics.median(r[key] for r in runs[side]), 1) for key, _ in FIGURES}
        for side in SIDES
    }
    ratio = {
        key: round(med["studymatch"][key] / med["bare_aiortc"][key], 2)
        for key, _ in FIGURES
        if med["bare_aiortc"][key]
    }
    # Every run's frames together: steadier tails than a median of per-run p95s on a busy machine.
    all_runs = {
        side: {f"latency_p{q}": round(percentile(pooled[side], q), 1) for q in (50, 95, 99)} for side in SIDES
    }
    targets = {
        "first_video_within_150ms": med["studymatch"]["first_video"] <= TARGET_FIRST_FRAME_MS,
        "latency_within_1.2x": max(ratio["latency_p50"], ratio["latency_p95"]) <= TARGET_RATIO,
        "cpu_within_1.2x": ratio["cpu_percent"] <= TARGET_RATIO,
    }
    return {
        "median": med,
        "ratio_sm_over_bare": ratio,
        "latency_all_runs_pooled": all_runs,
        "targets_met": targets,
    }


def print_table(runs: dict[str, list[dict[str, float]]], summary: dict[str, Any]) -> None:
    med, ratio = summary["median"], summary["ratio_sm_over_bare"]
    print(f"{'figure':45} {'StudyMatch':>11} {'bare':>8} {'ratio':>6}   runs (SM | bare)")
    for key, label in [*FIGURES, ("load", "load average at the run's start")]:
        digits = 1 if key == "load" else 0
        per_run = " | ".join(" ".join(f"{r[key]:.{digits}f}" for r in runs[side]) for side in SIDES)
        if key in med["studymatch"]:
            figures = (
                f"{med['studymatch'][key]:11.1f} {med['bare_aiortc'][key]:8.1f} {ratio.get(key, 0.0):6.2f}"
            )
        else:
            figures = " " * 27
        print(f"{label:45} {figures}   {per_run}")
    pooled = summary["latency_all_runs_pooled"]
    for q in ("p50", "p95", "p99"):
        sm, bare = pooled["studymatch"][f"latency_{q}"], pooled["bare_aiortc"][f"latency_{q}"]
        print(f"{'latency ' + q + ', every run pooled (ms)':45} {sm:11.1f} {bare:8.1f} {sm / bare:6.2f}")
    server_ms = statistics.median(r["server_cpu_ms"] for r in runs["studymatch"])
    print(f"server CPU per StudyMatch call (not counted above): {server_ms:.0f} ms")
    for name, ok in summary["targets_met"].items():
        print(f"target {name}: {'met' if ok else 'MISSED'}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10.0, help="measurement window per call")
    parser.add_argument("--warmup", type=float, default=2.0, help="after the first frame, before the window")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    runs: dict[str, list[dict[str, float]]] = {side: [] for side in SIDES}
    pooled: dict[str, list[float]] = {side: [] for side in SIDES}
    started = time.time()
    server = start_server()
    try:
        for i in range(args.runs):
            for side in SIDES:  # interleaved: the machine's noise falls on both
                load = os.getloadavg()[0]
                if side == "studymatch":
                    run = studymatch_run(server, args.warmup, args.seconds, pooled[side])
                else:
                    run = bare_run(args.warmup, args.seconds, pooled[side])
                runs[side].append({**run, "load": load})
            print(f"run {i + 1}/{args.runs} done ({time.time() - started:.0f} s)", file=sys.stderr)
    finally:
        server.stop()
    summary = report(runs, pooled)
    summary["machine"] = machine()
    summary["runs"] = {
        side: [{k: round(v, 1) for k, v in r.items()} for r in rs] for side, rs in runs.items()
    }
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(f"machine: {summary['machine']}")
        print(f"{args.runs} runs of each, {args.seconds:g} s windows after {args.warmup:g} s warm-up")
        print_table(runs, summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
