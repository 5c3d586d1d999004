"""WebRTC's echo canceller (livekit's audio processing module) on the shared PCM format."""

from __future__ import annotations

from typing import Any

from client.media.pcm import CHUNK_BYTES, CHUNK_SAMPLES, SAMPLE_RATE


class EchoCanceller:
    """WebRTC APM (via livekit) on 10 ms s16 mono chunks; one per call path, one thread.

    Making one starts livekit's native runtime (a tokio thread pool, an audio
    runtime, a watchdog thread; they call back into Python to log), which lives
    until the process exits. So only `QtAudio` makes one, and only once a real
    audio device is about to run; `close()` releases the native APM at a known
    moment rather than whenever the garbage collector gets to it.
    """

    def __init__(self, *, noise_suppression: bool = True) -> None:
        from livekit import rtc

        self._rtc = rtc
        self._apm: Any = rtc.AudioProcessingModule(
            echo_cancellation=True, noise_suppression=noise_suppression, high_pass_filter=True,
            auto_gain_control=False,
        )

    @property
    def closed(self) -> bool:
        return self._apm is None

    def far_end(self, chunk: bytes) -> None:
        """The 10 ms that just went to the speaker."""
        apm = self._open_apm(chunk)
        frame = self._rtc.AudioFrame(bytearray(chunk), SAMPLE_RATE, 1, CHUNK_SAMPLES)
        apm.process_reverse_stream(frame)

    def near_end(self, chunk: bytes, delay_ms: int | None = None) -> bytes:
        """10 ms from the microphone, returned with the echo removed."""
        apm = self._open_apm(chunk)
        if delay_ms is not None:
            apm.set_stream_delay_ms(max(0, delay_ms))
        frame = self._rtc.AudioFrame(bytearray(chunk), SAMPLE_RATE, 1, CHUNK_SAMPLES)
        apm.process_stream(frame)
        return bytes(frame.data.cast("B"))

    def close(self) -> None:
        """Release the native APM now (idempotent); later chunks are a Python error."""
        apm, self._apm = self._apm, None
        if apm is not None:
            apm._ffi_handle.dispose()  # what its __del__ does, but now, on this thread

    def _open_apm(self, chunk: bytes) -> Any:
        _check_chunk(chunk)
        apm = self._apm
        if apm is None:
            raise RuntimeError("the echo canceller is closed")
        return apm


def _check_chunk(chunk: bytes) -> None:
    # livekit's APM aborts the whole process (a Rust panic, "slice must have a multiple
    # of 10ms worth of samples") on any other length: refuse it here as a Python error.
    if len(chunk) != CHUNK_BYTES:
        raise ValueError(f"the echo canceller takes 10 ms chunks of {CHUNK_BYTES} bytes, got {len(chunk)}")
