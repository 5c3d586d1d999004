"""Two Redis-backed instances whose clocks disagree by 90 s (one runs with libfaketime): both
partners get a `study.now` on Redis' clock, the clock of `started_at`, so their countdowns agree
(server/backends/redis/clock.py). Stamped with the instance's own clock, one would be 90 s off."""

from __future__ import annotations

import asyncio
import glob
import os
import subprocess
import sys
import time

import pytest

from integration.redis_support import RedisServer, own_redis  # noqa: F401 (a fixture)
from integration.wsclient import WsClient

from .test_redis_failures import server_process

# libfaketime itself, preloaded, rather than the `faketime` program: that one runs the server as
# its child, which a kill of the program leaves running.
LIBFAKETIME = next(iter(sorted(glob.glob("/usr/lib/*/faketime/libfaketime.so.1"))), None)
AHEAD_S = 90
AHEAD = {"LD_PRELOAD": LIBFAKETIME or "", "FAKETIME": f"+{AHEAD_S}s"}

pytestmark = [
    pytest.mark.redis,
    pytest.mark.slow,
    pytest.mark.skipif(LIBFAKETIME is None, reason="needs libfaketime (Debian's faketime package, which "
                                                   "tools/setup --test installs) to run an instance with its clock off"),
]


def wall_ms() -> int:
    return time.time_ns() // 1_000_000


def test_libfaketime_moves_a_python_process_clock() -> None:
    # What the test below stands on: the instance given AHEAD really lives 90 s ahead.
    out = subprocess.run([sys.executable, "-c", "import time; print(time.time())"], env={**os.environ, **AHEAD},
                         capture_output=True, text=True, check=True).stdout  # fmt: skip
    assert abs(float(out) - time.time() - AHEAD_S) < 5


async def test_an_instance_whose_clock_is_ahead_stamps_now_on_redis_clock(own_redis: RedisServer) -> None:  # noqa: F811
    async with server_process(own_redis.url, env=AHEAD) as (_, url_ahead), \
            server_process(own_redis.url) as (_, url_right):  # fmt: skip
        a, b = await WsClient.open(url_ahead), await WsClient.open(url_right)
        try:
            for client in (a, b):
                await client.request({"type": "find", "mode": "audio", "topic": None, "length": 25}, "queued")
            studies = [(await client.expect("matched"))["study"] for client in (a, b)]
            received = wall_ms()
            # Redis runs on this machine: its clock is ours. Both `now`s are on it, a second apart
            # at most, and at or after the session's start.
            for study in studies:
                assert abs(study["now"] - received) < 1000, (study, received)
                assert 0 <= study["now"] - study["started_at"] < 1000, study
            assert studies[0]["started_at"] == studies[1]["started_at"]
        finally:
            await asyncio.gather(a.close(), b.close())
