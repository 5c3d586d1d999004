"""The camera: opened once through PyAV in a worker thread, shared across partners.

- `PyAVCamera` opens the OS's capture device (v4l2 / avfoundation / dshow) with
  FFmpeg's log captured, because the reason for a failure (busy, missing, no
  permission) is often only in that log.
- `SyntheticCamera` is a stand-in "device" for machines without a camera: a
  thread producing the test pattern, behind the same code path.
- `SharedCamera` opens a source in a daemon thread with a timeout (avfoundation
  can block forever waiting for a first frame), reads frames in that thread,
  and hands each call its own `MediaRelay` subscriber. A read failure mid-call
  ends the tracks and is reported through `on_error`, never raised into the loop.
"""

from __future__ import annotations

import asyncio
import fractions
import glob
import logging
import re
import sys
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol

import av
import av.logging
import numpy as np
from aiortc.contrib.media import MediaRelay
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from client import messages
from client.media.devices import CAMERA, NOT_FOUND, DeviceError, classify_camera_error
from client.media.motion import MotionGate, thumbnail
from client.media.synthetic import PatternGenerator, Scene, scene_moving

log = logging.getLogger(__name__)

VIDEO_CLOCK_RATE = 90000
VIDEO_TIME_BASE = fractions.Fraction(1, VIDEO_CLOCK_RATE)
DEFAULT_OPEN_TIMEOUT = 10.0


@dataclass(frozen=True)
class CameraInfo:
    id: str  # what to pass as `camera=` (a path on Linux, an index/name on macOS, a name on Windows)
    name: str


# --- pure helpers ---------------------------------------------------------------


def open_args(device: str | None, platform: str, width: int, height: int, fps: int
              ) -> tuple[str, str, dict[str, str]]:
    """(file, format, options) for av.open on this OS."""
    options = {"video_size": f"{width}x{height}", "framerate": str(fps)}
    if platform.startswith("darwin"):
        # "VIDEO:AUDIO"; no audio here, the microphone goes through Qt.
        return f"{device or '0'}:none", "avfoundation", options
    if platform.startswith(("win", "cygwin")):
        if not device:
            raise DeviceError(CAMERA, NOT_FOUND, detail="no DirectShow camera listed", platform=platform)
        name = device[len("video="):] if device.startswith("video=") else device
        return f"video={name}", "dshow", {**options, "rtbufsize": "64M"}
    return device or "/dev/video0", "v4l2", options


_MODE = re.compile(r"(\d+)x(\d+)@\[([\d.]+) ([\d.]+)\]fps")


def avfoundation_fallback(log_lines: list[str], width: int, height: int, fps: int) -> dict[str, str] | None:
    """Options to retry with after avfoundation refused the size or frame rate.

    avfoundation.m logs "Selected framerate (%f) is not supported by the device" (or
    "Selected video size ...") followed by "Supported modes:" and "  %dx%d@[%f %f]fps"
    lines; the built-in FaceTime cameras want exactly 30.000030 or 29.970030.
    """
    text = "\n".join(log_lines)
    if "is not supported by the device" not in text:
        return None
    modes = [(int(w), int(h), float(lo), float(hi)) for w, h, lo, hi in _MODE.findall(text)]
    if not modes:
        return None
    # Closest size to the one asked for, then the max rate nearest the asked fps.
    w, h, _, hi = min(modes, key=lambda m: (abs(m[0] * m[1] - width * height), abs(m[3] - fps)))
    return {"video_size": f"{w}x{h}", "framerate": f"{hi:.6f}"}


