"""The mini window: a small window on top of other apps while a call goes on in the background.

`MiniWindow` renders (the partner's picture, the session's clock and phase, both goals) and
emits intents (mute, end); `MiniFollower` shows it while the main window is minimised or the
focus has left StudyMatch's windows during a call, and hides it again (miniplace.py decides).
MainWindow._connect_signals() wires both to the controller.

It is a frameless tool window that takes no focus: a click on Mute never pulls the person
out of the app they are working in. It is dragged by its body, and remembers where it was
left (Settings.mini_window_pos), put back onto a screen still there when shown again.

In an audio call it says "Audio call": the engine reports no audio level yet.
"""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import QEvent, QObject, QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication, QHideEvent, QMouseEvent, QShowEvent, QWindow
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from client import events as ev
from client import messages
from client.ui import clock, miniplace
from client.ui.settings import Settings
from client.ui.widgets.video import VideoWidget

SIZE = (260, 250)  # width, height: a thumbnail of a call, not a second call window


class MiniWindow(QFrame):
    mute_toggled = Signal(bool)
    end_requested = Signal()
    moved = Signal(QPoint)  # dropped after a drag at this top left corner

    def __init__(self, settings: Settings, *, clock: Any = time.time) -> None:
        super().__init__(None)  # its own top-level window: it stays up while the main one is minimised
        self.settings = settings
        self._clock = clock  # epoch seconds, like the study events' times
        self.setWindowFlags(Qt.WindowType.Tool | Qt.WindowType.FramelessWindowHint
                            | Qt.WindowType.WindowStaysOnTopHint | Qt.WindowType.WindowDoesNotAcceptFocus)
        self.setWindowTitle(messages.MINI_TITLE)
        self.setAccessibleName(messages.MINI_TITLE)
        self.setToolTip(messages.MINI_DRAG_TIP)
        self.setFrameShape(QFrame.Shape.Box)
        self.setFixedSize(*SIZE)
        self.picture = VideoWidget(messages.MINI_AUDIO_CALL)
        self.picture.setMinimumSize(120, 90)
        self.level = QProgressBar()  # an audio call: the partner's voice, in place of a picture
        self.level.setRange(0, 100)
        self.level.setTextVisible(False)
        self.level.setMaximumHeight(8)
        self.level.setAccessibleName(messages.MINI_PARTNER_LEVEL)
        self.level.setToolTip(messages.MINI_PARTNER_LEVEL)
        self.level.hide()
        self.phase = QLabel("")
        self.countdown = QLabel("")
        font = self.countdown.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.4)
        self.countdown.setFont(font)
        self.my_goal = QLabel("")
        self.partner_goal = QLabel("")
        for label in (self.my_goal, self.partner_goal):
            label.setWordWrap(False)
            label.setTextFormat(Qt.TextFormat.PlainText)  # a partner's goal is their text, never markup
        self.mute = QPushButton(messages.MUTE)
        self.mute.setCheckable(True)
        self.end = QPushButton(messages.END)
        for button in (self.mute, self.end):
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.setAccessibleName(button.text())
        top = QHBoxLayout()
        top.addWidget(self.phase)
        top.addStretch(1)
        top.addWidget(self.countdown)
        buttons = QHBoxLayout()
        buttons.addWidget(self.mute)
        buttons.addWidget(self.end)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.setSpacing(4)
        layout.addWidget(self.picture, 1)
        layout.addWidget(self.level)
        layout.addLayout(top)
        layout.addWidget(self.my_goal)
        layout.addWidget(self.partner_goal)
        layout.addLayout(buttons)
        self.mute.toggled.connect(self._mute_clicked)
        self.end.clicked.connect(self.end_requested)
        self._timer = QTimer(self)
        self._timer.setInterval(1000)
        self._timer.timeout.connect(self._tick)
        self._drag_from: QPoint | None = None
        self._video = True
        self._started_at: float | None = None
        self._ends_at: float | None = None
        self._phase_until: float | None = None
        self._goals = ["", ""]  # mine, the partner's
        self._show_goals()

    # --- state from the controller ------------------------------------------------------
    def start_call(self, partner_mode: str, *, muted: bool) -> None:
        """A new call: nothing of the last one stays (its goals, its clock, its picture)."""
        self.set_muted(muted)
        self._video = partner_mode == "video"
        self._started_at = self._ends_at = self._phase_until = None
        self._goals = ["", ""]
        self.phase.setText("")
        self.picture.clear()
        self._note("" if self._video else messages.MINI_AUDIO_CALL)  # video: black until the first frame
        self.level.setValue(0)
        self.level.setVisible(not self._video)
        self._show_goals()
        self._tick()

    def set_frame(self, frame: Any) -> None:
        if self.isVisible() and self._video:  # hidden, it converts and paints nothing
            self.picture.set_frame(frame)

    def set_partner_level(self, level: float) -> None:
        if self.isVisible() and not self._video:  # a video call shows the picture instead
            self.level.setValue(round(100 * level))

    def set_partner_camera(self, on: bool) -> None:
        if not on:
            self.picture.clear()
        self._note("" if on else messages.PARTNER_CAMERA_OFF)

    def _note(self, text: str) -> None:
        """What the picture area says while it has no picture (screen readers hear it too)."""
        self.picture.set_placeholder(text)
        self.picture.setAccessibleDescription(text)

    def set_muted(self, muted: bool) -> None:
        self.mute.blockSignals(True)  # the controller's state, not a new intent
        self.mute.setChecked(muted)
        self.mute.blockSignals(False)
        self.mute.setText(messages.UNMUTE if muted else messages.MUTE)

    def set_my_goal(self, text: str) -> None:
        self._goals[0] = text
        self._show_goals()

    def on_study(self, event: Any) -> None:
        match event:
            case ev.SessionStarted():
                self._started_at, self._ends_at, self._phase_until = event.started_at, event.ends_at, None
                if event.ends_at is None and not self.phase.text():
                    self.phase.setText(messages.MINI_OPEN_SESSION)
            case ev.SessionPhase():
                self._phase_until = event.until
                self.phase.setText(messages.STUDY_PHASES.get(event.phase, ""))
            case ev.PartnerGoal():
                self._goals[1] = event.text
                self._show_goals()
        self._tick()

    def _show_goals(self) -> None:
        mine, theirs = (goal or messages.STUDY_GOAL_NONE for goal in self._goals)
        for label, text in ((self.my_goal, messages.STUDY_GOAL_MINE.format(goal=mine)),
                            (self.partner_goal, messages.STUDY_GOAL_PARTNER.format(goal=theirs))):
            label.setToolTip(text)  # the whole goal; the label shows what fits
            label.setText(label.fontMetrics().elidedText(text, Qt.TextElideMode.ElideRight, SIZE[0] - 20))

    def _tick(self) -> None:
        until = self._phase_until if self._phase_until is not None else self._ends_at  # as the call page's
        self.countdown.setText(clock.session_clock(self._clock(), until=until, started_at=self._started_at))

    def _mute_clicked(self, muted: bool) -> None:
        self.mute_toggled.emit(muted)

    # --- place on screen --------------------------------------------------------------------
    def place(self) -> None:
        """Where the person left it (or the top right corner), on a screen that is there now."""
        screens = [_rect(s.availableGeometry()) for s in QGuiApplication.screens()]
        saved = self.settings.mini_window_pos
        if saved is not None:
            x, y = saved.x(), saved.y()
        elif screens:
            x, y = miniplace.corner(self.width(), self.height(), screens[0])
        else:
            x, y = self.x(), self.y()
        self.move(*miniplace.clamp(x, y, self.width(), self.height(), screens))

    def showEvent(self, event: QShowEvent) -> None:
        self._tick()
        self._timer.start()
        super().showEvent(event)

    def hideEvent(self, event: QHideEvent) -> None:
        self._timer.stop()
        super().hideEvent(event)

    # The body drags the window (the buttons take their own clicks).
    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._drag_from = event.globalPosition().toPoint() - self.pos()
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._drag_from is not None:
            self.move(event.globalPosition().toPoint() - self._drag_from)
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._drag_from is not None and event.button() == Qt.MouseButton.LeftButton:
            self._drag_from = None
            self.settings.mini_window_pos = self.pos()
            self.moved.emit(self.pos())
            event.accept()
            return
        super().mouseReleaseEvent(event)


