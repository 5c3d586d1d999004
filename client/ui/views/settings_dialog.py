"""Server address, connection options and behaviour switches. Opened with open()
(never exec()), so the event loop and any call keep running while it is shown."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from client import messages
from client.language import LANGUAGES
from client.ui.widgets.labels import SecondaryLabel


@dataclass(frozen=True)
class SettingsValues:
    server: str
    auto_search: bool
    sounds: bool
    notifications: bool
    relay_only: bool = False
    token: str = ""
    ca_file: str = ""
    language: str = ""  # a code from LANGUAGES; empty: the system's
    mini_window: bool = True  # client/ui/miniwindow.py
    smooth_video: bool = False  # every camera frame sent, still or not (client/media/motion.py)


def valid_server(url: str) -> bool:
    url = url.strip()
    return url.startswith(("ws://", "wss://")) and len(url) > len("wss://")


def valid_ca_file(path: str) -> bool:
    """Empty (the system's authorities only) or an existing file; its contents the engine checks."""
    path = path.strip()
    return not path or Path(path).expanduser().is_file()


def _hint(text: str) -> QLabel:
    label = SecondaryLabel(text)
    label.setWordWrap(True)
    return label


class SettingsDialog(QDialog):
    saved = Signal(object)  # SettingsValues

    def __init__(self, values: SettingsValues, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(messages.SETTINGS_TITLE)
        self.setMinimumWidth(460)
        self.server = QLineEdit(values.server)
        self.server.setAccessibleName(messages.SETTINGS_SERVER)
        self.server_hint = _hint(messages.SETTINGS_SERVER_HINT)
        self.token = QLineEdit(values.token)
        self.token.setEchoMode(QLineEdit.EchoMode.PasswordEchoOnEdit)  # shoulder-surfing in a classroom
        self.token.setPlaceholderText(messages.SETTINGS_TOKEN_PLACEHOLDER)
        self.token.setAccessibleName(messages.SETTINGS_TOKEN)
        self.ca_file = QLineEdit(values.ca_file)
        self.ca_file.setPlaceholderText(messages.SETTINGS_CA_FILE_PLACEHOLDER)
        self.ca_file.setAccessibleName(messages.SETTINGS_CA_FILE)
        self.language = QComboBox()
        self.language.setAccessibleName(messages.SETTINGS_LANGUAGE)
        # Each language under its own name, so a person finds theirs whatever is shown now.
        for code, name in {"": messages.SETTINGS_LANGUAGE_SYSTEM, **LANGUAGES}.items():
            self.language.addItem(name, code)
        self.language.setCurrentIndex(max(0, self.language.findData(values.language)))
        self.error = QLabel("")
        self.error.setVisible(False)
        self.relay_only = QCheckBox(messages.SETTINGS_RELAY_ONLY)
        self.relay_only.setChecked(values.relay_only)
        self.auto_search = QCheckBox(messages.SETTINGS_AUTO_SEARCH)
        self.auto_search.setChecked(values.auto_search)
        self.sounds = QCheckBox(messages.SETTINGS_SOUNDS)
        self.sounds.setChecked(values.sounds)
        self.notifications = QCheckBox(messages.SETTINGS_NOTIFY)
        self.notifications.setChecked(values.notifications)
        self.mini_window = QCheckBox(messages.SETTINGS_MINI_WINDOW)
        self.mini_window.setChecked(values.mini_window)
        self.smooth_video = QCheckBox(messages.SETTINGS_SMOOTH_VIDEO)
        self.smooth_video.setChecked(values.smooth_video)
        for box in (self.relay_only, self.auto_search, self.sounds, self.notifications, self.mini_window,
                    self.smooth_video):
            box.setAccessibleName(box.text())
        form = QFormLayout()
        form.addRow(messages.SETTINGS_SERVER, self.server)
        form.addRow("", self.server_hint)
        form.addRow(messages.SETTINGS_TOKEN, self.token)
        form.addRow("", _hint(messages.SETTINGS_TOKEN_HINT))
        form.addRow(messages.SETTINGS_CA_FILE, self.ca_file)
        form.addRow("", _hint(messages.SETTINGS_CA_FILE_HINT))
        form.addRow(messages.SETTINGS_LANGUAGE, self.language)
        form.addRow("", _hint(messages.SETTINGS_LANGUAGE_HINT))
        form.addRow("", self.error)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.relay_only)
        layout.addWidget(self.auto_search)
        layout.addWidget(self.sounds)
        layout.addWidget(self.notifications)
        layout.addWidget(self.mini_window)
        layout.addWidget(self.smooth_video)
        layout.addWidget(self.buttons)
        self.buttons.accepted.connect(self._save)
        self.buttons.rejected.connect(self.reject)

    def values(self) -> SettingsValues:
        return SettingsValues(
            server=self.server.text().strip(),
            auto_search=self.auto_search.isChecked(),
            sounds=self.sounds.isChecked(),
            notifications=self.notifications.isChecked(),
            relay_only=self.relay_only.isChecked(),
            token=self.token.text().strip(),
            ca_file=self.ca_file.text().strip(),
            language=str(self.language.currentData()),
            mini_window=self.mini_window.isChecked(),
            smooth_video=self.smooth_video.isChecked(),
        )

    def focus_token(self) -> None:
        """Opened from an 'access token needed' notice: the field to fill is the one focused."""
        self.token.setFocus()
        self.token.selectAll()

    def _save(self) -> None:
        problem = ""
        if not valid_server(self.server.text()):
            problem = messages.SETTINGS_BAD_SERVER
        elif not valid_ca_file(self.ca_file.text()):
            problem = messages.SETTINGS_BAD_CA_FILE
        if problem:
            self.error.setText(problem)
            self.error.setVisible(True)
            return
        self.saved.emit(self.values())
        self.accept()
