"""A study session end to end: a real server (minutes of 0.2 s) and two real engines over aiortc
loopback: goals cross, phases and countdowns agree (also with a clock 90 s off), a check-out
arrives, and bad study messages from the partner are dropped with a log line."""

from __future__ import annotations

import dataclasses
import logging
import time
from typing import Any

import pytest

from client import events as ev
from client.study import CHECK_IN, CHECK_OUT, FOCUS, Checkout, StudyState
from integration.engines import MEDIA_TIMEOUT, Peer, engines
from integration.wsclient import TIMEOUT

from .test_call_engine import in_call

MINUTE = 0.4  # seconds: check-in is 0.8 s, a 25-minute session 10 s
OFF = 90.0  # a's clock is this far ahead


def skewed() -> float:
    return time.time() + OFF


async def study_pair(server_factory: Any, make: Any, length: int, **a_config: Any) -> tuple[Peer, Peer, str]:
    cluster = await server_factory(study_minute=MINUTE)
    a = await make("a", cluster.next_url(), length=length, talk="quiet", **a_config)
    b = await make("b", cluster.next_url(), length=length)
    session = await in_call(a, b)
    return a, b, session


@pytest.mark.parametrize("backend", ["memory"])
async def test_goals_cross_phases_and_countdowns_agree_and_a_checkout_arrives(server_factory: Any) -> None:
    async with engines() as make:
        a, b, session = await study_pair(server_factory, make, 25, clock=skewed)
        started_a = await a.events.next(ev.SessionStarted)
        started_b = await b.events.next(ev.SessionStarted)
        assert (started_a.length, started_a.talk) == (started_b.length, started_b.talk) == (25, "quiet")
        assert started_a.ends_at is not None and started_b.ends_at is not None
        # a's clock is 90 s ahead: its times are 90 s later, the countdown the same.
        assert abs((started_a.ends_at - OFF) - started_b.ends_at) < 1.0
        assert abs(started_b.ends_at - started_b.started_at - 25 * MINUTE) < 1e-6
        for peer in (a, b):
            assert (await peer.events.next(ev.SessionPhase)).phase == CHECK_IN
            # A quiet session: the microphone starts muted, and the synthetic tone it hears is
            # "speech": "You are muted".
            assert (await peer.events.next(ev.SpeakingWhileMuted, within=MEDIA_TIMEOUT)).session == session
        a.engine.set_goal("read chapter 3")
        b.engine.set_goal("ten proofs")
        assert (await b.events.next(ev.PartnerGoal)).text == "read chapter 3"
        assert (await a.events.next(ev.PartnerGoal)).text == "ten proofs"
        a.engine.set_ready()
        b.engine.set_ready()
        await a.events.next(ev.PartnerReady)
        await b.events.next(ev.PartnerReady)
        focus_a = await a.events.next(ev.SessionPhase, lambda e: e.phase == FOCUS)
        focus_b = await b.events.next(ev.SessionPhase, lambda e: e.phase == FOCUS)
        assert focus_a.until is not None and focus_b.until is not None
        assert abs((focus_a.until - OFF) - focus_b.until) < 1.0
        study_a, study_b = a.engine.study, b.engine.study
        assert study_a is not None and study_b is not None
        left_a, left_b = study_a.countdown(skewed()), study_b.countdown(time.time())
        assert left_a is not None and left_b is not None and abs(left_a - left_b) < 1.0
        # The end: both reach check-out on their own timers; a checks out, b hears it.
        within = 25 * MINUTE + TIMEOUT
        await a.events.next(ev.SessionPhase, lambda e: e.phase == CHECK_OUT, within)
        await b.events.next(ev.SessionPhase, lambda e: e.phase == CHECK_OUT, within)
        a.engine.check_out("partly", "two of three sections")
        got = await b.events.next(ev.PartnerCheckout)
        assert (got.session, got.done, got.note) == (session, "partly", "two of three sections")


@pytest.mark.parametrize("backend", ["memory"])
async def test_bad_study_messages_are_dropped_with_a_log_line(server_factory: Any,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="studymatch.client")
    async with engines() as make:
        a, b, session = await study_pair(server_factory, make, 75)
        await b.events.next(ev.SessionStarted)
        study_a, call_a = a.engine.study, a.engine.call
        assert study_a is not None and call_a is not None
        # What a says goes out as it stands (the encoder trusts its own side): say bad things.
        for bad in (StudyState(goal="g" * 141), dataclasses.replace(StudyState(), ready=1),  # type: ignore[arg-type]
                    StudyState(goal="early", checkout=Checkout("yes"))):  # fmt: skip
            study_a.mine = bad
            call_a.send_study()
        study_a.mine = StudyState(goal="a good goal")
        call_a.send_study()
        assert (await b.events.next(ev.PartnerGoal)).text == "a good goal"
        assert not b.events.of(ev.PartnerCheckout)
        assert [e.text for e in b.events.of(ev.PartnerGoal)] == ["a good goal"]
        logged = [r.getMessage() for r in caplog.records]
        assert any("ignoring the partner's state message" in m for m in logged), logged
        assert any("ignoring the partner's study message" in m and "check-out before the end" in m
                   for m in logged), logged  # fmt: skip
        assert b.engine.call is not None and b.engine.model.is_current(session)
        await b.events.wait_frames(b.events.remote_frame_count + 10, MEDIA_TIMEOUT)  # the call goes on
