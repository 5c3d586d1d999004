"""The practice partner's devices: its "camera" is the video it receives and its
"microphone" is the audio it received a second ago (client/practice/partner.py)."""

from __future__ import annotations

import asyncio
import collections
import fractions
import time

import av
import numpy as np
from aiortc.mediastreams import MediaStreamTrack, VideoStreamTrack

AUDIO_RATE = 48000
AUDIO_SAMPLES = 960  # 20 ms
ECHO_DELAY = 1.0  # seconds: long enough to hear yourself as separate from speaking


class EchoVideoTrack(VideoStreamTrack):
    """Sends back the latest frame received (black until the first one)."""

    def __init__(self) -> None:
        super().__init__()
        self._latest: av.VideoFrame | None = None

    def push(self, frame: av.VideoFrame) -> None:
        self._latest = frame

    async def recv(self) -> av.VideoFrame:
        pts, time_base = await self.next_timestamp()
        source = self._latest
        if source is None:
            frame = av.VideoFrame.from_ndarray(np.zeros((480, 640, 3), np.uint8), format="rgb24")
        else:
            # A copy: the received frame still belongs to the bot's decoder side.
            frame = av.VideoFrame.from_ndarray(source.to_ndarray(format="yuv420p"), format="yuv420p")
        frame.pts, frame.time_base = pts, time_base
        return frame


class DelayedAudioTrack(MediaStreamTrack):
    """20 ms frames: what the speaker sink got ECHO_DELAY seconds ago, else silence."""

    kind = "audio"

    def __init__(self, delay: float = ECHO_DELAY) -> None:
        super().__init__()
        self.delay = delay
        self._queue: collections.deque[tuple[float, np.ndarray]] = collections.deque(maxlen=500)
        self._resampler = av.AudioResampler(format="s16", layout="mono", rate=AUDIO_RATE)
        self._pending = np.zeros(0, np.int16)
        self._start: float | None = None
        self._pts = 0

    def feed(self, frame: av.AudioFrame) -> None:
        now = time.monotonic()
        for out in self._resampler.resample(frame):
            self._pending = np.concatenate([self._pending, out.to_ndarray().reshape(-1)])
        while len(self._pending) >= AUDIO_SAMPLES:
            self._queue.append((now, self._pending[:AUDIO_SAMPLES].copy()))
            self._pending = self._pending[AUDIO_SAMPLES:]

    async def recv(self) -> av.AudioFrame:
        if self._start is None:
            self._start = time.monotonic()
        self._pts += AUDIO_SAMPLES
        wait = self._start + self._pts / AUDIO_RATE - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        samples = np.zeros(AUDIO_SAMPLES, np.int16)
        now = time.monotonic()
        if self._queue and self._queue[0][0] <= now - self.delay:
            samples = self._queue.popleft()[1]
        frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = AUDIO_RATE
        frame.pts = self._pts
        frame.time_base = fractions.Fraction(1, AUDIO_RATE)
        return frame


class EchoSink:
    def __init__(self, track: DelayedAudioTrack) -> None:
        self._track = track
        self.frames = 0

    def play(self, frame: av.AudioFrame) -> None:
        self.frames += 1
        self._track.feed(frame)


class EchoMedia:
    """A MediaFactory for the bot: its devices are the echo of what it receives."""

    def __init__(self) -> None:
        self.video = EchoVideoTrack()
        self.audio = DelayedAudioTrack()

    async def open_camera(self) -> MediaStreamTrack:
        return self.video

    async def open_microphone(self) -> MediaStreamTrack:
        return self.audio

    def open_speaker(self) -> EchoSink:
        return EchoSink(self.audio)

    async def release_camera(self) -> None:
        return None

    async def close(self) -> None:
        return None
