"""The client's connection to the StudyMatch server (docs/protocol.md).

One websocket at a time: hello -> welcome, then every server message handed
to the engine in order. When the server cannot be reached or goes away, the
channel says so (`on_disconnected(retry_in, message)`) and tries again with a
capped, jittered exponential backoff (client/backoff.py); `shutdown` sets a
floor on the next wait (a restarting server's sessions wait for us: the
engine resumes them after the next welcome). A refusal the server will repeat forever
(unsupported_protocol, unauthorized) stops the retries.

`SignalingChannel` is the seam the engine talks to, so engine tests can use a
recording fake instead of a socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import ssl
from collections.abc import Awaitable, Callable
from typing import Any, Protocol
from urllib.parse import urlsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from server.core import protocol as p

from . import messages
from .backoff import Backoff

log = logging.getLogger("studymatch.client.signaling")

OnWelcome = Callable[[p.Welcome], Awaitable[None]]
OnMessage = Callable[[p.ServerMessage], Awaitable[None]]
OnDisconnected = Callable[[float, str], Awaitable[None]]
OnFatal = Callable[[str, str], Awaitable[None]]

CLIENT_NAME = "studymatch-desktop/0.1"
# The server's reply to hello arrives at once; a server that says nothing is broken.
WELCOME_TIMEOUT = 10.0
OPEN_TIMEOUT = 10.0
# A ping not answered by then: the socket is taken for dead (see `probe`).
PROBE_TIMEOUT = 3.0
# Codes that mean "do not try again": the next hello would be refused the same way.
DEFAULT_BACKOFF = Backoff()
NO_RETRY_CODES = frozenset({p.ErrorCode.UNSUPPORTED_PROTOCOL, p.ErrorCode.UNAUTHORIZED})


class SignalingChannel(Protocol):
    """What the engine needs from a connection to the server."""

    @property
    def connected(self) -> bool: ...
    @property
    def ice_servers(self) -> list[dict[str, Any]]: ...
    async def start(self) -> None: ...
    async def send(self, message: p.ClientMessage) -> bool: ...
    async def probe(self) -> bool: ...
    async def close(self) -> None: ...


class WebSocketSignaling:
    """The real channel: a `websockets` client that keeps itself connected."""

    def __init__(
        self,
        url: str,
        *,
        on_welcome: OnWelcome,
        on_message: OnMessage,
        on_disconnected: OnDisconnected,
        on_fatal: OnFatal,
        backoff: Backoff = DEFAULT_BACKOFF,
        token: str | None = None,
        ca_file: str | None = None,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self.url = url
        self._ca_file = ca_file
        self._on_welcome = on_welcome
        self._on_message = on_message
        self._on_disconnected = on_disconnected
        self._on_fatal = on_fatal
        self._backoff = backoff
        self._token = token
        self._rand = rand
        self._ws: ClientConnection | None = None
        self._task: asyncio.Task[None] | None = None
        self._ice_servers: list[dict[str, Any]] = []
        self._closing = False
        self._retry_floor = 0.0

    @property
    def connected(self) -> bool:
        return self._ws is not None

    @property
    def ice_servers(self) -> list[dict[str, Any]]:
        return self._ice_servers

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="studymatch-signaling")

    async def send(self, message: p.ClientMessage) -> bool:
        """Send if connected; False when the message could not be sent (the caller decides)."""
        ws = self._ws
        if ws is None:
            return False
        try:
            await ws.send(p.encode(message))
        except ConnectionClosed:
            return False
        return True

    async def probe(self) -> bool:
        """Is the socket still alive? When the network under it changed (a new address, a link
        that was down), TCP says nothing for minutes and the keepalive takes up to 40 s, while
        what we send meanwhile is lost. A ping unanswered within PROBE_TIMEOUT drops the socket at
        once: the reconnect (and resume) follows. True when the ping was answered."""
        ws = self._ws
        if ws is None:
            return False
        try:
            pong = await ws.ping()
            await asyncio.wait_for(pong, PROBE_TIMEOUT)
        except (TimeoutError, ConnectionClosed):
            if ws is self._ws:
                log.info("signaling: no answer to a ping in %.0f s; reconnecting", PROBE_TIMEOUT)
                ws.transport.abort()
            return False
        return True

    async def close(self) -> None:
        self._closing = True
        if self._ws is not None:
            with contextlib.suppress(Exception):
                await self._ws.close()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def drop(self) -> None:
        """Close the socket abruptly (no close handshake), as a crash or a cable pull would."""
        if self._ws is not None:
            self._ws.transport.abort()

    # --- the connection loop -------------------------------------------------------

    def _tls(self) -> ssl.SSLContext | None:
        """For wss://: the system's trust store (plus `ca_file`, a school's private CA); always verified."""
        if urlsplit(self.url).scheme != "wss":
            return None
        return ssl.create_default_context(cafile=self._ca_file)

    async def _run(self) -> None:
        try:
            tls = self._tls()
        except (OSError, ssl.SSLError):  # the CA file itself is missing or unreadable: retrying cannot help
            await self._on_fatal("bad_ca_file", messages.CA_FILE_UNREADABLE.format(path=self._ca_file))
            return
        attempt = 0
        while not self._closing:
            fatal, reached = False, False
            self._retry_floor = 0.0
            certificate_error: ssl.SSLCertVerificationError | None = None
            try:
                async with connect(
                    self.url, open_timeout=OPEN_TIMEOUT, compression=None, max_size=2**20, ssl=tls
                ) as ws:
                    reached = True
                    welcome = await self._handshake(ws)
                    if welcome is None:
                        fatal = True
                    else:
                        attempt = 0
                        self._ice_servers = list(welcome.ice_servers)
                        self._ws = ws
                        await self._on_welcome(welcome)
                        fatal = await self._read(ws)
            except InvalidURI as exc:
                await self._on_fatal("bad_url", str(exc))
                return
            except ssl.SSLCertVerificationError as exc:
                log.warning("signaling: certificate check failed: %s", exc.verify_message)
                certificate_error = exc
            except (OSError, TimeoutError, InvalidHandshake, ConnectionClosed) as exc:
                log.info("signaling: %s: %s", type(exc).__name__, exc)
            finally:
                self._ws = None
            if fatal or self._closing:
                return
            floor = self._retry_floor
            delay = max(floor, self._backoff.delay(attempt, self._rand))
            attempt += 1
            if certificate_error is not None:
                host = urlsplit(self.url).hostname or self.url
                text = messages.certificate_problem(host, certificate_error.verify_code, delay)
            elif floor:
                text = messages.SERVER_RESTARTING.format(seconds=delay)
            elif reached:
                text = messages.SERVER_WENT_AWAY.format(seconds=delay)
            else:
                text = messages.server_unreachable(self.url, delay)
            await self._on_disconnected(delay, text)
            await asyncio.sleep(delay)

    async def _handshake(self, ws: ClientConnection) -> p.Welcome | None:
        """Say hello; the welcome, or None after a refusal not worth repeating."""
        # resume: a dropped socket keeps our session; the engine sends `resume` after welcome (docs/protocol.md).
        # counts: who else is searching, while we are (the engine passes them on only then).
        await ws.send(p.encode(p.Hello(client=CLIENT_NAME, token=self._token, resume=True, counts=True)))
        while True:
            frame = await asyncio.wait_for(ws.recv(), WELCOME_TIMEOUT)
            try:
                message = p.decode_server(frame)
            except p.ProtocolError as exc:
                log.warning("signaling: unreadable frame from server (%s)", exc.message)
                continue
            if isinstance(message, p.Welcome):
                return message
            if isinstance(message, p.Error) and message.code in NO_RETRY_CODES:
                await self._on_fatal(message.code, messages.SERVER_REFUSED.format(detail=message.message))
                return None
            await self._on_message(message)

    async def _read(self, ws: ClientConnection) -> bool:
        """Hand every message to the engine until the socket closes; True after a fatal refusal."""
        async for frame in ws:
            try:
                message = p.decode_server(frame)
            except p.ProtocolError as exc:
                # A newer server may send what we cannot read; the contract is additive.
                log.warning("signaling: unreadable frame from server (%s)", exc.message)
                continue
            if isinstance(message, p.Shutdown):
                # Kept on self: the close that follows may raise past our return.
                self._retry_floor = max(0.0, message.retry_after)
            if isinstance(message, p.Error) and message.code in NO_RETRY_CODES:
                await self._on_fatal(message.code, messages.SERVER_REFUSED.format(detail=message.message))
                return True
            await self._on_message(message)
        return False
