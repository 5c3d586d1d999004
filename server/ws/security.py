"""The shell's security decisions in one object: handshake gate, hello credentials, reports.

`server/ws/app.py` holds one `Security` and asks it at three points: the
WebSocket handshake (`process_request`), `hello`, and `find`/`skip`/`report`.
The decisions themselves are pure (`auth`, `abuse`, `gate`); this module
adds the clock, the metrics, the log lines and the TLS context.
"""

from __future__ import annotations

import logging
import ssl
import time
from collections.abc import Callable
from typing import Any

from websockets.http11 import Request, Response

from server.config import ServerConfig
from server.core import protocol as p
from server.core import texts
from server.core.abuse import AbuseStore, MemoryAbuseStore, ReportLedger, penalty_refusal
from server.core.auth import Access, Admitted, AuthFailure, read_tokens_file
from server.ws.gate import Gate, Peer
from server.ws.http import WS_PATH, plain_response
from server.ws.metrics import Metrics

log = logging.getLogger("studymatch.server")
WallClock = Callable[[], float]


def tls_context(config: ServerConfig) -> ssl.SSLContext | None:
    if config.tls_cert is None or config.tls_key is None:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(config.tls_cert, config.tls_key)
    return context


def load_access(config: ServerConfig) -> Access:
    from_file = read_tokens_file(config.tokens_file) if config.tokens_file else ()
    return Access(tokens=(*config.tokens, *from_file), secret=config.token_secret)


class Security:
    def __init__(
        self,
        config: ServerConfig,
        metrics: Metrics,
        abuse: AbuseStore | None = None,
        clock: WallClock = time.time,
    ) -> None:
        self.config = config
        self.metrics = metrics
        self.clock = clock
        try:
            self.access = load_access(config)
        except OSError as exc:  # a RuntimeError is what the CLI turns into a clean exit message
            raise RuntimeError(
                texts.TOKENS_FILE_UNREADABLE.format(path=config.tokens_file, error=exc.strerror)
            ) from exc
        if config.tokens_file and not self.access.tokens:
            # An empty file would silently open a server meant to be closed.
            raise RuntimeError(texts.TOKENS_FILE_EMPTY.format(path=config.tokens_file))
        self.gate = Gate(config)
        self.abuse: AbuseStore = abuse if abuse is not None else MemoryAbuseStore(
            ReportLedger(config.report_threshold, config.report_window, config.report_penalty)
        )

    def reload_access(self) -> None:
        """Re-read --tokens-file (SIGHUP); a file that cannot be read keeps the old tokens."""
        try:
            access = load_access(self.config)
        except OSError as exc:
            log.warning("event=tokens_reload_failed error=%s", type(exc).__name__)
            return
        if self.config.tokens_file and not access.tokens:
            log.warning("event=tokens_reload_failed error=empty_file")
            return
        self.access = access
        log.info("event=tokens_reloaded tokens=%d", len(access.tokens))

    # --- the handshake -----------------------------------------------------------

    def process_request(self, connection: Peer, request: Request) -> Response | None:
        if request.path.split("?", 1)[0] != WS_PATH:
            return None
        refusal = self.gate.refuse(connection, request.headers)
        if refusal is None:
            return None
        status, body, reason = refusal
        self.metrics.auth_failures[reason] += 1
        log.info("event=handshake_refused reason=%s", reason)
        return plain_response(status, body)

    # --- hello ---------------------------------------------------------------------

    def admit(self, hello: p.Hello) -> Admitted:
        """The hello's credentials; raises `ProtocolError` `unauthorized` (fatal) when refused."""
        result = self.access.check(hello.token, self.clock())
        if isinstance(result, Admitted):
            return result
        self.metrics.auth_failures[result.value] += 1
        message = texts.UNAUTHORIZED_EXPIRED if result is AuthFailure.EXPIRED else texts.UNAUTHORIZED
        raise p.ProtocolError(p.ErrorCode.UNAUTHORIZED, message)

    def ice_servers(self, connection_id: str) -> list[dict[str, Any]]:
        return self.config.ice_servers(connection_id, self.clock())

    # --- requests ------------------------------------------------------------------

    async def check_may_match(self, key: str) -> None:
        """Refuse find/skip (`refused`) while `key` serves a report penalty."""
        seconds = await self.abuse.refused_for(key, self.clock())
        if seconds > 0:
            raise penalty_refusal(seconds)

    async def record_report(
        self, reporter: str, reported: str, reason: str, *, reporter_id: str, reported_id: str
    ) -> None:
        """Keys (a connection id, or a signed token's subject) go to the store; the log
        gets connection ids only: no subject, no address, no reason text."""
        self.metrics.reports += 1
        penalty = await self.abuse.record_report(reporter, reported, reason, self.clock())
        log.info("event=report_recorded reporter=%s reported=%s", reporter_id, reported_id)
        if penalty > 0:
            self.metrics.penalties += 1
            log.info("event=report_penalty id=%s seconds=%g", reported_id, penalty)
