"""The camera shell: real PyAV on this machine, and the sharing code with a stand-in device.

This machine has no camera, so:
- not-found is produced for real (PyAV's v4l2 on /dev/video9);
- busy / permission / the Windows and macOS cases go through the real
  `PyAVCamera.open` with `av.open` replaced by a function that logs FFmpeg's
  real line through FFmpeg's own log system and raises the exception exactly
  as PyAV's err_check builds it;
- sharing uses `SyntheticCamera`, a thread-backed stand-in device, behind the
  same `SharedCamera` code as a real one.
"""

from __future__ import annotations

import asyncio
import errno
import os
import threading
from typing import Any, cast

import av
import av.error
import av.logging
import pytest
from aiortc.mediastreams import MediaStreamError

from client import messages
from client.media import camera as camera_module
from client.media.camera import (
    PyAVCamera,
    SharedCamera,
    SyntheticCamera,
    avfoundation_fallback,
    list_cameras,
    open_args,
)
from client.media.devices import DeviceError
from client.media.factory import MediaFactory
from client.media.synthetic import read_pattern
from integration.wsclient import TIMEOUT

MISSING = "/dev/video9"


def test_real_not_found_from_pyav_v4l2() -> None:
    assert not os.path.exists(MISSING)
    cam = PyAVCamera(MISSING, platform="linux")
    with pytest.raises(DeviceError) as info:
        cam.open()
    err = info.value
    assert (err.device, err.code) == ("camera", "not_found")
    assert err.message == messages.CAMERA_NOT_FOUND
    # The raw reason, as PyAV and FFmpeg's v4l2 gave it, is kept for the log.
    assert "No such file or directory" in err.detail
    assert "Cannot open video device /dev/video9" in err.detail
    assert isinstance(err.__cause__, av.error.FileNotFoundError)


async def test_real_not_found_through_the_factory() -> None:
    media = MediaFactory(camera=MISSING, platform="linux")
    try:
        with pytest.raises(DeviceError) as info:
            await asyncio.wait_for(media.open_camera(), TIMEOUT)
        assert info.value.code == "not_found"
        assert not media.camera_is_open and media.camera_opens == 0
    finally:
        await media.close()


def error_class(code: int) -> type[av.error.FFmpegError]:
    """PyAV's exception class for `code`; its stub types `classes` as holding instances."""
    return cast("type[av.error.FFmpegError]", av.error.classes[code])


def _raising_open(code: int, log_name: str, log_line: str) -> Any:
    def fake_open(file: str, format: str | None = None, options: dict[str, str] | None = None) -> None:
        av.logging.log(av.logging.ERROR, log_name, log_line + "\n")  # through FFmpeg's log
        raise error_class(code)(code, os.strerror(code), file)

    return fake_open


@pytest.mark.parametrize(
    ("platform", "device", "code", "log_name", "line", "expected"),
    [
        ("linux", "/dev/video0", errno.EBUSY, "video4linux2,v4l2",
         "Cannot open video device /dev/video0: Device or resource busy", "busy"),
        ("linux", "/dev/video0", errno.EACCES, "video4linux2,v4l2",
         "Cannot open video device /dev/video0: Permission denied", "permission_denied"),
        ("win32", "Integrated Camera", errno.EIO, "dshow",
         "Could not run graph (sometimes caused by a device already in use by other application)", "busy"),
        ("win32", "No Such Cam", errno.EIO, "dshow",
         "Could not find video device with name [No Such Cam] among source devices of type video.",
         "not_found"),
        ("darwin", None, errno.EIO, "avfoundation",
         "Failed to create AV capture input device: Cannot use FaceTime HD Camera (Built-in)",
         "permission_denied"),
    ],
)
def test_injected_pyav_failures_with_ffmpegs_real_log_lines(
    monkeypatch: pytest.MonkeyPatch, platform: str, device: str | None, code: int, log_name: str,
    line: str, expected: str,
) -> None:
    monkeypatch.setattr(camera_module.av, "open", _raising_open(code, log_name, line))
    with pytest.raises(DeviceError) as info:
        PyAVCamera(device, platform=platform).open()
    assert info.value.code == expected
    assert line in info.value.detail  # captured from FFmpeg's log, not passed by hand
    assert info.value.message == messages.device_message("camera", expected, platform)


