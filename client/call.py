"""One call with one partner, across as many peer connections as the network needs.

A `Call` is created for each `matched` and thrown away when the session ends. The
initiator sends the offer; the signal payload is `{"type": "offer"|"answer", "sdp": ...}`
(client/peer.py). aiortc has no `restartIce`, so when the partner falls silent or the connection
fails (link down, address changed) the call builds a new peer connection to the same
partner through the same `signal` relay: an offer carrying a higher `restart` number,
or from the responder a `{"type": "restart"}` request for one (docs/protocol.md,
"Between the two clients"). The policy is client/presence.py; one peer connection's
mechanics are client/peer.py. The call itself, its tracks, chat and counts go on.

Make before break: a connection that is replaced while it still carries media (a video
stall, a partner silent on it) stays open beside the new one, sending and receiving, until
the new one brings what it did, or it fails, or nothing arrives on it for STANDBY_SILENCE.
A stall in one direction then costs the other direction nothing, however long the new
connection takes to come up.

What the partner sends is received, counted and measured in client/remotemedia.py.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import av
from aiortc import RTCPeerConnection
from aiortc.mediastreams import MediaStreamTrack

from . import events as ev
from . import messages
from . import presence as pr
from .callstats import StatsSnapshot, summarize_stats
from .calltracks import CallMedia, CallTracks
from .peer import Peer, PeerEvents, ice_configuration
from .peerstate import PeerStateError, PeerStateLink
from .remotemedia import RemoteMedia
from .study import StudyState
from .tracks import BlankVideoTrack

log = logging.getLogger("studymatch.client.call")

MAX_CHAT_CHARS = 2000
# A replaced connection that brings nothing for this long is closed: what it sends may have
# stopped unseen too (a sender whose transport died reads its audio no more).
STANDBY_SILENCE = 5.0

Work = dict[str, Any] | pr.Rebuild | pr.Ask | pr.Resend  # a partner's signal, or a decision needing aiortc


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
        grace: float = 60.0,
        on_gone: Callable[[Call], None] = lambda call: None,
        study: Callable[[], StudyState | None] = lambda: None,
        on_partner_study: Callable[[StudyState], None] = lambda state: None,
    ) -> None:
        self.session = session
        self.initiator = initiator
        self.media: CallMedia | None = None
        self._send_signal = send_signal
        self._emit = emit
        self._on_media_up = on_media_up
        self._on_gone = on_gone
        self._study = study  # our study state now (None: no study session), sent with the rest
        self._on_partner_study = on_partner_study
        self.matched_at = matched_at
        self._media_timeout = media_timeout
        self._stats_interval = stats_interval
        self._configuration = ice_configuration(ice_servers, relay_only)
        self._loopback = loopback and not relay_only  # relay-only offers no host candidate
        self._events = PeerEvents(state=self._peer_state, track=self._remote_track, heard=self._heard,
                                  chat=self._chat, state_message=self._partner_state,
                                  state_open=lambda peer: self._send_state())  # fmt: skip
        self._peer = self._new_peer(0)
        self._standby: Peer | None = None  # the replaced connection, still carrying media (see above)
        self._standby_heard = 0.0  # when media or a beat last came on the standby
        self._heard_peers: set[int] = set()  # restart numbers of the connections media arrived on
        self._retiring: set[asyncio.Task[None]] = set()  # old peer connections closing
        self.presence = pr.Presence(initiator=initiator, grace=grace)
        self._work: asyncio.Queue[Work] = asyncio.Queue()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._timer: asyncio.TimerHandle | None = None
        self._state: PeerStateLink | None = None  # made once we know if this is a video call
        self._tracks: CallTracks | None = None
        self.connected_at: float | None = None
        self.ended_at: float | None = None
        self.media_failed = False
        self.closed = False
        self.received = RemoteMedia(session, emit, self._ms_since_matched)
        self.closing: asyncio.Task[None] | None = None

    @property
    def pc(self) -> RTCPeerConnection:
        """The current RTCPeerConnection (a new one after each rebuild)."""
        return self._peer.pc

    def _new_peer(self, restart: int) -> Peer:
        return Peer(self._configuration, restart=restart, loopback=self._loopback, events=self._events,
                    name=f"call {self.session} #{restart}")  # fmt: skip

    # --- setting up ------------------------------------------------------------------

    def start(self, open_media: Callable[[], Awaitable[CallMedia]]) -> None:
        """Open the media and negotiate in the background; signals wait in a queue meanwhile."""
        self._timer = asyncio.get_running_loop().call_later(self._media_timeout, self._timed_out)
        self._spawn(self._run(open_media), "negotiate")

    async def _run(self, open_media: Callable[[], Awaitable[CallMedia]]) -> None:
        """Set up, then carry out the partner's signals and the rebuilds, one at a time."""
        work: Work | None = None
        while not self.closed:
            try:
                await (self._setup(open_media) if work is None else self._do(work))
            except asyncio.CancelledError:
                raise
            except Exception:  # a broken offer/answer from the partner, or aiortc refusing it
                if self.connected_at is None:
                    log.exception("call %s: negotiation failed", self.session)
                    self._fail(messages.MEDIA_CONNECTION_FAILED)
                    return
                log.warning("call %s: a rebuild step failed; the next attempt follows", self.session,
                            exc_info=True)  # fmt: skip
            work = await self._work.get()

    async def _setup(self, open_media: Callable[[], Awaitable[CallMedia]]) -> None:
        self.media = await open_media()
        self._tracks = CallTracks(self.media, self._camera_ended, self._screen_ended)
        if self.closed:  # ended while the devices were opening
            self._tracks.stop()
            return
        self._state = PeerStateLink(video_call=self.media.receive_video)
        self.presence.expect_video = self.media.receive_video
        self._spawn(self._pulse(), "pulse")
        if self.initiator:
            await self._offer(self._peer)

    async def _offer(self, peer: Peer) -> None:
        assert self._tracks is not None
        self._tracks.send_over(peer)
        peer.open_channels()
        await self._send_signal(await peer.offer())

    def handle_signal(self, data: dict[str, Any]) -> None:
        """A partner's signal for this session; handled in order, after setup."""
        if not self.closed:
            self._work.put_nowait(data)

    def signaling_resumed(self) -> None:
        """The signaling socket is back: send again what the partner may have missed."""
        if not self.closed and self.media is not None:
            self._work.put_nowait(pr.Resend())

    async def _do(self, work: Work) -> None:
        if isinstance(work, pr.Rebuild):
            self._set_aside(self._peer)
            self._peer = self._new_peer(work.restart)
            await self._offer(self._peer)
        elif isinstance(work, pr.Ask):
            await self._send_signal({"type": "restart", "restart": work.restart})
        elif isinstance(work, pr.Resend):
            await self._resend()
        else:
            await self._signal(work)

    async def _resend(self) -> None:
        peer, presence = self._peer, self.presence
        if self.initiator or presence.phase is not pr.Phase.LOST or presence.rebuilt:
            # Our offer until answered; our answer (a repeated answer is ignored).
            if peer.description is not None and (not self.initiator or not peer.answered):
                await self._send_signal(peer.description)
        else:
            await self._send_signal({"type": "restart", "restart": presence.restart + 1})

    async def _signal(self, data: dict[str, Any]) -> None:
        kind, sdp, restart = data.get("type"), data.get("sdp"), data.get("restart", 0)
        if type(restart) is not int or restart < 0:
            log.info("call %s: ignoring a signal with a bad restart number", self.session)
            return
        if kind == "restart" and self.initiator:
            self._apply(self.presence.asked(restart, time.monotonic()))
            return
        if not isinstance(sdp, str):
            log.info("call %s: ignoring signal without sdp", self.session)
            return
        peer = self._peer
        if kind == "offer" and not self.initiator:
            if restart == peer.restart and peer.description is not None:
                await self._send_signal(peer.description)  # it missed our answer
                return
            if restart == peer.restart == 0 and not peer.answered:
                await self._answer(peer, sdp)
                return
            decisions = self.presence.offered(restart, time.monotonic())
            if decisions is not None:
                self._apply(decisions)
                self._set_aside(peer)
                self._peer = self._new_peer(restart)
                await self._answer(self._peer, sdp)
                return
        elif kind == "answer" and self.initiator and restart == peer.restart and peer.description is not None:
            if not peer.answered:
                await peer.take_answer(sdp)
            return  # else a repeated answer
        log.info("call %s: ignoring unexpected %r signal (restart %d)", self.session, kind, restart)

    async def _answer(self, peer: Peer, sdp: str) -> None:
        tracks = self._tracks
        assert tracks is not None
        await self._send_signal(await peer.answer(sdp, lambda: tracks.send_over(peer)))

    # --- presence ----------------------------------------------------------------------

    async def _pulse(self) -> None:
        """Beat to the partner and look at the time, every BEAT_INTERVAL."""
        while not self.closed:
            if self._state is not None and self._peer.state_open:
                self._peer.send_state(self._state.beat_message())
            now = time.monotonic()
            if self._standby is not None and now - self._standby_heard > STANDBY_SILENCE:
                self._end_standby()
            self._apply(self.presence.tick(now))
            await asyncio.sleep(pr.BEAT_INTERVAL)

    def _apply(self, decisions: list[pr.Decision]) -> None:
        for decision in decisions:
            if self.closed:
                return
            log.info("call %s: %s", self.session, decision)
            if isinstance(decision, pr.Reconnecting):
                self._emit(ev.MediaReconnecting(self.session, decision.attempt))
            elif isinstance(decision, pr.Restored):
                self._emit(ev.MediaRestored(self.session, decision.gone_ms))
            elif isinstance(decision, pr.Gone):
                self._on_gone(self)
            else:
                self._work.put_nowait(decision)

    def _retire(self, peer: Peer) -> None:
        task = peer.close()
        self._retiring.add(task)
        task.add_done_callback(self._retiring.discard)

    def _set_aside(self, peer: Peer) -> None:
        """`peer` is being replaced: kept as the standby while it still carries media, else closed.
        Of a standby and a replaced attempt that never brought media, the standby stays."""
        carries = peer.connection_state == "connected" and peer.restart in self._heard_peers
        if not carries:
            self._retire(peer)
            return
        self._end_standby()
        self._standby, self._standby_heard = peer, time.monotonic()
        log.info("call %s: keeping #%d open until #%d is heard", self.session, peer.restart, peer.restart + 1)

    def _end_standby(self) -> None:
        standby, self._standby = self._standby, None
        if standby is not None:
            self._retire(standby)

    # --- what the peer connections report ------------------------------------------------

    def _peer_state(self, peer: Peer) -> None:
        state = peer.connection_state
        if peer is self._standby and state in ("failed", "closed"):  # no use any more (the partner closed it)
            self._end_standby()
        if self.closed or peer is not self._peer:
            return
        now = time.monotonic()
        if state == "connected":
            if self.connected_at is None:
                self.connected_at = now
                if self._timer is not None:
                    self._timer.cancel()
                self._emit(ev.MediaConnected(self.session, self._ms_since_matched()))
                self._on_media_up(self)
                self._spawn(self._stats_loop(), "stats")
            self._apply(self.presence.connected(now))
        elif state in ("failed", "closed"):  # closed: by the partner (ours are retired or the call's)
            if self.connected_at is None:
                self._fail(messages.MEDIA_CONNECTION_FAILED)
            else:
                if state == "failed":  # for good (no ICE restart): stop its SCTP retransmissions now
                    self._retire(peer)
                self._apply(self.presence.failed(now))

    def _heard(self, peer: Peer, kind: str) -> None:
        self._heard_peers.add(peer.restart)
        if peer is self._standby:
            self._standby_heard = time.monotonic()
        if peer is self._peer and not self.closed and self.connected_at is not None:
            self._current_heard(kind)
            self._apply(self.presence.heard(time.monotonic(), video=kind == "video"))

    def _current_heard(self, kind: str) -> None:
        """Media on the current connection: the standby can go once this one carries what it did
        (in a video call, video: the picture goes on from the old one until the new one's comes)."""
        if self._standby is not None and (kind == "video" or not self.presence.expect_video):
            self._end_standby()

    def _timed_out(self) -> None:
        if self.connected_at is None and not self.closed:
            self._fail(messages.MEDIA_TIMEOUT.format(seconds=self._media_timeout))

    def _fail(self, message: str) -> None:
        if not self.media_failed and not self.closed:
            self.media_failed = True
            self._emit(ev.MediaFailed(self.session, message))

    def _remote_track(self, peer: Peer, track: MediaStreamTrack) -> None:
        # A rebuilt connection brings new tracks: consumed into the same counts and window.
        if track.kind == "video":
            self._spawn(self.received.consume_video(track), f"video-{peer.restart}")
        elif track.kind == "audio":
            self._spawn(self.received.consume_audio(track, self._play), f"audio-{peer.restart}")

    def _play(self, frame: av.AudioFrame) -> None:
        if self.media is not None:
            self.media.speaker.play(frame)

    def _chat(self, peer: Peer, text: str) -> None:
        if not self.closed:  # from any of the call's connections: a retired one may still deliver
            self._emit(ev.ChatMessage(self.session, text[:MAX_CHAT_CHARS], mine=False))

    def _partner_state(self, peer: Peer, message: str | bytes) -> None:
        state = self._state
        if self.closed or state is None:
            return
        try:
            news = state.news(message)
        except PeerStateError as exc:
            if state.refused == 1:  # once: a hostile partner must not flood the log
                log.info("call %s: ignoring the partner's state message: %s", self.session, exc)
            return
        if peer is self._standby:
            self._standby_heard = time.monotonic()
        if peer is self._peer and self.connected_at is not None:
            self._current_heard("beat")
            self._apply(self.presence.heard(time.monotonic(), beat=state.beat is not None))
        if news.camera is not None or news.screen is not None:
            self.presence.switched(time.monotonic())  # its next frame may take a while
        if news.camera is not None:
            self._emit(ev.PartnerCamera(self.session, news.camera))
        if news.screen is not None:
            self._emit(ev.PartnerScreen(self.session, news.screen))
        if state.study is not None:
            self._on_partner_study(state.study)

    def _send_state(self) -> None:
        state, media = self._state, self.media
        if self.closed or state is None or media is None:
            return
        message = state.message(media.camera_on, self.sharing)
        if message is not None:
            self._peer.send_state(message)
        self.send_study()

    def send_study(self) -> None:
        """Our whole study state, on every change and whenever a state channel opens."""
        state, study = self._state, self._study()
        if not self.closed and state is not None and study is not None and self._peer.state_open:
            self._peer.send_state(state.study_message(study))

    async def _stats_loop(self) -> None:
        previous: StatsSnapshot | None = None
        measured: Peer | None = None
        while not self.closed:
            peer = self._peer
            if peer is not measured:  # a rebuilt connection counts from zero
                previous, measured = None, peer
            try:
                report = await peer.pc.getStats()
            except Exception as exc:  # retired meanwhile: the next round measures the new one
                log.debug("call %s: no stats this round: %r", self.session, exc)
                await asyncio.sleep(self._stats_interval)
                continue
            previous, rtt, loss, kbps = summarize_stats(list(report.values()), previous, time.monotonic())
            if rtt is not None:  # a freeze waits out the resends this round trip takes (client/presence.py)
                self.presence.rtt = rtt / 1000.0
            if not self.closed:
                self._emit(ev.CallStats(self.session, rtt, loss, kbps))
            await asyncio.sleep(self._stats_interval)

    # --- intents -----------------------------------------------------------------------

    @property
    def chat_open(self) -> bool:
        return not self.closed and (self._peer.chat_open or (self._standby is not None and self._standby.chat_open))

    def send_chat(self, text: str) -> bool:
        text = text[:MAX_CHAT_CHARS]
        # While a rebuilt connection comes up, the standby's chat channel is still open.
        sent = not self.closed and (self._peer.send_chat(text)
                                    or (self._standby is not None and self._standby.send_chat(text)))  # fmt: skip
        if not sent:
            return False
        self._emit(ev.ChatMessage(self.session, text, mine=True))
        return True

    @property
    def sends_video(self) -> bool:
        """A video sender (camera or black) is there for set_video_track to switch."""
        return not self.closed and self._tracks is not None and self._tracks.sends_video

    @property
    def camera_on(self) -> bool:
        return self.media is not None and self.media.camera_on

    def set_video_track(self, track: MediaStreamTrack, *, camera_on: bool) -> None:
        """Swap what we send (camera on/off) without renegotiating, and tell the partner."""
        if not self.sends_video or self._tracks is None:
            track.stop()  # a call that sends no video (or is over) keeps sending none
            return
        self._tracks.switch_video(track, camera_on=camera_on)
        self._send_state()

    @property
    def sharing(self) -> bool:
        """Our screen is sent in place of the camera."""
        return self._tracks is not None and self._tracks.sharing

    def share_screen(self, track: MediaStreamTrack) -> bool:
        """Send `track` (client/media/screen.py) in place of the camera, on the same video sender:
        no new offer, the partner keeps its one video track. False (and `track` stopped) when this
        call sends no video."""
        if not self.sends_video or self._tracks is None:
            track.stop()
            return False
        self._tracks.share(track)
        self._send_state()
        self._emit(ev.ScreenShare(self.session, True))
        return True

    def stop_screen_share(self, message: str | None = None) -> None:
        """The camera (or black, if it is off) again in place of the screen."""
        if self.closed or self._tracks is None or not self._tracks.sharing:
            return
        self._tracks.unshare()
        self._send_state()
        self._emit(ev.ScreenShare(self.session, False, message))

    def _screen_ended(self, screen: MediaStreamTrack) -> None:
        """The shared screen's capture failed: the camera again, and the person told why."""
        failure = getattr(screen, "failure", None)  # a ScreenTrack's sentence (client/media/screen.py)
        log.info("call %s: the screen capture ended (%s); sending the camera again", self.session, failure)
        self.stop_screen_share(failure or messages.SCREEN_LOST)

    def _camera_ended(self) -> None:
        """Our camera failed mid-call: black instead of a frozen picture, and the partner told."""
        if not self.closed:
            log.info("call %s: the camera ended; sending black", self.session)
            self.set_video_track(BlankVideoTrack(), camera_on=False)

    # --- the end -----------------------------------------------------------------------

    def close(self) -> ev.CallEnded:
        """End the call now; the peer connections are closed in the background (`closing`)."""
        if self.closed:
            return self.summary()
        self.ended_at = time.monotonic()
        self.closed = True
        if self._timer is not None:
            self._timer.cancel()
        for task in self._tasks:
            task.cancel()
        self.closing = asyncio.create_task(self._close_all(), name=f"close-call-{self.session}")
        return self.summary()

    async def _close_all(self) -> None:
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._end_standby()
        self._retire(self._peer)
        # Each close is bounded and never raises (client/peer.py), so this ends.
        await asyncio.gather(*self._retiring, return_exceptions=True)
        if self._tracks is not None:  # the peer connections stopped only their own SenderTracks
            self._tracks.stop()

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
