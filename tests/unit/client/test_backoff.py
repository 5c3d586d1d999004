"""The reconnect schedule: exponential, capped, jittered within its bounds."""

from __future__ import annotations

import random

import pytest

from client.backoff import Backoff, schedule


def test_without_jitter_the_schedule_doubles_up_to_the_cap() -> None:
    b = Backoff(base=0.5, factor=2.0, cap=8.0, jitter=0.0)
    assert schedule(b, 7) == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0]


def test_jitter_stays_within_its_band() -> None:
    b = Backoff(base=1.0, factor=2.0, cap=30.0, jitter=0.5)
    assert b.delay(3, rand=lambda: 0.0) == 8.0  # the ceiling
    assert b.delay(3, rand=lambda: 0.999999) == pytest.approx(4.0, abs=1e-4)  # half of it
    rng = random.Random(1)
    for attempt in range(40):
        d = b.delay(attempt, rng.random)
        ceiling = min(30.0, 2.0**attempt)
        assert ceiling * 0.5 < d <= ceiling


def test_jitter_spreads_clients_apart() -> None:
    b = Backoff()
    rng = random.Random(7)
    delays = {round(b.delay(4, rng.random), 3) for _ in range(50)}
    assert len(delays) > 40


def test_never_above_the_cap_even_after_a_long_outage() -> None:
    b = Backoff(cap=30.0)
    assert b.delay(10_000, rand=lambda: 0.0) == 30.0


def test_negative_attempt_is_refused() -> None:
    with pytest.raises(ValueError):
        Backoff().delay(-1)
