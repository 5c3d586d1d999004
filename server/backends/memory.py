"""The memory backend: one process, one queue, the pure matchmaking core called directly."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import Any

from server.backends.base import BackendStats, Clock, Deliver, ReportedPartner
from server.core import protocol as p
from server.core.abuse import AbuseStore, MemoryAbuseStore, ReportLedger
from server.core.counts import Figures
from server.core.matchmaking import Matchmaker, Outgoing
from server.core.resume import Claim, SessionClaim


class MemoryBackend:
    """One process, nothing to install: the matchmaking core, called directly."""

    name = "memory"

    def __init__(
        self,
        *,
        rematch_cooldown: float,
        clock: Clock = time.monotonic,
        tick_interval: float = 1.0,
        resume_grace: float = 60.0,
        ticket_ttl: float = 600.0,
        study_minute: float = 60.0,
        wall_ms: Callable[[], int] = lambda: time.time_ns() // 1_000_000,
    ) -> None:
        self._study_minute_ms, self._wall_ms = round(study_minute * 1000), wall_ms
        self._rematch_cooldown = rematch_cooldown
        self._resume_grace, self._ticket_ttl = resume_grace, ticket_ttl
        self._clock = clock
        self._tick_interval = tick_interval
        self._ticker: asyncio.Task[None] | None = None
        self._deliver: Deliver = lambda client_id, message: None
        self._abuse_keys: dict[str, str] = {}  # only those that differ from the connection id
        self.core = self._core(lambda seconds: None)

    def wall_ms(self) -> int:
        return self._wall_ms()

    def attach(self, deliver: Deliver, observe_wait: Callable[[float], None]) -> None:
        self._deliver = deliver
        self.core = self._core(observe_wait)

    def _core(self, observe_wait: Callable[[float], None]) -> Matchmaker:
        return Matchmaker(
            rematch_cooldown=self._rematch_cooldown, observe_wait=observe_wait,
            resume_grace=self._resume_grace, ticket_ttl=self._ticket_ttl,
            study_minute_ms=self._study_minute_ms, wall_ms=self._wall_ms,
        )

    async def start(self) -> None:
        self._ticker = asyncio.create_task(self._tick_forever(), name="matchmaker-tick")

    async def close(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
            self._ticker = None

    async def _tick_forever(self) -> None:
        # Pairs waiters whose rematch cool-down has ended, ends sessions whose away side
        # ran out of grace; cheap when nothing is due.
        while True:
            await asyncio.sleep(self._tick_interval)
            self._send(self.core.tick(self._clock()))
            if len(self._abuse_keys) > self.core.client_count():
                # Some are of away sides, or of ones whose grace ran out: forget those.
                core = self.core
                for gone in [c for c in self._abuse_keys if not core.is_connected(c) and not core.away.is_away(c)]:
                    del self._abuse_keys[gone]

    def _send(self, out: Outgoing) -> None:
        for client_id, message in out:
            self._deliver(client_id, message)

    # Each method is synchronous inside: decide, record and deliver with no await.
    async def connect(
        self, client_id: str, abuse_key: str | None = None, *, resumable: bool = False, install: str | None = None,
    ) -> None:
        self.core.connect(client_id, resumable, install)
        if abuse_key is not None and abuse_key != client_id:
            self._abuse_keys[client_id] = abuse_key

    async def resume(self, client_id: str, claim: Claim) -> None:
        now = self._clock()
        if isinstance(claim, SessionClaim):
            out = self.core.resume_session(client_id, claim, now)
        else:
            out = self.core.resume_queue(client_id, claim, now)
        if claim.abuse_key != client_id:
            self._abuse_keys[client_id] = claim.abuse_key
        for replaced, message in out:
            if type(message) is p.Replaced:
                self._abuse_keys.pop(replaced, None)  # forgotten by the core, no disconnect will come
        self._send(out)

    async def find(
        self, client_id: str, mode: str, topic: str | None, length: int | None = None, talk: str | None = None,
        favourites: tuple[str, ...] = (),
    ) -> None:
        self._send(self.core.find(client_id, mode, topic, self._clock(), length, talk, favourites))

    async def avoid(self, client_id: str, installs: list[str]) -> int:
        return self.core.avoid(client_id, installs)

    async def cancel(self, client_id: str) -> None:
        self._send(self.core.cancel(client_id, self._clock()))

    async def skip(self, client_id: str) -> None:
        self._send(self.core.skip(client_id, self._clock()))

    async def leave(self, client_id: str) -> None:
        self._send(self.core.leave(client_id, self._clock()))

    async def report(self, client_id: str, session: str, reason: str) -> ReportedPartner | None:
        # No await between reading the partner and ending the session: nobody can step in.
        partner = self._partner_in(client_id, session)
        self._send(self.core.report(client_id, session, self._clock()))
        if partner is None:
            return None
        return ReportedPartner(partner, self._abuse_keys.get(partner, partner))

    def signal(self, client_id: str, session: str, data: dict[str, Any]) -> None:
        """Relayed inside the call (the core names the partner): nothing to await."""
        partner, message = self.core.signal_partner(client_id, session), p.Signal(session, data)
        if not self.core.away.keep(partner, message):  # kept for a partner away: delivered on resume
            self._deliver(partner, message)

    def _partner_in(self, client_id: str, session: str) -> str | None:
        """The other side of `session` if it is the client's present one."""
        if not self.core.is_connected(client_id):
            return None
        current = self.core.session_of(client_id)
        return current.partner_of(client_id) if current is not None and current.id == session else None

    async def disconnect(self, client_id: str, *, hold: bool = False) -> None:
        self._send(self.core.disconnect(client_id, self._clock(), hold))
        if not self.core.away.is_away(client_id):
            self._abuse_keys.pop(client_id, None)

    def abuse_store(self, threshold: int, window: float, penalty: float) -> AbuseStore:
        """Reports counted in this process: nobody else shares this queue."""
        return MemoryAbuseStore(ReportLedger(threshold, window, penalty))

    async def share_counts(self, mine: Figures) -> Figures | None:
        """No other instance shares this queue."""
        return Figures()

    def stats(self) -> BackendStats:
        return BackendStats(
            waiting={mode: self.core.waiting_count(mode) for mode in p.MODES},
            sessions=self.core.session_count(),
            matches_total=self.core.matches_total,
        )
