"""The study session's pure core (client/study.py): phases, countdown and clock offset,
from the terms in `study` and what both sides say (docs/protocol.md, the phase table)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from client.study import (
    BREAK,
    CHECK_IN,
    CHECK_OUT,
    FOCUS,
    Checkout,
    StudyRefused,
    StudySession,
    StudyState,
    chimes,
)
from server.core import protocol as p

MIN = 60_000
T0 = 1_764_900_000_000  # the server's started_at, ms


def study(length: int | None = 50, talk: str = "talk", minute: int = MIN, now: int = T0) -> p.Study:
    ends = None if length is None else T0 + length * minute
    return p.Study(length=length, talk=talk, started_at=T0, ends_at=ends, minute=minute, now=now)


def at(ms: int, offset_ms: int = 0) -> float:
    """Our clock (seconds) when the server's reads `ms`, our clock being `offset_ms` behind."""
    return (ms - offset_ms) / 1000


def session(length: int | None = 50, offset_ms: int = 0, minute: int = MIN) -> StudySession:
    return StudySession(study(length, minute=minute), at(T0, offset_ms))


def test_check_in_lasts_two_minutes_then_focus_until_the_end() -> None:
    s = session()
    assert s.phase_at(at(T0)) == (CHECK_IN, at(T0 + 2 * MIN))
    assert s.phase_at(at(T0 + 2 * MIN)) == (FOCUS, at(T0 + 50 * MIN))
    assert s.phase_at(at(T0 + 50 * MIN)) == (CHECK_OUT, None)
    assert s.countdown(at(T0 + 49 * MIN)) == 60.0
    assert s.countdown(at(T0 + 51 * MIN)) == 0.0


def test_check_in_ends_when_both_are_ready() -> None:
    s = session()
    s.set_ready(at(T0 + 10_000))
    assert s.phase_at(at(T0 + 20_000))[0] == CHECK_IN  # only one of the two
    assert s.partner_said(StudyState(goal="ch. 3", ready=True), at(T0 + 30_000)) == ["goal", "ready"]
    assert s.phase_at(at(T0 + 30_000)) == (FOCUS, at(T0 + 50 * MIN))


def test_an_open_session_has_no_end_until_someone_checks_out() -> None:
    s = session(length=None)
    assert s.countdown(at(T0)) is None
    assert s.phase_at(at(T0 + 500 * MIN)) == (FOCUS, None)
    s.partner_said(StudyState(checkout=Checkout("partly", "half")), at(T0 + 600 * MIN))
    assert s.phase_at(at(T0 + 600 * MIN)) == (CHECK_OUT, None)


def test_a_checkout_before_the_end_is_refused_and_changes_nothing() -> None:
    s = session()
    with pytest.raises(StudyRefused):
        s.partner_said(StudyState(goal="x", checkout=Checkout("yes")), at(T0 + 10 * MIN))
    assert s.partner == StudyState()
    # within the 5 s allowed for the clocks, it is taken
    assert s.partner_said(StudyState(checkout=Checkout("yes")), at(T0 + 50 * MIN - 4000)) == ["checkout"]


def test_the_pomodoro_breaks_at_minute_25_of_each_half_hour() -> None:
    s = session(length=75)
    s.set_pomodoro(True, at(T0 + 3 * MIN))
    assert s.phase_at(at(T0 + 24 * MIN)) == (FOCUS, at(T0 + 25 * MIN))
    assert s.phase_at(at(T0 + 27 * MIN)) == (BREAK, at(T0 + 30 * MIN))
    assert s.phase_at(at(T0 + 56 * MIN)) == (BREAK, at(T0 + 60 * MIN))
    assert s.phase_at(at(T0 + 70 * MIN)) == (FOCUS, at(T0 + 75 * MIN))  # the end comes first


def test_the_later_pomodoro_switch_holds_and_a_tie_is_on() -> None:
    s = session()
    s.set_pomodoro(True, at(T0 + MIN))
    assert s.partner_said(StudyState(pomodoro=(False, T0 + 2 * MIN)), at(T0 + 2 * MIN)) == ["pomodoro"]
    assert not s.pomodoro_on()
    s.set_pomodoro(True, at(T0 + 2 * MIN))
    assert s.pomodoro_on()


