"""Audio as bytes: the one format the microphone, the speaker and the echo canceller share.

s16 mono 48 kHz throughout; the echo canceller takes 10 ms chunks and aiortc
sends 20 ms frames. Pure (no Qt): both client/media/audio.py and the audio
thread's Qt side (client/media/_qtaudio_worker.py) build on it.
"""

from __future__ import annotations

import collections
import threading

import av

SAMPLE_RATE = 48000
CHUNK_SAMPLES = SAMPLE_RATE // 100  # 10 ms, what the APM takes
CHUNK_BYTES = CHUNK_SAMPLES * 2  # s16 mono
FRAME_SAMPLES = SAMPLE_RATE // 50  # 20 ms, what aiortc sends


class BoundedPcm:
    """A byte FIFO with a hard cap: pushing past it drops the oldest audio. Thread-safe."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._chunks: collections.deque[bytes] = collections.deque()
        self._size = 0
        self.dropped_bytes = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return self._size

    def push(self, data: bytes) -> None:
        with self._lock:
            if len(data) > self.max_bytes:
                self.dropped_bytes += len(data) - self.max_bytes
                data = data[-self.max_bytes :]
            self._chunks.append(data)
            self._size += len(data)
            while self._size > self.max_bytes:
                head = self._chunks[0]
                excess = self._size - self.max_bytes
                if len(head) <= excess:
                    self._chunks.popleft()
                    self._size -= len(head)
                    self.dropped_bytes += len(head)
                else:
                    self._chunks[0] = head[excess:]
                    self._size -= excess
                    self.dropped_bytes += excess

    def pop(self, n: int) -> bytes:
        """Up to n bytes from the front."""
        with self._lock:
            out = bytearray()
            while self._chunks and len(out) < n:
                head = self._chunks.popleft()
                take = n - len(out)
                out += head[:take]
                if len(head) > take:
                    self._chunks.appendleft(head[take:])
            self._size -= len(out)
            return bytes(out)


def to_mono_s16(frame: av.AudioFrame, resampler: av.AudioResampler | None) -> tuple[bytes, av.AudioResampler]:
    """Remote audio (aiortc's Opus decoder gives s16 stereo 48 kHz) as s16 mono 48 kHz bytes."""
    if resampler is None:
        resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
    out = b"".join(bytes(f.planes[0])[: f.samples * 2] for f in resampler.resample(frame))
    return out, resampler
