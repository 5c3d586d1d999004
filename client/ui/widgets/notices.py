"""Notices shown inside the window: never a modal dialog that would block a call.

Each notice has a key; showing a notice with a key already shown replaces it
(a retry countdown updates in place instead of stacking up).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from client import messages

_ICONS = {
    "info": QStyle.StandardPixmap.SP_MessageBoxInformation,
    "warning": QStyle.StandardPixmap.SP_MessageBoxWarning,
    "error": QStyle.StandardPixmap.SP_MessageBoxCritical,
}


@dataclass(frozen=True)
class Notice:
    key: str
    text: str
    level: str = "info"  # info | warning | error
    actions: tuple[tuple[str, str], ...] = field(default=())  # (action id, button label)
    timeout: float | None = None  # seconds until it hides itself; None = stays


class NoticeItem(QFrame):
    action_triggered = Signal(str, str)  # key, action
    dismissed = Signal(str)

    def __init__(self, notice: Notice, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.notice = notice
        self.setObjectName("notice")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        # palette(...) keeps light and dark themes readable; no fixed colours.
        self.setStyleSheet(
            "QFrame#notice { background: palette(alternate-base); border: 1px solid palette(mid);"
            " border-left: 4px solid palette(highlight); border-radius: 6px; }"
        )
        self.setAccessibleName(messages.NOTICE_A11Y.format(text=notice.text))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 6, 6)
        icon = QLabel()
        icon.setPixmap(self.style().standardIcon(_ICONS.get(notice.level, _ICONS["info"])).pixmap(20, 20))
        layout.addWidget(icon)
        self.label = QLabel(notice.text)
        self.label.setWordWrap(True)
        self.label.setAccessibleName(notice.text)
        layout.addWidget(self.label, 1)
        self.buttons: dict[str, QPushButton] = {}
        for action, label in notice.actions:
            button = QPushButton(label)
            button.setAccessibleName(label)
            button.clicked.connect(lambda _=False, a=action: self.action_triggered.emit(notice.key, a))
            layout.addWidget(button)
            self.buttons[action] = button
        close = QToolButton()
        close.setText("✕")
        close.setAutoRaise(True)
        close.setToolTip(messages.ACTION_DISMISS)
        close.setAccessibleName(messages.ACTION_DISMISS)
        close.clicked.connect(lambda: self.dismissed.emit(notice.key))
        layout.addWidget(close)
        self.close_button = close


class NoticeArea(QWidget):
    action_triggered = Signal(str, str)  # key, action id

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(12, 8, 12, 0)
        self._layout.setSpacing(6)
        self._items: dict[str, NoticeItem] = {}
        self._timers: dict[str, QTimer] = {}
        self.setAccessibleName(messages.NOTICES)
        self.setVisible(False)

    def show_notice(self, notice: Notice) -> NoticeItem:
        self.dismiss(notice.key)
        item = NoticeItem(notice, self)
        item.action_triggered.connect(self.action_triggered)
        item.dismissed.connect(self.dismiss)
        self._layout.addWidget(item)
        self._items[notice.key] = item
        if notice.timeout:
            timer = QTimer(self)
            timer.setSingleShot(True)
            timer.timeout.connect(lambda k=notice.key: self.dismiss(k))
            timer.start(int(notice.timeout * 1000))
            self._timers[notice.key] = timer
        self.setVisible(True)
        return item

    def dismiss(self, key: str) -> None:
        timer = self._timers.pop(key, None)
        if timer is not None:
            timer.stop()
        item = self._items.pop(key, None)
        if item is not None:
            self._layout.removeWidget(item)
            item.hide()
            item.deleteLater()
        self.setVisible(bool(self._items))

    def dismiss_all(self, prefix: str = "") -> None:
        for key in [k for k in self._items if k.startswith(prefix)]:
            self.dismiss(key)

    def item(self, key: str) -> NoticeItem | None:
        return self._items.get(key)

    def keys(self) -> list[str]:
        return list(self._items)

    def texts(self) -> list[str]:
        return [item.notice.text for item in self._items.values()]
