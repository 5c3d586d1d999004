"""The desktop bundle (issue 15): its size unpacked and packed, the time to build it, and the
time from starting the window to a usable lobby, frozen beside the same window run from the
virtualenv, in one run.

    xvfb-run -a -s "-screen 0 1280x800x24" python bench/bundle.py [--runs 5] [--folder DIR --archive FILE]

Builds with `tools/bundle` into a scratch folder (or takes a bundle already built). Then,
alternating frozen and venv so both see the same machine, it starts the window with fresh
settings against one server in its own process and times the start until the window logs
`lobby ready <url>` (client/ui/app.py): Python and Qt loaded, the window shown, the server
connected. The resident memory at that moment comes from /proc. The first start of each
kind is reported apart: it pays for reading the files from disk.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import start_server

ROOT = Path(__file__).resolve().parents[1]
MiB = 1024 * 1024


def folder_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def build(scratch: Path) -> tuple[Path, Path, float]:
    """tools/bundle into `scratch`: (bundle folder, archive, seconds to build and pack)."""
    t0 = time.monotonic()
    done = subprocess.run(["bash", str(ROOT / "tools" / "bundle"), "--dist", str(scratch / "dist"),
                           "--work", str(scratch / "work")], capture_output=True, text=True, check=True)
    seconds = time.monotonic() - t0
    return scratch / "work" / "dist" / "studymatch", Path(done.stdout.strip().splitlines()[-1]), seconds


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def start_to_lobby(command: list[str], url: str, scratch: Path) -> tuple[float, float]:
    """Seconds from starting `command` (the window) to its `lobby ready` line, and its RSS then (MiB)."""
    with tempfile.TemporaryDirectory(dir=scratch) as run:
        env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}
        args = ["--server", url, "--fake-media", "--log-level", "info",
                "--settings", f"{run}/settings.ini", "--history", f"{run}/history.sqlite"]
        t0 = time.monotonic()
        with subprocess.Popen([*command, *args], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True) as window:
            try:
                assert window.stderr is not None
                for line in window.stderr:
                    if "lobby ready" in line:
                        seconds = time.monotonic() - t0
                        return seconds, rss_mib(window.pid)
                raise RuntimeError(f"{command[0]} exited before the lobby")
            finally:
                window.terminate()
                window.wait(30)


def summary(values: list[float]) -> dict[str, float]:
    return {"first": round(values[0], 2), "median_after_first": round(statistics.median(values[1:]), 2),
            "min": round(min(values), 2), "max": round(max(values), 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="window starts of each kind (the first is cold)")
    parser.add_argument("--folder", type=Path, help="an unpacked bundle folder (skips the build)")
    parser.add_argument("--archive", type=Path, help="its archive, with --folder")
    args = parser.parse_args()
    if not os.environ.get("DISPLAY"):
        sys.exit("needs an X display: xvfb-run -a -s '-screen 0 1280x800x24' python bench/bundle.py")

    with tempfile.TemporaryDirectory(prefix="bench-bundle-") as tmp:
        scratch = Path(tmp)
        result: dict[str, Any] = {}
        if args.folder is None:
            folder, archive, seconds = build(scratch)
            result["build_and_pack_seconds"] = round(seconds, 1)
        else:
            folder, archive = args.folder, args.archive
        result["unpacked_mib"] = round(folder_size(folder) / MiB, 1)
        if archive is not None:
            result["packed_mib"] = round(archive.stat().st_size / MiB, 1)
            result["archive"] = archive.name

        kinds = {"frozen": [str(folder / "studymatch")],
                 "venv": [str(Path(sys.executable).with_name("studymatch"))]}
        server = start_server()
        times: dict[str, list[float]] = {k: [] for k in kinds}
        rss: dict[str, list[float]] = {k: [] for k in kinds}
        try:
            for _ in range(args.runs):
                for kind, command in kinds.items():
                    seconds, mib = start_to_lobby(command, server.url, scratch)
                    times[kind].append(seconds)
                    rss[kind].append(mib)
        finally:
            server.stop()
        for kind in kinds:
            result[f"start_to_lobby_{kind}_s"] = summary(times[kind])
            result[f"rss_at_lobby_{kind}_mib"] = round(statistics.median(rss[kind]), 1)
        print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
