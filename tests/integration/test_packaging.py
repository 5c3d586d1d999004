"""`python -m build` makes an sdist and a wheel that work: the wheel carries the data files
pyproject.toml declares, and a fresh virtualenv that installs it (not an editable checkout)
runs both programs.

The build runs as a release would (isolated, sdist first, the wheel built from the sdist)
from a copy of the sources, so the checkout gets no build/ or egg-info junk. The fresh
virtualenv borrows the dependencies (PySide6, aiortc, ... 1 GiB) from the test's own
environment through a folder of links instead of downloading them again; it leaves out
the editable install's finder and metadata, so `client` and `server` can only come from
the wheel, and pip still checks every requirement of the wheel against what it finds.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import tomllib
import venv
import wave
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from client.ui.resources import asset_path

from .conftest import http_get
from .package_data import declared_data_files
from .wsclient import SCALE, TIMEOUT

ROOT = Path(__file__).resolve().parents[2]
RUNTIME_ASSETS = ["studymatch.svg", "studymatch.png", "sounds/partner_found.wav", "sounds/partner_left.wav"]
# Two isolated builds, each of which may fetch setuptools from the package index, on two busy cores.
BUILD_TIMEOUT = 180 * SCALE
RUN_TIMEOUT = 60 * SCALE  # two clients importing aiortc, then a 1 s call


def _check_asset(path: Path | None, relative: str) -> None:
    assert path is not None and path.is_file(), relative
    if relative.endswith(".wav"):
        with wave.open(str(path)) as chime:  # QSoundEffect plays these: a real, non-empty WAV
            assert chime.getframerate() == 48_000 and chime.getnframes() > 0


def test_the_assets_are_found_in_the_checkout() -> None:
    for relative in RUNTIME_ASSETS:
        path = asset_path(relative)
        _check_asset(path, relative)
        assert path is not None and path.is_relative_to(ROOT / "client" / "assets")
    assert asset_path("sounds/no_such_chime.wav") is None


@dataclass(frozen=True)
class Built:
    sdist: Path
    wheel: Path
    version: str


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    scratch = tmp_path_factory.mktemp("packaging")
    src = scratch / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, src / name)
    for package in ("client", "server"):
        shutil.copytree(ROOT / package, src / package, ignore=shutil.ignore_patterns("__pycache__"))
    done = subprocess.run([sys.executable, "-m", "build", "--outdir", str(scratch / "dist"), str(src)],
                          capture_output=True, text=True, timeout=BUILD_TIMEOUT, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    (sdist,) = (scratch / "dist").glob("studymatch-*.tar.gz")
    (wheel,) = (scratch / "dist").glob("studymatch-*.whl")
    return Built(sdist, wheel, version)


@pytest.mark.slow
@pytest.mark.timeout(BUILD_TIMEOUT + 30 * SCALE)
def test_the_sdist_and_the_wheel_carry_the_declared_data_files(built: Built) -> None:
    assert built.sdist.name == f"studymatch-{built.version}.tar.gz"
    assert built.wheel.name == f"studymatch-{built.version}-py3-none-any.whl"
    declared = declared_data_files(ROOT)
    # What this branch ships for sure; more (the web client) comes through pyproject.toml.
    for kind in (".mo", ".lua", ".wav", ".svg", ".png"):
        assert any(f.endswith(kind) for f in declared), kind
    wheel_names = set(zipfile.ZipFile(built.wheel).namelist())
    assert declared <= wheel_names, sorted(declared - wheel_names)
    assert {"client/cli.py", "server/cli.py"} <= wheel_names
    assert not any(n.startswith(("assets/", "client/assets/screenshots", "tests/", "tools/")) for n in wheel_names)
    entry_points = zipfile.ZipFile(built.wheel).read(f"studymatch-{built.version}.dist-info/entry_points.txt").decode()
    assert "studymatch = client.cli:main" in entry_points and "studymatch-server = server.cli:main" in entry_points
    prefix = f"studymatch-{built.version}/"
    with tarfile.open(built.sdist) as sdist:
        sdist_names = {n.removeprefix(prefix) for n in sdist.getnames()}
    assert {"pyproject.toml", "README.md", "LICENSE"} <= sdist_names
    assert declared <= sdist_names, sorted(declared - sdist_names)


def _fresh_venv(where: Path) -> Path:
    """A new virtualenv whose only StudyMatch can be a wheel installed into it; the dependencies
    are the test environment's, linked (see the module's docstring). Returns its bin folder."""
    venv.create(where / "venv", with_pip=True)
    purelib = Path(sysconfig.get_paths()["purelib"])
    deps = where / "deps"
    deps.mkdir()
    for entry in purelib.iterdir():
        if entry.name.startswith(("studymatch", "__editable__", "_distutils_hack", "pip")) or entry.suffix == ".pth":
            continue
        (deps / entry.name).symlink_to(entry)
    bindir = where / "venv" / ("Scripts" if sys.platform == "win32" else "bin")
    site = subprocess.run([str(bindir / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True, timeout=TIMEOUT * 6).stdout.strip()
    (Path(site) / "studymatch-test-deps.pth").write_text(f"{deps}\n")
    return bindir


async def _server(bindir: Path, env: dict[str, str]) -> tuple[asyncio.subprocess.Process, str]:
    proc = await asyncio.create_subprocess_exec(
        str(bindir / "studymatch-server"), "--port", "0", "--rematch-cooldown", "0", env=env, cwd=bindir,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
    )
    assert proc.stdout is not None
    line = (await asyncio.wait_for(proc.stdout.readline(), RUN_TIMEOUT)).decode().strip()
    assert line.startswith("listening on ws://"), line
    return proc, line.removeprefix("listening on ")


async def _client(bindir: Path, env: dict[str, str], url: str) -> tuple[int, list[dict[str, Any]], str]:
    proc = await asyncio.create_subprocess_exec(
        str(bindir / "studymatch"), "--headless", "--fake-media", "--events", "json", "--server", url,
        "--calls", "1", "--call-seconds", "1", env=env, cwd=bindir,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), RUN_TIMEOUT)
    except TimeoutError:
        proc.kill()
        out, err = await proc.communicate()
        raise AssertionError(f"installed client did not finish: {err.decode()[-2000:]}") from None
    assert proc.returncode is not None
    return proc.returncode, [json.loads(line) for line in out.decode().splitlines() if line.strip()], err.decode()


@dataclass(frozen=True)
class Installed:
    bindir: Path  # the fresh virtualenv's scripts: python, studymatch, studymatch-server
    site: Path  # its site-packages, where the wheel went
    env: dict[str, str]  # nothing of the checkout or the test's venv on any path


@pytest.fixture(scope="module")
def installed(built: Built, tmp_path_factory: pytest.TempPathFactory) -> Installed:
    bindir = _fresh_venv(tmp_path_factory.mktemp("fresh"))
    # No index: every requirement of the wheel must be met by what is linked, or pip fails.
    done = subprocess.run([str(bindir / "python"), "-m", "pip", "install", "-q", "--no-index",
                           "--disable-pip-version-check", str(built.wheel)],
                          capture_output=True, text=True, timeout=BUILD_TIMEOUT, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    site = subprocess.run([str(bindir / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True, timeout=TIMEOUT * 6).stdout.strip()
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV"}}
    return Installed(bindir, Path(site), env)


@pytest.mark.slow
@pytest.mark.timeout(BUILD_TIMEOUT + 60 * SCALE)
def test_the_installed_wheel_is_what_runs_and_finds_its_assets(installed: Installed, tmp_path: Path) -> None:
    script = (
        "import json, client, server\n"
        "from client.ui.resources import asset_path\n"
        f"print(json.dumps({{'client': client.__file__, 'server': server.__file__,"
        f" 'assets': {{a: str(asset_path(a)) for a in {RUNTIME_ASSETS!r}}}}}))\n"
    )
    # A working directory away from the checkout.
    proc = subprocess.run([str(installed.bindir / "python"), "-c", script], cwd=tmp_path, env=installed.env,
                          capture_output=True, text=True, timeout=TIMEOUT * 6, check=True)
    found = json.loads(proc.stdout)
    site = installed.site
    assert Path(found["client"]).is_relative_to(site) and Path(found["server"]).is_relative_to(site), found
    for relative, path in found["assets"].items():
        assert Path(path).is_relative_to(site / "client" / "assets"), path
        _check_asset(Path(path), relative)


@pytest.mark.slow
@pytest.mark.timeout(BUILD_TIMEOUT + 120 * SCALE)
async def test_both_installed_programs_start_and_a_call_works(installed: Installed) -> None:
    """The entry points: the server answers /healthz, and two installed clients call through it."""
    bindir, env = installed.bindir, installed.env
    server, url = await _server(bindir, env)
    try:
        status, _type, body = await http_get(url.replace("ws://", "http://").removesuffix("/ws") + "/healthz")
        assert status == 200, body
        (code_a, a, err_a), (code_b, b, err_b) = await asyncio.gather(
            _client(bindir, env, url), _client(bindir, env, url))
        assert (code_a, code_b) == (0, 0), (err_a[-2000:], err_b[-2000:])
        for events in (a, b):
            (ended,) = [e for e in events if e["event"] == "call_ended"]
            assert ended["video_frames"] > 0 and ended["audio_frames"] > 0, ended
    finally:
        server.terminate()
        await asyncio.wait_for(server.wait(), RUN_TIMEOUT)