def list_cameras(platform: str = sys.platform) -> list[CameraInfo]:
    """Cameras a person can pick. Linux: /dev/video*; elsewhere QMediaDevices when Qt is there."""
    if platform.startswith("linux"):
        found = []
        for path in sorted(glob.glob("/dev/video*"), key=lambda p: (len(p), p)):
            name = path
            sysname = f"/sys/class/video4linux/{path.rsplit('/', 1)[-1]}/name"
            try:
                with open(sysname, encoding="utf-8") as f:
                    name = f"{f.read().strip()} ({path})"
            except OSError:
                pass
            found.append(CameraInfo(path, name))
        return found
    try:
        from PySide6.QtMultimedia import QMediaDevices
    except ImportError:  # pragma: no cover - PySide6 is a dependency
        return []
    out = []
    for i, dev in enumerate(QMediaDevices.videoInputs()):
        name = dev.description()
        out.append(CameraInfo(str(i) if platform.startswith("darwin") else name, name))
    return out


def luma_plane(frame: av.VideoFrame) -> np.ndarray:
    """The Y plane as a (height, width) view, without a copy when the frame is planar YUV."""
    if frame.format.name in ("yuv420p", "yuvj420p", "yuv422p", "yuv444p", "nv12"):
        plane = frame.planes[0]
        rows = np.frombuffer(memoryview(plane), np.uint8).reshape(-1, plane.line_size)
        return rows[: frame.height, : frame.width]
    return frame.to_ndarray(format="gray")


