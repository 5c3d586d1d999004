"""The keyboard shortcut overlay (F1 or ?): drawn over the window, not a dialog,
so it never blocks a call."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QColor, QKeyEvent, QMouseEvent, QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QVBoxLayout, QWidget

from client import messages


class HelpOverlay(QWidget):
    closed = Signal()

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setAccessibleName(messages.HELP_TITLE)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        outer = QVBoxLayout(self)
        outer.setAlignment(Qt.AlignmentFlag.AlignCenter)
        panel = QFrame(self)
        panel.setObjectName("helpPanel")
        panel.setStyleSheet(
            "QFrame#helpPanel { background: palette(window); border: 1px solid palette(mid); border-radius: 12px; }"
        )
        grid = QGridLayout(panel)
        grid.setContentsMargins(28, 22, 28, 22)
        grid.setHorizontalSpacing(24)
        grid.setVerticalSpacing(10)
        title = QLabel(messages.HELP_TITLE)
        font = title.font()
        font.setPointSizeF(font.pointSizeF() * 1.4)
        font.setBold(True)
        title.setFont(font)
        grid.addWidget(title, 0, 0, 1, 2)
        self.rows: list[tuple[str, str]] = list(messages.SHORTCUTS)
        for row, (key, action) in enumerate(self.rows, start=1):
            key_label = QLabel(key)
            key_label.setStyleSheet(
                "QLabel { border: 1px solid palette(mid); border-radius: 4px; padding: 2px 8px;"
                " background: palette(base); font-weight: bold; }"
            )
            key_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            grid.addWidget(key_label, row, 0)
            grid.addWidget(QLabel(action), row, 1)
        hint = QLabel(messages.HELP_CLOSE)
        hint.setEnabled(False)
        grid.addWidget(hint, len(self.rows) + 1, 0, 1, 2)
        outer.addWidget(panel)
        self.hide()
        parent.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.parent() and event.type() == QEvent.Type.Resize:
            self._cover_parent()
        return False

    def toggle(self) -> None:
        if self.isVisible():
            self.close_overlay()
        else:
            self._cover_parent()
            self.show()
            self.raise_()
            self.setFocus()

    def _cover_parent(self) -> None:
        parent = self.parentWidget()
        if parent is not None:
            self.setGeometry(parent.rect())

    def close_overlay(self) -> None:
        if self.isVisible():
            self.hide()
            self.closed.emit()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Escape, Qt.Key.Key_F1, Qt.Key.Key_Question):
            self.close_overlay()
            return
        super().keyPressEvent(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self.close_overlay()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        shade = QColor(self.palette().color(QPalette.ColorRole.Shadow))
        shade.setAlphaF(0.55)
        painter.fillRect(self.rect(), shade)
        painter.end()
