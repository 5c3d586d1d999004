"""Low-power mode: on battery, the video sent is capped at 15 fps and 480p.

The rule is pure (`on_battery()` over what the power supplies say, `video_cap()` from that);
`read_supplies()` is the one place that reads the machine, and only on Linux:

- **Linux**: /sys/class/power_supply/*/ (`type`, `online`, `status`, `scope`). On battery when
  the system has a battery and either no mains or USB adapter is online or the battery says
  "Discharging". A peripheral's battery (a mouse's: `scope` "Device") is not the system's.
- **Windows** would use GetSystemPowerStatus (ACLineStatus 0 = on battery) and **macOS**
  IOPSGetProvidingPowerSourceType (kIOPMBatteryPower); neither is written nor run here, so
  there `read_supplies()` says nothing and low-power mode never turns on by itself.
- **Qt**: Qt 6 has no public battery API (Qt 5's QBatteryInfo lived in the qtsystems module,
  never released for Qt 6), so it cannot be asked.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

POWER_SUPPLY = Path("/sys/class/power_supply")
CAP_FPS = 15.0
CAP_HEIGHT = 480
_ADAPTERS = {"Mains", "USB", "USB_C", "USB_PD", "USB_PD_DRP", "BrickID", "Wireless"}
_FIELDS = ("type", "online", "status", "scope")


@dataclass(frozen=True)
class VideoCap:
    max_fps: float
    max_height: int


Supply = Mapping[str, str]  # a supply's files that were there: type, online, status, scope


def on_battery(supplies: Sequence[Supply]) -> bool:
    """The machine runs on its own battery (a desktop, or no information: False)."""
    batteries = [s for s in supplies if s.get("type") == "Battery" and s.get("scope", "System") != "Device"]
    if not batteries:
        return False
    if any(s.get("status") == "Discharging" for s in batteries):
        return True
    adapters = [s for s in supplies if s.get("type") in _ADAPTERS and "online" in s]
    return bool(adapters) and not any(s.get("online") == "1" for s in adapters)


def video_cap(battery: bool) -> VideoCap | None:
    return VideoCap(CAP_FPS, CAP_HEIGHT) if battery else None


def read_supplies(root: Path = POWER_SUPPLY, platform: str = sys.platform) -> list[dict[str, str]]:
    """What each power supply says (Linux); elsewhere, or unreadable, nothing."""
    if not platform.startswith("linux"):
        return []
    supplies = []
    try:
        entries = sorted(root.iterdir())
    except OSError:
        return []
    for entry in entries:
        supply = {}
        for name in _FIELDS:
            try:
                supply[name] = (entry / name).read_text(encoding="ascii", errors="replace").strip()
            except OSError:
                continue
        if supply:
            supplies.append(supply)
    return supplies
