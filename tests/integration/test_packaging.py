"""A built wheel carries the window's runtime assets, and the app finds them installed.

Builds the wheel the way a release would (`pip wheel . --no-deps`, from a copy
of the sources so the checkout gets no build/ junk), installs it into a
scratch directory and looks the assets up from there in a fresh interpreter.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import wave
import zipfile
from pathlib import Path

import pytest

from client.ui.resources import asset_path

from .wsclient import TIMEOUT

ROOT = Path(__file__).resolve().parents[2]
RUNTIME_ASSETS = ["studymatch.svg", "studymatch.png", "sounds/partner_found.wav", "sounds/partner_left.wav"]
BUILD_TIMEOUT = 60 * TIMEOUT / 5  # a minute, scaled: pip may fetch setuptools for the isolated build


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


@pytest.mark.slow
def test_a_built_wheel_carries_the_assets_and_finds_them_installed(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, src / name)
    for package in ("client", "server"):
        shutil.copytree(ROOT / package, src / package, ignore=shutil.ignore_patterns("__pycache__"))
    wheels = tmp_path / "wheels"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "wheel", str(src), "--no-deps", "-w", str(wheels)], check=True,
                   capture_output=True, timeout=BUILD_TIMEOUT)
    (wheel,) = wheels.glob("studymatch-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {f"client/assets/{a}" for a in RUNTIME_ASSETS} <= names
    assert not any(n.startswith(("assets/", "client/assets/screenshots")) for n in names)

    site = tmp_path / "site"
    subprocess.run([*pip, "install", "--no-deps", "--target", str(site), str(wheel)], check=True,
                   capture_output=True, timeout=BUILD_TIMEOUT)
    script = (
        "import json, client\n"
        "from client.ui.resources import asset_path\n"
        f"print(json.dumps({{'client': client.__file__, 'assets': {{a: str(asset_path(a)) for a in {RUNTIME_ASSETS!r}}}}}))\n"
    )
    # The scratch directory first, and a working directory away from the checkout.
    env = {**os.environ, "PYTHONPATH": str(site)}
    proc = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=TIMEOUT * 6, check=True)
    found = json.loads(proc.stdout)
    assert Path(found["client"]).is_relative_to(site)
    for relative, path in found["assets"].items():
        assert Path(path).is_relative_to(site / "client" / "assets"), path
        _check_asset(Path(path), relative)
