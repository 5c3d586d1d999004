"""Device lists from QMediaDevices, kept current as devices come and go."""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Signal
from PySide6.QtMultimedia import QAudioDevice, QCameraDevice, QMediaDevices


def camera_id(device: QCameraDevice) -> str:
    """The name MediaFactory opens: a path on Linux (v4l2), the device's name elsewhere
    (avfoundation and dshow both accept the name the OS shows)."""
    raw = bytes(device.id().data()).decode(errors="replace")
    if sys.platform.startswith("linux") and raw.startswith("/dev/"):
        return raw
    return device.description()


def audio_id(device: QAudioDevice) -> str:
    """MediaFactory finds microphones and speakers by the name the OS shows."""
    return device.description()


class DeviceWatcher(QObject):
    changed = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._media = QMediaDevices(self)
        self._media.videoInputsChanged.connect(self.changed)
        self._media.audioInputsChanged.connect(self.changed)
        self._media.audioOutputsChanged.connect(self.changed)

    def cameras(self) -> list[tuple[str, str]]:
        return [(camera_id(d), d.description()) for d in QMediaDevices.videoInputs()]

    def microphones(self) -> list[tuple[str, str]]:
        return [(audio_id(d), d.description()) for d in QMediaDevices.audioInputs()]

    def speakers(self) -> list[tuple[str, str]]:
        return [(audio_id(d), d.description()) for d in QMediaDevices.audioOutputs()]

    def speaker(self, device_id: str) -> QAudioDevice | None:
        for device in QMediaDevices.audioOutputs():
            if audio_id(device) == device_id:
                return device
        return None
