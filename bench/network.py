"""A call under bad networks: StudyMatch beside a bare aiortc pair, per profile, in one run.

    python bench/network.py [--profiles clean,loss2,loss5_delay,cap1mbit] [--seconds 20]
                            [--warmup 3] [--outage 4] [--after 10] [--runs 1]
                            [--sides studymatch,bare_aiortc,bare_rebuild] [--json]

Needs root (network namespaces, tools/netlab). Per profile, a fresh lab: ends `a` and
`b` around a `router` that runs the signaling server (`python -m server`, reachable at
10.99.1.1 from a and 10.99.2.1 from b); the profile's impairment sits on a's link, so
every packet between the ends meets it once (loss: nftables on both directions; rate:
tc tbf both ways; delay and jitter: the userspace delay line, on UDP, each way). In it,
one StudyMatch call (two `--headless --fake-media` engines, `bench/network_peers.py`),
then one bare aiortc call (two RTCPeerConnections, offer/answer over a socketpair), then
the same bare call "rebuilt": both ends make a new RTCPeerConnection as the link returns
(the measured case for rebuilding media after a stall; docs/benchmarks.md).
Each call, timed from the moment both ends have a first remote frame:
  warm-up | measured window | a's link down for `--outage` s | `--after` s with it back.
Figures, both directions pooled (rates: the two ends' mean):
- received video frames/s, freezes per minute (a gap over 200 ms between two frames),
  the share of the window spent frozen and the longest freeze, in the window; capture-to-decode latency p50/p95 in the window;
- live frames/s: the received frames that decoded readable and arrived within 400 ms of their
  capture (ITU-T G.114's bound for a conversation): a backlog shown seconds late after a hole
  in aiortc's receiver counts in the received rate, not in this one; and the media rebuilds a
  minute (StudyMatch's; the bare pair never rebuilds);
- after the outage: seconds from the link's return to the first remote frame, and to the
  first readable one captured after it (the later of the two directions each), and the latency p50 over the last 2 s of
  the `--after` phase, against the window's p50;
- the bare pair's video packets sent per second, and how long 512 of them last: aiortc's
  video jitter buffer holds 512 packets, which sets the wait after a short outage.
Calls that survive a server restart are counted by `bench/network_restart.py`.
"""

from __future__ import annotations

import argparse
import itertools
import json
import queue
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import UNLIMITED, percentile
from tools.netlab import Star, star, unavailable_reason

ROOT = Path(__file__).resolve().parents[1]
PEER = [sys.executable, "-m", "bench.network_peers"]
SIDES = ("studymatch", "bare_aiortc", "bare_rebuild")
HEADINGS = {"studymatch": "StudyMatch", "bare_aiortc": "bare aiortc", "bare_rebuild": "bare rebuilt"}
FREEZE_GAP = 0.2
FIRST_FRAME_TIMEOUT = 90.0
JITTER_PACKETS = 512  # aiortc's video jitter buffer (RTCRtpReceiver): its capacity, in packets
TAIL = 2.0  # seconds at the end of the after phase over which the latency is taken
LIVE_MS = 400.0  # a frame shown later than this after its capture is not live (ITU-T G.114, one way)


@dataclass(frozen=True)
class Profile:
    loss: int = 0
    delay_ms: float = 0.0
    jitter_ms: float = 0.0
    rate_kbit: int = 0

    def apply(self, net: Star) -> None:
        if self.loss:
            net.lab.loss(net.a, self.loss)
        if self.delay_ms or self.jitter_ms:
            net.add_delay(self.delay_ms, self.jitter_ms, seed=1)
        if self.rate_kbit:
            net.lab.rate(net.a, self.rate_kbit)


PROFILES = {
    "clean": Profile(),
    "loss2": Profile(loss=2),
    "loss5_delay": Profile(loss=5, delay_ms=100, jitter_ms=30),
    "cap1mbit": Profile(rate_kbit=1000),
}


