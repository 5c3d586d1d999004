"""The partner's shared screen in the call view: fitted to the window, or at actual size (pure).

A click on the fitted picture shows it at actual size, scrolled so the point clicked stays under
the pointer (text is read where one looks); a click on the actual-size picture fits it again.
Sizes are in the window's logical pixels; `ratio` is the screen's device pixel ratio, so that
"actual size" means one frame pixel per device pixel.
"""

from __future__ import annotations

import math


def actual_size(frame_w: int, frame_h: int, ratio: float = 1.0) -> tuple[int, int]:
    """The picture at one frame pixel per device pixel, in logical pixels."""
    return math.ceil(frame_w / ratio), math.ceil(frame_h / ratio)


def _clamp(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


def zoom_scroll(click: tuple[float, float], frame: tuple[int, int], view: tuple[int, int],
                ratio: float = 1.0) -> tuple[int, int]:  # fmt: skip
    """Where to scroll the actual-size picture after a click at `click` on the fitted one."""
    (x, y), (fw, fh), (vw, vh) = click, frame, view
    if fw <= 0 or fh <= 0 or vw <= 0 or vh <= 0:
        return 0, 0
    scale = min(vw / fw, vh / fh)
    left, top = (vw - fw * scale) / 2, (vh - fh * scale) / 2
    # The frame pixel under the pointer (a click on the black bars: the nearest edge).
    u = _clamp((x - left) / scale, 0, fw)
    v = _clamp((y - top) / scale, 0, fh)
    aw, ah = actual_size(fw, fh, ratio)
    sx = _clamp(u / ratio - x, 0, max(0, aw - vw))
    sy = _clamp(v / ratio - y, 0, max(0, ah - vh))
    return round(sx), round(sy)

