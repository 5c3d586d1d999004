"""Small track wrappers the call needs between a media source and the peer connection.

- `GatedAudioTrack`: mute without renegotiating (silence replaces the samples,
  the source keeps being read so its pacing and the echo canceller go on),
  and silence when there is no usable microphone at all.
- `PreviewTap`: hands camera frames to the window for the self-preview,
  throttled to PREVIEW_FPS: in a call, the outgoing ones (no second camera
  subscriber); in the lobby, the preview's own (client/ui/wiring.py).
- `BlankVideoTrack`: what the partner sees while the camera is off (black,
  rather than the last frame frozen).
- `ObservedTrack`: a remote track that reports each frame (the partner is there).
  (What each peer connection sends is a `MediaRelay` subscriber of the call's tracks:
  client/calltracks.py.)
- `SwitchableVideoTrack`: the one track the video senders ever read, so the
  camera can be swapped for black, or for a shared screen, and back. aiortc's `replaceTrack` is not
  enough: the sender stays blocked in the old track's `recv()` (a relay
  subscriber that is stopped never wakes its reader), and a source that ends
  ends the sender's loop for good. And a rebuilt peer connection has new senders: the
  switch lives in this track, which outlives them (client/calltracks.py).
"""

from __future__ import annotations

import asyncio
import fractions
import time
from collections.abc import Callable

import av
import numpy as np
from aiortc.mediastreams import AudioStreamTrack, MediaStreamError, MediaStreamTrack, VideoStreamTrack

VIDEO_CLOCK_RATE = 90000
VIDEO_TIME_BASE = fractions.Fraction(1, VIDEO_CLOCK_RATE)
PREVIEW_FPS = 15.0  # the self-preview, in the lobby and in a call


def silent_like(frame: av.AudioFrame) -> av.AudioFrame:
    """A frame of zeros with the same format, layout, length and timing."""
    silent = av.AudioFrame(format=frame.format.name, layout=frame.layout.name, samples=frame.samples)
    for plane in silent.planes:
        plane.update(bytes(plane.buffer_size))
    silent.pts = frame.pts
    silent.sample_rate = frame.sample_rate
    silent.time_base = frame.time_base
    return silent


class GatedAudioTrack(MediaStreamTrack):
    kind = "audio"

    def __init__(self, source: MediaStreamTrack | None, *, muted: bool = False,
                 on_muted_frame: Callable[[av.AudioFrame], None] | None = None) -> None:  # fmt: skip
        super().__init__()
        self._source = source
        self._on_muted_frame = on_muted_frame  # hears what the muted microphone picks up ("You are muted")
        # aiortc's base audio track is a paced silence generator.
        self._silence = AudioStreamTrack() if source is None else None
        self.muted = muted

    async def recv(self) -> av.AudioFrame:
        if self._source is None:
            assert self._silence is not None
            return await self._silence.recv()  # type: ignore[return-value]
        frame = await self._source.recv()
        if not self.muted:
            return frame  # type: ignore[return-value]
        if self._on_muted_frame is not None:
            self._on_muted_frame(frame)  # type: ignore[arg-type]
        return silent_like(frame)  # type: ignore[arg-type]

    def stop(self) -> None:
        super().stop()
        for track in (self._source, self._silence):
            if track is not None:
                track.stop()


class PreviewTap(MediaStreamTrack):
    kind = "video"

    def __init__(
        self, source: MediaStreamTrack, on_frame: Callable[[av.VideoFrame], None], max_fps: float = PREVIEW_FPS
    ) -> None:
        super().__init__()
        self._source = source
        self._on_frame = on_frame
        self._interval = 1.0 / max_fps
        self._last = 0.0

    async def recv(self) -> av.VideoFrame:
        frame = await self._source.recv()
        now = time.monotonic()
        if now - self._last >= self._interval:
            self._last = now
            self._on_frame(frame)  # type: ignore[arg-type]
        return frame  # type: ignore[return-value]

    def stop(self) -> None:
        super().stop()
        self._source.stop()


class BlankVideoTrack(VideoStreamTrack):
    """Black frames at a low rate: cheap to encode, and clearly "camera off"."""

    def __init__(self, width: int = 640, height: int = 480, fps: int = 5) -> None:
        super().__init__()
        self._frames_per_tick = max(1, 30 // fps)
        yuv = np.full((height * 3 // 2, width), 128, dtype=np.uint8)
        yuv[:height] = 16  # video-range black luma, neutral chroma
        self._yuv = yuv

    async def recv(self) -> av.VideoFrame:
        # next_timestamp paces at 30 fps; skip ticks to send fewer frames.
        for _ in range(self._frames_per_tick):
            pts, time_base = await self.next_timestamp()
        # A new frame each time: the encoder may still hold the previous one.
        frame = av.VideoFrame.from_ndarray(self._yuv, format="yuv420p")
        frame.pts, frame.time_base = pts, time_base
        return frame


class SwitchableVideoTrack(MediaStreamTrack):
    kind = "video"

    def __init__(self, source: MediaStreamTrack, on_source_ended: Callable[[], None] | None = None) -> None:
        super().__init__()
        self._source = source
        # Called when the current source ends by itself (a camera unplugged); it may switch().
        self._on_source_ended = on_source_ended
        self._switched = asyncio.Event()
        self._start = time.monotonic()

    @property
    def source(self) -> MediaStreamTrack:
        return self._source

    def switch(self, source: MediaStreamTrack, *, stop_old: bool = True) -> None:
        """Read `source` from now on; the old one is stopped, unless kept (a camera set aside
        while the screen is shared, client/calltracks.py)."""
        old, self._source = self._source, source
        self._switched.set()
        if old is not source and stop_old:
            old.stop()

    async def recv(self) -> av.VideoFrame:
        while True:
            if self.readyState != "live":
                raise MediaStreamError
            source = self._source
            self._switched.clear()
            read = asyncio.ensure_future(source.recv())
            switched = asyncio.ensure_future(self._switched.wait())
            read_done = False
            try:
                await asyncio.wait({read, switched}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                # Also when our reader is cancelled (the call closing): leave no read pending.
                switched.cancel()
                read_done = read.done()
                if not read_done:
                    read.cancel()  # after a switch: the old source's pending read is dropped
            if not read_done:
                continue
            try:
                frame = read.result()
            except MediaStreamError:
                if source is self._source and self._on_source_ended is not None and self.readyState == "live":
                    self._on_source_ended()
                if source is self._source:
                    raise  # the current source really ended
                continue
            # One clock for every source, so the RTP timestamps never go backwards on a switch.
            frame.pts = int((time.monotonic() - self._start) * VIDEO_CLOCK_RATE)
            frame.time_base = VIDEO_TIME_BASE
            return frame  # type: ignore[return-value]

    def stop(self) -> None:
        super().stop()
        self._source.stop()


class ObservedTrack(MediaStreamTrack):
    """A remote track that reports each frame it hands on: the partner is heard."""

    def __init__(self, source: MediaStreamTrack, on_frame: Callable[[], None]) -> None:
        super().__init__()
        self.kind = source.kind
        self._source = source
        self._on_frame = on_frame

    async def recv(self) -> av.frame.Frame:
        frame = await self._source.recv()
        self._on_frame()
        return frame  # type: ignore[return-value]

    def stop(self) -> None:
        super().stop()
        self._source.stop()
