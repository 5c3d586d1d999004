"""'You are muted' (client/mutedspeech.py): speech is a level held ~0.5 s, said at most every ~10 s."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from client.audiolevel import frame_level
from client.media.synthetic import tone_frame
from client.mutedspeech import GAP, HOLD, QUIET_FOR, THRESHOLD, MutedSpeech

FRAME = 0.02  # seconds per frame (20 ms, as Opus)


def feed(detector: MutedSpeech, level: float, start: float, seconds: float) -> list[float]:
    """Frames of `level` from `start` for `seconds`; the times the detector spoke."""
    said, n = [], round(seconds / FRAME)
    for i in range(n):
        now = start + i * FRAME
        if detector.heard(level, now):
            said.append(now)
    return said


def test_half_a_second_of_speech_says_it_once() -> None:
    d = MutedSpeech()
    said = feed(d, 0.1, 0.0, 3.0)
    assert len(said) == 1 and HOLD <= said[0] < HOLD + 2 * FRAME


def test_a_short_sound_or_silence_says_nothing() -> None:
    d = MutedSpeech()
    assert feed(d, 0.1, 0.0, HOLD - 2 * FRAME) == []
    assert feed(d, THRESHOLD / 2, 1.0, 5.0) == []
    assert feed(d, 0.1, 6.0, HOLD - 2 * FRAME) == []  # the silence between broke the first


def test_short_pauses_between_words_do_not_break_speech() -> None:
    d = MutedSpeech()
    assert feed(d, 0.1, 0.0, 0.3) == []
    assert feed(d, 0.0, 0.3, GAP - 0.1) == []
    assert len(feed(d, 0.1, 0.3 + GAP - 0.1, 0.3)) == 1


@given(st.lists(st.tuples(st.booleans(), st.floats(0.0, 3.0)), max_size=30))
def test_never_more_than_once_per_quiet_period(stretches: list[tuple[bool, float]]) -> None:
    d, t, said = MutedSpeech(), 0.0, []
    for loud, seconds in stretches:
        said += feed(d, 0.2 if loud else 0.0, t, seconds)
        t += round(seconds / FRAME) * FRAME
    assert all(later - earlier >= QUIET_FOR for earlier, later in itertools.pairwise(said))


def test_frame_level_of_a_tone_and_of_silence() -> None:
    loud = tone_frame(440.0, 48000, 0, 960, amplitude=0.3)
    assert abs(frame_level(loud) - 0.3 / 2**0.5) < 0.01
    assert frame_level(tone_frame(440.0, 48000, 0, 960, amplitude=0.0)) == 0.0
