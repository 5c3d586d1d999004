"""The per-client session (server/core/session.py): frames and times in, effects out, no sockets."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from server.core import codec, texts
from server.core import protocol as p
from server.core.session import (
    GOING_AWAY,
    POLICY_VIOLATION,
    AvoidPartners,
    CancelFind,
    ClientSession,
    Close,
    Effect,
    FindPartner,
    Greet,
    LeaveSession,
    Phase,
    Refuse,
    Relay,
    Reply,
    ReportPartner,
    ResumeSession,
    SessionLimits,
    SkipPartner,
)

LIMITS = SessionLimits(rate_messages=2.0, rate_burst=4, abuse_strikes=3, finds_per_minute=5, hello_timeout=10.0)
HELLO = json.dumps({"type": "hello", "protocol": 1, "client": "test"})


def session(now: float = 0.0, limits: SessionLimits = LIMITS) -> ClientSession:
    return ClientSession(limits, codec.STANDARD, now)


def ready(now: float = 0.0, limits: SessionLimits = LIMITS) -> ClientSession:
    s = session(now, limits)
    assert s.receive(HELLO, now) == [Greet(p.Hello(protocol=1, client="test"))]
    return s


def codes(effects: list[Effect]) -> list[str]:
    return [e.error.code for e in effects if isinstance(e, Refuse)]


# --- hello ---------------------------------------------------------------------------------


def test_hello_is_greeted_once_and_a_second_is_refused() -> None:
    s = ready()
    assert s.phase is Phase.READY
    assert codes(s.receive(HELLO, 1.0)) == [p.ErrorCode.BAD_MESSAGE]
    assert s.phase is Phase.READY  # not fatal


def test_anything_before_hello_is_refused_and_closes() -> None:
    s = session()
    effects = s.receive(json.dumps({"type": "find", "mode": "video"}), 0.0)
    assert codes(effects) == [p.ErrorCode.HELLO_REQUIRED]
    assert effects[1] == Close(POLICY_VIOLATION, texts.HELLO_REQUIRED)
    assert s.phase is Phase.CLOSED
    assert s.receive(HELLO, 1.0) == []  # nothing is taken after the close


def test_an_unsupported_protocol_closes() -> None:
    s = session()
    effects = s.receive(json.dumps({"type": "hello", "protocol": 99}), 0.0)
    assert codes(effects) == [p.ErrorCode.UNSUPPORTED_PROTOCOL]
    assert isinstance(effects[-1], Close) and effects[-1].code == POLICY_VIOLATION


def test_the_hello_deadline_closes_only_a_silent_client() -> None:
    s = session(now=5.0)
    assert s.hello_deadline == 15.0
    assert s.expire(14.9) == []  # a timer that ran early changes nothing
    effects = s.expire(15.0)
    assert codes(effects) == [p.ErrorCode.HELLO_REQUIRED]
    close = effects[-1]
    assert isinstance(close, Close) and close.dropped == "hello_timeout"
    assert "10 seconds" in close.reason
    assert ready().expire(100.0) == []  # said hello in time


# --- dispatch ------------------------------------------------------------------------------


def test_each_request_becomes_its_effect() -> None:
    s = ready(limits=SessionLimits(100.0, 100, 3, 100, 10.0))
    cases: list[tuple[dict[str, object], Effect]] = [
        ({"type": "signal", "session": "s1", "data": {"sdp": "v=0"}}, Relay("s1", {"sdp": "v=0"})),
        ({"type": "find", "mode": "audio", "topic": "maths"}, FindPartner("audio", "maths")),
        ({"type": "skip"}, SkipPartner()),
        ({"type": "cancel"}, CancelFind()),
        ({"type": "leave"}, LeaveSession()),
        ({"type": "report", "session": "s1", "reason": "rude"}, ReportPartner("s1", "rude")),
    ]
    for message, effect in cases:
        assert s.receive(json.dumps(message), 1.0) == [effect]


def test_a_malformed_message_is_refused_and_the_session_goes_on() -> None:
    s = ready()
    assert codes(s.receive("{not json", 0.1)) == [p.ErrorCode.BAD_JSON]
    assert codes(s.receive(json.dumps({"type": "signal", "session": 5, "data": {}}), 0.2)) == [
        p.ErrorCode.BAD_MESSAGE
    ]
    assert codes(s.receive(b'{"type":"cancel"}', 0.3)) == [p.ErrorCode.BAD_MESSAGE]  # binary frame
    assert s.receive(json.dumps({"type": "cancel"}), 0.4) == [CancelFind()]


def test_refusals_from_the_shell_close_only_when_fatal() -> None:
    s = ready()
    not_yours = p.ProtocolError(p.ErrorCode.NOT_IN_SESSION, "no")
    assert s.refused(not_yours) == [Refuse(not_yours)]
    unauthorized = p.ProtocolError(p.ErrorCode.UNAUTHORIZED, "bad token")
    assert s.refused(unauthorized) == [Refuse(unauthorized), Close(POLICY_VIOLATION, "bad token")]
    assert s.phase is Phase.CLOSED


def test_shutdown_says_so_then_closes() -> None:
    s = ready()
    assert s.shutdown(5.0) == [Reply(p.Shutdown(5.0)), Close(GOING_AWAY, texts.CLOSE_SHUTDOWN)]
    assert s.receive(json.dumps({"type": "cancel"}), 1.0) == []


# --- rate limits ---------------------------------------------------------------------------


def test_over_the_rate_messages_are_refused_then_the_client_is_closed() -> None:
    s = ready()
    cancel = json.dumps({"type": "cancel"})
    assert [s.receive(cancel, 0.0) for _ in range(4)] == [[CancelFind()]] * 4  # the burst
    for _ in range(3):  # the strikes
        assert codes(s.receive(cancel, 0.0)) == [p.ErrorCode.RATE_LIMITED]
    assert s.receive(cancel, 0.0) == [Close(POLICY_VIOLATION, texts.CLOSE_ABUSE, "abuse")]
    assert s.receive(cancel, 100.0) == []


def test_find_and_skip_share_a_cap_per_minute() -> None:
    s = ready(limits=SessionLimits(100.0, 100, 3, 3, 10.0))
    find, skip = json.dumps({"type": "find", "mode": "video"}), json.dumps({"type": "skip"})
    assert s.receive(find, 0.0) == [FindPartner("video", None)]
    assert s.receive(skip, 1.0) == [SkipPartner()]
    assert s.receive(find, 2.0) == [FindPartner("video", None)]
    assert codes(s.receive(skip, 3.0)) == [p.ErrorCode.RATE_LIMITED]
    assert s.receive(skip, 60.5) == [SkipPartner()]  # the first one has left the window


_FRAMES = st.sampled_from([
    HELLO,
    json.dumps({"type": "signal", "session": "s", "data": {}}),
    json.dumps({"type": "find", "mode": "video"}),
    json.dumps({"type": "skip"}),
    json.dumps({"type": "cancel"}),
    json.dumps({"type": "report", "session": "s", "reason": "x"}),
    json.dumps({"type": "nope"}),
    "[]",
    "{",
])


@settings(max_examples=300)
@given(steps=st.lists(st.tuples(_FRAMES, st.floats(0.0, 3.0)), max_size=60))
def test_any_sequence_keeps_the_limits(steps: list[tuple[str, float]]) -> None:
    """After any sequence: one greet at most, nothing after a close, and the backend asked
    no more often than the token bucket and the find cap allow."""
    s = session()
    now = 0.0
    greets = closes = 0
    taken: list[float] = []  # times of messages let through to the backend (after hello)
    finds: list[float] = []
    for frame, wait in steps:
        now += wait
        before = s.phase
        effects = s.receive(frame, now)
        if before is Phase.CLOSED:
            assert effects == []
            continue
        greets += sum(isinstance(e, Greet) for e in effects)
        closes += sum(isinstance(e, Close) for e in effects)
        assert all(not isinstance(e, Close) for e in effects[:-1])  # a close comes last
        asks = [e for e in effects if not isinstance(e, (Refuse, Close, Greet))]
        assert len(asks) <= 1
        if asks:
            taken.append(now)
        if any(isinstance(e, (FindPartner, SkipPartner)) for e in effects):
            finds.append(now)
        # The bucket: in any span, at most burst + rate * span messages go through.
        for start in taken:
            inside = [t for t in taken if start <= t <= now]
            assert len(inside) <= LIMITS.rate_burst + LIMITS.rate_messages * (now - start) + 1e-9
        assert len([t for t in finds if t > now - 60.0]) <= LIMITS.finds_per_minute
    assert greets <= 1 and closes <= 1


# --- resume ------------------------------------------------------------------------------------


def resuming() -> ClientSession:
    s = session()
    hello = json.dumps({"type": "hello", "protocol": 1, "resume": True})
    assert s.receive(hello, 0.0) == [Greet(p.Hello(protocol=1, resume=True))]
    return s


def test_resume_is_taken_only_as_the_first_request_of_a_resuming_client() -> None:
    resume = json.dumps({"type": "resume", "ticket": "t"})
    assert resuming().receive(resume, 0.1) == [ResumeSession("t")]
    for first in ({"type": "find", "mode": "video"}, {"type": "cancel"}, {"type": "leave"},
                  {"type": "skip"}, {"type": "resume", "ticket": "t"}):
        s = resuming()
        s.receive(json.dumps(first), 0.1)
        effects = s.receive(resume, 0.2)
        assert codes(effects) == ["bad_message"] and len(effects) == 1, first
    assert codes(ready().receive(resume, 0.1)) == ["bad_message"], "hello did not ask for resume"


def test_avoid_is_not_a_request_so_resume_may_follow_it() -> None:
    s = resuming()
    avoid = json.dumps({"type": "avoid", "tokens": ["a1.x", "a1.y"]})
    assert s.receive(avoid, 0.1) == [AvoidPartners(("a1.x", "a1.y"))]
    assert s.receive(json.dumps({"type": "resume", "ticket": "t"}), 0.2) == [ResumeSession("t")]
    assert s.receive(avoid, 0.3) == [AvoidPartners(("a1.x", "a1.y"))], "and at any time after"


def test_a_find_for_favourites_carries_its_tokens() -> None:
    find = json.dumps({"type": "find", "mode": "audio", "favourites": ["rendezvous-token-1", "rendezvous-token-1"]})
    assert ready().receive(find, 0.1) == [FindPartner("audio", None, None, None, ("rendezvous-token-1",))]


def test_a_resuming_client_keeps_its_session_through_a_shutdown() -> None:
    assert resuming().shutdown(5.0) == [Reply(p.Shutdown(5.0)), Close(GOING_AWAY, texts.CLOSE_SHUTDOWN, hold=True)]
