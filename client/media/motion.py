"""Which camera frames to send: the frame rate follows motion (pure; numpy only, no av, no clock).

A study call is mostly still, and almost all of a call's CPU is spent per frame sent
(encoding) and received (decoding), not per motion (docs/benchmarks.md, issue 17). So the
camera's reader thread asks `MotionGate.decide(thumbnail, now)` for every captured frame:

- **Still**: a frame every STILL_INTERVAL (5 fps). Never slower: the partner's presence
  watch rebuilds the connection when video stops for FREEZE (1.2 s, client/presence.py),
  and a steady 5 fps also lets the encoder keep refining the still picture.
- **Moving**: every frame, and the first one that differs from the last frame *sent* (what
  the partner sees now) goes at once, so motion shows with no added lag. Comparing with the
  last one sent, not the previous capture, also catches a slow drift.
- **Just moved**: full rate for HOLD after the last change, so a slow movement whose
  frames each differ only a little stays smooth rather than stuttering.
- `max_fps` caps the rate whatever the motion (low-power mode, client/media/power.py);
  `enabled` False ("Always smooth video") sends every frame (under the cap).

The thumbnail is the luma plane's block means (`thumbnail()`): 8x8 blocks average camera
noise down by 8x, so a change of PIXEL_THRESHOLD levels in a block is the scene, not noise.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

STILL_INTERVAL = 0.2  # seconds between frames of a still scene: 5 fps, far under presence.FREEZE
HOLD = 0.5  # seconds of full rate after the last change
BLOCK = 8  # thumbnail cell size in pixels: 640x480 -> 80x60
PIXEL_THRESHOLD = 6.0  # luma levels a cell's mean must move (noise moves it well under 1)
AREA_THRESHOLD = 0.001  # share of cells that must move: 5 of 4800 at 640x480, a blink-sized spot
_SLACK = 0.005  # a camera's frames come a few ms early or late: 0.199 s counts as 0.2


def thumbnail(luma: np.ndarray) -> np.ndarray:
    """8x8 block means of a greyscale picture (float32), cropped to whole blocks.

    Each mean is over every other pixel of every other row (16 of the block's 64): a quarter
    of the reads, and noise still averaged down 4x; 0.05 ms at 640x480 rather than 0.7 ms."""
    h, w = luma.shape[0] // BLOCK * BLOCK, luma.shape[1] // BLOCK * BLOCK
    if h == 0 or w == 0:
        return np.zeros((0, 0), dtype=np.float32)
    s = luma[:h:2, :w:2].astype(np.float32)
    for _ in range(2):  # pairwise sums, twice on each axis: 4x4 samples per cell
        s = s[0::2] + s[1::2]
        s = s[:, 0::2] + s[:, 1::2]
    return s / 16.0


def changed_share(a: np.ndarray, b: np.ndarray, pixel_threshold: float = PIXEL_THRESHOLD) -> float:
    """The share of cells whose value moved more than pixel_threshold (1.0 if the shapes differ)."""
    if a.shape != b.shape or a.size == 0:
        return 1.0
    return float(np.count_nonzero(np.abs(a - b) > pixel_threshold)) / a.size


@dataclass
class MotionGate:
    """Decides, frame by frame, whether a captured frame is sent. One reader thread calls decide();
    `enabled` and `max_fps` may be set from another thread (a plain attribute write)."""

    enabled: bool = True
    max_fps: float | None = None
    still_interval: float = STILL_INTERVAL
    hold: float = HOLD
    pixel_threshold: float = PIXEL_THRESHOLD
    area_threshold: float = AREA_THRESHOLD
    _reference: np.ndarray | None = field(default=None, repr=False)  # the last thumbnail sent
    _last_sent: float | None = None
    _last_motion: float | None = None

    def decide(self, thumb: np.ndarray, now: float) -> bool:
        """True: send this frame. `now` is a monotonic time in seconds."""
        last = self._last_sent
        if last is not None and self.max_fps and now - last < 1.0 / self.max_fps - _SLACK:
            return False  # the cap holds even for motion (a 15 fps cap delays it by 67 ms at most)
        moved = self._reference is not None and changed_share(
            thumb, self._reference, self.pixel_threshold) > self.area_threshold
        if moved:
            self._last_motion = now
        send = (
            not self.enabled
            or moved
            or last is None
            or now - last >= self.still_interval - _SLACK
            or (self._last_motion is not None and now - self._last_motion < self.hold)
        )
        if send:
            self._reference, self._last_sent = thumb, now
        return send

