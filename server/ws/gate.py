"""The WebSocket handshake's gate: browser origins and connections per address.

Checked on the opening handshake's request, before any WebSocket exists, so a
refused page or a flood of sockets from one address costs an HTTP answer
(403 or 429) and nothing more. The per-address count is of open
connections; a burst of handshakes that all pass the check before any of
them is counted is caught again when the connection opens (close 1008).

Loopback peers are not capped: a connection from this machine is local
software or a reverse proxy in front of the server, and a proxy's clients
all share its address (give --real-ip-header to count them apart).
"""

from __future__ import annotations

import http
import ipaddress
from collections import Counter
from typing import Any, Final, Protocol

from websockets.datastructures import Headers

from server.config import ServerConfig
from server.core import texts
from server.core.auth import origin_allowed


class Peer(Protocol):
    """The socket a handshake came on."""

    @property
    def remote_address(self) -> Any: ...


FORBIDDEN: Final = http.HTTPStatus.FORBIDDEN
TOO_MANY: Final = http.HTTPStatus.TOO_MANY_REQUESTS


def is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


class Gate:
    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self._open: Counter[str] = Counter()

    def address(self, connection: Peer, headers: Headers) -> str:
        """The client's address: the proxy's header when one is trusted, else the socket's peer."""
        header = self.config.real_ip_header
        if header:
            value = headers.get(header)
            if value:
                # X-Forwarded-For may hold a chain; the last entry is what our proxy saw.
                return value.split(",")[-1].strip()[:64]
        peer = connection.remote_address
        return str(peer[0]) if peer else "-"

    def refuse(self, connection: Peer, headers: Headers) -> tuple[http.HTTPStatus, str, str] | None:
        """(status, body, metrics reason) for a handshake that must not go on, else None."""
        config = self.config
        if not origin_allowed(headers.get("Origin"), config.allowed_origins, config.require_origin):
            return FORBIDDEN, texts.HTTP_ORIGIN_FORBIDDEN, "origin"
        address = self.address(connection, headers)
        if not is_loopback(address) and self._open[address] >= config.max_connections_per_ip:
            return TOO_MANY, texts.HTTP_TOO_MANY_CONNECTIONS, "ip_limit"
        return None

    def opened(self, address: str) -> bool:
        """Count an open connection; False when it is one too many (the race above)."""
        self._open[address] += 1
        return is_loopback(address) or self._open[address] <= self.config.max_connections_per_ip

    def closed(self, address: str) -> None:
        self._open[address] -= 1
        if self._open[address] <= 0:
            del self._open[address]

    def addresses(self) -> int:
        return len(self._open)
