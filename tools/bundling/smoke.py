"""Smoke test of a built bundle on any OS (the release workflow runs it on each runner):

    python tools/bundling/smoke.py FOLDER [--window]

FOLDER holds the frozen `studymatch` and `studymatch-server` (`.exe` on Windows; on macOS
StudyMatch.app/Contents/MacOS). The frozen server starts and answers /healthz, two frozen
headless students call each other with synthetic media and both decode frames; with
--window the frozen window also starts (a display is needed: xvfb-run on Linux) and
reaches the lobby. Exits non-zero, saying what failed. On Linux the pytest suite
tests/integration/bundle checks more (wss://, Spanish, the contents); this is the part
that runs everywhere with nothing but the standard library.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

TIMEOUT = 90.0


def program(folder: Path, name: str) -> str:
    path = folder / (name + ".exe" if sys.platform == "win32" else name)
    if not path.is_file():
        sys.exit(f"smoke: no {path}")
    return str(path)


def headless_call(client: str, url: str) -> None:
    args = [client, "--headless", "--fake-media", "--events", "json", "--server", url,
            "--calls", "1", "--call-seconds", "2"]
    students = [subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    for student in students:
        out, err = student.communicate(timeout=TIMEOUT)
        if student.returncode != 0:
            sys.exit(f"smoke: a headless client exited {student.returncode}:\n{err[-3000:]}")
        events = [json.loads(line) for line in out.splitlines() if line.strip()]
        ended = [e for e in events if e["event"] == "call_ended"]
        if len(ended) != 1 or not (ended[0]["video_frames"] > 0 and ended[0]["audio_frames"] > 0):
            sys.exit(f"smoke: no frames decoded: {events}")
        print(f"smoke: call ended with {ended[0]['video_frames']} video and {ended[0]['audio_frames']} audio frames")


def window_reaches_lobby(client: str, url: str) -> None:
    with tempfile.TemporaryDirectory() as run:
        args = [client, "--server", url, "--fake-media", "--log-level", "info",
                "--settings", f"{run}/settings.ini", "--history", f"{run}/history.sqlite"]
        t0 = time.monotonic()
        with subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) as window:
            watchdog = threading.Timer(TIMEOUT, window.kill)  # a window that never gets there: EOF below
            watchdog.start()
            try:
                assert window.stderr is not None
                for line in window.stderr:
                    if "lobby ready" in line:
                        print(f"smoke: the window reached the lobby in {time.monotonic() - t0:.2f} s")
                        return
                sys.exit(f"smoke: the window exited ({window.wait()}) before the lobby (or in {TIMEOUT:.0f} s)")
            finally:
                watchdog.cancel()
                window.terminate()
                window.wait(TIMEOUT)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--window", action="store_true", help="also start the window (needs a display)")
    args = parser.parse_args()
    client, server_program = program(args.folder, "studymatch"), program(args.folder, "studymatch-server")
    with subprocess.Popen([server_program, "--port", "0", "--rematch-cooldown", "0"],
                          stdout=subprocess.PIPE, text=True) as server:
        try:
            assert server.stdout is not None
            line = server.stdout.readline().strip()
            if not line.startswith("listening on ws://"):
                sys.exit(f"smoke: the server did not start: {line!r}")
            url = line.removeprefix("listening on ")
            health = url.replace("ws://", "http://").removesuffix("/ws") + "/healthz"
            with urllib.request.urlopen(health, timeout=TIMEOUT) as answer:
                if answer.status != 200:
                    sys.exit(f"smoke: /healthz answered {answer.status}")
            print(f"smoke: the server answers at {url}")
            headless_call(client, url)
            if args.window:
                window_reaches_lobby(client, url)
        finally:
            server.terminate()
            server.wait(TIMEOUT)
    print("smoke: passed")


if __name__ == "__main__":
    main()
