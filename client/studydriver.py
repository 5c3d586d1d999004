"""The engine's shell around one study session's pure core (client/study.py): it turns
intents and the partner's study messages into the core's moves, emits the study events
(client/events.py), and sets one timer at the next boundary (no busy loop)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from server.core import protocol as p

from . import events as ev
from .study import StudyRefused, StudySession, StudyState, chimes

log = logging.getLogger("studymatch.client.study")


class StudyDriver:
    def __init__(self, session: str, study: p.Study, clock: Callable[[], float],
                 emit: Callable[[ev.EngineEvent], None], send: Callable[[], None]) -> None:  # fmt: skip
        self.session = session
        self.clock = clock
        self.core = StudySession(study, clock())
        self._emit = emit
        self._send = send  # tells the partner our whole study state (Call.send_study)
        self._phase: str | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._refused = 0
        self._partner_brb: float | None = None

    def start(self) -> None:
        core = self.core
        self._emit(ev.SessionStarted(self.session, core.length, core.talk, core.started_at, core.ends_at))
        self._update()

    def resumed(self, study: p.Study) -> None:
        """`resumed` carries the terms again: take its clock offset, keep what both sides said."""
        mine, partner = self.core.mine, self.core.partner
        self.core = StudySession(study, self.clock())
        self.core.mine, self.core.partner = mine, partner
        self._phase = None
        self.start()

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    # --- intents ------------------------------------------------------------------------------

    def set_goal(self, text: str) -> None:
        self.core.set_goal(text)
        self._changed()

    def set_ready(self) -> None:
        self.core.set_ready(self.clock())
        self._changed()

    def check_out(self, done: str, note: str) -> None:
        self.core.check_out(done, note, self.clock())
        self._changed()

    def set_brb(self, away: bool) -> None:
        self.core.set_brb(away, self.clock())
        self._changed()

    def set_pomodoro(self, on: bool) -> None:
        self.core.set_pomodoro(on, self.clock())
        self._emit(ev.Pomodoro(self.session, self.core.pomodoro_on()))
        self._changed()

    def set_again(self, key: str | None) -> None:
        """Tick "Study again" with our public key, or untick (None); the partner hears it at once."""
        if key != self.core.mine.again:
            self.core.set_again(key)
            self._changed()

    def _changed(self) -> None:
        self._send()
        self._update()

    # --- the partner ----------------------------------------------------------------------------

    def partner_said(self, state: StudyState) -> None:
        try:
            news = self.core.partner_said(state, self.clock())
        except StudyRefused as exc:
            self._refused += 1
            if self._refused == 1:  # once: a hostile partner must not flood the log
                log.info("session %s: ignoring the partner's study message: %s", self.session, exc)
            return
        partner = self.core.partner
        if "goal" in news:
            self._emit(ev.PartnerGoal(self.session, partner.goal))
        if "ready" in news and partner.ready:
            self._emit(ev.PartnerReady(self.session))
        if "checkout" in news and partner.checkout is not None:
            self._emit(ev.PartnerCheckout(self.session, partner.checkout.done, partner.checkout.note))
        if "pomodoro" in news:
            self._emit(ev.Pomodoro(self.session, self.core.pomodoro_on()))
        if "again" in news:
            self._emit(ev.PartnerAgain(self.session, partner.again is not None))
        self._update()

    # --- the clock ------------------------------------------------------------------------------

    def _update(self) -> None:
        now = self.clock()
        phase, until = self.core.phase_at(now)
        if phase != self._phase:
            if chimes(self._phase, phase):
                log.debug("session %s: chime (%s -> %s)", self.session, self._phase, phase)
            self._phase = phase
            self._emit(ev.SessionPhase(self.session, phase, until))
        brb = self.core.partner_brb(now)
        if brb != self._partner_brb:
            self._partner_brb = brb
            self._emit(ev.PartnerBrb(self.session, brb))
        self.close()
        at = self.core.next_change(now)
        if at is not None:
            loop = asyncio.get_running_loop()
            self._timer = loop.call_later(max(0.0, at - now) + 0.01, self._update)
