"""Pairings per second and match latency: memory vs Redis with 1 and 2 instances.

    python bench/backends.py [--seconds 6] [--workers 2] [--clients 40]

Each case starts real server processes (`python -m server --port 0`, and a
redis-server on a free port for the Redis cases) and drives them from
`--workers` separate load processes, each with `--clients` WebSocket clients
spread round-robin over the instances. A client loops: find -> matched ->
(initiator) leave / (responder) wait for partner_left -> find again.

Figures: pairings per second (matched pairs over the measured window) and
match latency = time from the responder's `find` to its `matched` (the
newcomer whose arrival made the pair; the server's decide + deliver path,
including the cross-instance hop). For Redis, round trips per pairing are
read from `INFO commandstats` deltas (EVALSHA/EVAL calls from the servers,
heartbeats included) divided by pairings.
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


def script_calls(url: str) -> int:
    r = redis.Redis.from_url(url)
    try:
        stats = r.info("commandstats")
    finally:
        r.close()
    return sum(int(stats.get(f"cmdstat_{name}", {}).get("calls", 0)) for name in ("evalsha", "eval"))


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
        calls_before = None
        if redis_url:
            time.sleep(max(0.0, start_at - time.time()))
            calls_before = script_calls(redis_url)
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
        if redis_url and calls_before is not None:
            # Counted to the end of the run (clients stop within ~1 s after stop_at): an upper bound.
            result["script_calls_per_pairing"] = (script_calls(redis_url) - calls_before) / max(1, len(latencies))
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
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--start-at", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--stop-at", type=float, help=argparse.SUPPRESS)
    parser.add_argument("urls", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker_main(args)
        return
    with tempfile.TemporaryDirectory() as workdir:
        results = [
            run_case("memory, 1 instance", "memory", 1, args, workdir),
            run_case("redis, 1 instance", "redis", 1, args, workdir),
            run_case("redis, 2 instances", "redis", 2, args, workdir),
        ]
    print(f"{args.workers} load processes x {args.clients} clients, {args.seconds:g} s measured")
    print("| case | pairings/s | match latency p50 (ms) | p99 (ms) | script calls per pairing |")
    print("| --- | --- | --- | --- | --- |")
    for r in results:
        calls = r.get("script_calls_per_pairing")
        print(f"| {r['case']} | {r['pairings_per_s']:.0f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | "
              f"{'-' if calls is None else f'{calls:.2f}'} |")


if __name__ == "__main__":
    main()
