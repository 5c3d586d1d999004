"""The partner's voice level for a meter, as a pure core: frames' levels and times in, readings out.

The mini window shows it in an audio call, where there is no picture to tell that the
partner is there and talking (issue 13). A meter reads in decibels, as sound meters do:
FLOOR_DB (a quiet room through a microphone) is empty, full scale is full, so a voice
fills about two thirds of it. One reading every EVERY seconds, the loudest frame of that
stretch, is what a meter needs: the window repaints ten times a second, not fifty.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

FLOOR_DB = -60.0
EVERY = 0.1  # seconds between readings


def frame_level(frame: Any) -> float:
    """The RMS level (0..1) of a signed 16-bit audio frame (av.AudioFrame)."""
    samples = frame.to_ndarray().astype(np.float64) / 32768.0
    return float(np.sqrt(np.mean(samples * samples))) if samples.size else 0.0


def meter(rms: float) -> float:
    """An RMS level (0..1, full scale 1) on a meter's scale (0..1): dBFS from FLOOR_DB to 0."""
    if rms <= 0.0:
        return 0.0
    return min(1.0, max(0.0, 1.0 - 20.0 * math.log10(rms) / FLOOR_DB))


class LevelMeter:
    def __init__(self, every: float = EVERY) -> None:
        self.every = every
        self._peak = 0.0
        self._since: float | None = None  # when the present stretch began

    def heard(self, rms: float, now: float) -> float | None:
        """One frame's RMS level at `now`: a reading once every `every` seconds, else None."""
        self._peak = max(self._peak, rms)
        if self._since is None:
            self._since = now
        if now - self._since < self.every:
            return None
        reading, self._peak, self._since = meter(self._peak), 0.0, now
        return reading
