"""The history recorder beside the controller, against engine events a test plays (the recording
engine): which session's terms are kept after a resume, and a write that fails."""

from __future__ import annotations

import logging
import time

import pytest

from client import events as ev
from client.history.store import HistoryStore
from client.study import StudySession
from server.core import protocol as p

MIN = 60_000


def session_started_minutes_ago(minutes: float, length: int | None = 25) -> StudySession:
    """A study session whose server clock reads `minutes` minutes past its start now."""
    started = 1_764_900_000_000
    study = p.Study(length=length, talk="talk", started_at=started,
                    ends_at=None if length is None else started + length * MIN, minute=MIN,
                    now=started + round(minutes * MIN))
    return StudySession(study, time.time())


@pytest.fixture
def store(tmp_path):
    with HistoryStore(tmp_path / "history.sqlite3") as h:
        yield h


def test_the_session_after_a_resume_is_the_one_kept(make_harness, store):
    h = make_harness(history=store)
    h.window.lobby.subject.setText("Chemistry")
    h.window.lobby.find_button.click()
    h.engine.emit(ev.Matched("s1", True, "video", None))
    first = session_started_minutes_ago(10)
    h.engine.study = first
    h.engine.emit(ev.SessionStarted("s1", 25, "talk", first.started_at, first.ends_at))
    first.set_goal("stale")
    # a resume: the engine makes a new session core with what both sides said, and starts it again
    resumed = session_started_minutes_ago(30)
    resumed.set_goal("Titration lab write-up")
    resumed.check_out("partly", "half", time.time())
    h.engine.study = resumed
    h.engine.emit(ev.SessionStarted("s1", 25, "talk", resumed.started_at, resumed.ends_at))
    h.engine.study = None  # the engine lets go of it just before it says the call ended
    h.engine.emit(ev.CallEnded("s1", 1800.0, 0, 0, None))
    (row,) = store.sessions()
    assert (row.goal, row.checkout, row.note, row.minutes, row.subject, row.mode) == (
        "Titration lab write-up", "partly", "half", 25.0, "Chemistry", "video")


def test_another_sessions_end_and_a_call_without_a_session_keep_nothing(make_harness, store):
    h = make_harness(history=store)
    h.window.lobby.find_button.click()
    h.engine.emit(ev.Matched("s1", True, "video", None))
    h.engine.study = session_started_minutes_ago(30)
    h.engine.emit(ev.SessionStarted("s1", 25, "talk", 0.0, 1500.0))
    h.engine.emit(ev.CallEnded("old-session", 1800.0, 0, 0, None))  # a stale call's end
    assert store.sessions() == []
    h.engine.emit(ev.CallEnded("s1", 1800.0, 0, 0, None))
    assert len(store.sessions()) == 1
    h.engine.emit(ev.Matched("s2", True, "video", None))  # an older server: no study session
    h.engine.emit(ev.CallEnded("s2", 1800.0, 0, 0, None))
    assert len(store.sessions()) == 1


def test_a_failed_write_is_one_log_line(make_harness, tmp_path, caplog):
    store = HistoryStore(tmp_path / "history.sqlite3")
    h = make_harness(history=store)
    kept: list[object] = []
    h.controller.history_changed.connect(kept.append)
    h.window.lobby.find_button.click()
    h.engine.emit(ev.Matched("s1", True, "video", None))
    h.engine.study = session_started_minutes_ago(30)
    h.engine.emit(ev.SessionStarted("s1", 25, "talk", 0.0, 1500.0))
    store.close()  # the file is gone from under the app
    with caplog.at_level(logging.WARNING, logger="studymatch.ui.history"):
        h.engine.emit(ev.CallEnded("s1", 1800.0, 0, 0, None))
    assert kept == [] and len(caplog.records) == 1
    assert "could not keep the session" in caplog.records[0].getMessage()


def test_a_favourite_partner_is_kept_by_nickname_and_a_stranger_by_none(make_harness, store):
    h = make_harness(history=store)
    h.window.lobby.find_button.click()
    for session, favourite in (("s1", "Ana"), ("s2", None)):
        h.engine.emit(ev.Matched(session, True, "video", None, favourite=favourite, avoidable=True))
        h.engine.study = session_started_minutes_ago(30)
        h.engine.emit(ev.SessionStarted(session, 25, "talk", 0.0, 1500.0))
        h.engine.emit(ev.CallEnded(session, 1800.0, 0, 0, None))
    assert [row.partner for row in store.sessions()] == ["Ana", None]
