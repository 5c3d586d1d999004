"""The main window: a header, notices, three pages, the help overlay, shortcuts.

`_connect_signals()` is the one place where the views' intents meet the
controller's slots and the controller's signals meet the views' renderers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QCloseEvent, QIcon, QKeySequence, QShortcut
from PySide6.QtMultimedia import QAudioDevice
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QStackedWidget,
    QSystemTrayIcon,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from client import events as ev
from client import messages
from client.ui import alerts
from client.ui.controller import Controller
from client.ui.devices import DeviceWatcher
from client.ui.miniwindow import MiniFollower, MiniWindow
from client.ui.pages import Page
from client.ui.resources import asset_path
from client.ui.seams import FavouriteLike
from client.ui.sounds import SoundPlayer
from client.ui.views.call import CallView
from client.ui.views.history import HistoryDialog
from client.ui.views.lobby import LobbyView
from client.ui.views.screenpicker import ListScreens, ScreenPicker
from client.ui.views.searching import SearchingView
from client.ui.views.settings_dialog import SettingsDialog, SettingsValues
from client.ui.visibility import WindowSight
from client.ui.widgets.help_overlay import HelpOverlay
from client.ui.widgets.labels import SecondaryLabel
from client.ui.widgets.notices import NoticeArea


def app_icon() -> QIcon:
    path = asset_path("studymatch.svg") or asset_path("studymatch.png")
    return QIcon(str(path)) if path is not None else QIcon()


class MainWindow(QMainWindow):
    close_requested = Signal()  # the app shuts the engine down, then quits
    smooth_video_changed = Signal(bool)  # "Always smooth video" saved: the app tells the camera

    def __init__(self, controller: Controller, *, devices: DeviceWatcher | None = None,
                 list_screens: ListScreens | None = None) -> None:  # fmt: skip
        super().__init__()
        self.controller = controller
        self.list_screens = list_screens or _list_screens  # what the screen picker offers (tests give theirs)
        self.screen_picker: ScreenPicker | None = None
        self.devices = devices or DeviceWatcher(self)
        self.sounds = SoundPlayer(self)
        self.setWindowTitle(messages.WINDOW_TITLE)
        self.setWindowIcon(app_icon())
        self.setMinimumSize(QSize(820, 560))
        self.resize(1100, 720)

        self.title = QLabel(messages.APP_NAME)
        font = self.title.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.2)
        self.title.setFont(font)
        logo = QLabel()
        logo.setPixmap(app_icon().pixmap(28, 28))
        self.status = SecondaryLabel("")
        self.status.setAccessibleName(messages.SERVER_STATUS)
        self.low_power = SecondaryLabel(messages.LOW_POWER_LINE)  # on battery: the one line that says so
        self.low_power.setVisible(False)
        self.help_button = self._tool("?", messages.HELP + " (F1)")
        self.settings_button = self._tool("⚙", messages.SETTINGS)
        header = QHBoxLayout()
        header.setContentsMargins(16, 10, 12, 0)
        header.addWidget(logo)
        header.addWidget(self.title)
        header.addStretch(1)
        header.addWidget(self.low_power)
        header.addWidget(self.status)
        header.addWidget(self.help_button)
        header.addWidget(self.settings_button)

        self.notices = NoticeArea()
        self.lobby = LobbyView()
        self.searching = SearchingView()
        self.call = CallView()
        self.pages = QStackedWidget()
        for page in (self.lobby, self.searching, self.call):
            self.pages.addWidget(page)

        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(header)
        layout.addWidget(self.notices)
        layout.addWidget(self.pages, 1)
        self.setCentralWidget(central)
        self.help = HelpOverlay(central)
        self.settings_dialog: SettingsDialog | None = None
        self.history_dialog: HistoryDialog | None = None

        self.tray: QSystemTrayIcon | None = None
        if QSystemTrayIcon.isSystemTrayAvailable():
            self.tray = QSystemTrayIcon(app_icon(), self)
            self.tray.setToolTip(messages.APP_NAME)
            self.tray.show()
        self.notifications_shown: list[str] = []
        self.mini = MiniWindow(controller.settings)
        self.mini_follower = MiniFollower(self, self.mini)
        self.sight = WindowSight(self)

        self.shortcuts: dict[str, QShortcut] = {}
        self._connect_signals()
        self._refresh_devices()
        self.lobby.set_mode(controller.mode)
        self.lobby.set_topic(controller.topic)
        self.lobby.set_study(controller.settings.study_length, controller.settings.study_talk)
        self.sounds.enabled = controller.settings.sounds

    def _tool(self, text: str, name: str) -> QToolButton:
        button = QToolButton()
        button.setText(text)
        button.setToolTip(name)
        button.setAccessibleName(name)
        button.setAutoRaise(True)
        button.setMinimumSize(32, 32)
        return button

    def _shortcut(self, name: str, keys: list[str], slot: object) -> None:
        for i, key in enumerate(keys):
            shortcut = QShortcut(QKeySequence(key), self)
            shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
            shortcut.activated.connect(slot)
            self.shortcuts[f"{name}{i or ''}"] = shortcut

    # --- wiring ------------------------------------------------------------------
    def _connect_signals(self) -> None:
        c = self.controller
        # views -> controller (intents)
        self.lobby.find_requested.connect(c.find)
        self.lobby.test_call_requested.connect(c.start_test_call)
        self.lobby.mode_changed.connect(c.set_mode)
        self.lobby.camera_selected.connect(lambda d: c.select_device("camera", d))
        self.lobby.microphone_selected.connect(lambda d: c.select_device("microphone", d))
        self.lobby.speaker_selected.connect(self._speaker_selected)
        self.lobby.study_chosen.connect(c.set_study)
        self.lobby.history_requested.connect(self.open_history)
        self.lobby.favourite_requested.connect(c.find_favourite)
        self.lobby.block_last_requested.connect(c.comeback.block_partner)
        self.searching.any_subject_requested.connect(c.search_any_subject)
        self.call.block_requested.connect(c.comeback.block_partner)
        self.call.again.again_changed.connect(c.comeback.set_again)
        self.lobby.history_button.setEnabled(c.history.store is not None)  # no file: no history this time
        self.searching.cancel_requested.connect(c.cancel)
        self.call.skip_requested.connect(c.skip)
        self.call.end_requested.connect(c.end)
        self.call.report_requested.connect(c.report)
        self.call.mute_toggled.connect(c.set_muted)
        self.call.camera_toggled.connect(c.set_camera)
        self.lobby.background_chosen.connect(c.background.choose)
        self.call.background_toggled.connect(c.background.toggle)
        self.call.chat_submitted.connect(c.send_chat)
        self.call.share_requested.connect(self.open_screen_picker)
        self.call.stop_share_requested.connect(c.stop_screen_share)
        self.call.study.goal_set.connect(c.study.set_goal)
        self.call.study.ready_requested.connect(c.study.set_ready)
        self.call.study.checkout_submitted.connect(c.study.check_out)
        self.call.study.brb_toggled.connect(c.study.set_brb)
        self.call.study.pomodoro_toggled.connect(c.study.set_pomodoro)
        self.notices.action_triggered.connect(c.notice_action)
        self.settings_button.clicked.connect(self.open_settings)
        self.help_button.clicked.connect(self.help.toggle)
        # controller -> views (state)
        c.page_changed.connect(self._show_page)
        c.searching.connect(self.searching.start)
        c.partner_found.connect(self._partner_found)
        c.media_connected.connect(self.call.media_connected)
        c.remote_frame.connect(self.call.remote.set_frame)
        c.partner_camera_changed.connect(self.call.set_partner_camera)
        c.partner_screen_changed.connect(self.call.set_partner_screen)
        c.screen_share_changed.connect(self.call.set_sharing)
        c.media_reconnecting.connect(self.call.set_reconnecting)
        c.local_frame.connect(self._local_frame)
        c.chat_received.connect(self.call.add_chat)
        c.stats_changed.connect(self.call.set_stats)
        c.notice.connect(self.notices.show_notice)
        c.notice_cleared.connect(self.notices.dismiss)
        c.connection_changed.connect(self._connection_changed)
        c.mode_changed.connect(self._mode_changed)
        c.muted_changed.connect(self.call.set_muted)
        c.camera_changed.connect(self.call.set_camera_on)
        c.background_changed.connect(self.lobby.set_background)
        c.background_changed.connect(self.call.set_background)
        c.partner_left.connect(lambda _reason: self.sounds.play("partner_left"))
        c.study_changed.connect(self._study_changed)
        c.device_action.connect(self._device_action)
        c.device_failed.connect(self._device_failed)
        c.settings_requested.connect(self._settings_requested)
        c.history_changed.connect(self._history_changed)
        c.search_changed.connect(self.searching.show_event)
        c.comeback_changed.connect(self._comeback_changed)
        c.people_changed.connect(self._people_changed)
        c.last_partner_blockable.connect(self.lobby.set_last_partner_blockable)
        # the mini window on top while the call is in the background: the same intents, the same state
        self.mini.mute_toggled.connect(c.set_muted)
        self.mini.end_requested.connect(c.end)
        c.page_changed.connect(lambda page: self.mini_follower.set_in_call(page is Page.CALL))
        c.partner_left.connect(lambda _reason: self.mini_follower.set_in_call(False))  # the page lingers
        c.call_ended.connect(lambda _seconds: self.mini_follower.set_in_call(False))
        c.partner_found.connect(lambda mode, _topic, _practice: self.mini.start_call(mode, muted=c.muted))
        c.remote_frame.connect(self.mini.set_frame)
        c.partner_camera_changed.connect(self.mini.set_partner_camera)
        c.muted_changed.connect(self.mini.set_muted)
        c.study_changed.connect(self.mini.on_study)
        self.call.study.goal_set.connect(self.mini.set_my_goal)
        c.partner_level.connect(self.mini.set_partner_level)
        # nothing converted or painted, no lobby preview, while nobody can see the window
        self.sight.changed.connect(self.call.remote.set_shown)
        self.sight.changed.connect(self.call.self_view.set_shown)
        self.sight.changed.connect(self.lobby.preview.set_shown)
        self.sight.changed.connect(c.set_window_seen)
        # devices -> lobby
        self.devices.changed.connect(self._refresh_devices)
        # keyboard
        self._shortcut("find", ["Return", "Enter"], self._enter_pressed)
        self._shortcut("mute", ["M"], self._mute_pressed)
        self._shortcut("camera", ["V"], self._camera_pressed)
        self._shortcut("skip", ["N"], c.skip)
        self._shortcut("end", ["Escape"], self._escape_pressed)
        self._shortcut("history", ["H"], self._history_pressed)
        self._shortcut("help", ["F1", "?"], self.help.toggle)

    # --- reactions -----------------------------------------------------------------
    def _show_page(self, page: Page) -> None:
        widget = {Page.LOBBY: self.lobby, Page.SEARCHING: self.searching, Page.CALL: self.call}[page]
        if page is not Page.SEARCHING:
            self.searching.stop()
        if page is not Page.CALL:
            self.call.stop()
        self.pages.setCurrentWidget(widget)
        self.settings_button.setEnabled(page is Page.LOBBY)
        if page is Page.LOBBY:
            self.lobby.find_button.setFocus()

    def _partner_found(self, mode: str, topic: str, practice: bool) -> None:
        self.call.start(mode, topic, practice=practice, own_mode=self.controller.mode)
        self.call.set_muted(self.controller.muted)
        self.call.set_camera_on(self.controller.camera_on)
        self.sounds.play("partner_found")
        if not self.isActiveWindow() and self.controller.settings.notifications and not practice:
            self.notifications_shown.append(messages.NOTIFY_MATCHED_TITLE)
            if self.tray is not None and QSystemTrayIcon.supportsMessages():
                self.tray.showMessage(messages.NOTIFY_MATCHED_TITLE, messages.NOTIFY_MATCHED_BODY, app_icon(), 5000)
            else:
                QApplicationAlert.alert(self)

    def _study_changed(self, event: object) -> None:
        time_up = isinstance(event, ev.SessionPhase) and event.phase == "check_out"
        if time_up and self.call.study.current_phase != "check_out":  # not again after a resume
            self.sounds.play("session_end")  # a chime, then the check-out form
        self.call.study.show_event(event)
        if isinstance(event, ev.SessionStarted):
            self.call.study_started()

    def _comeback_changed(self, event: object) -> None:
        match event:
            case ev.Matched():
                self.call.set_partner(event.favourite, event.avoidable)
            case ev.PartnerAgain():
                self.call.again.set_partner_again(event.on)

    def _people_changed(self, favourites: Sequence[FavouriteLike], blocked: int) -> None:
        self.lobby.set_favourites(len(favourites))
        if self.history_dialog is not None:
            self.history_dialog.favourites.show_people(favourites, blocked)

    def _local_frame(self, frame: object) -> None:
        if self.pages.currentWidget() is self.call:
            if self.controller.camera_on and not self.controller.sharing:
                self.call.self_view.set_frame(frame)
        elif self.lobby.mode() == "video":
            self.lobby.preview.set_frame(frame)

    def set_low_power(self, on: bool) -> None:
        """Low-power mode (client/media/power.py): the sent video is capped while on battery."""
        self.low_power.setVisible(on)

    def _connection_changed(self, connected: bool, server: str) -> None:
        self.status.setText(("● " if connected else "○ ") + server)
        self.status.setToolTip(server)

    def _mode_changed(self, mode: str) -> None:
        self.lobby.set_mode(mode)
        self.call.set_own_mode(mode)

    def _speaker_selected(self, device_id: str) -> None:
        self.controller.select_device("speaker", device_id)
        self.sounds.set_device(self.devices.speaker(device_id))

    def _device_failed(self, device: str) -> None:
        if device == "camera":
            self.lobby.set_camera_failed()

    def _device_action(self, action: str) -> None:
        if action == "choose_camera":
            self.lobby.focus_camera_picker()
        else:
            self.lobby.focus_microphone_picker()

    def _refresh_devices(self) -> None:
        s = self.controller.settings
        self.lobby.set_cameras(self.devices.cameras(), s.camera)
        self.lobby.set_microphones(self.devices.microphones(), s.microphone)
        self.lobby.set_speakers(self.devices.speakers(), s.speaker)
        speaker: QAudioDevice | None = self.devices.speaker(s.speaker)
        self.sounds.set_device(speaker)

    def open_settings(self) -> None:
        s = self.controller.settings
        values = SettingsValues(s.server, s.auto_search, s.sounds, s.notifications,
                                relay_only=s.relay_only, token=s.token, ca_file=s.ca_file, language=s.language,
                                mini_window=s.mini_window, smooth_video=s.smooth_video)
        if self.settings_dialog is not None:
            self.settings_dialog.close()  # one dialog at a time, showing what is saved now
        dialog = SettingsDialog(values, self)
        dialog.saved.connect(self._settings_saved)
        self.settings_dialog = dialog
        dialog.open()  # not exec(): the event loop (and the engine) keep running

    def _settings_saved(self, values: SettingsValues) -> None:
        s = self.controller.settings
        s.auto_search, s.sounds, s.notifications = values.auto_search, values.sounds, values.notifications
        s.language = values.language  # shown from the next start (the dialog says so)
        s.mini_window = values.mini_window
        if values.smooth_video != s.smooth_video:
            s.smooth_video = values.smooth_video
            self.smooth_video_changed.emit(values.smooth_video)
        self.mini_follower.update()
        self.sounds.enabled = values.sounds
        self.controller.apply_connection(values.server, relay_only=values.relay_only, token=values.token,
                                         ca_file=values.ca_file)

    def open_screen_picker(self) -> None:
        """"Share screen": the screens to choose from, or why there are none (not exec(): the call goes on)."""
        if self.screen_picker is not None:
            self.screen_picker.close()
        picker = ScreenPicker(self.list_screens, self)
        picker.chosen.connect(self.controller.share_screen)
        self.screen_picker = picker
        picker.open()

    def open_history(self) -> None:
        store = self.controller.history.store
        if store is None:
            return
        if self.history_dialog is None:
            self.history_dialog = HistoryDialog(store, self)
            self.history_dialog.favourites.rename_requested.connect(self.controller.comeback.rename)
            self.history_dialog.favourites.remove_requested.connect(self.controller.comeback.forget)
            self.controller.comeback.refresh()  # fills its favourites
        else:
            self.history_dialog.refresh()  # a day may have turned since it was last open
        self.history_dialog.open()  # not exec(): the event loop (and the engine) keep running

    def _history_changed(self, _session: object) -> None:
        if self.history_dialog is not None and self.history_dialog.isVisible():
            self.history_dialog.refresh()

    def _settings_requested(self, key: str) -> None:
        self.open_settings()
        assert self.settings_dialog is not None
        if key == alerts.error_key(alerts.UNAUTHORIZED):
            self.settings_dialog.focus_token()

    # --- keys -------------------------------------------------------------------------
    def _enter_pressed(self) -> None:
        # A window-wide Return shortcut takes the key before line edits see it.
        if self.pages.currentWidget() is self.lobby:
            self.lobby.request_find()
        elif self.pages.currentWidget() is self.call and self.call.chat_input.hasFocus():
            self.call.submit_chat()
        elif self.pages.currentWidget() is self.call and self.call.study.goal.hasFocus():
            self.call.study.submit_goal()
        elif self.pages.currentWidget() is self.call and self.call.again.nickname.hasFocus():
            self.call.again.submit_nickname()

    def _mute_pressed(self) -> None:
        if self.pages.currentWidget() is self.call:
            self.call.toggle_mute()

    def _history_pressed(self) -> None:
        if self.pages.currentWidget() is self.lobby:
            self.open_history()

    def _camera_pressed(self) -> None:
        if self.pages.currentWidget() is self.call:
            self.call.toggle_camera()

    def _escape_pressed(self) -> None:
        if self.help.isVisible():
            self.help.close_overlay()
        else:
            self.controller.end()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.controller.settings.geometry = self.saveGeometry()
        if self.tray is not None:
            self.tray.hide()
        self.close_requested.emit()
        event.accept()


def _list_screens() -> tuple[list[Any], str | None]:
    from client.media.screen import list_screens  # mss and OpenCV load when the picker first opens

    return list_screens()


class QApplicationAlert:
    """Fallback when there is no tray: flash the task bar entry."""

    @staticmethod
    def alert(widget: QWidget) -> None:
        from PySide6.QtWidgets import QApplication

        QApplication.alert(widget, 5000)
