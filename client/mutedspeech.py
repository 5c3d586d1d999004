""""You are muted": the muted microphone hears speech (issue 13), as a pure detector.

Speech is a level over THRESHOLD held for HOLD seconds, with pauses between words
shorter than GAP not breaking it; once said, it is not said again for QUIET_FOR
seconds. The level of a frame (RMS of its samples, 0..1) is `audiolevel.frame_level`; the
microphone track (client/tracks.py) hands muted frames to the engine, which asks
this detector with the time of each.
"""

from __future__ import annotations

THRESHOLD = 0.02  # RMS, full scale 1 (about -34 dBFS): a voice near the microphone, not a room's hum
HOLD = 0.5
GAP = 0.3
QUIET_FOR = 10.0


class MutedSpeech:
    def __init__(self, threshold: float = THRESHOLD, hold: float = HOLD, gap: float = GAP,
                 quiet_for: float = QUIET_FOR) -> None:  # fmt: skip
        self.threshold, self.hold, self.gap, self.quiet_for = threshold, hold, gap, quiet_for
        self._since: float | None = None  # when the present stretch of speech began
        self._last_loud: float | None = None
        self._said: float | None = None

    def heard(self, level: float, now: float) -> bool:
        """One muted frame's level at `now`: True when "You are muted" is due."""
        if level < self.threshold:
            if self._last_loud is not None and now - self._last_loud > self.gap:
                self._since = self._last_loud = None
            return False
        if self._since is None:
            self._since = now
        self._last_loud = now
        if now - self._since < self.hold or (self._said is not None and now - self._said < self.quiet_for):
            return False
        self._said = now
        self._since = None
        return True
