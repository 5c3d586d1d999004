"""The partner's voice on a meter (client/audiolevel.py): a dB scale, one reading a tenth of a second."""

from __future__ import annotations

import pytest

from client.audiolevel import FLOOR_DB, LevelMeter, frame_level, meter
from client.media.synthetic import tone_frame


@pytest.mark.parametrize(("rms", "reading"), [
    (0.0, 0.0),  # silence
    (10 ** (FLOOR_DB / 20), 0.0),  # the floor: empty
    (10 ** (FLOOR_DB / 40), 0.5),  # half way in decibels
    (1.0, 1.0),  # full scale
    (1e-9, 0.0),  # below the floor: empty, never negative
])  # fmt: skip
def test_the_meter_reads_in_decibels(rms: float, reading: float) -> None:
    assert meter(rms) == pytest.approx(reading)


def test_a_voice_fills_most_of_the_meter() -> None:
    voice = frame_level(tone_frame(440.0, 48000, 0, 960, amplitude=0.3))  # the synthetic microphone
    assert 0.7 < meter(voice) < 0.85


def test_one_reading_per_stretch_the_loudest_frame_of_it() -> None:
    every = 0.125  # times a float holds exactly, so no reading falls a rounding error early or late
    level = LevelMeter(every)
    frames = [(i / 64, 0.001 if i % 5 else 0.5) for i in range(25)]  # a loud frame in five
    readings = [(now, level.heard(rms, now)) for now, rms in frames]
    given = [(now, reading) for now, reading in readings if reading is not None]
    assert [now for now, _ in given] == [every, 2 * every, 3 * every]
    assert all(reading == pytest.approx(meter(0.5)) for _, reading in given)  # the peak, not the last frame
    assert level.heard(0.0, 0.4) is None and level.heard(0.0, 0.5) == 0.0  # silence reads empty