def test_be_right_back_ends_by_itself_after_five_minutes_or_on_return() -> None:
    s = session()
    s.partner_said(StudyState(brb=T0 + 10 * MIN), at(T0 + 5 * MIN))
    assert s.partner_brb(at(T0 + 6 * MIN)) == at(T0 + 10 * MIN)
    assert s.next_change(at(T0 + 6 * MIN)) == at(T0 + 10 * MIN)
    assert s.partner_brb(at(T0 + 10 * MIN)) is None
    s.set_brb(True, at(T0 + 20 * MIN))
    assert s.mine.brb == T0 + 25 * MIN
    s.set_brb(False, at(T0 + 21 * MIN))
    assert s.mine.brb is None


def test_a_short_minute_scales_check_in_and_the_length() -> None:
    s = session(length=25, minute=100)
    assert s.phase_at(at(T0 + 250)) == (FOCUS, at(T0 + 2500))


def test_chimes_at_the_end_of_focus_and_each_pomodoro_change() -> None:
    assert chimes(FOCUS, CHECK_OUT) and chimes(FOCUS, BREAK) and chimes(BREAK, FOCUS)
    assert not chimes(CHECK_IN, FOCUS) and not chimes(None, CHECK_IN) and not chimes(FOCUS, FOCUS)


def test_goal_and_note_are_cut_to_their_limits_and_done_is_checked() -> None:
    s = session()
    s.set_goal("g" * 200)
    assert len(s.mine.goal) == 140
    with pytest.raises(ValueError):
        s.check_out("maybe", "", at(T0 + 50 * MIN))


@given(offset_ms=st.integers(-3_600_000, 3_600_000), after_ms=st.integers(0, 80 * MIN),
       length=st.sampled_from([25, 50, 75, None]), pomodoro=st.booleans())  # fmt: skip
def test_two_clocks_that_disagree_show_the_same_session(offset_ms: int, after_ms: int, length: int | None,
                                                        pomodoro: bool) -> None:  # fmt: skip
    """A client whose clock is off (90 s, or an hour) shows the same phase and countdown."""
    right, off = session(length), session(length, offset_ms)
    if pomodoro:
        right.set_pomodoro(True, at(T0))
        off.set_pomodoro(True, at(T0, offset_ms))
    t = T0 + after_ms
    assert right.countdown(at(t)) == off.countdown(at(t, offset_ms))
    (phase_a, until_a), (phase_b, until_b) = right.phase_at(at(t)), off.phase_at(at(t, offset_ms))
    assert phase_a == phase_b
    assert (until_a is None) == (until_b is None)
    if until_a is not None and until_b is not None:
        assert abs((until_a - at(t)) - (until_b - at(t, offset_ms))) < 1e-6


@given(steps=st.lists(st.integers(0, 80 * MIN), max_size=20), length=st.sampled_from([25, 50, None]),
       pomodoro=st.booleans())  # fmt: skip
def test_the_next_change_is_where_the_phase_changes(steps: list[int], length: int | None, pomodoro: bool) -> None:
    """Just before `next_change` the phase is still the one asked about; at it, `until` is passed."""
    s = session(length)
    if pomodoro:
        s.set_pomodoro(True, at(T0))
    for t in sorted(steps):
        phase, until = s.phase_at(at(t))
        change = s.next_change(at(t))
        if until is not None:
            assert change is not None and change <= until
            assert s.phase_at(until - 0.001)[0] == phase
            assert s.phase_at(until)[0] != phase


def test_minutes_studied_run_from_the_start_to_check_out() -> None:
    s = session(25, offset_ms=3000)  # our clock 3 s behind the server's: the server's minutes count
    assert s.studied_minutes(at(T0 + 10 * MIN, 3000)) == 10.0
    assert s.studied_minutes(at(T0 + 40 * MIN, 3000)) == 25.0  # a call that stays on after the end
    short = session(25, minute=200)  # a test server's 0.2 s minute
    assert short.studied_minutes(at(T0 + 1000)) == 5.0
    open_session = session(None)
    assert open_session.studied_minutes(at(T0 + 90 * MIN)) == 90.0
    open_session.check_out("yes", "", at(T0 + 42 * MIN))
    assert open_session.studied_minutes(at(T0 + 60 * MIN)) == 42.0
    assert session().studied_minutes(at(T0 - 5000)) == 0.0  # never below 0 on a clock that is off
