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
