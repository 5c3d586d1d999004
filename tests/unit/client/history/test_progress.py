"""Progress arithmetic on the local calendar: minutes per day, streaks, goals; across midnight,
DST changes and time zones."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from client.history.progress import DAYS_SHOWN, Session, minutes_by_day, progress, session_days, streaks

MADRID = ZoneInfo("Europe/Madrid")
TOKYO = ZoneInfo("Asia/Tokyo")
NEW_YORK = ZoneInfo("America/New_York")


def at(tz: ZoneInfo, y: int, mo: int, d: int, h: int = 12, mi: int = 0, fold: int = 0) -> dt.datetime:
    return dt.datetime(y, mo, d, h, mi, tzinfo=tz, fold=fold)


def session(start: dt.datetime, end: dt.datetime, minutes: float | None = None, checkout: str | None = None) -> Session:
    if minutes is None:
        minutes = (end.astimezone(dt.UTC) - start.astimezone(dt.UTC)).total_seconds() / 60
    return Session(start, end, minutes, 25, "maths", "video", "a goal", checkout)


def test_a_session_across_midnight_is_split_between_the_two_days():
    s = session(at(MADRID, 2026, 3, 10, 23, 40), at(MADRID, 2026, 3, 11, 0, 20))
    assert minutes_by_day([s], MADRID) == {dt.date(2026, 3, 10): 20.0, dt.date(2026, 3, 11): 20.0}
    # it finished on the 11th: that is the day it counts for in a streak
    assert session_days([s], MADRID) == {dt.date(2026, 3, 11)}


def test_the_split_is_by_share_when_minutes_are_not_wall_clock_minutes():
    # a session on a test server's short minute: 25 "minutes" over 10 s of wall clock
    start = at(MADRID, 2026, 3, 10, 23, 59).replace(second=55)
    s = Session(start, start + dt.timedelta(seconds=10), 25, 25, "", "audio")
    assert minutes_by_day([s], MADRID) == {dt.date(2026, 3, 10): 12.5, dt.date(2026, 3, 11): 12.5}


def test_the_same_sessions_fall_on_other_days_in_another_time_zone():
    # 22:30-23:30 UTC: the 10th in New York (evening), the 11th in Tokyo (morning)
    s = session(dt.datetime(2026, 3, 10, 22, 30, tzinfo=dt.UTC), dt.datetime(2026, 3, 10, 23, 30, tzinfo=dt.UTC))
    assert minutes_by_day([s], NEW_YORK) == {dt.date(2026, 3, 10): 60.0}
    assert minutes_by_day([s], TOKYO) == {dt.date(2026, 3, 11): 60.0}
    # 14:30-15:30 UTC crosses Tokyo's midnight (00:00 JST = 15:00 UTC), not New York's
    t = session(dt.datetime(2026, 3, 10, 14, 30, tzinfo=dt.UTC), dt.datetime(2026, 3, 10, 15, 30, tzinfo=dt.UTC))
    assert minutes_by_day([t], TOKYO) == {dt.date(2026, 3, 10): 30.0, dt.date(2026, 3, 11): 30.0}
    assert minutes_by_day([t], NEW_YORK) == {dt.date(2026, 3, 10): 60.0}


def test_a_day_is_23_or_25_hours_across_dst_changes():
    # Madrid springs forward on 29 March 2026 (02:00 -> 03:00): a 23-hour day.
    spring = session(at(MADRID, 2026, 3, 28, 23, 0), at(MADRID, 2026, 3, 30, 1, 0))
    days = minutes_by_day([spring], MADRID)
    assert days == {dt.date(2026, 3, 28): 60.0, dt.date(2026, 3, 29): 23 * 60.0, dt.date(2026, 3, 30): 60.0}
    # ... and falls back on 25 October 2026 (03:00 -> 02:00): a 25-hour day.
    autumn = session(at(MADRID, 2026, 10, 25, 0, 0), at(MADRID, 2026, 10, 26, 0, 0))
    assert minutes_by_day([autumn], MADRID) == {dt.date(2026, 10, 25): 25 * 60.0}
    # the hour that happens twice: 02:30 the second time is an hour after 02:30 the first time
    twice = session(at(MADRID, 2026, 10, 25, 2, 30), at(MADRID, 2026, 10, 25, 2, 30, fold=1))
    assert twice.minutes == 60.0 and minutes_by_day([twice], MADRID) == {dt.date(2026, 10, 25): 60.0}


def test_streaks_count_days_in_a_row():
    d = dt.date(2026, 3, 10)
    days = {d - dt.timedelta(days=k) for k in (0, 1, 2, 5, 6, 7, 8)}
    assert streaks(days, today=d) == (3, 4)
    # nothing yet today: yesterday's run still stands, until the day is over
    assert streaks(days, today=d + dt.timedelta(days=1)) == (3, 4)
    assert streaks(days, today=d + dt.timedelta(days=2)) == (0, 4)
    assert streaks(set(), today=d) == (0, 0)
    assert streaks({d}, today=d) == (1, 1)


def test_a_streak_holds_across_a_dst_change():
    days = session_days([session(at(MADRID, 2026, 3, day, 22), at(MADRID, 2026, 3, day, 23)) for day in (28, 29, 30)],
                        MADRID)
    assert streaks(days, today=dt.date(2026, 3, 30)) == (3, 3)


def test_a_streak_depends_on_the_time_zone():
    # 23:00 UTC on the 8th and 13:00 UTC on the 10th: the 8th and the 10th in New York (a gap),
    # the 9th and the 10th in Tokyo (two days in a row).
    sessions = [session(dt.datetime(2026, 3, 8, 23, 0, tzinfo=dt.UTC), dt.datetime(2026, 3, 8, 23, 30, tzinfo=dt.UTC)),
                session(dt.datetime(2026, 3, 10, 13, 0, tzinfo=dt.UTC), dt.datetime(2026, 3, 10, 13, 30, tzinfo=dt.UTC))]
    now = dt.datetime(2026, 3, 10, 14, 0, tzinfo=dt.UTC)  # the 10th in both
    ny, tokyo = progress(sessions, now, NEW_YORK), progress(sessions, now, TOKYO)
    assert (ny.current_streak, ny.longest_streak) == (1, 1)
    assert (tokyo.current_streak, tokyo.longest_streak) == (2, 2)
    # twelve hours on it is the 11th in Tokyo (the run stands until the day is over), still the 10th in New York
    later = now + dt.timedelta(hours=12)
    assert progress(sessions, later, TOKYO).current_streak == 2
    assert progress(sessions, later, NEW_YORK).current_streak == 1
    assert progress(sessions, now + dt.timedelta(days=2), TOKYO).current_streak == 0


def test_progress_shows_28_days_and_counts_goals():
    now = at(MADRID, 2026, 3, 31, 18)
    sessions = [
        session(at(MADRID, 2026, 3, 31, 9), at(MADRID, 2026, 3, 31, 9, 50), 50, "yes"),
        session(at(MADRID, 2026, 3, 30, 9), at(MADRID, 2026, 3, 30, 9, 25), 25, "partly"),
        session(at(MADRID, 2026, 3, 4, 9), at(MADRID, 2026, 3, 4, 9, 25), 25, "yes"),  # the first day shown
        session(at(MADRID, 2026, 3, 3, 9), at(MADRID, 2026, 3, 3, 9, 25), 25, "yes"),  # before it
        session(at(MADRID, 2026, 3, 31, 19), at(MADRID, 2026, 3, 31, 19, 25), 25, "yes"),  # not finished yet at `now`
    ]
    p = progress(sessions, now, MADRID)
    assert len(p.days) == DAYS_SHOWN
    assert p.days[0] == (dt.date(2026, 3, 4), 25.0) and p.days[-1] == (dt.date(2026, 3, 31), 50.0)
    assert p.days[-2] == (dt.date(2026, 3, 30), 25.0) and sum(m for _, m in p.days) == 100.0
    assert [d for d, _ in p.days] == [dt.date(2026, 3, 4) + dt.timedelta(days=k) for k in range(DAYS_SHOWN)]
    assert (p.current_streak, p.longest_streak, p.goals_done, p.sessions) == (2, 2, 3, 4)


def test_a_session_refuses_what_cannot_be():
    start = at(MADRID, 2026, 3, 10)
    with pytest.raises(ValueError):
        Session(start.replace(tzinfo=None), start, 1, None, "", "video")
    with pytest.raises(ValueError):
        Session(start, start - dt.timedelta(minutes=1), 1, None, "", "video")
    with pytest.raises(ValueError):
        Session(start, start, 1, None, "", "video", checkout="maybe")
