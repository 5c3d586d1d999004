"""The server's I/O shell: WebSocket connections in, `Backend` calls out.

Each socket is a `Connection` (`server/ws/connection.py`: websockets'
sans-I/O protocol and a bounded outbox); each client that opened a
WebSocket has a `ClientSession` (`server/core/session.py`) that decides
what every message means. This module carries one to the other: a whole
message goes to the session with the time, and the effects it returns are
applied here in order (`server/ws/effects.py`). The backend delivers
through `deliver()`, which never awaits: a message for a client that
stopped reading fills only that client's outbox, and a full outbox drops
that client. So no client can stall another.

The shell talks to the backend only through the `Backend` protocol and
never assumes it is in this process.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from websockets.frames import CloseCode
from websockets.http11 import Request, Response

from server.backends.base import Backend
from server.backends.memory import MemoryBackend
from server.config import ServerConfig
from server.core import codec, texts
from server.core import protocol as p
from server.core.avoidtokens import AvoidSeal
from server.core.session import ClientSession, SessionLimits
from server.core.tickets import Tickets
from server.ws.connection import Connection, Writes, event
from server.ws.counts import CountsTicker
from server.ws.effects import Effects
from server.ws.gate import Peer
from server.ws.http import WS_PATH, make_process_request
from server.ws.keyfile import ticket_key
from server.ws.metrics import Metrics
from server.ws.security import Security, tls_context
from server.ws.web import load as load_web_files

log = logging.getLogger("studymatch.server")


def make_backend(config: ServerConfig) -> Backend:
    if config.backend == "memory":
        return MemoryBackend(
            rematch_cooldown=config.rematch_cooldown, resume_grace=config.resume_grace,
            ticket_ttl=config.ticket_ttl, study_minute=config.study_minute, **config.backend_options,
        )
    try:
        from server.backends.redis.backend import RedisBackend
    except ModuleNotFoundError as exc:
        if exc.name not in ("server.backends.redis.backend", "redis"):
            raise
        raise RuntimeError(texts.REDIS_BACKEND_MISSING) from exc
    backend: Backend = RedisBackend(
        url=config.redis_url, rematch_cooldown=config.rematch_cooldown, resume_grace=config.resume_grace,
        ticket_ttl=config.ticket_ttl, study_minute=config.study_minute, **config.backend_options,
    )
    return backend


class Server:
    """One listening server; `async with running_server(config) as srv` in tests."""

    def __init__(self, config: ServerConfig, backend: Backend | None = None) -> None:
        self.config = config
        self.backend = backend if backend is not None else make_backend(config)
        self._connections: set[Connection] = set()  # every open WebSocket
        self.metrics = Metrics(self.backend.stats, self._open_count, self._online)
        # Where reports are counted: this process's memory, or a store a shared backend offers.
        abuse = self.backend.abuse_store(config.report_threshold, config.report_window, config.report_penalty)
        self.security = Security(config, self.metrics, abuse=abuse)
        self.codec = codec.best()  # orjson when installed: same messages, less CPU
        self.writes = Writes()
        self.limits = SessionLimits(
            rate_messages=config.rate_messages,
            rate_burst=config.rate_burst,
            abuse_strikes=config.rate_abuse_strikes,
            finds_per_minute=config.rate_finds_per_minute,
            hello_timeout=config.hello_timeout,
        )
        self._clients: dict[str, Connection] = {}  # said hello, known to the backend
        self._sockets: set[Connection] = set()  # every TCP connection, handshakes included
        self._emptied: asyncio.Future[None] | None = None  # stop() waits on it
        self._tasks: set[asyncio.Task[None]] = set()
        key = ticket_key(config)
        self.tickets = Tickets(key, config.ticket_ttl)
        self.seal = AvoidSeal(key)  # every instance sharing the ticket key reads the others' avoid tokens
        self._refresher: asyncio.Task[None] | None = None
        self.counts = CountsTicker(self.backend, self._clients, self.metrics)
        self.effects = Effects(
            config, self.backend, self.security, self.metrics, self._clients, self.spawn, self.detach,
            self.tickets, self.seal,
        )
        self._http: Callable[[Peer, Request], Response | None] | None = None
        self._clock: Callable[[], float] = time.monotonic  # the loop's, from start()
        self._listener: asyncio.Server | None = None
        self.closing = False
        self.host = config.host
        self.port = config.port

    # --- lifecycle -------------------------------------------------------------

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        scheme = "wss" if self.config.tls_cert else "ws"
        return f"{scheme}://{host}:{self.port}{WS_PATH}"

    @property
    def http_url(self) -> str:
        return self.url.replace("ws", "http", 1).removesuffix(WS_PATH)

    def reload_access(self) -> None:
        self.security.reload_access()

    async def start(self) -> None:
        self.backend.attach(self.deliver, self.metrics.match_wait.observe)
        await self.backend.start()
        config = self.config
        self._http = make_process_request(
            self.backend.stats, self._open_count, lambda: self.closing, self.metrics, self._online,
            web=None if config.no_web else load_web_files(), tls=config.tls_cert is not None,
        )
        loop = asyncio.get_running_loop()
        self._clock = loop.time
        self._listener = await loop.create_server(
            lambda: Connection(self), config.host, config.port, ssl=tls_context(config)
        )
        self.port = self._listener.sockets[0].getsockname()[1]
        self._refresher = loop.create_task(self._refresh_tickets(), name="ticket-refresh")
        self.counts.start()
        loop_name = type(loop).__module__.split(".")[0]  # asyncio or uvloop
        event("listening", url=self.url, backend=self.backend.name, loop=loop_name, json=self.codec.name)

    async def stop(self) -> None:
        """Tell every client `shutdown`, close them, then stop the backend; bounded in time."""
        if self._listener is None or self.closing:
            return
        self.closing = True
        if self._refresher is not None:
            self._refresher.cancel()
        event("shutdown", connections=len(self._connections))
        self._listener.close()  # no new connections from here on
        for conn in list(self._connections):
            if conn.session is not None:
                self.effects.run(conn, conn.session.shutdown(self.config.shutdown_retry_after))
        grace = self.config.close_timeout + 1.0
        if not await self._all_closed(grace):
            for conn in list(self._sockets):
                conn.abort()
            await self._all_closed(grace)
        stuck = len(self._sockets)
        if self._tasks:
            # A request stuck in an await (say, a backend that no longer answers) must
            # not hold the exit: SIGTERM promises one.
            _done, pending = await asyncio.wait(self._tasks, timeout=grace)
            for task in pending:
                task.cancel()
            stuck += len(pending)
        if stuck:
            event("shutdown_incomplete", logging.WARNING, handlers=stuck)
        await self.counts.close(grace)
        await self.backend.close()
        event("stopped")

    async def _all_closed(self, within: float) -> bool:
        if not self._sockets:
            return True
        self._emptied = asyncio.get_running_loop().create_future()
        try:
            async with asyncio.timeout(within):
                await self._emptied
        except TimeoutError:
            return False
        return True

    def spawn(self, coro: Any) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _open_count(self) -> int:
        return len(self._connections)

    def _online(self) -> int:
        return self.counts.online()

    # --- the backend's side ------------------------------------------------------

    def deliver(self, client_id: str, message: p.ServerMessage) -> None:
        conn = self._clients.get(client_id)
        if conn is None:
            return  # gone already; the backend has been or is being told
        kind = type(message)
        if kind is p.Signal:
            self.metrics.relayed += 1
        else:
            self.counts.observe(client_id, message)
            if kind is p.Matched or kind is p.Resumed:
                message = self._sealed(_stamped(message, self.backend.wall_ms()))
                if isinstance(message, p.Matched) and message.initiator:
                    if message.study is not None:
                        self.metrics.count_match(message.study)
                    if message.favourite is not None:
                        self.metrics.favourite_matches += 1
            if conn.tickets is not None:
                message = conn.tickets.observe(message, time.time())  # with its ticket
        conn.send(message)
        if kind is p.Replaced:
            # Another connection took this one's place with its ticket; the backend forgot this
            # id already, so it leaves without a `disconnect` (which would end the session).
            conn.attached = False
            self._clients.pop(conn.id, None)
            self.counts.forget(conn.id)
            conn.close(CloseCode.NORMAL_CLOSURE, texts.CLOSE_REPLACED)

    def _sealed(self, message: p.ServerMessage) -> p.ServerMessage:
        """`partner.avoid` as the backend gives it is the partner's pseudonym: sealed afresh for each message."""
        if not isinstance(message, (p.Matched, p.Resumed)) or message.partner.avoid is None:
            return message
        partner = dataclasses.replace(message.partner, avoid=self.seal.seal(message.partner.avoid))
        return dataclasses.replace(message, partner=partner)

    async def detach(self, conn: Connection, hold: bool = False) -> None:
        """Take a client out of the backend exactly once, however it left.

        `hold`: a resuming client's socket dropped; its session waits for it through the grace.
        """
        if not conn.attached:
            return
        conn.attached = False
        self._clients.pop(conn.id, None)
        self.counts.forget(conn.id)
        try:
            await self.backend.disconnect(conn.id, hold=hold)
        except Exception:
            log.exception("event=backend_disconnect_failed id=%s", conn.id)

    async def _refresh_tickets(self) -> None:
        """A fresh `ticket` to every resuming client whose present one is half through its life."""
        while True:
            await asyncio.sleep(self.config.ticket_ttl / 4)
            now = time.time()
            for conn in list(self._clients.values()):
                fresh = conn.tickets.refresh(now) if conn.tickets is not None else None
                if fresh is not None:
                    conn.send(fresh)

    # --- the connections' side (server/ws/connection.py calls these) --------------------

    def made(self, conn: Connection) -> None:
        self._sockets.add(conn)

    def handshake(self, conn: Connection, request: Request) -> Response | None:
        """The HTTP answer to a request (a refusal, /healthz, /metrics, 404), or None for /ws."""
        refusal = self.security.process_request(conn, request)
        if refusal is not None:
            return refusal
        assert self._http is not None
        answer = self._http(conn, request)
        if answer is None:
            conn.address = self.security.gate.address(conn, request.headers)
        return answer

    def opened(self, conn: Connection) -> None:
        self._connections.add(conn)
        if not self.security.gate.opened(conn.address):
            # Handshakes that raced past the 429 check: one too many, closed at once.
            self.metrics.auth_failures["ip_limit"] += 1
            conn.close(CloseCode.POLICY_VIOLATION, texts.CLOSE_TOO_MANY_CONNECTIONS)
            return
        session = conn.session = ClientSession(self.limits, self.codec, self._clock())
        if self.closing:
            self.effects.run(conn, session.shutdown(self.config.shutdown_retry_after))
            return
        conn.set_hello_deadline(session.hello_deadline, self._hello_late)

    def _hello_late(self, conn: Connection) -> None:
        if conn.session is not None:
            self.effects.run(conn, conn.session.expire(self._clock()))

    def received(self, conn: Connection, frame: str | bytes) -> None:
        """One whole message, in order: the session decides, the effects are applied."""
        session = conn.session
        assert session is not None  # a connection without one is closing and reads nothing
        try:
            effects = session.receive(frame, self._clock())
        except Exception:
            # One client's bug must not take the server (or anyone else) down.
            log.exception("event=handler_failed id=%s", conn.id)
            conn.drop("internal")
            return
        self.effects.run(conn, effects)

    def lost(self, conn: Connection) -> None:
        self._sockets.discard(conn)
        if conn in self._connections:
            self._connections.discard(conn)
            self.security.gate.closed(conn.address)  # opened() counted every open WebSocket
            # A resuming client whose socket dropped (not closed with 1000) keeps its place; one the
            # server closed or dropped was detached already, without.
            dropped = conn.tickets is not None and conn.close_code != CloseCode.NORMAL_CLOSURE
            self.spawn(self.detach(conn, hold=dropped))
            event("disconnected", id=conn.id, code=conn.close_code)
        if not self._sockets and self._emptied is not None and not self._emptied.done():
            self._emptied.set_result(None)


@contextlib.asynccontextmanager
async def running_server(
    config: ServerConfig | None = None, backend: Backend | None = None
) -> AsyncIterator[Server]:
    """A started server (port 0 by default), stopped on exit."""
    server = Server(config if config is not None else ServerConfig(port=0), backend)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


def _stamped(message: p.ServerMessage, now_ms: int) -> p.ServerMessage:
    """`matched` or `resumed` with `study.now`: the sessions' clock as it is sent (the backend's
    `wall_ms`; the offset a client corrects its countdown by)."""
    if not isinstance(message, (p.Matched, p.Resumed)) or message.study is None:
        return message
    return dataclasses.replace(message, study=dataclasses.replace(message.study, now=now_ms))
