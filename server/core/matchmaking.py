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
from typing import Final

from server.core import protocol as p
from server.core import texts
from server.core.away import AwayBook
from server.core.partners import avoids, favourite_waiter, longest_compatible_waiter
from server.core.places import Client, Session, Where
from server.core.resume import QueueClaim, SessionClaim
from server.core.rules import (
    COOLDOWN_REASONS,
    DEFAULT_REMATCH_COOLDOWN,
    MAX_AVOIDED,
    Terms,
    Wish,
    agreed_terms,
    bucket_of,
    queued,
    study_of,
)
from server.core.waiting import OrderKey, Rendezvous, Waiting

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


class Matchmaker:
    """The queue and the sessions of one server (or of one test)."""

    def __init__(
        self,
        *,
        rematch_cooldown: float = DEFAULT_REMATCH_COOLDOWN,
        new_session_id: Callable[[], str] = lambda: secrets.token_urlsafe(12),
        observe_wait: Callable[[float], None] = lambda seconds: None,
        resume_grace: float = 60.0,
        ticket_ttl: float = 600.0,
        study_minute_ms: int = p.MINUTE_MS,
        wall_ms: Callable[[], int] = lambda: 0,
    ) -> None:
        # `wall_ms`: the Unix time in ms, the only clock a client can share (`study.started_at`);
        # `now` stays the clock of every duration (monotonic in the memory backend).
        self.rematch_cooldown = rematch_cooldown
        self._new_session_id = new_session_id
        self._observe_wait = observe_wait
        self.study_minute_ms = study_minute_ms
        self._wall_ms = wall_ms
        self._clients: dict[str, Client] = {}
        self._waiting: dict[str, Waiting] = {mode: Waiting() for mode in p.MODES}
        self._rendezvous: dict[str, Rendezvous] = {mode: Rendezvous() for mode in p.MODES}
        self._sessions: dict[str, Session] = {}
        # client -> {other client -> time until which they may not be paired}
        self._cooldowns: dict[str, dict[str, float]] = {}
        self._cooldown_ends: list[float] = []  # heap: when a waiting pair may become pairable
        self._seq = 0
        self.matches_total = 0
        self.away = AwayBook(resume_grace, ticket_ttl)
        # Each side's resumes so far (`SessionClaim.epoch`); None: rebuilt, the first claim is taken.
        self._epochs: dict[str, int | None] = {}

    # --- events ----------------------------------------------------------------

    def connect(self, client_id: str, resumable: bool = False, install: str | None = None) -> None:
        if client_id in self._clients or self.away.is_away(client_id):
            raise ValueError(f"client {client_id!r} is already connected")
        self._clients[client_id] = Client(client_id, resumable=resumable, install=install)

    def avoid(self, client_id: str, installs: list[str]) -> int:
        """Never pair `client_id` with these installations from now on; how many it avoids now.

        Nothing is paired by this (it only takes pairs away); past MAX_AVOIDED, the
        oldest are forgotten first. An installation already avoided keeps its age.
        """
        avoided = self._clients[client_id].avoid
        for install in installs:
            avoided[install] = None
        while len(avoided) > MAX_AVOIDED:
            del avoided[next(iter(avoided))]
        return len(avoided)

    def find(
        self, client_id: str, mode: str, topic: str | None, now: float,
        length: int | None = None, talk: str | None = None, favourites: tuple[str, ...] = (),
    ) -> Outgoing:
        client = self._clients[client_id]
        if client.where is Where.IN_SESSION:
            raise refusal("find_in_session")
        wish = Wish(mode, p.normalize_topic(topic), length, talk, tuple(dict.fromkeys(favourites)))
        if client.where is Where.QUEUED and client.wish == wish:
            return [(client_id, queued(wish))]
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
            out += self._end_session(client.id, "skipped", now)
        if client.where is Where.QUEUED:
            # Already searching (for instance the partner skipped first): keep the place.
            return [*out, (client_id, queued(client.wish))]
        return out + self._enqueue(client, now)

    def leave(self, client_id: str, now: float) -> Outgoing:
        client = self._clients[client_id]
        out: Outgoing = []
        if client.where is Where.IN_SESSION:
            out += self._end_session(client.id, "left", now)
        elif client.where is Where.QUEUED:
            self._dequeue(client)
        return [*out, (client_id, p.Idle())]

    def report(self, client_id: str, session_id: str, now: float) -> Outgoing:
        session = self._current_session(client_id, session_id)
        return [*self._end_session(client_id, "reported", now), (client_id, p.Reported(session.id))]

    def signal(self, client_id: str, session_id: str, data: dict[str, object]) -> Outgoing:
        partner, message = self.signal_partner(client_id, session_id), p.Signal(session_id, data)
        return [] if self.away.keep(partner, message) else [(partner, message)]

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

    def disconnect(self, client_id: str, now: float, hold: bool = False) -> Outgoing:
        """The connection is gone; `hold`: its socket dropped and it may resume (its session waits)."""
        client = self._clients.get(client_id)
        if client is None:
            return []
        out: Outgoing = []
        if client.where is Where.IN_SESSION and hold:
            del self._clients[client_id]
            assert client.session is not None and client.wish is not None
            self.away.hold(client_id, client.session, client.wish, now)
            partner = self._sessions[client.session].partner_of(client_id)
            if partner in self._clients:
                out = [(partner, p.PartnerReconnecting(client.session))]
        elif client.where is Where.IN_SESSION:
            out = self._end_session(client.id, "disconnected", now)
        elif client.where is Where.QUEUED:
            self._dequeue(client)
        self._clients.pop(client_id, None)
        self._forget_cooldowns(client_id)
        return out

    def resume_session(self, client_id: str, claim: SessionClaim, now: float) -> Outgoing:
        """A new connection claims one side of a session with a verified ticket."""
        client = self._clients[client_id]
        if client.where is not Where.IDLE:
            raise refusal("ticket_spent")
        session = self._sessions.get(claim.session)
        if session is None:
            reason = self.away.tombstone(claim.session)
            if reason is not None:
                return [(client_id, p.PartnerLeft(claim.session, reason))]
            return self._rebuild(client, claim, now)
        side = session.initiator if claim.initiator else session.responder
        epoch = self._epochs.get(side)
        if epoch is not None and epoch != claim.epoch:
            raise refusal("ticket_spent")
        out: Outgoing = []
        away = self.away.take(side)
        if away is None:  # still connected: the server has not noticed its socket died
            self._clients.pop(side)
            self._forget_cooldowns(side)
            out.append((side, p.Replaced(session.id)))
        del self._epochs[side]
        self._epochs[client_id] = claim.epoch + 1
        session = session.taken_over(side, client_id, client.install)
        self._sessions[session.id] = session
        client.where, client.session = Where.IN_SESSION, session.id
        client.wish, client.resumable = Wish(claim.mode, claim.topic, claim.length, claim.talk), True
        partner = session.partner_of(client_id)
        partner_away = self.away.sides.get(partner)
        partner_wish = partner_away.wish if partner_away is not None else self._clients[partner].wish
        assert partner_wish is not None
        partner_said = p.Partner(partner_wish.mode, partner_wish.topic, session.install_of(partner))
        out.append((client_id, p.Resumed(session.id, claim.initiator, partner_said, study=self.study(session.terms))))
        out += [(client_id, message) for message in (away.kept if away is not None else ())]
        if partner_away is not None:
            out.append((client_id, p.PartnerReconnecting(session.id)))
        else:
            out.append((partner, p.PartnerResumed(session.id)))
        return out

    def resume_queue(self, client_id: str, claim: QueueClaim, now: float) -> Outgoing:
        """A new connection takes back a place in line, as old as the ticket says."""
        client = self._clients[client_id]
        if client.where is not Where.IDLE or not self.away.spend(claim.nonce, now):
            raise refusal("ticket_spent")
        client.wish = Wish(claim.mode, p.normalize_topic(claim.topic), claim.length, claim.talk)
        client.resumable = True
        return self._enqueue(client, now, since=now - max(claim.waited, 0.0))

    def tick(self, now: float) -> Outgoing:
        """Pair waiters whose rematch cool-down has just ended (call about once a second).

        Arrivals pair at once; only an ending cool-down can make two clients who
        are already waiting pairable, so nothing is scanned unless one ended.
        """
        out = self._expire_away(now)
        if not self._cooldown_ends or self._cooldown_ends[0] > now:
            return out
        while self._cooldown_ends and self._cooldown_ends[0] <= now:
            heapq.heappop(self._cooldown_ends)
        for mode in p.MODES:
            for client_id in self.waiting_order(mode):
                client = self._clients[client_id]
                if client.where is not Where.QUEUED:
                    continue  # paired earlier in this pass
                assert client.wish is not None
                if client.wish.favourites:
                    continue  # no cool-down keeps favourites apart: they pair as they come
                partner = self._longest_compatible_waiter(client, client.wish, now, older_than=client.order)
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
        return sum(self._waiting[m].count() + len(self._rendezvous[m].waiters) for m in modes)

    def waiting_order(self, mode: str) -> list[str]:
        """The waiting clients of a mode, longest waiter first."""
        entries = [(key, cid) for b in self._waiting[mode].buckets.values() for cid, key in b.items()]
        entries += [(key, cid) for cid, (key, _) in self._rendezvous[mode].waiters.items()]
        return [cid for _, cid in sorted(entries)]

    def wish_of(self, client_id: str) -> Wish | None:
        return self._clients[client_id].wish

    def session_count(self) -> int:
        """Sessions in progress, those with a side away included."""
        return len(self._sessions)

    def session_by_id(self, session_id: str) -> Session | None:
        return self._sessions.get(session_id)

    def client_count(self) -> int:
        return len(self._clients)

    def sessions(self) -> list[Session]:
        return list(self._sessions.values())

    def in_cooldown(self, a: str, b: str, now: float) -> bool:
        return self._cooldowns.get(a, {}).get(b, float("-inf")) > now

    def avoided(self, a: str, b: str) -> bool:
        """Either of two connected clients avoids the other's installation."""
        return avoids(self._clients[a], self._clients[b])

    # --- the pairing itself ------------------------------------------------------

    def _enqueue(self, client: Client, now: float, since: float | None = None) -> Outgoing:
        wish = client.wish
        assert wish is not None
        out: Outgoing = [(client.id, queued(wish))]
        client.queued_at = now if since is None else since
        favourite = None
        if wish.favourites:
            partner, favourite = favourite_waiter(self._rendezvous[wish.mode], self._clients, client, wish)
        else:
            partner = self._longest_compatible_waiter(client, wish, now)
        if partner is None:
            self._seq += 1
            client.where, client.seq = Where.QUEUED, self._seq
            if wish.favourites:
                self._rendezvous[wish.mode].add(client.id, client.order, wish.favourites)
            else:
                self._waiting[wish.mode].add(bucket_of(wish), client.id, client.order)
            return out
        self._dequeue(partner)
        return out + self._start_session(initiator=partner, responder=client, now=now, favourite=favourite)


    def _longest_compatible_waiter(
        self, client: Client, wish: Wish, now: float, older_than: OrderKey | None = None
    ) -> Client | None:
        return longest_compatible_waiter(
            self._waiting[wish.mode], self._clients, client, wish, lambda other: self.in_cooldown(client.id, other, now),
            older_than,
        )

    def _dequeue(self, client: Client) -> None:
        assert client.wish is not None and client.where is Where.QUEUED
        if client.wish.favourites:
            self._rendezvous[client.wish.mode].remove(client.id)
        else:
            self._waiting[client.wish.mode].remove(bucket_of(client.wish), client.id)
        client.where = Where.IDLE

    def _start_session(
        self, *, initiator: Client, responder: Client, now: float, favourite: str | None = None,
    ) -> Outgoing:
        assert initiator.wish is not None and responder.wish is not None
        terms = agreed_terms(initiator.wish, responder.wish, self._wall_ms())
        installs = (initiator.install, responder.install)
        session = Session(self._new_session_id(), initiator.id, responder.id, now, terms, installs)
        self._sessions[session.id] = session
        for client in (initiator, responder):
            client.where, client.session = Where.IN_SESSION, session.id
            self._epochs[client.id] = 0
        self.matches_total += 1
        self._observe_wait(now - initiator.queued_at)
        self._observe_wait(now - responder.queued_at)
        study = self.study(terms)
        # `partner.avoid` carries the partner's pseudonym as it is: the shell seals it as it sends.
        to_initiator = p.Partner(responder.wish.mode, responder.wish.topic, responder.install)
        to_responder = p.Partner(initiator.wish.mode, initiator.wish.topic, initiator.install)
        return [
            (initiator.id, p.Matched(session.id, True, to_initiator, study=study, favourite=favourite)),
            (responder.id, p.Matched(session.id, False, to_responder, study=study, favourite=favourite)),
        ]

    def study(self, terms: Terms) -> p.Study:
        """The `study` of `matched` and `resumed`; the shell sets `now` as it sends it."""
        return study_of(terms, self.study_minute_ms)

    def _end_session(self, side: str, reason: str, now: float) -> Outgoing:
        """`side` ended its session (or, away, ran out of grace); its partner is told `reason`.

        An away partner is told nothing now: the session's tombstone tells it when it resumes.
        """
        client = self._clients.get(side)
        session_id = client.session if client is not None else self.away.sides[side].session
        assert session_id is not None
        session = self._sessions.pop(session_id)
        partner_id = session.partner_of(side)
        resumable = False
        for cid in (side, partner_id):
            self._epochs.pop(cid, None)
            resumable |= self.away.take(cid) is not None
            c = self._clients.get(cid)
            if c is not None:
                c.where, c.session = Where.IDLE, None
                resumable |= c.resumable
        if resumable:
            self.away.bury(session.id, reason, now)
        if reason in COOLDOWN_REASONS and side in self._clients and partner_id in self._clients:
            until = now + self.rematch_cooldown
            for a, b in ((side, partner_id), (partner_id, side)):
                mine = self._cooldowns.setdefault(a, {})
                # Prune as we go, so a long-lived connection's table stays small.
                for expired in [o for o, t in mine.items() if t <= now]:
                    del mine[expired]
                mine[b] = until
            heapq.heappush(self._cooldown_ends, until)
        if partner_id not in self._clients:
            return []
        return [(partner_id, p.PartnerLeft(session.id, reason))]

    def _expire_away(self, now: float) -> Outgoing:
        """End the sessions whose away side ran out of grace, unless the partner is away for longer."""
        self.away.forget(now)
        out: Outgoing = []
        for side in self.away.due(now):
            away = self.away.sides.get(side)
            if away is None:
                continue  # both sides were due: the session ended with the first
            session = self._sessions[away.session]
            until = self.away.away_until(session.partner_of(side))
            if until is None or until <= now:
                out += self._end_session(side, "timeout", now)
            else:
                self.away.defer(side)
        return out

    def _rebuild(self, client: Client, claim: SessionClaim, now: float) -> Outgoing:
        """A session this core never knew (a restart): its claimed side back, the other away."""
        other = f"~{claim.session}~{'r' if claim.initiator else 'i'}"  # no connection id looks like it
        sides = (client.id, other) if claim.initiator else (other, client.id)
        # A ticket from before study sessions: an open session starting now.
        terms = claim.terms if claim.terms is not None else Terms(None, "talk", self._wall_ms())
        installs = (client.install, None) if claim.initiator else (None, client.install)
        session = Session(claim.session, sides[0], sides[1], now, terms, installs)
        self._sessions[session.id] = session
        self.away.hold(other, session.id, Wish(claim.partner_mode, claim.partner_topic), now)
        self._epochs[client.id], self._epochs[other] = claim.epoch + 1, None
        client.where, client.session = Where.IN_SESSION, session.id
        client.wish, client.resumable = Wish(claim.mode, claim.topic, claim.length, claim.talk), True
        partner = p.Partner(claim.partner_mode, claim.partner_topic)
        return [
            (client.id, p.Resumed(session.id, claim.initiator, partner, study=self.study(terms))),
            (client.id, p.PartnerReconnecting(session.id)),
        ]

    def _forget_cooldowns(self, client_id: str) -> None:
        for other in self._cooldowns.pop(client_id, {}):
            self._cooldowns.get(other, {}).pop(client_id, None)

    def _current_session(self, client_id: str, session_id: str) -> Session:
        current = self._clients[client_id].session
        if current != session_id or current is None:
            raise refusal("not_your_session")
        return self._sessions[current]
