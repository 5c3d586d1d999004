"""The call: partner's video large, self-view small, controls, chat, quality.

While the partner shares their screen, a line above their picture says so, and a click on the
picture shows it at actual size (scrollable) or fits it again (client/ui/screenzoom.py).
"""

from __future__ import annotations

from PySide6.QtCore import QElapsedTimer, QEvent, QObject, QPointF, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QMouseEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from client import messages
from client.ui import clock
from client.ui.screenzoom import actual_size, zoom_scroll
from client.ui.views.again import AgainBar
from client.ui.views.lobby import FIELD_STYLE
from client.ui.views.study import StudyPanel
from client.ui.widgets.indicators import QualityBars
from client.ui.widgets.labels import SecondaryLabel
from client.ui.widgets.video import VideoWidget

RECONNECTING_AFTER_MS = 1000  # a media rebuild says "Reconnecting…" only when it takes this long


class CallView(QWidget):
    mute_toggled = Signal(bool)  # True = muted
    camera_toggled = Signal(bool)  # True = camera on
    background_toggled = Signal(bool)  # True = blur (or the plain colour chosen in the lobby)
    skip_requested = Signal()
    end_requested = Signal()
    report_requested = Signal(str)  # reason
    chat_submitted = Signal(str)
    block_requested = Signal()  # "Don't match me with this partner again"
    share_requested = Signal()  # "Share screen": the window opens the picker
    stop_share_requested = Signal()  # "Stop sharing"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.remote = VideoWidget(messages.CONNECTING)
        self.remote.setAccessibleName(messages.REMOTE_VIEW)
        # The partner's picture scrolls only when their shared screen is shown at actual size.
        self.remote_area = QScrollArea()
        self.remote_area.setFrameShape(QFrame.Shape.NoFrame)
        self.remote_area.setWidgetResizable(True)
        self.remote_area.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.remote_area.setStyleSheet("QScrollArea { background: black; }")
        self.remote_area.setWidget(self.remote)
        self.stage = QWidget()
        stage = QVBoxLayout(self.stage)
        stage.setContentsMargins(0, 0, 0, 0)
        stage.addWidget(self.remote_area)
        # The self-view floats over the partner's video, like every video call app.
        self.self_view = VideoWidget(messages.NO_VIDEO_SELF, mirrored=True, parent=self.stage)
        self.self_view.setAccessibleName(messages.SELF_VIEW)
        self.self_view.setMinimumSize(120, 90)
        self.self_view.setStyleSheet("border: 1px solid palette(mid);")
        self.stage.installEventFilter(self)
        self.remote.installEventFilter(self)
        self.partner_camera_on = True  # False: the partner said their camera is off
        self.partner_screen = False  # the partner sends their screen: a click zooms
        self.zoomed = False  # the partner's screen at actual size
        self.sharing = False  # we send our screen
        self._partner_video = True
        self._subject = ""  # " · maths": the partner's subject, after who they are
        self._again_possible = False

        self.partner = QLabel(messages.PARTNER_VIDEO)
        self.partner.setAccessibleName(messages.CALL_PARTNER)
        bold = self.partner.font()
        bold.setBold(True)
        self.partner.setFont(bold)
        self.elapsed = QLabel(clock.duration(0))
        self.elapsed.setAccessibleName(messages.CALL_TIME)
        self.quality = QualityBars()
        self.quality_label = SecondaryLabel(messages.QUALITY_UNKNOWN)
        top = QHBoxLayout()
        top.addWidget(self.partner)
        top.addStretch(1)
        top.addWidget(self.quality)
        top.addWidget(self.quality_label)
        top.addSpacing(12)
        top.addWidget(self.elapsed)

        self.mute_button = self._button(messages.MUTE, "M", checkable=True)
        self.camera_button = self._button(messages.CAMERA_OFF, "V", checkable=True)
        self.background_button = self._button(messages.BACKGROUND_BUTTON, "", checkable=True,
                                              tip=messages.BACKGROUND_TIP)
        self.share_button = self._button(messages.SCREEN_SHARE, "", tip=messages.SCREEN_SHARE_TIP)
        self.skip_button = self._button(messages.SKIP, "N", tip=messages.SKIP_TIP)
        self.end_button = self._button(messages.END, "Esc", tip=messages.END_TIP)
        self.end_button.setStyleSheet(
            "QPushButton { background: palette(highlight); color: palette(highlighted-text);"
            " border: none; border-radius: 6px; padding: 6px 18px; }"
        )
        # Report: "never again" at the top (no fault found, nobody told), then the reasons, which block too.
        self.report_button = QToolButton()
        self.report_button.setText(messages.REPORT)
        self.report_button.setToolTip(messages.REPORT_TIP)
        self.report_button.setAccessibleName(messages.REPORT)
        self.report_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.report_button.setMinimumHeight(36)
        self.report_menu = QMenu(self.report_button)
        self.report_menu.setToolTipsVisible(True)
        self.block_action = QAction(messages.BLOCK, self.report_menu)
        self.block_action.triggered.connect(lambda _=False: self.block_requested.emit())
        self.report_menu.addAction(self.block_action)
        self.report_menu.addSeparator()
        self.report_also_blocks = self.report_menu.addAction(messages.REPORT_ALSO_BLOCKS)
        self.report_also_blocks.setEnabled(False)  # a line to read, not to press
        self.report_actions: list[QAction] = []
        # The server records the reason in English, whatever language the menu speaks.
        for reason, label in zip(messages.SOURCE["REPORT_REASONS"], messages.REPORT_REASONS, strict=True):
            action = QAction(label, self.report_menu)
            action.setToolTip(messages.REPORT_ALSO_BLOCKS)
            action.triggered.connect(lambda _=False, r=reason: self.report_requested.emit(r))
            self.report_menu.addAction(action)
            self.report_actions.append(action)
        self.report_button.setMenu(self.report_menu)
        self.set_avoidable(False)
        self.again = AgainBar()
        controls = QHBoxLayout()
        controls.addWidget(self.mute_button)
        controls.addWidget(self.camera_button)
        controls.addWidget(self.background_button)
        controls.addWidget(self.share_button)
        controls.addStretch(1)
        controls.addWidget(self.report_button)
        controls.addWidget(self.skip_button)
        controls.addWidget(self.end_button)

        main = QVBoxLayout()
        self.screen_banner = QLabel(messages.SCREEN_PARTNER_SHARING)
        self.screen_banner.setWordWrap(True)
        self.screen_banner.setVisible(False)
        main.addLayout(top)
        main.addWidget(self.screen_banner)
        main.addWidget(self.stage, 1)
        main.addWidget(self.again)
        main.addLayout(controls)

        self.chat_list = QListWidget()
        self.chat_list.setAccessibleName(messages.CHAT_MESSAGES)
        self.chat_list.setWordWrap(True)
        self.chat_list.setAlternatingRowColors(True)
        self.chat_input = QLineEdit()
        self.chat_input.setPlaceholderText(messages.CHAT_PLACEHOLDER)
        self.chat_input.setAccessibleName(messages.CHAT_MESSAGE)
        self.chat_input.setMaxLength(1000)
        self.send_button = QPushButton(messages.CHAT_SEND)
        self.send_button.setAccessibleName(messages.CHAT_SEND)
        entry = QHBoxLayout()
        entry.addWidget(self.chat_input, 1)
        entry.addWidget(self.send_button)
        chat_panel = QFrame()
        chat_panel.setObjectName("chatPanel")
        chat_panel.setStyleSheet(
            "QFrame#chatPanel { background: palette(base); border-radius: 10px; }"
            f"QFrame#chatPanel QLineEdit {{ {FIELD_STYLE} }}"  # visible in dark themes too (lobby.py)
        )
        chat = QVBoxLayout(chat_panel)
        chat.setContentsMargins(10, 10, 10, 10)
        self.chat_hint = SecondaryLabel(messages.CHAT_EMPTY)
        self.chat_hint.setWordWrap(True)
        chat.addWidget(self.chat_hint)
        chat.addWidget(self.chat_list, 1)
        chat.addLayout(entry)
        chat_panel.setMinimumWidth(240)
        chat_panel.setMaximumWidth(340)

        # The study session sits above the chat: goals and clock stay in sight for the whole call.
        self.study = StudyPanel()
        self.study.setMaximumWidth(340)
        # The chat gives way to the study panel in a small window. The chat's wrapped hint makes its panel
        # height-for-width, and a column of those squeezes both to their share of a preferred height
        # (the panel's check-out form was crushed at 820x560); an Ignored list height keeps the panel whole.
        self.chat_list.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Ignored)
        self.chat_list.setMinimumHeight(60)
        side = QVBoxLayout()
        side.setSpacing(10)
        side.addWidget(self.study)
        side.addWidget(chat_panel, 1)

        layout = QHBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 16)
        layout.setSpacing(14)
        layout.addLayout(main, 1)
        layout.addLayout(side)

        self._clock = QElapsedTimer()
        self._tick = QTimer(self)
        self._tick.setInterval(250)
        self._tick.timeout.connect(self._update_elapsed)
        # A rebuild that brings the picture back within a second is not worth a flash of words.
        self._reconnecting = QTimer(self)
        self._reconnecting.setSingleShot(True)
        self._reconnecting.setInterval(RECONNECTING_AFTER_MS)
        self._reconnecting.timeout.connect(self._show_reconnecting)

        self.mute_button.toggled.connect(self._mute_toggled)
        self.camera_button.toggled.connect(self._camera_toggled)
        self.background_button.toggled.connect(self.background_toggled)
        self.share_button.clicked.connect(self._share_clicked)
        self.skip_button.clicked.connect(self.skip_requested)
        self.end_button.clicked.connect(self.end_requested)
        self.send_button.clicked.connect(self.submit_chat)
        self.chat_input.returnPressed.connect(self.submit_chat)
        self.study.next_requested.connect(self.skip_requested)
        self.study.end_requested.connect(self.end_requested)

    def _button(self, text: str, key: str, *, checkable: bool = False, tip: str = "") -> QPushButton:
        button = QPushButton(text)
        button.setCheckable(checkable)
        button.setAccessibleName(text)
        button.setToolTip(f"{tip or text} ({key})" if not tip else tip)
        button.setMinimumHeight(36)
        button.setMinimumWidth(96)
        return button

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.stage and event.type() == QEvent.Type.Resize:
            self._place_self_view()
        elif (watched is self.remote and event.type() == QEvent.Type.MouseButtonRelease
              and isinstance(event, QMouseEvent) and event.button() == Qt.MouseButton.LeftButton):  # fmt: skip
            self.toggle_zoom(event.position())
        return False

    def _place_self_view(self) -> None:
        w = max(120, min(240, self.stage.width() // 4))
        h = w * 3 // 4
        self.self_view.setGeometry(self.stage.width() - w - 12, self.stage.height() - h - 12, w, h)
        self.self_view.raise_()

    def toggle_zoom(self, at: QPointF | None = None) -> None:
        """The partner's shared screen at actual size, the point `at` kept under the pointer; or fitted."""
        size = self.remote.frame_size()
        if not self.partner_screen or size is None:
            return
        if self.zoomed:
            self._fit()
            return
        view = self.remote_area.viewport().size()
        point = (view.width() / 2, view.height() / 2) if at is None else (at.x(), at.y())
        ratio = self.remote.devicePixelRatioF()
        scroll = zoom_scroll(point, size, (view.width(), view.height()), ratio)
        self.zoomed = True
        self.remote_area.setWidgetResizable(False)
        self.remote.resize(*actual_size(*size, ratio))
        self.remote_area.horizontalScrollBar().setValue(scroll[0])
        self.remote_area.verticalScrollBar().setValue(scroll[1])
        self._show_banner()

    def _fit(self) -> None:
        self.zoomed = False
        self.remote_area.setWidgetResizable(True)
        self._show_banner()

    def _show_banner(self) -> None:
        hint = messages.SCREEN_ZOOM_OUT if self.zoomed else messages.SCREEN_ZOOM_IN
        self.screen_banner.setText(f"{messages.SCREEN_PARTNER_SHARING}. {hint}")
        self.screen_banner.setVisible(self.partner_screen)
        self.remote.setToolTip(hint if self.partner_screen else "")

    # --- intents -----------------------------------------------------------
    def _mute_toggled(self, muted: bool) -> None:
        self._sync_buttons()
        self.mute_toggled.emit(muted)

    def _camera_toggled(self, off: bool) -> None:
        self._sync_buttons()
        if off:
            self.self_view.clear()
        self.camera_toggled.emit(not off)

    def submit_chat(self) -> None:
        text = self.chat_input.text().strip()
        if text:
            self.chat_input.clear()
            self.chat_submitted.emit(text)

    def toggle_mute(self) -> None:
        self.mute_button.toggle()

    def _share_clicked(self) -> None:
        (self.stop_share_requested if self.sharing else self.share_requested).emit()

    def toggle_camera(self) -> None:
        if self.camera_button.isEnabled():
            self.camera_button.toggle()

    # --- state -------------------------------------------------------------
    def start(self, partner_mode: str, partner_topic: str, *, practice: bool, own_mode: str) -> None:
        self.remote.clear()
        self.self_view.clear()
        self.chat_list.clear()
        self.chat_hint.show()
        self.study.reset()
        self.quality.reset()
        self.quality_label.setText(messages.QUALITY_UNKNOWN)
        self._subject = messages.PARTNER_SUBJECT.format(topic=partner_topic) if partner_topic else ""
        if practice:
            label = messages.PRACTICE_PARTNER
        else:
            label = messages.PARTNER_VIDEO if partner_mode == "video" else messages.PARTNER_AUDIO
            label += self._subject
        self.partner.setText(label)
        self.remote.set_placeholder(messages.CONNECTING)
        self.partner_camera_on = True
        self._partner_video = partner_mode == "video"
        self.set_sharing(False)
        self.set_partner_screen(False)
        self.set_reconnecting(False)  # a new partner: nothing of the last call's network
        self.skip_button.setEnabled(not practice)
        self.report_button.setEnabled(not practice)
        self.set_avoidable(False)  # until the match says (set_partner)
        self._again_possible = not practice  # "Study again" goes on the study session's state channel
        self.again.reset(shown=False)  # until the session starts (study_started)
        self.set_own_mode(own_mode)
        self._clock.start()
        self._tick.start()
        self._update_elapsed()
        QTimer.singleShot(0, self._place_self_view)

    def stop(self) -> None:
        self._tick.stop()
        self.study.stop()

    def set_partner(self, favourite: str | None, avoidable: bool) -> None:
        """What the match said about the partner (after start()): a favourite's nickname, and whether
        "never again" can take. A favourite needs no "Study again": it is one already."""
        if favourite:
            self.partner.setText(messages.PARTNER_FAVOURITE.format(nickname=favourite) + self._subject)
            self._again_possible = False
        self.set_avoidable(avoidable)

    def study_started(self) -> None:
        """The study session is on (again after a resume, the tick kept): "Study again" can be said."""
        self.again.setVisible(self._again_possible)

    def set_avoidable(self, avoidable: bool) -> None:
        self.block_action.setEnabled(avoidable)
        self.block_action.setToolTip(messages.BLOCK_TIP if avoidable else messages.BLOCK_UNAVAILABLE_TIP)

    def set_own_mode(self, mode: str) -> None:
        video = mode == "video"
        self.camera_button.setEnabled(video)
        self.self_view.setVisible(video)
        self.share_button.setVisible(video and self._partner_video)  # a screen goes where the video goes
        self._sync_buttons()

    def set_sharing(self, on: bool) -> None:
        """We send our screen (on): the button stops it, and the self-view says so."""
        self.sharing = on
        self.share_button.setText(messages.SCREEN_STOP if on else messages.SCREEN_SHARE)
        self.share_button.setAccessibleName(self.share_button.text())
        self.share_button.setToolTip(messages.SCREEN_STOP_TIP if on else messages.SCREEN_SHARE_TIP)
        if on:
            self.self_view.clear()
        self.self_view.set_placeholder(messages.SCREEN_SHARING_SELF if on else messages.NO_VIDEO_SELF)

    def set_partner_screen(self, on: bool) -> None:
        """The partner sends their screen (on): said above it, fitted, a click zooms; or their camera again."""
        self.partner_screen = on
        self.remote.setAccessibleDescription(messages.SCREEN_PARTNER_SHARING if on else "")
        self._fit()

    def media_connected(self, partner_mode: str) -> None:
        if partner_mode != "video":
            self.remote.set_placeholder(messages.NO_VIDEO_PARTNER)
        elif self.partner_camera_on:  # else the partner already said their camera is off
            self.remote.set_placeholder(messages.CONNECTING)

    def set_partner_camera(self, on: bool) -> None:
        """Say the partner's camera is off rather than show black; their picture again when on."""
        self.partner_camera_on = on
        if on:
            self.remote.set_placeholder("")  # their next frame paints over the black
        else:
            self.remote.clear()
            self.remote.set_placeholder(messages.PARTNER_CAMERA_OFF)
        self.remote.setAccessibleDescription("" if on else messages.PARTNER_CAMERA_OFF)  # screen readers

    def set_reconnecting(self, on: bool) -> None:
        """The media is being rebuilt: "Reconnecting…" over the partner's last picture, which stays,
        once the picture has not come back for RECONNECTING_AFTER_MS (most rebuilds take 50 ms)."""
        if on:
            if not self._reconnecting.isActive() and not self.remote.overlay():
                self._reconnecting.start()
            return
        self._reconnecting.stop()
        self.remote.set_overlay("")
        camera = "" if self.partner_camera_on else messages.PARTNER_CAMERA_OFF
        self.remote.setAccessibleDescription(camera)  # screen readers

    def _show_reconnecting(self) -> None:
        self.remote.set_overlay(messages.MEDIA_RECONNECTING)
        self.remote.setAccessibleDescription(messages.MEDIA_RECONNECTING)  # screen readers

    def set_muted(self, muted: bool) -> None:
        self.mute_button.blockSignals(True)
        self.mute_button.setChecked(muted)
        self.mute_button.blockSignals(False)
        self._sync_buttons()

    def set_camera_on(self, on: bool) -> None:
        self.camera_button.blockSignals(True)
        self.camera_button.setChecked(not on)
        self.camera_button.blockSignals(False)
        self._sync_buttons()

    def set_background(self, value: str) -> None:
        self.background_button.blockSignals(True)
        self.background_button.setChecked(value != "none")
        self.background_button.blockSignals(False)

    def _sync_buttons(self) -> None:
        muted = self.mute_button.isChecked()
        self.mute_button.setText(messages.UNMUTE if muted else messages.MUTE)
        self.mute_button.setAccessibleName(self.mute_button.text())
        off = self.camera_button.isChecked()
        self.camera_button.setText(messages.CAMERA_ON if off else messages.CAMERA_OFF)
        self.camera_button.setAccessibleName(self.camera_button.text())

    def set_stats(self, rtt: float | None, loss: float | None, bitrate: float | None) -> None:
        self.quality.set_stats(rtt, loss, bitrate)
        self.quality_label.setText(self.quality.quality.text)
        self.quality_label.setToolTip(self.quality.quality.detail)

    def add_chat(self, text: str, mine: bool) -> None:
        self.chat_hint.hide()
        who = messages.CHAT_ME if mine else messages.CHAT_PARTNER
        item = QListWidgetItem(f"{who}: {text}")
        item.setTextAlignment(Qt.AlignmentFlag.AlignRight if mine else Qt.AlignmentFlag.AlignLeft)
        self.chat_list.addItem(item)
        self.chat_list.scrollToBottom()

    def chat_texts(self) -> list[str]:
        return [self.chat_list.item(i).text() for i in range(self.chat_list.count())]

    def seconds(self) -> float:
        return self._clock.elapsed() / 1000 if self._clock.isValid() else 0.0

    def _update_elapsed(self) -> None:
        self.elapsed.setText(clock.duration(self.seconds()))
