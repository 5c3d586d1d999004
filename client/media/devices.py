"""Device failures -> busy / not found / permission denied / unknown, with a sentence.

Pure: no I/O. The camera and audio shells hand in what they caught (the
exception and FFmpeg's captured log lines, or Qt's error state) and get back
a `DeviceError` to raise or report. Only the real texts are matched; where
each comes from is noted beside it and quoted in tests/unit/test_devices.py.
"""

from __future__ import annotations

import errno as _errno
from collections.abc import Iterable

from client import messages

CAMERA = "camera"
MICROPHONE = "microphone"
BUSY = "busy"
NOT_FOUND = "not_found"
PERMISSION_DENIED = "permission_denied"
UNKNOWN = "unknown"
CODES = (BUSY, NOT_FOUND, PERMISSION_DENIED, UNKNOWN)


class DeviceError(Exception):
    """A camera or microphone could not be used; `message` is for the person, `detail` for logs."""

    def __init__(self, device: str, code: str, message: str | None = None, detail: str = "",
                 platform: str = "linux") -> None:
        if code not in CODES:
            raise ValueError(f"unknown device error code {code!r}")
        self.device = device
        self.code = code
        self.message = message if message is not None else messages.device_message(device, code, platform)
        self.detail = detail
        super().__init__(self.message)

    def __repr__(self) -> str:
        return f"DeviceError({self.device!r}, {self.code!r}, detail={self.detail!r})"


# Substrings of FFmpeg log lines (lower-cased) that name the reason, most specific first.
# v4l2: libavdevice/v4l2.c logs "Cannot open video device %s: %s" and "ioctl(VIDIOC_...): %s"
#   with strerror() text; dshow: libavdevice/dshow.c; avfoundation: libavdevice/avfoundation.m.
_CAMERA_LOG_RULES: tuple[tuple[str, str], ...] = (
    # dshow.c, dshow_read_header: the graph would not run; its own hint says why.
    ("already in use by other application", BUSY),
    # dshow.c, dshow_cycle_devices: no device with that friendly name.
    ("could not find video device with name", NOT_FOUND),
    ("could not find audio only device with name", NOT_FOUND),
    # avfoundation.m: the index or name matched no capture device.
    ("video device not found", NOT_FOUND),
    ("invalid device index", NOT_FOUND),
    # macOS TCC (privacy) refusals as avfoundation reports them.
    ("not authorized", PERMISSION_DENIED),
    ("access denied", PERMISSION_DENIED),
    ("failed to get access", PERMISSION_DENIED),
    # strerror() texts inside v4l2.c's log lines.
    ("device or resource busy", BUSY),
    ("permission denied", PERMISSION_DENIED),
    ("no such file or directory", NOT_FOUND),
    ("no such device", NOT_FOUND),
    # avfoundation.m: AVCaptureDeviceInput failed; macOS says "Cannot use <camera>",
    # which in practice is another app holding the camera.
    ("failed to create av capture input device", BUSY),
)

_ERRNO_CODES = {
    _errno.EBUSY: BUSY,
    _errno.ENOENT: NOT_FOUND,
    _errno.ENODEV: NOT_FOUND,
    _errno.ENXIO: NOT_FOUND,
    _errno.EACCES: PERMISSION_DENIED,
    _errno.EPERM: PERMISSION_DENIED,
}


def _match_log(lines: Iterable[str], rules: tuple[tuple[str, str], ...]) -> str | None:
    text = "\n".join(lines).lower()
    for needle, code in rules:
        if needle in text:
            return code
    return None


def _detail(exc: BaseException, log_lines: list[str]) -> str:
    parts = [f"{type(exc).__module__}.{type(exc).__name__}: {exc}"]
    parts.extend(line.rstrip() for line in log_lines if line.strip())
    return "\n".join(parts)


def classify_camera_error(exc: BaseException, log_lines: list[str], platform: str) -> DeviceError:
    """Turn what opening or reading the camera raised (+ FFmpeg's log) into a DeviceError."""
    if isinstance(exc, DeviceError):
        return exc
    detail = _detail(exc, log_lines)
    if isinstance(exc, TimeoutError) and getattr(exc, "errno", None) is None:
        # Our own open timeout (avfoundation can block forever), not an FFmpeg ETIMEDOUT.
        return DeviceError(CAMERA, UNKNOWN, messages.CAMERA_TIMEOUT, detail, platform)
    code = None
    err = getattr(exc, "errno", None)
    # EIO (dshow, v4l2) and generic errors carry no reason: the log has it.
    if err in _ERRNO_CODES:
        code = _ERRNO_CODES[err]
    log_code = _match_log(log_lines, _CAMERA_LOG_RULES)
    if log_code is not None and (code is None or (code == NOT_FOUND and log_code != NOT_FOUND)):
        # The log is more specific than the errno (e.g. avfoundation: ENOENT-ish errno, log says busy).
        code = log_code
    if code is None:
        code = _match_log([str(exc)], _CAMERA_LOG_RULES) or UNKNOWN
    return DeviceError(CAMERA, code, None, detail, platform)


def classify_microphone_error(
    exc: BaseException | None,
    log_lines: list[str],
    platform: str,
    *,
    qt_error: str | None = None,
    have_inputs: bool = True,
) -> DeviceError:
    """Microphone failure from Qt: no inputs at all, or QAudioSource's QtAudio.Error name.

    qt_error is the enum's name ("OpenError", "IOError", "UnderrunError", "FatalError").
    Qt gives no reason beyond that; an OpenError on macOS / Windows is nearly always
    the privacy switch, on Linux a busy or vanished device.
    """
    if isinstance(exc, DeviceError):
        return exc
    parts = [f"{type(exc).__name__}: {exc}"] if exc is not None else []
    if qt_error:
        parts.append(f"QAudioSource error: {qt_error}")
    parts.extend(log_lines)
    detail = "\n".join(parts)
    if not have_inputs:
        return DeviceError(MICROPHONE, NOT_FOUND, None, detail or "QMediaDevices.audioInputs() is empty",
                           platform)
    err = getattr(exc, "errno", None)
    if err in _ERRNO_CODES:
        return DeviceError(MICROPHONE, _ERRNO_CODES[err], None, detail, platform)
    log_code = _match_log([*log_lines, str(exc or "")], _CAMERA_LOG_RULES)
    if log_code is not None:
        return DeviceError(MICROPHONE, log_code, None, detail, platform)
    if qt_error == "OpenError":
        code = PERMISSION_DENIED if platform.startswith(("darwin", "win")) else BUSY
        return DeviceError(MICROPHONE, code, None, detail, platform)
    return DeviceError(MICROPHONE, UNKNOWN, None, detail, platform)
