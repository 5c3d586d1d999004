"""Every option of the server, with safe defaults, in one frozen dataclass.

The command line (`server/cli.py`) derives its options and their
`STUDYMATCH_<OPTION>` environment variables from these fields, so a default
is written once, here.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from typing import Any, Final

from server.core import auth, texts
from server.core.rules import DEFAULT_REMATCH_COOLDOWN

BACKENDS: Final = ("memory", "redis")
LOG_LEVELS: Final = ("debug", "info", "warning", "error")
LOOPS: Final = ("auto", "asyncio", "uvloop")


@dataclass(frozen=True, slots=True)
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = 8765  # 0 picks a free port
    backend: str = "memory"
    redis_url: str = "redis://127.0.0.1:6379/0"
    log_level: str = "info"
    # auto: uvloop when it is installed (the `fast` extra), else asyncio's own loop.
    loop: str = "auto"
    # STUN URLs handed out in `welcome`; none by default: no public server is
    # contacted unless the operator asks for it.
    stun: tuple[str, ...] = ()
    # Accepted `hello` tokens; with none of tokens, tokens_file and
    # token_secret, no token is required.
    tokens: tuple[str, ...] = ()
    tokens_file: str | None = None  # one token per line; re-read on SIGHUP
    # Shared secret for signed expiring tokens (server/core/auth.py has the format).
    token_secret: str | None = None
    # Browser pages from these origins may connect (e.g. https://study.example.org).
    allowed_origins: tuple[str, ...] = ()
    # Refuse handshakes without an Origin header (then desktop clients cannot connect).
    require_origin: bool = False
    # Open WebSockets per client address; one more gets HTTP 429.
    max_connections_per_ip: int = 20
    # Behind a reverse proxy every peer is the proxy: take the address from
    # this header instead (e.g. X-Real-IP). Only set it when a proxy sets it.
    real_ip_header: str | None = None
    # Serve wss:// directly with this certificate chain and key (PEM files).
    tls_cert: str | None = None
    tls_key: str | None = None
    # TURN URLs handed out in `welcome` with credentials derived from the
    # secret coturn shares (`use-auth-secret`), valid for turn_ttl seconds.
    turn: tuple[str, ...] = ()
    turn_secret: str | None = None
    turn_ttl: float = 6 * 3600.0
    # Reported by this many distinct partners within report_window seconds:
    # refused new matches for report_penalty seconds.
    report_threshold: int = 3
    report_window: float = 600.0
    report_penalty: float = 900.0
    # Largest frame accepted; a bigger one closes the connection with 1009.
    max_frame_bytes: int = 64 * 1024
    # Per-connection token bucket for every incoming message.
    rate_messages: float = 20.0  # sustained messages per second
    rate_burst: int = 40
    # Over this many refused (rate-limited) messages in a minute: close 1008.
    rate_abuse_strikes: int = 20
    # find + skip per connection per minute (each one may start a match).
    rate_finds_per_minute: int = 60
    # Bounded outgoing queue per connection: a client that does not read is
    # dropped instead of making the server hold its messages forever.
    outbox_messages: int = 128
    outbox_bytes: int = 1024 * 1024
    # One send that waits longer than this for the client to read: dropped.
    send_timeout: float = 20.0
    ping_interval: float = 20.0
    ping_timeout: float = 20.0
    hello_timeout: float = 10.0
    close_timeout: float = 2.0
    rematch_cooldown: float = DEFAULT_REMATCH_COOLDOWN
    shutdown_retry_after: float = 5.0
    # A resuming client's dropped side is kept this long (docs/protocol.md, "Resuming
    # after a dropped socket"); its tickets are valid this long after they were given.
    resume_grace: float = 60.0
    ticket_ttl: float = 600.0
    # Seconds in one minute of a study session (`study.minute`); shorter only for tests.
    study_minute: float = 60.0
    # The key tickets are signed with. Instances behind one load balancer, and a server
    # restarted, must share it. Neither given: a random key for this process only
    # (`studymatch-server` itself defaults the file, server/cli.py).
    ticket_key: str | None = None
    ticket_key_file: str | None = None  # created with a random key if missing
    # Do not serve the browser client at / (then / is a 404, like any unknown path).
    no_web: bool = False
    # Extra keyword arguments for the backend's constructor (tests, benchmarks).
    backend_options: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise ValueError(texts.OPTION_NOT_ONE_OF.format(
                option="backend", choices=", ".join(BACKENDS), given=repr(self.backend)))
        if self.loop not in LOOPS:
            raise ValueError(texts.OPTION_NOT_ONE_OF.format(
                option="loop", choices=", ".join(LOOPS), given=repr(self.loop)))
        if self.log_level.lower() not in LOG_LEVELS:
            raise ValueError(texts.LOG_LEVEL_NOT_ONE_OF.format(choices=", ".join(LOG_LEVELS)))
        if not 0 <= self.port <= 65535:
            raise ValueError(texts.PORT_OUT_OF_RANGE)
        for name in ("max_frame_bytes", "rate_burst", "max_connections_per_ip", "report_threshold", "rate_abuse_strikes", "rate_finds_per_minute",
                     "outbox_messages", "outbox_bytes"):
            if getattr(self, name) < 1:
                raise ValueError(texts.OPTION_BELOW_ONE.format(option=name.replace("_", "-")))
        for name in ("rate_messages", "send_timeout", "ping_interval", "ping_timeout", "hello_timeout",
                     "close_timeout", "turn_ttl", "report_window", "resume_grace", "ticket_ttl",
                     "study_minute"):
            if getattr(self, name) <= 0:
                raise ValueError(texts.OPTION_NOT_POSITIVE.format(option=name.replace("_", "-")))
        if self.rematch_cooldown < 0 or self.shutdown_retry_after < 0:
            raise ValueError(texts.DELAYS_NEGATIVE)
        if self.report_penalty < 0:
            raise ValueError(texts.REPORT_PENALTY_NEGATIVE)
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError(texts.TLS_HALF_GIVEN)
        if self.turn and not self.turn_secret:
            raise ValueError(texts.TURN_WITHOUT_SECRET)
        if self.token_secret is not None and len(self.token_secret) < 16:
            raise ValueError(texts.TOKEN_SECRET_SHORT)
        if self.ticket_key is not None and len(self.ticket_key) < 16:
            raise ValueError(texts.TICKET_KEY_SHORT)
        for url in self.turn:
            if not url.startswith(("turn:", "turns:")):
                raise ValueError(texts.TURN_URL_SCHEME.format(url=repr(url)))

    def replace(self, **changes: Any) -> ServerConfig:
        return dataclasses.replace(self, **changes)

    def limits(self) -> dict[str, Any]:
        """The `limits` object of `welcome`: what a client may do before it is refused."""
        return {
            "max_frame_bytes": self.max_frame_bytes,
            "messages_per_second": self.rate_messages,
            "message_burst": self.rate_burst,
            "finds_per_minute": self.rate_finds_per_minute,
            "hello_timeout": self.hello_timeout,
            "ping_interval": self.ping_interval,
            "ping_timeout": self.ping_timeout,
            "outbox_messages": self.outbox_messages,
            "rematch_cooldown": self.rematch_cooldown,
            "resume_grace": self.resume_grace,
        }

    def ice_servers(self, connection_id: str = "", now: float | None = None) -> list[dict[str, Any]]:
        """One connection's ICE servers: STUN as given, TURN with credentials made for it."""
        return auth.ice_servers(self.stun, self.turn, self.turn_secret, self.turn_ttl, connection_id,
                                time.time() if now is None else now)
