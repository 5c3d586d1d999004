"""Run by test_miniwindow_x11.py in its own process, on the Xvfb display it started with openbox.

The real window (xcb, not offscreen) around the recording engine goes into a call; the script
plays what a person does (another app in front, minimise, drag, come back) and prints one JSON
line of what the X server and the window manager say, for the test to check:
    python -m tests.gui.x11_mini_child OUT_DIR LANGUAGE
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import av
import numpy as np
from PySide6.QtCore import QEvent, QPoint, QPointF, QSettings, Qt
from PySide6.QtGui import QGuiApplication, QMouseEvent
from PySide6.QtWidgets import QApplication, QLabel

from client import events as ev
from client import messages
from client.ui.settings import Settings

from .recording import Harness

WAIT = 20.0


def xprop(*args: str) -> str:
    return subprocess.run(["xprop", *args], capture_output=True, text=True, check=False).stdout


def window_ids(prop: str) -> list[int]:
    """A root window list property (_NET_CLIENT_LIST_STACKING), bottom to top."""
    text = xprop("-root", prop)
    return [int(word.strip(","), 16) for word in text.split("#")[-1].split()] if "#" in text else []


def position(wid: int) -> tuple[int, int]:
    """The window's top left corner on the screen as the X server has it (after the WM's moves)."""
    out = subprocess.run(["xwininfo", "-id", str(wid)], capture_output=True, text=True, check=False).stdout
    values = {line.split(":")[0].strip(): line.split(":")[1].strip() for line in out.splitlines() if ":" in line}
    return int(values["Absolute upper-left X"]), int(values["Absolute upper-left Y"])


async def until(what: str, predicate: Callable[[], Any]) -> None:
    deadline = time.monotonic() + WAIT
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


def picture() -> av.VideoFrame:
    """A partner's picture stand-in: colour bands, so the screenshot shows where it is painted."""
    bands = np.zeros((240, 320, 3), np.uint8)
    for i, colour in enumerate(((200, 80, 60), (60, 160, 90), (70, 110, 200), (220, 190, 70))):
        bands[:, i * 80 : (i + 1) * 80] = colour
    return av.VideoFrame.from_ndarray(bands, format="rgb24")


def drag(widget: Any, by: QPoint) -> None:
    start = widget.phase.geometry().center()
    origin = widget.mapToGlobal(start)
    for kind, offset, buttons in ((QEvent.Type.MouseButtonPress, QPoint(0, 0), Qt.MouseButton.LeftButton),
                                  (QEvent.Type.MouseMove, by, Qt.MouseButton.LeftButton),
                                  (QEvent.Type.MouseButtonRelease, by, Qt.MouseButton.NoButton)):
        glob = origin + offset
        QApplication.sendEvent(widget, QMouseEvent(kind, QPointF(widget.mapFromGlobal(glob)), QPointF(glob),
                                                   Qt.MouseButton.LeftButton, buttons, Qt.KeyboardModifier.NoModifier))


async def scenario(out: Path, report: dict[str, Any]) -> None:
    settings = Settings(QSettings(str(out / "studymatch.ini"), QSettings.Format.IniFormat))
    h = Harness(settings, asyncio.get_running_loop())
    w, mini = h.window, h.window.mini
    other = QLabel("another app: the one the person works in")
    other.setAlignment(Qt.AlignmentFlag.AlignCenter)
    other.setWindowTitle("another app")
    w.show()
    await h.controller.start()
    w.activateWindow()
    await until("the main window active", w.isActiveWindow)
    w.lobby.find_button.click()
    await h.settle()
    h.engine.emit(ev.Matched("s1", True, "video", None))
    now = time.time()
    h.engine.emit(ev.SessionStarted("s1", 50, "talk", now, now + 3000))
    h.engine.emit(ev.SessionPhase("s1", "focus", now + 3000))
    h.engine.emit(ev.PartnerGoal("s1", "Finish the statistics problem set"))
    mini.set_my_goal("Chapter 4 of organic chemistry")
    report["hidden_while_main_active"] = not mini.isVisible()

    w.showMinimized()
    await until("the mini window shown on minimise", mini.isVisible)
    wid = int(mini.winId())
    await until("the mini window mapped", lambda: "_NET_WM_STATE_ABOVE" in xprop("-id", str(wid), "_NET_WM_STATE"))
    report["minimised_shows"] = True
    h.engine.emit(ev.MediaConnected("s1", 300.0))
    h.engine.emit(ev.RemoteVideoFrame("s1", picture()))
    report["net_wm_state"] = xprop("-id", str(wid), "_NET_WM_STATE").strip()
    report["window_type"] = xprop("-id", str(wid), "_NET_WM_WINDOW_TYPE").strip()
    report["main_state"] = xprop("-id", str(int(w.winId())), "_NET_WM_STATE").strip()

    # Another app in front, over the whole screen: the mini window stays above it, unfocused.
    other.setGeometry(QGuiApplication.primaryScreen().availableGeometry())
    other.show()
    other.activateWindow()
    await until("the other app active", other.isActiveWindow)
    await until("the stacking order settled", lambda: window_ids("_NET_CLIENT_LIST_STACKING")[-1:] == [wid])
    report["stacking_top_is_mini"] = True
    report["mini_has_focus"] = QApplication.activeWindow() is mini
    report["net_active_is_mini"] = f"{wid:#x}" in xprop("-root", "_NET_ACTIVE_WINDOW")

    await until("the picture painted", lambda: mini.picture.frames_painted > 0)
    grab = QGuiApplication.primaryScreen().grabWindow(0)
    grab.save(str(out / f"mini-{messages.current_language}.png"))
    # What the screen shows where the picture's green band is: the mini window, above the other app.
    spot = mini.picture.mapToGlobal(QPoint(mini.picture.width() * 3 // 8, mini.picture.height() // 2))
    colour = grab.toImage().pixelColor(spot)
    report["screen_at_picture"] = [colour.red(), colour.green(), colour.blue()]

    start = position(wid)
    drag(mini, QPoint(-400, 200))
    await until("the WM moved it", lambda: position(wid) == (start[0] - 400, start[1] + 200))
    moved = position(wid)
    report["moved_by_drag"] = [start, moved]

    other.hide()
    w.showNormal()
    w.activateWindow()
    await until("hidden when StudyMatch is back", lambda: not mini.isVisible())
    report["hidden_on_return"] = True
    w.showMinimized()
    await until("shown again", mini.isVisible)
    await until("mapped again", lambda: position(wid) == moved)
    report["same_place_again"] = True
    h.engine.emit(ev.CallEnded("s1", 60.0, 0, 0, None))
    await until("hidden at the call's end", lambda: not mini.isVisible())
    report["hidden_on_end"] = True
    await h.controller.shutdown()
    w.close()


def main() -> int:
    out, language = Path(sys.argv[1]), sys.argv[2]
    messages.set_language(language)
    app = QApplication(["studymatch-x11-test"])
    import qasync

    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    report: dict[str, Any] = {"platform": QGuiApplication.platformName()}
    try:
        loop.run_until_complete(asyncio.wait_for(scenario(out, report), 90))
    except Exception as exc:  # the test prints how far it got
        report["error"] = f"{type(exc).__name__}: {exc}"
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
