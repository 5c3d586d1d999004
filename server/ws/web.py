"""The browser client's files at `/`, on the same port as `/ws` (docs/protocol.md, "The web client").

The files in `server/web/` are read once, when the server starts, into a table
keyed by URL path. A request is answered only from that table, so no path a
browser sends (`/../`, `%2e%2e`, a symlink) can reach any other file: there is
no path joining at request time at all.

Every answer carries a strict Content-Security-Policy: scripts, styles and
images from this server only, no inline script, no framing; `connect-src`
names this server's own `ws:`/`wss:` address, because CSP's `'self'` did not
cover WebSocket schemes in every browser. Files are revalidated on every load
(`no-cache` with a strong ETag), so an upgraded server is picked up at once and
an unchanged file costs a 304.
"""

from __future__ import annotations

import hashlib
import http
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from websockets.datastructures import Headers
from websockets.http11 import Response

WEB_DIR: Final = Path(__file__).resolve().parent.parent / "web"

_TYPES: Final = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
}
# A Host header is the client's word: only a plain host[:port] goes into the policy.
_HOST: Final = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:[0-9]{1,5})?$")


@dataclass(frozen=True, slots=True)
class WebFile:
    body: bytes
    content_type: str
    etag: str


def load(directory: Path = WEB_DIR) -> dict[str, WebFile]:
    """URL path -> file, for every file directly in `directory` with a known type; `/` is index.html."""
    files: dict[str, WebFile] = {}
    if not directory.is_dir():
        return files
    for path in sorted(directory.iterdir()):
        content_type = _TYPES.get(path.suffix)
        if content_type is None or not path.is_file() or path.is_symlink():
            continue
        body = path.read_bytes()
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        files["/" + path.name] = WebFile(body, content_type, etag)
    if "/index.html" in files:
        files["/"] = files["/index.html"]
    return files


def content_security_policy(host: str | None, tls: bool) -> str:
    sockets = "'self'"
    if host is not None and _HOST.match(host):
        sockets += f" {'wss' if tls else 'ws'}://{host}"
    return "; ".join((
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "media-src 'self' blob:",
        f"connect-src {sockets}",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ))


def security_headers(host: str | None, tls: bool) -> list[tuple[str, str]]:
    return [
        ("Content-Security-Policy", content_security_policy(host, tls)),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "no-referrer"),
        ("X-Frame-Options", "DENY"),
        ("Cross-Origin-Opener-Policy", "same-origin"),
        ("Cross-Origin-Resource-Policy", "same-origin"),
        # The page asks for the camera and microphone; nothing embedded may.
        ("Permissions-Policy", "camera=(self), microphone=(self), geolocation=()"),
    ]


def answer(
    files: Mapping[str, WebFile], path: str, request_headers: Headers, tls: bool
) -> Response | None:
    """The response for `path` (without its query), or None when it is not a web client file."""
    found = files.get(path)
    if found is None:
        return None
    headers = Headers(security_headers(request_headers.get("Host"), tls))
    headers["Cache-Control"] = "no-cache"
    headers["ETag"] = found.etag
    # Any of the listed tags, or `*`, matches (RFC 9110, 13.1.2; weak comparison for GET).
    wanted = {tag.strip().removeprefix("W/") for tag in request_headers.get("If-None-Match", "").split(",")}
    if found.etag in wanted or "*" in wanted:
        headers["Content-Length"] = "0"
        return Response(http.HTTPStatus.NOT_MODIFIED.value, "Not Modified", headers, b"")
    headers["Content-Type"] = found.content_type
    headers["Content-Length"] = str(len(found.body))
    return Response(http.HTTPStatus.OK.value, "OK", headers, found.body)
