"""The pure matchmaking core: the queue, the sessions, and every pairing decision.

No asyncio, no sockets: each method takes one event (and the current time)
and returns the messages to send as `(client_id, message)` pairs. A pair is
decided and recorded inside one synchronous call, so no interleaving of
events can match a client twice or leave a ghost in the queue.

Errors are raised as `ProtocolError` before anything changes, so a refused
request never leaves half a state behind.
"""

from __future__ import annotations

import heapq
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Final

from server.core import protocol as p
from server.core import texts
from server.core.rules import COOLDOWN_REASONS, DEFAULT_REMATCH_COOLDOWN, Wish, candidate_topics

# Every request the core refuses, by name: the Redis script refuses with the same
# names (server/backends/redis/script.py), so both backends word a refusal the same way.
REFUSALS: Final = {
    "find_in_session": (p.ErrorCode.IN_SESSION, texts.FIND_IN_SESSION),
    "cancel_in_session": (p.ErrorCode.IN_SESSION, texts.CANCEL_IN_SESSION),
    "nothing_to_skip": (p.ErrorCode.NOT_IN_SESSION, texts.NOTHING_TO_SKIP),
    "not_your_session": (p.ErrorCode.NOT_IN_SESSION, texts.NOT_YOUR_SESSION),
    "ticket_spent": (p.ErrorCode.BAD_TICKET, texts.TICKET_SPENT),
}


def refusal(name: str) -> p.ProtocolError:
    code, message = REFUSALS[name]
    return p.ProtocolError(code, message)

Outgoing = list[tuple[str, p.ServerMessage]]


class Where(Enum):
    IDLE = "idle"
    QUEUED = "queued"
    IN_SESSION = "in_session"


@dataclass(slots=True)
class _Client:
    id: str
    where: Where = Where.IDLE
    wish: Wish | None = None  # the last find's mode and topic
    queued_at: float = 0.0
    seq: int = 0  # position in the global waiting order; smaller waited longer
    session: str | None = None


@dataclass(frozen=True, slots=True)
class Session:
    id: str
    initiator: str
    responder: str
    started: float

    def partner_of(self, client_id: str) -> str:
        return self.responder if client_id == self.initiator else self.initiator


@dataclass(slots=True)
class _Waiting:
    """One mode's queue: a bucket per topic, each in waiting order."""

    buckets: dict[str | None, dict[str, int]] = field(default_factory=dict)

    def add(self, topic: str | None, client_id: str, seq: int) -> None:
        self.buckets.setdefault(topic, {})[client_id] = seq

    def remove(self, topic: str | None, client_id: str) -> None:
        bucket = self.buckets[topic]
        del bucket[client_id]
        if not bucket:
            del self.buckets[topic]

    def count(self) -> int:
        return sum(len(b) for b in self.buckets.values())