def test_open_args_per_os() -> None:
    assert open_args(None, "linux", 640, 480, 30) == (
        "/dev/video0", "v4l2", {"video_size": "640x480", "framerate": "30"})
    assert open_args("1", "darwin", 640, 480, 30)[:2] == ("1:none", "avfoundation")
    file, fmt, opts = open_args("Integrated Camera", "win32", 640, 480, 30)
    assert (file, fmt) == ("video=Integrated Camera", "dshow") and opts["rtbufsize"]
    with pytest.raises(DeviceError) as info:
        open_args(None, "win32", 640, 480, 30)
    assert info.value.code == "not_found"


def test_avfoundation_retry_picks_a_supported_mode() -> None:
    # Lines as FFmpeg's avfoundation.m prints them (qTox/qTox#6056).
    lines = [
        "[avfoundation] Selected framerate (29.970030) is not supported by the device.",
        "[avfoundation] Supported modes:",
        "[avfoundation]   1280x720@[1.000000 30.000000]fps",
        "[avfoundation]   640x480@[1.000000 30.000000]fps",
        "[avfoundation]   320x240@[1.000000 30.000000]fps",
    ]
    assert avfoundation_fallback(lines, 640, 480, 30) == {"video_size": "640x480", "framerate": "30.000000"}
    assert avfoundation_fallback(["[avfoundation] Video device not found"], 640, 480, 30) is None


def test_list_cameras_on_linux_is_the_dev_video_nodes() -> None:
    found = list_cameras("linux")
    assert [c.id for c in found] == sorted(
        (p for p in (f"/dev/{n}" for n in os.listdir("/dev")) if p.startswith("/dev/video")),
        key=lambda p: (len(p), p))


async def test_one_device_shared_by_two_calls_then_closed_on_release() -> None:
    devices: list[SyntheticCamera] = []

    def make() -> SyntheticCamera:
        devices.append(SyntheticCamera(320, 240, 30))
        return devices[-1]

    shared = SharedCamera(make, open_timeout=TIMEOUT)
    first = await shared.subscribe()
    second = await shared.subscribe()
    a, b = await asyncio.wait_for(asyncio.gather(first.recv(), second.recv()), TIMEOUT)
    assert isinstance(a, av.VideoFrame) and isinstance(b, av.VideoFrame)
    info_a, info_b = read_pattern(a), read_pattern(b)
    assert info_a is not None and info_b is not None
    assert len(devices) == 1 and shared.opens == 1 and devices[0].is_open

    # The first partner leaves; the next partner gets frames from the same open device.
    first.stop()
    third = await shared.subscribe()
    c = await asyncio.wait_for(third.recv(), TIMEOUT)
    assert isinstance(c, av.VideoFrame)
    info_c = read_pattern(c)
    assert info_c is not None and info_c.sequence > info_a.sequence
    assert len(devices) == 1 and shared.opens == 1

    # Camera off: the device is closed and every subscriber ends.
    await shared.release()
    assert not devices[0].is_open and not shared.is_open
    for track in (second, third):
        with pytest.raises(MediaStreamError):
            await asyncio.wait_for(track.recv(), TIMEOUT)

    # Camera on again: opened afresh.
    fourth = await shared.subscribe()
    assert read_pattern(await asyncio.wait_for(fourth.recv(), TIMEOUT)) is not None
    assert len(devices) == 2 and shared.opens == 2
    await shared.release()
    assert not devices[1].is_open


