"""The server's I/O shell: WebSocket connections in, `Backend` calls out.

Each connection has a reader (this module's handler: decode, check limits,
call the backend) and a `Connection` (`server/ws/connection.py`) that sends
without awaiting through a small bounded outbox. The backend delivers through
`deliver()`, which never awaits: a message for a client that stopped reading
fills only that client's outbox, and a full outbox drops that client. So no
client can stall another one's handler.

Errors become wire `error` messages in one place, `Connection.fail()`.
The shell talks to the backend only through the `Backend` protocol and
never assumes it is in this process.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import re
from collections.abc import AsyncIterator, Callable
from typing import Any, cast

from websockets.asyncio.server import Server as WsServer
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.frames import CloseCode
from websockets.http11 import Request, Response

from server.backends.base import Backend
from server.backends.memory import MemoryBackend
from server.config import ServerConfig
from server.core import codec, texts
from server.core import protocol as p
from server.ws.connection import Connection, event
from server.ws.http import WS_PATH, make_process_request
from server.ws.metrics import Metrics
from server.ws.security import Security, tls_context
from server.ws.wsconn import RelayConnection

log = logging.getLogger("studymatch.server")
_SAFE = re.compile(r"[^A-Za-z0-9_.:/+-]")


def make_backend(config: ServerConfig) -> Backend:
    if config.backend == "memory":
        return MemoryBackend(rematch_cooldown=config.rematch_cooldown, **config.backend_options)
    try:
        from server.backends.redis.backend import RedisBackend
    except ModuleNotFoundError as exc:
        if exc.name not in ("server.backends.redis.backend", "redis"):
            raise
        raise RuntimeError(texts.REDIS_BACKEND_MISSING) from exc
    backend: Backend = RedisBackend(
        url=config.redis_url, rematch_cooldown=config.rematch_cooldown, **config.backend_options
    )
    return backend


SignalPartner = Callable[[str, str], str]


class Server:
    """One listening server; `async with running_server(config) as srv` in tests."""

    def __init__(self, config: ServerConfig, backend: Backend | None = None) -> None:
        self.config = config
        self.backend = backend if backend is not None else make_backend(config)
        self.metrics = Metrics(self.backend.stats)
        # A shared backend keeps reports for every instance (server/core/abuse.py's AbuseStore).
        shared_abuse = getattr(self.backend, "abuse_store", None)
        abuse = (
            shared_abuse(config.report_threshold, config.report_window, config.report_penalty)
            if shared_abuse is not None else None
        )
        self.security = Security(config, self.metrics, abuse=abuse)
        self.codec = codec.best()  # orjson when installed: same messages, less CPU
        self._clients: dict[str, Connection] = {}  # said hello, known to the backend
        self._connections: set[Connection] = set()  # every open WebSocket
        self._tasks: set[asyncio.Task[None]] = set()
        self._ws_server: WsServer | None = None
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
        http_answers = make_process_request(
            self.backend.stats, lambda: len(self._connections), lambda: self.closing, self.metrics
        )

        def process_request(connection: ServerConnection, request: Request) -> Response | None:
            refusal = self.security.process_request(connection, request)
            return refusal if refusal is not None else http_answers(connection, request)

        self._ws_server = await serve(
            self._handle,
            config.host,
            config.port,
            ssl=tls_context(config),
            process_request=process_request,
            max_size=config.max_frame_bytes,
            ping_interval=config.ping_interval,
            ping_timeout=config.ping_timeout,
            close_timeout=config.close_timeout,
            create_connection=RelayConnection,
            compression=None,  # per-message deflate costs ~64 KiB of zlib state per connection
            logger=logging.getLogger("studymatch.server.websockets"),
        )
        sockname = next(iter(self._ws_server.sockets)).getsockname()
        self.port = sockname[1]
        loop = type(asyncio.get_running_loop()).__module__.split(".")[0]  # asyncio or uvloop
        event("listening", url=self.url, backend=self.backend.name, loop=loop, json=self.codec.name)

    async def stop(self) -> None:
        """Tell every client `shutdown`, close them, then stop the backend."""
        if self._ws_server is None or self.closing:
            return
        self.closing = True
        event("shutdown", connections=len(self._connections))
        self._ws_server.close(close_connections=False)  # no new connections from here on
        for conn in list(self._connections):
            conn.send(p.Shutdown(self.config.shutdown_retry_after))
            conn.close(CloseCode.GOING_AWAY, texts.CLOSE_SHUTDOWN)
        grace = self.config.close_timeout + 1.0
        try:
            async with asyncio.timeout(grace):
                await self._ws_server.wait_closed()
        except TimeoutError:
            for conn in list(self._connections):
                conn.ws.transport.abort()
            try:
                async with asyncio.timeout(grace):
                    await self._ws_server.wait_closed()
            except TimeoutError:
                # A handler stuck in an await (say, a backend that no longer answers)
                # must not hold the exit: SIGTERM promises one.
                event("shutdown_incomplete", logging.WARNING, handlers=len(self._connections))
        if self._tasks:
            _done, pending = await asyncio.wait(self._tasks, timeout=grace)
            for task in pending:
                task.cancel()
        await self.backend.close()
        event("stopped")

    def spawn(self, coro: Any) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # --- the backend's side ------------------------------------------------------

    def deliver(self, client_id: str, message: p.ServerMessage) -> None:
        conn = self._clients.get(client_id)
        if conn is None:
            return  # gone already; the backend has been or is being told
        if isinstance(message, p.Signal):
            self.metrics.relayed += 1
        conn.send(message)

    async def detach(self, conn: Connection) -> None:
        """Take a client out of the backend exactly once, however it left."""
        if not conn.attached:
            return
        conn.attached = False
        self._clients.pop(conn.id, None)
        try:
            await self.backend.disconnect(conn.id)
        except Exception:
            log.exception("event=backend_disconnect_failed id=%s", conn.id)

    # --- one connection ------------------------------------------------------------

    async def _handle(self, ws: ServerConnection) -> None:
        loop = asyncio.get_running_loop()
        conn = Connection(self, cast(RelayConnection, ws), loop.time())  # create_connection=
        self._connections.add(conn)
        self.metrics.connections = len(self._connections)
        gate = self.security.gate
        conn.address = gate.address(ws, ws.request.headers) if ws.request else "-"
        conn.ws.forget_handshake_headers()  # read above, never again: ~1 KB per connection
        try:
            if not gate.opened(conn.address):
                # Handshakes that raced past the 429 check: one too many, closed at once.
                self.metrics.auth_failures["ip_limit"] += 1
                conn.close(CloseCode.POLICY_VIOLATION, texts.CLOSE_TOO_MANY_CONNECTIONS)
            elif self.closing:
                conn.send(p.Shutdown(self.config.shutdown_retry_after))
                conn.close(CloseCode.GOING_AWAY, texts.CLOSE_SHUTDOWN)
            elif await self._greet(conn):
                await self._serve(conn)
        except ConnectionClosed:
            pass
        except Exception:
            # One handler's bug must not take the server (or anyone else) down.
            log.exception("event=handler_failed id=%s", conn.id)
            conn.drop("internal")
        finally:
            gate.closed(conn.address)
            await self.detach(conn)
            await conn.flush_and_wait()
            self._connections.discard(conn)
            self.metrics.connections = len(self._connections)
            event("disconnected", id=conn.id, code=ws.close_code)

    async def _greet(self, conn: Connection) -> bool:
        """The hello handshake; True when the client may go on."""
        config = self.config
        try:
            async with asyncio.timeout(config.hello_timeout):
                frame = await conn.ws.recv()
            conn.ws.message_done()  # nothing else is read before it is handled
        except TimeoutError:
            self.metrics.dropped["hello_timeout"] += 1
            conn.fail(p.ProtocolError(p.ErrorCode.HELLO_REQUIRED,
                                      texts.HELLO_TIMEOUT.format(seconds=config.hello_timeout)))
            return False
        try:
            hello = self.codec.decode_client(frame)
        except p.ProtocolError:
            hello = None
        if not isinstance(hello, p.Hello):
            conn.fail(p.ProtocolError(p.ErrorCode.HELLO_REQUIRED, texts.HELLO_REQUIRED))
            return False
        if hello.protocol != p.PROTOCOL_VERSION:
            conn.fail(p.ProtocolError(
                p.ErrorCode.UNSUPPORTED_PROTOCOL,
                texts.UNSUPPORTED_PROTOCOL.format(supported=p.PROTOCOL_VERSION, asked=hello.protocol),
            ))
            return False
        try:
            admitted = self.security.admit(hello)
        except p.ProtocolError as error:
            conn.fail(error)
            return False
        if admitted.subject is not None:
            conn.abuse_key = "sub:" + admitted.subject
        self._clients[conn.id] = conn
        conn.attached = True
        await self.backend.connect(conn.id, conn.abuse_key)
        ice_servers = self.security.ice_servers(conn.id)
        conn.send(p.Welcome(id=conn.id, ice_servers=ice_servers, limits=config.limits()))
        event("hello", id=conn.id, client=_SAFE.sub("_", hello.client or "-")[:32])
        return True

    async def _serve(self, conn: Connection) -> None:
        loop = asyncio.get_running_loop()
        # A backend that can name a signal's recipient without awaiting (the memory one)
        # lets the shell relay it straight from the socket's read (see `_relay_now`).
        route: SignalPartner | None = getattr(self.backend, "signal_partner", None)
        if route is not None:
            conn.ws.on_message = functools.partial(self._relay_now, conn, route, loop.time)
        try:
            async for frame in conn.ws:
                try:
                    if conn.closing:
                        break
                    now = loop.time()
                    if not conn.bucket.allow(now):
                        if not conn.strikes.allow(now):
                            # Out of the backend at once (finally:), the errors so far still delivered.
                            self.metrics.dropped["abuse"] += 1
                            event("dropped", id=conn.id, reason="abuse")
                            conn.close(CloseCode.POLICY_VIOLATION, texts.CLOSE_ABUSE)
                            break
                        conn.fail(p.ProtocolError(p.ErrorCode.RATE_LIMITED, texts.RATE_LIMITED))
                        continue
                    try:
                        await self._dispatch(conn, self.codec.decode_client(frame), now)
                    except p.ProtocolError as error:
                        conn.fail(error)
                finally:
                    conn.ws.message_done()
        finally:
            conn.ws.on_message = None

    def _relay_now(self, conn: Connection, route: SignalPartner, clock: Callable[[], float], text: str) -> bool:
        """The common case without a task switch: a signal, within the rate, to a backend that
        names its recipient without awaiting. True when done; False leaves the message to
        `_serve`, which decides everything else exactly as before: nothing is spent or sent
        before that answer (decoding is pure, and the bucket spends a token only when it allows).

        The same steps as `_dispatch` -> `backend.signal` -> `deliver`, in one function:
        a paced signal wakes the server alone, so every Python call on this path counts.
        """
        if conn.closing:
            return False
        # A valid signal's fields, checked as decode_client checks them, without building
        # the message (anything else, valid or not, is `_serve`'s to decode and answer).
        parts = self.codec.signal_parts(text)
        if parts is None or not conn.bucket.allow(clock()):
            return False
        session, data = parts
        try:
            partner = self._clients.get(route(conn.id, session))  # the backend's session check
            if partner is not None:  # else gone already; the backend has been or is being told
                self.metrics.relayed += 1
                partner.send_encoded(self.codec.signal(session, data))
        except p.ProtocolError as error:
            conn.fail(error)
        except Exception:
            log.exception("event=handler_failed id=%s", conn.id)
            conn.drop("internal")
        return True

    async def _dispatch(self, conn: Connection, msg: p.ClientMessage, now: float) -> None:
        backend, cid = self.backend, conn.id
        if isinstance(msg, p.Signal):
            await backend.signal(cid, msg.session, msg.data)
        elif isinstance(msg, (p.Find, p.Skip)):
            if not conn.finds.allow(now):
                raise p.ProtocolError(p.ErrorCode.RATE_LIMITED, texts.FINDS_LIMITED)
            await self.security.check_may_match(conn.abuse_key)
            if isinstance(msg, p.Find):
                event("find", logging.DEBUG, id=cid, mode=msg.mode)
                await backend.find(cid, msg.mode, msg.topic)
            else:
                await backend.skip(cid)
        elif isinstance(msg, p.Cancel):
            await backend.cancel(cid)
        elif isinstance(msg, p.Leave):
            await backend.leave(cid)
        elif isinstance(msg, p.Report):
            event("report", id=cid, session=msg.session)
            await self._report(conn, msg)
        elif isinstance(msg, p.Hello):
            raise p.ProtocolError(p.ErrorCode.BAD_MESSAGE, texts.HELLO_AGAIN)


    async def _report(self, conn: Connection, msg: p.Report) -> None:
        # The backend ends the session, so it says who was on the other side (and the
        # key their reports follow, which the partner's instance, maybe not this one, knows).
        partner = await self.backend.report(conn.id, msg.session, msg.reason)
        if partner is not None:
            await self.security.record_report(
                conn.abuse_key, partner.abuse_key, msg.reason,
                reporter_id=conn.id, reported_id=partner.client_id,
            )


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