class Peer:
    """A peer process; its stdout lines read by a thread, so no pipe ever fills."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line)
        self.lines.put("")

    def expect(self, key: str, timeout: float) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            line = self.lines.get(timeout=max(0.01, deadline - time.monotonic()))
            if not line:
                raise RuntimeError(f"a peer exited ({self.process.wait()}) before saying {key!r}")
            if line.startswith("{") and key in (message := json.loads(line)):
                return message[key]

    def say(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()


def start_server_in(net: Star) -> int:
    """The signaling server in the router, its port; the lab stops it when it closes."""
    args = [sys.executable, "-m", "server", "--host", "0.0.0.0", "--port", "0", *UNLIMITED]
    process = net.lab.popen("router", args, cwd=ROOT, stdout=subprocess.PIPE)
    assert process.stdout is not None
    line = process.stdout.readline().strip()
    if not line.startswith("listening on "):
        raise RuntimeError(f"the server did not start: {line!r}")
    return int(line.rsplit(":", 1)[1].split("/", 1)[0])


def sm_peers(net: Star, port: int) -> list[Peer]:
    peers = []
    for end, link in (("a", net.a), ("b", net.b)):
        args = [*PEER, "sm", "--server", f"ws://{link.b_address}:{port}/ws"]
        peers.append(Peer(net.lab.popen(end, args, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE)))
    return peers


def bare_peers(net: Star) -> list[Peer]:
    pair = socket.socketpair()
    peers = []
    for end, role, sock in (("a", "offer", pair[0]), ("b", "answer", pair[1])):
        fd = sock.fileno()
        peers.append(Peer(net.lab.popen(end, [*PEER, "bare", "--role", role, "--fd", str(fd)], cwd=ROOT,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, pass_fds=(fd,))))  # fmt: skip
    for sock in pair:
        sock.close()
    return peers


@dataclass(frozen=True)
class Timeline:
    window: tuple[float, float]
    down: float
    up: float
    end: float


def drive(net: Star, peers: list[Peer], args: argparse.Namespace,
          rebuild: bool = False) -> tuple[Timeline, list[dict[str, Any]]]:  # fmt: skip
    first = max(peer.expect("first_video", FIRST_FRAME_TIMEOUT) for peer in peers)
    start = first + args.warmup
    time.sleep(max(0.0, start + args.seconds - time.time()))
    down = time.time()
    net.lab.set_down(net.a)
    time.sleep(args.outage)
    net.lab.set_up(net.a)
    up = time.time()
    if rebuild:  # the experiment: a new peer connection on both ends as soon as the link is back
        for peer in peers:
            peer.say("rebuild")
    time.sleep(args.after)
    end = time.time()
    for peer in peers:
        peer.say("stop")
    results = [peer.expect("bench", 60.0) for peer in peers]
    for peer in peers:
        peer.process.wait(30)
    return Timeline((start, start + args.seconds), down, up, end), results


def between(frames: list[list[float]], t0: float, t1: float) -> list[list[float]]:
    return [f for f in frames if t0 <= f[0] < t1]


def later(seconds: list[float | None]) -> float | None:
    """The later of the two directions, or None when one never came back."""
    known = [s for s in seconds if s is not None]
    return round(max(known), 2) if len(known) == len(seconds) else None


def figures(timeline: Timeline, results: list[dict[str, Any]]) -> dict[str, Any]:
    w0, w1 = timeline.window
    seconds = w1 - w0
    fps, live, freezes, latencies, back, moving, tail = [], [], [], [], [], [], []
    frozen: list[float] = []
    longest: list[float] = []
    for result in results:
        frames = result["frames"]
        window = between(frames, w0, w1)
        fps.append(len(window) / seconds)
        live.append(sum(0 <= lat <= LIVE_MS for _, lat in window) / seconds)
        gaps = [b[0] - a[0] for a, b in itertools.pairwise(window)]
        freezes.append(sum(gap > FREEZE_GAP for gap in gaps) * 60.0 / seconds)
        frozen.append(sum(gap for gap in gaps if gap > FREEZE_GAP) * 100.0 / seconds)
        longest.append(max(gaps, default=seconds))
        latencies += [lat for _, lat in window if lat >= 0]
        again = between(frames, timeline.up, timeline.end)
        moving.append(again[0][0] - timeline.up if again else None)
        # A new frame: its pattern is readable (not a garbled decode) and was captured after
        # the link came back (arrival minus its latency).
        new = [t for t, lat in again if lat >= 0 and t - lat / 1000 >= timeline.up]
        back.append(new[0] - timeline.up if new else None)
        tail += [lat for _, lat in between(frames, timeline.end - TAIL, timeline.end) if lat >= 0]
    p50 = percentile(latencies, 50) if latencies else None
    # The bare peers count the video packets they sent (getStats); over the call, that rate
    # says how long the partner's 512-packet jitter buffer (aiortc's) takes to fill.
    rates = [r["video_packets"] / (timeline.end - r["frames"][0][0])
             for r in results if r.get("video_packets") and r["frames"]]  # fmt: skip
    packet_rate = statistics.fmean(rates) if len(rates) == len(results) else None
    after_p50 = statistics.median(tail) if tail else None
    ended = sorted({name for r in results for t, name in r["events"]
                    if t < timeline.end and name in ("PartnerLeft", "CallEnded", "MediaFailed",
                                                     "connection_failed", "connection_closed")})  # fmt: skip
    rebuilds = max(sum(w0 <= t < w1 and name == "MediaReconnecting" for t, name in r["events"]) for r in results)
    return {
        "video_fps": round(statistics.fmean(fps), 1),
        "live_fps": round(statistics.fmean(live), 1),
        "rebuilds_per_min": round(rebuilds * 60.0 / seconds, 1),
        "freezes_per_min": round(statistics.fmean(freezes), 1),
        "frozen_percent": round(statistics.fmean(frozen), 1),
        "longest_freeze_s": round(max(longest), 2),
        "latency_p50": None if p50 is None else round(p50, 1),
        "latency_p95": round(percentile(latencies, 95), 1) if latencies else None,
        "moving_after_outage_s": later(moving),
        "back_after_outage_s": later(back),
        "latency_p50_after": None if after_p50 is None else round(after_p50, 1),
        "after_over_before": None if not (p50 and after_p50) else round(after_p50 / p50, 2),
        "ended_early": ended,
        "video_packets_per_s": None if packet_rate is None else round(packet_rate, 1),
        "jitter_buffer_fill_s": None if packet_rate is None else round(JITTER_PACKETS / packet_rate, 2),
    }


def pooled(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Several calls of one side: each figure's mean over the calls that have it, and the calls."""
    out: dict[str, Any] = {}
    for key in runs[0]:
        values = [r[key] for r in runs]
        if key == "ended_early":
            out[key] = sorted({name for v in values for name in v})
        else:
            known = [v for v in values if v is not None]
            out[key] = round(statistics.fmean(known), 2) if len(known) == len(values) else None
    out["runs"] = runs
    return out


