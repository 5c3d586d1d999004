"""While the server looks for a partner: a calm animation, elapsed time, Cancel."""

from __future__ import annotations

from PySide6.QtCore import QElapsedTimer, Qt, QTimer, Signal
from PySide6.QtWidgets import QLabel, QPushButton, QVBoxLayout, QWidget

from client import messages
from client.ui import clock
from client.ui.widgets.indicators import Pulse


class SearchingView(QWidget):
    cancel_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.pulse = Pulse()
        self.pulse.setAccessibleName(messages.SEARCHING_TITLE)
        self.title = QLabel(messages.SEARCHING_TITLE)
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.5)
        font.setBold(True)
        self.title.setFont(font)
        self.subject = QLabel(messages.SEARCHING_ANY)
        self.elapsed = QLabel(clock.duration(0))
        self.elapsed.setAccessibleName(messages.SEARCHING_TIME)
        mono = self.elapsed.font()
        mono.setPointSizeF(mono.pointSizeF() * 1.3)
        self.elapsed.setFont(mono)
        self.cancel_button = QPushButton(messages.CANCEL)
        self.cancel_button.setAccessibleName(messages.CANCEL)
        self.cancel_button.setToolTip(f"{messages.CANCEL} (Esc)")
        self.cancel_button.setMinimumWidth(160)
        self.cancel_button.setMinimumHeight(36)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 24, 24, 40)
        layout.addWidget(self.pulse, 1)
        for widget in (self.title, self.subject, self.elapsed):
            widget.setAlignment(Qt.AlignmentFlag.AlignCenter)
            layout.addWidget(widget)
        layout.addSpacing(16)
        layout.addWidget(self.cancel_button, 0, Qt.AlignmentFlag.AlignCenter)
        self._clock = QElapsedTimer()
        self._tick = QTimer(self)
        self._tick.setInterval(250)
        self._tick.timeout.connect(self._update_elapsed)
        self.cancel_button.clicked.connect(self.cancel_requested)

    def start(self, topic: str) -> None:
        self.subject.setText(messages.SEARCHING_SUBJECT.format(topic=topic) if topic else messages.SEARCHING_ANY)
        if not self._tick.isActive():  # a retry keeps counting from the first press
            self._clock.start()
            self._tick.start()
            self.pulse.start()
        self._update_elapsed()

    def stop(self) -> None:
        self._tick.stop()
        self.pulse.stop()

    def seconds(self) -> float:
        return self._clock.elapsed() / 1000 if self._clock.isValid() else 0.0

    def _update_elapsed(self) -> None:
        self.elapsed.setText(clock.duration(self.seconds()))
