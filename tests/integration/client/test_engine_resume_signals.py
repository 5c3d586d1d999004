"""The engine's side of resuming, through the signaling seam (docs/protocol.md, "Resuming after a dropped socket").

As in test_engine_signals.py, a recording fake plays the server and the peer
connections are real aiortc ones: here the server's rarer answers are played on
purpose (a refused ticket, a replaced connection, a stale partner message),
which a real server only sends by chance.
"""

from __future__ import annotations

from typing import Any

from client import events as ev
from client import messages
from client.session import CallState
from server.core import protocol as p

from .test_engine_signals import RecordingSignaling, connect, engine

__all__ = ["engine"]  # the fixture, shared

PARTNER = p.Partner("video", None)


async def in_call_with_ticket(eng: Any, fake: RecordingSignaling) -> None:
    await connect(eng, fake)
    await eng.find()
    await eng.on_message(p.Queued("video", None, ticket="q1"))
    await eng.on_message(p.Matched("s1", True, PARTNER, ticket="t1"))


async def lose(eng: Any, fake: RecordingSignaling) -> None:
    fake.connected = False
    await eng.on_disconnected(0.1, "gone")


async def test_a_lost_server_keeps_the_call_and_resume_goes_first(engine: Any) -> None:
    eng, fake, events = engine
    await in_call_with_ticket(eng, fake)
    call = eng.call
    await lose(eng, fake)
    assert events.of(ev.SignalingLost) == [ev.SignalingLost("s1", 0.1, "gone")]
    assert events.of(ev.Disconnected) == [ev.Disconnected("ws://fake/ws", 0.1, "gone")]
    assert eng.call is call and not call.closed and not events.of(ev.CallEnded)
    sent = len(fake.sent)
    await connect(eng, fake)
    assert fake.sent[sent:] == [p.Resume("t1")]  # the first request on the new connection
    await eng.on_message(p.Resumed("s1", True, PARTNER, ticket="t2"))
    assert events.of(ev.Resumed) == [ev.Resumed("s1")] and eng.call is call
    await eng.on_message(p.Ticket("t3"))  # a fresh one: the next resume uses it
    await lose(eng, fake)
    await connect(eng, fake)
    assert fake.sent[-1] == p.Resume("t3")


async def test_partner_away_and_back_are_told_for_this_call_only(engine: Any) -> None:
    eng, fake, events = engine
    await in_call_with_ticket(eng, fake)
    await eng.on_message(p.PartnerReconnecting("old"))
    await eng.on_message(p.PartnerReconnecting("s1"))
    await eng.on_message(p.PartnerResumed("s1"))
    assert events.of(ev.PartnerReconnecting) == [ev.PartnerReconnecting("s1")]
    assert events.of(ev.PartnerResumed) == [ev.PartnerResumed("s1")]
    assert eng.state is CallState.CONNECTING and eng.call is not None


async def test_a_refused_ticket_ends_the_call_as_a_partner_who_left_and_says_why(engine: Any) -> None:
    eng, fake, events = engine
    await in_call_with_ticket(eng, fake)
    await lose(eng, fake)
    await connect(eng, fake)
    await eng.on_message(p.Error(p.ErrorCode.BAD_TICKET, "expired"))
    assert events.of(ev.ErrorEvent) == [ev.ErrorEvent("bad_ticket", messages.SESSION_NOT_RESUMED)]
    assert events.of(ev.PartnerLeft) == [ev.PartnerLeft("s1", "timeout")]
    assert (await events.next(ev.CallEnded)).session == "s1"
    assert eng.state is CallState.PARTNER_LEFT and eng.call is None


async def test_a_refused_queue_ticket_searches_anew(engine: Any) -> None:
    eng, fake, events = engine
    await connect(eng, fake)
    await eng.find("audio", "maths")
    await eng.on_message(p.Queued("audio", "maths", ticket="q1"))
    await lose(eng, fake)
    assert not events.of(ev.SignalingLost)  # no call to speak of
    await connect(eng, fake)
    assert fake.sent[-1] == p.Resume("q1")
    await eng.on_message(p.Error(p.ErrorCode.BAD_TICKET, "expired"))
    assert fake.sent[-1] == p.Find("audio", "maths")
    assert not events.of(ev.ErrorEvent)  # nothing for the person: the search goes on


async def test_replaced_ends_the_call_here_and_it_is_not_resumed(engine: Any) -> None:
    eng, fake, events = engine
    await in_call_with_ticket(eng, fake)
    await eng.on_message(p.Replaced("s1"))
    assert events.of(ev.ErrorEvent) == [ev.ErrorEvent("replaced", messages.SESSION_REPLACED)]
    assert (await events.next(ev.CallEnded)).session == "s1" and eng.call is None
    await lose(eng, fake)
    sent = len(fake.sent)
    await connect(eng, fake)
    assert fake.sent[sent:] == []  # not resumed, not searching


async def test_next_pressed_while_away_skips_after_resuming(engine: Any) -> None:
    eng, fake, events = engine
    await in_call_with_ticket(eng, fake)
    await lose(eng, fake)
    await eng.skip()
    assert (await events.next(ev.CallEnded)).session == "s1" and eng.call is None  # at once
    sent = len(fake.sent)
    await connect(eng, fake)
    assert fake.sent[sent:] == [p.Resume("t1")]  # no find before the partner is told
    await eng.on_message(p.Resumed("s1", True, PARTNER, ticket="t2"))
    assert fake.sent[sent:] == [p.Resume("t1"), p.Skip("s1")]  # the server queues us again itself
    assert not events.of(ev.Resumed) and eng.call is None
