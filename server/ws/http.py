"""Plain HTTP on the WebSocket port: /healthz, /metrics, the web client at / (server/ws/web.py), 404 elsewhere.

The server asks `process_request` for every request before the opening
handshake (`Server.handshake`); returning a `Response` answers the request
as HTTP, returning None lets the handshake go on (only for /ws).
"""

from __future__ import annotations

import http
import json
from collections.abc import Callable, Mapping
from typing import Final

from websockets.datastructures import Headers
from websockets.http11 import Request, Response

from server.backends.base import BackendStats
from server.core import texts
from server.ws.gate import Peer
from server.ws.metrics import Metrics
from server.ws.web import WebFile, answer

WS_PATH: Final = "/ws"


def _response(status: http.HTTPStatus, body: str | bytes, content_type: str) -> Response:
    data = body.encode() if isinstance(body, str) else body
    headers = Headers(
        [
            ("Content-Type", content_type),
            ("Content-Length", str(len(data))),
            ("Cache-Control", "no-store"),
            ("Connection", "close"),
        ]
    )
    return Response(status.value, status.phrase, headers, data)


def plain_response(status: http.HTTPStatus, body: str) -> Response:
    return _response(status, body, "text/plain; charset=utf-8")


def health(
    stats: BackendStats, connections: int, closing: bool, online: int,
) -> tuple[http.HTTPStatus, dict[str, object]]:
    """The /healthz body; 503 when the backend is down or the server is leaving."""
    status = "shutting_down" if closing else ("ok" if stats.healthy else "degraded")
    body: dict[str, object] = {
        "status": status,
        "connections": connections,
        "online": online,  # said hello; with a shared backend, on every instance
        "waiting": sum(stats.waiting.values()),
        "waiting_by_mode": dict(stats.waiting),
        "sessions": stats.sessions,
        "matches_total": stats.matches_total,
    }
    if stats.details:
        body["backend"] = stats.details
    code = http.HTTPStatus.OK if status == "ok" else http.HTTPStatus.SERVICE_UNAVAILABLE
    return code, body


def make_process_request(
    stats: Callable[[], BackendStats],
    connections: Callable[[], int],
    closing: Callable[[], bool],
    metrics: Metrics,
    online: Callable[[], int],
    web: Mapping[str, WebFile] | None = None,
    tls: bool = False,
) -> Callable[[Peer, Request], Response | None]:
    """`web`: the web client's files (server/ws/web.py), or None when it is off (`--no-web`)."""

    def process_request(connection: Peer, request: Request) -> Response | None:
        path = request.path.split("?", 1)[0]
        if path == WS_PATH:
            return None
        if path == "/healthz":
            code, body = health(stats(), connections(), closing(), online())
            return _response(code, json.dumps(body) + "\n", "application/json")
        if path == "/metrics":
            # Prometheus text 0.0.4 unless the scraper asks for OpenMetrics (Prometheus does).
            exposition, content_type = metrics.exposition(request.headers.get("Accept", ""))
            return _response(http.HTTPStatus.OK, exposition, content_type)
        if web is not None:
            page = answer(web, path, request.headers, tls)
            if page is not None:
                return page
        return _response(http.HTTPStatus.NOT_FOUND, texts.HTTP_NOT_FOUND, "text/plain; charset=utf-8")

    return process_request
