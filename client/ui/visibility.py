"""Whether the person can see the main window at all: nothing is spent on a picture nobody sees.

`seen()` is the rule (pure); `WindowSight` watches the window and says when the answer changes.
While the window is minimised, hidden, or not exposed, the call's pictures convert and paint
nothing (client/ui/widgets/video.py keeps only the latest frame, painted when seen again) and
the lobby's camera preview stops. The mini window (client/ui/miniwindow.py) shows the partner
small meanwhile.

"Covered" is what the platform reports through QWindow.isExposed(): macOS (window occlusion)
and Wayland compositors say so for a window fully covered by another; X11 and Windows report
only minimised or unmapped windows, so there a covered window still paints.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Signal
from PySide6.QtWidgets import QWidget


def seen(*, visible: bool, minimised: bool, exposed: bool) -> bool:
    return visible and not minimised and exposed


class WindowSight(QObject):
    changed = Signal(bool)  # the window can be seen (True) or not

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self._window = window
        self._handle: QObject | None = None
        # Until the platform says otherwise, as the widgets start: seen. (A window just shown is
        # not exposed yet for a moment; that is not "covered".)
        self._exposed = True
        self.seen = True
        window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if watched is self._window and kind in (QEvent.Type.Show, QEvent.Type.Hide,
                                                 QEvent.Type.WindowStateChange):
            self._watch_handle()
            self.update()
        elif watched is self._handle and kind == QEvent.Type.Expose:
            handle = self._window.windowHandle()
            self._exposed = handle is None or handle.isExposed()
            self.update()
        return False

    def _watch_handle(self) -> None:
        handle = self._window.windowHandle()  # made when the window is first shown
        if handle is not None and handle is not self._handle:
            handle.installEventFilter(self)
            self._handle = handle

    def update(self) -> None:
        now = seen(visible=self._window.isVisible(), minimised=self._window.isMinimized(),
                   exposed=self._exposed)
        if now != self.seen:
            self.seen = now
            self.changed.emit(now)
