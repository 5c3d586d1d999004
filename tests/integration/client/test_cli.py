"""`python -m server` as a real process: the listening line, env config, SIGTERM."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from integration.wsclient import TIMEOUT, WsClient

LISTENING = re.compile(r"^listening on (ws://127\.0\.0\.1:(\d+)/ws)$")

Spawn = Callable[..., Awaitable[tuple[asyncio.subprocess.Process, str]]]


@pytest.fixture
async def spawn() -> AsyncIterator[Spawn]:
    """Start `python -m server ARGS` and wait for its listening line."""
    procs: list[asyncio.subprocess.Process] = []

    async def start(*args: str, env: dict[str, str] | None = None) -> tuple[asyncio.subprocess.Process, str]:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "server", *args,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            env={**os.environ, **(env or {})},
        )
        procs.append(proc)
        assert proc.stdout is not None
        line = (await asyncio.wait_for(proc.stdout.readline(), 4 * TIMEOUT)).decode().rstrip("\n")
        match = LISTENING.match(line)
        assert match, f"unexpected first line {line!r}"
        return proc, match.group(1)

    yield start
    for proc in procs:
        if proc.returncode is None:
            proc.kill()
        await proc.wait()


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
async def test_server_process_listens_and_shuts_down_cleanly(spawn: Spawn, sig: signal.Signals) -> None:
    proc, url = await spawn("--port", "0", "--shutdown-retry-after", "7")
    a, b = await WsClient.open(url), await WsClient.open(url)
    await a.find()
    await b.find()
    await a.expect("matched")
    await b.expect("matched")
    proc.send_signal(sig)
    for client in (a, b):
        message = await client.recv()
        while message["type"] == "partner_left":
            message = await client.recv()
        assert message == {"type": "shutdown", "retry_after": 7.0}
        await client.expect_closed(1001)
    assert await asyncio.wait_for(proc.wait(), TIMEOUT) == 0
    assert proc.stdout is not None and proc.stderr is not None
    assert await proc.stdout.read() == b""  # exactly one line on stdout
    log = (await proc.stderr.read()).decode()
    assert "event=listening" in log and "event=shutdown" in log and "Traceback" not in log


@pytest.mark.slow
async def test_options_come_from_the_environment(spawn: Spawn) -> None:
    proc, url = await spawn(env={
        "STUDYMATCH_PORT": "0",
        "STUDYMATCH_STUN": "stun:one.example:3478, stun:two.example",
        "STUDYMATCH_RATE_BURST": "7",
        "STUDYMATCH_TOKEN": "letmein",
        "STUDYMATCH_LOG_LEVEL": "warning",
    })
    client = await WsClient.open(url, hello=False)
    welcome = await client.hello(token="letmein")
    assert welcome["ice_servers"] == [{"urls": "stun:one.example:3478"}, {"urls": "stun:two.example"}]
    assert welcome["limits"]["message_burst"] == 7
    await client.close()
    proc.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(proc.wait(), TIMEOUT) == 0
    assert proc.stderr is not None
    assert "event=listening" not in (await proc.stderr.read()).decode()  # info is off at warning


@pytest.mark.slow
async def test_bad_options_exit_with_a_message() -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "server", "--port", "0", "--backend", "carrier-pigeon",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 4 * TIMEOUT)
    assert proc.returncode == 2 and out == b""
    assert b"--backend" in err and b"carrier-pigeon" in err
