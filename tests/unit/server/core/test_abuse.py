"""Report penalties and the find/skip cap, on a simulated clock."""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from server.config import ServerConfig
from server.core.abuse import ReportLedger
from server.core.limits import per_minute


def test_reports_from_distinct_partners_within_the_window_start_a_penalty() -> None:
    ledger = ReportLedger(threshold=3, window=600, penalty=900)
    assert ledger.record("a", "x", "rude", 0.0) == 0.0
    assert ledger.record("a", "x", "rude again", 10.0) == 0.0  # the same partner counts once
    assert ledger.record("b", "x", "spam", 20.0) == 0.0
    assert ledger.refused_for("x", 20.0) == 0.0
    assert ledger.record("c", "x", "", 30.0) == 900.0
    assert ledger.refused_for("x", 30.0) == 900.0
    assert ledger.refused_for("x", 929.0) == 1.0
    assert ledger.refused_for("x", 930.0) == 0.0
    assert ledger.refused_for("a", 30.0) == 0.0  # nobody else is touched


def test_reports_older_than_the_window_do_not_count() -> None:
    ledger = ReportLedger(threshold=3, window=600, penalty=900)
    ledger.record("a", "x", "", 0.0)
    ledger.record("b", "x", "", 300.0)
    assert ledger.record("c", "x", "", 601.0) == 0.0  # a's report fell out
    assert ledger.record("d", "x", "", 700.0) == 900.0


def test_a_report_keeps_who_when_and_why_but_no_more() -> None:
    ledger = ReportLedger(threshold=3, window=600, penalty=900)
    ledger.record("a", "x", "shared their screen with ads", 5.0)
    (record,) = ledger.records()
    assert (record.reporter, record.reported, record.reason, record.at) == (
        "a", "x", "shared their screen with ads", 5.0)
    assert ledger.record("x", "x", "", 6.0) == 0.0  # nobody reports themselves


@given(st.lists(st.tuples(st.integers(0, 30), st.integers(0, 30), st.floats(0, 50)), max_size=300))
def test_memory_is_bounded_by_the_window(events: list[tuple[int, int, float]]) -> None:
    ledger = ReportLedger(threshold=3, window=100, penalty=200)
    now = 0.0
    for reporter, reported, step in events:
        now += step
        ledger.record(f"r{reporter}", f"c{reported}", "", now)
        assert all(r.at > now - 100 for r in ledger.records())
    ledger.prune(now + 1000)
    assert ledger.size() == 0


def test_a_fair_user_skipping_every_few_seconds_for_an_hour_is_never_refused() -> None:
    # The shell's find/skip cap with its default, on a simulated clock: one
    # skip every 2-6 s (a person who dislikes every partner), with bursts of
    # three quick skips in a row now and then, for an hour.
    cap = per_minute(ServerConfig().rate_finds_per_minute)
    rng = random.Random(7)
    now, requests = 0.0, 0
    while now < 3600.0:
        burst = 3 if rng.random() < 0.05 else 1
        for _ in range(burst):
            assert cap.allow(now), f"a fair user was refused at t={now:.1f}s after {requests} requests"
            requests += 1
            now += 0.5
        now += rng.uniform(2.0, 6.0)
    assert requests > 800


def test_a_flood_of_skips_is_capped() -> None:
    cap = per_minute(ServerConfig().rate_finds_per_minute)
    allowed = sum(cap.allow(i * 0.01) for i in range(1000))  # 100 a second for 10 s
    assert allowed == ServerConfig().rate_finds_per_minute
    assert cap.allow(61.0)  # and it recovers a minute later
