"""The synthetic pattern and tone: pure numpy + PyAV frames, no network, no Qt."""

from __future__ import annotations

import asyncio
import fractions

import av
import numpy as np
import pytest

from client.media.synthetic import (
    BAND_CELLS,
    PatternGenerator,
    PatternInfo,
    PatternVideoTrack,
    ToneAudioTrack,
    decode_bits,
    dominant_frequency,
    encode_bits,
    read_pattern,
    tone_frame,
)


def test_bits_round_trip_and_the_crc_rejects_a_flipped_cell() -> None:
    bits = encode_bits(1_760_000_123_456, 987_654)
    assert bits.shape == (BAND_CELLS,)
    assert decode_bits(bits) == PatternInfo(1_760_000_123.456, 987_654)
    for i in range(16, BAND_CELLS - 12):  # every payload/CRC cell matters
        flipped = bits.copy()
        flipped[i] = not flipped[i]
        assert decode_bits(flipped) is None, i


def test_a_generated_frame_reads_back_its_time_and_sequence() -> None:
    gen = PatternGenerator()
    infos = [read_pattern(gen.next_frame(1_760_000_000.0 + i / 30)) for i in range(5)]
    assert [i.sequence for i in infos if i] == [0, 1, 2, 3, 4]
    assert [round(i.capture_time, 3) for i in infos if i] == [round(1_760_000_000.0 + i / 30, 3) for i in range(5)]


@pytest.mark.parametrize(("width", "height"), [(640, 480), (1280, 720), (320, 240), (160, 120)])
def test_other_sizes_and_a_receiver_side_rescale(width: int, height: int) -> None:
    frame = PatternGenerator(width, height).next_frame(1_700_000_000.5)
    assert read_pattern(frame) == PatternInfo(1_700_000_000.5, 0)
    # A receiver may paint it at another size; the band is found by proportion.
    smaller = frame.reformat(width=width * 3 // 4 // 2 * 2, height=height * 3 // 4 // 2 * 2)
    assert read_pattern(smaller) == PatternInfo(1_700_000_000.5, 0)


def test_frames_without_the_pattern_give_none() -> None:
    black = av.VideoFrame.from_ndarray(np.zeros((480, 640, 3), np.uint8), format="rgb24")
    white = av.VideoFrame.from_ndarray(np.full((480, 640, 3), 255, np.uint8), format="rgb24")
    noise = av.VideoFrame.from_ndarray(
        np.random.default_rng(1).integers(0, 256, (480, 640, 3), dtype=np.uint8), format="rgb24")
    stripes = np.zeros((480, 640, 3), np.uint8)
    stripes[:, ::64] = 255
    for frame in (black, white, noise, av.VideoFrame.from_ndarray(stripes, format="rgb24")):
        assert read_pattern(frame) is None


def test_the_picture_moves() -> None:
    gen = PatternGenerator()
    a = gen.next_frame().to_ndarray(format="gray")
    b = gen.next_frame().to_ndarray(format="gray")
    scene = slice(0, 380)
    assert np.mean(a[scene] != b[scene]) > 0.03  # bars scroll 4 px a frame, the square bounces


def test_generation_is_cheap() -> None:
    # Measured ~0.6 ms a frame at 640x480 here; the bound only catches an accidental 10x.
    import time

    gen = PatternGenerator()
    gen.next_frame()
    start = time.perf_counter()
    for _ in range(60):
        gen.next_frame()
    per_frame = (time.perf_counter() - start) / 60
    assert per_frame < 0.015, per_frame


async def test_pattern_track_paces_with_monotonic_pts() -> None:
    track = PatternVideoTrack(fps=30)
    loop = asyncio.get_running_loop()
    start = loop.time()
    frames = [await track.recv() for _ in range(10)]
    elapsed = loop.time() - start
    pts = [f.pts for f in frames]
    assert pts == [i * 3000 for i in range(10)]
    assert all(f.time_base == fractions.Fraction(1, 90000) for f in frames)
    assert elapsed >= 9 / 30 * 0.9  # paced, not as fast as possible
    infos = [read_pattern(f) for f in frames]
    assert [i.sequence for i in infos if i] == list(range(10))
    track.stop()


@pytest.mark.parametrize("frequency", [220.0, 440.0, 1000.0, 3000.0])
def test_dominant_frequency_of_a_tone(frequency: float) -> None:
    assert dominant_frequency(tone_frame(frequency, 48000, 12_345, 960)) == pytest.approx(frequency, abs=5)


def test_dominant_frequency_of_stereo_planar_float_and_silence() -> None:
    t = np.arange(960) / 48000
    wave = np.sin(2 * np.pi * 660 * t).astype(np.float32)
    frame = av.AudioFrame.from_ndarray(np.vstack([wave, wave]), format="fltp", layout="stereo")
    frame.sample_rate = 48000
    assert dominant_frequency(frame) == pytest.approx(660, abs=5)
    silent = av.AudioFrame(format="s16", layout="mono", samples=960)
    silent.planes[0].update(bytes(silent.planes[0].buffer_size))
    silent.sample_rate = 48000
    assert dominant_frequency(silent) == 0.0


async def test_tone_track_frames_are_20ms_s16_mono_with_continuous_pts() -> None:
    track = ToneAudioTrack()
    frames = [await track.recv() for _ in range(5)]
    assert [f.samples for f in frames] == [960] * 5
    assert {f.format.name for f in frames} == {"s16"} and {f.layout.name for f in frames} == {"mono"}
    assert [f.pts for f in frames] == [0, 960, 1920, 2880, 3840]
    joined = np.concatenate([f.to_ndarray()[0] for f in frames]).astype(np.float64)
    # Phase joins up across frames: no click between them.
    assert np.max(np.abs(np.diff(joined))) < 32767 * 0.3 * 2 * np.pi * 440 / 48000 * 1.1
    track.stop()
