"""Zooming into the partner's shared screen: the point clicked stays under the pointer."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from client.ui.screenzoom import actual_size, zoom_scroll


def test_actual_size_is_one_frame_pixel_per_device_pixel() -> None:
    assert actual_size(1920, 1080) == (1920, 1080)
    assert actual_size(1920, 1080, 2.0) == (960, 540)
    assert actual_size(1281, 721, 2.0) == (641, 361)


def test_a_click_in_the_middle_zooms_into_the_middle() -> None:
    # 1920x1080 fitted into 960x540 (scale 0.5, no bars): the centre stays the centre.
    assert zoom_scroll((480, 270), (1920, 1080), (960, 540)) == (480, 270)


def test_a_click_at_a_corner_shows_that_corner() -> None:
    assert zoom_scroll((0, 0), (1920, 1080), (960, 540)) == (0, 0)
    assert zoom_scroll((960, 540), (1920, 1080), (960, 540)) == (960, 540)


def test_a_click_on_the_black_bars_takes_the_nearest_edge() -> None:
    # 1280x720 in a 640x640 view: fitted 640x360 with 140 px bars above and below.
    assert zoom_scroll((320, 10), (1280, 720), (640, 640)) == (320, 0)
    assert zoom_scroll((320, 630), (1280, 720), (640, 640)) == (320, 80)


def test_a_picture_smaller_than_the_view_does_not_scroll() -> None:
    assert zoom_scroll((100, 100), (320, 240), (800, 600)) == (0, 0)


def test_nothing_to_show_scrolls_nowhere() -> None:
    assert zoom_scroll((5, 5), (0, 0), (800, 600)) == (0, 0)
    assert zoom_scroll((5, 5), (1920, 1080), (0, 0)) == (0, 0)


@given(st.integers(2, 4000), st.integers(2, 4000), st.integers(1, 3000), st.integers(1, 3000),
       st.floats(0, 1), st.floats(0, 1), st.sampled_from([1.0, 1.25, 2.0]))
def test_the_point_clicked_stays_under_the_pointer_when_it_can(fw, fh, vw, vh, fx, fy, ratio) -> None:
    x, y = fx * vw, fy * vh
    sx, sy = zoom_scroll((x, y), (fw, fh), (vw, vh), ratio)
    aw, ah = actual_size(fw, fh, ratio)
    assert 0 <= sx <= max(0, aw - vw) and 0 <= sy <= max(0, ah - vh)
    scale = min(vw / fw, vh / fh)
    left, top = (vw - fw * scale) / 2, (vh - fh * scale) / 2
    u, v = (x - left) / scale, (y - top) / scale  # the frame pixel clicked
    if 0 <= u <= fw and 0 <= v <= fh:
        want_x, want_y = u / ratio - x, v / ratio - y
        if 0 <= want_x <= aw - vw:
            assert abs(sx - want_x) <= 0.5 + 1e-6
        if 0 <= want_y <= ah - vh:
            assert abs(sy - want_y) <= 0.5 + 1e-6
