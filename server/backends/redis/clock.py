"""Redis' clock as one instance sees it, so `study.now` is on the clock of `study.started_at`.

With Redis, a session's `started_at` is Redis' clock (the pairing script's `TIME`: one clock
for every instance), while `now` is stamped as `matched` or `resumed` leaves an instance
(docs/protocol.md, "Study sessions"). A client counts down by `now - its own clock`, so an
instance whose clock is off by some seconds would shift its clients' countdowns by as much,
and two partners on two instances would disagree. Each instance therefore measures Redis'
clock against its own (`TIME`, after each lease beat) and stamps `now` on Redis' clock.
"""

from __future__ import annotations

MAX_ROUND_TRIP = 0.25  # seconds: a slower answer cannot place Redis' clock within a second


def offset_ms(sent: float, received: float, redis_seconds: int, redis_micros: int) -> float | None:
    """Redis' clock minus ours, in ms, from a `TIME` sent at `sent` and answered at `received`
    (our `time.time()`); None when the answer took too long to tell."""
    if not 0.0 <= received - sent <= MAX_ROUND_TRIP:
        return None
    return redis_seconds * 1000.0 + redis_micros / 1000.0 - (sent + received) / 2 * 1000.0
