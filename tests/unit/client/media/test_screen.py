"""Screen sharing's pure parts: the synthetic screen reads back, sizes fit, and a picker that
finds nothing says why (the real checks and the real mss, on this machine's real displays)."""

from __future__ import annotations

import numpy as np
import pytest
from aiortc.mediastreams import MediaStreamError

from client import messages
from client.media import screentext
from client.media.screen import ScreenError, ScreenTrack, fake_screen, fit, list_screens, open_screen


@pytest.mark.parametrize("size", [(1280, 720), (1920, 1080), (800, 600)])
def test_the_synthetic_screen_reads_back_exactly(size: tuple[int, int]) -> None:
    w, h = size
    lines = screentext.page(w, h, seed=w)
    cols, rows = screentext.grid(w, h)
    assert len(lines) == rows and all(len(line) == cols for line in lines)
    assert screentext.accuracy(lines, screentext.read(screentext.render(lines, w, h), rows, cols)) == 1.0


def test_the_reader_notices_wrong_text() -> None:
    lines = screentext.page(640, 360)
    cols, rows = screentext.grid(640, 360)
    other = screentext.render(screentext.page(640, 360, seed=99), 640, 360)
    assert screentext.accuracy(lines, screentext.read(other, rows, cols)) < 0.2
    blank = np.full((360, 640), screentext.BACKGROUND, np.uint8)
    assert screentext.accuracy(lines, screentext.read(blank, rows, cols)) < 0.2


def test_sizes_fit_1920_wide_and_even() -> None:
    assert fit(3840, 2160) == (1920, 1080)
    assert fit(1280, 720) == (1280, 720)
    assert fit(2561, 1441) == (1920, 1080)
    w, h = fit(5120, 1441)
    assert w == 1920 and h % 2 == 0


def test_fake_screen_is_the_text_it_says() -> None:
    grab, lines = fake_screen(1280, 720)
    image = grab()
    assert image.shape == (720, 1280, 3)
    cols, rows = screentext.grid(1280, 720)
    assert screentext.read(image[:, :, 0], rows, cols) == lines


def test_wayland_is_said_not_supported_yet() -> None:
    screens, reason = list_screens({"XDG_SESSION_TYPE": "wayland", "DISPLAY": ":0"}, "linux")
    assert screens == [] and reason == messages.SCREEN_WAYLAND
    screens, reason = list_screens({"WAYLAND_DISPLAY": "wayland-0"}, "linux")
    assert screens == [] and reason == messages.SCREEN_WAYLAND


def test_no_desktop_is_said() -> None:
    assert list_screens({}, "linux") == ([], messages.SCREEN_NO_DISPLAY)


def test_a_display_that_is_not_there_is_said_with_the_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    # The real mss, asked for an X display nobody runs: its own error, in the sentence.
    monkeypatch.setenv("DISPLAY", ":97")
    screens, reason = list_screens({"DISPLAY": ":97"}, "linux")
    assert screens == []
    assert reason is not None and reason.startswith(messages.SCREEN_FAILED.split("(")[0])
    assert ":97" in reason or "display" in reason.lower(), reason  # the X error itself, not another


def test_on_macos_a_refused_capture_explains_the_screen_recording_permission(monkeypatch: pytest.MonkeyPatch) -> None:
    # The same real failure (no such display), as macOS would report a capture it refuses.
    monkeypatch.setenv("DISPLAY", ":97")
    assert list_screens({"DISPLAY": ":97"}, "darwin") == ([], messages.SCREEN_FAILED_MACOS)
    assert "Screen Recording" in messages.screen_failed(OSError("refused"), "darwin")
    assert messages.screen_failed("no X", "linux") == messages.SCREEN_FAILED.format(detail="no X")


async def test_a_screen_that_is_not_there_is_said_before_anything_is_sent() -> None:
    with pytest.raises(ScreenError) as refused:
        await open_screen("2", "linux", screens=lambda: ([], None))
    assert refused.value.message == messages.SCREEN_NOT_FOUND.format(n="2", count=0)
    with pytest.raises(ScreenError) as wayland:
        await open_screen("1", "linux", screens=lambda: ([], messages.SCREEN_WAYLAND))
    assert wayland.value.message == messages.SCREEN_WAYLAND


async def test_a_capture_that_fails_ends_the_track_and_says_why() -> None:
    def broken() -> np.ndarray:
        raise OSError("gone")

    track = ScreenTrack(broken, platform="darwin")
    with pytest.raises(MediaStreamError):
        await track.recv()
    assert track.failure == messages.SCREEN_FAILED_MACOS and track.readyState == "ended"


async def test_the_fake_screen_opens_by_name() -> None:
    track = await open_screen("fake")
    try:
        frame = await track.recv()
        assert (frame.width, frame.height) == (1280, 720)
    finally:
        track.stop()
