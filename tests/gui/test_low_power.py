"""Low-power mode in the window: a fake /sys/class/power_supply tree, the real watch, window and
runtime (the shared synthetic camera), wired as client/ui/app.py wires them."""

from __future__ import annotations

from pathlib import Path

from client import messages
from client.media.power import read_supplies
from client.ui.lowpower import LowPowerWatch
from client.ui.wiring import Runtime

from .conftest import until
from .recording import Harness


def supply(root: Path, name: str, **files: str) -> None:
    (root / name).mkdir(parents=True, exist_ok=True)
    for key, value in files.items():
        (root / name / key).write_text(value + "\n")


def test_unplugged_the_window_says_so_and_the_camera_is_capped(harness: Harness, aloop, tmp_path: Path):
    supply(tmp_path, "AC", type="Mains", online="1")
    supply(tmp_path, "BAT0", type="Battery", status="Charging")
    runtime = Runtime()
    watch = LowPowerWatch(lambda: read_supplies(tmp_path, platform="linux"), parent=harness.window)

    def changed(cap: object) -> None:
        runtime.set_video_cap(cap)
        harness.window.set_low_power(cap is not None)

    watch.changed.connect(changed)
    line = harness.window.low_power

    async def scenario() -> None:
        media = runtime.media_for(harness.controller.options())
        watch.start()
        assert not line.isVisible() and media.motion.max_fps is None
        supply(tmp_path, "AC", online="0")
        supply(tmp_path, "BAT0", status="Discharging")
        watch.check()  # the timer's next tick
        await until(line.isVisible, what="the low-power line")
        assert line.text() == messages.LOW_POWER_LINE
        assert media.motion.max_fps == 15.0
        supply(tmp_path, "AC", online="1")
        supply(tmp_path, "BAT0", status="Charging")
        watch.check()
        assert not line.isVisible() and media.motion.max_fps is None
        watch.stop()
        await runtime.close()

    aloop.run(scenario())
