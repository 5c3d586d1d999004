"""The real `studymatch` entry point, in its own process (freezing the heap is process-wide,
and pytest's own process must never be frozen)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from .conftest import TIMEOUT

# Runs client.cli.main as `studymatch` does; when the window's setup freezes the heap, it
# reports the frozen-object counts and closes the window, so main() returns on its own.
CHILD = """
import gc, json, sys
from PySide6.QtWidgets import QApplication
import client.cli
import client.ui.app as ui
from client.ui.window import MainWindow

calls = []
cli_frozen = []
real_cli_freeze, real_ui_freeze = client.cli.freeze_startup_heap, ui.freeze_startup_heap

def cli_freeze():
    real_cli_freeze()
    cli_frozen.append(gc.get_freeze_count())

def ui_freeze():
    real_ui_freeze()
    windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow)]
    calls.append({"cli": cli_frozen[:], "after": gc.get_freeze_count(), "tracked": len(gc.get_objects()),
                  "windows": len(windows),
                  "visible": all(w.isVisible() for w in windows)})
    for window in windows:
        window.close()

client.cli.freeze_startup_heap, ui.freeze_startup_heap = cli_freeze, ui_freeze
code = client.cli.main(sys.argv[1:])
print(json.dumps({"code": code, "calls": calls}))
"""


def test_window_setup_freezes_qt_objects_once(tmp_path: Path) -> None:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    # Nothing listens on port 9: the engine keeps retrying, which the freeze must not wait for.
    argv = ["--server", "ws://127.0.0.1:9/ws", "--fake-media", "--settings", str(tmp_path / "s.ini")]
    done = subprocess.run([sys.executable, "-c", CHILD, *argv], env=env, capture_output=True, text=True,
                          timeout=6 * TIMEOUT, cwd=Path(__file__).resolve().parents[2], check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["code"] == 0
    (call,) = report["calls"]  # once, at the end of the window's setup
    (before,) = call["cli"]  # the CLI's own freeze came first, before Qt was imported
    assert call["windows"] == 1 and call["visible"]
    # Qt's modules and the window's objects were created after the CLI's freeze; now frozen too,
    # so a full collection scans next to nothing (thousands of objects without this freeze).
    assert call["after"] > before + 1000, call
    assert call["tracked"] < 500, call


def test_the_window_logs_lobby_ready_once_connected(tmp_path: Path) -> None:
    """`lobby ready <url>`: the line scripts wait for (the frozen bundle's smoke test, bench/bundle.py)."""
    root = Path(__file__).resolve().parents[2]
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    with subprocess.Popen([sys.executable, "-m", "server", "--port", "0"], cwd=root, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL) as server:
        try:
            assert server.stdout is not None
            url = server.stdout.readline().strip().removeprefix("listening on ")
            assert url.startswith("ws://127.0.0.1:"), url
            with subprocess.Popen(
                [sys.executable, "-m", "client", "--server", url, "--fake-media", "--log-level", "info",
                 "--settings", str(tmp_path / "s.ini"), "--history", str(tmp_path / "history.sqlite")],
                cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
            ) as window:
                try:
                    assert window.stderr is not None
                    seen = []
                    # readline() blocks: pytest-timeout ends a window that never gets there.
                    for line in window.stderr:
                        seen.append(line)
                        if "lobby ready" in line:
                            assert line.rstrip().endswith(f"studymatch.ui lobby ready {url}"), line
                            break
                    else:
                        raise AssertionError("".join(seen[-30:]))
                finally:
                    window.terminate()
        finally:
            server.terminate()
