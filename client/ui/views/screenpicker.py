"""The screen picker: one thumbnail per screen, or the sentence that says why there is none.

What there is to share comes from a function given to it (client/media/screen.py
`list_screens` in the app; tests give their own list), called when the dialog opens.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QImage, QPixmap
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from client import messages

# () -> (screens, None) or ([], the sentence saying why there is nothing to share)
ListScreens = Callable[[], tuple[Sequence[Any], str | None]]


def thumbnail_pixmap(bgr: Any) -> QPixmap:
    """A BGR ndarray (a ScreenSource's thumbnail) as a pixmap."""
    h, w = bgr.shape[:2]
    image = QImage(bgr.tobytes(), w, h, 3 * w, QImage.Format.Format_BGR888)
    return QPixmap.fromImage(image.copy())  # the copy owns its pixels


class ScreenPicker(QDialog):
    chosen = Signal(object)  # a ScreenSource

    def __init__(self, list_screens: ListScreens, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(messages.SCREEN_PICKER_TITLE)
        self.screens, self.reason = list_screens()
        layout = QVBoxLayout(self)
        self.prompt = QLabel(self.reason or messages.SCREEN_PICKER_PROMPT)
        self.prompt.setWordWrap(True)
        layout.addWidget(self.prompt)
        self.list = QListWidget()
        self.list.setAccessibleName(messages.SCREEN_PICKER_TITLE)
        self.list.setViewMode(QListWidget.ViewMode.IconMode)
        self.list.setIconSize(QSize(240, 150))
        self.list.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.list.setMovement(QListWidget.Movement.Static)
        self.list.setSpacing(8)
        for i, screen in enumerate(self.screens):
            item = QListWidgetItem(QIcon(thumbnail_pixmap(screen.thumbnail)), screen.name)
            item.setData(Qt.ItemDataRole.UserRole, i)
            item.setToolTip(screen.name)
            self.list.addItem(item)
        self.list.setVisible(bool(self.screens))  # nothing to share: the reason, and no empty list
        layout.addWidget(self.list, 1)
        buttons = QDialogButtonBox()
        self.share_button: QPushButton = buttons.addButton(messages.SCREEN_PICKER_SHARE,
                                                           QDialogButtonBox.ButtonRole.AcceptRole)  # fmt: skip
        self.share_button.setVisible(bool(self.screens))
        self.cancel_button: QPushButton = buttons.addButton(messages.CANCEL, QDialogButtonBox.ButtonRole.RejectRole)
        layout.addWidget(buttons)
        if self.screens:
            self.list.setCurrentRow(0)
        self.list.itemDoubleClicked.connect(lambda _item: self.share())
        self.share_button.clicked.connect(self.share)
        self.cancel_button.clicked.connect(self.reject)
        self.resize(560, 360 if self.screens else 160)

    def share(self) -> None:
        item = self.list.currentItem()
        if item is None:
            return
        self.chosen.emit(self.screens[item.data(Qt.ItemDataRole.UserRole)])
        self.accept()
