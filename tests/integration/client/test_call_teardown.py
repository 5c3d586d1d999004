"""Ending a call at any moment of its setup leaves nothing open.

The risky moment is ICE gathering: aioice binds one UDP socket per host
address and only records them once all are bound, so a call ended in between
must let gathering finish rather than cancel it (the sockets would be lost,
unclosed). These tests end the call at each step of the event loop from the
moment gathering starts, on this machine's real interfaces.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import socket
import warnings
from collections.abc import AsyncIterator
from typing import Any

from client import events as ev
from client.engine import Engine, EngineConfig
from integration.engines import MEDIA_TIMEOUT, Recorder, fast_signaling
from server.ws.app import running_server

# Loop steps after gathering starts at which to end the call: binding one socket takes
# about three, and this machine has two host addresses (IPv4 and IPv6).
STEPS = range(12)


class EndWhileGathering:
    """On `matched`, watches the new call's peer connection; when ICE gathering starts,
    waits `steps` loop iterations and ends the call (as pressing End would)."""

    def __init__(self, engine_ref: list[Engine], recorder: Recorder) -> None:
        self._engine_ref = engine_ref
        self._recorder = recorder
        self.steps = 0
        self.ended_while_gathering = 0
        self._tasks: set[asyncio.Task[None]] = set()

    def __call__(self, event: ev.EngineEvent) -> None:
        self._recorder(event)
        if isinstance(event, ev.Matched):
            # The Call is made right after this event, in the same step: look one step later,
            # still before its negotiation task first runs.
            asyncio.get_running_loop().call_soon(self._watch)

    def _watch(self) -> None:
        engine = self._engine_ref[0]
        call = engine.call
        assert call is not None
        pc = call.pc

        def changed() -> None:
            if pc.iceGatheringState == "gathering":
                task = asyncio.get_running_loop().create_task(self._end_after(engine, pc, self.steps))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

        pc.on("icegatheringstatechange", changed)

    async def _end_after(self, engine: Engine, pc: Any, steps: int) -> None:
        for _ in range(steps):
            await asyncio.sleep(0)
        if pc.iceGatheringState == "gathering":
            self.ended_while_gathering += 1
        await engine.leave()


def udp_sockets() -> int:
    """How many UDP sockets this process has open (Linux: /proc/self/fd)."""
    count = 0
    for name in os.listdir("/proc/self/fd"):
        try:
            if not os.readlink(f"/proc/self/fd/{name}").startswith("socket:"):
                continue
            sock = socket.socket(fileno=os.dup(int(name)))
        except OSError:  # closed meanwhile
            continue
        with sock:
            count += sock.type == socket.SOCK_DGRAM
    return count


@contextlib.asynccontextmanager
async def two_engines(url: str) -> AsyncIterator[tuple[Engine, Recorder, EndWhileGathering, Engine, Recorder]]:
    ref: list[Engine] = []
    a_events, b_events = Recorder("a"), Recorder("b")
    ender = EndWhileGathering(ref, a_events)
    config = EngineConfig(server=url, fake_media=True, media_timeout=MEDIA_TIMEOUT)
    a = Engine(config, ender, signaling=fast_signaling)
    b = Engine(config, b_events, signaling=fast_signaling)
    ref.append(a)
    try:
        for engine, events in ((a, a_events), (b, b_events)):
            await engine.start()
            await events.next(ev.Connected)
        yield a, a_events, ender, b, b_events
    finally:
        await asyncio.gather(a.close(), b.close())


async def test_ending_a_call_during_ice_gathering_closes_every_socket() -> None:
    # A lost socket stays registered with the event loop (so no ResourceWarning until the loop
    # closes): count the process's UDP sockets instead, and check for warnings as well.
    before = udp_sockets()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        async with running_server() as server, two_engines(server.url) as (a, a_events, ender, b, b_events):
            for steps in STEPS:
                ender.steps = steps
                await a.find("video")
                await a_events.next(ev.Queued)
                await b.find("video")
                session = (await a_events.next(ev.Matched)).session

                def this_call(e: ev.CallEnded | ev.PartnerLeft, session: str = session) -> bool:
                    return e.session == session

                ended = await a_events.next(ev.CallEnded, this_call, MEDIA_TIMEOUT)
                assert ended.seconds == 0.0  # ended before media came up
                await b_events.next(ev.PartnerLeft, this_call)
                await b_events.next(ev.CallEnded, this_call)
        gc.collect()
        assert udp_sockets() == before
    # The sweep really did end calls in the middle of gathering, not only before or after it.
    assert ender.ended_while_gathering >= len(STEPS) // 2, ender.ended_while_gathering
    leaks = [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]
    assert not leaks, leaks
