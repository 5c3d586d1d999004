"""The frame rate follows motion: which captured frames MotionGate sends (pure, times as arguments)."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from client.media.motion import HOLD, STILL_INTERVAL, MotionGate, changed_share, thumbnail
from client.presence import FREEZE

PERIOD = 1 / 30  # a 30 fps camera
RNG = np.random.default_rng(17)
DESK = RNG.integers(40, 200, size=(480, 640), dtype=np.uint8)


def noisy(picture: np.ndarray, sigma: float = 3.0) -> np.ndarray:
    """A camera's sensor noise on a still picture."""
    noise = RNG.normal(0.0, sigma, size=picture.shape)
    return np.clip(picture + noise, 0, 255).astype(np.uint8)


def with_hand(picture: np.ndarray, x: int) -> np.ndarray:
    moved = picture.copy()
    moved[200:280, x : x + 60] = 250
    return moved


def test_thumbnail_is_block_means_of_whole_blocks() -> None:
    luma = np.zeros((21, 35), dtype=np.uint8)
    luma[:8, :8] = 160
    thumb = thumbnail(luma)
    assert thumb.shape == (2, 4)
    assert thumb[0, 0] == 160.0
    assert np.count_nonzero(thumb) == 1


def test_sensor_noise_is_not_motion_and_a_hand_is() -> None:
    still = thumbnail(noisy(DESK))
    assert changed_share(thumbnail(noisy(DESK)), still) == 0.0
    assert changed_share(thumbnail(noisy(with_hand(DESK, 300))), still) > 0.01


def run(gate: MotionGate, pictures: list[np.ndarray], start: float = 0.0) -> list[float]:
    """Feed a 30 fps capture; the times of the frames sent."""
    sent = []
    for i, picture in enumerate(pictures):
        now = start + i * PERIOD
        if gate.decide(thumbnail(picture), now):
            sent.append(now)
    return sent


def test_a_still_desk_goes_at_five_frames_a_second() -> None:
    sent = run(MotionGate(), [noisy(DESK) for _ in range(300)])  # 10 s
    assert 48 <= len(sent) <= 52
    gaps = np.diff(sent)
    assert gaps.max() <= STILL_INTERVAL + PERIOD


def test_the_first_moving_frame_is_sent_at_once_then_every_frame() -> None:
    gate = MotionGate()
    still = [noisy(DESK) for _ in range(60)]
    run(gate, still)
    moving = [noisy(with_hand(DESK, 100 + 10 * i)) for i in range(10)]
    sent = run(gate, moving, start=60 * PERIOD)
    assert sent == [60 * PERIOD + i * PERIOD for i in range(10)]


def test_full_rate_is_held_after_the_last_change_then_drops() -> None:
    gate = MotionGate()
    moving = [noisy(with_hand(DESK, 100 + 10 * i)) for i in range(10)]
    run(gate, moving)
    after = [noisy(with_hand(DESK, 190)) for _ in range(60)]
    sent = run(gate, after, start=10 * PERIOD)
    last_motion = 9 * PERIOD
    held = [t for t in sent if t - last_motion < HOLD]
    assert len(held) == len([i for i in range(60) if (10 + i) * PERIOD - last_motion < HOLD])
    later = [t for t in sent if t - last_motion >= HOLD + STILL_INTERVAL]
    assert np.diff(later).min() >= STILL_INTERVAL - 0.01


def test_a_slow_drift_is_sent_once_it_adds_up() -> None:
    """Each capture differs from the previous by less than the threshold; the sum is seen."""
    gate = MotionGate(still_interval=10.0)  # only motion can send here
    pictures = [np.clip(DESK.astype(int) + i, 0, 255).astype(np.uint8) for i in range(30)]
    sent = run(gate, pictures)
    assert len(sent) >= 3  # the first, then each time the drift passed the threshold


def test_always_smooth_sends_every_frame() -> None:
    sent = run(MotionGate(enabled=False), [noisy(DESK) for _ in range(90)])
    assert len(sent) == 90


def test_the_cap_holds_for_motion_too() -> None:
    gate = MotionGate(max_fps=15)
    sent = run(gate, [noisy(with_hand(DESK, 100 + 5 * i)) for i in range(90)])
    assert 44 <= len(sent) <= 46
    assert np.diff(sent).min() >= 1 / 15 - 0.01


@given(st.lists(st.tuples(st.booleans(), st.floats(0.005, 0.2)), min_size=1, max_size=300),
       st.booleans(), st.sampled_from([None, 15.0, 10.0]))
def test_never_a_gap_near_a_freeze_and_motion_waits_only_for_the_cap(
    steps: list[tuple[bool, float]], enabled: bool, max_fps: float | None
) -> None:
    """Whatever the capture timing and the motion: no gap between frames sent beyond the still
    interval plus one capture period (far under presence's FREEZE), and a moving frame is held
    back only by the cap."""
    gate = MotionGate(enabled=enabled, max_fps=max_fps)
    now, x, last_sent = 0.0, 100, None
    cap = 1.0 / max_fps if max_fps else 0.0
    for moves, gap in steps:
        if moves:
            x = 100 + (x + 37) % 400
        picture = with_hand(DESK, x)
        sent = gate.decide(thumbnail(picture), now)
        if last_sent is not None:
            if not sent:
                assert now - last_sent < max(STILL_INTERVAL, cap) + 0.01
                if moves:
                    assert now - last_sent < cap
        if sent:
            last_sent = now
        now += gap
    assert max(STILL_INTERVAL, 1 / 10) + 0.2 < FREEZE
