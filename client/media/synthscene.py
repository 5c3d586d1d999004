"""A synthetic person in a synthetic room: a camera stand-in for the background effects.

The room is full of fine detail (book spines, window bars) that a blur visibly removes; the
person is drawn so that OpenCV's bundled face detector finds the face, and sways slowly so the
mask has something to follow. `truth` is the person's exact shape, for tests and the bench.
Used by tests, bench/camera_effects.py, the README's screenshot and `--camera fake-person`.
"""

from __future__ import annotations

import math
import time

import av
import cv2
import numpy as np


class PersonScene:
    def __init__(self, width: int = 640, height: int = 480, sway: float = 12.0) -> None:
        self.width, self.height, self.sway = width, height, sway
        self._room = _room(width, height)

    def centre(self, seq: int) -> tuple[int, int]:
        return (round(self.width / 2 + self.sway * math.sin(seq / 30.0)), round(self.height * 0.42))

    def frame(self, seq: int) -> np.ndarray:
        """BGR uint8 (height, width, 3)."""
        img = self._room.copy()
        _person(img, *self.centre(seq), self.height / 480)
        return img

    def truth(self, seq: int) -> np.ndarray:
        """The person's pixels: bool (height, width)."""
        mask = np.zeros((self.height, self.width, 3), np.uint8)
        _person(mask, *self.centre(seq), self.height / 480, solid=(255, 255, 255))
        return np.asarray(mask[:, :, 0] > 0)


def _room(w: int, h: int) -> np.ndarray:
    s = h / 480
    img = np.empty((h, w, 3), np.uint8)
    img[:] = (150, 170, 190)
    rng = np.random.default_rng(1)
    for row in range(3):  # shelves of books
        y0 = round((40 + row * 90) * s)
        cv2.rectangle(img, (round(20 * s), y0 + round(70 * s)), (round(250 * s), y0 + round(78 * s)), (40, 70, 110), -1)
        x = round(24 * s)
        while x < 245 * s:
            bw, bh = round(int(rng.integers(6, 16)) * s), round(int(rng.integers(40, 68)) * s)
            colour = tuple(int(v) for v in rng.integers(30, 230, 3))
            cv2.rectangle(img, (x, y0 + round(70 * s) - bh), (x + bw, y0 + round(70 * s)), colour, -1)
            x += bw + max(1, round(2 * s))
    x0, x1 = round(w - 180 * s), round(w - 30 * s)  # a window with bars
    cv2.rectangle(img, (x0, round(40 * s)), (x1, round(200 * s)), (230, 220, 200), -1)
    for k in range(5):
        cv2.line(img, (x0, round((40 + k * 40) * s)), (x1, round((40 + k * 40) * s)), (90, 90, 90), 3)
    cv2.line(img, ((x0 + x1) // 2, round(40 * s)), ((x0 + x1) // 2, round(200 * s)), (90, 90, 90), 3)
    return img


def _person(img: np.ndarray, cx: int, cy: int, s: float,
            solid: tuple[int, int, int] | None = None) -> None:
    def c(colour: tuple[int, int, int]) -> tuple[int, int, int]:
        return solid or colour

    def r(v: float) -> int:
        return round(v * s)

    cv2.ellipse(img, (cx, cy + r(250)), (r(200), r(180)), 0, 0, 360, c((60, 90, 160)), -1)  # shirt
    cv2.rectangle(img, (cx - r(30), cy + r(50)), (cx + r(30), cy + r(110)), c((120, 160, 210)), -1)  # neck
    cv2.ellipse(img, (cx, cy), (r(60), r(75)), 0, 0, 360, c((140, 180, 225)), -1)  # face
    cv2.ellipse(img, (cx, cy - r(60)), (r(66), r(40)), 0, 180, 360, c((40, 50, 60)), -1)  # hair
    if solid is not None:
        return
    for ex in (-25, 25):
        cv2.ellipse(img, (cx + r(ex), cy - r(15)), (r(14), r(7)), 0, 0, 360, (50, 40, 40), -1)
        cv2.line(img, (cx + r(ex - 16), cy - r(32)), (cx + r(ex + 16), cy - r(32)), (50, 50, 60), max(1, r(4)))
    cv2.line(img, (cx, cy - r(10)), (cx - r(6), cy + r(22)), (110, 140, 190), max(1, r(3)))
    cv2.ellipse(img, (cx, cy + r(42)), (r(22), r(8)), 0, 0, 360, (80, 80, 150), -1)


class PersonCamera:
    """A CameraSource showing the scene, paced in the reader thread like SyntheticCamera."""

    def __init__(self, width: int = 640, height: int = 480, fps: int = 30) -> None:
        self.scene = PersonScene(width, height)
        self._period = 1.0 / fps
        self._next = 0.0
        self.sequence = 0

    def open(self) -> None:
        self._next = time.monotonic()

    def read(self) -> av.VideoFrame:
        delay = self._next - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        self._next = max(self._next + self._period, time.monotonic() - self._period)
        frame = av.VideoFrame.from_ndarray(self.scene.frame(self.sequence), format="bgr24")
        self.sequence += 1
        return frame.reformat(format="yuv420p")

    def close(self) -> None:
        pass