def capped(frame: av.VideoFrame, max_height: int | None) -> av.VideoFrame:
    """The frame scaled down to max_height lines (aspect kept, even sizes), or as it is."""
    if not max_height or frame.height <= max_height:
        return frame
    width = max(2, round(frame.width * max_height / frame.height / 2) * 2)
    return frame.reformat(width=width, height=max_height // 2 * 2, format="yuv420p")


def _format_log(lines: list[tuple[int, str, str]]) -> list[str]:
    return [f"[{name}] {msg.rstrip()}" for _level, name, msg in lines]


# --- sources ------------------------------------------------------------------------


class CameraSource(Protocol):
    """A capture device as the reader thread sees it: blocking calls, one thread."""

    def open(self) -> None: ...
    def read(self) -> av.VideoFrame: ...
    def close(self) -> None: ...


class PyAVCamera:
    def __init__(self, device: str | None, width: int = 640, height: int = 480, fps: int = 30,
                 platform: str = sys.platform) -> None:
        self.device, self.width, self.height, self.fps, self.platform = device, width, height, fps, platform
        self._container: av.container.InputContainer | None = None
        self._frames: Iterator[av.VideoFrame] | None = None

    def open(self) -> None:
        file, fmt, options = open_args(self.device, self.platform, self.width, self.height, self.fps)
        # PyAV keeps FFmpeg's log off by default; errors are what the classifier needs.
        if av.logging.get_level() is None:
            av.logging.set_level(av.logging.ERROR)
        lines: list[str] = []
        for attempt in range(2):
            with av.logging.Capture() as captured:
                try:
                    self._container = av.open(file, format=fmt, options=options)
                    break
                except Exception as exc:  # every failure is classified
                    lines = _format_log(captured)
                    retry = avfoundation_fallback(lines, self.width, self.height, self.fps)
                    if attempt == 0 and fmt == "avfoundation" and retry:
                        options = {**options, **retry}
                        continue
                    raise classify_camera_error(exc, lines, self.platform) from exc
        assert self._container is not None
        stream = self._container.streams.video[0]
        stream.thread_type = "AUTO"
        self._frames = self._container.decode(stream)

    def read(self) -> av.VideoFrame:
        assert self._frames is not None
        with av.logging.Capture() as captured:
            try:
                frame = next(self._frames)
            except StopIteration as exc:
                raise DeviceError(CAMERA, NOT_FOUND, messages.CAMERA_LOST, "camera stream ended",
                                  self.platform) from exc
            except Exception as exc:
                err = classify_camera_error(exc, _format_log(captured), self.platform)
                raise DeviceError(CAMERA, err.code, messages.CAMERA_LOST, err.detail, self.platform) from exc
        if frame.format.name != "yuv420p" or frame.width != self.width:
            # Here, not on the event loop: swscale work stays in the reader thread. A camera
            # that only gives another size is scaled to our width, keeping its aspect ratio.
            height = max(2, round(self.width * frame.height / frame.width / 2) * 2)
            frame = frame.reformat(width=self.width, height=height, format="yuv420p")
        return frame

    def close(self) -> None:
        if self._container is not None:
            self._container.close()
            self._container = None
            self._frames = None


class SyntheticCamera:
    """A fake capture device for machines without one: the pattern, paced in the reader thread."""

    def __init__(self, width: int = 640, height: int = 480, fps: int = 30,
                 fail_after: int | None = None, scene: Scene | Callable[[float], bool] = "moving") -> None:
        """scene: when the pattern moves, a named scene (synthetic.scene_moving) or whether it
        moves `t` seconds after the camera opened, asked frame by frame (tests drive it)."""
        self._gen = PatternGenerator(width, height, fps)
        self._period = 1.0 / fps
        self._next = 0.0
        self._opened_at = 0.0
        self._fail_after = fail_after  # simulate an unplug after N frames (tests)
        self._scene = scene
        self.is_open = False

    def open(self) -> None:
        self.is_open = True
        self._next = self._opened_at = time.monotonic()

    def read(self) -> av.VideoFrame:
        if self._fail_after is not None and self._gen.sequence >= self._fail_after:
            raise DeviceError(CAMERA, NOT_FOUND, messages.CAMERA_LOST, "synthetic camera unplugged")
        delay = self._next - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        now = time.monotonic()
        self._next = max(self._next + self._period, now - self._period)
        t, scene = now - self._opened_at, self._scene
        return self._gen.next_frame(moving=scene(t) if callable(scene) else scene_moving(scene, t))

    def close(self) -> None:
        self.is_open = False


# --- the shared camera ------------------------------------------------------------


class _CameraTrack(MediaStreamTrack):
    """The one source track the relay reads; fed by the reader thread."""

    kind = "video"

    def __init__(self) -> None:
        super().__init__()
        self._queue: asyncio.Queue[av.VideoFrame | None] = asyncio.Queue(maxsize=2)
        self._start: float | None = None

    def push(self, frame: av.VideoFrame | None) -> None:
        # Latest frames win: a slow consumer sees fresh video, never a backlog.
        if self._queue.full():
            self._queue.get_nowait()
        self._queue.put_nowait(frame)

    async def recv(self) -> av.VideoFrame:
        if self.readyState != "live":
            raise MediaStreamError
        frame = await self._queue.get()
        if frame is None:
            self.stop()
            raise MediaStreamError
        now = time.time()
        if self._start is None:
            self._start = now
        frame.pts = int((now - self._start) * VIDEO_CLOCK_RATE)
        frame.time_base = VIDEO_TIME_BASE
        return frame


class SharedCamera:
    """One open device, any number of per-call subscribers."""

    def __init__(self, source_factory: Callable[[], CameraSource], *,
                 open_timeout: float = DEFAULT_OPEN_TIMEOUT,
                 on_error: Callable[[DeviceError], None] | None = None,
                 gate: MotionGate | None = None,
                 platform: str = sys.platform) -> None:
        """gate: which captured frames go on (client/media/motion.py); None: every one.
        `max_height` (low-power mode) scales larger frames down; both are read per frame."""
        self._factory = source_factory
        self.gate = gate
        self.max_height: int | None = None
        self.frames_read = 0  # captured (tests, benchmarks)
        self.frames_passed = 0  # handed on to the calls and the preview
        self._open_timeout = open_timeout
        self._on_error = on_error
        self._platform = platform
        self._lock = asyncio.Lock()
        self._track: _CameraTrack | None = None
        self._relay: MediaRelay | None = None
        self._stop: threading.Event | None = None
        self._closed: asyncio.Future[None] | None = None
        self.opens = 0  # device opens through this object (tests: opened once across partners)
        self._subscribers: weakref.WeakSet[MediaStreamTrack] = weakref.WeakSet()

    @property
    def is_open(self) -> bool:
        return self._track is not None and self._track.readyState == "live"

    async def subscribe(self) -> MediaStreamTrack:
        """A new track for one call; opens the device on first use. Raises DeviceError."""
        async with self._lock:
            if not self.is_open:
                await self._release()
                await self._open()
            assert self._relay is not None and self._track is not None
            track = self._relay.subscribe(self._track, buffered=False)
            self._subscribers.add(track)
            return track

    @property
    def subscribers(self) -> int:
        """Subscriber tracks still live: none, and the device may be closed."""
        return sum(1 for track in self._subscribers if track.readyState == "live")

    async def release(self) -> None:
        """Close the device (camera turned off, or exit). Subscribers' tracks end."""
        async with self._lock:
            await self._release()

    async def _open(self) -> None:
        loop = asyncio.get_running_loop()
        opened: asyncio.Future[None] = loop.create_future()
        closed: asyncio.Future[None] = loop.create_future()
        stop = threading.Event()
        track = _CameraTrack()
        source = self._factory()

        def settle(fut: asyncio.Future[None], exc: BaseException | None) -> None:
            if fut.done():
                return
            if exc is None:
                fut.set_result(None)
            else:
                fut.set_exception(exc)

        def report(err: DeviceError) -> None:
            track.push(None)
            if self._on_error is not None:
                self._on_error(err)

        def run() -> None:
            try:
                source.open()
            except BaseException as exc:  # handed to the loop
                err = classify_camera_error(exc, [], self._platform)
                _call(loop, settle, opened, err)
                _call(loop, settle, closed, None)
                return
            if stop.is_set():  # the open timed out and the caller gave up: don't keep the device
                source.close()
                _call(loop, settle, closed, None)
                return
            _call(loop, settle, opened, None)
            failure: BaseException | None = None
            try:
                while not stop.is_set():
                    frame = source.read()
                    if not stop.is_set() and self._passes(frame):
                        _call(loop, track.push, capped(frame, self.max_height))
            except BaseException as exc:
                failure = exc
            finally:
                # Closed before anyone hears of the failure, so "Try again" finds the device free.
                source.close()
                if failure is not None and not stop.is_set():
                    err = classify_camera_error(failure, [], self._platform)
                    log.warning("camera failed while reading: %r", err)
                    _call(loop, report, err)
                _call(loop, settle, closed, None)

        thread = threading.Thread(target=run, name="studymatch-camera", daemon=True)
        thread.start()
        try:
            await asyncio.wait_for(asyncio.shield(opened), self._open_timeout)
        except TimeoutError as exc:
            stop.set()
            opened.cancel()
            closed.cancel()
            raise classify_camera_error(TimeoutError("camera open timed out"), [], self._platform) from exc
        except DeviceError:
            await closed
            raise
        self.opens += 1
        self._track, self._relay, self._stop, self._closed = track, MediaRelay(), stop, closed

    def _passes(self, frame: av.VideoFrame) -> bool:
        """In the reader thread, never on the loop: the thumbnail and the gate's decision."""
        self.frames_read += 1
        gate = self.gate
        if gate is None or gate.decide(thumbnail(luma_plane(frame)), time.monotonic()):
            self.frames_passed += 1
            return True
        return False

    async def _release(self) -> None:
        track, stop, closed = self._track, self._stop, self._closed
        self._track = self._relay = self._stop = self._closed = None
        if stop is not None:
            stop.set()
        if track is not None:
            track.push(None)  # ends the relay's reader task and every subscriber
        if closed is not None and not closed.done():
            # The reader thread closes the device itself (never close under a read).
            try:
                await asyncio.wait_for(asyncio.shield(closed), self._open_timeout)
            except TimeoutError:
                log.warning("camera thread did not stop in %.0f s", self._open_timeout)


def _call(loop: asyncio.AbstractEventLoop, fn: Callable[..., object], *args: object) -> None:
    """call_soon_threadsafe that tolerates a loop already closed (process exit)."""
    try:
        loop.call_soon_threadsafe(fn, *args)
    except RuntimeError:
        pass
