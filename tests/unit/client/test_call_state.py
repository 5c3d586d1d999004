"""The session model's table: every legal move, and illegal ones named by their state."""

from __future__ import annotations

import pytest

from client.session import (
    AFTER_CALL,
    IN_SESSION,
    TRANSITIONS,
    CallState,
    ClientSession,
    InvalidStateError,
    Trigger,
)

S, T = CallState, Trigger

# The whole table written out by hand, so a changed table is a deliberate act.
EXPECTED = {
    (S.IDLE, T.QUEUED): S.QUEUED,
    (S.QUEUED, T.QUEUED): S.QUEUED,
    (S.PARTNER_LEFT, T.QUEUED): S.QUEUED,
    (S.SKIPPED, T.QUEUED): S.QUEUED,
    (S.ENDED, T.QUEUED): S.QUEUED,
    (S.IDLE, T.MATCHED): S.MATCHED,
    (S.QUEUED, T.MATCHED): S.MATCHED,
    (S.PARTNER_LEFT, T.MATCHED): S.MATCHED,
    (S.SKIPPED, T.MATCHED): S.MATCHED,
    (S.ENDED, T.MATCHED): S.MATCHED,
    (S.MATCHED, T.CONNECT): S.CONNECTING,
    (S.CONNECTING, T.MEDIA_UP): S.IN_CALL,
    (S.MATCHED, T.PARTNER_LEFT): S.PARTNER_LEFT,
    (S.CONNECTING, T.PARTNER_LEFT): S.PARTNER_LEFT,
    (S.IN_CALL, T.PARTNER_LEFT): S.PARTNER_LEFT,
    (S.MATCHED, T.SKIP): S.SKIPPED,
    (S.CONNECTING, T.SKIP): S.SKIPPED,
    (S.IN_CALL, T.SKIP): S.SKIPPED,
    (S.QUEUED, T.SKIP): S.QUEUED,
    (S.MATCHED, T.LEAVE): S.ENDED,
    (S.CONNECTING, T.LEAVE): S.ENDED,
    (S.IN_CALL, T.LEAVE): S.ENDED,
    **{(s, T.IDLE): S.IDLE for s in S},
    (S.MATCHED, T.LOST): S.ENDED,
    (S.CONNECTING, T.LOST): S.ENDED,
    (S.IN_CALL, T.LOST): S.ENDED,
    (S.IDLE, T.LOST): S.IDLE,
    (S.QUEUED, T.LOST): S.IDLE,
    (S.PARTNER_LEFT, T.LOST): S.IDLE,
    (S.SKIPPED, T.LOST): S.IDLE,
    (S.ENDED, T.LOST): S.IDLE,
    # A session ticket keeps the session through a lost connection (client/session.py on_lost).
    (S.MATCHED, T.AWAY): S.MATCHED,
    (S.CONNECTING, T.AWAY): S.CONNECTING,
    (S.IN_CALL, T.AWAY): S.IN_CALL,
}


def machine_in(state: CallState) -> ClientSession:
    """A machine brought to `state` by legal moves only."""
    m = ClientSession()
    path = {
        S.IDLE: [],
        S.QUEUED: [T.QUEUED],
        S.MATCHED: [T.QUEUED, T.MATCHED],
        S.CONNECTING: [T.QUEUED, T.MATCHED, T.CONNECT],
        S.IN_CALL: [T.QUEUED, T.MATCHED, T.CONNECT, T.MEDIA_UP],
        S.PARTNER_LEFT: [T.QUEUED, T.MATCHED, T.CONNECT, T.PARTNER_LEFT],
        S.SKIPPED: [T.QUEUED, T.MATCHED, T.SKIP],
        S.ENDED: [T.QUEUED, T.MATCHED, T.CONNECT, T.MEDIA_UP, T.LEAVE],
    }[state]
    for trigger in path:
        m.fire(trigger, session="s1", initiator=True, now=10.0)
    assert m.state is state
    return m


def test_table_is_exactly_the_expected_one() -> None:
    assert TRANSITIONS == EXPECTED


# Sorted outside the decorator: inside it, parametrize's loose parameter type makes mypy
# infer the lambda's argument as `object`.
LEGAL = sorted(EXPECTED, key=lambda k: (k[0].value, k[1].value))


@pytest.mark.parametrize(("start", "trigger"), LEGAL)
def test_every_legal_transition(start: CallState, trigger: Trigger) -> None:
    m = machine_in(start)
    transition = m.fire(trigger, session="s2", now=20.0)
    assert m.state is EXPECTED[(start, trigger)]
    assert transition.before is start and transition.after is m.state
    # Leaving the session states ends exactly that session and forgets it.
    if start in IN_SESSION and m.state not in IN_SESSION:
        assert transition.ended_session == "s1"
        assert m.session is None and m.matched_at is None
    else:
        assert transition.ended_session is None


ILLEGAL = [(s, t) for s in S for t in T if (s, t) not in EXPECTED]


@pytest.mark.parametrize(("start", "trigger"), ILLEGAL)
def test_illegal_events_raise_naming_the_state(start: CallState, trigger: Trigger) -> None:
    m = machine_in(start)
    assert not m.can(trigger)
    with pytest.raises(InvalidStateError, match=start.name) as info:
        m.fire(trigger, session="s2")
    assert info.value.state is start and info.value.trigger is trigger
    assert m.state is start  # nothing changed


def test_matched_records_the_session_and_stale_sessions_are_not_current() -> None:
    m = machine_in(S.QUEUED)
    m.fire(T.MATCHED, session="abc", initiator=True, now=5.0)
    assert (m.session, m.initiator, m.matched_at) == ("abc", True, 5.0)
    assert m.is_current("abc") and not m.is_current("old")
    m.fire(T.SKIP)
    assert not m.is_current("abc")  # a late signal for the skipped call is stale
    m.fire(T.QUEUED)
    m.fire(T.MATCHED, session="def", now=6.0)
    assert m.is_current("def") and not m.is_current("abc") and m.initiator is False


def test_matched_without_session_is_refused() -> None:
    m = machine_in(S.QUEUED)
    with pytest.raises(ValueError):
        m.fire(T.MATCHED)
    assert m.state is S.QUEUED


def test_a_full_evening() -> None:
    """find, call, skip, call, partner leaves, find, call, end."""
    m = ClientSession()
    seen = []
    for trigger, session in [
        (T.QUEUED, None), (T.MATCHED, "a"), (T.CONNECT, None), (T.MEDIA_UP, None), (T.SKIP, None),
        (T.QUEUED, None), (T.MATCHED, "b"), (T.CONNECT, None), (T.MEDIA_UP, None), (T.PARTNER_LEFT, None),
        (T.QUEUED, None), (T.MATCHED, "c"), (T.CONNECT, None), (T.LEAVE, None), (T.IDLE, None),
    ]:
        seen.append(m.fire(trigger, session=session).after)
    assert seen[-2:] == [S.ENDED, S.IDLE]
    assert seen.count(S.IN_CALL) == 2 and S.PARTNER_LEFT in seen and S.SKIPPED in seen


def test_state_groups_partition_the_states() -> None:
    assert IN_SESSION | AFTER_CALL | {S.IDLE, S.QUEUED} == set(S)
    assert not IN_SESSION & AFTER_CALL
