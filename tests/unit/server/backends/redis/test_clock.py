"""Redis' clock against ours from one `TIME` (server/backends/redis/clock.py)."""

from __future__ import annotations

import pytest

from server.backends.redis.clock import MAX_ROUND_TRIP, offset_ms


def test_the_offset_is_taken_at_the_middle_of_the_round_trip() -> None:
    # Sent at 100.0, answered at 100.2: Redis read 190.1 s, 90 s ahead of our 100.1.
    assert offset_ms(100.0, 100.2, 190, 100_000) == pytest.approx(90_000.0)
    assert offset_ms(100.0, 100.0, 99, 500_000) == pytest.approx(-500.0)  # behind


@pytest.mark.parametrize("received", [100.0 + MAX_ROUND_TRIP + 0.01, 99.9])  # too slow; our clock stepped back
def test_an_answer_that_cannot_place_the_clock_is_none(received: float) -> None:
    assert offset_ms(100.0, received, 100, 0) is None
