"""The mini window under a real X server and window manager (Xvfb + openbox), not offscreen.

What this covers, beyond test_miniwindow.py: with the main window minimised (iconified by
openbox: _NET_WM_STATE_HIDDEN) the mini window is mapped with _NET_WM_STATE_ABOVE and the
utility window type; with another window active over the whole screen it is the top of
_NET_CLIENT_LIST_STACKING, the screen shows its picture there, and it has not taken the focus
(_NET_ACTIVE_WINDOW); a drag moves the X window; hidden when the main window is active again,
it comes back at the same place; the call's end hides it. English and Spanish, each with a
screenshot in the test's temporary folder.

Not covered: other window managers (GNOME, KDE, Windows, macOS each stack tool windows their
own way), real pointer input (the drag is Qt mouse events sent to the window; xdotool is not
installed), and an app of another process taking the focus (another of our top-level windows
stands in for it: the follower treats any window outside the main window's family the same).
The binaries come with tools/setup --test (xvfb, openbox, x11-utils); without them this skips.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import TIMEOUT

ROOT = Path(__file__).resolve().parents[2]
NEEDED = ("Xvfb", "openbox", "xprop", "xwininfo")


def wait_for(what: str, check) -> None:
    """Poll a condition of the X server (another process) until it holds."""
    deadline = time.monotonic() + TIMEOUT
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@pytest.fixture(scope="module")
def display() -> Iterator[str]:
    missing = [name for name in NEEDED if shutil.which(name) is None]
    if missing:
        pytest.skip(f"needs {', '.join(missing)} (tools/setup --test installs xvfb, openbox, x11-utils)")
    read, write = os.pipe()
    xvfb = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
                            pass_fds=(write,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write)
    wm = None
    try:
        with os.fdopen(read) as chosen:  # Xvfb writes the free display number it took
            name = f":{chosen.readline().strip()}"
        assert name != ":", "Xvfb did not start"
        env = {**os.environ, "DISPLAY": name}
        wm = subprocess.Popen(["openbox"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for("openbox managing the screen", lambda: "window id" in subprocess.run(
            ["xprop", "-root", "_NET_SUPPORTING_WM_CHECK"], env=env, capture_output=True, text=True).stdout)
        yield name
    finally:
        for process in (wm, xvfb):
            if process is not None:
                process.terminate()
                process.wait(TIMEOUT)


@pytest.mark.parametrize("language", ["en", "es"])
def test_on_top_under_a_window_manager(display: str, language: str, tmp_path: Path) -> None:
    env = {**os.environ, "DISPLAY": display, "QT_QPA_PLATFORM": "xcb"}
    env.pop("STUDYMATCH_SETTINGS", None)
    run = subprocess.run([sys.executable, "-m", "tests.gui.x11_mini_child", str(tmp_path), language],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=100)
    lines = run.stdout.strip().splitlines()
    assert run.returncode == 0 and lines, run.stderr[-3000:]
    report = json.loads(lines[-1])
    assert "error" not in report, (report, run.stderr[-3000:])
    assert report["platform"] == "xcb"
    assert report["hidden_while_main_active"]
    assert "_NET_WM_STATE_HIDDEN" in report["main_state"]  # openbox iconified the main window
    assert "_NET_WM_STATE_ABOVE" in report["net_wm_state"]
    assert "_NET_WM_WINDOW_TYPE_UTILITY" in report["window_type"]
    assert report["stacking_top_is_mini"]
    assert not report["mini_has_focus"] and not report["net_active_is_mini"]
    red, green, blue = report["screen_at_picture"]  # the picture's green band, not the other app's grey
    assert green > 120 and red < 110 and blue < 140, report["screen_at_picture"]
    (x0, y0), (x1, y1) = report["moved_by_drag"]
    assert (x1 - x0, y1 - y0) == (-400, 200)
    assert report["hidden_on_return"] and report["same_place_again"] and report["hidden_on_end"]
    assert (tmp_path / f"mini-{language}.png").stat().st_size > 0
