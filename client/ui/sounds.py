"""Short chimes when a partner joins or leaves, and when a study session's time is up.

QSoundEffect plays nothing (and must not complain) on a machine without an
audio output, so the player checks for one first and stays silent otherwise.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QUrl
from PySide6.QtMultimedia import QAudioDevice, QMediaDevices, QSoundEffect

from client.ui.resources import asset_path

SOUNDS = {
    "partner_found": "sounds/partner_found.wav",
    "partner_left": "sounds/partner_left.wav",
    "session_end": "sounds/session_end.wav",  # the study session's time is up
}


class SoundPlayer(QObject):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.enabled = True
        self.played: list[str] = []  # what was asked to play, for tests and logs
        self._effects: dict[str, QSoundEffect] = {}
        self._device: QAudioDevice | None = None

    def set_device(self, device: QAudioDevice | None) -> None:
        self._device = device
        for effect in self._effects.values():
            if device is not None:
                effect.setAudioDevice(device)

    def available(self) -> bool:
        return bool(QMediaDevices.audioOutputs())

    def _effect(self, name: str) -> QSoundEffect | None:
        if name in self._effects:
            return self._effects[name]
        path = asset_path(SOUNDS[name])
        if path is None or not Path(path).exists():
            return None
        effect = QSoundEffect(self)
        effect.setSource(QUrl.fromLocalFile(str(path)))
        effect.setVolume(0.6)
        if self._device is not None:
            effect.setAudioDevice(self._device)
        self._effects[name] = effect
        return effect

    def play(self, name: str) -> None:
        if not self.enabled:
            return
        self.played.append(name)
        if not self.available():
            return
        effect = self._effect(name)
        if effect is not None:
            effect.play()
