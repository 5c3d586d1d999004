"""The web client over real HTTP from a real server on port 0: served, revalidated, switched off."""

from __future__ import annotations

import asyncio
import http.client
from urllib.parse import urlsplit

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from integration.wsclient import TIMEOUT
from server.cli import parse_config
from server.config import ServerConfig
from server.ws.app import Server, running_server


async def fetch(server: Server, path: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    """(status, headers, body) of one GET, written as a browser sends it (raw path, no normalizing)."""
    host, port = urlsplit(server.http_url).hostname, urlsplit(server.http_url).port

    def get() -> tuple[int, dict[str, str], bytes]:
        conn = http.client.HTTPConnection(host or "", port, timeout=TIMEOUT)
        try:
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            conn.close()

    return await asyncio.to_thread(get)


async def test_the_page_and_its_files_come_from_the_websocket_port() -> None:
    async with running_server() as server:
        status, headers, body = await fetch(server, "/")
        assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8"
        assert b'<script type="module" src="app.js"></script>' in body
        host = urlsplit(server.http_url).netloc
        assert f"connect-src 'self' ws://{host}" in headers["Content-Security-Policy"]
        for path in ("/app.js", "/rtc.js", "/sentences.js", "/style.css", "/icon.svg"):
            status, headers, body = await fetch(server, path)
            assert status == 200 and body, path
            assert headers["X-Content-Type-Options"] == "nosniff"
        # Revalidation: the same tag back costs a 304 and no body.
        status, headers, body = await fetch(server, "/app.js")
        status, again, body = await fetch(server, "/app.js", **{"If-None-Match": headers["ETag"]})
        assert (status, body) == (304, b"") and again["ETag"] == headers["ETag"]
        # The other answers of the port are unchanged.
        assert (await fetch(server, "/healthz"))[0] == 200
        for path in ("/../pyproject.toml", "/%2e%2e/server/cli.py", "/server/web/app.js", "/nope"):
            status, headers, body = await fetch(server, path)
            assert status == 404 and headers["Content-Type"].startswith("text/plain"), path
            assert b"the web client is /" in body


@pytest.mark.parametrize("how", ["option", "environment"])
async def test_no_web_turns_the_client_off(how: str) -> None:
    argv, env = (["--no-web"], {}) if how == "option" else ([], {"STUDYMATCH_NO_WEB": "1"})
    config = parse_config([*argv, "--port", "0"], env=env)
    assert config.no_web
    async with running_server(config) as server:
        for path in ("/", "/index.html", "/app.js"):
            assert (await fetch(server, path))[0] == 404
        assert (await fetch(server, "/healthz"))[0] == 200


async def test_the_page_s_origin_follows_the_server_s_origin_rules() -> None:
    """The page's WebSocket carries the page's Origin: an allowlist must name the server's own."""
    config = ServerConfig(port=0, allowed_origins=("https://study.example.org",))
    async with running_server(config) as server:
        assert (await fetch(server, "/"))[0] == 200  # the files themselves are public
        own = server.http_url
        with pytest.raises(InvalidStatus) as refused:
            async with connect(server.url, origin=own):  # type: ignore[arg-type]
                pass
        assert refused.value.response.status_code == 403
        async with connect(server.url, origin="https://study.example.org") as ws:  # type: ignore[arg-type]
            await ws.send('{"type": "hello", "protocol": 1}')
            assert '"welcome"' in str(await asyncio.wait_for(ws.recv(), TIMEOUT))
