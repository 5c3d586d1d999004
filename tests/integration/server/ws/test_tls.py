"""wss:// end to end: the server serves TLS with a certificate made here, the client
verifies it (a private CA through --ca-file), and a certificate problem becomes one
sentence a person understands."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from client import events as ev
from client import messages
from client.engine import Engine, EngineConfig
from client.signaling import WebSocketSignaling
from integration.engines import FAST_BACKOFF, Recorder
from integration.tls_support import ServerCert, TestCA
from integration.wsclient import TIMEOUT, WsClient
from server.config import ServerConfig
from server.ws.app import Server, running_server


@pytest.fixture
def ca(tmp_path: Path) -> TestCA:
    return TestCA(tmp_path)


@contextlib.asynccontextmanager
async def tls_server(cert: ServerCert, **options: Any) -> AsyncIterator[Server]:
    config = ServerConfig(port=0, tls_cert=str(cert.cert), tls_key=str(cert.key), **options)
    async with running_server(config) as server:
        yield server


def trusting(ca: TestCA) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=ca.pem)


async def test_the_server_serves_wss_with_its_certificate(ca: TestCA) -> None:
    async with tls_server(ca.issue("server")) as server:
        assert server.url.startswith("wss://127.0.0.1:")
        client = await WsClient.open(server.url, ssl=trusting(ca))
        await client.find("video")
        with pytest.raises(ssl.SSLCertVerificationError):  # the system store does not know our CA
            await WsClient.open(server.url)


async def test_the_cli_prints_a_wss_listening_line(ca: TestCA) -> None:
    cert = ca.issue("server")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "server", "--port", "0", "--tls-cert", str(cert.cert), "--tls-key", str(cert.key),
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        line = (await asyncio.wait_for(process.stdout.readline(), 4 * TIMEOUT)).decode()
        assert line.startswith("listening on wss://127.0.0.1:"), line
        client = await WsClient.open(line.split()[-1], ssl=trusting(ca))
        await client.find("audio")
        await client.ws.close()
    finally:
        process.terminate()
        assert await asyncio.wait_for(process.wait(), 4 * TIMEOUT) == 0


async def run_engine(url: str, **config: Any) -> tuple[Engine, Recorder]:
    recorder = Recorder("tls")

    def signaling(engine: Engine) -> WebSocketSignaling:
        return WebSocketSignaling(
            engine.config.server, on_welcome=engine.on_welcome, on_message=engine.on_message,
            on_disconnected=engine.on_disconnected, on_fatal=engine.on_fatal, backoff=FAST_BACKOFF,
            token=engine.config.token, ca_file=engine.config.ca_file,
        )

    engine = Engine(EngineConfig(server=url, fake_media=True, **config), recorder, signaling=signaling)
    await engine.start()
    return engine, recorder


async def test_the_client_connects_over_wss_with_a_private_ca_and_a_token(ca: TestCA) -> None:
    async with tls_server(ca.issue("server"), tokens=("class-5b",)) as server:
        engine, events = await run_engine(server.url, ca_file=str(ca.pem), token="class-5b")
        try:
            await events.next(ev.Connected)
            assert not events.of(ev.Disconnected)
        finally:
            await engine.close()


@pytest.mark.parametrize(
    ("problem", "why"),
    [
        ("unknown_authority", "comes from an authority this computer does not trust"),
        ("self_signed", "was signed by the server itself"),
        ("expired", "has expired"),
        ("wrong_host", "was made for a different address"),
    ],
)
async def test_a_certificate_problem_is_one_sentence(ca: TestCA, tmp_path: Path, problem: str, why: str) -> None:
    if problem == "unknown_authority":
        (tmp_path / "other").mkdir()
        cert, ca_file = TestCA(tmp_path / "other", "Another CA").issue("server"), str(ca.pem)
    elif problem == "self_signed":
        cert, ca_file = ca.issue("server", self_signed=True), str(ca.pem)
    elif problem == "expired":
        cert, ca_file = ca.issue("server", expired=True), str(ca.pem)
    else:
        cert, ca_file = ca.issue("server", hosts=("study.example.org",)), str(ca.pem)
    async with tls_server(cert) as server:
        engine, events = await run_engine(server.url, ca_file=ca_file)
        try:
            gone = await events.next(ev.Disconnected)
        finally:
            await engine.close()
    assert why in gone.message
    assert gone.message.startswith("The StudyMatch server at 127.0.0.1 could not prove it is the real server")
    assert gone.message.count(". ") == 0 and gone.message.endswith(".")  # one sentence
    assert not events.of(ev.Connected)


async def test_an_unreadable_ca_file_is_said_once_and_not_retried(tmp_path: Path) -> None:
    engine, events = await run_engine("wss://127.0.0.1:9/ws", ca_file=str(tmp_path / "missing.pem"))
    try:
        error = await events.next(ev.ErrorEvent)
    finally:
        await engine.close()
    assert error.code == "bad_ca_file"
    assert error.message == messages.CA_FILE_UNREADABLE.format(path=tmp_path / "missing.pem")
    assert not events.of(ev.Disconnected)
