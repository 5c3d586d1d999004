"""The frozen programs do what the installed ones do: two frozen headless students call each
other through the frozen server (real WebRTC, frames decoded on both sides), over ws:// and
over wss://, and the frozen client speaks Spanish when asked."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
from pathlib import Path
from typing import Any

import pytest

from integration.conftest import http_get
from integration.tls_support import TestCA
from integration.wsclient import SCALE

from .conftest import BUNDLE_TIMEOUT, Bundle, frozen_env, frozen_server

pytestmark = [pytest.mark.bundle, pytest.mark.timeout(BUNDLE_TIMEOUT)]

RUN_TIMEOUT = 60 * SCALE  # two frozen processes starting on two shared cores, then one 2 s call


async def run_frozen_client(bundle: Bundle, *args: str, env: dict[str, str] | None = None,
                            ) -> tuple[int, list[dict[str, Any]], str]:
    """`studymatch --headless --fake-media --events json ARGS`, to its end: (exit code, events, stderr)."""
    proc = await asyncio.create_subprocess_exec(
        str(bundle.client), "--headless", "--fake-media", "--events", "json", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env or frozen_env(),
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), RUN_TIMEOUT)
    except TimeoutError:
        proc.kill()
        out, err = await proc.communicate()
        raise AssertionError(f"frozen client did not finish: {out.decode()[-2000:]} {err.decode()[-2000:]}") from None
    assert proc.returncode is not None
    events = [json.loads(line) for line in out.decode().splitlines() if line.strip()]
    return proc.returncode, events, err.decode()


def named(events: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [e for e in events if e["event"] == name]


async def call_each_other(bundle: Bundle, url: str, *extra: str, env: dict[str, str] | None = None) -> None:
    """Two frozen students meet through the server at `url`, talk for 2 s, and both saw and heard the other."""
    args = ["--server", url, "--calls", "1", "--call-seconds", "2", *extra]
    (code_a, a, err_a), (code_b, b, err_b) = await asyncio.gather(
        run_frozen_client(bundle, *args, env=env), run_frozen_client(bundle, *args, env=env))
    assert (code_a, code_b) == (0, 0), (err_a[-2000:], err_b[-2000:])
    (matched_a,), (matched_b,) = named(a, "matched"), named(b, "matched")
    assert matched_a["session"] == matched_b["session"]
    assert matched_a["initiator"] != matched_b["initiator"]
    for events in (a, b):
        assert not named(events, "error"), events
        assert {e["kind"] for e in named(events, "first_remote_frame")} == {"video", "audio"}
        (ended,) = named(events, "call_ended")
        assert ended["video_frames"] > 0 and ended["audio_frames"] > 0, ended


async def test_two_frozen_clients_call_through_the_frozen_server(bundle: Bundle) -> None:
    async with frozen_server(bundle, "--rematch-cooldown", "0") as url:
        status, _type, body = await http_get(url.replace("ws://", "http://").removesuffix("/ws") + "/healthz")
        assert status == 200, body
        await call_each_other(bundle, url)


async def test_frozen_clients_call_over_wss_trusting_a_private_ca(bundle: Bundle, tmp_path: Path) -> None:
    ca = TestCA(tmp_path)
    cert = ca.issue("server")
    async with frozen_server(bundle, "--tls-cert", str(cert.cert), "--tls-key", str(cert.key)) as url:
        assert url.startswith("wss://127.0.0.1:")
        await call_each_other(bundle, url, "--ca-file", str(ca.pem))


async def test_the_frozen_client_reads_ssl_cert_file_and_checks_certificates(bundle: Bundle, tmp_path: Path) -> None:
    """The runtime hook (tools/bundling/certificates.py) leaves a SSL_CERT_FILE that was set alone,
    and with no trusted CA at all the certificate is refused, in a sentence."""
    ca = TestCA(tmp_path)
    cert = ca.issue("server")
    async with frozen_server(bundle, "--tls-cert", str(cert.cert), "--tls-key", str(cert.key)) as url:
        await call_each_other(bundle, url, env=frozen_env(SSL_CERT_FILE=str(ca.pem)))
        code, events, err = await run_frozen_client(bundle, "--server", url, "--connect-timeout", "2")
        assert code == 1 and not named(events, "connected")
        assert "certificate check failed: unable to get local issuer certificate" in err, err[-2000:]


async def test_the_frozen_client_trusts_the_certificate_authorities_it_carries(bundle: Bundle, tmp_path: Path) -> None:
    """The runtime hook points OpenSSL at the bundled certifi list: a CA added to that file (in a
    copy of the bundle, hard links but for the list) is trusted with nothing set or given."""
    ca = TestCA(tmp_path)
    cert = ca.issue("server")
    copy = tmp_path / "studymatch"
    shutil.copytree(bundle.folder, copy, symlinks=True, copy_function=os.link)
    cacert = copy / "_internal" / "certifi" / "cacert.pem"
    listed = cacert.read_bytes()
    cacert.unlink()  # a new file: the original, linked, stays as it was
    cacert.write_bytes(listed + ca.pem.read_bytes())
    env = {k: v for k, v in frozen_env().items() if k not in {"SSL_CERT_FILE", "SSL_CERT_DIR"}}
    try:
        async with frozen_server(bundle, "--tls-cert", str(cert.cert), "--tls-key", str(cert.key)) as url:
            await call_each_other(Bundle(bundle.archive, copy, bundle.version), url, env=env)
    finally:
        shutil.rmtree(copy)  # its links would keep the bundle's 0.4 GiB on disk after the session


async def test_the_frozen_client_speaks_spanish(bundle: Bundle) -> None:
    """The translations are in the bundle: LANGUAGE=es, as on a Spanish desktop."""
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        url = f"ws://127.0.0.1:{s.getsockname()[1]}/ws"
    code, _events, err = await run_frozen_client(bundle, "--server", url, "--connect-timeout", "1",
                                                 env=frozen_env(LANGUAGE="es"))
    assert code == 1
    assert f"No se ha podido contactar con el servidor de StudyMatch en {url} en 1 s." in err, err[-2000:]
