"""Load figures for one server process, driven from separate client processes.

    python bench/server_load.py [--workers 4] [--clients 1000] [--idle 3000] [--relay-pairs 200] [--messages 100]

Prints:
- match latency p50/p99: the second `find` sent -> both `matched` received,
  with 1,000 clients searching (each pair has its own topic, so the pairs are
  known in advance; the waiting crowd stays in the queue while it is measured);
- pairings per second: every client sends `find` at once, until all are matched;
- relayed messages per second and server CPU-microseconds per relayed message
  (from /proc), for SDP-sized and candidate-sized signals;
- resident memory per idle connection (past hello) at 3,000 connections.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing as mp
import os
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from websockets.asyncio.client import ClientConnection, connect

from bench.common import ServerProcess, percentile, raise_fd_limit, start_server

BARE_SERVER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bare_server.py")
SDP = {"type": "offer", "sdp": "v=0\r\n" + "a=candidate:1 1 udp 2130706431 192.0.2.1 50000 typ host\r\n" * 40}
CANDIDATE = {"candidate": "candidate:1 1 udp 2130706431 192.0.2.1 50000 typ host", "sdpMid": "0"}


async def open_client(url: str) -> ClientConnection:
    ws = await connect(url, compression=None, max_size=2**20, ping_interval=None, open_timeout=60)
    await ws.send('{"type":"hello","protocol":1,"client":"bench"}')
    assert json.loads(await ws.recv())["type"] == "welcome"
    return ws


async def expect(ws: ClientConnection, kind: str) -> dict[str, Any]:
    while True:
        message = json.loads(await ws.recv())
        if message["type"] == kind:
            return message
        if message["type"] == "error":
            raise RuntimeError(f"server error: {message}")


async def open_many(url: str, count: int) -> list[ClientConnection]:
    clients: list[ClientConnection] = []
    for start in range(0, count, 100):  # in waves, so the accept backlog never overflows
        clients += await asyncio.gather(*(open_client(url) for _ in range(start, min(count, start + 100))))
    return clients


# --- one function per phase, each run in every worker process ---------------------------


async def latency_worker(url: str, worker: int, pairs: int, barrier: Any) -> list[float]:
    waiters = await open_many(url, pairs)
    seekers = await open_many(url, pairs)
    for i, ws in enumerate(waiters):
        await ws.send(json.dumps({"type": "find", "mode": "video", "topic": f"w{worker}p{i}"}))
        await expect(ws, "queued")
    await asyncio.to_thread(barrier.wait)  # every worker's waiters are queued now
    latencies = []
    for i, (waiter, seeker) in enumerate(zip(waiters, seekers, strict=True)):
        start = time.perf_counter()
        await seeker.send(json.dumps({"type": "find", "mode": "video", "topic": f"w{worker}p{i}"}))
        await asyncio.gather(expect(seeker, "matched"), expect(waiter, "matched"))
        latencies.append(time.perf_counter() - start)
    await asyncio.to_thread(barrier.wait)  # nobody leaves while others still measure
    await asyncio.gather(*(ws.close() for ws in waiters + seekers))
    return latencies


async def throughput_worker(url: str, worker: int, clients: int, barrier: Any) -> tuple[float, float]:
    sockets = await open_many(url, clients)
    await asyncio.to_thread(barrier.wait)
    start = time.monotonic()

    async def find(ws: ClientConnection) -> None:
        await ws.send('{"type":"find","mode":"audio"}')
        await expect(ws, "matched")

    await asyncio.gather(*(find(ws) for ws in sockets))
    end = time.monotonic()
    await asyncio.to_thread(barrier.wait)
    await asyncio.gather(*(ws.close() for ws in sockets))
    return start, end


async def relay_worker(
    url: str, worker: int, pairs: int, messages: int, barrier: Any
) -> tuple[float, float, int]:
    sockets = await open_many(url, 2 * pairs)
    topic = f"relay{worker}"  # partners within one worker, so each knows when it is done
    sessions: list[str] = []
    for ws in sockets:
        await ws.send(json.dumps({"type": "find", "mode": "video", "topic": topic}))
    for ws in sockets:
        sessions.append((await expect(ws, "matched"))["session"])
    frames = [
        json.dumps({"type": "signal", "session": s, "data": SDP if n % 4 == 0 else CANDIDATE})
        for s in sessions
        for n in range(messages)
    ]
    await asyncio.to_thread(barrier.wait)
    start = time.monotonic()

    async def run(index: int, ws: ClientConnection) -> int:
        async def receive() -> int:
            for _ in range(messages):
                await expect(ws, "signal")
            return messages

        receiving = asyncio.create_task(receive())
        for frame in frames[index * messages : (index + 1) * messages]:
            await ws.send(frame)
        return await receiving

    received = sum(await asyncio.gather(*(run(i, ws) for i, ws in enumerate(sockets))))
    end = time.monotonic()
    await asyncio.to_thread(barrier.wait)
    await asyncio.gather(*(ws.close() for ws in sockets))
    return start, end, received


async def idle_worker(url: str, worker: int, clients: int, barrier: Any) -> int:
    sockets = await open_many(url, clients)
    await asyncio.to_thread(barrier.wait)  # all open: the parent measures
    await asyncio.to_thread(barrier.wait)  # measured: close
    await asyncio.gather(*(ws.close() for ws in sockets))
    return len(sockets)


def _run(phase: Callable[..., Any], args: tuple[Any, ...], results: Any) -> None:
    raise_fd_limit()
    results.put(asyncio.run(phase(*args)))


def run_phase(
    phase: Callable[..., Any],
    server: ServerProcess,
    workers: int,
    *args: Any,
    during: Callable[[], None] | None = None,
) -> tuple[list[Any], float]:
    """Run `phase` in `workers` processes; `during` runs between the two barriers.

    Returns each worker's result and the server's CPU seconds between the
    barriers (the measured part of the phase, without connecting).
    """
    barrier = mp.Barrier(workers + 1)
    results: Any = mp.Queue()
    processes = [
        mp.Process(target=_run, args=(phase, (server.url, w, *args, barrier), results))
        for w in range(workers)
    ]
    for process in processes:
        process.start()
    barrier.wait(timeout=300)
    cpu_start = server.cpu_seconds()
    if during is not None:
        during()
    barrier.wait(timeout=300)
    cpu = server.cpu_seconds() - cpu_start
    outcome = [results.get(timeout=300) for _ in processes]
    for process in processes:
        process.join()
    return outcome, cpu


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--clients", type=int, default=1000, help="clients searching in the latency phase")
    parser.add_argument("--throughput-clients", type=int, default=2000)
    parser.add_argument("--relay-pairs", type=int, default=200)
    parser.add_argument("--messages", type=int, default=100, help="signals each client sends")
    parser.add_argument("--idle", type=int, default=3000)
    parser.add_argument("--no-baseline", action="store_true", help="skip the bare websockets server")
    args = parser.parse_args(argv)
    per_worker = args.clients // args.workers // 2

    print(f"{args.workers} driver processes; a fresh server for each phase and server", flush=True)
    servers = {"studymatch": None, "bare websockets (baseline)": [sys.executable, BARE_SERVER]}
    if args.no_baseline:
        del servers["bare websockets (baseline)"]
    for name, command in servers.items():
        print(f"\n{name}:", flush=True)
        measure(args, per_worker, command)


def measure(args: argparse.Namespace, per_worker: int, command: list[str] | None) -> None:
    """Every phase against fresh servers started by `command` (None: StudyMatch's)."""

    @contextlib.contextmanager
    def fresh_server() -> Iterator[ServerProcess]:
        """A new server process, so no phase inherits another's heap."""
        server = start_server(command=command)
        try:
            yield server
        finally:
            server.stop()

    with fresh_server() as server:
        results, _ = run_phase(latency_worker, server, args.workers, per_worker)
    latencies = [x * 1000 for r in results for x in r]
    print(
        f"match latency ({2 * per_worker * args.workers} clients searching, {len(latencies)} pairs): "
        f"p50 {percentile(latencies, 50):.2f} ms, p99 {percentile(latencies, 99):.2f} ms, "
        f"max {max(latencies):.2f} ms",
        flush=True,
    )

    with fresh_server() as server:
        results, _ = run_phase(
            throughput_worker, server, args.workers, args.throughput_clients // args.workers
        )
    seconds = max(end for _, end in results) - min(start for start, _ in results)
    pairs = args.throughput_clients // args.workers * args.workers // 2
    print(f"pairings: {pairs} in {seconds:.3f} s = {pairs / seconds:,.0f} pairings/s", flush=True)

    with fresh_server() as server:
        results, cpu_seconds = run_phase(relay_worker, server, args.workers, args.relay_pairs, args.messages)
    seconds = max(end for _, end, _ in results) - min(start for start, _, _ in results)
    relayed = sum(received for _, _, received in results)
    sent = args.workers * args.relay_pairs * 2 * args.messages
    print(
        f"relay: {relayed}/{sent} delivered in {seconds:.2f} s = {relayed / seconds:,.0f} messages/s; "
        f"server CPU {cpu_seconds * 1e6 / relayed:.1f} us per relayed message",
        flush=True,
    )

    rss: list[int] = []
    with fresh_server() as server:
        before = server.rss_bytes()
        run_phase(
            idle_worker,
            server,
            args.workers,
            args.idle // args.workers,
            during=lambda: rss.append(server.rss_bytes()),
        )
    idle = args.idle // args.workers * args.workers
    print(
        f"memory: {(rss[0] - before) / idle / 1024:.1f} KiB per idle connection "
        f"({idle} connections past hello; server RSS {before / 2**20:.1f} -> {rss[0] / 2**20:.1f} MiB)",
        flush=True,
    )


if __name__ == "__main__":
    main()
