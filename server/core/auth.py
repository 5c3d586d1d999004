"""Who may connect: hello tokens, signed expiring tokens, origins, TURN credentials.

Pure functions and one small immutable class; the clock is passed in, files
are read by the caller. The shell (`server/ws/app.py`) asks `Access.check()` on
`hello` and `origin_allowed()` at the WebSocket handshake.

Signed tokens let a school's own portal admit its students without telling
the server who they are in advance:

    v1.<expiry unix seconds>.<subject>.<base64url(HMAC-SHA256(secret, "v1.<expiry>.<subject>"))>

`subject` is whatever the portal chooses (1-64 of A-Z a-z 0-9 _ -), without
dots; the server uses it only as a stable key for abuse reports and logs
nothing else about it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any, Final

SIGNED_PREFIX: Final = "v1"
_SUBJECT = re.compile(r"[A-Za-z0-9_-]{1,64}")
# A token minted far into the future is as good as a permanent password; refuse it.
MAX_SIGNED_LIFETIME: Final = 366 * 24 * 3600


class AuthFailure(Enum):
    """Why a hello was refused; the value is the `reason` label in /metrics."""

    MISSING = "missing"  # no token, and the server needs one
    INVALID = "invalid"  # not one of the accepted tokens, or a bad signature
    EXPIRED = "expired"  # a signed token past its expiry


AUTH_FAILURE_REASONS: Final = (*(f.value for f in AuthFailure), "origin", "ip_limit")


@dataclass(frozen=True, slots=True)
class Admitted:
    """A hello that passed; `subject` is set for a signed token."""

    subject: str | None = None


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def sign_token(secret: str, subject: str, expiry: int) -> str:
    """A signed token for `subject` valid until the Unix time `expiry` (what a portal runs)."""
    if not _SUBJECT.fullmatch(subject):
        raise ValueError("subject must be 1-64 characters of A-Z a-z 0-9 _ -")
    payload = f"{SIGNED_PREFIX}.{int(expiry)}.{subject}"
    mac = hmac.new(secret.encode(), payload.encode(), hashlib.sha256).digest()
    return f"{payload}.{_b64url(mac)}"


def verify_signed(secret: str, token: str, now: float) -> Admitted | AuthFailure:
    parts = token.split(".")
    if len(parts) != 4 or parts[0] != SIGNED_PREFIX:
        return AuthFailure.INVALID
    _, expiry_text, subject, mac_text = parts
    if not expiry_text.isdigit() or len(expiry_text) > 12 or not _SUBJECT.fullmatch(subject):
        return AuthFailure.INVALID
    expected = sign_token(secret, subject, int(expiry_text)).rsplit(".", 1)[1]
    # Compare the signature before looking at the expiry, so that an attacker
    # learns nothing about a token they could not have minted.
    if not hmac.compare_digest(expected, mac_text):
        return AuthFailure.INVALID
    expiry = int(expiry_text)
    if expiry <= now:
        return AuthFailure.EXPIRED
    if expiry > now + MAX_SIGNED_LIFETIME:
        return AuthFailure.INVALID
    return Admitted(subject)


def looks_signed(token: str) -> bool:
    return token.startswith(SIGNED_PREFIX + ".") and token.count(".") == 3


def read_tokens_file(path: str | Path) -> tuple[str, ...]:
    """One token per line; blank lines and lines starting with # are ignored."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    return tuple(line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#"))


@dataclass(frozen=True, slots=True)
class Access:
    """The accepted credentials at one moment (a SIGHUP builds a new one)."""

    tokens: tuple[str, ...] = ()
    secret: str | None = None

    @property
    def required(self) -> bool:
        return bool(self.tokens) or self.secret is not None

    def check(self, token: str | None, now: float) -> Admitted | AuthFailure:
        if not self.required:
            return Admitted()
        if not token:
            return AuthFailure.MISSING
        if self.secret is not None and looks_signed(token):
            return verify_signed(self.secret, token, now)
        # Every plain token is compared in constant time, so how far a guess
        # matched never shows in the timing.
        matched = False
        for accepted in self.tokens:
            matched |= hmac.compare_digest(token.encode(), accepted.encode())
        return Admitted() if matched else AuthFailure.INVALID


def origin_allowed(origin: str | None, allowed: Iterable[str], require_origin: bool) -> bool:
    """May a handshake with this `Origin` header go on?

    Desktop clients send no Origin; browsers always do. With no allowlist any
    origin may connect (the server is then as open as without this check).
    """
    allowed = tuple(allowed)
    if origin is None:
        return not require_origin
    if not allowed:
        return True
    return origin.rstrip("/").lower() in {a.rstrip("/").lower() for a in allowed}


def turn_credentials(secret: str, connection_id: str, expiry: int) -> tuple[str, str]:
    """coturn's `use-auth-secret` scheme (the TURN REST API): (username, credential).

    username = "<expiry>:<connection id>", credential = base64(HMAC-SHA1(secret, username)).
    """
    username = f"{int(expiry)}:{connection_id}"
    mac = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return username, base64.b64encode(mac).decode("ascii")


def ice_servers(
    stun: Iterable[str],
    turn: Iterable[str],
    turn_secret: str | None,
    turn_ttl: float,
    connection_id: str,
    now: float,
) -> list[dict[str, Any]]:
    """The `ice_servers` of one connection's `welcome`: STUN as given, TURN with fresh credentials."""
    servers: list[dict[str, Any]] = [{"urls": url} for url in stun]
    turn = list(turn)
    if turn and turn_secret:
        username, credential = turn_credentials(turn_secret, connection_id, int(now + turn_ttl))
        servers.append({"urls": turn, "username": username, "credential": credential})
    return servers