async def test_unplugged_mid_call_is_reported_not_raised() -> None:
    errors: list[DeviceError] = []
    got_error = asyncio.Event()

    def on_error(err: DeviceError) -> None:
        errors.append(err)
        got_error.set()

    device = SyntheticCamera(160, 120, 30, fail_after=5)
    shared = SharedCamera(lambda: device, open_timeout=TIMEOUT, on_error=on_error)
    track = await shared.subscribe()
    frames = 0
    with pytest.raises(MediaStreamError):
        while True:
            await asyncio.wait_for(track.recv(), TIMEOUT)
            frames += 1
    await asyncio.wait_for(got_error.wait(), TIMEOUT)
    assert frames >= 1
    assert [(e.device, e.code) for e in errors] == [("camera", "not_found")]
    assert errors[0].message == messages.CAMERA_LOST
    assert not device.is_open  # the reader thread closed it
    await shared.release()


async def test_a_device_that_never_answers_times_out_and_is_let_go() -> None:
    unblock = threading.Event()
    closed = threading.Event()

    class Stuck(SyntheticCamera):
        def open(self) -> None:  # like avfoundation waiting for a first frame forever
            unblock.wait(TIMEOUT * 4)
            super().open()

        def close(self) -> None:
            super().close()
            closed.set()

    shared = SharedCamera(lambda: Stuck(160, 120), open_timeout=0.2, platform="darwin")
    with pytest.raises(DeviceError) as info:
        await shared.subscribe()
    assert info.value.code == "unknown"
    assert info.value.message == messages.CAMERA_TIMEOUT_MACOS
    assert shared.opens == 0
    unblock.set()  # it answers after all: the abandoned device is closed, not leaked
    assert await asyncio.to_thread(closed.wait, TIMEOUT)
    await shared.release()


async def test_factory_fake_camera_uses_the_shared_path() -> None:
    media = MediaFactory(fake_media=True, width=320, height=240)
    try:
        one = await media.open_camera()
        two = await media.open_camera()
        assert one is not two
        frame = await asyncio.wait_for(one.recv(), TIMEOUT)
        assert isinstance(frame, av.VideoFrame)
        assert (frame.width, frame.height) == (320, 240) and read_pattern(frame) is not None
        assert media.camera_opens == 1
        await media.release_camera()
        assert not media.camera_is_open
    finally:
        await media.close()


def _write_clip(path: str, frames: int, width: int, height: int) -> None:
    from client.media.synthetic import PatternGenerator

    gen = PatternGenerator(width, height)
    with av.open(path, "w") as out:
        stream = out.add_stream("mjpeg", rate=30)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuvj420p"
        for i in range(frames):
            frame = gen.next_frame(1_760_000_000.0 + i / 30).reformat(format="yuvj420p")
            frame.pts = i
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)


async def test_pyav_camera_frames_then_an_unplug_through_the_shared_path(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any,
) -> None:
    # A 16:9 MJPEG "camera" (what many webcams send) played from a file through the real
    # PyAVCamera: frames are converted to 640-wide yuv420p keeping the aspect ratio, and the
    # end of the stream is reported as the camera going away, not raised into the loop.
    clip = str(tmp_path / "camera.mkv")
    _write_clip(clip, 12, 1280, 720)
    real_open = av.open
    monkeypatch.setattr(camera_module.av, "open", lambda file, format=None, options=None: real_open(clip))
    errors: list[DeviceError] = []
    ended = asyncio.Event()

    def on_error(err: DeviceError) -> None:
        errors.append(err)
        ended.set()

    shared = SharedCamera(lambda: PyAVCamera("/dev/video0", 640, 480, 30, "linux"),
                          open_timeout=TIMEOUT, on_error=on_error)
    track = await shared.subscribe()
    sequences = []
    with pytest.raises(MediaStreamError):
        while True:
            frame = await asyncio.wait_for(track.recv(), TIMEOUT)
            assert isinstance(frame, av.VideoFrame)
            assert (frame.width, frame.height, frame.format.name) == (640, 360, "yuv420p")
            info = read_pattern(frame)
            assert info is not None
            sequences.append(info.sequence)
    await asyncio.wait_for(ended.wait(), TIMEOUT)
    assert sequences and sequences == sorted(sequences)
    assert [(e.code, e.message) for e in errors] == [("not_found", messages.CAMERA_LOST)]
    await shared.release()
