"""One call with one partner: an aiortc peer connection and everything hung on it.

A `Call` is created for each `matched` and thrown away when the session ends;
peer connections are never reused across partners. The initiator sends the
offer. aiortc has no trickle ICE: `setLocalDescription` returns after
gathering, so the offer/answer carry every candidate and the signal payload
is just `{"type": "offer"|"answer", "sdp": ...}` (the browser's
RTCSessionDescription JSON, so a web client could join).

Loopback note: aioice leaves 127.0.0.1 out of its host candidates, so two
clients on one machine connect over the machine's other interfaces; when the
server is on this machine (`loopback=True`), 127.0.0.1 is offered as well, so
same-machine calls connect with no network at all (client/loopback.py).

What the partner sends is received, counted and measured in client/remotemedia.py.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import av
from aiortc import (
    RTCConfiguration,
    RTCDataChannel,
    RTCIceServer,
    RTCIceTransportPolicy,
    RTCPeerConnection,
    RTCSessionDescription,
)
from aiortc.mediastreams import MediaStreamTrack

from . import events as ev
from . import messages
from .callstats import StatsSnapshot, summarize_stats
from .loopback import offer_loopback_candidates
from .media.audio import AudioSink
from .peerstate import STATE_CHANNEL, PeerStateError, PeerStateLink
from .remotemedia import RemoteMedia
from .tracks import BlankVideoTrack, GatedAudioTrack, SwitchableVideoTrack

log = logging.getLogger("studymatch.client.call")

MAX_CHAT_CHARS = 2000
CLOSE_TIMEOUT = 5.0

T = TypeVar("T")


@dataclass
class CallMedia:
    """What the engine opened for this call (it owns the devices, the call owns the tracks)."""

    audio: GatedAudioTrack
    video: MediaStreamTrack | None  # outgoing video; None = send none
    receive_video: bool  # a video-mode call: take the partner's video even if we send none
    speaker: AudioSink
    camera_on: bool  # `video` is a live camera, not black or none: what the partner is told


def ice_configuration(ice_servers: list[dict[str, Any]], relay_only: bool = False) -> RTCConfiguration:
    """Always explicit: given no list, aiortc would fall back to a public STUN server."""
    servers = [
        RTCIceServer(urls=s["urls"], username=s.get("username"), credential=s.get("credential"))
        for s in ice_servers
    ]
    if relay_only:
        return RTCConfiguration(iceServers=servers, iceTransportPolicy=RTCIceTransportPolicy.RELAY)
    return RTCConfiguration(iceServers=servers)


class Call:
    def __init__(
        self,
        *,
        session: str,
        initiator: bool,
        ice_servers: list[dict[str, Any]],
        send_signal: Callable[[dict[str, Any]], Awaitable[None]],
        emit: Callable[[ev.EngineEvent], None],
        on_media_up: Callable[[Call], None],
        matched_at: float,
        media_timeout: float,
        relay_only: bool = False,
        loopback: bool = False,
        stats_interval: float = 1.0,
        grace: float = 60.0,  # presence: the media side (this branch only accepts them)
        on_gone: Callable[[Call], None] = lambda call: None,
    ) -> None:
        self.session = session
        self.initiator = initiator
        self.media: CallMedia | None = None
        self._send_signal = send_signal
        self._emit = emit
        self._on_media_up = on_media_up
        self.matched_at = matched_at
        self._media_timeout = media_timeout
        self._stats_interval = stats_interval
        self._loopback = loopback and not relay_only  # relay-only offers no host candidate
        self.pc = RTCPeerConnection(ice_configuration(ice_servers, relay_only))
        self._signals: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._timer: asyncio.TimerHandle | None = None
        self._channel: RTCDataChannel | None = None
        self._state_channel: RTCDataChannel | None = None
        self._state: PeerStateLink | None = None  # made once we know if this is a video call
        self._video: SwitchableVideoTrack | None = None
        self.connected_at: float | None = None
        self.ended_at: float | None = None
        self.media_failed = False
        self.closed = False
        self.received = RemoteMedia(session, emit, self._ms_since_matched)
        self.closing: asyncio.Task[None] | None = None
        self._pc_step: asyncio.Future[Any] | None = None  # the aiortc call in progress, if any

    # --- setting up ------------------------------------------------------------------

    def start(self, open_media: Callable[[], Awaitable[CallMedia]]) -> None:
        """Open the media and negotiate in the background; signals wait in a queue meanwhile."""
        pc = self.pc
        pc.on("connectionstatechange", self._connection_state_changed)
        pc.on("track", self._remote_track)
        pc.on("datachannel", self._datachannel)
        self._timer = asyncio.get_running_loop().call_later(self._media_timeout, self._timed_out)
        self._spawn(self._negotiate(open_media), "negotiate")

    async def _negotiate(self, open_media: Callable[[], Awaitable[CallMedia]]) -> None:
        try:
            self.media = await open_media()
            if self.closed:  # ended while the devices were opening
                self._stop_media()
                return
            self._state = PeerStateLink(video_call=self.media.receive_video)
            if self.initiator:
                self._add_local_tracks()
                self._datachannel(self.pc.createDataChannel("chat"))
                self._datachannel(self.pc.createDataChannel(STATE_CHANNEL))
                await self._step(self._describe(self.pc.createOffer))
                await self._send_local_description()
            while not self.closed:
                await self._handle_signal(await self._signals.get())
        except asyncio.CancelledError:
            raise
        except Exception:
            # A broken offer/answer from the partner, or aiortc refusing it.
            log.exception("call %s: negotiation failed", self.session)
            self._fail(messages.MEDIA_CONNECTION_FAILED)

    def _add_local_tracks(self) -> None:
        assert self.media is not None
        self.pc.addTrack(self.media.audio)
        if self.media.video is not None:
            self._video = SwitchableVideoTrack(self.media.video, on_source_ended=self._camera_ended)
            self.pc.addTrack(self._video)
        elif self.media.receive_video:
            self.pc.addTransceiver("video", direction="recvonly")

    async def _describe(self, create: Callable[[], Awaitable[RTCSessionDescription]]) -> None:
        """Create the offer or answer and set it locally, which gathers the ICE candidates."""
        description = await create()
        if self._loopback:
            offer_loopback_candidates(self.pc)
        await self.pc.setLocalDescription(description)

    async def _step(self, step: Awaitable[T]) -> T:
        """Run one aiortc call to its end even if the call ends meanwhile.

        aiortc's calls are not safe to cancel: while gathering, aioice binds one UDP
        socket per host address and records them only once all are bound, so a call
        ended in between (End pressed just after matching) would lose those sockets,
        open for good. The step runs in its own task; close() waits for it before it
        closes the peer connection.
        """
        task = asyncio.ensure_future(step)
        self._pc_step = task
        return await asyncio.shield(task)

    async def _send_local_description(self) -> None:
        desc = self.pc.localDescription
        await self._send_signal({"type": desc.type, "sdp": desc.sdp})

    def handle_signal(self, data: dict[str, Any]) -> None:
        """A partner's signal for this session; handled in order, after setup."""
        if not self.closed:
            self._signals.put_nowait(data)

    async def _handle_signal(self, data: dict[str, Any]) -> None:
        kind, sdp = data.get("type"), data.get("sdp")
        if not isinstance(sdp, str):
            log.info("call %s: ignoring signal without sdp", self.session)
            return
        if kind == "offer" and not self.initiator and self.pc.remoteDescription is None:
            await self._step(self.pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer")))
            self._add_local_tracks()  # after the offer, so addTrack reuses its transceivers
            await self._step(self._describe(self.pc.createAnswer))
            await self._send_local_description()
        elif kind == "answer" and self.initiator and self.pc.remoteDescription is None:
            await self._step(self.pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="answer")))
        else:
            log.info("call %s: ignoring unexpected %r signal", self.session, kind)

    # --- what the peer connection reports ------------------------------------------------

    def _connection_state_changed(self) -> None:
        state = self.pc.connectionState
        if self.closed:
            return
        if state == "connected" and self.connected_at is None:
            self.connected_at = time.monotonic()
            if self._timer is not None:
                self._timer.cancel()
            self._emit(ev.MediaConnected(self.session, self._ms_since_matched()))
            self._on_media_up(self)
            self._spawn(self._stats_loop(), "stats")
        elif state == "failed":
            self._fail(messages.MEDIA_CONNECTION_FAILED)

    def _timed_out(self) -> None:
        if self.connected_at is None and not self.closed:
            self._fail(messages.MEDIA_TIMEOUT.format(seconds=self._media_timeout))

    def _fail(self, message: str) -> None:
        if not self.media_failed and not self.closed:
            self.media_failed = True
            self._emit(ev.MediaFailed(self.session, message))

    def _remote_track(self, track: MediaStreamTrack) -> None:
        if track.kind == "video":
            self._spawn(self.received.consume_video(track), "video")
        elif track.kind == "audio":
            self._spawn(self.received.consume_audio(track, self._play), "audio")

    def _play(self, frame: av.AudioFrame) -> None:
        if self.media is not None:
            self.media.speaker.play(frame)

    def _datachannel(self, channel: RTCDataChannel) -> None:
        if channel.label == STATE_CHANNEL:
            self._state_channel = channel
            channel.on("message", self._partner_state)
            # The answer side is handed the channel already open (aiortc opens, then announces).
            if channel.readyState == "open":
                self._send_state()
            else:
                channel.on("open", self._send_state)
            return
        if channel.label != "chat":
            return
        self._channel = channel

        def on_message(message: str | bytes) -> None:
            if isinstance(message, str) and not self.closed:
                self._emit(ev.ChatMessage(self.session, message[:MAX_CHAT_CHARS], mine=False))

        channel.on("message", on_message)

    def _partner_state(self, message: str | bytes) -> None:
        state = self._state
        if self.closed or state is None:
            return
        try:
            camera = state.received(message)
        except PeerStateError as exc:
            if state.refused == 1:  # once: a hostile partner must not flood the log
                log.info("call %s: ignoring the partner's state message: %s", self.session, exc)
            return
        if camera is not None:
            self._emit(ev.PartnerCamera(self.session, camera))

    def _send_state(self) -> None:
        channel, state, media = self._state_channel, self._state, self.media
        if self.closed or channel is None or state is None or media is None or channel.readyState != "open":
            return
        message = state.message(media.camera_on)
        if message is not None:
            channel.send(message)

    async def _stats_loop(self) -> None:
        previous: StatsSnapshot | None = None
        while not self.closed:
            report = await self.pc.getStats()
            previous, rtt, loss, kbps = summarize_stats(list(report.values()), previous, time.monotonic())
            if not self.closed:
                self._emit(ev.CallStats(self.session, rtt, loss, kbps))
            await asyncio.sleep(self._stats_interval)

    # --- intents -----------------------------------------------------------------------

    def send_chat(self, text: str) -> bool:
        channel = self._channel
        if self.closed or channel is None or channel.readyState != "open":
            return False
        text = text[:MAX_CHAT_CHARS]
        channel.send(text)
        self._emit(ev.ChatMessage(self.session, text, mine=True))
        return True

    @property
    def sends_video(self) -> bool:
        """A video sender (camera or black) is there for set_video_track to switch."""
        media = self.media
        return not self.closed and media is not None and (self._video is not None or media.video is not None)

    @property
    def camera_on(self) -> bool:
        return self.media is not None and self.media.camera_on

    def set_video_track(self, track: MediaStreamTrack, *, camera_on: bool) -> None:
        """Swap what we send (camera on/off) without renegotiating, and tell the partner."""
        media = self.media
        if not self.sends_video or media is None:
            track.stop()  # a call that sends no video (or is over) keeps sending none
            return
        if self._video is not None:
            self._video.switch(track)
        else:  # the answer side before the offer: negotiation will add this one
            assert media.video is not None
            media.video.stop()
            media.video = track
        media.camera_on = camera_on
        self._send_state()

    def _camera_ended(self) -> None:
        """Our camera failed mid-call: black instead of a frozen picture, and the partner told."""
        if not self.closed:
            log.info("call %s: the camera ended; sending black", self.session)
            self.set_video_track(BlankVideoTrack(), camera_on=False)

    # --- the end -----------------------------------------------------------------------

    def signaling_resumed(self) -> None:
        """Back on the server after a drop: re-send what the partner may have missed (the media side)."""

    def close(self) -> ev.CallEnded:
        """End the call now; the peer connection is closed in the background (`closing`)."""
        if self.closed:
            return self.summary()
        self.ended_at = time.monotonic()
        self.closed = True
        if self._timer is not None:
            self._timer.cancel()
        for task in self._tasks:
            task.cancel()
        self.closing = asyncio.create_task(self._close_pc(), name=f"close-call-{self.session}")
        return self.summary()

    async def _close_pc(self) -> None:
        tasks = list(self._tasks)
        await asyncio.gather(*tasks, return_exceptions=True)
        await self._finish_step()
        try:
            await asyncio.wait_for(self.pc.close(), CLOSE_TIMEOUT)
        except Exception:
            log.exception("call %s: closing the peer connection failed", self.session)
        self._stop_media()

    async def _finish_step(self) -> None:
        """Let an aiortc step the negotiation was cancelled in finish (see `_step`)."""
        step, self._pc_step = self._pc_step, None
        if step is None:
            return
        done, _ = await asyncio.wait([step], timeout=CLOSE_TIMEOUT)
        if not done:  # gathering is bounded by aioice's own timeouts; this is a last resort
            log.warning("call %s: an aiortc step did not finish in %s s", self.session, CLOSE_TIMEOUT)
            step.cancel()
        elif not step.cancelled() and step.exception() is not None:
            log.info("call %s: the last aiortc step failed after the call ended: %r", self.session,
                     step.exception())

    def _stop_media(self) -> None:
        # pc.close() stops the tracks it sends; these may never have been added.
        if self.media is not None:
            self.media.audio.stop()
            if self._video is not None:
                self._video.stop()
            elif self.media.video is not None:
                self.media.video.stop()

    def summary(self) -> ev.CallEnded:
        end = self.ended_at if self.ended_at is not None else time.monotonic()
        seconds = 0.0 if self.connected_at is None else end - self.connected_at
        got = self.received
        return ev.CallEnded(self.session, round(seconds, 3), got.video_frames, got.audio_frames, got.latency_p50)

    def _ms_since_matched(self) -> float:
        return round(1000.0 * (time.monotonic() - self.matched_at), 1)

    def _spawn(self, coro: Any, name: str) -> None:
        task = asyncio.create_task(coro, name=f"call-{self.session}-{name}")
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("call %s: task %s failed", self.session, task.get_name(), exc_info=task.exception())
