"""Low-power mode's rule, from a fake /sys/class/power_supply tree laid out as Linux does."""

from __future__ import annotations

from pathlib import Path

import pytest

from client.media.power import CAP_FPS, CAP_HEIGHT, VideoCap, on_battery, read_supplies, video_cap


def supply(root: Path, name: str, **files: str) -> None:
    folder = root / name
    folder.mkdir(parents=True)
    for key, value in files.items():
        (folder / key).write_text(value + "\n", encoding="ascii")


def test_a_laptop_unplugged(tmp_path: Path) -> None:
    supply(tmp_path, "AC", type="Mains", online="0")
    supply(tmp_path, "BAT0", type="Battery", status="Discharging", capacity="64")
    supplies = read_supplies(tmp_path, platform="linux")
    assert on_battery(supplies)
    assert video_cap(on_battery(supplies)) == VideoCap(CAP_FPS, CAP_HEIGHT) == VideoCap(15.0, 480)


def test_a_laptop_plugged_in_charging_or_full(tmp_path: Path) -> None:
    supply(tmp_path, "ADP1", type="Mains", online="1")
    supply(tmp_path, "BAT1", type="Battery", status="Full")
    assert not on_battery(read_supplies(tmp_path, platform="linux"))
    assert video_cap(False) is None


def test_usb_c_power_counts_as_plugged_in(tmp_path: Path) -> None:
    supply(tmp_path, "ucsi-source-psy-USBC000:001", type="USB", online="1", scope="System")
    supply(tmp_path, "BAT0", type="Battery", status="Not charging")
    assert not on_battery(read_supplies(tmp_path, platform="linux"))
    (tmp_path / "ucsi-source-psy-USBC000:001" / "online").write_text("0\n")
    assert on_battery(read_supplies(tmp_path, platform="linux"))


def test_a_battery_that_says_discharging_wins_over_a_missing_adapter(tmp_path: Path) -> None:
    supply(tmp_path, "BAT0", type="Battery", status="Discharging")
    assert on_battery(read_supplies(tmp_path, platform="linux"))


@pytest.mark.parametrize("status", ["Charging", "Unknown", "Full"])
def test_no_adapter_reported_and_not_discharging_is_not_battery(tmp_path: Path, status: str) -> None:
    supply(tmp_path, "BAT0", type="Battery", status=status)
    assert not on_battery(read_supplies(tmp_path, platform="linux"))


def test_a_desktop_with_a_wireless_mouse(tmp_path: Path) -> None:
    """The mouse's battery discharges; the computer is on mains (and has no battery at all)."""
    supply(tmp_path, "hidpp_battery_0", type="Battery", status="Discharging", scope="Device")
    assert not on_battery(read_supplies(tmp_path, platform="linux"))


def test_nothing_to_read(tmp_path: Path) -> None:
    assert read_supplies(tmp_path / "missing", platform="linux") == []
    assert not on_battery([])
    supply(tmp_path, "BAT0", type="Battery", status="Discharging")
    assert read_supplies(tmp_path, platform="win32") == []  # not read there (the module says why)
    assert read_supplies(tmp_path, platform="darwin") == []
