"""Screen sharing's sources: what there is to share (with thumbnails), and a track that sends it.

- `list_screens` asks `mss` for the screens (X11, Windows, macOS). It never returns an empty
  list silently: with nothing to share, the second value is the sentence that says why
  (Wayland, no display, the capture refused; on macOS, the Screen Recording permission).
- `ScreenTrack` sends a screen at SCREEN_FPS, at most MAX_WIDTH wide, grabbing in a worker
  thread so the event loop never waits on a capture. A capture that fails ends the track
  (MediaStreamError, the sentence in `failure`): the call then goes back to the camera.
  `fake_screen` is the synthetic screen of text (client/media/screentext.py) for
  `--share-screen fake`, tests and the bench.
- `open_screen` turns a choice (the picker's ScreenSource, "fake", or a screen's number) into a
  ScreenTrack whose first capture worked, or raises ScreenError with the sentence to show.

The call sends the track in place of the camera without renegotiating (client/calltracks.py).

Not done: sharing one window. mss captures screen regions only, and finding a window's region
needs each window system's own API (X11's client list, macOS's CGWindowList, Win32's
EnumWindows), none of which this project depends on. Qt has no public list of other
applications' windows, and its `QScreen.grabWindow(winId)` reads the window's area of the
screen, so whatever covers the window is sent too. So the picker offers whole screens only.
"""

from __future__ import annotations

import asyncio
import fractions
import os
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import av
import cv2
import numpy as np
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from client import messages
from client.media import screentext

SCREEN_FPS = 5.0  # text stays readable; a screen changes little between frames
MAX_WIDTH = 1920
THUMBNAIL_WIDTH = 240
VIDEO_TIME_BASE = fractions.Fraction(1, 90000)


@dataclass(frozen=True)
class ScreenSource:
    name: str
    region: dict[str, int]  # mss's monitor: left, top, width, height
    thumbnail: np.ndarray  # BGR, THUMBNAIL_WIDTH wide


class ScreenError(Exception):
    """The screen chosen cannot be shared; `message` is the sentence for the person."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def fit(width: int, height: int, max_width: int = MAX_WIDTH) -> tuple[int, int]:
    """The size to send: at most max_width wide, the aspect kept, both even (yuv420p)."""
    if width > max_width:
        height = round(height * max_width / width)
        width = max_width
    return max(2, width // 2 * 2), max(2, height // 2 * 2)


def unsupported_reason(environ: Mapping[str, str], platform: str) -> str | None:
    """Why this desktop cannot be captured at all, before trying; None: try."""
    if platform.startswith("linux"):
        if environ.get("XDG_SESSION_TYPE") == "wayland" or (environ.get("WAYLAND_DISPLAY")
                                                          and not environ.get("DISPLAY")):
            return messages.SCREEN_WAYLAND
        if not environ.get("DISPLAY"):
            return messages.SCREEN_NO_DISPLAY
    return None


def list_screens(environ: Mapping[str, str] | None = None,
                 platform: str = sys.platform) -> tuple[list[ScreenSource], str | None]:
    """The screens to pick from, each with a thumbnail; or none and the sentence that says why."""
    reason = unsupported_reason(os.environ if environ is None else environ, platform)
    if reason is not None:
        return [], reason
    try:
        import mss

        with mss.MSS() as grabber:
            found = []
            for i, monitor in enumerate(grabber.monitors[1:], start=1):
                shot = np.asarray(grabber.grab(monitor))[:, :, :3]
                w, h = fit(monitor["width"], monitor["height"], THUMBNAIL_WIDTH)
                thumb = cv2.resize(shot, (w, h), interpolation=cv2.INTER_AREA)
                name = messages.SCREEN_NAME.format(n=i, width=monitor["width"], height=monitor["height"])
                found.append(ScreenSource(name, dict(monitor), thumb))
    except Exception as exc:  # mss raises its ScreenShotError, or the display's own errors
        return [], messages.screen_failed(exc, platform)
    if not found:
        return [], messages.SCREEN_NONE
    return found, None


def mss_grabber(region: dict[str, int]) -> Callable[[], np.ndarray]:
    """A grab function for one screen; each call runs in a worker thread (mss is per-thread)."""
    import threading

    import mss

    local = threading.local()

    def grab() -> np.ndarray:
        if not hasattr(local, "mss"):
            local.mss = mss.MSS()
        return np.asarray(local.mss.grab(region))[:, :, :3]

    return grab


def fake_screen(width: int = 1280, height: int = 720, seed: int = 0) -> tuple[Callable[[], np.ndarray], list[str]]:
    """A synthetic screen of text and the lines on it (what a reader must find)."""
    lines = screentext.page(width, height, seed)
    grey = screentext.render(lines, width, height)
    bgr = cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR)
    return (lambda: bgr), lines


class ScreenTrack(MediaStreamTrack):
    """A screen as video: SCREEN_FPS frames a second, at most MAX_WIDTH wide."""

    kind = "video"

    def __init__(self, grab: Callable[[], np.ndarray], fps: float = SCREEN_FPS,
                 platform: str = sys.platform) -> None:  # fmt: skip
        super().__init__()
        self._grab = grab
        self._period = 1.0 / fps
        self._start: float | None = None
        self._next = 0.0
        self._platform = platform
        self.failure: str | None = None  # why the capture stopped, for the person

    def _frame(self) -> av.VideoFrame:
        image: Any = self._grab()
        h, w = image.shape[:2]
        size = fit(w, h)
        if size != (w, h):
            image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        return av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="bgr24").reformat(format="yuv420p")

    async def recv(self) -> av.VideoFrame:
        if self.readyState != "live":
            raise MediaStreamError
        now = time.monotonic()
        if self._start is None:
            self._start = self._next = now
        elif self._next > now:
            await asyncio.sleep(self._next - now)
        self._next = max(self._next + self._period, time.monotonic() - self._period)
        try:
            frame = await asyncio.to_thread(self._frame)
        except Exception as exc:  # mss's errors, the display gone: the share ends and says why
            self.failure = messages.screen_failed(exc, self._platform)
            self.stop()
            raise MediaStreamError from exc
        frame.pts = int((time.monotonic() - self._start) * 90000)
        frame.time_base = VIDEO_TIME_BASE
        return frame


async def open_screen(choice: ScreenSource | str, platform: str = sys.platform,
                      screens: Callable[[], tuple[list[ScreenSource], str | None]] = list_screens,
                      ) -> ScreenTrack:  # fmt: skip
    """A track of the screen chosen, its first capture done; raises ScreenError with the sentence.

    choice: a ScreenSource from the picker, "fake" (the synthetic screen of text), or "1", "2"...
    (a screen's number, as the picker names them)."""
    if choice == "fake":
        grab, _ = fake_screen()
    else:
        if isinstance(choice, str):
            found, reason = await asyncio.to_thread(screens)
            if reason is not None:
                raise ScreenError(reason)
            n = int(choice) if choice.isdigit() else 0
            if not 1 <= n <= len(found):
                raise ScreenError(messages.SCREEN_NOT_FOUND.format(n=choice, count=len(found)))
            choice = found[n - 1]
        grab = mss_grabber(choice.region)
        try:
            await asyncio.to_thread(grab)  # refused now rather than in the partner's first frame
        except Exception as exc:
            raise ScreenError(messages.screen_failed(exc, platform)) from exc
    return ScreenTrack(grab, platform=platform)
