"""Who may connect, over real connections: tokens, signed tokens, origins, per-address caps,
TURN credentials in welcome. (The penalty after reports, on every backend: test_reports.py.)"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import signal
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from websockets.exceptions import InvalidStatus

from integration.conftest import http_get
from integration.wsclient import TIMEOUT, WsClient
from server.config import ServerConfig
from server.core.auth import sign_token
from server.ws.app import Server, running_server

SECRET = "portal-secret-0123456789"


@pytest.fixture
async def serve() -> AsyncIterator[Any]:
    """`await serve(**options)` -> a memory-backend server on port 0, stopped after the test."""
    async with contextlib.AsyncExitStack() as stack:
        async def start(**options: Any) -> Server:
            return await stack.enter_async_context(running_server(ServerConfig(port=0, **options)))
        yield start


async def metric(server: Server, sample: str) -> float:
    _, _, body = await http_get(server.http_url + "/metrics")
    for line in body.splitlines():
        if line.startswith(sample + " "):
            return float(line.split()[-1])
    raise AssertionError(f"{sample} not in /metrics")


async def refused(url: str, **fields: Any) -> dict[str, Any]:
    client = await WsClient.open(url, hello=False)
    await client.send({"type": "hello", "protocol": 1, **fields})
    error = await client.expect_error("unauthorized")
    await client.expect_closed(1008)
    return error


async def test_plain_tokens(serve: Any) -> None:
    server = await serve(tokens=("alpha", "beta"))
    client = await WsClient.open(server.url, hello=False)
    await client.hello(token="beta")
    await refused(server.url, token="gamma")
    await refused(server.url)
    assert await metric(server, 'studymatch_auth_failures_total{reason="invalid"}') == 1
    assert await metric(server, 'studymatch_auth_failures_total{reason="missing"}') == 1


async def test_signed_tokens_are_checked_for_signature_and_expiry(serve: Any) -> None:
    server = await serve(token_secret=SECRET)
    good = sign_token(SECRET, "student-7", int(time.time()) + 300)
    client = await WsClient.open(server.url, hello=False)
    await client.hello(token=good)
    await client.find("video")  # and it works like any client
    expired = await refused(server.url, token=sign_token(SECRET, "student-7", int(time.time()) - 1))
    assert "expired" in expired["message"]
    await refused(server.url, token=sign_token("not-the-portal-secret", "student-7", int(time.time()) + 300))
    await refused(server.url, token=good.replace("student-7", "student-8"))
    assert await metric(server, 'studymatch_auth_failures_total{reason="expired"}') == 1
    assert await metric(server, 'studymatch_auth_failures_total{reason="invalid"}') == 2


async def test_tokens_file_is_re_read_on_reload(serve: Any, tmp_path: Path) -> None:
    path = tmp_path / "tokens"
    path.write_text("# class 5b\nfirst\n", encoding="utf-8")
    server = await serve(tokens_file=str(path))
    await (await WsClient.open(server.url, hello=False)).hello(token="first")
    path.write_text("second\n", encoding="utf-8")
    server.reload_access()
    await refused(server.url, token="first")
    await (await WsClient.open(server.url, hello=False)).hello(token="second")
    path.unlink()  # a broken file keeps the tokens that were in force
    server.reload_access()
    await (await WsClient.open(server.url, hello=False)).hello(token="second")


async def test_origin_allowlist(serve: Any) -> None:
    server = await serve(allowed_origins=("https://study.example.org",))
    await WsClient.open(server.url)  # the desktop app sends no Origin
    await WsClient.open(server.url, origin="https://study.example.org")
    with pytest.raises(InvalidStatus) as refused_page:
        await WsClient.open(server.url, origin="https://evil.example.com")
    assert refused_page.value.response.status_code == 403
    assert await metric(server, 'studymatch_auth_failures_total{reason="origin"}') == 1
    status, _, _ = await http_get(server.http_url + "/healthz")  # plain HTTP is not gated
    assert status == 200


async def test_require_origin_refuses_clients_without_one(serve: Any) -> None:
    server = await serve(allowed_origins=("https://study.example.org",), require_origin=True)
    with pytest.raises(InvalidStatus) as no_origin:
        await WsClient.open(server.url)
    assert no_origin.value.response.status_code == 403
    await WsClient.open(server.url, origin="https://study.example.org")


# Every test client is on 127.0.0.1, which is never capped (a local proxy's clients
# share it): these tests name their address the way a reverse proxy would.
PROXIED = {"real_ip_header": "X-Real-IP"}
FROM_A: dict[str, Any] = {"additional_headers": {"X-Real-IP": "203.0.113.5"}}


async def test_connections_per_address_are_capped_with_429(serve: Any) -> None:
    server = await serve(max_connections_per_ip=2, **PROXIED)
    first, _second = await WsClient.open(server.url, **FROM_A), await WsClient.open(server.url, hello=False, **FROM_A)
    with pytest.raises(InvalidStatus) as too_many:
        await WsClient.open(server.url, **FROM_A)
    assert too_many.value.response.status_code == 429
    assert await metric(server, 'studymatch_auth_failures_total{reason="ip_limit"}') == 1
    await WsClient.open(server.url)  # this machine (no header, loopback) is not capped
    await first.ws.close()
    await first.ws.wait_closed()
    async with asyncio.timeout(TIMEOUT):  # the server uncounts it when its own socket is lost, maybe after ours
        while True:
            try:
                await WsClient.open(server.url, **FROM_A)
                break
            except InvalidStatus:
                await asyncio.sleep(0.02)


async def test_loopback_is_not_capped_without_a_proxy_header(serve: Any) -> None:
    server = await serve(max_connections_per_ip=1)
    for _ in range(3):
        await WsClient.open(server.url)


async def test_a_burst_of_handshakes_never_exceeds_the_cap(serve: Any) -> None:
    server = await serve(max_connections_per_ip=3, **PROXIED)
    results = await asyncio.gather(*(WsClient.open(server.url, hello=False, **FROM_A) for _ in range(12)),
                                   return_exceptions=True)
    opened = [r for r in results if isinstance(r, WsClient)]
    for client in opened:  # the ones that raced past the 429 check are closed with 1008 instead
        await client.send({"type": "hello", "protocol": 1})
    alive = 0
    for client in opened:
        message = await client.recv() if client.ws.close_code is None else None
        if message is not None and message["type"] == "welcome":
            alive += 1
    assert alive == 3
    assert all(isinstance(r, (WsClient, InvalidStatus)) for r in results)


async def test_addresses_from_a_trusted_proxy_header_are_counted_apart(serve: Any) -> None:
    server = await serve(max_connections_per_ip=1, real_ip_header="X-Real-IP")
    await WsClient.open(server.url, additional_headers={"X-Real-IP": "203.0.113.5"})
    await WsClient.open(server.url, additional_headers={"X-Real-IP": "203.0.113.6"})
    with pytest.raises(InvalidStatus):
        await WsClient.open(server.url, additional_headers={"X-Real-IP": "203.0.113.5"})


async def test_welcome_hands_out_turn_with_credentials_made_for_this_connection(serve: Any) -> None:
    server = await serve(stun=("stun:stun.example.org:3478",), turn=("turn:turn.example.org:3478",),
                         turn_secret="coturn-static-secret", turn_ttl=600.0)
    before = time.time()
    client = await WsClient.open(server.url)
    welcome = client.welcome
    assert welcome is not None
    stun, turn = welcome["ice_servers"]
    assert stun == {"urls": "stun:stun.example.org:3478"}
    assert turn["urls"] == ["turn:turn.example.org:3478"]
    expiry, connection = turn["username"].split(":")
    assert connection == client.id
    assert before + 600 <= int(expiry) + 1 and int(expiry) <= time.time() + 600
    mac = hmac.new(b"coturn-static-secret", turn["username"].encode(), hashlib.sha1).digest()
    assert turn["credential"] == base64.b64encode(mac).decode()
    other = (await WsClient.open(server.url)).welcome
    assert other is not None and other["ice_servers"][1]["credential"] != turn["credential"]


async def test_sighup_makes_the_cli_re_read_the_tokens_file(tmp_path: Path) -> None:
    path = tmp_path / "tokens"
    path.write_text("first\n", encoding="utf-8")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "server", "--port", "0", "--tokens-file", str(path),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None and process.stderr is not None
        url = (await asyncio.wait_for(process.stdout.readline(), 4 * TIMEOUT)).decode().split()[-1]
        await (await WsClient.open(url, hello=False)).hello(token="first")
        path.write_text("second\n", encoding="utf-8")
        process.send_signal(signal.SIGHUP)
        async with asyncio.timeout(4 * TIMEOUT):  # the server logs the reload; then it is in force
            while b"event=tokens_reloaded" not in await process.stderr.readline():
                pass
        await refused(url, token="first")
        await (await WsClient.open(url, hello=False)).hello(token="second")
    finally:
        process.terminate()
        assert await asyncio.wait_for(process.wait(), 4 * TIMEOUT) == 0
