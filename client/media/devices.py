"""Device failures -> busy / not found / permission denied / unknown, with a sentence.

Pure: no I/O. The camera and audio shells hand in what they caught (the
exception and FFmpeg's captured log lines, or Qt's error state) and get back
a `DeviceError` to raise or report. Only the real texts are matched; where
each comes from is noted beside it and quoted in tests/unit/client/media/test_devices.py.
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


# Substrings of FFmpeg's log lines (lower-cased) that name the reason, most specific first.
# Sources: FFmpeg libavdevice/{v4l2.c,dshow.c,avfoundation.m}; the tests quote the lines.
_CAMERA_LOG_RULES: tuple[tuple[str, str], ...] = (
    # dshow.c, dshow_read_header, after IMediaControl_Run fails (then EIO):
    #   "Could not run graph (sometimes caused by a device already in use by other application)"
    ("already in use by other application", BUSY),
    # dshow.c, dshow_cycle_devices (then EIO):
    #   "Could not find %s device with name [%s] among source devices of type %s."
    ("device with name [", NOT_FOUND),
    # avfoundation.m, avf_read_header (then EIO): "Video device not found", "Invalid device index"
    ("video device not found", NOT_FOUND),
    ("invalid device index", NOT_FOUND),
    # avfoundation.m, add_video_device (then EIO):
    #   "Failed to create AV capture input device: %s" with NSError's localizedDescription,
    #   e.g. "Cannot use FaceTime HD Camera (Built-in)". macOS lets several apps share a
    #   camera, so in practice this is the privacy (TCC) refusal: Terminal or the app was
    #   never allowed the camera.
    ("failed to create av capture input device", PERMISSION_DENIED),
    # strerror() texts inside v4l2.c's "Cannot open video device %s: %s" and
    # "ioctl(VIDIOC_...): %s" lines (the errno is usually on the exception too).
    ("device or resource busy", BUSY),
    ("permission denied", PERMISSION_DENIED),
    ("operation not permitted", PERMISSION_DENIED),
    ("no such file or directory", NOT_FOUND),
    ("no such device", NOT_FOUND),
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
        return DeviceError(CAMERA, UNKNOWN, messages.camera_timeout(platform), detail, platform)
    # errno names the reason on Linux (v4l2 returns AVERROR(errno)); dshow and avfoundation
    # return a bare EIO and say why only in the log.
    code = _ERRNO_CODES.get(getattr(exc, "errno", None) or 0)
    if code is None:
        last = getattr(exc, "log", None)  # PyAV keeps FFmpeg's last error line on the exception
        lines = [*log_lines, str(last[2]) if isinstance(last, tuple) and len(last) > 2 else "", str(exc)]
        code = _match_log(lines, _CAMERA_LOG_RULES) or UNKNOWN
    return DeviceError(CAMERA, code, None, detail, platform)


def classify_microphone_error(
    exc: BaseException | None,
    log_lines: list[str],
    platform: str,
    *,
    qt_error: str | None = None,
    have_inputs: bool = True,
) -> DeviceError:
    """Microphone failure from Qt: no inputs at all, a denied permission, or QAudioSource's error.

    qt_error is the QtAudio.Error name ("OpenError", "IOError", "UnderrunError", "FatalError").
    Qt says no more than that, so audio.py asks QMicrophonePermission first (Denied ->
    a PermissionError here) and an OpenError after a granted permission stays "unknown".
    """
    if isinstance(exc, DeviceError):
        return exc
    parts = [f"{type(exc).__name__}: {exc}"] if exc is not None else []
    if qt_error:
        parts.append(f"QAudioSource error: {qt_error}")
    parts.extend(log_lines)
    detail = "\n".join(parts)
    if not have_inputs:
        detail = detail or "QMediaDevices.audioInputs() is empty"
        return DeviceError(MICROPHONE, NOT_FOUND, None, detail, platform)
    if isinstance(exc, PermissionError):
        return DeviceError(MICROPHONE, PERMISSION_DENIED, None, detail, platform)
    err = getattr(exc, "errno", None)
    if err in _ERRNO_CODES:
        return DeviceError(MICROPHONE, _ERRNO_CODES[err], None, detail, platform)
    return DeviceError(MICROPHONE, UNKNOWN, None, detail, platform)
