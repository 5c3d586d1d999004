"""Rate limits as pure objects: the clock is passed in, nothing sleeps.

The shell keeps one of each per connection and asks before acting, so a
flooding client only spends its own budget.
"""

from __future__ import annotations


class TokenBucket:
    """`rate` tokens a second, at most `burst` saved up; one token per message."""

    __slots__ = ("_last", "_tokens", "burst", "rate")

    def __init__(self, rate: float, burst: int, now: float) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be positive and burst at least 1")
        self.rate = rate
        self.burst = burst
        self._tokens = float(burst)
        self._last = now

    def allow(self, now: float) -> bool:
        # A clock that goes backwards (it should not) must not mint tokens. (Written with
        # comparisons rather than min/max: the relay asks this for every message.)
        elapsed = now - self._last
        if elapsed > 0.0:
            self._last = now
            tokens = self._tokens + elapsed * self.rate
            self._tokens = tokens if tokens < self.burst else float(self.burst)
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False

    def tokens(self, now: float) -> float:
        return min(float(self.burst), self._tokens + max(0.0, now - self._last) * self.rate)


class WindowCap:
    """At most `limit` events in any sliding window of `window` seconds.

    Memory is bounded by `limit`: only the accepted events' times are kept.
    """

    __slots__ = ("_times", "limit", "window")

    def __init__(self, limit: int, window: float = 60.0) -> None:
        if limit < 1 or window <= 0:
            raise ValueError("limit must be at least 1 and window positive")
        self.limit = limit
        self.window = window
        # A list, not a deque: one per connection, and an empty deque takes ~600 bytes.
        self._times: list[float] = []

    def allow(self, now: float) -> bool:
        times = self._times
        expired = 0
        while expired < len(times) and times[expired] <= now - self.window:
            expired += 1
        if expired:
            del times[:expired]
        if len(times) >= self.limit:
            return False
        times.append(now)
        return True

    def count(self, now: float) -> int:
        return sum(1 for t in self._times if t > now - self.window)


def per_minute(limit: int) -> WindowCap:
    return WindowCap(limit, 60.0)
