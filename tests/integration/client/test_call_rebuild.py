"""A call whose peer connection is lost builds a new one to the same partner, or ends past the grace.

Each side is a real `Call` with fake media in a process of its own (callpeer.py), so it can
live in a network namespace of the lab (tools/netlab) whose link the test cuts for real or
readdresses. The test relays the signals between them, and drops them while a side's link
is down (its server would be unreachable), then says `resumed` to that side, as the engine
does once its signaling socket is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from integration.wsclient import SCALE
from tools.netlab import Star, star, unavailable_reason

ROOT = Path(__file__).resolve().parents[3]
PEER = [sys.executable, "-m", "tests.integration.client.callpeer"]
WHY_NOT = unavailable_reason()
needs_lab = pytest.mark.skipif(WHY_NOT is not None, reason=WHY_NOT or "")
pytestmark = pytest.mark.slow

CONNECT = 30.0 * SCALE  # two fresh processes on two shared cores: imports, gathering, DTLS
REBUILD = 30.0 * SCALE  # from the link's return to frames again (retries every 3 s)


class PeerProcess:
    def __init__(self, name: str, process: asyncio.subprocess.Process, relay: Callable[[str, Any], None]) -> None:
        self.name = name
        self.process = process
        self._relay = relay
        self.events: list[dict[str, Any]] = []
        self.stderr: list[str] = []
        self.frames = 0
        self._changed = asyncio.Event()
        self._tasks = [asyncio.create_task(self._read()), asyncio.create_task(self._drain())]

    async def _read(self) -> None:
        assert self.process.stdout is not None
        while line := await self.process.stdout.readline():
            message = json.loads(line)
            if "signal" in message:
                self._relay(self.name, message["signal"])
                continue
            if "frames" in message:
                self.frames = message["frames"]
            else:
                self.events.append(message)
            self._changed.set()

    async def _drain(self) -> None:
        assert self.process.stderr is not None
        while line := await self.process.stderr.readline():
            self.stderr.append(line.decode())

    def send(self, **message: Any) -> None:
        assert self.process.stdin is not None
        if self.process.returncode is None:
            self.process.stdin.write((json.dumps(message) + "\n").encode())

    def seen(self, key: str, value: Any = None) -> list[dict[str, Any]]:
        return [e for e in self.events if key in e and (value is None or e[key] == value)]

    async def until(self, done: Callable[[], bool], within: float, what: str) -> None:
        deadline = time.monotonic() + within
        while not done():
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{self.name}: no {what} within {within} s; events {self.events}; "
                                     f"log tail {''.join(self.stderr[-15:])}")  # fmt: skip
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), min(left, 1.0))

    async def frames_beyond(self, count: int, within: float) -> None:
        await self.until(lambda: self.frames > count, within, f"video frames beyond {count}")

    async def stop(self) -> None:
        self.send(stop=True)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.process.wait(), 20.0)
        if self.process.returncode is None:
            self.process.kill()
            await self.process.wait()
        await asyncio.gather(*self._tasks)


class Pair:
    """Two call processes and the signal relay between them."""

    def __init__(self) -> None:
        self.peers: dict[str, PeerProcess] = {}
        self.unreachable: set[str] = set()  # sides whose signals are dropped

    def relay(self, source: str, data: Any) -> None:
        target = "b" if source == "a" else "a"
        if source in self.unreachable or target in self.unreachable:
            return
        self.peers[target].send(signal=data)

    async def start(self, name: str, prefix: Sequence[str], *args: str) -> PeerProcess:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests")])}
        process = await asyncio.create_subprocess_exec(
            *prefix, *PEER, *args, cwd=ROOT, env=env,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        self.peers[name] = PeerProcess(name, process, self.relay)
        return self.peers[name]


def has(peer: PeerProcess, key: str, value: Any = None) -> Callable[[], bool]:
    return lambda: bool(peer.seen(key, value))


@contextlib.asynccontextmanager
async def call_pair(prefix_a: Sequence[str], prefix_b: Sequence[str], *extra: str,
                    grace: float = 120.0) -> AsyncIterator[tuple[Pair, PeerProcess, PeerProcess]]:  # fmt: skip
    pair = Pair()
    a = await pair.start("a", prefix_a, "--initiator", "--grace", str(grace), *extra)
    b = await pair.start("b", prefix_b, "--responder", "--grace", str(grace), *extra)
    try:
        for peer in (a, b):
            await peer.until(has(peer, "event", "MediaConnected"), CONNECT, "connection")
            await peer.frames_beyond(30, CONNECT)
        yield pair, a, b
    finally:
        for peer in (a, b):
            if peer.process.returncode is None:
                peer.process.kill()
                await peer.process.wait()


@contextlib.contextmanager
def lab() -> Any:
    with star() as net:
        yield net


async def rebuilt(peer: PeerProcess, frames_before: int) -> None:
    await peer.until(lambda: bool(peer.seen("event", "MediaRestored")), REBUILD, "MediaRestored")
    await peer.frames_beyond(frames_before, REBUILD)


async def hang_up_quietly(*peers: PeerProcess) -> None:
    for peer in peers:
        await peer.stop()
        assert peer.seen("closed"), peer.events
        assert not peer.seen("gone"), peer.events
        log = "".join(peer.stderr)
        first = log.find("Traceback")
        assert first < 0, log[max(0, first - 2500):first + 2500]
        print(peer.name, "closed in", peer.seen("closed")[0]["closed"], "s;",
              [line.strip() for line in peer.stderr if "WARNING" in line])


@needs_lab
async def test_a_cut_longer_than_ice_consent_ends_in_a_rebuilt_call() -> None:
    net: Star
    with lab() as net:
        ns = net.lab.ns_command
        async with call_pair(ns("a", []), ns("b", [])) as (pair, a, b):
            net.lab.set_down(net.a)
            pair.unreachable.add("a")
            for peer in (a, b):
                await peer.until(has(peer, "event", "MediaReconnecting"), 20.0 * SCALE, "MediaReconnecting")
            await asyncio.sleep(40.0)  # past ICE consent (30 s): the old connection is dead for good
            counts = a.frames, b.frames
            net.lab.set_up(net.a)
            back = time.time()
            pair.unreachable.discard("a")
            a.send(resumed=True)
            for peer, count in zip((a, b), counts, strict=True):
                await rebuilt(peer, count)
            firsts = [max(e["first_frame"] for e in peer.seen("first_frame")) - back for peer in (a, b)]
            print(f"link back to first new frame: a {firsts[0]:.2f} s, b {firsts[1]:.2f} s")
            await hang_up_quietly(a, b)


@needs_lab
async def test_an_address_change_ends_in_a_rebuilt_call_and_a_quiet_hangup() -> None:
    net: Star
    with lab() as net:
        ns = net.lab.ns_command
        async with call_pair(ns("a", []), ns("b", [])) as (_pair, a, b):
            counts = a.frames, b.frames
            net.lab.readdress(net.a, 9)  # a moves to 10.99.9.2: its old address is gone
            for peer, count in zip((a, b), counts, strict=True):
                await rebuilt(peer, count)
            assert not a.seen("event", "MediaFailed") and not b.seen("event", "MediaFailed")
            await hang_up_quietly(a, b)


async def test_a_partner_that_never_comes_back_is_gone_after_the_grace() -> None:
    grace = 6.0
    async with call_pair([], [], "--loopback", grace=grace) as (_pair, a, b):
        b.process.send_signal(signal.SIGKILL)  # no goodbye at all: a crash, a laptop lid closed
        await b.process.wait()
        await a.until(lambda: bool(a.seen("event", "MediaReconnecting")), 20.0 * SCALE, "MediaReconnecting")
        await a.until(lambda: bool(a.seen("gone")), (grace + 20.0) * SCALE, "on_gone")
        await asyncio.sleep(4.0)  # once only, however long it stays gone
        assert len(a.seen("gone")) == 1
        assert not a.seen("event", "MediaRestored")
        await a.stop()
        assert a.seen("closed")
