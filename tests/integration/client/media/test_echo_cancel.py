"""WebRTC's APM (livekit) removes the echo of what the speaker played from the microphone.

The far end is speech-like (band-limited noise, 800-3000 Hz, with a 4 Hz
syllable envelope); the microphone hears it 40 ms later at half amplitude,
plus, in the double-talk case, a near-end 300 Hz voice-like burst. Echo is
measured as energy in the far end's band over the second half (after the
canceller converged). Not a timed test: the audio is fed as fast as it goes.
"""

from __future__ import annotations

import numpy as np
import pytest

from client.media.echocancel import EchoCanceller
from client.media.pcm import CHUNK_SAMPLES, SAMPLE_RATE

SECONDS = 8
N = SAMPLE_RATE * SECONDS


def _signals(with_near: bool) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    t = np.arange(N) / SAMPLE_RATE
    spectrum = np.fft.rfft(rng.standard_normal(N))
    freqs = np.fft.rfftfreq(N, 1 / SAMPLE_RATE)
    spectrum[(freqs < 800) | (freqs > 3000)] = 0
    far = np.fft.irfft(spectrum, N)
    far = 0.5 * far / np.max(np.abs(far)) * (0.2 + (1 + np.sin(2 * np.pi * 4 * t)) ** 2 / 4)
    delay = int(0.040 * SAMPLE_RATE)
    mic = np.zeros(N)
    mic[delay:] = 0.5 * far[:-delay]
    if with_near:
        mic += 0.2 * np.sin(2 * np.pi * 300 * t) * (np.sin(2 * np.pi * 1.5 * t) > 0)
    as16 = lambda x: (np.clip(x, -1, 1) * 32767).astype(np.int16)  # noqa: E731
    return as16(far), as16(mic)


def _run(far: np.ndarray, mic: np.ndarray, *, feed_far_end: bool) -> np.ndarray:
    canceller = EchoCanceller()
    out = np.zeros_like(mic)
    for i in range(0, N, CHUNK_SAMPLES):
        if feed_far_end:
            canceller.far_end(far[i : i + CHUNK_SAMPLES].tobytes())
        cleaned = canceller.near_end(mic[i : i + CHUNK_SAMPLES].tobytes(), delay_ms=10)
        out[i : i + CHUNK_SAMPLES] = np.frombuffer(cleaned, np.int16)
    return out


def _band_db(x: np.ndarray, lo: float, hi: float) -> float:
    half = x[N // 2 :].astype(np.float64)
    spectrum = np.abs(np.fft.rfft(half)) ** 2
    freqs = np.fft.rfftfreq(half.size, 1 / SAMPLE_RATE)
    return float(10 * np.log10(spectrum[(freqs >= lo) & (freqs <= hi)].sum() + 1e-9))


def test_echo_alone_is_removed() -> None:
    far, mic = _signals(with_near=False)
    out = _run(far, mic, feed_far_end=True)
    reduction = _band_db(mic, 800, 3000) - _band_db(out, 800, 3000)
    print(f"echo reduction, echo only: {reduction:.1f} dB")  # measured 57.8 dB here
    assert reduction > 25


def test_double_talk_keeps_the_near_voice_and_removes_the_echo() -> None:
    far, mic = _signals(with_near=True)
    out = _run(far, mic, feed_far_end=True)
    reduction = _band_db(mic, 800, 3000) - _band_db(out, 800, 3000)
    kept = _band_db(out, 250, 350) - _band_db(mic, 250, 350)
    print(f"echo reduction, double talk: {reduction:.1f} dB; near voice kept at {kept:.1f} dB")
    assert reduction > 20  # measured 39 dB here
    assert kept > -6  # measured -1.2 dB here


def test_without_the_far_end_the_echo_stays() -> None:
    # The control: the canceller removes echo only because it is told what the speaker played.
    far, mic = _signals(with_near=False)
    out = _run(far, mic, feed_far_end=False)
    reduction = _band_db(mic, 800, 3000) - _band_db(out, 800, 3000)
    print(f"echo reduction without the far end: {reduction:.1f} dB")
    assert reduction < 15


@pytest.mark.parametrize("size", [CHUNK_SAMPLES * 2 - 2, CHUNK_SAMPLES * 4])
def test_other_chunk_sizes_are_a_python_error_not_an_abort(size: int) -> None:
    # livekit's APM panics in Rust and aborts the interpreter on these; we refuse them first.
    canceller = EchoCanceller()
    with pytest.raises(ValueError, match="10 ms"):
        canceller.near_end(bytes(size))
    with pytest.raises(ValueError, match="10 ms"):
        canceller.far_end(bytes(size))
