"""A surface that paints decoded video frames.

Each frame is scaled by swscale straight to the size it will be painted at
(`to_ndarray(width=, height=)`) and drawn as a QImage: measured cheaper than
QVideoWidget under software rendering. A frame is converted at most once;
repaints without a new frame (expose, overlay) reuse the cached image.

While `set_shown(False)` (the window minimised or not seen: client/ui/visibility.py) a frame
is only kept: no conversion, no repaint asked for; the latest is painted when seen again.

An overlay text ("Reconnecting…") dims the last picture and is written over it:
the picture stays, so the person sees the call is still theirs.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QWidget


def fit_rect(frame_w: int, frame_h: int, area_w: int, area_h: int) -> tuple[int, int, int, int]:
    """The largest rectangle with the frame's aspect ratio centred in the area (x, y, w, h)."""
    if frame_w <= 0 or frame_h <= 0 or area_w <= 0 or area_h <= 0:
        return (0, 0, 0, 0)
    scale = min(area_w / frame_w, area_h / frame_h)
    # Even sizes: swscale's chroma handling and most encoders prefer them.
    w = max(2, int(frame_w * scale) // 2 * 2)
    h = max(2, int(frame_h * scale) // 2 * 2)
    return ((area_w - w) // 2, (area_h - h) // 2, w, h)


class VideoWidget(QWidget):
    def __init__(self, placeholder: str = "", *, mirrored: bool = False, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._frame: Any = None  # av.VideoFrame
        self._image: QImage | None = None
        self._image_key: tuple[int, int, int] | None = None
        self._buffer: np.ndarray | None = None  # keeps the QImage's memory alive
        self._placeholder = placeholder
        self._overlay = ""
        self._mirrored = mirrored
        self._shown = True
        self.frames_received = 0
        self.frames_painted = 0
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)
        self.setMinimumSize(160, 120)

    def sizeHint(self) -> QSize:
        return QSize(640, 480)

    def set_placeholder(self, text: str) -> None:
        self._placeholder = text
        self.update()

    def set_overlay(self, text: str) -> None:
        """Dim the picture (the last one stays) and write `text` over it; "" shows it plainly again."""
        self._overlay = text
        self.update()

    def overlay(self) -> str:
        return self._overlay

    def set_frame(self, frame: Any) -> None:
        self._frame = frame
        self.frames_received += 1
        if self._shown:
            self.update()

    def set_shown(self, shown: bool) -> None:
        """False: nobody can see this picture; keep frames, convert and paint none."""
        if shown != self._shown:
            self._shown = shown
            if shown:
                self.update()  # the latest frame, once

    def is_shown(self) -> bool:
        return self._shown

    def clear(self) -> None:
        self._frame = None
        self._image = None
        self._image_key = None
        self._buffer = None
        self.update()

    def has_frame(self) -> bool:
        return self._frame is not None

    def frame_size(self) -> tuple[int, int] | None:
        """The last frame's (width, height) in frame pixels, or None."""
        frame = self._frame
        return None if frame is None else (frame.width, frame.height)

    def current_image(self) -> QImage | None:
        """The last image painted (for tests and screenshots)."""
        return self._image

    def _convert(self, width: int, height: int) -> QImage | None:
        frame = self._frame
        if frame is None or width <= 0 or height <= 0:
            return None
        # Which frame by its arrival count, not id(): a freed frame's id is reused by a later one,
        # which then showed the older picture (seen as a missed repaint after a minimised stretch).
        key = (self.frames_received, width, height)
        if self._image is not None and self._image_key == key:
            return self._image
        array = frame.to_ndarray(format="rgb24", width=width, height=height)
        if self._mirrored:
            array = array[:, ::-1]
        # swscale pads rows for SIMD, so the array can be a strided view; QImage wants packed rows.
        array = np.ascontiguousarray(array)
        self._buffer = array
        self._image = QImage(array.data, width, height, 3 * width, QImage.Format.Format_RGB888)
        self._image_key = key
        self.frames_painted += 1
        return self._image

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        try:
            self._paint(painter)
        finally:
            painter.end()  # an active painter left behind crashes the backing store

    def _paint(self, painter: QPainter) -> None:
        # Video sits on black in every theme (letterboxing); only text follows the palette.
        painter.fillRect(self.rect(), Qt.GlobalColor.black)
        frame = self._frame
        if frame is not None and self._shown:
            ratio = self.devicePixelRatioF()
            x, y, w, h = fit_rect(frame.width, frame.height, self.width(), self.height())
            image = self._convert(int(w * ratio) // 2 * 2, int(h * ratio) // 2 * 2)
            if image is not None:
                painter.drawImage(QRect(x, y, w, h), image)
        if self._overlay:
            painter.fillRect(self.rect(), QColor(0, 0, 0, 150))
            self._write(painter, self._overlay)
        elif frame is None and self._placeholder:  # (a hidden picture's black costs nothing)
            self._write(painter, self._placeholder)

    def _write(self, painter: QPainter, text: str) -> None:
        font = QFont(self.font())
        font.setPointSizeF(max(10.0, min(self.height() / 18, 18.0)))
        painter.setFont(font)
        painter.setPen(Qt.GlobalColor.white)
        painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, text)
