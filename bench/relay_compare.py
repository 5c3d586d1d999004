"""StudyMatch's server beside the PeerJS server (npm `peer` 1.0.2): one workload, both servers.

    python bench/relay_compare.py [--workers 4] [--pairs 100] [--messages 100]
        [--paced-messages 10] [--rate 2] [--rounds 3] [--studymatch-args "--loop uvloop"]
        [--before ../checkout-of-an-older-commit]

`--before DIR` runs a third server in the same rounds: `python -m server`
from another checkout of the repository (`git worktree add DIR <commit>`),
with this Python and its packages, so a change is measured before and after
under the same load, beside the same PeerJS.

Each server runs alone on loopback, one after the other, driven by the same
`--workers` client processes: `2 * pairs` clients per worker connect and pair
up (StudyMatch: `hello`, then `find` with one topic per worker; PeerJS: ids
2i and 2i+1 are partners, PeerJS has no pairing). Then, per client:
- flood: `--messages` relayed messages as fast as the server takes them;
- paced: `--paced-messages` at `--rate` per second, each carrying its send
  time, so the receiver measures the relay latency;
then everyone disconnects. Messages are a fixed mix: one SDP-sized (~2.6 KB)
in five, the rest candidate-sized (~150 B), the same payload for both servers
(StudyMatch `signal.data`, PeerJS `OFFER`/`ANSWER`/`CANDIDATE` `payload`).

Figures per server: server CPU-microseconds per relayed message (user+system
from /proc/<pid>/stat of the server process alone, read between barriers, so
connecting is counted apart), relay latency p50/p99 in the paced phase,
resident memory per connection (RSS growth from the fresh server to all
clients paired, divided by the clients), and delivered/sent (must be equal:
the script exits 1 otherwise). With `--rounds` > 1 the servers alternate and
each figure is the median over rounds.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing as mp
import os
import shlex
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from websockets.asyncio.client import ClientConnection, connect

from bench.common import CLOCK_TICKS, UNLIMITED, ServerProcess, percentile, raise_fd_limit, start_server
from bench.peers.peerjs_server import VERSION as PEERJS_VERSION
from bench.peers.peerjs_server import PeerJsProcess, start_peerjs

SDP_LINES = "v=0\r\n" + "a=candidate:1 1 udp 2130706431 192.0.2.1 50000 typ host generation 0\r\n" * 34
# The JSON text of each payload without its opening brace, so a send time can be put in front.
SDP_BODY = json.dumps({"type": "offer", "sdp": SDP_LINES})[1:]
CANDIDATE_BODY = json.dumps({
    "candidate": "candidate:842163049 1 udp 1677729535 192.0.2.7 54321 typ srflx raddr 0.0.0.0 rport 0",
    "sdpMid": "0", "sdpMLineIndex": 0,
})[1:]  # fmt: skip
SDP_EVERY = 5  # message n of each client is SDP-sized when n % 5 == 0
RECEIVE_TIMEOUT = 120.0


def body(n: int) -> str:
    return SDP_BODY if n % SDP_EVERY == 0 else CANDIDATE_BODY


# --- the two servers' protocols, seen from a client ----------------------------------------


class StudyMatchClients:
    """`hello` -> `welcome`; `find` -> `matched`; `signal` with `session` and `data`."""

    def __init__(self, url: str, worker: int) -> None:
        self.url, self.worker = url, worker
        self.sessions: list[str] = []

    async def open(self, index: int) -> ClientConnection:
        ws = await connect(self.url, compression=None, ping_interval=None, open_timeout=60, max_size=2**20)
        await ws.send('{"type":"hello","protocol":1,"client":"bench"}')
        assert json.loads(await ws.recv())["type"] == "welcome"
        return ws

    async def pair(self, sockets: list[ClientConnection]) -> None:
        find = json.dumps({"type": "find", "mode": "video", "topic": f"relay{self.worker}"})
        await asyncio.gather(*(ws.send(find) for ws in sockets))
        self.sessions = [(await _expect(ws, lambda m: m["type"] == "matched"))["session"] for ws in sockets]

    def prefix(self, index: int, n: int) -> str:
        return f'{{"type":"signal","session":"{self.sessions[index]}","data":{{'

    def payload(self, index: int, message: dict[str, Any]) -> dict[str, Any] | None:
        """The relayed payload when `message` is one, from this client's partner."""
        if message["type"] == "signal" and message["session"] == self.sessions[index]:
            return message["data"]
        return None


