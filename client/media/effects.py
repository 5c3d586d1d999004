"""Background effects in the camera's reader thread: the I/O shell around client/media/backdrop.py.

`EffectSource` wraps any `CameraSource` (the real device or the synthetic one), so every frame
is changed in the thread that reads it (client/media/camera.py), before the shared relay hands
it to the lobby preview, the self-view and every call: what the person sees of themselves is
what the partner gets. The event loop never touches a pixel.

`BackgroundEffect` is the one switch, set from the loop and read by the thread (a single
attribute, replaced whole). The face detector is OpenCV's bundled Haar cascade, loaded on first
use in the thread; when it cannot load, frames go through unchanged and `on_unavailable` is
called once, on the loop, so the window can say so.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import av
import numpy as np

from client.media.backdrop import (
    MASK_SCALE,
    PLAIN_COLOUR_BGR,
    Backdrop,
    Face,
    FaceMemory,
    MaskSmoother,
    composite_yuv420,
    person_mask,
)
from client.media.camera import CameraSource

log = logging.getLogger(__name__)

DETECT_EVERY = 5  # frames: 6 face detections a second at 30 fps; the smoother fills the gaps
DETECT_WIDTH = 320  # a whole-frame scan sees a half-size grey copy (faces at webcam distance stay > 60 px)
NEAR_FACE_SIZE = 64  # px: around the last face, the detector looks for it at about this size
RESCAN_EVERY = 6  # detections: a whole-frame scan at least once a second, for a second person
CASCADE = "haarcascade_frontalface_default.xml"


class DetectorUnavailable(Exception):
    """The face detector could not be loaded: the effect cannot run."""


def default_cascade_path() -> str:
    import cv2

    return str(cv2.data.haarcascades) + CASCADE  # type: ignore[attr-defined]  # the wheel's, not in the stubs


class FaceDetector:
    """OpenCV's Haar face detector on a small grey copy of the frame."""

    def __init__(self, path: str | None = None) -> None:
        try:
            import cv2
        except ImportError as exc:
            raise DetectorUnavailable(f"OpenCV is not installed: {exc}") from exc
        self._cv2 = cv2
        # One thread: OpenCV's own pool cost 40 % more CPU for the same composite (3.8 vs 2.7 ms a
        # frame, measured on 2 cores) and competes with the VP8 encoder. StudyMatch uses OpenCV
        # only here, so the process-wide setting is ours to make.
        cv2.setNumThreads(1)
        path = path or default_cascade_path()
        try:
            self._cascade = cv2.CascadeClassifier(path)
        except (cv2.error, SystemError) as exc:  # a broken XML file raises SystemError (OpenCV 4.14)
            raise DetectorUnavailable(f"the face detector in {path} is broken: {exc}") from exc
        if self._cascade.empty():  # a missing or broken file loads as an empty classifier
            raise DetectorUnavailable(f"no face detector in {path}")

    def detect(self, image: Any, near: tuple[Face, ...] = ()) -> list[Face]:
        """Faces in a grey (or BGR) image. With `near` (the last faces found), only around them and at about
        their size: a fraction of a whole-frame scan, since a person at a desk barely moves."""
        grey = image if image.ndim == 2 else self._cv2.cvtColor(image, self._cv2.COLOR_BGR2GRAY)
        if near:
            found: list[Face] = []
            for face in near:
                found.extend(self._around(grey, face))
            return found
        return self._scan(grey, 0, 0, DETECT_WIDTH / max(1, grey.shape[1]), (30, 30), None)

    def _around(self, grey: Any, face: Face) -> list[Face]:
        h, w = grey.shape[:2]
        x0, y0 = max(0, face.x - face.w // 2), max(0, face.y - face.h // 2)
        x1, y1 = min(w, face.x + face.w * 3 // 2), min(h, face.y + face.h * 3 // 2)
        scale = min(1.0, NEAR_FACE_SIZE / max(1, face.w))  # the face at ~NEAR_FACE_SIZE px
        lo, hi = round(0.7 * face.w * scale), round(1.4 * face.w * scale)
        return self._scan(grey[y0:y1, x0:x1], x0, y0, scale, (lo, lo), (hi, hi))

    def _scan(self, grey: Any, ox: int, oy: int, scale: float, least: tuple[int, int],
              most: tuple[int, int] | None) -> list[Face]:
        cv2 = self._cv2
        h, w = grey.shape[:2]
        if h < 8 or w < 8:
            return []
        small = cv2.resize(grey, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
        found = self._cascade.detectMultiScale(cv2.equalizeHist(small), scaleFactor=1.15, minNeighbors=4, minSize=least,
                                               maxSize=most or (0, 0))
        return [Face(ox + round(x / scale), oy + round(y / scale), round(fw / scale), round(fh / scale))
                for (x, y, fw, fh) in found]


class BackgroundEffect:
    """The effect the person chose, shared by the window (writes) and the camera thread (reads)."""

    def __init__(self, backdrop: Backdrop = Backdrop.NONE,
                 on_unavailable: Callable[[str], None] | None = None,
                 cascade_path: str | None = None) -> None:
        self.backdrop = backdrop
        self.on_unavailable = on_unavailable  # called on the loop with the reason, once
        self.cascade_path = cascade_path  # None: OpenCV's bundled cascade (tests point it elsewhere)
        self.unavailable: str | None = None  # why the effect cannot run, once known
        self._lock = threading.Lock()

    def set(self, backdrop: Backdrop) -> None:
        self.backdrop = backdrop

    def mark_unavailable(self, reason: str) -> bool:
        """Record the failure; True the first time only (one sentence per run, not per frame)."""
        with self._lock:
            first = self.unavailable is None
            self.unavailable = reason
        return first


class EffectSource:
    """A CameraSource whose frames carry the chosen background effect; runs in the reader thread."""

    def __init__(self, inner: CameraSource, effect: BackgroundEffect,
                 report: Callable[[Callable[[str], None], str], None] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        """report(callback, reason): hands the failure to the loop (call_soon_threadsafe)."""
        self._inner = inner
        self._effect = effect
        self._report = report
        self._clock = clock
        self._detector: FaceDetector | None = None
        self._faces = FaceMemory()
        self._smoother = MaskSmoother()
        self._count = 0
        self._detections = 0
        self._target: Any = None  # the mask the smoother moves towards, from the last detection

    def open(self) -> None:
        self._inner.open()

    def close(self) -> None:
        self._inner.close()

    def read(self) -> av.VideoFrame:
        frame = self._inner.read()
        backdrop = self._effect.backdrop
        if backdrop is Backdrop.NONE or self._effect.unavailable is not None:
            self._count = 0  # turned back on: detect on the first frame again
            return frame
        detector = self._load()
        if detector is None:
            return frame
        return self.apply(frame, detector, backdrop)

    def _load(self) -> FaceDetector | None:
        if self._detector is None:
            try:
                self._detector = FaceDetector(self._effect.cascade_path)
            except DetectorUnavailable as exc:
                reason = str(exc)
                log.warning("background effect off: %s", reason)
                callback = self._effect.on_unavailable
                if self._effect.mark_unavailable(reason) and callback is not None and self._report:
                    self._report(callback, reason)
                return None
        return self._detector

    def apply(self, frame: av.VideoFrame, detector: FaceDetector, backdrop: Backdrop) -> av.VideoFrame:
        if frame.format.name != "yuv420p":
            frame = frame.reformat(format="yuv420p")
        yuv = frame.to_ndarray(format="yuv420p")
        h, w = frame.height, frame.width
        now = self._clock()
        if self._count % DETECT_EVERY == 0:
            near = self._faces.last if self._detections % RESCAN_EVERY else ()
            self._detections += 1
            faces = self._faces.update(detector.detect(yuv[:h], near), now)  # the Y plane is grey
            small = [Face(f.x // MASK_SCALE, f.y // MASK_SCALE, f.w // MASK_SCALE, f.h // MASK_SCALE)
                     for f in faces]
            self._target = person_mask(h // MASK_SCALE, w // MASK_SCALE, small)
        self._count += 1
        mask = self._smoother.update(self._target, now)
        out = av.VideoFrame.from_ndarray(composite_yuv420(yuv, mask, backdrop, plain_colour_yuv()),
                                         format="yuv420p")
        out.pts = frame.pts
        if frame.time_base is not None:
            out.time_base = frame.time_base
        return out


@functools.cache
def plain_colour_yuv() -> tuple[int, int, int]:
    """PLAIN_COLOUR_BGR as PyAV's own conversion writes it in yuv420p (so it matches exactly)."""
    patch = np.empty((2, 2, 3), np.uint8)
    patch[:] = PLAIN_COLOUR_BGR
    yuv = av.VideoFrame.from_ndarray(patch, format="bgr24").reformat(format="yuv420p").to_ndarray()
    return int(yuv[0, 0]), int(yuv[2, 0]), int(yuv[2, 1])


def with_background(make: Callable[[], CameraSource], effect: BackgroundEffect) -> Callable[[], CameraSource]:
    """A source factory whose sources carry the effect. Called on the loop (SharedCamera._open),
    so the loop is known here and a failure found in the reader thread is reported on it."""

    def make_with_effect() -> CameraSource:
        loop = asyncio.get_running_loop()

        def report(callback: Callable[[str], None], reason: str) -> None:
            with contextlib.suppress(RuntimeError):  # the loop already closed (exit)
                loop.call_soon_threadsafe(callback, reason)

        return EffectSource(make(), effect, report)

    return make_with_effect
