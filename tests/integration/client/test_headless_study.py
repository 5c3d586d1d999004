"""Two `studymatch --headless` bots through a real server process (minutes of 0.2 s) finish
the ritual: goals cross, both reach check-out and each receives the other's check-out."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from .test_headless_cli import named, run_client, server_process

pytestmark = pytest.mark.slow


@pytest.fixture
async def study_server() -> AsyncIterator[str]:
    async with server_process("--study-minute", "0.2") as url:
        yield url


async def test_two_bots_check_in_and_out(study_server: str) -> None:
    args = ["--fake-media", "--calls", "1", "--events", "json", "--server", study_server, "--length", "25"]
    # The session is 5 s; neither bot has --call-seconds: once both have checked out, each
    # leaves by itself, and --calls 1 makes that its exit.
    (code_a, a, err_a), (code_b, b, err_b) = await asyncio.gather(
        run_client(*args, "--quiet", "--goal", "read chapter 3"),
        run_client(*args, "--goal", "ten proofs"),
    )
    assert (code_a, code_b) == (0, 0), (err_a[-2000:], err_b[-2000:])
    for events, partner_goal in ((a, "ten proofs"), (b, "read chapter 3")):
        started = named(events, "session_started")
        assert [(s["length"], s["talk"]) for s in started] == [(25, "quiet")]
        assert [g["text"] for g in named(events, "partner_goal")] == [partner_goal]
        phases = [e["phase"] for e in named(events, "phase")]
        assert phases[0] == "check_in" and phases[-1] == "check_out" and "focus" in phases
        assert [(c["done"], c["note"]) for c in named(events, "partner_checkout")] == [("yes", "")]
        [ended] = named(events, "call_ended")
        assert ended["t"] > named(events, "partner_checkout")[0]["t"]  # left once both had checked out
