"""The pure rate limits: a token bucket and a sliding-window cap, clock passed in."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.core.limits import TokenBucket, WindowCap


def test_bucket_allows_a_burst_then_refills_at_the_rate() -> None:
    bucket = TokenBucket(rate=2.0, burst=3, now=100.0)
    assert [bucket.allow(100.0) for _ in range(4)] == [True, True, True, False]
    assert not bucket.allow(100.4)  # 0.8 of a token
    assert bucket.allow(100.5)
    assert not bucket.allow(100.5)
    assert [bucket.allow(200.0) for _ in range(4)] == [True, True, True, False]  # capped at burst


def test_bucket_ignores_a_clock_that_goes_back() -> None:
    bucket = TokenBucket(rate=1.0, burst=1, now=10.0)
    assert bucket.allow(10.0)
    assert not bucket.allow(5.0)
    assert not bucket.allow(10.5)
    assert bucket.allow(11.0)


@given(st.lists(st.floats(min_value=0, max_value=5, allow_nan=False), max_size=200),
       st.floats(min_value=0.1, max_value=50), st.integers(min_value=1, max_value=20))
def test_bucket_never_allows_more_than_burst_plus_rate_times_time(
    gaps: list[float], rate: float, burst: int
) -> None:
    bucket, now, allowed = TokenBucket(rate, burst, 0.0), 0.0, 0
    for gap in gaps:
        now += gap
        allowed += bucket.allow(now)
        assert allowed <= burst + rate * now + 1e-9


def test_window_cap_counts_a_sliding_minute() -> None:
    cap = WindowCap(3, 60.0)
    assert [cap.allow(t) for t in (0.0, 10.0, 20.0, 30.0)] == [True, True, True, False]
    assert cap.count(30.0) == 3
    assert cap.allow(60.0)  # the event at 0 has left the window
    assert not cap.allow(69.0)
    assert cap.allow(70.5)


@given(st.lists(st.floats(min_value=0, max_value=30, allow_nan=False), max_size=300),
       st.integers(min_value=1, max_value=10))
def test_window_cap_never_exceeds_its_limit_in_any_window(gaps: list[float], limit: int) -> None:
    cap, now, accepted = WindowCap(limit, 60.0), 0.0, []
    for gap in gaps:
        now += gap
        if cap.allow(now):
            accepted.append(now)
    for i, t in enumerate(accepted):
        assert sum(1 for u in accepted[i:] if u < t + 60.0) <= limit


@pytest.mark.parametrize(("rate", "burst"), [(0, 1), (-1, 1), (1, 0)])
def test_bucket_refuses_nonsense(rate: float, burst: int) -> None:
    with pytest.raises(ValueError):
        TokenBucket(rate, burst, 0.0)
