"""`--favourite` and `--avoid-last` as a user runs them: real headless processes, a real server
process. Favourite bots find each other again in their second call; `--avoid-last` bots never
meet the same partner twice (with no rematch cool-down, only the block keeps them apart). Needs
the server's side of issue 14 (favourites, avoid)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from itertools import combinations
from pathlib import Path

import pytest

from integration.headless import Headless

from .test_headless_cli import named, run_client, server_process

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


async def test_avoid_last_bots_never_meet_the_same_partner_twice(no_cooldown: str) -> None:
    args = [*BOT, "--server", no_cooldown, "--calls", "2", "--avoid-last"]
    a, b = await Headless.start(*args, *ENDS), await Headless.start(*args)
    try:
        # After their first call each blocks the other, then searches again: without the block
        # they would meet again at once. A third bot then meets each of them.
        for bot in (a, b):
            await bot.expect("partner_blocked")
            await bot.expect_count("queued", 2)
        c = await Headless.start(*BOT, *ENDS, "--server", no_cooldown, "--calls", "2")
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
