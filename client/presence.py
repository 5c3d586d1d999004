"""Is the partner still there, and what to do when they are not: beats and times in, decisions out.

Pure (no asyncio, no aiortc): `client/call.py` reports what it hears from the partner
over the current peer connection (a beat on the `state` channel, any audio or video
frame), what that connection's state does, and the partner's restart signals, always
with the time; it carries out the decisions returned.

Why SILENCE is 5 s: the partner beats every second, and frames arrive many times a
second, so 5 s is five missed beats with no media at all, not a lossy moment (SCTP
retransmits a lost beat within about a second, and audio goes on meanwhile). It is
also longer than the short Wi-Fi blips (4 s) the old connection rides out by itself:
rebuilding then would only lose time, as a new negotiation has to wait for the
signaling socket, which the same blip cut. ICE consent (30 s) alone would leave a
frozen picture for half a minute.

Why a BLIP of 2.5 s or more, once heard from again, rebuilds too (the initiator's call):
the connection came back by itself, but its video did not. aiortc's video receiver holds
512 packets and releases nothing while the oldest lost one is missing, and the sender
keeps only the last 128 to resend: after a 4 s outage the picture comes back 4-9 s
later and then lags by seconds while the backlog drains (docs/benchmarks.md, "Network").
A new connection is up within about a second, with the delay of before. Beats and audio
arrive many times a second, so a 2.5 s gap is an outage, not a lossy moment.

Why a video that stops for FREEZE (0.5 s, plus FREEZE_RTTS round trips), or never comes for
STALL (2.5 s), rebuilds too, while the partner is heard: under loss, a video packet whose resend
is lost as well leaves a hole in aiortc's video receiver, which releases nothing until a later
resend fills it or 512 packets (8 s and more) have passed, while beats and audio go on; then it
shows the held frames seconds late. A new connection shows fresh ones within about 50 ms. The
partner's video never pauses by itself: a camera turned off sends black at 5 frames a second,
and a still picture goes at 5 frames a second too (client/media/motion.py: never a gap past
its STILL_INTERVAL, 0.2 s, well under FREEZE). A freeze the link heals by itself lasts a round
trip or a few (the resend of a resend), so on a link with a 200 ms round trip the rebuild waits
1.1 s, not 0.5: measured under 5 % loss and 100 ms of delay each way, half a second rebuilt
8.6 times a minute for freezes that would have healed (docs/benchmarks.md). It also waits at
least FREEZE_GAPS of the partner's recent frame gaps: a shared screen at 5 fps, or a busy
machine, sends slowly, and its pace is not a freeze. After the partner says it switched its
video (camera on or off, a screen shared or not), its next frame gets STALL, as a new
connection's first does: it may be a new size's keyframe. The rebuild costs
nothing to watch: the old connection stays beside the new one until the new one's video comes
(client/call.py, "make before break"), and both feed the same picture, so a freeze that heals
by itself meanwhile is not cut short. A new connection's first frame may take longer than a
freeze (its first keyframe), so its clock is STALL, counted from the moment it came up. A
connection whose video never came is rebuilt once for it, not again and again: the next one
must carry video first. Everything is acted on at the next audio frame, not the next 1 s tick.

The initiator rebuilds: a new peer connection whose offer carries a restart number
higher than any before; the responder that notices first asks for one. A partner
that never beats (an older client) is never declared silent; only its connection
failing starts a rebuild. Nothing here ends the call but `Gone`, after `grace`
seconds with nothing heard from the partner.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from enum import Enum

BEAT_INTERVAL = 1.0  # how often each side beats on the `state` channel
SILENCE = 5.0  # no beat and no frame for this long (from a partner that beats): lost
BLIP = 2.5  # heard again after a gap this long: the initiator rebuilds (aiortc's video would lag)
STALL = 2.5  # no first video frame on a new connection this long while the partner is heard: rebuild
FREEZE = 0.5  # video stopped this long, plus FREEZE_RTTS round trips, while the partner is heard: rebuild
FREEZE_RTTS = 3.0  # the round trips a lossy link may take to resend a lost packet by itself
FREEZE_GAPS = 4.0  # ...and at least this many of the partner's recent frame gaps (a 5 fps screen: 0.8 s)
RECENT_GAPS = 8  # the frame gaps that say the partner's pace
RESEND = 3.0  # re-send the pending offer, answer request, while nothing comes back
ATTEMPT_TIMEOUT = 15.0  # a rebuilt connection not up by then: the initiator builds another


class Phase(Enum):
    CONNECTING = "connecting"  # the first connection is not up yet (the media timeout's business)
    UP = "up"
    LOST = "lost"  # rebuilding
    GONE = "gone"  # past the grace: the call is to end


@dataclass(frozen=True)
class Reconnecting:
    """Tell the user: the media is being rebuilt (attempt 1, 2... of this loss)."""

    attempt: int


@dataclass(frozen=True)
class Rebuild:
    """Initiator: retire the connection, build a new one, offer it with this restart number."""

    restart: int


@dataclass(frozen=True)
class Ask:
    """Responder: ask the initiator for a rebuild with this restart number."""

    restart: int


@dataclass(frozen=True)
class Resend:
    """Send again what may have been dropped: the initiator its offer; the responder its answer
    (`rebuilt`), or else its request, `Ask(restart + 1)`."""


@dataclass(frozen=True)
class Restored:
    gone_ms: float


@dataclass(frozen=True)
class Gone:
    """The peer connection stayed gone past the grace: end the call (once)."""


Decision = Reconnecting | Rebuild | Ask | Resend | Restored | Gone


class Presence:
    def __init__(
        self,
        *,
        initiator: bool,
        grace: float,
        silence: float = SILENCE,
        blip: float = BLIP,
        stall: float = STALL,
        freeze: float = FREEZE,
        resend: float = RESEND,
        attempt_timeout: float = ATTEMPT_TIMEOUT,
    ) -> None:
        self.initiator = initiator
        self.grace = grace
        self.silence = silence
        self.blip = blip
        self.stall = stall
        self.freeze = freeze
        self.resend = resend
        self.attempt_timeout = attempt_timeout
        self.phase = Phase.CONNECTING
        self.restart = 0  # the restart number of the current peer connection (0: the first)
        self.beats = False  # the partner beats: its silence means something
        self.last_heard = 0.0
        self.expect_video = False  # a video call: the partner sends video all along (black when off)
        self.last_video: float | None = None  # the last video frame on the current connection
        self._video_since = 0.0  # when the current connection came up (its stall clock starts)
        self._blind = 0  # stall rebuilds in a row of connections that brought no video
        self.attempt = 0  # reported attempts of this loss
        self._built = 0  # peer connections built during this loss
        self._attempt_at = 0.0
        self._sent_at = 0.0
        self._asked_at: float | None = None  # the responder's last request for a stalled video
        self.rtt = 0.0  # the partner's round trip in seconds, as the connection's stats last said
        self._gaps: deque[float] = deque(maxlen=RECENT_GAPS)  # between the partner's last video frames
        self._switched = False  # the partner switched its video (camera, black, screen): no frame since

    # --- what the current peer connection reports -----------------------------------------

    def connected(self, now: float) -> list[Decision]:
        if self.phase is Phase.CONNECTING:
            self.phase = Phase.UP
            self.last_heard = self._video_since = now
        return []

    def heard(self, now: float, *, beat: bool = False, video: bool = False) -> list[Decision]:
        """A beat or a frame (`video`: a video frame) from the partner over the current connection."""
        self.beats = self.beats or beat
        if video:
            if self.last_video is not None and not self._switched and now - self.last_video < self._freeze_after():
                self._gaps.append(now - self.last_video)  # the pace, not a freeze
            self.last_video, self._blind, self._switched = now, 0, False
        last, self.last_heard = self.last_heard, now
        if self.phase is Phase.UP and self.initiator and self.beats and now - last >= self.blip:
            return self._lose(now)  # back by itself, but its video would lag for seconds
        if self.phase is Phase.UP:
            return self._stall(now)  # seen on the audio's next frame, not on the next 1 s tick
        if self.phase is not Phase.LOST:
            return []
        self.phase = Phase.UP
        self._video_since = now
        return [Restored(round(1000.0 * (now - last), 1))]

    def failed(self, now: float) -> list[Decision]:
        """The current peer connection failed (ICE consent ran out, or checks found no path)."""
        if self.phase is Phase.UP:
            return self._lose(now)
        if self.phase is Phase.LOST and self.initiator:
            self._attempt_at = -self.attempt_timeout  # no use waiting for this one any longer
        return []

    def tick(self, now: float) -> list[Decision]:
        if self.phase is Phase.UP:
            if self.beats and now - self.last_heard > self.silence:
                return self._lose(now)
            return self._stall(now)
        if self.phase is not Phase.LOST:
            return []
        if now - self.last_heard > self.grace:
            self.phase = Phase.GONE
            return [Gone()]
        if self.initiator and now - self._attempt_at >= max(self.attempt_timeout, self.resend):
            return self._rebuild(now, self.restart + 1)
        if now - self._sent_at >= self.resend:
            self._sent_at = now
            return [Resend()]
        return []

    def _stall(self, now: float) -> list[Decision]:
        if not self._stalled(now):
            return []
        if self.initiator:
            return self._lose(now)
        if self._asked_at is None or now - self._asked_at >= self.resend:
            self._asked_at = now  # again while stalled: the request may have been dropped
            return [Ask(self.restart + 1)]
        return []

    def _stalled(self, now: float) -> bool:
        """A video call's video stopped, or never came, while the partner is heard."""
        if not (self.expect_video and self.beats):
            return False
        if self.last_video is None:  # none on this connection yet
            waited = now - self._video_since
            return self._blind == 0 and now - self.last_heard < self.stall and waited > self.stall
        freeze = self._freeze_after()
        return now - self.last_heard < freeze and now - self.last_video > freeze

    def _freeze_after(self) -> float:
        """How long the partner's video may stop before it counts as frozen: FREEZE plus the resends
        of a long round trip, longer for a partner sending slowly (a screen at 5 fps, or a busy
        machine), and STALL for the first frame after it switched what it sends."""
        if self._switched:
            return self.stall
        return max(self.freeze + FREEZE_RTTS * self.rtt, FREEZE_GAPS * max(self._gaps, default=0.0))

    def switched(self, now: float) -> None:
        """The partner says it switched its video (camera on or off, a screen shared or not): the
        next frame may be a new size's keyframe, and then come at another pace."""
        if self.last_video is not None:
            self.last_video = now
            self._switched = True
        self._gaps.clear()

    @property
    def rebuilt(self) -> bool:
        """A peer connection was built during this loss (the responder then re-sends its answer)."""
        return self.phase is Phase.LOST and self._built > 0

    # --- the partner's restart signals -------------------------------------------------------

    def asked(self, restart: int, now: float) -> list[Decision]:
        """Initiator: the responder asks for a rebuild numbered `restart`."""
        if not self.initiator or self.phase in (Phase.CONNECTING, Phase.GONE):
            return []
        if restart > self.restart:
            if self.phase is Phase.UP:
                return self._lose(now, max(restart, self.restart + 1))
            return self._rebuild(now, restart)
        if self.phase is Phase.LOST:  # it has not had our offer yet
            self._sent_at = now
            return [Resend()]
        return []

    def offered(self, restart: int, now: float) -> list[Decision] | None:
        """Responder: an offer numbered `restart` came. None: not a new one (the caller re-sends
        its answer when the number is the current one, and ignores an older one); else the
        offer is taken, with what to report."""
        if self.initiator or restart <= self.restart or self.phase is Phase.GONE:
            return None
        self.restart = restart
        if self.phase is not Phase.LOST:
            self._enter_lost(now)
        self._built += 1
        self._new_connection()
        return self._report()

    # --- inside -----------------------------------------------------------------------------

    def _lose(self, now: float, restart: int | None = None) -> list[Decision]:
        self._enter_lost(now)
        if self.initiator:
            return self._rebuild(now, self.restart + 1 if restart is None else restart)
        self._sent_at = now
        return [*self._report(), Ask(self.restart + 1)]

    def _enter_lost(self, now: float) -> None:
        self.phase = Phase.LOST
        self.attempt = 0
        self._built = 0

    def _rebuild(self, now: float, restart: int) -> list[Decision]:
        self.restart = restart
        self._built += 1
        self._new_connection()
        self._attempt_at = self._sent_at = now
        return [*self._report(), Rebuild(restart)]

    def _new_connection(self) -> None:
        self._blind = self._blind + 1 if self.last_video is None else 0  # the one replaced brought none
        self.last_video = self._asked_at = None  # its video, and any stall of it, are yet to come
        self._gaps.clear()
        self._switched = False

    def _report(self) -> list[Decision]:
        attempt = max(1, self._built)
        if attempt <= self.attempt:
            return []
        self.attempt = attempt
        return [Reconnecting(attempt)]
