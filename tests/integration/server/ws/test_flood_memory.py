"""The server's own memory under slow consumers and floods, read from /proc of a server process.

One slow reader's outbox is capped (1 MiB by default), so however much is
flooded at it, and however many such readers come and go, the server's
resident memory must stay within a small margin of where it started.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from collections.abc import AsyncIterator
from pathlib import Path

from websockets.asyncio.client import ClientConnection, connect

from integration.wsclient import TIMEOUT

MiB = 1024 * 1024


@contextlib.asynccontextmanager
async def server_process(*args: str) -> AsyncIterator[tuple[int, str]]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "server", "--port", "0", "--log-level", "warning", *args,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        line = (await asyncio.wait_for(process.stdout.readline(), 4 * TIMEOUT)).decode()
        assert line.startswith("listening on "), line
        yield process.pid, line.split()[-1]
    finally:
        process.terminate()
        assert await asyncio.wait_for(process.wait(), 4 * TIMEOUT) == 0


def rss_mib(pid: int, field: str = "VmRSS") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise AssertionError(field)


async def hello(url: str) -> ClientConnection:
    ws = await connect(url, max_size=2**22)
    await ws.send(json.dumps({"type": "hello", "protocol": 1}))
    assert json.loads(await ws.recv())["type"] == "welcome"
    return ws


async def matched_pair(url: str, topic: str) -> tuple[ClientConnection, ClientConnection, str]:
    a, b = await hello(url), await hello(url)
    for ws in (a, b):
        await ws.send(json.dumps({"type": "find", "mode": "video", "topic": topic}))
    session = ""
    for ws in (a, b):
        while (message := json.loads(await ws.recv()))["type"] != "matched":
            pass
        session = message["session"]
    return a, b, session


async def test_slow_consumers_one_after_another_leave_the_server_memory_bounded() -> None:
    async with server_process("--rate-messages", "100000", "--rate-burst", "100000",
                              "--close-timeout", "0.5") as (pid, url):
        bystander_a, bystander_b, bystanders = await matched_pair(url, "bystanders")
        base = rss_mib(pid)
        flooded = 0
        for round_ in range(12):
            flooder, reader, session = await matched_pair(url, f"round{round_}")  # reader never reads again
            frame = json.dumps({"type": "signal", "session": session, "data": {"blob": "y" * 60_000}})
            async with asyncio.timeout(4 * TIMEOUT):
                while True:
                    await flooder.send(frame)
                    flooded += len(frame)
                    with contextlib.suppress(TimeoutError):
                        message = json.loads(await asyncio.wait_for(flooder.recv(), 0.001))
                        if message["type"] == "partner_left":
                            break
            await flooder.close()
            reader.transport.abort()  # it never reads, so it would never finish a closing handshake
            await reader.wait_closed()
            # The other session never noticed.
            await bystander_a.send(json.dumps({"type": "signal", "session": bystanders, "data": {"n": round_}}))
            assert json.loads(await asyncio.wait_for(bystander_b.recv(), TIMEOUT))["data"] == {"n": round_}
        growth = rss_mib(pid, "VmHWM") - base
        print(f"\nflooded {flooded / MiB:.0f} MiB at 12 slow readers; server peak growth {growth:.1f} MiB")
        await bystander_a.close()
        await bystander_b.close()
        assert flooded > 60 * MiB
        assert growth < 40, f"the server grew by {growth:.1f} MiB"
