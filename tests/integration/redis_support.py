"""A real `redis-server` for the tests: started on a free port, stoppable, restartable.

Nothing is persisted (`--save '' --appendonly no`), so a restart is a Redis
that forgot everything, the worst case the backend must survive. Readiness
is awaited on the server's own "Ready to accept connections" line, not on
a sleep.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import shutil
import socket
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, cast

import pytest
import redis

from server.backends.redis.script import SCRIPT_TEXT, Op, RedisKeys, Reply, parse_reply, script_args

from .wsclient import TIMEOUT

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
INSTANCE = "test-instance"  # the one instance a `ScriptDriver` calls as
_prefixes = itertools.count()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RedisServer:
    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self._dir = tempfile.TemporaryDirectory(prefix="studymatch-redis-")
        self.proc: subprocess.Popen[str] | None = None
        self._drain: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        assert self.proc is None, "already running"
        self.proc = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", self._dir.name, "--loglevel", "notice"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        stdout = self.proc.stdout
        assert stdout is not None
        seen: list[str] = []
        # redis-server logs its readiness, or exits (end of file) when it cannot start.
        for line in stdout:
            seen.append(line)
            if "Ready to accept connections" in line:
                break
        else:
            self.stop()
            raise RuntimeError("redis-server did not start:\n" + "".join(seen[-20:]))
        # Keep draining its log so that a full pipe never blocks it.
        self._drain = threading.Thread(target=stdout.read, daemon=True)
        self._drain.start()

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        proc.terminate()
        try:
            proc.wait(TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if self._drain is not None:
            self._drain.join(TIMEOUT)  # end of file once the process is gone
            self._drain = None
        if proc.stdout is not None:
            proc.stdout.close()

    def restart(self) -> None:
        self.stop()
        self.start()

    def close(self) -> None:
        self.stop()
        self._dir.cleanup()

    @property
    def workdir(self) -> Path:
        return Path(self._dir.name)


@contextlib.contextmanager
def running_redis(port: int | None = None) -> Iterator[RedisServer]:
    server = RedisServer(port)
    server.start()
    try:
        yield server
    finally:
        server.close()


def unique_prefix() -> str:
    """A key prefix (one hash tag) no other test in this run uses."""
    return f"{{studymatch-test-{next(_prefixes)}}}"


@pytest.fixture(scope="session")
def shared_redis() -> Iterator[RedisServer]:
    """One redis-server for the tests that do not stop it; tests keep apart by key prefix."""
    with running_redis() as server:
        yield server


@pytest.fixture
def own_redis() -> Iterator[RedisServer]:
    """A redis-server of this test alone, which it may stop and start again."""
    with running_redis() as server:
        yield server


# Reading the backend's keys directly. redis-py types every reply `bytes | str` because it
# cannot know `decode_responses`; the tests' clients leave it off, so the replies are bytes,
# and these are the only casts.
async def until(predicate: Callable[[], bool], within: float = TIMEOUT, every: float = 0.02) -> None:
    """Poll until `predicate` holds: what Redis holds, or what the subscription delivered,
    is shared by several instances and Redis, with no one event to await."""
    async with asyncio.timeout(within):
        while not predicate():  # noqa: ASYNC110
            await asyncio.sleep(every)


def hash_json(r: redis.Redis, key: str) -> dict[str, Any]:
    """A hash whose values are JSON, decoded."""
    reply = cast("dict[bytes, bytes]", r.hgetall(key))
    return {k.decode(): json.loads(v) for k, v in reply.items()}


def hash_keys(r: redis.Redis, key: str) -> list[str]:
    return [k.decode() for k in cast("list[bytes]", r.hkeys(key))]


def zset_members(r: redis.Redis, key: str) -> list[str]:
    """A sorted set's members, lowest score first."""
    return [m.decode() for m in cast("list[bytes]", r.zrange(key, 0, -1))]


def zset_scored(r: redis.Redis, key: str) -> list[tuple[str, float]]:
    """A sorted set's (member, score) pairs, lowest score first."""
    reply = cast("list[tuple[bytes, float]]", r.zrange(key, 0, -1, withscores=True))
    return [(m.decode(), s) for m, s in reply]


class ScriptDriver:
    """Runs the pairing script directly, as one instance, with an explicit clock, under a
    key prefix of its own."""

    def __init__(self, url: str, *, cooldown: float) -> None:
        self.r = redis.Redis.from_url(url)
        self.keys = RedisKeys(unique_prefix())
        self.cooldown = cooldown
        self.script = self.r.register_script(SCRIPT_TEXT)

    def run(self, ops: list[Op], now: float) -> Reply:
        raw = self.script(
            keys=self.keys.script_keys(),
            args=script_args(ops, instance=INSTANCE, cooldown=self.cooldown, lease=1e9, keys=self.keys, now=now),
        )
        return parse_reply(raw)

    def call(self, op: str, *args: str, now: float) -> Reply:
        """A run of one operation."""
        return self.run([(op, *args)], now)

    def records(self) -> dict[str, dict[str, Any]]:
        return hash_json(self.r, self.keys.clients)

    def sessions(self) -> dict[str, dict[str, Any]]:
        return hash_json(self.r, self.keys.sessions)

    def queue(self, mode: str) -> list[tuple[str, float]]:
        return zset_scored(self.r, self.keys.queue(mode))
