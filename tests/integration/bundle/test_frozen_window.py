"""The frozen window starts on a real X server (Xvfb, Qt's xcb platform from the bundle),
connects to the frozen server and reaches the lobby, in the desktop's language."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import pytest

from .conftest import BUNDLE_TIMEOUT, START_TIMEOUT, Bundle, frozen_env, frozen_server, xvfb

pytestmark = [pytest.mark.bundle, pytest.mark.timeout(BUNDLE_TIMEOUT)]


def window_names(display: str) -> str:
    """Every top-level window's title on the display, as xwininfo prints the tree."""
    return subprocess.run(["xwininfo", "-root", "-tree"], env=frozen_env(DISPLAY=display, LC_ALL="C.UTF-8"),
                          capture_output=True, text=True, timeout=START_TIMEOUT, check=True).stdout


@pytest.mark.parametrize(("language", "title"), [
    ("en", "StudyMatch: find a study partner"),
    ("es", "StudyMatch: encuentra un compañero de estudio"),
])
async def test_the_frozen_window_reaches_the_lobby(bundle: Bundle, tmp_path: Path, language: str, title: str) -> None:
    async with frozen_server(bundle) as url:
        with xvfb() as display:
            env = frozen_env(DISPLAY=display, LANGUAGE=language, LC_ALL="C.UTF-8")
            window = await asyncio.create_subprocess_exec(
                str(bundle.client), "--server", url, "--fake-media", "--log-level", "info",
                "--settings", str(tmp_path / "settings.ini"), "--history", str(tmp_path / "history.sqlite"),
                env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
            )
            try:
                assert window.stderr is not None
                seen: list[str] = []
                while True:
                    line = (await asyncio.wait_for(window.stderr.readline(), START_TIMEOUT)).decode()
                    assert line, "the window exited before the lobby:\n" + "".join(seen[-40:])
                    seen.append(line)
                    if "lobby ready" in line:
                        break
                assert line.rstrip().endswith(f"lobby ready {url}"), line
                # A real X window, titled in the language asked for (the bundled .mo, not only headless).
                names = window_names(display)
                assert f'"{title}' in names, names  # Qt adds " — StudyMatch", the application's display name
                # Nothing the frozen program could not find: a missing module, library or plugin.
                problems = [s for s in seen if "ERROR" in s or "Traceback" in s or "not found" in s.lower()]
                assert not problems, problems
            finally:
                window.terminate()
                await asyncio.wait_for(window.wait(), START_TIMEOUT)
