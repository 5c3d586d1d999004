"""The call engine: signaling + state machine + one `Call` per partner, behind intents.

The window and the headless CLI both drive this (contract:
/work/briefs/engine_api.md). Every outcome is an event passed to `on_event`;
no intent raises because of the state it finds (a wrong-state intent is
ignored or answered with an `ErrorEvent`).

Who decides what:
- the server decides the queue (`queued`, `idle`, `matched`);
- the user ends calls (skip/leave/report end the call here at once, then the
  server is told), so media stops without waiting for a round trip;
- `client/session.py` says which moves are legal;
- `client/calldevices.py` holds the camera, microphone and speaker across calls.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from server.core import protocol as p

from . import events as ev
from . import messages
from .backoff import Backoff
from .call import Call
from .calldevices import CallDevices
from .loopback import is_loopback_url
from .media.devices import DeviceError
from .session import CallMachine, CallState, InvalidStateError, Trigger
from .signaling import DEFAULT_BACKOFF, SignalingChannel, WebSocketSignaling

if TYPE_CHECKING:
    from .media.factory import MediaFactory

log = logging.getLogger("studymatch.client.engine")

# Codes after which the signaling channel stops retrying.
FATAL_CODES = frozenset({p.ErrorCode.UNSUPPORTED_PROTOCOL, p.ErrorCode.UNAUTHORIZED, "bad_url", "bad_ca_file"})


@dataclass(frozen=True)
class EngineConfig:
    server: str = "ws://127.0.0.1:8765/ws"
    mode: str = "video"  # "video" | "audio"
    topic: str | None = None
    camera: str | None = None  # None = system default, "fake" = synthetic pattern, else a device
    microphone: str | None = None  # None = default, "fake" = synthetic tone
    fake_media: bool = False  # both synthetic, no device touched
    media_timeout: float = 15.0  # seconds from matched to media connected before MediaFailed
    relay_only: bool = False  # TURN only (iceTransportPolicy "relay")
    token: str | None = None  # sent in hello, for servers that need one
    ca_file: str | None = None  # extra trusted CA for wss:// (a school's private CA)


SignalingFactory = Callable[["Engine"], SignalingChannel]


class Engine:
    def __init__(
        self,
        config: EngineConfig,
        on_event: Callable[[ev.EngineEvent], None],
        media: MediaFactory | None = None,
        *,
        signaling: SignalingFactory | None = None,
    ) -> None:
        if media is None:
            from .media.factory import MediaFactory

            media = MediaFactory(
                camera=config.camera,
                microphone=config.microphone,
                fake_media=config.fake_media,
                on_device_error=self.on_device_error,
            )
        self.config = config
        self._on_event = on_event
        self.media = media
        self.machine = CallMachine()
        self.mode = config.mode
        self.topic = config.topic
        self._searching = False  # the user wants to be in the queue (re-sent after a reconnect)
        self._call: Call | None = None
        self._closings: set[asyncio.Task[None]] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._devices = CallDevices(media, self._emit, lambda: self._call,
                                    lambda: self._switch_to_audio(messages.FELL_BACK_TO_AUDIO))
        self._closed = False
        factory = signaling or websocket_signaling
        self.signaling = factory(self)

    @property
    def state(self) -> CallState:
        return self.machine.state

    @property
    def call(self) -> Call | None:
        return self._call

    # --- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        await self.signaling.start()

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._searching = False
        if self.machine.in_session:
            session = self.machine.session
            self._end_call(Trigger.LEAVE)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.signaling.send(p.Leave(session)), 1.0)
        await self.signaling.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._devices.close()
        if self._closings:
            await asyncio.gather(*self._closings, return_exceptions=True)
        await self.media.close()

    # --- intents --------------------------------------------------------------------------

    async def find(self, mode: str | None = None, topic: str | None = None) -> None:
        if self._closed or self.machine.in_session:
            return
        if mode is not None:
            self.mode = mode
        if topic is not None:
            self.topic = topic or None
        if self.mode == "video" and self._devices.camera_usable:
            await self._devices.probe_camera()
            if self._closed or self.machine.in_session:
                return  # matched (an earlier find) while the camera was opening
        self._searching = True
        await self._send(p.Find(self.mode, self.topic))

    async def cancel(self) -> None:
        self._searching = False
        if not self.machine.in_session:
            await self._send(p.Cancel())

    async def skip(self) -> None:
        if self.machine.in_session:
            session = self.machine.session
            self._end_call(Trigger.SKIP)
            self._searching = True
            await self._send(p.Skip(session))
        elif self.machine.state is not CallState.QUEUED:
            await self.find()  # "Next" after a call that is already over

    async def leave(self) -> None:
        self._searching = False
        session = self.machine.session
        if self.machine.in_session:
            self._end_call(Trigger.LEAVE)
        await self._send(p.Leave(session))

    async def report(self, reason: str) -> None:
        if not self.machine.in_session:
            return
        session = self.machine.session
        assert session is not None
        self._searching = False
        self._end_call(Trigger.LEAVE)
        await self._send(p.Report(session, reason[: p.MAX_REASON_CHARS]))

    async def send_chat(self, text: str) -> None:
        if self._call is None or not self._call.send_chat(text):
            self._emit(ev.ErrorEvent("chat_closed", messages.CHAT_NOT_OPEN))

    def set_microphone_muted(self, muted: bool) -> None:
        self._devices.set_microphone_muted(muted)

    async def set_camera_enabled(self, enabled: bool) -> None:
        await self._devices.set_camera_enabled(enabled)

    async def use_audio_only(self) -> None:
        await self._switch_to_audio(messages.FELL_BACK_TO_AUDIO)

    async def retry_devices(self) -> None:
        camera_back = await self._devices.retry()
        if camera_back and self.config.mode == "video" and self.mode == "audio":
            self.mode = "video"
            self._emit(ev.ModeChanged("video", messages.BACK_TO_VIDEO))
            if self._searching and self.machine.state is CallState.QUEUED:
                await self._send(p.Find("video", self.topic))

    # --- mode: video falls back to audio when the camera fails ----------------------------

    async def _switch_to_audio(self, message: str) -> None:
        if self.mode == "audio":
            return
        self.mode = "audio"
        self._emit(ev.ModeChanged("audio", message))
        if self._searching and self.machine.state is CallState.QUEUED:
            await self._send(p.Find("audio", self.topic))

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
        if self._searching and not self.machine.in_session:
            await self._send(p.Find(self.mode, self.topic))

    async def on_disconnected(self, retry_in: float, message: str) -> None:
        if self.machine.in_session:
            self._end_call(Trigger.LOST)
        else:
            self.machine.fire(Trigger.LOST)
        self._emit(ev.Disconnected(self.config.server, retry_in, message))

    async def on_fatal(self, code: str, message: str) -> None:
        self._emit(ev.ErrorEvent(code, message))

    async def on_message(self, msg: p.ServerMessage) -> None:
        if isinstance(msg, p.Queued):
            self._fire(Trigger.QUEUED)
            self._emit(ev.Queued(msg.mode, msg.topic))
        elif isinstance(msg, p.Matched):
            await self._matched(msg)
        elif isinstance(msg, p.Signal):
            if self._call is not None and self.machine.is_current(msg.session):
                self._call.handle_signal(msg.data)
            else:
                log.info("ignoring a signal for an old session")
        elif isinstance(msg, p.PartnerLeft):
            if self.machine.in_session and self.machine.is_current(msg.session):
                self._end_call(Trigger.PARTNER_LEFT, reason=msg.reason)
        elif isinstance(msg, (p.Idle, p.Reported)):
            self._searching = False
            if self.machine.in_session:
                self._end_call(Trigger.IDLE)
            else:
                self._fire(Trigger.IDLE)
            self._emit(ev.Idle())
        elif isinstance(msg, p.Error):
            if msg.code == p.ErrorCode.NOT_IN_SESSION:
                # Our signal/report crossed the partner's leaving: nothing for the user to do.
                log.info("server: %s (%s)", msg.code, msg.message)
            else:
                self._emit(ev.ErrorEvent(msg.code, msg.message))
        elif isinstance(msg, p.Shutdown):
            self._emit(ev.Shutdown(msg.retry_after))
        else:
            log.info("ignoring %s", type(msg).__name__)

    async def _matched(self, msg: p.Matched) -> None:
        if not self._searching or self._closed or not self.machine.can(Trigger.MATCHED):
            # Our cancel crossed the match: end that session rather than leave a partner hanging.
            await self._send(p.Leave(msg.session))
            return
        self._searching = False
        self.machine.fire(Trigger.MATCHED, session=msg.session, initiator=msg.initiator, now=time.monotonic())
        self._emit(ev.Matched(msg.session, msg.initiator, msg.partner.mode, msg.partner.topic))
        session = msg.session

        async def send_signal(data: dict[str, Any]) -> None:
            if self.machine.is_current(session):
                await self._send(p.Signal(session, data))

        call = Call(
            session=session,
            initiator=msg.initiator,
            ice_servers=self.signaling.ice_servers,
            send_signal=send_signal,
            emit=self._emit,
            on_media_up=self._media_up,
            matched_at=self.machine.matched_at or time.monotonic(),
            media_timeout=self.config.media_timeout,
            relay_only=self.config.relay_only,
            loopback=is_loopback_url(self.config.server),
        )
        self._call = call
        self.machine.fire(Trigger.CONNECT)
        call.start(lambda: self._devices.open_for_call(msg.partner.mode == "video"))

    def _media_up(self, call: Call) -> None:
        if call is self._call and self.machine.can(Trigger.MEDIA_UP):
            self.machine.fire(Trigger.MEDIA_UP)

    # --- helpers ----------------------------------------------------------------------------

    def _end_call(self, trigger: Trigger, reason: str | None = None) -> None:
        call, self._call = self._call, None
        transition = self.machine.fire(trigger)
        if reason is not None and transition.ended_session is not None:
            self._emit(ev.PartnerLeft(transition.ended_session, reason))
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

    def _fire(self, trigger: Trigger) -> None:
        try:
            self.machine.fire(trigger)
        except InvalidStateError as exc:
            # The server and we disagree (a crossing message); the server's next word settles it.
            log.warning("state machine: %s", exc)

    async def _send(self, message: p.ClientMessage) -> bool:
        sent = await self.signaling.send(message)
        if not sent:
            log.info("not connected: %s not sent", message.type)
        return sent

    def _emit(self, event: ev.EngineEvent) -> None:
        try:
            self._on_event(event)
        except Exception:
            log.exception("event handler failed on %s", type(event).__name__)


def offers_turn(ice_servers: list[dict[str, Any]]) -> bool:
    for server in ice_servers:
        urls = server.get("urls")
        for url in [urls] if isinstance(urls, str) else urls or []:
            if isinstance(url, str) and url.startswith(("turn:", "turns:")):
                return True
    return False


def websocket_signaling(engine: Engine, backoff: Backoff = DEFAULT_BACKOFF) -> SignalingChannel:
    """The engine's real signaling connection (tests pass a faster `backoff`)."""
    return WebSocketSignaling(
        engine.config.server,
        on_welcome=engine.on_welcome,
        on_message=engine.on_message,
        on_disconnected=engine.on_disconnected,
        on_fatal=engine.on_fatal,
        token=engine.config.token,
        ca_file=engine.config.ca_file,
        backoff=backoff,
    )
