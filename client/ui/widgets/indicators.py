"""Small painted indicators: connection quality bars and the searching pulse."""

from __future__ import annotations

import math

from PySide6.QtCore import QElapsedTimer, QRectF, QSize, Qt, QTimer
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import QSizePolicy, QWidget

from client.ui.quality import Quality, classify


class QualityBars(QWidget):
    """Three bars like a phone's signal meter; the text and numbers go to the tooltip."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.quality: Quality = classify(None, None, None)
        self.setFixedSize(QSize(22, 16))
        self._sync()

    def set_stats(self, rtt_ms: float | None, loss_percent: float | None, bitrate_kbps: float | None) -> None:
        self.quality = classify(rtt_ms, loss_percent, bitrate_kbps)
        self._sync()
        self.update()

    def reset(self) -> None:
        self.quality = classify(None, None, None)
        self._sync()
        self.update()

    def _sync(self) -> None:
        self.setToolTip(f"{self.quality.text}\n{self.quality.detail}")
        self.setAccessibleName(self.quality.text)
        self.setAccessibleDescription(self.quality.detail)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        on = palette.color(QPalette.ColorRole.Highlight)
        off = palette.color(QPalette.ColorRole.Mid)
        width = self.width() / 3.6
        for i in range(3):
            h = self.height() * (i + 1) / 3
            rect = QRectF(i * width * 1.3, self.height() - h, width, h)
            painter.setBrush(on if i < self.quality.bars else off)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.drawRoundedRect(rect, 1.5, 1.5)
        painter.end()


class Pulse(QWidget):
    """A calm breathing ring while searching: slow (4 s period) so it soothes, not nags."""

    PERIOD_MS = 4000

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(160, 160)
        self._clock = QElapsedTimer()
        self._timer = QTimer(self)
        self._timer.setInterval(33)
        self._timer.timeout.connect(self.update)
        self.frames = 0

    def start(self) -> None:
        self._clock.start()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def running(self) -> bool:
        return self._timer.isActive()

    def paintEvent(self, event: QPaintEvent) -> None:
        self.frames += 1
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        accent = self.palette().color(QPalette.ColorRole.Highlight)
        phase = (self._clock.elapsed() % self.PERIOD_MS) / self.PERIOD_MS if self._clock.isValid() else 0.0
        size = min(self.width(), self.height()) * 0.8
        cx, cy = self.width() / 2, self.height() / 2
        painter.setPen(Qt.PenStyle.NoPen)
        # Three rings expanding outwards one after another, fading as they grow.
        for k in range(3):
            p = (phase + k / 3) % 1.0
            radius = size * (0.18 + 0.32 * p)
            color = QColor(accent)
            color.setAlphaF(0.35 * (1 - p))
            painter.setBrush(color)
            painter.drawEllipse(QRectF(cx - radius, cy - radius, 2 * radius, 2 * radius))
        core = size * (0.16 + 0.015 * math.sin(2 * math.pi * phase))
        painter.setBrush(accent)
        painter.drawEllipse(QRectF(cx - core, cy - core, 2 * core, 2 * core))
        painter.end()
