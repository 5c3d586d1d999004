"""The engine and a study session's server messages, through the signaling seam (the test plays
the server, as in test_engine_signals): find carries the terms, `matched` with `study` starts a
session, one without it (an older server) is the call as before."""

from __future__ import annotations

import time
from typing import Any

from client import events as ev
from client.engine import Engine, EngineConfig
from integration.engines import Recorder
from server.core import protocol as p

from .test_engine_signals import RecordingSignaling, connect


async def started(**config: Any) -> tuple[Engine, RecordingSignaling, Recorder]:
    fake, events = RecordingSignaling(), Recorder("engine")
    engine = Engine(EngineConfig(server="ws://fake/ws", fake_media=True, **config), events,
                    signaling=lambda e: fake)  # fmt: skip
    await engine.start()
    await connect(engine, fake)
    return engine, fake, events


async def matched(engine: Engine, session: str, study: p.Study | None = None) -> None:
    """A search, answered by the server (the test) with a match in `session`."""
    await engine.find()
    await engine.on_message(p.Queued("video", None))
    await engine.on_message(p.Matched(session, True, p.Partner("video", None), study=study))


async def test_find_carries_the_study_terms_chosen() -> None:
    engine, fake, _ = await started(length=50, talk="quiet")
    try:
        await engine.find()
        engine.choose_study(None, "talk")
        await engine.cancel()
        await engine.find()
        finds = await fake.wait_sent(p.Find, 2)
        assert [(f.length, f.talk) for f in finds] == [(50, "quiet"), (None, "talk")]
    finally:
        await engine.close()


async def test_a_matched_without_study_is_a_call_without_a_session() -> None:
    engine, _fake, events = await started()
    try:
        await matched(engine, "s1")
        await events.next(ev.Matched)
        engine.set_goal("ignored")  # no session: nothing happens
        engine.set_ready()
        engine.check_out("yes")
        assert engine.study is None
        assert not [e for e in events.events if isinstance(e, ev.STUDY_EVENTS)]
    finally:
        await engine.close()


async def test_a_matched_with_study_starts_the_session_and_leaving_ends_it() -> None:
    engine, _fake, events = await started()
    try:
        now = round(time.time() * 1000)
        study = p.Study(length=25, talk="talk", started_at=now, ends_at=now + 25 * 60_000, now=now)
        await matched(engine, "s1", study)
        got = await events.next(ev.SessionStarted)
        assert (got.session, got.length, got.talk) == ("s1", 25, "talk")
        assert abs(got.started_at - now / 1000) < 1.0
        phase = await events.next(ev.SessionPhase)
        assert phase.phase == "check_in" and phase.until is not None
        assert engine.study is not None and engine.study.mine.goal == ""
        engine.set_goal("g" * 200)
        assert engine.study.mine.goal == "g" * 140
        await engine.leave()
        assert engine.study is None
    finally:
        await engine.close()


async def test_a_quiet_session_mutes_the_microphone_until_it_ends() -> None:
    engine, _fake, events = await started()
    try:
        now = round(time.time() * 1000)
        quiet = p.Study(length=None, talk="quiet", started_at=now, ends_at=None, now=now)
        for session in ("s1", "s2"):
            await matched(engine, session, quiet)
            await events.next(ev.SessionStarted)
            assert engine.microphone_muted
            await engine.leave()
            assert not engine.microphone_muted  # the next call starts as the person left it
            await events.next(ev.CallEnded)
        engine.set_microphone_muted(True)  # muted by the person: a quiet session leaves it so
        await matched(engine, "s3", quiet)
        await events.next(ev.SessionStarted)
        await engine.leave()
        assert engine.microphone_muted
    finally:
        await engine.close()
