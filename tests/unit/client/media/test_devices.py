"""Device failures -> busy / not_found / permission_denied / unknown, from the real texts.

Every exception is built the way PyAV's `av.error.err_check` builds it:
`av.error.classes[code](code, message, filename, log)`, with `message` from
FFmpeg's av_strerror (the OS's strerror for errno codes). Every log line is
quoted from FFmpeg's libavdevice sources or from a user report, named beside it.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from typing import cast

import av.error
import pytest

from client import messages
from client.media.devices import (
    BUSY,
    NOT_FOUND,
    PERMISSION_DENIED,
    UNKNOWN,
    DeviceError,
    classify_camera_error,
    classify_microphone_error,
)

PyAVErrorClass = Callable[[int, str, str, tuple[int, str, str] | None], Exception]


def pyav_error(code: int, filename: str, log: tuple[int, str, str] | None = None) -> Exception:
    """The exception PyAV raises for a negative AVERROR(code) from avformat_open_input."""
    # Cast: PyAV's stub types `classes` as holding instances, and `log` as get_last_error()'s
    # (count, line) pair; at runtime they are classes and the line (level, name, message) itself.
    cls = cast(PyAVErrorClass, av.error.classes.get(code, av.error.UndefinedError))
    exc = cls(code, os.strerror(code), filename, log)
    assert isinstance(exc, av.error.FFmpegError)
    return exc


# (platform, errno, filename, FFmpeg log lines, expected code)
CASES = [
    # v4l2.c device_open: av_log(ctx, AV_LOG_ERROR, "Cannot open video device %s: %s\n", ...)
    # then return AVERROR(errno). ENOENT is reproduced for real in tests/integration/client/media/test_camera.py.
    ("linux", errno.ENOENT, "/dev/video9",
     ["[video4linux2,v4l2] Cannot open video device /dev/video9: No such file or directory"], NOT_FOUND),
    ("linux", errno.EBUSY, "/dev/video0",
     ["[video4linux2,v4l2] Cannot open video device /dev/video0: Device or resource busy"], BUSY),
    # v4l2.c mmap_init: "ioctl(VIDIOC_REQBUFS): %s" when another process is streaming.
    ("linux", errno.EBUSY, "/dev/video0", ["[video4linux2,v4l2] ioctl(VIDIOC_REQBUFS): Device or resource busy"],
     BUSY),
    ("linux", errno.EACCES, "/dev/video0",
     ["[video4linux2,v4l2] Cannot open video device /dev/video0: Permission denied"], PERMISSION_DENIED),
    ("linux", errno.ENODEV, "/dev/video0", [], NOT_FOUND),
    ("linux", errno.EIO, "/dev/video0", [], UNKNOWN),
    # dshow.c dshow_read_header: "Could not run graph (sometimes caused by a device already in use
    # by other application)\n", then AVERROR(EIO). Real output quoted in user projects:
    #   "[dshow @ 000001ee0b315840] Could not run graph (sometimes caused by a device already in use
    #    by other application)" / "[in#0 @ ...] Error opening input: I/O error"
    ("win32", errno.EIO, "video=FHD Camera",
     ["[dshow] Could not run graph (sometimes caused by a device already in use by other application)"], BUSY),
    # dshow.c dshow_cycle_devices: "Could not find %s device with name [%s] among source devices of
    # type %s.\n", then AVERROR(EIO). Real: "[dshow @ 0000019cfc3a5140] Could not find video device
    # with name [No Such Cam] among source devices of type video."
    ("win32", errno.EIO, "video=No Such Cam",
     ["[dshow] Could not find video device with name [No Such Cam] among source devices of type video."],
     NOT_FOUND),
    ("win32", errno.EIO, "video=FHD Camera", [], UNKNOWN),
    # avfoundation.m add_video_device: "Failed to create AV capture input device: %s\n" with the
    # NSError's localizedDescription; real report (KhaosT/homebridge-camera-isight#27):
    #   "Failed to create AV capture input device: Cannot use FaceTime HD Camera (Built-in)"
    # avf_read_header then returns AVERROR(EIO).
    ("darwin", errno.EIO, "0:none",
     ["[avfoundation] Failed to create AV capture input device: Cannot use FaceTime HD Camera (Built-in)"],
     PERMISSION_DENIED),
    # avfoundation.m avf_read_header: "Video device not found\n" / "Invalid device index\n".
    ("darwin", errno.EIO, "Logitech:none", ["[avfoundation] Video device not found"], NOT_FOUND),
    ("darwin", errno.EIO, "7:none", ["[avfoundation] Invalid device index"], NOT_FOUND),
    # avfoundation.m configure_video_device; real (qTox/qTox#6056):
    #   "[avfoundation @ 0x...] Selected framerate (29.970030) is not supported by the device."
    # Not a device fault: camera.py retries with a supported mode; if that fails too, unknown.
    ("darwin", errno.EIO, "0:none",
     ["[avfoundation] Selected framerate (29.970030) is not supported by the device.",
      "[avfoundation] Supported modes:", "[avfoundation]   1280x720@[1.000000 30.000000]fps"], UNKNOWN),
]


@pytest.mark.parametrize(("platform", "code", "filename", "log_lines", "expected"), CASES)
def test_camera_classification(platform: str, code: int, filename: str, log_lines: list[str],
                               expected: str) -> None:
    exc = pyav_error(code, filename)
    err = classify_camera_error(exc, log_lines, platform)
    assert (err.device, err.code) == ("camera", expected)
    assert err.message == messages.device_message("camera", expected, platform)
    assert os.strerror(code) in err.detail  # the raw text is kept for logs
    for line in log_lines:
        assert line in err.detail


def test_pyav_last_error_log_on_the_exception_is_used() -> None:
    # With FFmpeg logging on, PyAV attaches the last error line as exc.log (see av/error.py).
    log = (16, "dshow", "Could not run graph (sometimes caused by a device already in use by other application)\n")
    exc = pyav_error(errno.EIO, "video=Cam", log)
    assert classify_camera_error(exc, [], "win32").code == BUSY


def test_our_open_timeout_is_unknown_with_an_os_specific_sentence() -> None:
    mac = classify_camera_error(TimeoutError("camera open timed out"), [], "darwin")
    assert mac.code == UNKNOWN and "Privacy & Security > Camera" in mac.message
    linux = classify_camera_error(TimeoutError("camera open timed out"), [], "linux")
    assert linux.code == UNKNOWN and linux.message == messages.CAMERA_TIMEOUT


def test_an_existing_device_error_passes_through() -> None:
    err = DeviceError("camera", BUSY, detail="x")
    assert classify_camera_error(err, ["Video device not found"], "darwin") is err


@pytest.mark.parametrize(
    ("platform", "hint"),
    [
        ("darwin", "System Settings > Privacy & Security > Camera"),
        ("win32", "Settings > Privacy > Camera"),
        ("linux", "video group"),
    ],
)
def test_permission_sentence_says_where_to_allow_the_camera(platform: str, hint: str) -> None:
    err = classify_camera_error(pyav_error(errno.EACCES, "/dev/video0"), [], platform)
    assert err.code == PERMISSION_DENIED
    assert hint in err.message and "audio only" in err.message


def test_every_camera_sentence_offers_a_way_forward() -> None:
    for code in (BUSY, NOT_FOUND, PERMISSION_DENIED, UNKNOWN):
        for platform in ("linux", "darwin", "win32"):
            text = messages.device_message("camera", code, platform)
            assert "try again" in text.lower() and "audio only" in text, (code, platform)
            assert "{" not in text
    assert "another application" in messages.device_message("camera", BUSY, "linux")
    assert "No camera was found" in messages.device_message("camera", NOT_FOUND, "linux")


def test_microphone_no_inputs_is_not_found() -> None:
    err = classify_microphone_error(None, [], "linux", have_inputs=False)
    assert (err.device, err.code) == ("microphone", NOT_FOUND)
    assert err.message == messages.MICROPHONE_NOT_FOUND
    assert "QMediaDevices.audioInputs() is empty" in err.detail


@pytest.mark.parametrize(
    ("platform", "hint"),
    [
        ("darwin", "System Settings > Privacy & Security > Microphone"),
        ("win32", "Settings > Privacy > Microphone"),
        ("linux", "audio group"),
    ],
)
def test_microphone_permission(platform: str, hint: str) -> None:
    err = classify_microphone_error(PermissionError("microphone permission denied"), [], platform)
    assert err.code == PERMISSION_DENIED and hint in err.message


def test_microphone_qt_open_error_is_unknown_and_keeps_the_qt_name() -> None:
    err = classify_microphone_error(None, [], "linux", qt_error="OpenError")
    assert err.code == UNKNOWN and "OpenError" in err.detail
    assert err.message == messages.MICROPHONE_UNKNOWN


def test_microphone_busy_from_errno() -> None:
    err = classify_microphone_error(OSError(errno.EBUSY, os.strerror(errno.EBUSY)), [], "linux")
    assert err.code == BUSY and "another application" in err.message


def test_unknown_code_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown device error code"):
        DeviceError("camera", "exploded")
