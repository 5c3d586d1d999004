"""What arrives from the partner during one call.

Every frame is counted for the call's summary, the first of each kind is timed
from `matched`, video frames go on as events, and audio frames to the speaker, their
level ten times a second as events too (the mini window's meter in an audio call).
When the partner sends the synthetic test pattern (benchmarks, fake media), each
video frame's capture time is read from it, which gives the end-to-end latency (once per
capture: a still scene repeats one), and apart the latency of the first moving frame
after a still stretch.
"""

from __future__ import annotations

import statistics
import time
from collections import deque
from collections.abc import Callable

import av
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from . import events as ev
from .audiolevel import LevelMeter, frame_level
from .media.synthetic import CaptureClock, read_pattern

# Stop looking for the test pattern after this many frames without one (a real camera).
PATTERN_GIVE_UP = 90
LATENCY_SAMPLES = 18_000  # ten minutes at 30 fps


class RemoteMedia:
    def __init__(self, session: str, emit: Callable[[ev.EngineEvent], None],
                 ms_since_matched: Callable[[], float]) -> None:
        self.session = session
        self._emit = emit
        self._ms_since_matched = ms_since_matched
        self.video_frames = 0
        self.audio_frames = 0
        self._pattern_misses = 0
        self._level = LevelMeter()
        self.latencies_ms: deque[float] = deque(maxlen=LATENCY_SAMPLES)
        self.first_moving_ms: deque[float] = deque(maxlen=LATENCY_SAMPLES)  # after a still stretch
        self._clock = CaptureClock()

    @property
    def latency_p50(self) -> float | None:
        return statistics.median(self.latencies_ms) if self.latencies_ms else None

    async def consume_video(self, track: MediaStreamTrack) -> None:
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            self.video_frames += 1
            if self.video_frames == 1:
                self._emit(ev.FirstRemoteFrame(self.session, "video", self._ms_since_matched()))
            if self._pattern_misses < PATTERN_GIVE_UP:
                info = read_pattern(frame)  # type: ignore[arg-type]
                if info is None:
                    self._pattern_misses += 1
                else:
                    self._pattern_misses = 0
                    latency, after_still = self._clock.heard(info, time.time())
                    if latency is not None:  # a still scene's repeats are not new captures
                        self.latencies_ms.append(latency)
                    if after_still and latency is not None:
                        self.first_moving_ms.append(latency)
            self._emit(ev.RemoteVideoFrame(self.session, frame))  # type: ignore[arg-type]

    async def consume_audio(self, track: MediaStreamTrack, play: Callable[[av.AudioFrame], None]) -> None:
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            self.audio_frames += 1
            if self.audio_frames == 1:
                self._emit(ev.FirstRemoteFrame(self.session, "audio", self._ms_since_matched()))
            play(frame)  # type: ignore[arg-type]
            reading = self._level.heard(frame_level(frame), time.monotonic())
            if reading is not None:
                self._emit(ev.PartnerAudioLevel(self.session, reading))
