"""The call engine: signaling + the session model + one `Call` per partner, behind intents.

The window (client/ui/seams.py `EngineLike`) and the headless CLI both drive
this. Every outcome is an event passed to `on_event`;
no intent raises because of the state it finds (a wrong-state intent is
ignored or answered with an `ErrorEvent`).

Who decides what:
- the server decides the queue (`queued`, `idle`, `matched`);
- the user ends calls (skip/leave/report end the call here at once, then the
  server is told), so media stops without waiting for a round trip;
- a call outlives the signaling socket (the model keeps the resume ticket;
  docs/protocol.md): it ends when a person ends it or its peer connection is
  gone past the grace period (`Call(on_gone=...)`);
- `client/session.py` holds the state and the wish to be queued, says which
  moves are legal and returns the effects this engine applies. It is public as
  `engine.model`: the window subscribes to it (`model.subscribe`) and shows
  what it hears, so an intent moves it at once, before its coroutine runs;
- `client/calldevices.py` holds the camera, microphone and speaker across calls.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from server.core import protocol as p

from . import events as ev
from . import messages
from .audiolevel import frame_level
from .backoff import Backoff
from .call import Call
from .calldevices import CallDevices
from .comeback import Comeback
from .engineconfig import EngineConfig, offers_turn
from .loopback import is_loopback_url
from .media.devices import DeviceError
from .mutedspeech import MutedSpeech
from .people import People
from .session import CallState, ClientSession, Effect, EndCall, FindAgain, InvalidStateError, Send
from .signaling import DEFAULT_BACKOFF, SignalingChannel, WebSocketSignaling
from .study import StudySession
from .studydriver import StudyDriver

if TYPE_CHECKING:
    from .media.factory import MediaFactory
    from .media.screen import ScreenSource

log = logging.getLogger("studymatch.client.engine")

# Codes after which the signaling channel stops retrying.
DEFAULT_GRACE = 60.0  # docs/protocol.md: `--resume-grace`, when the server's welcome does not say
ResumeMessage = p.Resumed | p.PartnerReconnecting | p.PartnerResumed | p.Ticket | p.Replaced
FATAL_CODES = frozenset({p.ErrorCode.UNSUPPORTED_PROTOCOL, p.ErrorCode.UNAUTHORIZED, "bad_url", "bad_ca_file"})


SignalingFactory = Callable[["Engine"], SignalingChannel]


class Engine:
    def __init__(
        self,
        config: EngineConfig,
        on_event: Callable[[ev.EngineEvent], None],
        media: MediaFactory | None = None,
        *,
        signaling: SignalingFactory | None = None,
        clock: Callable[[], float] = time.time,
        people: People | None = None,
    ) -> None:
        if media is None:
            from .media.factory import MediaFactory

            media = MediaFactory(
                camera=config.camera,
                microphone=config.microphone,
                fake_media=config.fake_media,
                on_device_error=self.on_device_error,
                smooth_video=config.smooth_video,
                scene=config.scene,
            )
        self.config = config
        self._on_event = on_event
        # Who we are, our favourites and blocks (client/people.py); none given: in memory, for this run.
        self.people = people if people is not None else People.in_memory()
        self._comeback = Comeback(self.people, config.server, self._emit)
        self._fallback: asyncio.TimerHandle | None = None  # a search for a favourite turns to anyone
        # `queued` answers owed for the finds and skips sent on this connection: only the answer to
        # the latest says whether the server can look for favourites (an earlier skip's may cross it).
        self._queued_owed = 0
        self.media = media
        self.model = ClientSession(config.mode, config.topic)
        self.model.choose_study(config.length, config.talk)
        self._call: Call | None = None
        self._clock = clock  # the wall clock the study session's times are on (tests shift it)
        self._study: StudyDriver | None = None
        self._closings: set[asyncio.Task[None]] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._devices = CallDevices(media, self._emit, lambda: self._call,
                                    lambda: self._switch_to_audio(messages.FELL_BACK_TO_AUDIO))
        self._closed = False
        self._finds_in_flight = 0  # finds not yet told to the server: each tells it itself, once
        self._grace = DEFAULT_GRACE  # how long a call goes on with its peer connection gone: the server's
        self._muted_speech = MutedSpeech()
        self._quiet_muted = False  # a quiet session muted the microphone: unmuted again when it ends
        self._devices.on_muted_frame = self._muted_frame
        factory = signaling or websocket_signaling
        self.signaling = factory(self)

    @property
    def state(self) -> CallState:
        return self.model.state

    @property
    def mode(self) -> str:
        return self.model.mode

    @property
    def topic(self) -> str | None:
        return self.model.topic

    @property
    def call(self) -> Call | None:
        return self._call

    @property
    def study(self) -> StudySession | None:
        """The study session of the call now (client/study.py), or None (no call, an older server)."""
        return None if self._study is None else self._study.core

    # --- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        await self.signaling.start()

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        in_session = self.model.in_session
        *ends, leave = self.model.leave()
        if in_session:
            self._end_calls(ends)
            assert isinstance(leave, Send), leave
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.signaling.send(leave.message), 1.0)
        await self.signaling.close()
        self._stop_fallback()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._devices.close()
        if self._closings:
            await asyncio.gather(*self._closings, return_exceptions=True)
        await self.media.close()

    # --- intents --------------------------------------------------------------------------

    # The person's intents move the model at once (a window on it shows the move before
    # anything goes over the network); the coroutine returned carries the move out.

    def find(self, mode: str | None = None, topic: str | None = None) -> Coroutine[Any, Any, None]:
        if self._closed or self.model.in_session:
            return _done()
        self._stop_fallback()
        self.model.choose(mode, topic)
        effects = self.model.find()
        self._finds_in_flight += 1
        return self._ask_server(effects)

    def find_favourite(self) -> Coroutine[Any, Any, None]:
        """Search for a favourite only, for `config.favourite_wait` s, then for anyone (saying so);
        with no favourites, a plain find (docs/protocol.md, "Coming back")."""
        tokens = self._comeback.favourite_tokens()
        if not tokens or self._closed or self.model.in_session:
            return self.find()
        self._stop_fallback()
        effects = self.model.find(tokens)
        self._finds_in_flight += 1
        self._emit(ev.FavouriteSearch(len(tokens), self.config.favourite_wait))
        return self._favourite_search(self._ask_server(effects))

    async def _favourite_search(self, ask: Coroutine[Any, Any, None]) -> None:
        self._stop_fallback()
        self._fallback = asyncio.get_running_loop().call_later(
            self.config.favourite_wait, self._any_partner, messages.FAVOURITE_NONE_CAME)
        await ask

    def _any_partner(self, message: str) -> None:
        """No favourite came in time (or the server cannot look for one): anyone, and say so."""
        self._stop_fallback()
        if not self.model.favourites or self._closed:
            return
        effects = self.model.any_partner()
        self._emit(ev.FavouriteFallback(message))
        self._spawn(self._apply(effects))

    def _stop_fallback(self) -> None:
        if self._fallback is not None:
            self._fallback.cancel()
            self._fallback = None

    async def _ask_server(self, effects: list[Effect]) -> None:
        try:
            if self.model.mode == "video" and self._devices.camera_usable:
                await self._devices.probe_camera()
                # The wish as it stands now: a camera that failed switched the mode, and a match
                # (an earlier find) or a cancel may have come while the camera was opening.
                effects = self.model.restate()
        finally:
            self._finds_in_flight -= 1
        if not self._closed:
            await self._apply(effects)

    def cancel(self) -> Coroutine[Any, Any, None]:
        return self._apply(self.model.cancel())

    def skip(self) -> Coroutine[Any, Any, None]:
        return self._apply(self.model.skip())

    def leave(self) -> Coroutine[Any, Any, None]:
        return self._apply(self.model.leave())

    def report(self, reason: str) -> Coroutine[Any, Any, None]:
        """Report the partner, which also blocks them for us (PartnerBlocked follows)."""
        session = self.model.session if self.model.in_session else None
        reporting = self._apply(self.model.report(reason))
        if session is None:
            return reporting
        return self._carry([reporting, *self._comeback.block("report", session)])

    def block_partner(self) -> Coroutine[Any, Any, None]:
        """Never match again the partner of the call now, else of the last call (PartnerBlocked)."""
        return self._carry(list(self._comeback.block("never_again")))

    # --- "Study again" (docs/protocol.md, "Study again on the state channel") -------------------

    def set_again(self, on: bool, nickname: str = "") -> None:
        """Tick or untick "Study again with this partner" in the call now; `nickname` is kept here
        if the partner becomes a favourite (empty: a default). Without a study session: nothing."""
        if self._study is None:
            return
        self._comeback.set_again(self._study.session, nickname)
        self._study.set_again(self.people.public_key if on else None)

    # --- the study session (docs/protocol.md, "Study sessions"); no session: nothing happens ---

    def choose_study(self, length: int | None, talk: str | None) -> None:
        """The session terms for the next find or skip."""
        self.model.choose_study(length, talk)

    def set_goal(self, text: str) -> None:
        if self._study is not None:
            self._study.set_goal(text)

    def set_ready(self) -> None:
        if self._study is not None:
            self._study.set_ready()

    def check_out(self, done: str, note: str = "") -> None:
        if self._study is not None:
            self._study.check_out(done, note)

    def set_brb(self, away: bool) -> None:
        if self._study is not None:
            self._study.set_brb(away)

    def set_pomodoro(self, on: bool) -> None:
        if self._study is not None:
            self._study.set_pomodoro(on)

    @property
    def chat_open(self) -> bool:
        return self._call is not None and self._call.chat_open

    async def send_chat(self, text: str) -> None:
        if self._call is None or not self._call.send_chat(text):
            self._emit(ev.ErrorEvent("chat_closed", messages.CHAT_NOT_OPEN))

    @property
    def microphone_muted(self) -> bool:
        """Muted by the person, or by a quiet session (docs/protocol.md) until it ends."""
        return self._devices.microphone_muted

    def set_microphone_muted(self, muted: bool) -> None:
        self._quiet_muted = False  # the person's word now
        self._devices.set_microphone_muted(muted)

    async def set_camera_enabled(self, enabled: bool) -> None:
        await self._devices.set_camera_enabled(enabled)

    async def share_screen(self, choice: ScreenSource | str) -> None:
        """Send a screen in place of the camera in the call now (client/media/screen.py: a picker's
        ScreenSource, "fake", or a screen's number). ScreenShare says it began, or why it could not."""
        from .media.screen import ScreenError

        call = self._call
        if call is None or call.closed:
            return
        if not call.sends_video:
            self._emit(ev.ScreenShare(call.session, False, messages.SCREEN_AUDIO_CALL))
            return
        try:
            track = await self.media.open_screen(choice)
        except ScreenError as exc:
            self._emit(ev.ScreenShare(call.session, False, exc.message))
            return
        if call is not self._call:  # the call ended while the screen was opening
            track.stop()
            return
        call.share_screen(track)

    def stop_screen_share(self) -> None:
        """The camera again (or black, if it is off) in place of the shared screen."""
        if self._call is not None:
            self._call.stop_screen_share()

    async def use_audio_only(self) -> None:
        await self._switch_to_audio(messages.FELL_BACK_TO_AUDIO)

    async def retry_devices(self) -> None:
        camera_back = await self._devices.retry()
        if camera_back and self.config.mode == "video" and self.mode == "audio":
            effects = self.model.set_mode("video")
            self._emit(ev.ModeChanged("video", messages.BACK_TO_VIDEO))
            await self._apply(effects)

    # --- mode: video falls back to audio when the camera fails ----------------------------

    async def _switch_to_audio(self, message: str) -> None:
        if self.mode == "audio":
            return
        effects = self.model.set_mode("audio")
        self._emit(ev.ModeChanged("audio", message))
        await self._apply(effects)

    def on_device_error(self, exc: DeviceError) -> None:
        """A device that failed mid-call (a camera unplugged): say so, and go on with audio."""
        self._devices.failed(exc)
        if exc.device == "camera":
            self._spawn(self._switch_to_audio(messages.FELL_BACK_TO_AUDIO))

    # --- the server's side -----------------------------------------------------------------

    async def on_welcome(self, welcome: p.Welcome) -> None:
        self._emit(ev.Connected(self.config.server))
        if self.config.relay_only and not offers_turn(welcome.ice_servers):
            # Relay-only never falls back to direct candidates: say why calls will not connect.
            self._emit(ev.ErrorEvent("no_relay", messages.RELAY_ONLY_NO_TURN))
        self._grace = float(welcome.limits.get("resume_grace") or DEFAULT_GRACE)
        self._queued_owed = 0
        for avoid in self._comeback.on_welcome():  # before `resume`: the server keeps none of it
            await self._send(avoid)
        effects = self.model.on_welcome()
        if self.model.resuming or not self._finds_in_flight:  # else the find on its way asks, once
            await self._apply(effects)

    async def on_disconnected(self, retry_in: float, message: str) -> None:
        self._end_calls(self.model.on_lost())
        if self.model.session is not None:  # kept by its ticket: the call goes on
            self._emit(ev.SignalingLost(self.model.session, retry_in, message))
        self._emit(ev.Disconnected(self.config.server, retry_in, message))

    async def on_fatal(self, code: str, message: str) -> None:
        self._emit(ev.ErrorEvent(code, message))

    async def on_message(self, msg: p.ServerMessage) -> None:
        if isinstance(msg, p.Queued):
            try:
                self.model.on_queued(msg.ticket)
            except InvalidStateError as exc:
                # The server and we disagree (a crossing message); the server's next word settles it.
                log.warning("session: %s", exc)
            self._emit(ev.Queued(msg.mode, msg.topic))
            self._queued_owed = max(0, self._queued_owed - 1)
            if self.model.favourites and not msg.favourite and not self._queued_owed:
                self._any_partner(messages.FAVOURITE_NOT_SUPPORTED)  # a server that cannot look for favourites
        elif isinstance(msg, p.Matched):
            await self._matched(msg)
        elif isinstance(msg, p.Signal):
            if self._call is not None and self.model.is_current(msg.session):
                self._call.handle_signal(msg.data)
            else:
                log.info("ignoring a signal for an old session")
        elif isinstance(msg, p.PartnerLeft):
            await self._apply(self.model.on_partner_left(msg.session, msg.reason))
        elif isinstance(msg, (p.Idle, p.Reported)):
            self._end_calls(self.model.on_idle())
            self._emit(ev.Idle())
        elif isinstance(msg, ResumeMessage):
            await self._resume_message(msg)
        elif isinstance(msg, p.Counts):
            if self.model.accepts_match():  # still searching: else it crossed a match or our cancel
                self._emit(ev.Counts(msg.online, msg.video, msg.audio, msg.topic))
        elif isinstance(msg, p.Error):
            if msg.code == p.ErrorCode.BAD_TICKET and self.model.resuming:
                if self.model.in_session:  # a call cannot go on without its session
                    self._emit(ev.ErrorEvent(msg.code, messages.SESSION_NOT_RESUMED))
                await self._apply(self.model.on_bad_ticket())  # a place in line is searched anew
            elif msg.code == p.ErrorCode.NOT_IN_SESSION:
                # Our signal/report crossed the partner's leaving: nothing for the user to do.
                log.info("server: %s (%s)", msg.code, msg.message)
            else:
                self._emit(ev.ErrorEvent(msg.code, msg.message))
        elif isinstance(msg, p.Shutdown):
            self._emit(ev.Shutdown(msg.retry_after))
        elif isinstance(msg, p.Avoiding):
            log.debug("the server avoids %d installations for us", msg.count)
        else:
            log.info("ignoring %s", type(msg).__name__)

    async def _resume_message(self, msg: ResumeMessage) -> None:
        if isinstance(msg, p.Ticket):
            self.model.on_ticket(msg.ticket)
        elif isinstance(msg, p.Resumed):
            effects = self.model.on_resumed(msg.session, msg.ticket)
            self._comeback.resumed(msg)
            if self._call is not None and self.model.is_current(msg.session):
                self._emit(ev.Resumed(msg.session))
                if self._study is not None and msg.study is not None:
                    self._study.resumed(msg.study)
                self._call.signaling_resumed()
            await self._apply(effects)  # or a farewell owed since the drop
        elif not self.model.is_current(msg.session):
            log.info("ignoring %s for an old session", msg.type)
        elif isinstance(msg, p.PartnerReconnecting):
            self._emit(ev.PartnerReconnecting(msg.session))
        elif isinstance(msg, p.PartnerResumed):
            self._emit(ev.PartnerResumed(msg.session))
        else:  # replaced: our ticket resumed this session on another connection; that one has it now
            self._emit(ev.ErrorEvent("replaced", messages.SESSION_REPLACED))
            self._end_calls(self.model.on_replaced(msg.session))

    def _gone(self, call: Call) -> None:
        """The peer connection stayed gone past the grace period: the partner is gone, whatever the server says."""
        if call is not self._call:
            return
        self._end_calls(self.model.on_partner_left(call.session, "timeout"))
        if self.signaling.connected:
            self._spawn(self._carry([p.Leave(call.session)]))

    async def _matched(self, msg: p.Matched) -> None:
        if self._closed or not self.model.accepts_match():
            # Our cancel crossed the match: end that session rather than leave a partner hanging.
            await self._send(p.Leave(msg.session))
            return
        self.model.on_matched(msg.session, msg.initiator, time.monotonic(), msg.ticket)
        self._stop_fallback()
        self._emit(self._comeback.matched(msg))
        session = msg.session

        async def send_signal(data: dict[str, Any]) -> None:
            if self.model.is_current(session):
                await self._send(p.Signal(session, data))

        call = Call(
            session=session,
            initiator=msg.initiator,
            ice_servers=self.signaling.ice_servers,
            send_signal=send_signal,
            emit=self._call_event,
            on_media_up=self._media_up,
            matched_at=self.model.matched_at or time.monotonic(),
            media_timeout=self.config.media_timeout,
            relay_only=self.config.relay_only,
            loopback=is_loopback_url(self.config.server),
            grace=self._grace,
            on_gone=self._gone,
            study=lambda: None if self._study is None else self._study.core.mine,
            on_partner_study=lambda state: self._study.partner_said(state) if self._study is not None else None,
        )
        self._call = call
        self.model.connecting()
        self._start_study(session, msg.study, call)
        call.start(lambda: self._devices.open_for_call(msg.partner.mode == "video"))

    def _muted_frame(self, frame: Any) -> None:
        """A frame the muted microphone picked up: speech in it says "You are muted"."""
        call = self._call
        if call is not None and self._muted_speech.heard(frame_level(frame), time.monotonic()):
            self._emit(ev.SpeakingWhileMuted(call.session))

    def _start_study(self, session: str, study: p.Study | None, call: Call) -> None:
        if self._study is not None:
            self._study.close()
        self._study = None
        if study is None:  # an older server: the call as before
            return
        self._study = StudyDriver(session, study, self._clock, self._emit, call.send_study)
        if study.talk == "quiet" and not self._devices.microphone_muted:
            self._devices.set_microphone_muted(True)
            self._quiet_muted = True
        self._study.start()

    def _call_event(self, event: ev.EngineEvent) -> None:
        # Media lost: the network may have changed under the signaling socket too, and the
        # rebuild's offer needs it. Checked now rather than when its keepalive times out.
        if isinstance(event, ev.MediaReconnecting) and self.signaling.connected:
            self._spawn(self._probe())
        self._emit(event)

    async def _probe(self) -> None:
        await self.signaling.probe()

    def _media_up(self, call: Call) -> None:
        if call is self._call:
            self.model.media_up()

    # --- helpers ----------------------------------------------------------------------------

    def _apply(self, effects: list[Effect]) -> Coroutine[Any, Any, None]:
        """Carry out what the session model asked for, in its order: what moves the model or
        ends a call at once, now; the coroutine returned sends the messages."""
        steps: list[p.ClientMessage | Coroutine[Any, Any, None]] = []
        for effect in effects:
            if isinstance(effect, Send):
                steps.append(effect.message)
            elif isinstance(effect, EndCall):
                self._end_call(effect)
            elif isinstance(effect, FindAgain):
                steps.append(self.find())  # "Next" after a call that is already over
        return self._carry(steps)

    async def _carry(self, steps: list[p.ClientMessage | Coroutine[Any, Any, None]]) -> None:
        for step in steps:
            if isinstance(step, Coroutine):
                await step
            else:
                await self._send(step)

    def _end_calls(self, effects: list[Effect]) -> None:
        """The effects of a move that only ends a call (no message to send)."""
        for effect in effects:
            assert isinstance(effect, EndCall), effect
            self._end_call(effect)

    def _end_call(self, end: EndCall) -> None:
        call, self._call = self._call, None
        if self._study is not None and self._study.session == end.session:
            today = dt.datetime.fromtimestamp(self._clock()).date()
            self._comeback.call_ended(end.session, self._study.core, today)
        if self._study is not None:
            self._study.close()
            self._study = None
        if self._quiet_muted:
            self._quiet_muted = False
            self._devices.set_microphone_muted(False)
        if end.reason is not None:
            self._emit(ev.PartnerLeft(end.session, end.reason))
        if call is not None:
            summary = call.close()
            if call.closing is not None:
                self._closings.add(call.closing)
                call.closing.add_done_callback(self._closings.discard)
            self._emit(summary)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send(self, message: p.ClientMessage) -> bool:
        sent = await self.signaling.send(message)
        if sent and isinstance(message, (p.Find, p.Skip)):
            self._queued_owed += 1
        if not sent:
            log.info("not connected: %s not sent", message.type)
        return sent

    def _emit(self, event: ev.EngineEvent) -> None:
        try:
            self._on_event(event)
        except Exception:
            log.exception("event handler failed on %s", type(event).__name__)


async def _done() -> None:
    """An intent with nothing left to carry out."""


def websocket_signaling(engine: Engine, backoff: Backoff = DEFAULT_BACKOFF, url: str | None = None) -> SignalingChannel:
    """The engine's real signaling connection (tests pass a faster `backoff`, and may connect to
    one instance `url` behind the public `config.server`, which names the server in every pseudonym
    and rendezvous token, as a load balancer's clients do)."""
    return WebSocketSignaling(
        engine.config.server if url is None else url,
        on_welcome=engine.on_welcome,
        on_message=engine.on_message,
        on_disconnected=engine.on_disconnected,
        on_fatal=engine.on_fatal,
        token=engine.config.token,
        ca_file=engine.config.ca_file,
        install=engine.people.install_id(engine.config.server),
        backoff=backoff,
    )
