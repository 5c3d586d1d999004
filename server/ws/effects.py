"""What a client's session decided, applied: replies, closes and the backend's requests.

`ClientSession` (`server/core/session.py`) turns each message into effects;
`Effects.run` applies them in order, the same way on every backend. Most
effects finish at once; one that must wait (a backend's request, a relay
through Redis) goes on in a task, and the client's next messages wait
behind it in its inbox, so a client's messages are always handled in the
order they came.

Errors become wire `error` messages in one place, `Effects.refuse`: a
refusal raised while applying an effect goes back through the session
(`ClientSession.refused`), which decides whether it also closes.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from server.backends.base import Backend
from server.config import ServerConfig
from server.core import protocol as p
from server.core.avoidtokens import AvoidSeal
from server.core.session import (
    AvoidPartners,
    CancelFind,
    Close,
    Effect,
    FindPartner,
    Greet,
    LeaveSession,
    Refuse,
    Relay,
    Reply,
    ReportPartner,
    ResumeSession,
    SkipPartner,
)
from server.core.tickets import TicketBook, Tickets
from server.ws.connection import Connection, event
from server.ws.metrics import Metrics
from server.ws.security import Security

log = logging.getLogger("studymatch.server")
_SAFE = re.compile(r"[^A-Za-z0-9_.:/+-]")


class Effects:
    """Applies sessions' effects for one server."""

    def __init__(
        self,
        config: ServerConfig,
        backend: Backend,
        security: Security,
        metrics: Metrics,
        clients: dict[str, Connection],
        spawn: Callable[[Any], asyncio.Task[None]],
        detach: Callable[..., Awaitable[None]],
        tickets: Tickets,
        seal: AvoidSeal,
    ) -> None:
        self.config = config
        self.backend = backend
        self.security = security
        self.metrics = metrics
        self.clients = clients  # said hello, known to the backend
        self.spawn = spawn
        self.detach = detach  # detach(conn, hold=False)
        self.tickets = tickets
        self.seal = seal  # avoid tokens: read here, made as `matched` and `resumed` go out (app.py)

    def run(self, conn: Connection, effects: Sequence[Effect]) -> None:
        """Apply `effects` in order; from the first that must wait on, a task goes on."""
        for index, effect in enumerate(effects):
            if conn.closing:
                return  # what was decided before the close has been applied; nothing after it
            try:
                if type(effect) is Relay:  # nearly every effect is one: no call, no match
                    pending = self.backend.signal(conn.id, effect.session, effect.data)
                else:
                    pending = self._apply(conn, effect)
            except p.ProtocolError as error:
                self.refuse(conn, error)
                continue
            except Exception:
                log.exception("event=handler_failed id=%s", conn.id)
                conn.drop("internal")
                return
            if pending is not None:
                conn.busy = True
                self.spawn(self._resume(conn, pending, effects[index + 1 :]))
                return

    def refuse(self, conn: Connection, error: p.ProtocolError) -> None:
        assert conn.session is not None
        self.run(conn, conn.session.refused(error))

    async def _resume(self, conn: Connection, pending: Awaitable[None], rest: Sequence[Effect]) -> None:
        """Wait for one request, then go on with what came behind it, in order."""
        try:
            await pending
        except p.ProtocolError as error:
            self.refuse(conn, error)
        except Exception:
            # One client's bug must not take the server (or anyone else) down.
            log.exception("event=handler_failed id=%s", conn.id)
            conn.drop("internal")
        conn.busy = False
        self.run(conn, rest)
        loop = asyncio.get_running_loop()
        while not conn.busy and (frame := conn.next_message()) is not None:
            assert conn.session is not None
            self.run(conn, conn.session.receive(frame, loop.time()))

    def _apply(self, conn: Connection, effect: Effect) -> Awaitable[None] | None:
        """Every effect but `Relay`, which `run` applies itself."""
        backend = self.backend
        match effect:
            case Reply(message):
                conn.send(message)
            case Refuse(error):
                self.metrics.errors[error.code] += 1
                event("error", logging.DEBUG, id=conn.id, code=error.code)
                conn.send(p.Error(error.code, error.message))
            case Close(code, reason, dropped, hold):
                if dropped is not None:
                    self.metrics.dropped[dropped] += 1
                    event("dropped", id=conn.id, reason=dropped)
                conn.close(code, reason)
                self.spawn(self.detach(conn, hold=hold))  # out of the backend at once
            case Greet(hello):
                return self._greet(conn, hello)
            case FindPartner(mode, topic, length, talk, favourites):
                return self._find(conn, mode, topic, length, talk, favourites)
            case AvoidPartners(tokens):
                return self._avoid(conn, tokens)
            case SkipPartner():
                return self._skip(conn)
            case CancelFind():
                return backend.cancel(conn.id)
            case LeaveSession():
                return backend.leave(conn.id)
            case ReportPartner(session, reason):
                event("report", id=conn.id, session=session)
                return self._report(conn, session, reason)
            case ResumeSession(ticket):
                return self._resume_ticket(conn, ticket)
        return None

    async def _greet(self, conn: Connection, hello: p.Hello) -> None:
        conn.cancel_hello_deadline()
        admitted = self.security.admit(hello)
        if admitted.subject is not None:
            conn.abuse_key = "sub:" + admitted.subject
        self.clients[conn.id] = conn
        conn.attached = True
        conn.wants_counts = hello.counts is True
        if hello.resume:
            conn.tickets = TicketBook(self.tickets, conn.abuse_key)
        await self.backend.connect(conn.id, conn.abuse_key, resumable=conn.tickets is not None, install=hello.install)
        ice_servers = self.security.ice_servers(conn.id)
        conn.send(p.Welcome(id=conn.id, ice_servers=ice_servers, limits=self.config.limits()))
        event("hello", id=conn.id, client=_SAFE.sub("_", hello.client or "-")[:32])

    async def _resume_ticket(self, conn: Connection, ticket: str) -> None:
        """Back where a verified ticket says; the backend delivers the answer (the book adds tickets)."""
        book = conn.tickets
        assert book is not None  # the session refuses `resume` without `"resume": true` in hello
        now = time.time()
        try:
            subject = conn.abuse_key if conn.abuse_key.startswith("sub:") else None
            claim = self.tickets.verify(ticket, now, subject)
            book.resumed_with(claim, now)
            await self.backend.resume(conn.id, claim)
        except p.ProtocolError:
            self.metrics.resumes["bad_ticket"] += 1
            conn.tickets = TicketBook(self.tickets, conn.abuse_key)  # nothing changes
            raise
        conn.abuse_key = claim.abuse_key  # reports keep following the first connection's key
        outcome = book.settle()
        if outcome is not None:
            self.metrics.resumes[outcome] += 1
        event("resume", id=conn.id, outcome=outcome or "-")

    async def _find(
        self, conn: Connection, mode: str, topic: str | None, length: int | None, talk: str | None,
        favourites: tuple[str, ...],
    ) -> None:
        await self.security.check_may_match(conn.abuse_key)
        event("find", logging.DEBUG, id=conn.id, mode=mode, favourite=bool(favourites))
        await self.backend.find(conn.id, mode, topic, length, talk, favourites)

    async def _avoid(self, conn: Connection, tokens: tuple[str, ...]) -> None:
        """The installations the readable tokens name join this client's avoid set; the others change nothing."""
        installs = [install for token in tokens if (install := self.seal.unseal(token)) is not None]
        unreadable = len(tokens) - len(installs)
        self.metrics.avoid_tokens["taken"] += len(installs)
        self.metrics.avoid_tokens["unreadable"] += unreadable
        if unreadable:
            event("avoid_unreadable", id=conn.id, tokens=unreadable)
        count = await self.backend.avoid(conn.id, installs)
        conn.send(p.Avoiding(count))

    async def _skip(self, conn: Connection) -> None:
        await self.security.check_may_match(conn.abuse_key)
        await self.backend.skip(conn.id)

    async def _report(self, conn: Connection, session: str, reason: str) -> None:
        # The backend ends the session, so it says who was on the other side (and the
        # key their reports follow, which the partner's instance, maybe not this one, knows).
        partner = await self.backend.report(conn.id, session, reason)
        if partner is not None:
            await self.security.record_report(
                conn.abuse_key, partner.abuse_key, reason,
                reporter_id=conn.id, reported_id=partner.client_id,
            )
