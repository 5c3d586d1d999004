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


def test_always_smooth_video_is_kept_and_reaches_the_camera(harness: Harness, aloop, settings, tmp_path: Path):
    """Settings > Always smooth video: saved (a new start reads it), and the camera follows at once."""
    from PySide6.QtCore import QSettings

    from client.ui.settings import Settings

    runtime = Runtime()
    w = harness.window
    w.smooth_video_changed.connect(runtime.set_smooth_video)  # as client/ui/app.py wires it

    async def scenario() -> None:
        media = runtime.media_for(harness.controller.options())
        assert media.motion.enabled  # the default: the rate follows motion
        w.open_settings()
        dialog = w.settings_dialog
        assert dialog is not None and not dialog.smooth_video.isChecked()
        dialog.smooth_video.setChecked(True)
        dialog.buttons.button(dialog.buttons.StandardButton.Save).click()
        assert not media.motion.enabled
        assert settings.smooth_video is True
        store = QSettings(str(tmp_path / "studymatch.ini"), QSettings.Format.IniFormat)
        assert Settings(store).smooth_video is True  # kept for the next start
        assert harness.controller.options().smooth_video is True  # and a new engine's media gets it
        await runtime.close()

    aloop.run(scenario())
