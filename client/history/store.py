"""The history's sqlite3 file: a thin shell around client/history/progress.py.

The schema is versioned with `PRAGMA user_version`; MIGRATIONS[i] takes a file from version i
to i + 1, each in one transaction, so an upgrade that stops half way leaves the file at the last
whole version and the next start goes on from there. WAL journaling and one transaction per
write mean a crash (the process killed mid-write) loses at most the write in flight. Times are
kept as ISO 8601 text in UTC, which sorts and reads back exactly.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .progress import Session

BLOCK_REASONS = ("never_again", "report")

FILE_NAME = "history.sqlite3"

# Each step is one script run inside one transaction. Never edit a step that has shipped:
# add the next one.
MIGRATIONS: tuple[str, ...] = (
    # 0 -> 1: the sessions
    """
    CREATE TABLE sessions (
        id INTEGER PRIMARY KEY,
        started_at TEXT NOT NULL,
        ended_at TEXT NOT NULL,
        minutes REAL NOT NULL,
        length INTEGER,
        subject TEXT NOT NULL DEFAULT '',
        mode TEXT NOT NULL,
        goal TEXT NOT NULL DEFAULT '',
        checkout TEXT CHECK (checkout IN ('yes', 'partly', 'no')),
        note TEXT NOT NULL DEFAULT ''
    );
    """,
    # 1 -> 2: the partner's nickname when they are a favourite (null otherwise), and the
    # index the History view's "last four weeks" reads by
    """
    ALTER TABLE sessions ADD COLUMN partner TEXT;
    CREATE INDEX sessions_ended_at ON sessions (ended_at);
    """,
    # 2 -> 3: coming back (docs/protocol.md): favourites by the partner's public key, with the
    # nickname chosen here, and the partners never to meet again, by the server's avoid token
    """
    CREATE TABLE favourites (
        id INTEGER PRIMARY KEY,
        partner_key TEXT NOT NULL UNIQUE,
        nickname TEXT NOT NULL,
        added_at TEXT NOT NULL
    );
    CREATE TABLE blocked (
        id INTEGER PRIMARY KEY,
        token TEXT NOT NULL UNIQUE,
        reason TEXT NOT NULL CHECK (reason IN ('never_again', 'report')),
        added_at TEXT NOT NULL
    );
    """,
)
VERSION = len(MIGRATIONS)

COLUMNS = ("started_at", "ended_at", "minutes", "length", "subject", "mode", "goal", "checkout", "note", "partner")


class HistoryError(Exception):
    """The history file cannot be used (newer than this app, not a database, unwritable)."""


def default_path() -> Path:
    """The file in the user's data folder (Qt's AppDataLocation), made if missing."""
    from PySide6.QtCore import QStandardPaths  # only the window asks: the core and tests never do

    folder = Path(QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation))
    folder.mkdir(parents=True, exist_ok=True)
    return folder / FILE_NAME


def migrate(db: sqlite3.Connection) -> int:
    """Bring the file to VERSION, one transaction per step; returns the version found."""
    found = int(db.execute("PRAGMA user_version").fetchone()[0])
    if found > VERSION:
        raise HistoryError(f"the history file is version {found}; this app knows up to {VERSION}")
    for version in range(found, VERSION):
        with _transaction(db):
            for statement in _statements(MIGRATIONS[version]):
                db.execute(statement)
            db.execute(f"PRAGMA user_version = {version + 1}")  # no parameters for PRAGMA
    return found


def _statements(script: str) -> list[str]:
    # executescript() would COMMIT first; run each statement inside our own transaction instead.
    return [s.strip() for s in script.split(";") if s.strip()]


@contextlib.contextmanager
def _transaction(db: sqlite3.Connection) -> Iterator[None]:
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def _text(t: dt.datetime) -> str:
    return t.astimezone(dt.UTC).isoformat()


def _row(s: Session) -> tuple[object, ...]:
    return (_text(s.started_at), _text(s.ended_at), s.minutes, s.length, s.subject, s.mode, s.goal,
            s.checkout, s.note, s.partner)


def _session(row: tuple[Any, ...]) -> Session:
    started, ended, minutes, length, subject, mode, goal, checkout, note, partner = row
    return Session(dt.datetime.fromisoformat(started), dt.datetime.fromisoformat(ended), float(minutes),
                   length, subject, mode, goal, checkout, note, partner)


class HistoryStore:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            # isolation_level=None: we say BEGIN and COMMIT ourselves, and nothing else does.
            self._db = sqlite3.connect(self.path, isolation_level=None)
        except sqlite3.Error as exc:
            raise HistoryError(f"cannot open the history at {self.path}: {exc}") from exc
        try:
            self._db.execute("PRAGMA journal_mode = WAL")
            # NORMAL under WAL: a killed process loses nothing committed; only a power cut may
            # lose the last commits (never the file's integrity).
            self._db.execute("PRAGMA synchronous = NORMAL")
            self.found_version = migrate(self._db)
        except (sqlite3.Error, HistoryError) as exc:
            self._db.close()
            raise HistoryError(f"cannot use the history at {self.path}: {exc}") from exc

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> HistoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def add(self, session: Session) -> int:
        """Keep one finished session (one transaction); returns its row id."""
        with _transaction(self._db):
            cursor = self._db.execute(
                f"INSERT INTO sessions ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})",
                _row(session))
        return int(cursor.lastrowid or 0)

    def sessions(self, since: dt.datetime | None = None) -> list[Session]:
        """Every session kept (or those that ended at or after `since`), oldest first."""
        query = f"SELECT {', '.join(COLUMNS)} FROM sessions"
        args: tuple[str, ...] = ()
        if since is not None:
            query += " WHERE ended_at >= ?"
            args = (_text(since),)
        return [_session(row) for row in self._db.execute(query + " ORDER BY started_at, id", args)]

    def export_csv(self, path: str | Path) -> int:
        """Write every session to a CSV file (UTF-8, a header row); returns the rows written."""
        rows = self.sessions()
        with open(path, "w", newline="", encoding="utf-8") as f:
            out = csv.writer(f)
            out.writerow(COLUMNS)
            for s in rows:
                out.writerow(["" if v is None else v for v in _row(s)])
        return len(rows)

    # --- coming back: favourites and blocked partners (client/people.py) ---------------------

    def add_favourite(self, key: str, nickname: str, added_at: dt.datetime) -> None:
        """Keep a favourite; one already kept gets the new nickname and keeps its date."""
        with _transaction(self._db):
            self._db.execute("INSERT INTO favourites (partner_key, nickname, added_at) VALUES (?, ?, ?)"
                             " ON CONFLICT (partner_key) DO UPDATE SET nickname = excluded.nickname",
                             (key, nickname, _text(added_at)))

    def favourites(self) -> list[tuple[str, str, dt.datetime]]:
        """(key, nickname, added_at) of every favourite, oldest first."""
        rows = self._db.execute("SELECT partner_key, nickname, added_at FROM favourites ORDER BY added_at, id")
        return [(key, nickname, dt.datetime.fromisoformat(added)) for key, nickname, added in rows]

    def rename_favourite(self, key: str, nickname: str) -> None:
        with _transaction(self._db):
            self._db.execute("UPDATE favourites SET nickname = ? WHERE partner_key = ?", (nickname, key))

    def forget_favourite(self, key: str) -> None:
        with _transaction(self._db):
            self._db.execute("DELETE FROM favourites WHERE partner_key = ?", (key,))

    def add_block(self, token: str, reason: str, added_at: dt.datetime) -> None:
        """Keep an avoid token (once: the same token again changes nothing)."""
        if reason not in BLOCK_REASONS:
            raise ValueError(f"reason must be one of {BLOCK_REASONS}, not {reason!r}")
        with _transaction(self._db):
            self._db.execute("INSERT OR IGNORE INTO blocked (token, reason, added_at) VALUES (?, ?, ?)",
                             (token, reason, _text(added_at)))

    def blocked_tokens(self) -> list[str]:
        """Every avoid token kept, oldest first."""
        return [token for (token,) in self._db.execute("SELECT token FROM blocked ORDER BY added_at, id")]
