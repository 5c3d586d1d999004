"""What the mini window decides, without Qt: when it shows and where it goes.

Pure functions of plain values (rectangles as (x, y, width, height)), so the rules are tested
without a screen. Its clock is the call page's (client/ui/clock.py, `session_clock`).
"""

from __future__ import annotations

Rect = tuple[int, int, int, int]  # x, y, width, height


def should_show(*, enabled: bool, in_call: bool, minimised: bool, app_in_front: bool) -> bool:
    """During a call, while StudyMatch's main window is minimised or another app has the focus."""
    return enabled and in_call and (minimised or not app_in_front)


def clamp(x: int, y: int, width: int, height: int, screens: list[Rect]) -> tuple[int, int]:
    """(x, y) moved so the whole window is on a screen: the one holding its centre, else the first
    (a remembered place on a monitor since unplugged lands on the one still there)."""
    if not screens:
        return x, y
    cx, cy = x + width // 2, y + height // 2
    sx, sy, sw, sh = next((s for s in screens if s[0] <= cx < s[0] + s[2] and s[1] <= cy < s[1] + s[3]), screens[0])
    return max(sx, min(x, sx + sw - width)), max(sy, min(y, sy + sh - height))


def corner(width: int, height: int, screen: Rect, margin: int = 24) -> tuple[int, int]:
    """Where it goes the first time: the top right corner of the screen, out of the way."""
    sx, sy, sw, _sh = screen
    return sx + sw - width - margin, sy + margin

