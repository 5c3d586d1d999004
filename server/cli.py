"""`studymatch-server`: options (or `STUDYMATCH_<OPTION>` variables) -> a running server.

Prints exactly one line, `listening on ws://HOST:PORT/ws`, once connections
are accepted (tests and scripts wait for it). SIGTERM or SIGINT: every
client gets `shutdown`, then the process exits 0.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import os
import signal
import sys
from collections.abc import Coroutine, Mapping, Sequence
from pathlib import Path
from typing import Any

from server.config import BACKENDS, LOG_LEVELS, LOOPS, ServerConfig
from server.core import texts
from server.ws.app import Server

ENV_PREFIX = "STUDYMATCH_"
_DEFAULTS = ServerConfig()

# (option, config field, type, help); repeatable options are tuples in the config.
_OPTIONS: list[tuple[str, str, Any, str]] = [
    ("--host", "host", str, "address to listen on"),
    ("--port", "port", int, "port to listen on; 0 picks a free one"),
    ("--backend", "backend", str, "where the queue lives: memory (one process) or redis (shared)"),
    ("--redis-url", "redis_url", str, "Redis URL for --backend redis"),
    ("--log-level", "log_level", str, "debug, info, warning or error"),
    ("--loop", "loop", str, "event loop: uvloop (faster), asyncio, or auto (uvloop when installed)"),
    ("--stun", "stun", str, "a STUN URL handed to clients (repeatable; none by default)"),
    ("--token", "tokens", str, "an accepted hello token (repeatable; none means no token needed)"),
    ("--tokens-file", "tokens_file", str, "a file of accepted tokens, one a line; re-read on SIGHUP"),
    ("--token-secret", "token_secret", str, "shared secret for signed expiring tokens (prefer the env var)"),
    ("--allowed-origin", "allowed_origins", str, "a browser origin that may connect (repeatable)"),
    ("--require-origin", "require_origin", bool, "refuse handshakes without an Origin header"),
    ("--max-connections-per-ip", "max_connections_per_ip", int, "open WebSockets per address; more get 429"),
    ("--real-ip-header", "real_ip_header", str, "take the client address from this proxy header"),
    ("--tls-cert", "tls_cert", str, "PEM certificate chain: serve wss:// directly"),
    ("--tls-key", "tls_key", str, "PEM private key for --tls-cert"),
    ("--turn", "turn", str, "a TURN URL handed to clients (repeatable; needs --turn-secret)"),
    ("--turn-secret", "turn_secret", str, "the TURN server's static-auth-secret (prefer the env var)"),
    ("--turn-ttl", "turn_ttl", float, "seconds the TURN credentials of a connection stay valid"),
    ("--report-threshold", "report_threshold", int, "distinct reporters that start a penalty"),
    ("--report-window", "report_window", float, "seconds within which reports are counted"),
    ("--report-penalty", "report_penalty", float, "seconds a reported client is refused new matches"),
    ("--max-frame-bytes", "max_frame_bytes", int, "largest accepted frame; bigger closes with 1009"),
    ("--rate-messages", "rate_messages", float, "sustained messages per second per connection"),
    ("--rate-burst", "rate_burst", int, "messages a connection may send at once"),
    ("--rate-abuse-strikes", "rate_abuse_strikes", int, "rate-limited messages per minute before closing"),
    ("--rate-finds-per-minute", "rate_finds_per_minute", int, "find + skip per connection per minute"),
    ("--outbox-messages", "outbox_messages", int, "messages queued for a slow client before it is dropped"),
    ("--outbox-bytes", "outbox_bytes", int, "bytes queued for a slow client before it is dropped"),
    ("--send-timeout", "send_timeout", float, "seconds one send may wait for a client to read"),
    ("--ping-interval", "ping_interval", float, "seconds between pings"),
    ("--ping-timeout", "ping_timeout", float, "seconds to wait for a pong"),
    ("--hello-timeout", "hello_timeout", float, "seconds a new connection has to send hello"),
    ("--close-timeout", "close_timeout", float, "seconds to wait for a closing handshake"),
    ("--rematch-cooldown", "rematch_cooldown", float, "seconds before a skipped pair can meet again"),
    ("--shutdown-retry-after", "shutdown_retry_after", float, "retry_after told to clients on shutdown"),
    ("--resume-grace", "resume_grace", float, "seconds a dropped client's place in its session is kept"),
    ("--ticket-ttl", "ticket_ttl", float, "seconds a resume ticket stays valid"),
    ("--study-minute", "study_minute", float, "seconds in one minute of a study session (shorter for tests)"),
    ("--ticket-key", "ticket_key", str, "key resume tickets are signed with; share it between instances (prefer the env var)"),
    ("--no-web", "no_web", bool, "do not serve the browser client at /"),
    ("--ticket-key-file", "ticket_key_file", str, "file holding the ticket key, created if missing (without --ticket-key)"),
]
_REPEATABLE = {"stun", "tokens", "allowed_origins", "turn"}


def env_name(option: str) -> str:
    return ENV_PREFIX + option.removeprefix("--").replace("-", "_").upper()


def build_parser(env: Mapping[str, str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="studymatch-server",
        description="StudyMatch matchmaking and signaling server. "
        "Every option can also be set as STUDYMATCH_<OPTION> in the environment "
        "(repeatable ones comma-separated).",
    )
    for option, dest, kind, help_text in _OPTIONS:
        default = getattr(_DEFAULTS, dest)
        choices = {"backend": BACKENDS, "log_level": LOG_LEVELS, "loop": LOOPS}.get(dest)
        raw = env.get(env_name(option))
        if kind is bool:
            parser.add_argument(option, dest=dest, action="store_true",
                                default=raw.strip().lower() in ("1", "true", "yes", "on") if raw else default,
                                help=f"{help_text} [{env_name(option)}=1]")
        elif dest in _REPEATABLE:
            from_env = [v.strip() for v in raw.split(",") if v.strip()] if raw else []
            parser.add_argument(option, dest=dest, action="append", type=kind, default=None,
                                help=f"{help_text} [{env_name(option)}]")
            parser.set_defaults(**{f"_env_{dest}": from_env})
        else:
            parser.add_argument(option, dest=dest, type=kind, choices=choices,
                                # argparse applies `type` to a string default: a bad value is a usage error.
                                default=raw if raw is not None else default,
                                help=f"{help_text} (default: {default}) [{env_name(option)}]")
    return parser


def parse_config(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> ServerConfig:
    env = os.environ if env is None else env
    parser = build_parser(env)
    args = parser.parse_args(argv)
    values: dict[str, Any] = {}
    for field in dataclasses.fields(ServerConfig):
        if field.name in _REPEATABLE:
            given = getattr(args, field.name)
            values[field.name] = tuple(given if given is not None else getattr(args, f"_env_{field.name}"))
        elif hasattr(args, field.name):
            values[field.name] = getattr(args, field.name)
    if values.get("ticket_key") is None and values.get("ticket_key_file") is None:
        # A restarted server must accept the tickets of the one before: a key that outlives the process.
        values["ticket_key_file"] = str(default_ticket_key_file(env))
    try:
        return ServerConfig(**values)
    except ValueError as exc:
        parser.error(str(exc))


def default_ticket_key_file(env: Mapping[str, str]) -> Path:
    """$XDG_STATE_HOME/studymatch-server/ticket.key, else ~/.local/state/studymatch-server/ticket.key."""
    state = env.get("XDG_STATE_HOME") or str(Path(env.get("HOME") or Path.home()) / ".local" / "state")
    return Path(state) / "studymatch-server" / "ticket.key"


def _setup_logging(level: str) -> None:
    logging.basicConfig(
        level=getattr(logging, level.upper()),
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
        stream=sys.stderr,
    )
    # websockets logs every handshake at INFO; keep that for debugging.
    logging.getLogger("studymatch.server.websockets").setLevel(
        logging.DEBUG if level == "debug" else logging.WARNING
    )


async def serve_until_signalled(config: ServerConfig) -> None:
    server = Server(config)
    await server.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    # SIGHUP re-reads --tokens-file: revoke or add tokens without dropping anyone.
    loop.add_signal_handler(signal.SIGHUP, server.reload_access)
    print(f"listening on {server.url}", flush=True)
    try:
        await stop.wait()
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            loop.remove_signal_handler(sig)
        await server.stop()


def run_loop(loop: str, main: Coroutine[Any, Any, None]) -> None:
    """Run `main` on the chosen event loop (uvloop: the same asyncio API, less CPU per wakeup)."""
    if loop != "asyncio":
        try:
            import uvloop
        except ModuleNotFoundError:
            if loop == "uvloop":
                main.close()
                raise RuntimeError(texts.UVLOOP_MISSING) from None
        else:
            uvloop.run(main)
            return
    asyncio.run(main)


def main(argv: Sequence[str] | None = None) -> int:
    config = parse_config(argv)
    _setup_logging(config.log_level)
    try:
        run_loop(config.loop, serve_until_signalled(config))
    except RuntimeError as exc:  # e.g. the redis backend is not installed
        print(f"studymatch-server: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # e.g. the port is taken
        print(f"studymatch-server: {texts.CANNOT_LISTEN.format(host=config.host, port=config.port, error=exc)}",
              file=sys.stderr)
        return 1
    return 0
