"""Background effects on camera frames, the pure part: numpy in, numpy out, no threads, no clock.

- `person_mask` turns face boxes into a soft head-and-shoulders mask (1 = the person, kept sharp).
  No packaged person-segmentation model fits (the registry's mediapipe wheel ships no .tflite,
  and nothing may be downloaded at run time), so the mask is anchored on OpenCV's bundled face
  detector: a face box says where the head is, and shoulders sit below it in proportion.
- `FaceMemory` keeps the last faces for a moment when the detector misses a frame, so the mask
  does not blink; `MaskSmoother` eases the mask towards each new target over time (the detector
  runs at a fraction of the video rate, and its boxes jitter).
- `composite` puts the person over a blurred copy of the frame or over a plain colour.

cv2 is used here only as a numeric library (no windows, no devices): `opencv-python-headless`.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

import cv2
import numpy as np

MASK_SCALE = 4  # the mask is computed at 1/4 of the frame's size: it is soft anyway, and 16x cheaper
BLUR_SCALE = 4  # the background is blurred at 1/4 size and scaled back: a strong blur for little CPU
PLAIN_COLOUR_BGR = (72, 64, 60)  # a calm dark slate behind the person


class Backdrop(enum.Enum):
    NONE = "none"
    BLUR = "blur"
    COLOUR = "colour"

    @classmethod
    def parse(cls, value: str) -> Backdrop:
        """A stored setting back to a Backdrop; anything unknown is NONE (show the room as it is)."""
        try:
            return cls(value)
        except ValueError:
            return cls.NONE


@dataclass(frozen=True)
class Face:
    x: int
    y: int
    w: int
    h: int


def person_mask(height: int, width: int, faces: list[Face] | tuple[Face, ...]) -> np.ndarray:
    """A float32 (height, width) mask in 0..1: soft head-and-shoulders shapes below each face.

    Proportions from an ordinary webcam framing: the head is a little larger than the detector's
    box (hair, chin), the shoulders about three face-widths wide, the body down to the frame's edge.
    """
    mask = np.zeros((height, width), dtype=np.uint8)
    for f in faces:
        cx, cy = f.x + f.w / 2, f.y + f.h / 2
        cv2.ellipse(mask, (round(cx), round(cy - 0.08 * f.h)), (round(0.56 * f.w), round(0.76 * f.h)),
                    0, 0, 360, 255, -1)  # the head: a little more than the box (hair, chin)
        cv2.rectangle(mask, (round(cx - 0.3 * f.w), round(f.y + 0.8 * f.h)),
                      (round(cx + 0.3 * f.w), height), 255, -1)  # the neck
        # Shoulders start just below the chin and reach about 1.45 face-widths each side.
        chest_y = round(f.y + 2.4 * f.h)
        cv2.ellipse(mask, (round(cx), chest_y), (round(1.45 * f.w), round(1.3 * f.h)), 0, 0, 360, 255, -1)
        cv2.rectangle(mask, (round(cx - 1.45 * f.w), chest_y), (round(cx + 1.45 * f.w), height), 255, -1)
    soft: np.ndarray = mask.astype(np.float32) / 255.0
    if faces:
        # A feathered edge in proportion to the face: a hard cut-out looks like a sticker.
        sigma = max(1.0, 0.12 * max(f.w for f in faces))
        soft = np.clip(cv2.GaussianBlur(soft, (0, 0), sigma), 0.0, 1.0)
    return soft


class FaceMemory:
    """The faces to draw the mask from: the detector's, or its last ones for `hold` seconds."""

    def __init__(self, hold: float = 1.5) -> None:
        self.hold = hold
        self._faces: tuple[Face, ...] = ()
        self._seen = -math.inf

    @property
    def last(self) -> tuple[Face, ...]:
        return self._faces

    def update(self, faces: list[Face], now: float) -> tuple[Face, ...]:
        if faces:
            self._faces, self._seen = tuple(faces), now
        elif now - self._seen > self.hold:
            self._faces = ()  # nobody there for a while: nothing is kept sharp
        return self._faces


class MaskSmoother:
    """Eases the mask towards each target: growing quickly (never cut a head off), shrinking slowly."""

    def __init__(self, grow: float = 0.08, shrink: float = 0.35) -> None:
        self.grow, self.shrink = grow, shrink  # time constants in seconds
        self._mask: np.ndarray | None = None
        self._when = 0.0

    def update(self, target: np.ndarray, now: float) -> np.ndarray:
        if self._mask is None or self._mask.shape != target.shape:
            self._mask, self._when = target.astype(np.float32, copy=True), now
            return self._mask
        dt = max(0.0, now - self._when)
        self._when = now
        a_grow = 1.0 - math.exp(-dt / self.grow)
        a_shrink = 1.0 - math.exp(-dt / self.shrink)
        step = np.where(target > self._mask, a_grow, a_shrink).astype(np.float32)
        self._mask += step * (target - self._mask)
        return self._mask


def blurred(frame: np.ndarray) -> np.ndarray:
    """A strongly blurred copy of a BGR frame, made small, blurred and scaled back."""
    h, w = frame.shape[:2]
    small = cv2.resize(frame, (max(1, w // BLUR_SCALE), max(1, h // BLUR_SCALE)), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), 3.0)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def composite(frame: np.ndarray, mask: np.ndarray, backdrop: Backdrop,
              colour: tuple[int, ...] | int = PLAIN_COLOUR_BGR) -> np.ndarray:
    """The frame (H, W, 3 uint8 BGR, or one H, W plane) with everything outside `mask` blurred
    or painted `colour`.

    `mask` may be smaller than the frame (it is scaled up); 1 keeps the pixel, 0 replaces it.
    """
    if backdrop is Backdrop.NONE:
        return frame
    h, w = frame.shape[:2]
    if mask.shape != (h, w):
        mask = cv2.resize(mask, (w, h), interpolation=cv2.INTER_LINEAR)
    mask = np.ascontiguousarray(mask, dtype=np.float32)
    if backdrop is Backdrop.BLUR:
        behind = blurred(frame)
    else:
        behind = np.empty_like(frame)
        behind[:] = colour
    out: np.ndarray = cv2.blendLinear(frame, behind, mask, 1.0 - mask)
    return out


def composite_yuv420(yuv: np.ndarray, mask: np.ndarray, backdrop: Backdrop,
                     colour_yuv: tuple[int, int, int]) -> np.ndarray:
    """`composite` on a yuv420p frame as PyAV lays it out ((H * 3 / 2, W) uint8: Y, then U, then V),
    plane by plane: no colour conversion there and back, half the pixels of BGR to blend."""
    h, w = yuv.shape[0] * 2 // 3, yuv.shape[1]
    y = yuv[:h]
    u = yuv[h : h + h // 4].reshape(h // 2, w // 2)
    v = yuv[h + h // 4 :].reshape(h // 2, w // 2)
    if mask.shape != (h // 2, w // 2):
        half = cv2.resize(mask, (w // 2, h // 2), interpolation=cv2.INTER_LINEAR)
    else:
        half = mask
    out = np.empty_like(yuv)
    out[:h] = composite(y, mask, backdrop, colour_yuv[0])
    out[h : h + h // 4] = composite(u, half, backdrop, colour_yuv[1]).reshape(h // 4, w)
    out[h + h // 4 :] = composite(v, half, backdrop, colour_yuv[2]).reshape(h // 4, w)
    return out
