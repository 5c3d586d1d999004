"""`--favourite` and `--avoid-last` as a user runs them: real headless processes, a real server
process. Favourite bots find each other again in their second call; `--avoid-last` bots never
meet the same partner twice (with no rematch cool-down, only the block keeps them apart). Needs
the server's side of issue 14 (favourites, avoid)."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from itertools import combinations
from pathlib import Path
from typing import Any

import pytest

from .test_headless_cli import RUN_TIMEOUT, named, run_client, server_process

pytestmark = pytest.mark.slow

BOT = ["--fake-media", "--events", "json", "--length", "25"]
# One side of each pair ends the call: two bots skipping together would both be queued again
# by the server, for anyone, before either could say its block or its search for a favourite.
ENDS = ["--call-seconds", "1"]


@pytest.fixture
async def no_cooldown() -> AsyncIterator[str]:
    async with server_process("--rematch-cooldown", "0") as url:
        yield url


async def test_favourite_bots_find_each_other_again(no_cooldown: str, tmp_path: Path) -> None:
    runs = await asyncio.gather(*(
        run_client(*BOT, *(ENDS if name == "a" else []), "--server", no_cooldown, "--calls", "2", "--favourite",
                   "--history", str(tmp_path / name / "history.sqlite3"))
        for name in ("a", "b")))  # fmt: skip
    for code, _, err in runs:
        assert code == 0, err[-2000:]
    (_, a, _), (_, b, _) = runs
    for events in (a, b):
        first, second = named(events, "matched")
        assert first["favourite"] is None  # no favourites yet: a plain search
        assert [e["on"] for e in named(events, "partner_again")][:1] == [True]
        saved, *again = named(events, "favourite_saved")
        assert saved["session"] == first["session"]
        # both tick in the second call too: the same favourite, under the nickname it has
        assert [s["nickname"] for s in again] == [saved["nickname"]] * len(again)
        [search] = named(events, "favourite_search")
        assert search["favourites"] == 1 and search["t"] > saved["t"]
        assert second["favourite"] == saved["nickname"]  # paired as favourites
        assert named(events, "favourite_fallback") == []
    assert [m["session"] for m in named(a, "matched")] == [m["session"] for m in named(b, "matched")]
    for name in ("a", "b"):  # the key is kept beside the history, readable by this user only
        assert (tmp_path / name / "identity.pem").stat().st_mode & 0o777 == 0o600


class Bot:
    """A headless process whose JSON events are read as they come."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.events: list[dict[str, Any]] = []
        self._changed = asyncio.Event()
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def start(cls, *args: str) -> Bot:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "client", "--headless", *args,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL, env=dict(os.environ))
        return cls(proc)

    async def _read(self) -> None:
        assert self.proc.stdout is not None
        async for line in self.proc.stdout:
            if line.strip():
                self.events.append(json.loads(line))
                self._changed.set()

    async def wait_for(self, name: str, count: int = 1) -> None:
        async with asyncio.timeout(RUN_TIMEOUT):
            while len(named(self.events, name)) < count:
                self._changed.clear()
                await self._changed.wait()

    async def finish(self) -> int:
        try:
            async with asyncio.timeout(RUN_TIMEOUT):
                code = await self.proc.wait()
                await self._reader
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()
            raise AssertionError(f"a bot did not finish: {self.events[-10:]}") from None
        return code


async def test_avoid_last_bots_never_meet_the_same_partner_twice(no_cooldown: str) -> None:
    args = [*BOT, "--server", no_cooldown, "--calls", "2", "--avoid-last"]
    a, b = await Bot.start(*args, *ENDS), await Bot.start(*args)
    try:
        # After their first call each blocks the other, then searches again: without the block
        # they would meet again at once. A third bot then meets each of them.
        for bot in (a, b):
            await bot.wait_for("partner_blocked")
            await bot.wait_for("queued", 2)
        c = await Bot.start(*BOT, *ENDS, "--server", no_cooldown, "--calls", "2")
        codes = [await bot.finish() for bot in (a, b, c)]
    finally:
        for bot in (a, b):
            if bot.proc.returncode is None:
                bot.proc.kill()
                await bot.proc.wait()
    assert codes == [0, 0, 0]
    for bot in (a, b):
        assert all(e["blocked"] for e in named(bot.events, "partner_blocked"))
    sessions = [{m["session"] for m in named(bot.events, "matched")} for bot in (a, b, c)]
    pairs = [frozenset(pair) for pair in combinations(range(3), 2) for _ in sessions[pair[0]] & sessions[pair[1]]]
    assert sorted(map(sorted, pairs)) == [[0, 1], [0, 2], [1, 2]]  # every pair once, none twice
