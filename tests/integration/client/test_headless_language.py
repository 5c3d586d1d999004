"""`studymatch --headless` speaks the language the environment asks for, as gettext programs do."""

from __future__ import annotations

import asyncio
import os
import socket
import sys

import pytest

from integration.wsclient import SCALE

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(("environment", "expected"), [
    ({"LANGUAGE": "es"}, "No se ha podido contactar con el servidor de StudyMatch en {url} en 1 s."),
    ({"LANGUAGE": "", "LC_ALL": "es_ES.UTF-8"}, "No se ha podido contactar con el servidor de StudyMatch en {url} en 1 s."),
    ({"LANGUAGE": "fr:en"}, "Could not reach the StudyMatch server at {url} within 1 s."),
])
async def test_the_headless_client_speaks_the_environments_language(
        environment: dict[str, str], expected: str) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        url = f"ws://127.0.0.1:{s.getsockname()[1]}/ws"
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "client", "--headless", "--fake-media", "--server", url, "--connect-timeout", "1",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env={**os.environ, **environment},
    )
    _out, err = await asyncio.wait_for(proc.communicate(), 60 * SCALE)
    assert proc.returncode == 1
    assert expected.format(url=url) in err.decode()
