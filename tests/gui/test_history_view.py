"""The History view on a history file the test fills: the numbers shown, the chart's 28 bars, CSV
export, and the lobby's History button and H key."""

from __future__ import annotations

import csv
import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from PySide6.QtCore import Qt

from client import messages
from client.history.progress import Session
from client.history.store import COLUMNS, HistoryStore
from client.ui.views.history import HistoryDialog

MADRID = ZoneInfo("Europe/Madrid")
NOW = dt.datetime(2026, 3, 31, 18, 0, tzinfo=MADRID)  # Madrid has been on summer time since the 29th


def at(day: int, hour: int, minute: int = 0, month: int = 3) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=MADRID)


def kept(start: dt.datetime, minutes: float, checkout: str | None = "yes", length: int | None = 25) -> Session:
    return Session(start, start + dt.timedelta(minutes=minutes + 2), minutes, length, "física", "video",
                   "a goal", checkout)


SESSIONS = [
    kept(at(2, 9), 25),  # before the chart's first day: counts for the longest streak only
    kept(at(3, 9), 25),
    kept(at(4, 9), 50, "partly", 50),  # the chart's first day
    kept(at(5, 9), 25),
    kept(at(6, 23, 30), 60, "no", None),  # split at midnight; finished on the 7th
    kept(at(29, 10), 25),  # the DST day
    kept(at(30, 10), 25),
    kept(at(31, 8), 25),
    kept(at(31, 11), 50, "yes", 50),
]


@pytest.fixture
def store(tmp_path):
    with HistoryStore(tmp_path / "history.sqlite3") as h:
        for s in SESSIONS:
            h.add(s)
        yield h


def dialog(qtbot, store: HistoryStore) -> HistoryDialog:
    d = HistoryDialog(store, tz=MADRID, now=lambda: NOW)
    qtbot.addWidget(d)
    return d


def test_the_numbers_and_the_chart_match_the_history(qtbot, store):
    d = dialog(qtbot, store)
    d.show()
    values = d.bar_values()
    assert len(values) == 28 and d.series.count() == 1 and d.bars.count() == 28
    days = [dt.date(2026, 3, 4) + dt.timedelta(days=k) for k in range(28)]
    assert d.days_axis.categories() == [str(day.day) for day in days]
    expected = dict.fromkeys(days, 0.0)
    expected.update({dt.date(2026, 3, 4): 50.0, dt.date(2026, 3, 5): 25.0, dt.date(2026, 3, 29): 25.0,
                     dt.date(2026, 3, 30): 25.0, dt.date(2026, 3, 31): 75.0})
    # 23:30-00:32 on the 6th: 30 of its 62 minutes before midnight, so 30/62 of the 60 studied
    expected[dt.date(2026, 3, 6)] = round(60 * 30 / 62, 1)
    expected[dt.date(2026, 3, 7)] = round(60 * 32 / 62, 1)
    assert values == pytest.approx([expected[day] for day in days])
    assert d.current_streak.text() == "3"  # 29, 30, 31
    # 2 to 5; the session over midnight finished on the 7th, so nothing finished on the 6th
    assert d.longest_streak.text() == "4"
    assert d.goals_done.text() == "7"
    assert d.total_minutes.text() == str(50 + 25 + 60 + 25 + 25 + 75)
    assert d.minutes_axis.min() == 0 and 75 <= d.minutes_axis.max() <= 100  # the tallest bar fits
    assert not d.empty.isVisible()


def test_an_empty_history_says_what_will_show(qtbot, tmp_path):
    with HistoryStore(tmp_path / "empty.sqlite3") as h:
        d = dialog(qtbot, h)
        d.show()
        assert d.bar_values() == [0.0] * 28 and d.current_streak.text() == "0" and d.goals_done.text() == "0"
        assert d.empty.isVisible() and d.empty.text() == messages.HISTORY_EMPTY


def test_refresh_shows_a_session_kept_since(qtbot, store):
    d = dialog(qtbot, store)
    store.add(kept(at(31, 15), 25))
    assert d.bar_values()[-1] == 75.0
    d.refresh()
    assert d.bar_values()[-1] == 100.0 and d.goals_done.text() == "8"


def test_export_csv_writes_every_session(qtbot, store, tmp_path):
    d = dialog(qtbot, store)
    path = tmp_path / "out.csv"
    assert d.export_csv(str(path))
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == list(COLUMNS) and len(rows) == len(SESSIONS)
    assert rows[0]["subject"] == "física" and rows[4]["checkout"] == "no" and rows[4]["length"] == ""
    assert d.export_status.text() == messages.HISTORY_EXPORTED.format(count=len(SESSIONS), path=path)
    # a place that cannot be written: said in the dialog, nothing raised
    assert not d.export_csv(str(tmp_path))
    assert d.export_status.text().startswith(messages.HISTORY_EXPORT_FAILED.split("{")[0])


def test_the_lobby_opens_the_history(make_harness, qtbot, store):
    h = make_harness(history=store)
    w = h.window
    assert w.lobby.history_button.isEnabled()
    qtbot.mouseClick(w.lobby.history_button, Qt.MouseButton.LeftButton)
    assert w.history_dialog is not None and w.history_dialog.isVisible()
    assert w.history_dialog.progress is not None and w.history_dialog.progress.sessions == len(SESSIONS)
    w.history_dialog.close()
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow)
    qtbot.keyClick(w, Qt.Key.Key_H)
    assert w.history_dialog.isVisible()
    # a session kept while it is open shows at once
    before = w.history_dialog.progress.sessions
    store.add(kept(at(31, 15), 25))
    h.controller.history_changed.emit(kept(at(31, 15), 25))
    assert w.history_dialog.progress.sessions == before + 1
    assert ("H", messages.SHORTCUTS[-2][1]) in w.help.rows


def test_without_a_history_file_the_button_is_off(harness):
    assert not harness.window.lobby.history_button.isEnabled()
    harness.window.open_history()
    assert harness.window.history_dialog is None