def run_profile(name: str, args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    sides = [s for s in args.sides.split(",") if s]
    runs: dict[str, list[dict[str, Any]]] = {side: [] for side in sides}
    for run in range(args.runs):  # the sides take turns, so a busy moment of the machine hits each
        for side, figures_of_call in one_round(name, args, sides, run).items():
            runs[side].append(figures_of_call)
    return {side: pooled(calls) for side, calls in runs.items()}


def one_round(name: str, args: argparse.Namespace, sides: list[str], run: int) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    with star() as net:
        PROFILES[name].apply(net)
        port = start_server_in(net)
        starts: dict[str, Callable[[], list[Peer]]] = {
            "studymatch": lambda: sm_peers(net, port),
            "bare_aiortc": lambda: bare_peers(net),
            "bare_rebuild": lambda: bare_peers(net),
        }
        for side in sides:
            timeline, results = drive(net, starts[side](), args, rebuild=side == "bare_rebuild")
            if args.dump:
                with open(f"{args.dump}-{name}-{side}-{run}.json", "w") as f:
                    json.dump({"timeline": timeline.__dict__, "peers": results}, f)
            out[side] = figures(timeline, results)
            print(f"{name} {side} run {run + 1} done: {json.dumps(out[side])}", file=sys.stderr)
    return out


LABELS = [
    ("video_fps", "received video (frames/s)"),
    ("live_fps", "live video: readable, <= 400 ms (frames/s)"),
    ("rebuilds_per_min", "media rebuilds per minute"),
    ("freezes_per_min", "freezes per minute (gap > 200 ms)"),
    ("frozen_percent", "time frozen (% of the window)"),
    ("longest_freeze_s", "longest freeze (s)"),
    ("latency_p50", "capture -> decode p50 (ms)"),
    ("latency_p95", "capture -> decode p95 (ms)"),
    ("moving_after_outage_s", "link back -> first remote frame (s)"),
    ("back_after_outage_s", "link back -> first readable new frame (s)"),
    ("latency_p50_after", "p50 over the last 2 s of --after (ms)"),
    ("after_over_before", "that p50 / the window's p50"),
    ("ended_early", "ended before the driver stopped it"),
    ("video_packets_per_s", "video packets sent per second"),
    ("jitter_buffer_fill_s", "512 packets at that rate (s)"),
]


def print_table(results: dict[str, dict[str, dict[str, Any]]]) -> None:
    for name, sides in results.items():
        calls = len(next(iter(sides.values()))["runs"])
        print(f"\n{name}: {PROFILES[name]} (mean of {calls} call(s) per side)")
        print(f"  {'figure':42}" + "".join(f" {HEADINGS[side]:>12}" for side in sides))
        for key, label in LABELS:
            cells = [sides[side][key] for side in sides]
            shown = [", ".join(c) or "-" if isinstance(c, list) else ("-" if c is None else f"{c}") for c in cells]
            print(f"  {label:42}" + "".join(f" {cell:>12}" for cell in shown))


def stop_run(signum: int, _frame: object) -> None:
    raise SystemExit(f"bench/network.py: stopped by signal {signum}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", default=",".join(PROFILES))
    parser.add_argument("--seconds", type=float, default=20.0, help="measured window per call")
    parser.add_argument("--warmup", type=float, default=3.0, help="after both first frames, before the window")
    parser.add_argument("--outage", type=float, default=4.0, help="seconds a's link is down")
    parser.add_argument("--after", type=float, default=10.0, help="seconds measured once the link is back")
    parser.add_argument("--sides", default=",".join(SIDES), help=f"any of {', '.join(SIDES)}")
    parser.add_argument("--runs", type=int, default=1, help="calls per side per profile (figures: their mean)")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--dump", metavar="PREFIX", help="write each call's raw frames to PREFIX-*.json")
    args = parser.parse_args()
    why_not = unavailable_reason()
    if why_not is not None:
        print(f"bench/network.py: {why_not}", file=sys.stderr)
        return 2
    if not set(args.sides.split(",")) <= set(SIDES) or args.runs < 1:
        parser.error(f"--sides takes {', '.join(SIDES)}; --runs at least 1")
    names = [n for n in args.profiles.split(",") if n]
    unknown = [n for n in names if n not in PROFILES]
    if unknown:
        parser.error(f"unknown profile(s) {unknown}; known: {', '.join(PROFILES)}")
    # A stopped run still removes its namespaces: SIGTERM (and SIGINT, ignored in a
    # background job) become an exception, so every `with` block below unwinds.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, stop_run)
    results = {name: run_profile(name, args) for name in names}
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print_table(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
