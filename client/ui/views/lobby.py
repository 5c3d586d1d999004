"""The first screen: how to meet, which subject, which devices, a live preview."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from client import messages
from client.ui.settings import STUDY_LENGTHS
from client.ui.widgets.video import VideoWidget

Devices = list[tuple[str, str]]  # (id, human-readable name)


FIELD_STYLE = "border: 1px solid palette(mid); border-radius: 4px; padding: 4px 6px; background: palette(base);"


class LobbyView(QWidget):
    find_requested = Signal(str, str)  # mode, topic
    test_call_requested = Signal(str)  # mode
    mode_changed = Signal(str)
    camera_selected = Signal(str)  # device id, "" = system default
    microphone_selected = Signal(str)
    speaker_selected = Signal(str)
    history_requested = Signal()
    study_chosen = Signal(object, object)  # length in minutes (None: open), talk ("talk" | "quiet" | None: either)
    favourite_requested = Signal(str, str)  # mode, topic: look for a favourite first
    block_last_requested = Signal()  # "Don't match me with my last partner again"
    background_chosen = Signal(str)  # "none" | "blur" | "colour"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.preview = VideoWidget(messages.PREVIEW_OFF, mirrored=True)
        self.preview.setAccessibleName(messages.SELF_VIEW)
        self.preview.setMinimumSize(320, 240)

        heading = QLabel(messages.LOBBY_HEADING)
        font = heading.font()
        font.setPointSizeF(font.pointSizeF() * 1.6)
        font.setBold(True)
        heading.setFont(font)
        heading.setWordWrap(True)
        sub = QLabel(messages.LOBBY_SUBHEADING)
        sub.setWordWrap(True)
        sub.setForegroundRole(sub.foregroundRole())

        self.video_button = QPushButton(messages.MODE_VIDEO)
        self.audio_button = QPushButton(messages.MODE_AUDIO)
        self.mode_group = QButtonGroup(self)
        for button, mode in ((self.video_button, "video"), (self.audio_button, "audio")):
            button.setCheckable(True)
            button.setAccessibleName(f"{messages.MODE_LABEL} {button.text()}")
            button.setProperty("mode", mode)
            button.setMinimumHeight(36)
            self.mode_group.addButton(button)
        self.video_button.setChecked(True)
        modes = QHBoxLayout()
        modes.setSpacing(8)
        modes.addWidget(self.video_button)
        modes.addWidget(self.audio_button)

        self.subject = QLineEdit()
        self.subject.setPlaceholderText(messages.SUBJECT_PLACEHOLDER)
        self.subject.setMaxLength(32)  # the server compares at most 32 characters
        self.subject.setClearButtonEnabled(True)
        self.subject.setAccessibleName(messages.SUBJECT_LABEL)

        self.study_length = QComboBox()
        self.study_length.setAccessibleName(messages.STUDY_LENGTH_LABEL)
        for minutes in STUDY_LENGTHS:
            self.study_length.addItem(messages.STUDY_LENGTH_MINUTES.format(minutes=minutes), minutes)
        self.study_length.addItem(messages.STUDY_LENGTH_OPEN, 0)  # open: no end
        self.study_talk = QComboBox()
        self.study_talk.setAccessibleName(messages.STUDY_TALK_LABEL)
        for talk, label in messages.STUDY_TALK_CHOICES.items():
            self.study_talk.addItem(label, talk)  # "": either

        self.camera = self._combo(messages.CAMERA_LABEL)
        self.microphone = self._combo(messages.MICROPHONE_LABEL)
        self.speaker = self._combo(messages.SPEAKER_LABEL)

        self.find_button = QPushButton(messages.FIND_PARTNER)
        self.find_button.setDefault(True)
        self.find_button.setMinimumHeight(48)
        self.find_button.setAccessibleName(messages.FIND_PARTNER)
        self.find_button.setToolTip(f"{messages.FIND_PARTNER} (Enter)")
        bigger = self.find_button.font()
        bigger.setPointSizeF(bigger.pointSizeF() * 1.25)
        bigger.setBold(True)
        self.find_button.setFont(bigger)
        self.find_button.setStyleSheet(
            "QPushButton { background: palette(highlight); color: palette(highlighted-text);"
            " border: none; border-radius: 8px; padding: 8px 16px; }"
            "QPushButton:hover { background: palette(dark); }"
            "QPushButton:focus { border: 2px solid palette(text); }"
        )
        self.test_button = QPushButton(messages.TEST_CALL)
        self.test_button.setToolTip(messages.TEST_CALL_TIP)
        self.test_button.setAccessibleName(messages.TEST_CALL)
        self.test_button.setAccessibleDescription(messages.TEST_CALL_TIP)
        self.test_button.setMinimumHeight(36)
        self.history_button = QPushButton(messages.HISTORY)
        self.history_button.setToolTip(messages.HISTORY_TIP)
        self.history_button.setAccessibleName(messages.HISTORY)
        self.history_button.setAccessibleDescription(messages.HISTORY_TIP)
        self.history_button.setMinimumHeight(36)
        below = QHBoxLayout()  # side by side: the smallest window (820x560) has no room for a row more
        below.setSpacing(8)
        below.addWidget(self.test_button, 1)
        below.addWidget(self.history_button, 1)

        # Coming back, under the preview (the card has no room for a row more at 820x560).
        self.favourite_button = QPushButton(messages.FIND_FAVOURITE)
        self.favourite_button.setAccessibleName(messages.FIND_FAVOURITE)
        self.favourite_button.setMinimumHeight(36)
        self.block_last_button = QPushButton(messages.BLOCK_LAST)
        self.block_last_button.setToolTip(messages.BLOCK_LAST_TIP)
        self.block_last_button.setAccessibleName(messages.BLOCK_LAST)
        self.block_last_button.setAccessibleDescription(messages.BLOCK_LAST_TIP)
        self.block_last_button.setMinimumHeight(36)
        self.block_last_button.hide()  # until a call with a partner the server can keep apart
        # What is behind you, right under the picture it changes (the card has no room for a row more).
        self.background = QComboBox()
        self.background.setAccessibleName(messages.BACKGROUND_LABEL)
        self.background.setToolTip(messages.BACKGROUND_TIP)
        for value, label in messages.BACKGROUND_CHOICES.items():
            self.background.addItem(label, value)
        self.background_label = QLabel(messages.BACKGROUND_LABEL)
        self.background_label.setBuddy(self.background)
        comeback = QHBoxLayout()
        comeback.setSpacing(8)
        comeback.addWidget(self.background_label)
        comeback.addWidget(self.background)
        comeback.addWidget(self.favourite_button)
        comeback.addStretch(1)
        comeback.addWidget(self.block_last_button)
        self.set_favourites(0)

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setVerticalSpacing(6)  # two study rows fit the smallest window (820x560)
        form.addRow(messages.SUBJECT_LABEL, self.subject)
        form.addRow(messages.STUDY_LENGTH_LABEL, self.study_length)
        form.addRow(messages.STUDY_TALK_LABEL, self.study_talk)
        form.addRow(messages.CAMERA_LABEL, self.camera)
        form.addRow(messages.MICROPHONE_LABEL, self.microphone)
        form.addRow(messages.SPEAKER_LABEL, self.speaker)

        card = QFrame()
        card.setObjectName("lobbyCard")
        # The card and the fields share palette(base): in a dark theme the style's own field frame
        # (a darker shade of the window colour) vanishes against it, and so does the checked mode
        # button's shading; palette roles keep both visible in light and dark themes.
        card.setStyleSheet(
            "QFrame#lobbyCard { background: palette(base); border-radius: 12px; }"
            f"QFrame#lobbyCard QLineEdit {{ {FIELD_STYLE} }}"
            "QFrame#lobbyCard QPushButton:checked { border: 2px solid palette(highlight); border-radius: 4px;"
            " background: palette(alternate-base); color: palette(text); font-weight: bold; }"
        )
        card.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        side = QVBoxLayout(card)
        side.setContentsMargins(22, 20, 22, 20)
        side.setSpacing(8)
        side.addWidget(heading)
        side.addWidget(sub)
        side.addSpacing(6)
        side.addWidget(QLabel(messages.MODE_LABEL))
        side.addLayout(modes)
        side.addLayout(form)
        side.addStretch(1)
        side.addWidget(self.find_button)
        side.addLayout(below)

        layout = QHBoxLayout(self)
        layout.setContentsMargins(16, 16, 16, 16)
        layout.setSpacing(16)
        left = QVBoxLayout()
        left.setSpacing(8)
        left.addWidget(self.preview, 1)
        left.addLayout(comeback)
        layout.addLayout(left, 3)
        card.setMinimumWidth(340)
        card.setMaximumWidth(460)
        layout.addWidget(card, 2)

        self.mode_group.buttonToggled.connect(self._mode_toggled)
        self.find_button.clicked.connect(self.request_find)
        self.subject.returnPressed.connect(self.request_find)
        self.test_button.clicked.connect(lambda: self.test_call_requested.emit(self.mode()))
        self.history_button.clicked.connect(self.history_requested)
        self.favourite_button.clicked.connect(self.request_favourite)
        self.block_last_button.clicked.connect(self.block_last_requested)
        self.study_length.activated.connect(lambda _i: self.study_chosen.emit(*self.study()))
        self.study_talk.activated.connect(lambda _i: self.study_chosen.emit(*self.study()))
        self.camera.activated.connect(lambda _i: self.camera_selected.emit(self.camera.currentData() or ""))
        self.background.activated.connect(lambda _i: self.background_chosen.emit(self.background.currentData()))
        self.microphone.activated.connect(
            lambda _i: self.microphone_selected.emit(self.microphone.currentData() or "")
        )
        self.speaker.activated.connect(lambda _i: self.speaker_selected.emit(self.speaker.currentData() or ""))
        self._sync_mode()

    def _combo(self, name: str) -> QComboBox:
        combo = QComboBox()
        combo.setAccessibleName(name)
        combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        combo.setMinimumContentsLength(16)
        return combo

    # --- intents -----------------------------------------------------------
    def request_find(self) -> None:
        if self.find_button.isEnabled():
            self.find_requested.emit(self.mode(), self.topic())

    def request_favourite(self) -> None:
        if self.favourite_button.isEnabled() and self.find_button.isEnabled():
            self.favourite_requested.emit(self.mode(), self.topic())

    def _mode_toggled(self, button: QPushButton, checked: bool) -> None:
        if checked:
            self._sync_mode()
            self.mode_changed.emit(self.mode())

    # --- state -------------------------------------------------------------
    def mode(self) -> str:
        return "audio" if self.audio_button.isChecked() else "video"

    def topic(self) -> str:
        return self.subject.text().strip()

    def set_mode(self, mode: str) -> None:
        (self.audio_button if mode == "audio" else self.video_button).setChecked(True)
        self._sync_mode()

    def set_topic(self, topic: str) -> None:
        self.subject.setText(topic)

    def study(self) -> tuple[int | None, str | None]:
        return self.study_length.currentData() or None, self.study_talk.currentData() or None

    def set_study(self, length: int | None, talk: str | None) -> None:
        self.study_length.setCurrentIndex(max(0, self.study_length.findData(length or 0)))
        self.study_talk.setCurrentIndex(max(0, self.study_talk.findData(talk or "")))

    def _sync_mode(self) -> None:
        video = self.mode() == "video"
        self.camera.setEnabled(video and self.camera.count() > 0)
        self.background.setEnabled(video)
        if not video:
            self.preview.clear()
        self.preview.set_placeholder(messages.PREVIEW_OFF if video else messages.PREVIEW_AUDIO)

    def set_background(self, value: str) -> None:
        self.background.setCurrentIndex(max(0, self.background.findData(value)))

    def set_camera_failed(self) -> None:
        self.preview.clear()
        self.preview.set_placeholder(messages.PREVIEW_NO_CAMERA)

    def _fill(self, combo: QComboBox, devices: Devices, selected: str) -> None:
        combo.clear()
        combo.addItem(messages.SYSTEM_DEFAULT, "")
        for device_id, name in devices:
            combo.addItem(name, device_id)
        index = combo.findData(selected)
        combo.setCurrentIndex(max(0, index))
        if not devices:
            combo.setItemText(0, f"{messages.SYSTEM_DEFAULT} ({messages.NO_DEVICES.lower()})")

    def set_cameras(self, devices: Devices, selected: str) -> None:
        self._fill(self.camera, devices, selected)
        self._sync_mode()

    def set_microphones(self, devices: Devices, selected: str) -> None:
        self._fill(self.microphone, devices, selected)

    def set_speakers(self, devices: Devices, selected: str) -> None:
        self._fill(self.speaker, devices, selected)

    def focus_camera_picker(self) -> None:
        self.camera.setFocus()
        self.camera.showPopup()

    def focus_microphone_picker(self) -> None:
        self.microphone.setFocus()
        self.microphone.showPopup()

    def set_find_enabled(self, enabled: bool) -> None:
        self.find_button.setEnabled(enabled)
        self.test_button.setEnabled(enabled)

    def set_favourites(self, count: int) -> None:
        """"Study with a favourite" only with a favourite to look for; the tooltip says why not."""
        self.favourite_button.setEnabled(count > 0)
        tip = messages.FIND_FAVOURITE_TIP if count > 0 else messages.FIND_FAVOURITE_NONE_TIP
        self.favourite_button.setToolTip(tip)
        self.favourite_button.setAccessibleDescription(tip)

    def set_last_partner_blockable(self, blockable: bool) -> None:
        self.block_last_button.setVisible(blockable)
