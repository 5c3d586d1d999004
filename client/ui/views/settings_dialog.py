"""Server address and behaviour switches. Opened with open() (never exec()), so
the event loop and any call keep running while it is shown."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from client.ui import strings


@dataclass(frozen=True)
class SettingsValues:
    server: str
    auto_search: bool
    sounds: bool
    notifications: bool


def valid_server(url: str) -> bool:
    url = url.strip()
    return url.startswith(("ws://", "wss://")) and len(url) > len("wss://")


class SettingsDialog(QDialog):
    saved = Signal(object)  # SettingsValues

    def __init__(self, values: SettingsValues, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(strings.SETTINGS_TITLE)
        self.setMinimumWidth(460)
        self.server = QLineEdit(values.server)
        self.server.setAccessibleName(strings.SETTINGS_SERVER)
        self.server_hint = QLabel(strings.SETTINGS_SERVER_HINT)
        self.server_hint.setWordWrap(True)
        self.server_hint.setEnabled(False)
        self.error = QLabel("")
        self.error.setVisible(False)
        self.auto_search = QCheckBox(strings.SETTINGS_AUTO_SEARCH)
        self.auto_search.setChecked(values.auto_search)
        self.sounds = QCheckBox(strings.SETTINGS_SOUNDS)
        self.sounds.setChecked(values.sounds)
        self.notifications = QCheckBox(strings.SETTINGS_NOTIFY)
        self.notifications.setChecked(values.notifications)
        for box in (self.auto_search, self.sounds, self.notifications):
            box.setAccessibleName(box.text())
        form = QFormLayout()
        form.addRow(strings.SETTINGS_SERVER, self.server)
        form.addRow("", self.server_hint)
        form.addRow("", self.error)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.auto_search)
        layout.addWidget(self.sounds)
        layout.addWidget(self.notifications)
        layout.addWidget(self.buttons)
        self.buttons.accepted.connect(self._save)
        self.buttons.rejected.connect(self.reject)

    def values(self) -> SettingsValues:
        return SettingsValues(
            server=self.server.text().strip(),
            auto_search=self.auto_search.isChecked(),
            sounds=self.sounds.isChecked(),
            notifications=self.notifications.isChecked(),
        )

    def _save(self) -> None:
        if not valid_server(self.server.text()):
            self.error.setText(strings.SETTINGS_BAD_SERVER)
            self.error.setVisible(True)
            return
        self.saved.emit(self.values())
        self.accept()
