"""The partner's decoded video over the last second: size and frame rate (`--video-stats`).

Pure: frames and the time in, a figure out; the headless client feeds it every
decoded remote frame and reads it once a second.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field


@dataclass
class VideoRate:
    window: float = 1.0  # seconds the rate is counted over
    _times: deque[float] = field(default_factory=deque)
    width: int = 0
    height: int = 0

    def frame(self, width: int, height: int, now: float) -> None:
        self.width, self.height = width, height
        self._times.append(now)
        self._drop_before(now - self.window)

    def fps(self, now: float) -> float:
        """Frames per second over the last `window` seconds (0 with none)."""
        self._drop_before(now - self.window)
        return len(self._times) / self.window

    def _drop_before(self, start: float) -> None:
        while self._times and self._times[0] < start:
            self._times.popleft()
