"""Low-power mode in the window: on battery the sent video is capped (client/media/power.py).

`LowPowerWatch` asks the power supplies every CHECK_EVERY seconds (and once at start) and says
when the cap changes; the app applies it to the camera and the window shows one line.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import QObject, QTimer, Signal

from client.media.power import Supply, VideoCap, on_battery, read_supplies, video_cap

CHECK_EVERY = 20.0  # seconds: a plug pulled is followed within this long


class LowPowerWatch(QObject):
    changed = Signal(object)  # VideoCap, or None: no cap

    def __init__(self, read: Callable[[], Sequence[Supply]] = read_supplies,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._read = read
        self.cap: VideoCap | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(int(CHECK_EVERY * 1000))
        self._timer.timeout.connect(self.check)

    def start(self) -> None:
        self.check()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def check(self) -> None:
        cap = video_cap(on_battery(self._read()))
        if cap != self.cap:
            self.cap = cap
            self.changed.emit(cap)
