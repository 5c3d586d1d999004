"""How long a call or a search has run, as a person reads a clock (not a sentence: never translated)."""

from __future__ import annotations


def duration(seconds: float) -> str:
    """'0:07', '12:34', '1:02:03': the clock format people read at a glance."""
    total = max(0, int(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes}:{secs:02d}"


def session_clock(now: float, *, until: float | None, started_at: float | None) -> str:
    """A study session's clock, the same on the call page and in the mini window: the time left
    until `until` (a second shows until it is over, then 0:00), or with no end (an open session)
    the time since `started_at`; "" before any session."""
    if until is not None:
        return duration(max(0.0, until - now) + 0.999)
    return duration(now - started_at) if started_at is not None else ""
