"""A finished study session, and progress arithmetic on the local calendar: a pure core.

No sqlite, no Qt, no clock: every function takes the time zone (a `zoneinfo.ZoneInfo`, whose
rules know DST) and, where it matters, `now`. Days are local calendar days, so a day is 23 or 25 hours long across a DST
change and a session that crosses midnight counts on both sides of it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

DAYS_SHOWN = 28  # the chart: the last four weeks, today included
DONE = ("yes", "partly", "no")


@dataclass(frozen=True)
class Session:
    """A finished study session as kept in the history.

    `started_at` and `ended_at` are aware datetimes (any zone; the store keeps UTC). `minutes`
    is the time studied, check-in to check-out, in the session's minutes; `length` the agreed
    length (None: open). `checkout` is my own check-out ("yes" | "partly" | "no", None when I
    never checked out). `partner` is the partner's nickname when they are a favourite (None
    until favourites exist, and for anyone else)."""

    started_at: dt.datetime
    ended_at: dt.datetime
    minutes: float
    length: int | None
    subject: str
    mode: str  # "video" | "audio"
    goal: str = ""
    checkout: str | None = None
    note: str = ""
    partner: str | None = None

    def __post_init__(self) -> None:
        if self.started_at.tzinfo is None or self.ended_at.tzinfo is None:
            raise ValueError("a session's times must be aware datetimes")
        if self.ended_at < self.started_at:
            raise ValueError("a session cannot end before it starts")
        if self.minutes < 0:
            raise ValueError("minutes studied cannot be negative")
        if self.checkout is not None and self.checkout not in DONE:
            raise ValueError(f"checkout must be one of {DONE} or None, not {self.checkout!r}")


@dataclass(frozen=True)
class Progress:
    days: tuple[tuple[dt.date, float], ...]  # (local day, minutes), oldest first, DAYS_SHOWN of them
    current_streak: int
    longest_streak: int
    goals_done: int
    sessions: int


def _local_midnight(day: dt.date, tz: dt.tzinfo) -> dt.datetime:
    """The first instant of a local day, in UTC. Arithmetic stays in UTC: Python subtracts and
    compares two datetimes of the same zone by their wall clocks, which is wrong across DST.
    Where a zone skips midnight itself, zoneinfo's fold-0 reading lands on the first instant
    of the day, which is what we want."""
    return dt.datetime.combine(day, dt.time(0), tzinfo=tz).astimezone(dt.UTC)


def minutes_by_day(sessions: Iterable[Session], tz: dt.tzinfo) -> dict[dt.date, float]:
    """Minutes studied per local day. A session that crosses midnight is split in proportion to
    the time of it on each side (its minutes may be the server's test minutes, so the split is by
    share, not by wall-clock minutes)."""
    totals: dict[dt.date, float] = {}
    for s in sessions:
        start, end = s.started_at.astimezone(dt.UTC), s.ended_at.astimezone(dt.UTC)
        day = start.astimezone(tz).date()
        span = (end - start).total_seconds()
        if span <= 0:
            totals[day] = totals.get(day, 0.0) + s.minutes
            continue
        while True:
            next_midnight = _local_midnight(day + dt.timedelta(days=1), tz)
            piece = (min(end, next_midnight) - max(start, _local_midnight(day, tz))).total_seconds()
            if piece > 0:
                totals[day] = totals.get(day, 0.0) + s.minutes * piece / span
            if end <= next_midnight:
                break
            day += dt.timedelta(days=1)
    return totals


def session_days(sessions: Iterable[Session], tz: dt.tzinfo) -> set[dt.date]:
    """The local days on which at least one session finished."""
    return {s.ended_at.astimezone(tz).date() for s in sessions}


def streaks(days: set[dt.date], today: dt.date) -> tuple[int, int]:
    """(current, longest) runs of consecutive days. The current run ends today, or yesterday
    when nothing is finished yet today: a streak is not broken until the day is over."""
    longest = run = 0
    previous: dt.date | None = None
    for day in sorted(days):
        run = run + 1 if previous is not None and day - previous == dt.timedelta(days=1) else 1
        longest = max(longest, run)
        previous = day
    current = 0
    day = today if today in days else today - dt.timedelta(days=1)
    while day in days:
        current += 1
        day -= dt.timedelta(days=1)
    return current, longest


def progress(sessions: Iterable[Session], now: dt.datetime, tz: dt.tzinfo) -> Progress:
    """What the History view shows, as of `now` (aware) in time zone `tz`."""
    finished = [s for s in sessions if s.ended_at.astimezone(dt.UTC) <= now.astimezone(dt.UTC)]
    today = now.astimezone(tz).date()
    per_day = minutes_by_day(finished, tz)
    shown = tuple((day, per_day.get(day, 0.0))
                  for day in (today - dt.timedelta(days=back) for back in range(DAYS_SHOWN - 1, -1, -1)))
    current, longest = streaks(session_days(finished, tz), today)
    goals = sum(1 for s in finished if s.checkout == "yes")
    return Progress(shown, current, longest, goals, len(finished))
