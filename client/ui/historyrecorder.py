"""What the window keeps of each finished study session (client/history/): the recorder beside the
controller (client/ui/controller.py), as studyintents.py is.

The controller hands it every event of the real engine (a test call is never recorded). It
remembers the call's subject and mode when the partner is found, and the engine's study session
(`engine.study`) when it starts (again after a resume, when the engine makes a new one); when the
call ends it writes one row from what that session knew: the terms, my goal and my check-out,
and the partner's nickname when the server paired us as favourites (`Matched.favourite`).
A failed write is one log line: the call is over either way.
"""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
import time
from collections.abc import Callable
from typing import Any

from client import events as ev
from client.history.progress import Session
from client.history.store import HistoryError, HistoryStore
from client.study import StudySession
from client.ui.seams import EngineLike

log = logging.getLogger("studymatch.ui.history")

# Less than a minute of study is not a session: a skip, a wrong match, a call that never got
# going. It is not recorded, so it neither counts in a day's minutes nor keeps a streak alive.
MIN_MINUTES = 1.0


def _utc(seconds: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, dt.UTC)


class HistoryRecorder:
    def __init__(self, store: HistoryStore | None, engine: Callable[[], EngineLike | None],
                 terms: Callable[[], tuple[str, str]], on_recorded: Callable[[Session], None],
                 clock: Callable[[], float] = time.time) -> None:
        self.store = store  # None: no history (the file could not be opened); nothing is kept
        self._engine = engine  # the real engine, whose `study` is the session of the call now
        self._terms = terms  # (my mode, my topic) as the controller has them
        self._on_recorded = on_recorded
        self._clock = clock  # the engine's clock for the study session's times (client/engine.py)
        self._session: str | None = None
        self._subject, self._mode = "", ""
        self._partner: str | None = None  # the favourite's nickname; None: not a favourite
        self._study: StudySession | None = None

    def on_event(self, event: Any) -> None:
        match event:
            case ev.Matched():
                mode, topic = self._terms()
                self._session, self._study = event.session, None
                self._subject = topic or event.partner_topic or ""
                self._mode = mode  # the server pairs equal modes only
                self._partner = event.favourite
            case ev.SessionStarted() if event.session == self._session:
                engine = self._engine()
                self._study = None if engine is None else engine.study
            case ev.CallEnded() if event.session == self._session:
                study, self._session, self._study = self._study, None, None
                if study is not None:
                    self._record(study)

    def _record(self, study: StudySession) -> None:
        now = self._clock()
        minutes = study.studied_minutes(now)
        if minutes < MIN_MINUTES or self.store is None:
            return
        mine = study.mine
        session = Session(
            started_at=_utc(min(study.started_at, now)), ended_at=_utc(now), minutes=round(minutes, 2),
            length=study.length, subject=self._subject, mode=self._mode, goal=mine.goal,
            checkout=None if mine.checkout is None else mine.checkout.done,
            note="" if mine.checkout is None else mine.checkout.note, partner=self._partner,
        )
        try:
            self.store.add(session)
        except (HistoryError, sqlite3.Error) as exc:
            log.warning("could not keep the session in the history: %s", exc)
            return
        self._on_recorded(session)