class PeerJsClients:
    """Connect with `?key&id&token` -> `OPEN`; `{type, dst, payload}` arrives with `src` added."""

    def __init__(self, server: PeerJsProcess, worker: int) -> None:
        self.server, self.worker = server, worker

    def id(self, index: int) -> str:
        return f"w{self.worker}c{index}"

    async def open(self, index: int) -> ClientConnection:
        url = self.server.client_url(self.id(index))
        ws = await connect(url, compression=None, ping_interval=None, open_timeout=60, max_size=2**20)
        assert json.loads(await ws.recv())["type"] == "OPEN"
        return ws

    async def pair(self, sockets: list[ClientConnection]) -> None:
        pass  # partners by id: 2i and 2i+1

    def prefix(self, index: int, n: int) -> str:
        kind = "CANDIDATE" if n % SDP_EVERY else ("OFFER" if index % 2 == 0 else "ANSWER")
        return f'{{"type":"{kind}","dst":"{self.id(index ^ 1)}","payload":{{'

    def payload(self, index: int, message: dict[str, Any]) -> dict[str, Any] | None:
        relayed = message["type"] in ("OFFER", "ANSWER", "CANDIDATE")
        if relayed and message["src"] == self.id(index ^ 1) and message["dst"] == self.id(index):
            return message["payload"]
        return None


