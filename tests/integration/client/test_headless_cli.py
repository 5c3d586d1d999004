"""`studymatch --headless` as a user runs it: real processes, a real server process, JSON events."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
from collections.abc import AsyncIterator
from typing import Any

import pytest

from integration.wsclient import SCALE, TIMEOUT

pytestmark = pytest.mark.slow

# Two Python processes importing aiortc on two shared cores, then two calls of 2 s each.
RUN_TIMEOUT = 60 * SCALE


async def start_server(*options: str) -> tuple[asyncio.subprocess.Process, str]:
    """`python -m server` with these options, once it listens; and its URL."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "server", *options,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
    )
    assert proc.stdout is not None
    line = (await asyncio.wait_for(proc.stdout.readline(), 4 * TIMEOUT)).decode().strip()
    assert line.startswith("listening on ws://"), line
    return proc, line.removeprefix("listening on ")


@contextlib.asynccontextmanager
async def server_process(*options: str) -> AsyncIterator[str]:
    """A server process for the block (its URL), stopped at the end."""
    proc, url = await start_server("--port", "0", *options)
    try:
        yield url
    finally:
        if proc.returncode is None:
            proc.terminate()
            await asyncio.wait_for(proc.wait(), TIMEOUT)


@pytest.fixture
async def server_url() -> AsyncIterator[str]:
    async with server_process("--rematch-cooldown", "0") as url:
        yield url


async def run_client(*args: str, env: dict[str, str] | None = None) -> tuple[int, list[dict[str, Any]], str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "client", "--headless", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env={**os.environ, **(env or {})},
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), RUN_TIMEOUT)
    except TimeoutError:
        proc.kill()
        out, err = await proc.communicate()
        raise AssertionError(f"client did not finish: {out.decode()[-2000:]} {err.decode()[-2000:]}") from None
    assert proc.returncode is not None
    events = [json.loads(line) for line in out.decode().splitlines() if line.strip()]
    return proc.returncode, events, err.decode()


def named(events: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [e for e in events if e["event"] == name]


@pytest.mark.parametrize("b_skips", [True, False], ids=["both-skip", "only-a-skips"])
async def test_two_headless_clients_make_two_calls(server_url: str, b_skips: bool) -> None:
    args = ["--fake-media", "--calls", "2", "--events", "json", "--server", server_url]
    # Without --call-seconds b stays until a skips, then must queue again by itself.
    (code_a, a, err_a), (code_b, b, err_b) = await asyncio.gather(
        run_client(*args, "--call-seconds", "2"),
        run_client(*args, *(["--call-seconds", "2"] if b_skips else [])),
    )
    assert (code_a, code_b) == (0, 0), (err_a[-2000:], err_b[-2000:])
    for events in (a, b):
        assert all(isinstance(e["t"], float) and isinstance(e["event"], str) for e in events)
        assert [e["t"] for e in events] == sorted(e["t"] for e in events)
        assert named(events, "connected")[0]["server"] == server_url
        assert named(events, "queued")[0] == {**named(events, "queued")[0], "mode": "video", "topic": None}
        assert not named(events, "error")
        ended = named(events, "call_ended")
        assert len(ended) == 2
        for call in ended:
            session = call["session"]
            assert call["video_frames"] > 0 and call["audio_frames"] > 0
            assert 0 < call["latency_ms_p50"] < 1000 and call["seconds"] > 0
            (connected,) = [e for e in named(events, "media_connected") if e["session"] == session]
            assert connected["ms_since_matched"] > 0
            kinds = {e["kind"] for e in named(events, "first_remote_frame") if e["session"] == session}
            assert kinds == {"video", "audio"}
    # The same two sessions on both sides, one initiator each time.
    sessions_a = [m["session"] for m in named(a, "matched")]
    sessions_b = [m["session"] for m in named(b, "matched")]
    assert sessions_a == sessions_b and len(set(sessions_a)) == 2
    for ma, mb in zip(named(a, "matched"), named(b, "matched"), strict=True):
        assert ma["initiator"] != mb["initiator"]
    # Both skip after 2 s, usually at once; whoever was second (if anyone) saw the partner skip.
    left = named(a, "partner_left") + named(b, "partner_left")
    assert all(e["reason"] == "skipped" for e in left)
    if not b_skips:
        assert [e["session"] for e in named(b, "partner_left")] == sessions_b


async def test_unreachable_server_exits_nonzero_with_a_clear_message() -> None:
    # A port nobody listens on (the OS gave it to a socket we close at once).
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"ws://127.0.0.1:{port}/ws"
    # Options from the environment, as every option may be given.
    code, events, err = await run_client(
        "--fake-media", env={"STUDYMATCH_SERVER": url, "STUDYMATCH_CONNECT_TIMEOUT": "1",
                             "STUDYMATCH_EVENTS": "json"},
    )
    assert code != 0
    assert f"Could not reach the StudyMatch server at {url} within 1 s" in err
    assert not named(events, "connected")


async def test_a_bad_option_is_a_usage_error(server_url: str) -> None:
    code, _, err = await run_client("--fake-media", "--server", server_url, "--connect-timeout", "0.5",
                                    "--calls", "1", "--mode", "nonsense")
    assert code == 2 and "invalid choice" in err  # argparse usage error, before any connection
