"""The window in the loop: paint rate and CPU of a 640x480 30 fps call, beside
the same call without windows, in one run.

    xvfb-run -a -s "-screen 0 1280x800x24" python bench/window.py [--seconds 15]

Both phases run in this process on one qasync loop with two engines
(synthetic media, VP8 both ways) against a server in its own process, so the
difference between the phases is what two windows cost: painting (swscale to
the widget size + QImage draw) and the self-views. The server's CPU is not
counted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import qasync
from PySide6.QtCore import QSettings
from PySide6.QtGui import QImage

from bench.common import start_server
from client import events as ev
from client.engine import Engine, EngineConfig
from client.ui.app import App, make_qapp
from client.ui.settings import Settings


async def until(predicate: Callable[[], object], within: float = 60.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not predicate():
        if loop.time() > deadline:
            raise TimeoutError(str(predicate))
        await asyncio.sleep(0.05)


def cpu() -> float:
    t = os.times()
    return t.user + t.system


async def headless_phase(url: str, seconds: float) -> dict[str, Any]:
    frames = [0, 0]
    matched = [False, False]

    def handler(i: int) -> Callable[[Any], None]:
        def on_event(event: Any) -> None:
            if isinstance(event, ev.RemoteVideoFrame):
                frames[i] += 1
            elif isinstance(event, ev.Matched):
                matched[i] = True

        return on_event

    engines = [Engine(EngineConfig(server=url, fake_media=True), handler(i)) for i in range(2)]
    for engine in engines:
        await engine.start()
        await engine.find("video", None)
    await until(lambda: all(frames))
    await asyncio.sleep(2.0)  # past the encoder's ramp-up
    f0, c0, t0 = list(frames), cpu(), time.monotonic()
    await asyncio.sleep(seconds)
    wall = time.monotonic() - t0
    result = {
        "received_fps": [round((frames[i] - f0[i]) / wall, 1) for i in range(2)],
        "cpu_percent_of_one_core": round(100 * (cpu() - c0) / wall, 1),
    }
    for engine in engines:
        await engine.close()
    return result


def painted_size(image: QImage | None) -> str:
    assert image is not None, "every remote view has painted by now (frames_painted above)"
    return f"{image.width()}x{image.height()}"


async def window_phase(url: str, seconds: float, folder: Path) -> dict[str, Any]:
    apps = []
    for i in range(2):
        settings = Settings(QSettings(str(folder / f"w{i}.ini"), QSettings.Format.IniFormat))
        settings.server = url
        app = App(settings, fake_media=True)
        app.window.resize(1100, 720)
        app.window.move(i * 40, i * 40)
        app.window.show()
        await app.start()
        apps.append(app)
    await until(lambda: all(a.controller.connected for a in apps))
    for app in apps:
        app.window.lobby.find_button.click()
    remotes = [a.window.call.remote for a in apps]
    await until(lambda: all(r.frames_painted for r in remotes))
    await asyncio.sleep(2.0)
    p0 = [r.frames_painted for r in remotes]
    r0 = [r.frames_received for r in remotes]
    c0, t0 = cpu(), time.monotonic()
    await asyncio.sleep(seconds)
    wall = time.monotonic() - t0
    result = {
        "received_fps": [round((r.frames_received - r0[i]) / wall, 1) for i, r in enumerate(remotes)],
        "painted_fps": [round((r.frames_painted - p0[i]) / wall, 1) for i, r in enumerate(remotes)],
        "paint_size": [painted_size(r.current_image()) for r in remotes],
        "cpu_percent_of_one_core": round(100 * (cpu() - c0) / wall, 1),
    }
    for app in apps:
        await app.close()
        app.window.hide()
    return result


async def main(seconds: float) -> dict[str, Any]:
    server = start_server()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            headless = await headless_phase(server.url, seconds)
            window = await window_phase(server.url, seconds, Path(tmp))
    finally:
        server.stop()
    extra = window["cpu_percent_of_one_core"] - headless["cpu_percent_of_one_core"]
    return {
        "seconds": seconds,
        "headless_two_engines": headless,
        "two_windows": window,
        "window_cost_percent_of_one_core_per_window": round(extra / 2, 1),
    }


def run() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15.0)
    args = parser.parse_args()
    qapp = make_qapp([sys.argv[0]])
    qapp.setQuitOnLastWindowClosed(False)
    loop = qasync.QEventLoop(qapp)
    asyncio.set_event_loop(loop)
    with loop:
        result = loop.run_until_complete(main(args.seconds))
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(run())
