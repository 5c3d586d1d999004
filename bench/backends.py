"""Pairings per second and match latency: memory vs Redis with 1 and 2 instances.

    python bench/backends.py [--seconds 6] [--workers 2] [--clients 40] [--rounds 3]

Each case starts real server processes (`python -m server --port 0`, and a
redis-server on a free port for the Redis cases) and drives them from
`--workers` separate load processes, each with `--clients` WebSocket clients
spread round-robin over the instances. A client loops: find -> matched ->
(initiator) leave / (responder) wait for partner_left -> find again.

Figures: pairings per second (matched pairs over the measured window) and
match latency = time from the responder's `find` to its `matched` (the
newcomer whose arrival made the pair; the server's decide + deliver path,
including the cross-instance hop). For Redis, script calls per pairing are
`INFO commandstats` deltas (EVALSHA/EVAL calls from the servers, both
scripts, heartbeats included) divided by the delta of the script's own
match counter, both read at the start and at the end of the measured window.

The cases run in rounds (memory, Redis 1, Redis 2, then again), so that a
machine shared with other work disturbs all of them alike; each round gives
Redis' pairings/s as a ratio of the memory figure of the same round, and the
summary is the median of each.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

import redis
from websockets.asyncio.client import connect

# The pairing script's match counter (server/backends/redis/script.py's keys, default prefix).
MATCHES_KEY = "{studymatch}:matches"

LISTENING = re.compile(r"^listening on (ws://[^ ]+/ws)$")
SERVER_ENV = {
    # The benchmark is the abuser here: lift the per-connection limits.
    "STUDYMATCH_RATE_MESSAGES": "10000",
    "STUDYMATCH_RATE_BURST": "10000",
    "STUDYMATCH_RATE_FINDS_PER_MINUTE": "1000000",
    "STUDYMATCH_LOG_LEVEL": "warning",
}


# --- the load (one worker process) ------------------------------------------------


async def _client(url: str, start_at: float, stop_at: float, latencies: list[float]) -> None:
    async with connect(url, compression=None, max_queue=None) as ws:
        await ws.send(json.dumps({"type": "hello", "protocol": 1, "client": "bench"}))
        json.loads(await ws.recv())
        while time.monotonic() < stop_at:
            sent = time.monotonic()
            await ws.send(json.dumps({"type": "find", "mode": "video"}))
            while True:
                msg = json.loads(await ws.recv())
                if msg["type"] == "matched":
                    break
            got = time.monotonic()
            if not msg["initiator"]:
                if sent >= start_at and got <= stop_at:
                    latencies.append(got - sent)
                while json.loads(await ws.recv())["type"] != "partner_left":
                    pass
            else:
                await ws.send(json.dumps({"type": "leave"}))
                while json.loads(await ws.recv())["type"] != "idle":
                    pass


async def _worker(urls: list[str], clients: int, start_at: float, stop_at: float) -> list[float]:
    latencies: list[float] = []
    tasks = [asyncio.create_task(_client(urls[i % len(urls)], start_at, stop_at, latencies))
             for i in range(clients)]
    # At the end some clients wait for a partner who stopped: that is fine.
    await asyncio.wait(tasks, timeout=stop_at - time.monotonic() + 2.0)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return latencies


def worker_main(args: argparse.Namespace) -> None:
    # Wall-clock start/stop so that separate processes share one window.
    offset = time.monotonic() - time.time()
    latencies = asyncio.run(_worker(args.urls, args.clients, args.start_at + offset, args.stop_at + offset))
    print(json.dumps(latencies))


# --- the orchestra -----------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(backend: str, redis_url: str | None) -> tuple[subprocess.Popen[str], str]:
    cmd = [sys.executable, "-m", "server", "--port", "0", "--backend", backend]
    if redis_url:
        cmd += ["--redis-url", redis_url]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env={**os.environ, **SERVER_ENV})
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    match = LISTENING.match(line)
    if not match:
        proc.kill()
        raise RuntimeError(f"server did not start: {line!r}")
    return proc, match.group(1)


def start_redis(workdir: str) -> tuple[subprocess.Popen[str], str]:
    port = free_port()
    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", workdir],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    for line in proc.stdout:
        if "Ready to accept connections" in line:
            return proc, f"redis://127.0.0.1:{port}/0"
    raise RuntimeError("redis-server did not start")


def script_counts(url: str) -> tuple[int, float, int]:
    """Script calls so far (both scripts, every instance), Redis' CPU seconds so far, and
    pairings so far, read together."""
    with redis.Redis.from_url(url) as r:
        stats = r.info("commandstats")
        cpu = r.info("cpu")
        matches = int(r.get(MATCHES_KEY) or 0)
    calls = sum(int(stats.get(f"cmdstat_{name}", {}).get("calls", 0)) for name in ("evalsha", "eval"))
    return calls, float(cpu["used_cpu_user"]) + float(cpu["used_cpu_sys"]), matches


def run_case(name: str, backend: str, instances: int, args: argparse.Namespace, workdir: str) -> dict[str, Any]:
    redis_proc = None
    redis_url = None
    servers: list[subprocess.Popen[str]] = []
    try:
        if backend == "redis":
            redis_proc, redis_url = start_redis(workdir)
        urls = []
        for _ in range(instances):
            proc, url = start_server(backend, redis_url)
            servers.append(proc)
            urls.append(url)
        start_at = time.time() + 1.5 + args.warmup  # workers connect, then warm up
        stop_at = start_at + args.seconds
        workers = [
            subprocess.Popen([sys.executable, __file__, "--worker", "--clients", str(args.clients),
                              "--start-at", repr(start_at), "--stop-at", repr(stop_at), *urls],
                             stdout=subprocess.PIPE, text=True)
            for _ in range(args.workers)
        ]
        counts = []
        if redis_url:
            for at in (start_at, stop_at):
                time.sleep(max(0.0, at - time.time()))
                counts.append(script_counts(redis_url))
        latencies: list[float] = []
        for w in workers:
            out, _ = w.communicate(timeout=args.seconds + args.warmup + 30)
            latencies += json.loads(out)
        result: dict[str, Any] = {
            "case": name,
            "pairings_per_s": len(latencies) / args.seconds,
            "p50_ms": 1000 * statistics.median(latencies) if latencies else float("nan"),
            "p99_ms": 1000 * statistics.quantiles(latencies, n=100)[98] if len(latencies) > 100 else float("nan"),
        }
        if counts:
            (calls_before, cpu_before, matches_before), (calls_after, cpu_after, matches_after) = counts
            pairings = max(1, matches_after - matches_before)
            result["script_calls_per_pairing"] = (calls_after - calls_before) / pairings
            # Redis' one thread is the ceiling of a deployment: 1 s of it / this = pairings/s at most.
            result["redis_us_per_pairing"] = 1e6 * (cpu_after - cpu_before) / pairings
        return result
    finally:
        for proc in servers:
            proc.terminate()
            proc.wait(10)
        if redis_proc is not None:
            redis_proc.terminate()
            redis_proc.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--workers", type=int, default=2, help="load processes")
    parser.add_argument("--clients", type=int, default=40, help="clients per load process")
    parser.add_argument("--rounds", type=int, default=3, help="times each case runs, interleaved")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--start-at", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--stop-at", type=float, help=argparse.SUPPRESS)
    parser.add_argument("urls", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker_main(args)
        return
    cases = [("memory, 1 instance", "memory", 1), ("redis, 1 instance", "redis", 1),
             ("redis, 2 instances", "redis", 2)]
    rounds: list[list[dict[str, Any]]] = []
    with tempfile.TemporaryDirectory() as workdir:
        for _ in range(args.rounds):
            rounds.append([run_case(name, backend, n, args, workdir) for name, backend, n in cases])
    print(f"{args.workers} load processes x {args.clients} clients, {args.seconds:g} s measured, "
          f"{args.rounds} rounds, load average now {os.getloadavg()[0]:.1f}")
    print("| round | case | pairings/s | x memory | match latency p50 (ms) | p99 (ms) | script calls per pairing "
          "| Redis CPU per pairing (us) |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for n, results in enumerate(rounds, 1):
        memory = results[0]["pairings_per_s"]
        for r in results:
            r["ratio"] = r["pairings_per_s"] / memory if memory else float("nan")
            _row(str(n), r)
    for i, (name, _, _) in enumerate(cases):
        same = [results[i] for results in rounds]
        median: dict[str, Any] = {"case": name}
        for key in ("pairings_per_s", "ratio", "p50_ms", "p99_ms", "script_calls_per_pairing", "redis_us_per_pairing"):
            values = [r[key] for r in same if key in r]
            if values:
                median[key] = statistics.median(values)
        _row("median", median)


def _row(label: str, r: dict[str, Any]) -> None:
    calls, cpu = r.get("script_calls_per_pairing"), r.get("redis_us_per_pairing")
    print(f"| {label} | {r['case']} | {r['pairings_per_s']:.0f} | {r['ratio']:.2f} | {r['p50_ms']:.2f} | "
          f"{r['p99_ms']:.2f} | {'-' if calls is None else f'{calls:.2f}'} | {'-' if cpu is None else f'{cpu:.0f}'} |")

if __name__ == "__main__":
    main()
