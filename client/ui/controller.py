"""The ONE QObject between the call engine and the window.

The engine reports plain events (client/events.py); the controller turns them
into Qt signals the views render, and the views' intents into engine calls.
It owns no widget and no widget knows it: MainWindow._connect_signals() wires
both sides. Everything runs on the Qt thread (qasync): events are re-emitted
directly. The page follows the session model (client/session.py) of the active
engine, the real one or the test call's, which an intent moves at once; the
controller keeps none of its own (pages.py `Screen`).

Next door: the test call (client/practice/call.py), the lobby's live camera
(lobbypreview.py), the settings for a new engine (connection.py), the engine
calls in flight (background.py), the call page's network notices (callnotices.py),
what a notice's buttons do (noticeactions.py), the study panel's intents (studyintents.py),
what the history keeps of each session (historyrecorder.py) and the favourites and "never
again" (comebackintents.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

from PySide6.QtCore import QObject, Signal

from client import events as ev
from client import messages
from client.history.store import HistoryStore
from client.practice import call as practice_call
from client.ui import alerts, callnotices, connection, noticeactions
from client.ui.background import Background
from client.ui.backgroundintents import BackgroundIntents
from client.ui.comebackintents import ComebackIntents
from client.ui.historyrecorder import HistoryRecorder
from client.ui.lobbypreview import LobbyPreview
from client.ui.pages import Page, Screen
from client.ui.seams import EngineFactory, EngineLike, EngineOptions, PracticeFactory, PreviewHooks
from client.ui.settings import Settings
from client.ui.studyintents import StudyIntents
from client.ui.widgets.notices import Notice

__all__ = ["Controller", "EngineFactory", "EngineLike", "EngineOptions", "Page", "PracticeFactory", "PreviewHooks"]


class Controller(QObject):
    page_changed = Signal(object)  # a Page
    searching = Signal(str)  # topic ("" = any)
    partner_found = Signal(str, str, bool)  # partner mode, partner topic, practice
    media_connected = Signal(str)  # partner mode
    remote_frame = Signal(object)  # av.VideoFrame
    partner_camera_changed = Signal(bool)  # the partner's camera on (their frames are shown) or off
    partner_screen_changed = Signal(bool)  # the partner sends their screen in place of their camera, or not
    screen_share_changed = Signal(bool)  # we send our screen in place of the camera, or not
    media_reconnecting = Signal(bool)  # "Reconnecting…" over the partner's last picture, or not
    local_frame = Signal(object)  # av.VideoFrame
    chat_received = Signal(str, bool)  # text, mine
    stats_changed = Signal(object, object, object)  # rtt ms, loss %, kbit/s (each may be None)
    notice = Signal(object)  # widgets.notices.Notice
    notice_cleared = Signal(str)  # key
    connection_changed = Signal(bool, str)  # connected, server
    mode_changed = Signal(str)
    muted_changed = Signal(bool)
    camera_changed = Signal(bool)
    background_changed = Signal(str)  # "none" | "blur" | "colour" (client/ui/backgroundintents.py)
    partner_left = Signal(str)  # reason
    call_ended = Signal(float)  # seconds
    device_failed = Signal(str)  # "camera" | "microphone"
    device_action = Signal(str)  # "choose_camera" | "choose_microphone": the window focuses a picker
    settings_requested = Signal(str)  # the notice's key: the window opens Settings (token, address, CA file)
    partner_level = Signal(float)  # the partner's voice, 0..1 on a meter's scale, ten times a second
    study_changed = Signal(object)  # a study event of the call on screen (ev.STUDY_EVENTS)
    history_changed = Signal(object)  # a finished session was kept (client.history.progress.Session)
    search_changed = Signal(object)  # ev.Counts, FavouriteSearch or FavouriteFallback of the search on screen
    comeback_changed = Signal(object)  # ev.Matched (favourite, avoidable) or ev.PartnerAgain of the call on screen
    people_changed = Signal(object, int)  # the favourites (seams.FavouriteLike), how many partners are blocked
    last_partner_blockable = Signal(bool)  # the lobby offers "Don't match me with my last partner again"

    def __init__(
        self,
        settings: Settings,
        engine_factory: EngineFactory,
        *,
        fake_media: bool = False,
        practice_factory: PracticeFactory | None = None,
        preview: PreviewHooks | None = None,
        loop: asyncio.AbstractEventLoop | None = None,
        history: HistoryStore | None = None,
    ) -> None:
        super().__init__()
        self.settings = settings
        self._background = Background(loop or asyncio.get_event_loop_policy().get_event_loop())
        self._engine_factory = engine_factory
        self._practice = practice_call.PracticeCall(practice_factory, engine_factory)
        self._preview = LobbyPreview(preview, self._wants_preview, self._start_preview, self.spawn,
                                     unseen=lambda: not self.window_seen)
        self._fake_media = fake_media
        self.engine: EngineLike | None = None
        self._screen = Screen(self._page_changed)  # follows the active engine's model
        self.mode = settings.mode
        self.topic = settings.topic
        self.session: str | None = None
        self.partner_mode = "video"
        self.partner_camera_on = True  # until the partner says otherwise (an older client never does)
        self.muted = False
        self._quiet_session: str | None = None  # the quiet session the microphone was muted for
        self.camera_on = True
        self.sharing = False  # our screen is sent in the call on screen
        self.window_seen = True  # the window can be seen: the lobby preview runs only then
        self.connected = False
        self.study = StudyIntents(self._study_engine)  # the study panel's intents
        self.background = BackgroundIntents(settings, self.background_changed.emit)  # blur, plain colour
        self.history = HistoryRecorder(history, lambda: self.engine, lambda: (self.mode, self.topic),
                                       self.history_changed.emit)
        self.comeback = ComebackIntents(lambda: self.engine, self._study_engine, self.spawn, self.notice.emit,
                                 self.people_changed.emit, self.last_partner_blockable.emit)
        self._call_notices = callnotices.CallNotices(self.notice.emit, self.notice_cleared.emit,
                                                     self.media_reconnecting.emit)

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

    def active_engine(self) -> EngineLike | None:
        """The engine of the call on screen: the test call's while there is one."""
        return self._practice.engine or self.engine

    @property
    def page(self) -> Page:
        return self._screen.page

    def _follow_active(self) -> None:
        engine = self.active_engine()
        self._screen.follow(None if engine is None else engine.model)

    def _page_changed(self, page: Page) -> None:
        self.page_changed.emit(page)
        self.update_preview()
        if page is Page.LOBBY and self.engine is not None:
            self.comeback.refresh()  # a favourite kept by the call that just ended

    def update_preview(self) -> None:
        self._preview.update()

    def _wants_preview(self) -> bool:
        """The lobby shows the camera live; in a call the engine's own frames do (LocalVideoFrame)."""
        return (self.page is Page.LOBBY and self.mode == "video" and self.camera_on and self.window_seen
                and self.engine is not None)

    def set_window_seen(self, seen: bool) -> None:
        """The window was minimised or hidden (False), or is seen again: the preview follows."""
        self.window_seen = seen
        self.update_preview()

    async def _start_preview(self, hooks: PreviewHooks) -> None:
        await hooks.start_preview(self.options(), self.local_frame.emit, self.on_event)

    def _notify(self, key: str, text: str, level: str = "info", timeout: float | None = None) -> None:
        self.notice.emit(Notice(key, text, level, (), timeout))

    # --- lifecycle -------------------------------------------------------------
    async def start(self, server: str | None = None) -> None:
        """Create the engine and connect; the engine keeps retrying on its own."""
        self.engine = self._engine_factory(self.options(server), self.on_event)
        self._follow_active()
        self.comeback.new_engine()
        await self.engine.start()
        self.update_preview()

    async def restart(self, server: str | None = None) -> None:
        """New server address or devices: a fresh engine (only between calls)."""
        old, self.engine = self.engine, None
        self._follow_active()
        await self._preview.stop()
        if old is not None:
            await old.close()
        await self.start(server)

    async def shutdown(self) -> None:
        await self.settle()
        closing = self._practice.close()
        engine, self.engine = self.engine, None
        self._follow_active()  # none: the engines' last moves as they close are not shown
        await closing
        await self._preview.stop()
        if engine is not None:
            await engine.close()

    # --- intents (slots the views' signals connect to) ------------------------
    def find(self, mode: str, topic: str) -> None:
        if self.page is not Page.LOBBY or self.engine is None:
            return
        self.mode, self.topic = mode, topic.strip()
        self.settings.mode, self.settings.topic = self.mode, self.topic
        self.notice_cleared.emit("partner")
        self._choose_study(self.engine)
        self._search(self.engine.find(self.mode, self.topic or None))

    def find_favourite(self, mode: str, topic: str) -> None:
        """"Study with a favourite": a favourite for a while, then anyone with this mode and subject."""
        if self.page is not Page.LOBBY or self.engine is None:
            return
        self.mode, self.topic = mode, topic.strip()
        self.settings.mode, self.settings.topic = self.mode, self.topic
        self.notice_cleared.emit("partner")
        self._choose_study(self.engine)
        self.engine.model.choose(self.mode, self.topic)  # what the fallback searches for ("": any)
        self._search(self.engine.find_favourite())

    def search_any_subject(self) -> None:
        """The searching page's offer: the same search, in any subject (this time; the lobby keeps the subject)."""
        if self.page is not Page.SEARCHING or self._practice.engine is not None or self.engine is None:
            return
        self.topic = ""
        self._search(self.engine.find(None, ""))

    def _search(self, moved: Coroutine[Any, Any, None]) -> None:
        """An intent that searches has moved the engine's model (and the page): the rest runs behind."""
        self.searching.emit(self.topic)
        self.spawn(moved)

    def _choose_study(self, engine: EngineLike) -> None:
        """The remembered study terms go with every search (find, skip, a search after the partner left)."""
        engine.choose_study(self.settings.study_length, self.settings.study_talk)

    def set_study(self, length: int | None, talk: str | None) -> None:
        """The lobby's session length and talk/quiet: remembered, and sent with the next search."""
        self.settings.study_length, self.settings.study_talk = length, talk

    def cancel(self) -> None:
        if self.page is not Page.SEARCHING:
            return
        if self._practice.engine is not None:  # a test call's search: end the test, not the real search
            self._end_practice()
        elif self.engine is not None:
            self.spawn(self.engine.cancel())

    def skip(self) -> None:
        if self.page is not Page.CALL or self._practice.engine is not None or self.engine is None:
            return
        self._off_call()
        self._choose_study(self.engine)
        self._search(self.engine.skip())

    def end(self) -> None:
        if self.page is Page.SEARCHING:
            self.cancel()
            return
        if self.page is not Page.CALL:
            return
        self._off_call()
        if self._practice.engine is not None:
            self._end_practice()
        elif self.engine is not None:
            self.spawn(self.engine.leave())

    def report(self, reason: str) -> None:
        if self.page is not Page.CALL or self.engine is None or self._practice.engine is not None:
            return
        self.comeback.reported(self.session)  # reporting blocks too: the report's notice says both
        self.spawn(self.engine.report(reason))
        self._notify("report", messages.NOTICE_REPORTED, timeout=8)

    def send_chat(self, text: str) -> None:
        engine = self.active_engine()
        if self.page is Page.CALL and engine is not None and text.strip():
            self.spawn(engine.send_chat(text.strip()))

    def _study_engine(self) -> EngineLike | None:
        """The engine of a real call on screen (a test call has no study session)."""
        if self.page is not Page.CALL or self._practice.engine is not None:
            return None
        return self.engine

    def set_muted(self, muted: bool) -> None:
        self.muted = muted
        for engine in (self.engine, self._practice.engine):
            if engine is not None:
                engine.set_microphone_muted(muted)
        self.muted_changed.emit(muted)

    def set_camera(self, on: bool) -> None:
        if self.mode != "video":
            return
        self.camera_on = on
        engine = self.active_engine()
        if engine is not None:
            self.spawn(engine.set_camera_enabled(on))
        self.camera_changed.emit(on)

    def share_screen(self, choice: object) -> None:
        """The picker's choice (a ScreenSource): sent in place of the camera; ScreenShare says when."""
        engine = self.active_engine()
        if self.page is Page.CALL and engine is not None and not self.sharing:
            self.notice_cleared.emit("screen")
            self.spawn(engine.share_screen(choice))

    def stop_screen_share(self) -> None:
        engine = self.active_engine()
        if engine is not None and self.sharing:
            engine.stop_screen_share()

    def set_mode(self, mode: str) -> None:
        if mode in ("video", "audio") and self.page is Page.LOBBY:
            self.mode = self.settings.mode = mode
            self.update_preview()

    def select_device(self, kind: str, device_id: str) -> None:
        """A picker changed: remembered, and the engine rebuilt with it between calls."""
        setattr(self.settings, kind, device_id)
        if self.page is Page.LOBBY and self.engine is not None:
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
        if self.page is Page.CALL:
            self.end()
        elif self.page is Page.SEARCHING:
            self.cancel()
        self.spawn(self.restart())

    def speaker_notice(self, text: str) -> None:
        self.notice.emit(alerts.speaker_notice(text))

    def start_test_call(self, mode: str) -> None:
        if self.page is not Page.LOBBY or not self._practice.available:
            return
        self.mode = mode
        self.spawn(self._start_practice())

    async def _start_practice(self) -> None:
        self.notice_cleared.emit("practice")
        try:
            engine = await self._practice.open(self.mode, self.options(), self._on_practice_event)
        except Exception as exc:  # any failure becomes a notice; the lobby stays usable
            self._notify("practice", messages.NOTICE_PRACTICE_FAILED.format(message=exc), "warning")
            return
        if self.page is not Page.LOBBY:  # a real search began while the partner started: one call on screen
            await self._practice.close()
            return
        self._follow_active()
        calling = self._practice.call(engine, self.mode, muted=self.muted)  # its search shows at once
        self.searching.emit("")
        await calling

    def _end_practice(self) -> None:
        """The test call is forgotten at once, and the real engine's model shown again."""
        closing = self._practice.close()
        self._follow_active()
        self.spawn(closing)

    # --- events ----------------------------------------------------------------
    def _on_practice_event(self, event: Any) -> None:
        self._handle(event, practice=True)  # what practice_call.shown lets through

    def on_event(self, event: Any) -> None:
        """The engine's callback (runs on the Qt thread under qasync)."""
        self.history.on_event(event)  # every real call's events, a test call on screen or not
        self.comeback.on_event(event)
        if self._practice.engine is None or not practice_call.hidden_by_practice(event):
            self._handle(event, practice=False)

    def _handle(self, event: Any, *, practice: bool) -> None:
        # A stale session's events never reach the screen; nor do the black frames of a camera off.
        match event:
            case ev.RemoteVideoFrame() if event.session == self.session and self.partner_camera_on:
                self.remote_frame.emit(event.frame)
            case ev.PartnerCamera() if event.session == self.session:
                self.partner_camera_on = event.on
                self.partner_camera_changed.emit(event.on)
            case ev.PartnerScreen() if event.session == self.session:
                self.partner_screen_changed.emit(event.on)
            case ev.ScreenShare() if event.session == self.session:
                self.sharing = event.on
                self.screen_share_changed.emit(event.on)
                if event.message:  # it could not start, or it stopped by itself: why
                    self._notify("screen", event.message, "warning")
            case ev.LocalVideoFrame():
                self.local_frame.emit(event.frame)
            case ev.PartnerAudioLevel() if event.session == self.session:
                self.partner_level.emit(event.level)
            case ev.CallStats() if event.session == self.session:
                self.stats_changed.emit(event.rtt_ms, event.loss_percent, event.bitrate_kbps)
            case ev.ChatMessage() if event.session == self.session:
                self.chat_received.emit(event.text, event.mine)
            case ev.Connected():
                was = self.connected
                self.connected = True
                self.notice_cleared.emit("server")
                self.connection_changed.emit(True, event.server)
                if not was and self._screen.asked:
                    self._notify("server", messages.NOTICE_RECONNECTED.format(server=event.server), timeout=4)
            case ev.Disconnected():
                self.connected = False
                self.connection_changed.emit(False, event.server)
                if self.session is None:  # in a call, the call goes on: SignalingLost says so, quietly
                    self.notice.emit(alerts.disconnected_notice(event))
            case ev.Shutdown() if self.session is None:  # a call goes on through a restart: SignalingLost
                self._notify("server", messages.NOTICE_SERVER_SHUTDOWN.format(seconds=event.retry_after), "warning")
            case ev.Matched():
                self.session = event.session
                self.partner_mode = event.partner_mode
                self.partner_camera_on = True
                self.sharing = False
                self._call_notices.new_call()
                self.partner_found.emit(event.partner_mode, event.partner_topic or "", practice)
                self.comeback_changed.emit(event)
            case ev.PartnerAgain() if event.session == self.session:
                self.comeback_changed.emit(event)
            case ev.Counts() | ev.FavouriteSearch() | ev.FavouriteFallback() if not practice:
                self.search_changed.emit(event)
            case ev.MediaConnected() if event.session == self.session:
                self.media_connected.emit(self.partner_mode)
            case ev.MediaFailed() if event.session == self.session:
                self.notice.emit(alerts.media_failed_notice(event, practice=practice))
            case ev.DeviceErrorEvent():
                self.notice.emit(alerts.device_notice(event))
                self.device_failed.emit(event.device)
            case ev.ModeChanged():
                self.mode = event.mode
                self.mode_changed.emit(event.mode)
                self.update_preview()
                if event.message:
                    self._notify("mode", event.message, timeout=10)
            case ev.PartnerLeft():
                self._partner_left(event, practice)
            case _ if isinstance(event, callnotices.CALL_NETWORK_EVENTS) and event.session == self.session:
                self._call_notices.present(callnotices.presence(event))
            case _ if isinstance(event, ev.STUDY_EVENTS) and event.session == self.session:
                self._study_event(event)
            case ev.CallEnded() if event.session == self.session:
                self._off_call()
                self.call_ended.emit(event.seconds)
            case ev.ErrorEvent():
                s = self.settings
                self.notice.emit(alerts.error_notice(event, server=s.server, token=s.token, ca_file=s.ca_file))

    def _study_event(self, event: Any) -> None:
        if isinstance(event, ev.SpeakingWhileMuted):
            self._notify("muted", messages.NOTICE_YOU_ARE_MUTED, timeout=4)
        elif isinstance(event, ev.SessionStarted) and event.talk == "quiet" and event.session != self._quiet_session:
            self._quiet_session = event.session  # once: a resume's SessionStarted leaves the person's choice
            self.set_muted(True)  # a quiet session starts muted, and the mute button says so
        self.study_changed.emit(event)

    def _off_call(self) -> None:
        """Off the call page: the old session's frames must not paint any more, nor its notices stay."""
        self.session = None
        self.sharing = False  # a call's screen share ends with it
        self._call_notices.present(callnotices.CALL_OVER)

    def _partner_left(self, event: ev.PartnerLeft, practice: bool) -> None:
        if event.session != self.session or self.page is not Page.CALL:
            return
        self._off_call()
        self.partner_left.emit(event.reason)
        # The call page stayed up (pages.py) until now: the window says why, then moves on.
        if practice:
            self._end_practice()
            return
        if self.settings.auto_search and self.engine is not None:
            self._notify("partner", messages.NOTICE_PARTNER_LEFT_AGAIN, timeout=6)
            self._choose_study(self.engine)
            self._search(self.engine.find(self.mode, self.topic or None))
        else:
            self.notice.emit(alerts.partner_left_notice(event.reason))
            self._screen.show_model()

    # --- a notice's buttons (client/ui/alerts.py names them; client/ui/noticeactions.py runs them) ---
    def notice_action(self, key: str, action: str) -> None:
        """The notice `key` is answered by pressing `action`: it goes, and the action runs."""
        self.notice_cleared.emit(key)
        noticeactions.run(self, key, action)

    def audio_only(self) -> None:
        """Go on by voice (the camera failed): this call and the next searches."""
        engine = self.active_engine()
        self.mode = self.settings.mode = "audio"
        self.mode_changed.emit("audio")
        self.update_preview()
        if engine is not None:
            self.spawn(engine.use_audio_only())
        if self.page is Page.LOBBY and self.engine is not None:
            self.find("audio", self.topic)  # chosen before a call: go straight on to find a partner by voice
