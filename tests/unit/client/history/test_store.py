"""The history file: migrations from every earlier schema, a crash mid-write, CSV export."""

from __future__ import annotations

import csv
import datetime as dt
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from integration.wsclient import TIMEOUT

from client.history import store
from client.history.progress import Session
from client.history.store import COLUMNS, MIGRATIONS, VERSION, HistoryError, HistoryStore

T0 = dt.datetime(2026, 3, 10, 9, 0, tzinfo=dt.UTC)


def a_session(k: int = 0, **changes: object) -> Session:
    fields: dict[str, object] = dict(started_at=T0 + dt.timedelta(hours=k), ended_at=T0 + dt.timedelta(hours=k, minutes=27),
                                     minutes=25.0, length=25, subject="álgebra", mode="video", goal=f"goal {k}",
                                     checkout="yes", note="", partner=None)
    fields.update(changes)
    return Session(**fields)  # type: ignore[arg-type]


def at_version(path: Path, version: int) -> None:
    """A file as an older app left it: the first `version` migrations, as that app ran them."""
    db = sqlite3.connect(path, isolation_level=None)
    for step in MIGRATIONS[:version]:
        db.executescript(step)
    db.execute(f"PRAGMA user_version = {version}")
    if version >= 1:  # a session that older app kept
        db.execute("INSERT INTO sessions (started_at, ended_at, minutes, length, subject, mode, goal, checkout, note)"
                   " VALUES ('2026-03-01T09:00:00+00:00', '2026-03-01T09:52:00+00:00', 50, 50, 'física', 'audio',"
                   " 'old goal', 'partly', 'a note')")
    db.close()


@pytest.mark.parametrize("version", range(VERSION + 1))
def test_a_file_from_every_earlier_schema_is_migrated(tmp_path, version):
    path = tmp_path / store.FILE_NAME
    if version == 0:
        path.touch()  # version 0: an empty file, as a first start finds it (or a missing file)
    else:
        at_version(path, version)
    with HistoryStore(path) as h:
        assert h.found_version == version
        kept = h.sessions()
        h.add(a_session())
        assert h.sessions() == [*kept, a_session()]
    if version >= 1:  # the old row is still there, with the columns added since as null
        assert kept == [Session(dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC), dt.datetime(2026, 3, 1, 9, 52, tzinfo=dt.UTC),
                                50.0, 50, "física", "audio", "old goal", "partly", "a note", None)]
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == VERSION
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert [r[1] for r in db.execute("PRAGMA table_info(sessions)")][1:] == list(COLUMNS)
    db.close()


def test_a_missing_file_is_made(tmp_path):
    with HistoryStore(tmp_path / "new.sqlite3") as h:
        assert h.found_version == 0 and h.sessions() == []


def test_a_failed_migration_leaves_the_last_whole_version(tmp_path, monkeypatch):
    path = tmp_path / store.FILE_NAME
    at_version(path, 1)
    monkeypatch.setattr(store, "MIGRATIONS", (*MIGRATIONS[:1], MIGRATIONS[1] + "; CREATE TABLE broken (;"))
    monkeypatch.setattr(store, "VERSION", 2)
    with pytest.raises(HistoryError):
        HistoryStore(path)
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == 1  # step 2 rolled back as a whole
    assert "partner" not in [r[1] for r in db.execute("PRAGMA table_info(sessions)")]
    db.close()
    monkeypatch.undo()
    with HistoryStore(path) as h:  # the next start goes on from version 1
        assert h.found_version == 1 and len(h.sessions()) == 1


def test_a_file_from_a_newer_app_is_refused_and_left_alone(tmp_path):
    path = tmp_path / store.FILE_NAME
    at_version(path, VERSION)
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {VERSION + 1}")
    db.close()
    with pytest.raises(HistoryError, match="knows up to"):
        HistoryStore(path)


def test_a_file_that_is_not_a_database_is_an_error_not_a_crash(tmp_path):
    path = tmp_path / store.FILE_NAME
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(HistoryError):
        HistoryStore(path)


WRITER = textwrap.dedent("""
    import datetime as dt, sys
    from client.history.progress import Session
    from client.history.store import HistoryStore
    t0 = dt.datetime(2026, 3, 10, 9, 0, tzinfo=dt.UTC)
    h = HistoryStore(sys.argv[1])
    k = 0
    while True:
        row = h.add(Session(t0, t0 + dt.timedelta(minutes=30), 25.0, 25, "s", "video", "g" * 100 + str(k), "yes"))
        print(row, flush=True)  # after COMMIT: this row is promised to be there
        k += 1
""")


def test_a_crash_mid_write_keeps_every_committed_row(tmp_path):
    path = tmp_path / store.FILE_NAME
    HistoryStore(path).close()
    child = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE, text=True,
                             cwd=Path(__file__).parents[4])
    assert child.stdout is not None
    committed: list[int] = []
    deadline = dt.datetime.now() + dt.timedelta(seconds=TIMEOUT)
    while len(committed) < 300 and dt.datetime.now() < deadline:
        line = child.stdout.readline()
        if not line:
            break
        committed.append(int(line))
    os.kill(child.pid, signal.SIGKILL)  # in the middle of its next write
    child.wait()
    assert len(committed) >= 300, "the writer did not get going"
    committed += [int(line) for line in child.stdout.read().splitlines(keepends=True) if line.endswith("\n")]
    child.stdout.close()  # what it printed before it died, still in the pipe

    db = sqlite3.connect(path)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    ids = {r[0] for r in db.execute("SELECT id FROM sessions")}
    db.close()
    assert set(committed) <= ids
    assert len(ids) - len(committed) <= 1  # at most the write in flight, if its COMMIT landed before the print
    with HistoryStore(path) as h:  # and the app opens it afterwards
        assert len(h.sessions()) == len(ids)


def test_csv_export_reads_back(tmp_path):
    sessions = [a_session(0), a_session(1, length=None, checkout=None, subject="", note='a "quoted", note\nover two lines'),
                a_session(2, mode="audio", goal="数学 ✓", checkout="no", partner="Ana")]
    with HistoryStore(tmp_path / store.FILE_NAME) as h:
        for s in sessions:
            h.add(s)
        assert h.export_csv(tmp_path / "history.csv") == 3
    with open(tmp_path / "history.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert rows[0] == list(COLUMNS)
    back = [Session(dt.datetime.fromisoformat(r[0]), dt.datetime.fromisoformat(r[1]), float(r[2]),
                    int(r[3]) if r[3] else None, r[4], r[5], r[6], r[7] or None, r[8], r[9] or None) for r in rows[1:]]
    assert back == sessions
    assert rows[1][0] == "2026-03-10T09:00:00+00:00"  # UTC, ISO 8601


def test_sessions_since(tmp_path):
    with HistoryStore(tmp_path / store.FILE_NAME) as h:
        for k in range(3):
            h.add(a_session(k))
        assert h.sessions(since=T0 + dt.timedelta(hours=1)) == [a_session(1), a_session(2)]