def _rect(r: Any) -> miniplace.Rect:
    return (r.x(), r.y(), r.width(), r.height())


class MiniFollower(QObject):
    """Shows the mini window while a call goes on behind other apps, and hides it when the person
    comes back to StudyMatch, the call ends or the setting is off."""

    def __init__(self, main: QWidget, mini: MiniWindow) -> None:
        super().__init__(main)
        self._main = main
        self._mini = mini
        self._in_call = False
        main.installEventFilter(self)
        app = QGuiApplication.instance()
        assert isinstance(app, QGuiApplication)
        app.focusWindowChanged.connect(self._focus_moved)

    def set_in_call(self, in_call: bool) -> None:
        self._in_call = in_call
        self.update()

    def _focus_moved(self, _window: QWindow | None) -> None:
        self.update()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self._main:
            if event.type() in (QEvent.Type.WindowStateChange, QEvent.Type.ActivationChange):
                self.update()
            elif event.type() == QEvent.Type.Close:
                self._in_call = False
                self.update()
        return False

    def _app_in_front(self) -> bool:
        """The focus is on the main window or one of its dialogs (not on another app, nor here)."""
        widget: QWidget | None = QApplication.activeWindow()
        while widget is not None:
            if widget is self._main:
                return True
            widget = widget.parentWidget()
        return False

    def update(self) -> None:
        show = miniplace.should_show(enabled=self._mini.settings.mini_window, in_call=self._in_call,
                                     minimised=self._main.isMinimized(), app_in_front=self._app_in_front())
        if show and not self._mini.isVisible():
            self._mini.place()
            self._mini.show()
        elif not show and self._mini.isVisible():
            self._mini.hide()
