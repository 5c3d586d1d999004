"""The partner's frame rate and size over the last second, on a simulated clock."""

from __future__ import annotations

from client.videorate import VideoRate


def test_thirty_frames_in_a_second_is_thirty_fps_and_the_last_size_counts() -> None:
    rate = VideoRate()
    for i in range(30):
        rate.frame(480, 360, 10.0 + i / 30)
    rate.frame(640, 480, 10.99)
    assert rate.fps(11.0) == 31
    assert (rate.width, rate.height) == (640, 480)


def test_frames_older_than_the_window_no_longer_count() -> None:
    rate = VideoRate(window=1.0)
    for i in range(10):
        rate.frame(640, 480, i * 0.1)
    assert rate.fps(0.95) == 10
    assert rate.fps(1.45) == 5  # the frames at 0.5 .. 0.9 are left
    assert rate.fps(5.0) == 0  # a stall reads 0, whatever came before
    assert VideoRate().fps(0.0) == 0
