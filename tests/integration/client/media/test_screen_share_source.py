"""Screen sources for real: mss on a real X server (Xvfb), and the synthetic screen of text sent
through real aiortc peers on this machine, read back on the receiving side."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from collections.abc import Iterator

import av
import pytest

from client import messages
from client.media import screentext
from client.media.screen import (
    THUMBNAIL_WIDTH,
    ScreenError,
    ScreenTrack,
    fake_screen,
    list_screens,
    mss_grabber,
    open_screen,
)
from integration.client.media.loopback import loopback
from integration.wsclient import TIMEOUT


@pytest.fixture(scope="module")
def display() -> Iterator[str]:
    if shutil.which("Xvfb") is None:
        pytest.skip("needs Xvfb (tools/setup --test installs xvfb)")
    read, write = os.pipe()
    xvfb = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
                            pass_fds=(write,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write)
    try:
        with os.fdopen(read) as chosen:  # Xvfb writes the free display number it took
            name = f":{chosen.readline().strip()}"
        assert name != ":", "Xvfb did not start"
        yield name
    finally:
        xvfb.terminate()
        xvfb.wait(TIMEOUT)


async def test_the_picker_finds_the_x_screen_with_a_thumbnail(display: str, monkeypatch) -> None:
    monkeypatch.setenv("DISPLAY", display)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.delenv("XDG_SESSION_TYPE", raising=False)
    screens, reason = list_screens()
    assert reason is None and len(screens) == 1
    screen = screens[0]
    assert (screen.region["width"], screen.region["height"]) == (1280, 800)
    assert screen.thumbnail.shape == (150, THUMBNAIL_WIDTH, 3)
    track = ScreenTrack(mss_grabber(screen.region))
    try:
        frame = await asyncio.wait_for(track.recv(), TIMEOUT)
        assert (frame.width, frame.height) == (1280, 800)
    finally:
        track.stop()


async def test_a_screen_opens_by_its_number_and_a_missing_one_is_said(display: str, monkeypatch) -> None:
    """`--share-screen 1`: the real X screen, its first capture done before it is sent."""
    monkeypatch.setenv("DISPLAY", display)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.delenv("XDG_SESSION_TYPE", raising=False)
    track = await open_screen("1", "linux")
    try:
        frame = await asyncio.wait_for(track.recv(), TIMEOUT)
        assert (frame.width, frame.height) == (1280, 800)
    finally:
        track.stop()
    with pytest.raises(ScreenError) as missing:
        await open_screen("2", "linux")
    assert missing.value.message == messages.SCREEN_NOT_FOUND.format(n="2", count=1)


async def test_the_synthetic_screen_is_readable_on_the_receiving_side() -> None:
    grab, lines = fake_screen(1280, 720)
    track = ScreenTrack(grab)
    try:
        async with loopback(track) as remote:
            cols, rows = screentext.grid(1280, 720)
            best = 0.0
            for _ in range(15):  # 3 s at 5 fps: the encoder sharpens a still screen frame by frame
                frame = await asyncio.wait_for(remote.recv(), TIMEOUT)
                assert isinstance(frame, av.VideoFrame)
                assert (frame.width, frame.height) == (1280, 720)
                best = max(best, screentext.accuracy(lines, screentext.read(frame.to_ndarray(format="gray"), rows, cols)))
                if best >= 0.99:
                    break
            assert best >= 0.99, best
    finally:
        track.stop()
