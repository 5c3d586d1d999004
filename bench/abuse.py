"""The server's memory under abuse: a slow consumer, a message flood, a connection flood.

Each scenario runs a fresh `studymatch-server` in its own process and reads
its resident memory (VmRSS now, VmHWM the peak) from /proc, so the figures
are the server's alone. A bystander pair relays a signal every 50 ms during
the floods; its round-trip times show whether other users noticed.

    python bench/abuse.py            # prints one block per scenario
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import statistics
import sys
import time
from pathlib import Path

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.common import ServerProcess, start_server

DEFAULT_LIMITS = [
    "--rate-messages", "20", "--rate-burst", "40", "--rate-abuse-strikes", "20",
    "--rate-finds-per-minute", "60", "--outbox-messages", "128", "--outbox-bytes", "1048576",
]  # fmt: skip
MiB = 1024 * 1024


def memory(server: ServerProcess) -> tuple[float, float]:
    """(VmRSS, VmHWM) in MiB."""
    fields = dict(
        line.split(":", 1) for line in Path(f"/proc/{server.pid}/status").read_text().splitlines() if ":" in line
    )
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


async def hello(url: str) -> ClientConnection:
    ws = await connect(url, max_size=2**22)
    await ws.send(json.dumps({"type": "hello", "protocol": 1}))
    welcome = json.loads(await ws.recv())
    assert welcome["type"] == "welcome", welcome
    return ws


async def pair(url: str) -> tuple[ClientConnection, ClientConnection, str]:
    a, b = await hello(url), await hello(url)
    for ws in (a, b):
        await ws.send(json.dumps({"type": "find", "mode": "video", "topic": "bench"}))
    session = ""
    for ws in (a, b):
        while (message := json.loads(await ws.recv()))["type"] != "matched":
            pass
        session = message["session"]
    return a, b, session


class Bystanders:
    """A pair that relays a small signal every 50 ms and records each round trip."""

    def __init__(self, a: ClientConnection, b: ClientConnection, session: str) -> None:
        self.a, self.b, self.session = a, b, session
        self.rtts: list[float] = []
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            sent = time.perf_counter()
            await self.a.send(json.dumps({"type": "signal", "session": self.session, "data": {"t": sent}}))
            while json.loads(await self.b.recv())["type"] != "signal":
                pass
            self.rtts.append((time.perf_counter() - sent) * 1000)
            await asyncio.sleep(0.05)

    async def stop(self) -> str:
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task
        rtts = sorted(self.rtts)
        return f"bystander relay: {len(rtts)} round trips, p50 {statistics.median(rtts):.1f} ms, max {rtts[-1]:.1f} ms"


async def slow_consumer() -> None:
    server = start_server(["--rate-messages", "10000", "--rate-burst", "10000",
                           "--outbox-messages", "128", "--outbox-bytes", "1048576", "--close-timeout", "0.5"])
    try:
        bystanders = Bystanders(*await pair(server.url))
        base, _ = memory(server)
        flooder, _reader, session = await pair(server.url)  # _reader never reads again
        payload = json.dumps({"type": "signal", "session": session, "data": {"blob": "y" * 60_000}})
        sent, started = 0, time.perf_counter()
        dropped = asyncio.Event()

        async def watch() -> None:
            while True:
                message = json.loads(await flooder.recv())
                if message["type"] == "partner_left":
                    dropped.set()
                    return

        watcher = asyncio.create_task(watch())
        while not dropped.is_set():
            await flooder.send(payload)
            sent += len(payload)
            await asyncio.sleep(0)
        await watcher
        rss, hwm = memory(server)
        print("slow consumer (outbox 128 messages / 1 MiB):")
        print(f"  flooded {sent / MiB:.1f} MiB at a reader that stopped reading; dropped after "
              f"{time.perf_counter() - started:.2f} s")
        print(f"  server memory: {base:.1f} MiB before, peak {hwm:.1f} MiB, {rss:.1f} MiB after")
        print("  " + await bystanders.stop())
    finally:
        server.stop()


async def message_flood(connections: int = 20, frames: int = 5000) -> None:
    server = start_server(DEFAULT_LIMITS)
    try:
        bystanders = Bystanders(*await pair(server.url))
        base, _ = memory(server)
        junk = ["{", json.dumps({"type": "find", "mode": "video"}), json.dumps({"type": "cancel"}),
                json.dumps({"type": "nope"}), "x" * 1000, json.dumps({"type": "signal", "session": "s", "data": {}})]
        closed: dict[int | None, int] = {}

        async def flood() -> int:
            ws = await hello(server.url)
            count = 0
            with contextlib.suppress(ConnectionClosed):
                for i in range(frames):
                    await ws.send(junk[i % len(junk)])
                    count += 1
                async for _ in ws:  # read what the server answers until it closes
                    pass
            closed[ws.close_code] = closed.get(ws.close_code, 0) + 1
            return count

        started = time.perf_counter()
        sent = sum(await asyncio.gather(*(flood() for _ in range(connections))))
        rss, hwm = memory(server)
        print(f"message flood ({connections} connections, default limits):")
        print(f"  {sent} frames sent in {time.perf_counter() - started:.2f} s; close codes {closed}")
        print(f"  server memory: {base:.1f} MiB before, peak {hwm:.1f} MiB, {rss:.1f} MiB after")
        print("  " + await bystanders.stop())
    finally:
        server.stop()


async def connection_flood(attempts: int = 2000, concurrency: int = 50) -> None:
    # Loopback is never capped; name a remote address the way a reverse proxy would.
    server = start_server([*DEFAULT_LIMITS, "--max-connections-per-ip", "20", "--real-ip-header", "X-Real-IP"])
    try:
        base, _ = memory(server)
        held: list[ClientConnection] = []
        statuses: dict[str, int] = {}
        slots = asyncio.Semaphore(concurrency)

        async def attempt() -> None:
            async with slots:
                try:
                    held.append(await connect(server.url, additional_headers={"X-Real-IP": "203.0.113.9"}))
                    statuses["101"] = statuses.get("101", 0) + 1
                except InvalidStatus as exc:
                    code = str(exc.response.status_code)
                    statuses[code] = statuses.get(code, 0) + 1

        started = time.perf_counter()
        await asyncio.gather(*(attempt() for _ in range(attempts)))
        elapsed = time.perf_counter() - started
        rss, hwm = memory(server)
        print(f"connection flood ({attempts} handshakes from one address, cap 20):")
        print(f"  answers {statuses} in {elapsed:.2f} s")
        print(f"  server memory: {base:.1f} MiB before, peak {hwm:.1f} MiB, {rss:.1f} MiB after")
        for ws in held:
            await ws.close()
    finally:
        server.stop()


async def main() -> None:
    await slow_consumer()
    await message_flood()
    await connection_flood()


if __name__ == "__main__":
    asyncio.run(main())
