"""Live counts reach the engine while it searches, and only then (docs/protocol.md, "Live counts").

The first test runs a real server (both backends: with Redis, the engine and
the other client on different instances) and a real engine, which asks for
counts in its hello. The others play the server through the signaling seam,
to send `counts` at moments a real server only hits by chance: right after a
match, after a cancel, while idle.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from client import events as ev
from client.engine import Engine, EngineConfig
from integration.conftest import Cluster
from integration.engines import Recorder, engines
from server.core import protocol as p

from .test_engine_signals import RecordingSignaling, connect


async def test_counts_arrive_while_searching(cluster: Cluster) -> None:
    async with engines() as make:
        searcher = await make("searcher", cluster.urls[0])
        await searcher.engine.find("video", "Maths")
        await searcher.events.next(ev.Queued)
        first = await searcher.events.next(ev.Counts)
        assert first == ev.Counts(online=1, video=1, audio=0, topic=0)
        other = await cluster.connect(url=cluster.urls[-1])  # with Redis: the other instance
        await other.find("audio", "maths")
        seen = await searcher.events.next(ev.Counts, lambda c: c.audio == 1)
        assert seen == ev.Counts(online=2, video=1, audio=1, topic=1)


@pytest.fixture
async def engine() -> AsyncIterator[tuple[Engine, RecordingSignaling, Recorder]]:
    fake = RecordingSignaling()
    events = Recorder("engine")
    engine = Engine(EngineConfig(server="ws://fake/ws", fake_media=True), events, signaling=lambda e: fake)
    await engine.start()
    try:
        yield engine, fake, events
    finally:
        await engine.close()


COUNTS = p.Counts(online=5, video=2, audio=1, topic=None)


async def test_counts_are_passed_on_only_while_queued_and_searching(
    engine: tuple[Engine, RecordingSignaling, Recorder],
) -> None:
    eng, fake, events = engine
    await connect(eng, fake)
    await eng.on_message(COUNTS)  # idle: a stray one
    await eng.find()
    await eng.on_message(COUNTS)  # the find is on its way, not queued yet
    await eng.on_message(p.Queued("video", None))
    await eng.on_message(COUNTS)
    await eng.on_message(p.Counts(online=6, video=2, audio=1, topic=None))
    await eng.cancel()
    await eng.on_message(COUNTS)  # crossed our cancel
    await eng.on_message(p.Idle())
    await eng.on_message(COUNTS)
    assert events.of(ev.Counts) == [ev.Counts(5, 2, 1, None), ev.Counts(6, 2, 1, None)]


async def test_no_counts_once_matched(engine: tuple[Engine, RecordingSignaling, Recorder]) -> None:
    eng, fake, events = engine
    await connect(eng, fake)
    await eng.find()
    await eng.on_message(p.Queued("video", None))
    await eng.on_message(p.Matched("s1", True, p.Partner("video", None)))
    await eng.on_message(COUNTS)  # sent before the match, read after it
    assert events.of(ev.Counts) == []
