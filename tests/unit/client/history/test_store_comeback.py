"""Schema v3 (favourites and blocked partners): migrated from every earlier version, and kept."""

from __future__ import annotations

import datetime as dt
import sqlite3

import pytest

from client.history import store
from client.history.store import VERSION, HistoryStore

from .test_store import a_session, at_version

T0 = dt.datetime(2026, 12, 5, 9, 0, tzinfo=dt.UTC)
KEY = "k" * 43


@pytest.mark.parametrize("version", range(VERSION))
def test_every_earlier_file_gets_favourites_and_blocks_and_keeps_its_sessions(tmp_path, version):
    path = tmp_path / store.FILE_NAME
    if version == 0:
        path.touch()
    else:
        at_version(path, version)
    with HistoryStore(path) as h:
        before = h.sessions()
        assert h.favourites() == [] and h.blocked_tokens() == []
        h.add_favourite(KEY, "Ana", T0)
        h.add_block("a1.token", "never_again", T0)
        h.add(a_session())
    with HistoryStore(path) as h:  # reopened: nothing migrated twice, everything still there
        assert h.found_version == VERSION
        assert h.favourites() == [(KEY, "Ana", T0)]
        assert h.blocked_tokens() == ["a1.token"]
        assert h.sessions() == [*before, a_session()]
    db = sqlite3.connect(path)
    assert [r[1] for r in db.execute("PRAGMA table_info(favourites)")] == ["id", "partner_key", "nickname", "added_at"]
    assert [r[1] for r in db.execute("PRAGMA table_info(blocked)")] == ["id", "token", "reason", "added_at"]
    db.close()


def test_a_favourite_is_kept_once_and_can_be_renamed_and_forgotten(tmp_path):
    with HistoryStore(tmp_path / store.FILE_NAME) as h:
        h.add_favourite(KEY, "Ana", T0)
        h.add_favourite(KEY, "Ana B.", T0 + dt.timedelta(days=1))  # again: the new nickname, the first date
        assert h.favourites() == [(KEY, "Ana B.", T0)]
        h.rename_favourite(KEY, "Ana María")
        assert h.favourites() == [(KEY, "Ana María", T0)]
        h.forget_favourite(KEY)
        assert h.favourites() == []


def test_a_block_is_kept_once_with_a_known_reason(tmp_path):
    with HistoryStore(tmp_path / store.FILE_NAME) as h:
        h.add_block("a1.one", "report", T0)
        h.add_block("a1.one", "never_again", T0)
        h.add_block("a1.two", "never_again", T0 + dt.timedelta(minutes=1))
        assert h.blocked_tokens() == ["a1.one", "a1.two"]
        with pytest.raises(ValueError):
            h.add_block("a1.three", "because", T0)
    db = sqlite3.connect(tmp_path / store.FILE_NAME)
    with pytest.raises(sqlite3.IntegrityError):  # the schema itself refuses another reason
        db.execute("INSERT INTO blocked (token, reason, added_at) VALUES ('x', 'because', '')")
    db.close()