async def _expect(ws: ClientConnection, wanted: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    while True:
        message = json.loads(await ws.recv())
        if wanted(message):
            return message
        if message["type"] in ("error", "ERROR"):
            raise RuntimeError(f"server error: {message}")


# --- one worker process -------------------------------------------------------------------


async def drive(kind: str, server: ServerProcess, worker: int, args: argparse.Namespace, barrier: Any) -> Any:
    clients: StudyMatchClients | PeerJsClients
    if kind == "peerjs":
        assert isinstance(server, PeerJsProcess)
        clients = PeerJsClients(server, worker)
    else:
        clients = StudyMatchClients(server.url, worker)

    async def checkpoint() -> None:
        # Two waits: the parent reads the server's CPU/RSS while every worker is held between them.
        await asyncio.to_thread(barrier.wait)
        await asyncio.to_thread(barrier.wait)

    sockets: list[ClientConnection] = []
    count = 2 * args.pairs
    for start in range(0, count, 100):  # in waves, so the accept backlog never overflows
        sockets += await asyncio.gather(*(clients.open(i) for i in range(start, min(count, start + 100))))
    await clients.pair(sockets)
    await checkpoint()  # connected and paired

    async def exchange(index: int, messages: int, interval: float, latencies: list[float]) -> int:
        ws = sockets[index]

        async def receive() -> int:
            got = 0
            # A receiver that times out reports what it got; the parent compares it with what was sent.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(RECEIVE_TIMEOUT):
                    while got < messages:
                        payload = clients.payload(index, json.loads(await ws.recv()))
                        if payload is not None:
                            got += 1
                            if interval:
                                latencies.append((time.perf_counter_ns() - payload["t"]) / 1e6)
            return got

        receiving = asyncio.create_task(receive())
        if interval:
            await asyncio.sleep(interval * index / count)  # spread the pairs over one period
        next_send = time.perf_counter()
        for n in range(messages):
            stamp = f'"t":{time.perf_counter_ns()},' if interval else ""
            await ws.send(f"{clients.prefix(index, n)}{stamp}{body(n)}}}")
            if interval:
                next_send += interval
                await asyncio.sleep(max(0.0, next_send - time.perf_counter()))
        return await receiving

    result: dict[str, Any] = {}
    flood = await asyncio.gather(*(exchange(i, args.messages, 0.0, []) for i in range(count)))
    result["flood"] = (count * args.messages, sum(flood))
    await checkpoint()  # flood done
    latencies: list[float] = []
    paced = await asyncio.gather(
        *(exchange(i, args.paced_messages, 1 / args.rate, latencies) for i in range(count))
    )
    result["paced"] = (count * args.paced_messages, sum(paced))
    result["latencies"] = latencies
    await checkpoint()  # paced done
    await asyncio.gather(*(ws.close() for ws in sockets))
    return result


def _worker(
    kind: str, server: ServerProcess, worker: int, args: argparse.Namespace, barrier: Any, out: Any
) -> None:
    raise_fd_limit()
    out.put(asyncio.run(drive(kind, server, worker, args, barrier)))


# --- the parent: start a server, run the workers, read /proc between barriers ---------------


def cpu_times(server: ServerProcess) -> tuple[float, float]:
    """User and system CPU seconds of the server process (all its threads) so far."""
    with open(f"/proc/{server.pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) / CLOCK_TICKS, int(fields[12]) / CLOCK_TICKS


@dataclass
class Figures:
    flood_us: float = 0.0
    flood_sys_us: float = 0.0  # the part spent in the kernel (socket reads and writes)
    paced_us: float = 0.0
    paced_sys_us: float = 0.0
    connect_us: float = 0.0  # server CPU per client to connect and pair
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    kib_per_connection: float = 0.0
    flood_counts: tuple[int, int] = (0, 0)  # delivered, sent
    paced_counts: tuple[int, int] = (0, 0)
    extra: dict[str, Any] = field(default_factory=dict)


def measure(kind: str, args: argparse.Namespace) -> Figures:
    clients = args.workers * 2 * args.pairs
    server: ServerProcess
    if kind == "peerjs":
        server = start_peerjs(concurrent_limit=clients + 100)
    elif kind == "before":
        # `env -C` runs `python -m server` from the other checkout (its `server` package first
        # on sys.path) and execs, so the pid measured is the server's.
        command = ["env", "-C", args.before, sys.executable, "-m", "server", "--port", "0", *UNLIMITED]
        server = start_server(command=[*command, *shlex.split(args.studymatch_args)])
    else:
        server = start_server(shlex.split(args.studymatch_args))
    try:
        barrier = mp.Barrier(args.workers + 1)
        out: Any = mp.Queue()
        rss_start = server.rss_bytes()
        # tuple[float, ...]: us() sums a slice of each (user, system) pair.
        cpu: list[tuple[float, ...]] = [cpu_times(server)]
        processes = [
            mp.Process(target=_worker, args=(kind, server, w, args, barrier, out))
            for w in range(args.workers)
        ]
        for process in processes:
            process.start()
        rss = [rss_start]
        for _ in range(3):  # connected and paired, flood done, paced done
            barrier.wait(timeout=600)
            cpu.append(cpu_times(server))
            rss.append(server.rss_bytes())
            barrier.wait(timeout=600)
        results = [out.get(timeout=600) for _ in processes]
        for process in processes:
            process.join()
    finally:
        server.stop()
    flood_sent, flood_got = (sum(r["flood"][i] for r in results) for i in (0, 1))
    paced_sent, paced_got = (sum(r["paced"][i] for r in results) for i in (0, 1))
    latencies = [x for r in results for x in r["latencies"]]

    def us(phase: int, count: int, part: slice = slice(0, 2)) -> float:
        return (sum(cpu[phase][part]) - sum(cpu[phase - 1][part])) * 1e6 / max(1, count)

    return Figures(
        flood_us=us(2, flood_got),
        flood_sys_us=us(2, flood_got, slice(1, 2)),
        paced_us=us(3, paced_got),
        paced_sys_us=us(3, paced_got, slice(1, 2)),
        connect_us=us(1, clients),
        p50_ms=percentile(latencies, 50) if latencies else float("nan"),
        p99_ms=percentile(latencies, 99) if latencies else float("nan"),
        kib_per_connection=(rss[1] - rss_start) / clients / 1024,
        flood_counts=(flood_got, flood_sent),
        paced_counts=(paced_got, paced_sent),
        extra={"rss_mib": (rss_start / 2**20, rss[1] / 2**20)},
    )


ROWS: list[tuple[str, str, str]] = [
    ("relay CPU, flood (us/message)", "flood_us", "{:.1f}"),
    ("  of which kernel", "flood_sys_us", "{:.1f}"),
    ("relay CPU, paced (us/message)", "paced_us", "{:.1f}"),
    ("  of which kernel", "paced_sys_us", "{:.1f}"),
    ("relay latency p50, paced (ms)", "p50_ms", "{:.2f}"),
    ("relay latency p99, paced (ms)", "p99_ms", "{:.2f}"),
    ("memory per connection (KiB)", "kib_per_connection", "{:.1f}"),
    ("connect + pair CPU (us/client)", "connect_us", "{:.0f}"),
]


def median_figures(rounds: list[Figures]) -> Figures:
    merged = Figures(**{name: statistics.median(getattr(f, name) for f in rounds) for _, name, _ in ROWS})
    merged.flood_counts = (sum(f.flood_counts[0] for f in rounds), sum(f.flood_counts[1] for f in rounds))
    merged.paced_counts = (sum(f.paced_counts[0] for f in rounds), sum(f.paced_counts[1] for f in rounds))
    return merged


def table(ours: Figures, theirs: Figures, name: str = "StudyMatch") -> str:
    head = f"{'':34}{name:>12}{'PeerJS ' + PEERJS_VERSION:>14}{'ratio':>9}"
    lines = [head]
    for label, field_name, fmt in ROWS:
        a, b = getattr(ours, field_name), getattr(theirs, field_name)
        ratio = f"{a / b:.2f}x" if b else "-"
        lines.append(f"{label:34}{fmt.format(a):>12}{fmt.format(b):>14}{ratio:>9}")
    for label, field_name in (("delivered/sent, flood", "flood_counts"), ("delivered/sent, paced", "paced_counts")):
        a, b = getattr(ours, field_name), getattr(theirs, field_name)
        lines.append(f"{label:34}{f'{a[0]}/{a[1]}':>12}{f'{b[0]}/{b[1]}':>14}")
    return "\n".join(lines)


def round_ratios(ours: list[Figures], theirs: list[Figures], name: str = "StudyMatch") -> str:
    """The CPU ratio within each round (both servers run back to back, under the same load)."""
    lines = []
    for label, field_name in (("flood", "flood_us"), ("paced", "paced_us")):
        ratios = sorted(getattr(a, field_name) / getattr(b, field_name) for a, b in zip(ours, theirs, strict=True))
        lines.append(
            f"{name} CPU ratio to PeerJS by round, {label}: median {statistics.median(ratios):.2f}x, "
            f"range {ratios[0]:.2f}x-{ratios[-1]:.2f}x ({' '.join(f'{r:.2f}' for r in ratios)})"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=4, help="client processes")
    parser.add_argument("--pairs", type=int, default=100, help="pairs per worker")
    parser.add_argument("--messages", type=int, default=100, help="messages each client sends in the flood")
    parser.add_argument("--paced-messages", type=int, default=10, help="messages each client sends paced")
    parser.add_argument("--rate", type=float, default=2.0, help="paced messages per second per client")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each server, alternating; medians")
    parser.add_argument("--servers", default="studymatch,peerjs", help="which to run, comma-separated")
    parser.add_argument("--studymatch-args", default="", help="extra options for `python -m server`")
    parser.add_argument("--before", metavar="DIR", help="also run `python -m server` from this checkout")
    args = parser.parse_args(argv)
    kinds = args.servers.split(",")
    if args.before:
        kinds.insert(1, "before")
    clients = args.workers * 2 * args.pairs
    print(
        f"{clients} clients ({args.workers} worker processes), {args.messages} flood + "
        f"{args.paced_messages} paced messages each at {args.rate:g}/s, 1 in {SDP_EVERY} SDP-sized; "
        f"{os.cpu_count()} CPUs",
        flush=True,
    )
    rounds: dict[str, list[Figures]] = {kind: [] for kind in kinds}
    for r in range(args.rounds):
        for kind in kinds if r % 2 == 0 else kinds[::-1]:
            figures = measure(kind, args)
            rounds[kind].append(figures)
            print(
                f"round {r + 1} {kind}: flood {figures.flood_us:.1f} us/msg, paced {figures.paced_us:.1f} us/msg, "
                f"p50 {figures.p50_ms:.2f} ms, p99 {figures.p99_ms:.2f} ms, "
                f"{figures.kib_per_connection:.1f} KiB/conn, connect {figures.connect_us:.0f} us/client, "
                f"delivered {figures.flood_counts[0]}/{figures.flood_counts[1]} + "
                f"{figures.paced_counts[0]}/{figures.paced_counts[1]}",
                flush=True,
            )
    merged = {kind: median_figures(figures) for kind, figures in rounds.items()}
    if "peerjs" in merged:
        for kind, name in (("studymatch", "StudyMatch"), ("before", "before")):
            if kind in merged:
                print(table(merged[kind], merged["peerjs"], name))
                print(round_ratios(rounds[kind], rounds["peerjs"], name))
    lost = any(f.flood_counts[0] != f.flood_counts[1] or f.paced_counts[0] != f.paced_counts[1]
               for f in merged.values())  # fmt: skip
    if lost:
        print("FAILED: a server did not deliver every message it was sent", file=sys.stderr)
    return 1 if lost else 0


if __name__ == "__main__":
    sys.exit(main())
