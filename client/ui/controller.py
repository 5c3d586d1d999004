"""The ONE QObject between the call engine and the window.

The engine reports plain events (client/events.py); the controller turns them
into Qt signals the views render, and turns the views' intents into engine
calls. It owns no widget and no widget knows it: MainWindow._connect_signals()
wires both sides. Everything runs on the Qt thread (qasync), so events can be
re-emitted directly.

Ideas of their own live next door: the test call's own engine
(practicecall.py), what a notice's button does (noticeactions.py), the lobby's
live camera (lobbypreview.py), what the settings mean for a new engine
(connection.py) and the engine calls in flight (background.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

from PySide6.QtCore import QObject, Signal

from client import events as ev
from client import messages
from client.ui import alerts, connection, noticeactions, practicecall
from client.ui.background import Background
from client.ui.lobbypreview import LobbyPreview
from client.ui.practicecall import PracticeCall
from client.ui.seams import EngineFactory, EngineLike, EngineOptions, PracticeFactory, PreviewHooks
from client.ui.settings import Settings
from client.ui.widgets.notices import Notice

__all__ = ["PAGES", "Controller", "EngineFactory", "EngineLike", "EngineOptions", "PracticeFactory", "PreviewHooks"]

PAGES = ("lobby", "searching", "call")


class Controller(QObject):
    page_changed = Signal(str)  # one of PAGES
    searching = Signal(str)  # topic ("" = any)
    partner_found = Signal(str, str, bool)  # partner mode, partner topic, practice
    media_connected = Signal(str)  # partner mode
    remote_frame = Signal(object)  # av.VideoFrame
    partner_camera_changed = Signal(bool)  # the partner's camera on (their frames are shown) or off
    local_frame = Signal(object)  # av.VideoFrame
    chat_received = Signal(str, bool)  # text, mine
    stats_changed = Signal(object, object, object)  # rtt ms, loss %, kbit/s (each may be None)
    notice = Signal(object)  # widgets.notices.Notice
    notice_cleared = Signal(str)  # key
    connection_changed = Signal(bool, str)  # connected, server
    mode_changed = Signal(str)
    muted_changed = Signal(bool)
    camera_changed = Signal(bool)
    partner_left = Signal(str)  # reason
    call_ended = Signal(float)  # seconds
    device_failed = Signal(str)  # "camera" | "microphone"
    device_action = Signal(str)  # "choose_camera" | "choose_microphone": the window focuses a picker
    settings_requested = Signal(str)  # the notice's key: the window opens Settings (token, address, CA file)

    def __init__(
        self,
        settings: Settings,
        engine_factory: EngineFactory,
        *,
        fake_media: bool = False,
        practice_factory: PracticeFactory | None = None,
        preview: PreviewHooks | None = None,
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__()
        self.settings = settings
        self._background = Background(loop or asyncio.get_event_loop_policy().get_event_loop())
        self._engine_factory = engine_factory
        self._practice = PracticeCall(practice_factory, engine_factory)
        self._preview = LobbyPreview(preview, self._wants_preview, self._start_preview, self.spawn)
        self._fake_media = fake_media
        self.engine: EngineLike | None = None
        self.page = "lobby"
        self.mode = settings.mode
        self.topic = settings.topic
        self.session: str | None = None
        self.partner_mode = "video"
        self.partner_camera_on = True  # until the partner says otherwise (an older client never does)
        self.muted = False
        self.camera_on = True
        self.connected = False
        self._last_intent = ""

    # --- plumbing ------------------------------------------------------------
    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Run an engine call in the background; a failure lands in `errors`."""
        return self._background.spawn(coro)

    async def settle(self) -> None:
        """Wait until every intent handed to the engine has run (tests, shutdown)."""
        await self._background.settle()

    def options(self, server: str | None = None) -> EngineOptions:
        return connection.engine_options(self.settings, mode=self.mode, topic=self.topic,
                                         fake_media=self._fake_media, server=server)

    @property
    def _practice_engine(self) -> EngineLike | None:
        return self._practice.engine

    def active_engine(self) -> EngineLike | None:
        """The engine of the call on screen: the test call's while there is one."""
        return self._practice_engine or self.engine

    def _set_page(self, page: str) -> None:
        if page != self.page:
            self.page = page
            self.page_changed.emit(page)
            self.update_preview()

    def update_preview(self) -> None:
        self._preview.update()

    def _wants_preview(self) -> bool:
        """The lobby shows the camera live; in a call the engine's own frames do (LocalVideoFrame)."""
        return self.page == "lobby" and self.mode == "video" and self.camera_on and self.engine is not None

    async def _start_preview(self, hooks: PreviewHooks) -> None:
        await hooks.start_preview(self.options(), self.local_frame.emit, self.on_event)

    def _notify(self, key: str, text: str, level: str = "info", actions: tuple[tuple[str, str], ...] = (),
                timeout: float | None = None) -> None:
        self.notice.emit(Notice(key, text, level, actions, timeout))

    # --- lifecycle -------------------------------------------------------------
    async def start(self, server: str | None = None) -> None:
        """Create the engine and connect; the engine keeps retrying on its own."""
        self.engine = self._engine_factory(self.options(server), self.on_event)
        await self.engine.start()
        self.update_preview()

    async def restart(self, server: str | None = None) -> None:
        """New server address or devices: a fresh engine (only between calls)."""
        old, self.engine = self.engine, None
        await self._preview.stop()
        if old is not None:
            await old.close()
        await self.start(server)

    async def shutdown(self) -> None:
        await self.settle()
        await self._practice.close()
        await self._preview.stop()
        if self.engine is not None:
            await self.engine.close()
            self.engine = None

    # --- intents (slots the views' signals connect to) ------------------------
    def find(self, mode: str, topic: str) -> None:
        if self.page != "lobby" or self.engine is None:
            return
        self._last_intent = "find"
        self.mode, self.topic = mode, topic.strip()
        self.settings.mode, self.settings.topic = self.mode, self.topic
        self.notice_cleared.emit("partner")
        self._enter_searching()
        self.spawn(self.engine.find(self.mode, self.topic or None))

    def _enter_searching(self) -> None:
        self._set_page("searching")
        self.searching.emit(self.topic)

    def cancel(self) -> None:
        if self.page != "searching":
            return
        self._last_intent = "cancel"
        self._set_page("lobby")
        if self._practice_engine is not None:  # a test call's search: end the test, not the real search
            self.spawn(self._practice.close())
        elif self.engine is not None:
            self.spawn(self.engine.cancel())

    def skip(self) -> None:
        if self.page != "call" or self._practice_engine is not None or self.engine is None:
            return
        self._last_intent = "skip"
        self._end_call_view()
        self._enter_searching()
        self.spawn(self.engine.skip())

    def end(self) -> None:
        if self.page == "searching":
            self.cancel()
            return
        if self.page != "call":
            return
        self._last_intent = "end"
        self._end_call_view()
        self._set_page("lobby")
        if self._practice_engine is not None:
            self.spawn(self._practice.close())
        elif self.engine is not None:
            self.spawn(self.engine.leave())

    def report(self, reason: str) -> None:
        if self.page != "call" or self.engine is None or self._practice_engine is not None:
            return
        self.spawn(self.engine.report(reason))
        self._notify("report", messages.NOTICE_REPORTED, timeout=8)

    def send_chat(self, text: str) -> None:
        engine = self.active_engine()
        if self.page == "call" and engine is not None and text.strip():
            self.spawn(engine.send_chat(text.strip()))

    def set_muted(self, muted: bool) -> None:
        self.muted = muted
        for engine in (self.engine, self._practice_engine):
            if engine is not None:
                engine.set_microphone_muted(muted)
        self.muted_changed.emit(muted)

    def toggle_mute(self) -> None:
        self.set_muted(not self.muted)

    def set_camera(self, on: bool) -> None:
        if self.mode != "video":
            return
        self.camera_on = on
        engine = self.active_engine()
        if engine is not None:
            self.spawn(engine.set_camera_enabled(on))
        self.camera_changed.emit(on)

    def toggle_camera(self) -> None:
        self.set_camera(not self.camera_on)

    def set_mode(self, mode: str) -> None:
        if mode in ("video", "audio") and self.page == "lobby":
            self.mode = mode
            self.settings.mode = mode
            self.update_preview()

    def select_device(self, kind: str, device_id: str) -> None:
        """A picker changed: remembered, and the engine rebuilt with it between calls."""
        setattr(self.settings, kind, device_id)
        if self.page == "lobby" and self.engine is not None:
            self.spawn(self.restart())

    def apply_connection(self, server: str, *, relay_only: bool, token: str, ca_file: str) -> None:
        """Settings saved: a new engine when anything about the connection changed."""
        changed = connection.store_connection(self.settings, server, relay_only=relay_only, token=token,
                                              ca_file=ca_file)
        if changed or self.engine is None:
            self.reconnect()

    def reconnect(self) -> None:
        """A fresh engine with the current settings; a search or call in progress ends first."""
        for key in alerts.CONNECTION_KEYS:
            self.notice_cleared.emit(key)
        if self.page == "call":
            self.end()
        elif self.page == "searching":
            self.cancel()
        self.spawn(self.restart())

    def speaker_notice(self, text: str) -> None:
        self.notice.emit(alerts.speaker_notice(text))

    def notice_action(self, key: str, action: str) -> None:
        noticeactions.perform(self, key, action)

    def start_test_call(self, mode: str) -> None:
        if self.page != "lobby" or not self._practice.available:
            return
        self.mode = mode
        self._last_intent = "test"
        self.spawn(self._start_practice())

    async def _start_practice(self) -> None:
        self.notice_cleared.emit("practice")
        try:
            engine = await self._practice.open(self.mode, self.options(), self._on_practice_event)
        except Exception as exc:  # any failure becomes a notice; the lobby stays usable
            self._notify("practice", messages.NOTICE_PRACTICE_FAILED.format(message=exc), "warning")
            return
        self._set_page("searching")
        self.searching.emit("")
        await engine.start()
        if self._practice.engine is not engine:
            return  # cancelled while it connected: closed already
        engine.set_microphone_muted(self.muted)
        await engine.find(self.mode, None)

    # --- events ----------------------------------------------------------------
    def _on_practice_event(self, event: Any) -> None:
        if self._practice_engine is not None and practicecall.shown(event):  # None: ended, late news
            self._handle(event, practice=True)

    def on_event(self, event: Any) -> None:
        """The engine's callback (runs on the Qt thread under qasync)."""
        if self._practice_engine is None or not practicecall.hidden_by_practice(event):
            self._handle(event, practice=False)

    def _handle(self, event: Any, *, practice: bool) -> None:
        if isinstance(event, ev.RemoteVideoFrame):
            if event.session == self.session and self.partner_camera_on:  # off: black, not painted
                self.remote_frame.emit(event.frame)
        elif isinstance(event, ev.PartnerCamera):
            if event.session == self.session:
                self.partner_camera_on = event.on
                self.partner_camera_changed.emit(event.on)
        elif isinstance(event, ev.LocalVideoFrame):
            self.local_frame.emit(event.frame)
        elif isinstance(event, ev.CallStats):
            if event.session == self.session:
                self.stats_changed.emit(event.rtt_ms, event.loss_percent, event.bitrate_kbps)
        elif isinstance(event, ev.ChatMessage):
            if event.session == self.session:
                self.chat_received.emit(event.text, event.mine)
        elif isinstance(event, ev.Connected):
            was = self.connected
            self.connected = True
            self.notice_cleared.emit("server")
            self.connection_changed.emit(True, event.server)
            if not was and self._last_intent:
                self._notify("server", messages.NOTICE_RECONNECTED.format(server=event.server), timeout=4)
        elif isinstance(event, ev.Disconnected):
            self.connected = False
            self.connection_changed.emit(False, event.server)
            self.notice.emit(alerts.disconnected_notice(event))
        elif isinstance(event, ev.Shutdown):
            self._notify("server", messages.NOTICE_SERVER_SHUTDOWN.format(seconds=event.retry_after), "warning")
        elif isinstance(event, ev.Queued):
            if self.page == "lobby" and self._last_intent in ("find", "skip", "auto", "test"):
                self._enter_searching()
        elif isinstance(event, ev.Matched):
            self.session = event.session
            self.partner_mode = event.partner_mode
            self.partner_camera_on = True
            self.notice_cleared.emit("partner")
            self.notice_cleared.emit("media")
            self._set_page("call")
            self.partner_found.emit(event.partner_mode, event.partner_topic or "", practice)
        elif isinstance(event, ev.MediaConnected):
            if event.session == self.session:
                self.media_connected.emit(self.partner_mode)
        elif isinstance(event, ev.MediaFailed):
            if event.session == self.session:
                actions = () if practice else (("next", messages.ACTION_SKIP),)
                self._notify("media", messages.NOTICE_MEDIA_FAILED.format(message=event.message), "error", actions)
        elif isinstance(event, ev.DeviceErrorEvent):
            self.notice.emit(alerts.device_notice(event))
            self.device_failed.emit(event.device)
        elif isinstance(event, ev.ModeChanged):
            self.mode = event.mode
            self.mode_changed.emit(event.mode)
            self.update_preview()
            if event.message:
                self._notify("mode", event.message, timeout=10)
        elif isinstance(event, ev.PartnerLeft):
            self._partner_left(event, practice)
        elif isinstance(event, ev.CallEnded):
            if event.session == self.session:
                self.session = None
                self.call_ended.emit(event.seconds)
        elif isinstance(event, ev.ErrorEvent):
            s = self.settings
            self.notice.emit(alerts.error_notice(event, server=s.server, token=s.token, ca_file=s.ca_file))
        elif isinstance(event, ev.Idle):
            if self.page == "searching" and self._last_intent == "cancel":
                self._set_page("lobby")

    def _partner_left(self, event: ev.PartnerLeft, practice: bool) -> None:
        if event.session != self.session or self.page != "call":
            return
        self._end_call_view()
        self.partner_left.emit(event.reason)
        if practice:
            self.spawn(self._practice.close())
            self._set_page("lobby")
            return
        if self.settings.auto_search and self.engine is not None:
            self._notify("partner", messages.NOTICE_PARTNER_LEFT_AGAIN, timeout=6)
            self._last_intent = "auto"
            self._enter_searching()
            self.spawn(self.engine.find(self.mode, self.topic or None))
        else:
            text = messages.NOTICE_PARTNER_REPORTED if event.reason == "reported" else messages.NOTICE_PARTNER_LEFT
            self._notify("partner", text, actions=(("next", messages.ACTION_SKIP),))
            self._set_page("lobby")

    def _end_call_view(self) -> None:
        """Leaving the call screen: the old session's frames must not paint any more."""
        self.session = None