class Matchmaker:
    """The queue and the sessions of one server (or of one test)."""

    def __init__(
        self,
        *,
        rematch_cooldown: float = DEFAULT_REMATCH_COOLDOWN,
        new_session_id: Callable[[], str] = lambda: secrets.token_urlsafe(12),
        observe_wait: Callable[[float], None] = lambda seconds: None,
    ) -> None:
        self.rematch_cooldown = rematch_cooldown
        self._new_session_id = new_session_id
        self._observe_wait = observe_wait
        self._clients: dict[str, _Client] = {}
        self._waiting: dict[str, _Waiting] = {mode: _Waiting() for mode in p.MODES}
        self._sessions: dict[str, Session] = {}
        # client -> {other client -> time until which they may not be paired}
        self._cooldowns: dict[str, dict[str, float]] = {}
        self._cooldown_ends: list[float] = []  # heap: when a waiting pair may become pairable
        self._seq = 0
        self.matches_total = 0

    # --- events ----------------------------------------------------------------

    def connect(self, client_id: str) -> None:
        if client_id in self._clients:
            raise ValueError(f"client {client_id!r} is already connected")
        self._clients[client_id] = _Client(client_id)

    def find(self, client_id: str, mode: str, topic: str | None, now: float) -> Outgoing:
        client = self._clients[client_id]
        if client.where is Where.IN_SESSION:
            raise refusal("find_in_session")
        wish = Wish(mode, p.normalize_topic(topic))
        if client.where is Where.QUEUED and client.wish == wish:
            return [(client_id, p.Queued(wish.mode, wish.topic))]
        if client.where is Where.QUEUED:
            self._dequeue(client)
        client.wish = wish
        return self._enqueue(client, now)

    def cancel(self, client_id: str, now: float) -> Outgoing:
        client = self._clients[client_id]
        if client.where is Where.IN_SESSION:
            raise refusal("cancel_in_session")
        if client.where is Where.QUEUED:
            self._dequeue(client)
        return [(client_id, p.Idle())]

    def skip(self, client_id: str, now: float) -> Outgoing:
        client = self._clients[client_id]
        if client.wish is None:
            raise refusal("nothing_to_skip")
        out: Outgoing = []
        if client.where is Where.IN_SESSION:
            out += self._end_session(client, "skipped", now)
        if client.where is Where.QUEUED:
            # Already searching (for instance the partner skipped first): keep the place.
            return [*out, (client_id, p.Queued(client.wish.mode, client.wish.topic))]
        return out + self._enqueue(client, now)

    def leave(self, client_id: str, now: float) -> Outgoing:
        client = self._clients[client_id]
        out: Outgoing = []
        if client.where is Where.IN_SESSION:
            out += self._end_session(client, "left", now)
        elif client.where is Where.QUEUED:
            self._dequeue(client)
        return [*out, (client_id, p.Idle())]

    def report(self, client_id: str, session_id: str, now: float) -> Outgoing:
        session = self._current_session(client_id, session_id)
        client = self._clients[client_id]
        return [*self._end_session(client, "reported", now), (client_id, p.Reported(session.id))]

    def signal(self, client_id: str, session_id: str, data: dict[str, object]) -> Outgoing:
        return [(self.signal_partner(client_id, session_id), p.Signal(session_id, data))]

    def signal_partner(self, client_id: str, session_id: str) -> str:
        """Who a signal from `client_id` in `session_id` goes to; refused unless it is the present one.

        `_current_session` and `Session.partner_of` written out: the relay asks this for
        every signal.
        """
        current = self._clients[client_id].session
        if current != session_id or current is None:
            raise refusal("not_your_session")
        session = self._sessions[current]
        return session.responder if client_id == session.initiator else session.initiator

    def disconnect(self, client_id: str, now: float) -> Outgoing:
        client = self._clients.pop(client_id, None)
        if client is None:
            return []
        out: Outgoing = []
        if client.where is Where.IN_SESSION:
            out = self._end_session(client, "disconnected", now)
        elif client.where is Where.QUEUED:
            self._dequeue(client)
        for other in self._cooldowns.pop(client_id, {}):
            self._cooldowns.get(other, {}).pop(client_id, None)
        return out

    def tick(self, now: float) -> Outgoing:
        """Pair waiters whose rematch cool-down has just ended (call about once a second).

        Arrivals pair at once; only an ending cool-down can make two clients who
        are already waiting pairable, so nothing is scanned unless one ended.
        """
        if not self._cooldown_ends or self._cooldown_ends[0] > now:
            return []
        while self._cooldown_ends and self._cooldown_ends[0] <= now:
            heapq.heappop(self._cooldown_ends)
        out: Outgoing = []
        for mode in p.MODES:
            for client_id in self.waiting_order(mode):
                client = self._clients[client_id]
                if client.where is not Where.QUEUED:
                    continue  # paired earlier in this pass
                assert client.wish is not None
                partner = self._longest_compatible_waiter(client, client.wish, now, older_than=client.seq)
                if partner is not None:
                    self._dequeue(partner)
                    self._dequeue(client)
                    out += self._start_session(initiator=partner, responder=client, now=now)
        return out

    # --- queries -----------------------------------------------------------------

    def where(self, client_id: str) -> Where:
        return self._clients[client_id].where

    def session_of(self, client_id: str) -> Session | None:
        session_id = self._clients[client_id].session
        return None if session_id is None else self._sessions[session_id]

    def is_connected(self, client_id: str) -> bool:
        return client_id in self._clients

    def waiting_count(self, mode: str | None = None) -> int:
        modes = p.MODES if mode is None else (mode,)
        return sum(self._waiting[m].count() for m in modes)

    def waiting_order(self, mode: str) -> list[str]:
        """The waiting clients of a mode, longest waiter first."""
        entries = [(seq, cid) for b in self._waiting[mode].buckets.values() for cid, seq in b.items()]
        return [cid for _, cid in sorted(entries)]

    def wish_of(self, client_id: str) -> Wish | None:
        return self._clients[client_id].wish

    def session_count(self) -> int:
        return len(self._sessions)

    def client_count(self) -> int:
        return len(self._clients)

    def sessions(self) -> list[Session]:
        return list(self._sessions.values())

    def in_cooldown(self, a: str, b: str, now: float) -> bool:
        return self._cooldowns.get(a, {}).get(b, float("-inf")) > now

    # --- the pairing itself ------------------------------------------------------

    def _enqueue(self, client: _Client, now: float) -> Outgoing:
        wish = client.wish
        assert wish is not None
        queued: Outgoing = [(client.id, p.Queued(wish.mode, wish.topic))]
        client.queued_at = now
        partner = self._longest_compatible_waiter(client, wish, now)
        if partner is None:
            self._seq += 1
            client.where, client.seq = Where.QUEUED, self._seq
            self._waiting[wish.mode].add(wish.topic, client.id, self._seq)
            return queued
        self._dequeue(partner)
        return queued + self._start_session(initiator=partner, responder=client, now=now)

    def _longest_compatible_waiter(
        self, client: _Client, wish: Wish, now: float, older_than: int | None = None
    ) -> _Client | None:
        waiting = self._waiting[wish.mode]
        best: tuple[int, str] | None = None if older_than is None else (older_than, client.id)
        for topic in candidate_topics(wish, set(waiting.buckets)):
            for other_id, seq in waiting.buckets[topic].items():
                if best is not None and seq >= best[0]:
                    break  # buckets are in waiting order: nothing older follows
                if not self.in_cooldown(client.id, other_id, now):
                    best = (seq, other_id)
                    break
        if best is None or best[1] == client.id:
            return None
        return self._clients[best[1]]

    def _dequeue(self, client: _Client) -> None:
        assert client.wish is not None and client.where is Where.QUEUED
        self._waiting[client.wish.mode].remove(client.wish.topic, client.id)
        client.where = Where.IDLE

    def _start_session(self, *, initiator: _Client, responder: _Client, now: float) -> Outgoing:
        session = Session(self._new_session_id(), initiator.id, responder.id, now)
        self._sessions[session.id] = session
        for client in (initiator, responder):
            client.where, client.session = Where.IN_SESSION, session.id
        self.matches_total += 1
        self._observe_wait(now - initiator.queued_at)
        self._observe_wait(now - responder.queued_at)
        assert initiator.wish is not None and responder.wish is not None
        return [
            (initiator.id, p.Matched(session.id, True, p.Partner(responder.wish.mode, responder.wish.topic))),
            (
                responder.id,
                p.Matched(session.id, False, p.Partner(initiator.wish.mode, initiator.wish.topic)),
            ),
        ]

    def _end_session(self, client: _Client, reason: str, now: float) -> Outgoing:
        assert client.session is not None
        session = self._sessions.pop(client.session)
        partner_id = session.partner_of(client.id)
        for cid in (client.id, partner_id):
            c = self._clients.get(cid)
            if c is not None:
                c.where, c.session = Where.IDLE, None
        if reason in COOLDOWN_REASONS and partner_id in self._clients:
            until = now + self.rematch_cooldown
            for a, b in ((client.id, partner_id), (partner_id, client.id)):
                mine = self._cooldowns.setdefault(a, {})
                # Prune as we go, so a long-lived connection's table stays small.
                for expired in [o for o, t in mine.items() if t <= now]:
                    del mine[expired]
                mine[b] = until
            heapq.heappush(self._cooldown_ends, until)
        return [(partner_id, p.PartnerLeft(session.id, reason))]

    def _current_session(self, client_id: str, session_id: str) -> Session:
        current = self._clients[client_id].session
        if current != session_id or current is None:
            raise refusal("not_your_session")
        return self._sessions[current]
