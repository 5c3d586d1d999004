"""The background effect's pure core and its reader-thread shell, on a synthetic person."""

from __future__ import annotations

import av
import cv2
import numpy as np
import pytest

from client.media.backdrop import (
    PLAIN_COLOUR_BGR,
    Backdrop,
    Face,
    FaceMemory,
    MaskSmoother,
    composite,
    person_mask,
)
from client.media.effects import BackgroundEffect, EffectSource, FaceDetector
from client.media.synthscene import PersonScene


def edge_energy(img: np.ndarray, where: np.ndarray) -> float:
    grey = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    lap = cv2.Laplacian(grey, cv2.CV_32F)
    return float(np.mean(np.abs(lap[where])))


def regions(truth: np.ndarray, margin: int = 12) -> tuple[np.ndarray, np.ndarray]:
    """Well inside the person and well outside: the feathered edge between is neither."""
    kernel = np.ones((2 * margin + 1, 2 * margin + 1), np.uint8)
    t = truth.astype(np.uint8)
    inside = cv2.erode(t, kernel) > 0
    outside = cv2.dilate(t, kernel) == 0
    return inside, outside


def test_blur_keeps_the_person_sharp_and_blurs_the_room() -> None:
    scene = PersonScene()
    frame, truth = scene.frame(0), scene.truth(0)
    inside, outside = regions(truth)
    out = composite(frame, truth.astype(np.float32), Backdrop.BLUR)
    assert edge_energy(out, inside) >= 0.95 * edge_energy(frame, inside)
    assert edge_energy(out, outside) <= 0.25 * edge_energy(frame, outside)


def test_blur_with_the_mask_drawn_from_the_real_detector() -> None:
    scene = PersonScene()
    frame, truth = scene.frame(0), scene.truth(0)
    faces = FaceDetector().detect(frame)
    assert len(faces) == 1
    mask = person_mask(frame.shape[0], frame.shape[1], faces)
    inside, outside = regions(truth, margin=40)  # the face-anchored shape is a guess around the person
    out = composite(frame, mask, Backdrop.BLUR)
    assert edge_energy(out, inside) >= 0.8 * edge_energy(frame, inside)
    assert edge_energy(out, outside) <= 0.35 * edge_energy(frame, outside)
    # Most of the person is kept, most of the room is not.
    assert mask[truth].mean() > 0.85
    assert mask[outside].mean() < 0.15


def test_plain_colour_paints_the_room() -> None:
    scene = PersonScene()
    frame, truth = scene.frame(0), scene.truth(0)
    inside, outside = regions(truth)
    out = composite(frame, truth.astype(np.float32), Backdrop.COLOUR)
    assert np.abs(out[outside].astype(int) - PLAIN_COLOUR_BGR).max() <= 1
    assert np.array_equal(out[inside], frame[inside])


def test_none_leaves_the_frame_alone() -> None:
    frame = PersonScene().frame(0)
    assert composite(frame, np.zeros(frame.shape[:2], np.float32), Backdrop.NONE) is frame


def test_a_small_mask_is_scaled_to_the_frame() -> None:
    frame = PersonScene().frame(0)
    out = composite(frame, np.ones((120, 160), np.float32), Backdrop.BLUR)
    assert out.shape == frame.shape
    assert np.abs(out.astype(int) - frame).max() <= 1


def test_no_face_means_nothing_is_kept_sharp() -> None:
    assert not person_mask(120, 160, []).any()


def test_mask_is_soft_and_below_the_face() -> None:
    mask = person_mask(480, 640, [Face(270, 100, 100, 100)])
    assert 0.0 <= mask.min() and mask.max() <= 1.0
    assert mask[150, 320] > 0.99  # the face
    assert mask[470, 320] > 0.99  # the chest, down to the frame's edge
    assert mask[20, 20] == 0.0 and mask[150, 40] == 0.0  # the room beside the head
    edge = mask[150, 320 - 100:320 - 40]
    assert ((edge > 0.05) & (edge < 0.95)).any()  # feathered, not cut out


def test_smoother_grows_fast_and_shrinks_slowly() -> None:
    smoother = MaskSmoother(grow=0.08, shrink=0.35)
    zero, one = np.zeros((4, 4), np.float32), np.ones((4, 4), np.float32)
    assert smoother.update(zero, 0.0).max() == 0.0
    grown = float(smoother.update(one, 0.1).mean())
    assert 0.6 < grown < 0.8  # 1 - e^(-0.1/0.08)
    for t in (0.2, 0.3, 0.4, 0.5):
        smoother.update(one, t)
    shrunk = float(smoother.update(zero, 0.6).mean())
    assert shrunk > 0.7  # one tenth of a second later, most of the person is still there


