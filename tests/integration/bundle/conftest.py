"""The frozen programs, built once per test session by `tools/bundle` (PyInstaller) and run
from the archive a student would download: the tarball is unpacked into a scratch folder
and nothing else of the checkout or its virtualenv is on their path.

Each test here can take the build's minute in its own timeout (the first one to ask for
the bundle pays it), so the module timeouts are raised with `BUNDLE_TIMEOUT`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
import sys
import tarfile
import tomllib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from integration.wsclient import SCALE, TIMEOUT

ROOT = Path(__file__).resolve().parents[3]
BUILD_TIMEOUT = 400 * SCALE  # measured: 60 s to build and 25 s to pack on two busy cores
BUNDLE_TIMEOUT = BUILD_TIMEOUT + 120 * SCALE  # what a test may take, the build included
START_TIMEOUT = 6 * TIMEOUT  # a frozen program unpacks nothing (one folder) but imports Qt and aiortc


@dataclass(frozen=True)
class Bundle:
    archive: Path  # dist/studymatch-<version>-linux-x86_64.tar.gz
    folder: Path  # the archive unpacked: studymatch/{studymatch,studymatch-server,_internal}
    version: str

    @property
    def client(self) -> Path:
        return self.folder / "studymatch"

    @property
    def server(self) -> Path:
        return self.folder / "studymatch-server"


@pytest.fixture(scope="session")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bundle]:
    scratch = tmp_path_factory.mktemp("bundle")
    done = subprocess.run(
        ["bash", str(ROOT / "tools" / "bundle"), "--dist", str(scratch / "dist"), "--work", str(scratch / "work")],
        capture_output=True, text=True, timeout=BUILD_TIMEOUT, check=False,
        env={**os.environ, "PYTHON": sys.executable},  # PyInstaller from the test's own environment
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    archive = Path(done.stdout.strip().splitlines()[-1])
    shutil.rmtree(scratch / "work")  # 0.4 GiB; the tests run what the archive holds
    unpacked = scratch / "unpacked"
    with tarfile.open(archive) as tar:
        tar.extractall(unpacked, filter="tar")
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    yield Bundle(archive, unpacked / "studymatch", version)
    shutil.rmtree(scratch)  # 0.6 GiB, and pytest keeps the last three sessions' folders


def frozen_env(**extra: str) -> dict[str, str]:
    """The environment of a frozen program: the test's, without the venv or the checkout on any
    path, and with Qt free to pick its platform unless a test says which."""
    env = {k: v for k, v in os.environ.items()
           if k not in {"PYTHONPATH", "VIRTUAL_ENV", "QT_QPA_PLATFORM", "PYTHONHOME"}}
    return {**env, **extra}


@contextlib.asynccontextmanager
async def frozen_server(bundle: Bundle, *options: str) -> AsyncIterator[str]:
    """The frozen `studymatch-server` on a free port for the block; yields its URL."""
    proc = await asyncio.create_subprocess_exec(
        str(bundle.server), "--port", "0", *options, env=frozen_env(),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        assert proc.stdout is not None
        line = (await asyncio.wait_for(proc.stdout.readline(), START_TIMEOUT)).decode().strip()
        assert line.startswith("listening on ws"), line
        yield line.removeprefix("listening on ")
    finally:
        if proc.returncode is None:
            proc.terminate()
            await asyncio.wait_for(proc.wait(), START_TIMEOUT)


@contextlib.contextmanager
def xvfb() -> Iterator[str]:
    """A private X server (Xvfb) on a display it picks itself (-displayfd); yields ':N'."""
    read, write = os.pipe()
    proc = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write), "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
        pass_fds=(write,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    os.close(write)
    try:
        with os.fdopen(read) as numbers:
            display = numbers.readline().strip()  # written once the server accepts clients
        assert display.isdigit(), f"Xvfb did not start (exit {proc.poll()})"
        yield f":{display}"
    finally:
        proc.terminate()
        proc.wait(timeout=START_TIMEOUT)