def test_face_memory_holds_then_forgets() -> None:
    memory = FaceMemory(hold=1.0)
    face = Face(1, 2, 3, 4)
    assert memory.update([face], 0.0) == (face,)
    assert memory.update([], 0.9) == (face,)  # a missed detection does not blink the mask
    assert memory.update([], 1.1) == ()


def test_backdrop_parse() -> None:
    assert Backdrop.parse("blur") is Backdrop.BLUR
    assert Backdrop.parse("colour") is Backdrop.COLOUR
    assert Backdrop.parse("sparkles") is Backdrop.NONE


class SceneSource:
    """A CameraSource of the synthetic scene without pacing (the shell's tests need no clock)."""

    def __init__(self) -> None:
        self.scene = PersonScene()
        self.seq = 0
        self.opened = self.closed = False

    def open(self) -> None:
        self.opened = True

    def read(self) -> av.VideoFrame:
        frame = av.VideoFrame.from_ndarray(self.scene.frame(self.seq), format="bgr24").reformat(format="yuv420p")
        frame.pts = self.seq
        self.seq += 1
        return frame

    def close(self) -> None:
        self.closed = True


def test_effect_source_blurs_in_the_reader_and_follows_the_switch() -> None:
    effect = BackgroundEffect(Backdrop.BLUR)
    inner = SceneSource()
    ticks = iter(i / 30 for i in range(100))
    source = EffectSource(inner, effect, clock=lambda: next(ticks))
    source.open()
    assert inner.opened
    for _ in range(12):
        out = source.read()
    truth = inner.scene.truth(inner.seq - 1)
    plain = inner.scene.frame(inner.seq - 1)
    _, outside = regions(truth, margin=40)
    got = out.to_ndarray(format="bgr24")
    assert out.format.name == "yuv420p" and out.pts == inner.seq - 1
    assert edge_energy(got, outside) <= 0.4 * edge_energy(plain, outside)
    effect.set(Backdrop.NONE)
    passed = source.read()
    assert passed.format.name == "yuv420p"
    got = passed.to_ndarray(format="bgr24")
    # Off again: the room's detail is back (only yuv420p's rounding differs).
    assert edge_energy(got, outside) >= 0.8 * edge_energy(inner.scene.frame(inner.seq - 1), outside)
    source.close()
    assert inner.closed


@pytest.mark.parametrize("broken", ["missing", "corrupt"])
def test_a_detector_that_cannot_load_leaves_the_camera_on_and_says_so(tmp_path, broken: str) -> None:
    path = tmp_path / "haarcascade_frontalface_default.xml"
    if broken == "corrupt":
        path.write_text("<opencv_storage><cascade>not a cascade</cascade></opencv_storage>")
    reasons: list[str] = []
    reported: list[str] = []
    effect = BackgroundEffect(Backdrop.BLUR, on_unavailable=reasons.append, cascade_path=str(path))

    def report(callback, reason: str) -> None:
        reported.append(reason)
        callback(reason)

    inner = SceneSource()
    source = EffectSource(inner, effect, report)
    frames = [source.read() for _ in range(3)]
    # Frames go through unchanged (the camera stays on) and the failure is told once, not per frame.
    assert all(f.format.name == "yuv420p" for f in frames)
    plain = SceneSource().read().to_ndarray(format="bgr24")
    assert np.array_equal(frames[0].to_ndarray(format="bgr24"), plain)
    assert len(reasons) == 1 and reasons == reported
    assert str(path) in reasons[0]
    assert effect.unavailable == reasons[0]


def test_the_detector_follows_a_face_it_has_seen_by_looking_near_it() -> None:
    scene = PersonScene(sway=40)
    detector = FaceDetector()
    last = tuple(detector.detect(scene.frame(0)))
    assert len(last) == 1
    for seq in range(5, 60, 5):
        faces = detector.detect(scene.frame(seq), last)
        assert len(faces) == 1, seq
        cx = faces[0].x + faces[0].w / 2
        assert abs(cx - scene.centre(seq)[0]) < 0.15 * faces[0].w
        last = tuple(faces)
    # Nobody near the last face: nothing found there (the whole-frame rescan finds people elsewhere).
    assert detector.detect(scene.frame(0), (Face(0, 0, 60, 60),)) == []
