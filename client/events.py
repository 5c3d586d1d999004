"""What the call engine tells its user (the window, the headless CLI, a bot).

Plain frozen dataclasses: no Qt, no aiortc, so the window and the tests can
match on them without importing the media stack. The headless client's
JSON lines (README, "Headless client") are made from them by `client/eventformat.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias, Union

if TYPE_CHECKING:
    import av

    VideoFrame: TypeAlias = av.VideoFrame
else:
    VideoFrame: TypeAlias = Any


@dataclass(frozen=True)
class Connected:
    server: str


@dataclass(frozen=True)
class Disconnected:
    """The server is unreachable or went away; the engine retries in `retry_in` seconds."""

    server: str
    retry_in: float
    message: str


@dataclass(frozen=True)
class Queued:
    mode: str
    topic: str | None


@dataclass(frozen=True)
class Matched:
    session: str
    initiator: bool
    partner_mode: str
    partner_topic: str | None
    favourite: str | None = None  # the nickname, when paired as favourites (docs/protocol.md, "Coming back")
    avoidable: bool = False  # the server named the partner's installation: "never again" can take


@dataclass(frozen=True)
class MediaConnected:
    session: str
    ms_since_matched: float


@dataclass(frozen=True)
class MediaFailed:
    """Media did not connect in time (or the connection failed); the user may skip."""

    session: str
    message: str


@dataclass(frozen=True)
class FirstRemoteFrame:
    session: str
    kind: str  # "video" | "audio"
    ms_since_matched: float


@dataclass(frozen=True)
class RemoteVideoFrame:
    """Every decoded remote frame, for the window to paint; not a JSON event."""

    session: str
    frame: VideoFrame


@dataclass(frozen=True)
class LocalVideoFrame:
    """Self-preview frames, throttled; not a JSON event."""

    frame: VideoFrame


@dataclass(frozen=True)
class ChatMessage:
    session: str
    text: str
    mine: bool


@dataclass(frozen=True)
class PartnerCamera:
    """The partner says whether they send a live camera picture (video calls only).

    Sent when the call's state channel opens and on every change; a partner
    whose client does not say (an older one) never causes this event.
    """

    session: str
    on: bool


@dataclass(frozen=True)
class ScreenShare:
    """We send our screen in place of the camera (on), or the camera again (off).

    `message`: why sharing stopped or could not start, when it was not the person's wish."""

    session: str
    on: bool
    message: str | None = None


@dataclass(frozen=True)
class PartnerScreen:
    """The partner sends their screen in place of their camera (on), or no longer (video calls only)."""

    session: str
    on: bool


@dataclass(frozen=True)
class CallStats:
    """About once a second in a call."""

    session: str
    rtt_ms: float | None
    loss_percent: float | None
    bitrate_kbps: float | None


@dataclass(frozen=True)
class VideoStats:
    """The partner's video as decoded here, once a second with `--video-stats` (headless)."""

    session: str
    width: int
    height: int
    fps: float
    kbps: float | None  # everything received, as CallStats counts it


@dataclass(frozen=True)
class DeviceErrorEvent:
    device: str  # "camera" | "microphone"
    code: str  # "busy" | "not_found" | "permission_denied" | "unknown"
    message: str  # a sentence a person can act on


@dataclass(frozen=True)
class ModeChanged:
    mode: str
    message: str


@dataclass(frozen=True)
class PartnerLeft:
    session: str
    reason: str


@dataclass(frozen=True)
class CallEnded:
    session: str
    seconds: float
    video_frames: int
    audio_frames: int
    latency_ms_p50: float | None


@dataclass(frozen=True)
class Idle:
    pass


@dataclass(frozen=True)
class ErrorEvent:
    code: str
    message: str


@dataclass(frozen=True)
class Shutdown:
    retry_after: float


# --- a call that outlives the network (docs/protocol.md, "Resuming after a dropped socket") ---


@dataclass(frozen=True)
class SignalingLost:
    """The server went away during a call; the call goes on and the engine resumes in `retry_in` s."""

    session: str
    retry_in: float
    message: str


@dataclass(frozen=True)
class Resumed:
    """Back in `session` on a new signaling connection."""

    session: str


@dataclass(frozen=True)
class PartnerReconnecting:
    """The partner is away (its signaling socket, or the peer connection, is gone); its place is kept."""

    session: str


@dataclass(frozen=True)
class PartnerResumed:
    """The partner is back after `PartnerReconnecting`."""

    session: str


@dataclass(frozen=True)
class MediaReconnecting:
    """The media stopped (link down, address changed): a new peer connection is being built."""

    session: str
    attempt: int


@dataclass(frozen=True)
class MediaRestored:
    """Media flows again after `MediaReconnecting`; `gone_ms` is how long it was away."""

    session: str
    gone_ms: float


# --- the study session (docs/protocol.md, "Study sessions") ---------------------------------
# Times are seconds since the Unix epoch on this machine's clock: the server's times in
# `study`, corrected by the clock offset taken from `study.now`, so both partners agree.


@dataclass(frozen=True)
class SessionStarted:
    """Right after `Matched` (and again after `Resumed`): the terms both partners agreed."""

    session: str
    length: int | None  # minutes; None: open (no end)
    talk: str  # "talk" | "quiet"
    started_at: float
    ends_at: float | None  # None in an open session


@dataclass(frozen=True)
class SessionPhase:
    """The session entered a phase: "check_in", "focus", "break" or "check_out"."""

    session: str
    phase: str
    until: float | None  # when this phase ends, when known


@dataclass(frozen=True)
class PartnerGoal:
    """The partner set or changed its goal (at most 140 characters)."""

    session: str
    text: str


@dataclass(frozen=True)
class PartnerReady:
    """The partner is done checking in."""

    session: str


@dataclass(frozen=True)
class PartnerCheckout:
    session: str
    done: str  # "yes" | "partly" | "no"
    note: str  # at most 280 characters; "" when none


@dataclass(frozen=True)
class PartnerBrb:
    """The partner stepped away until `until` (None: back)."""

    session: str
    until: float | None


@dataclass(frozen=True)
class Pomodoro:
    """The shared Pomodoro (25 min focus, 5 min break) was switched on or off, by either side."""

    session: str
    on: bool


@dataclass(frozen=True)
class PartnerAudioLevel:
    """How loud the partner's voice is (0..1 on a meter's dB scale, client/audiolevel.py), ten
    times a second, for the mini window's meter in an audio call; not a JSON event."""

    session: str
    level: float


@dataclass(frozen=True)
class SpeakingWhileMuted:
    """The microphone hears speech while muted: the window says "You are muted"."""

    session: str


# --- coming back (docs/protocol.md, "Coming back" and "Live counts while searching") -----------


@dataclass(frozen=True)
class Counts:
    """While searching, at most once a second: who else is there (`topic`: None when searching any)."""

    online: int
    video: int
    audio: int
    topic: int | None


@dataclass(frozen=True)
class FavouriteSearch:
    """Searching for one of `favourites` favourites only, for up to `wait` seconds; then for anyone."""

    favourites: int
    wait: float


@dataclass(frozen=True)
class FavouriteFallback:
    """No favourite came in time, or the server cannot look for favourites: searching for anyone now."""

    message: str


@dataclass(frozen=True)
class PartnerAgain:
    """The partner ticked (or unticked) "Study again with this partner"."""

    session: str
    on: bool


@dataclass(frozen=True)
class FavouriteSaved:
    """Both ticked "Study again" and the call ended: the partner is a favourite now, under `nickname`."""

    session: str
    nickname: str


@dataclass(frozen=True)
class PartnerBlocked:
    """The partner of `session` will never be matched with us again (or could not be: `message` says)."""

    session: str
    blocked: bool
    message: str


# What the window's session panel and mini window follow (client/ui/controller.py, study_changed).
STUDY_EVENTS = (SessionStarted, SessionPhase, PartnerGoal, PartnerReady, PartnerCheckout, PartnerBrb, Pomodoro,
                SpeakingWhileMuted)  # fmt: skip

EngineEvent: TypeAlias = Union[  # noqa: UP007 (one member per line reads better)
    Connected,
    Disconnected,
    Queued,
    Matched,
    MediaConnected,
    MediaFailed,
    FirstRemoteFrame,
    RemoteVideoFrame,
    LocalVideoFrame,
    ChatMessage,
    PartnerCamera,
    ScreenShare,
    PartnerScreen,
    CallStats,
    VideoStats,
    DeviceErrorEvent,
    ModeChanged,
    PartnerLeft,
    CallEnded,
    Idle,
    ErrorEvent,
    Shutdown,
    SignalingLost,
    Resumed,
    PartnerReconnecting,
    PartnerResumed,
    MediaReconnecting,
    MediaRestored,
    SessionStarted,
    SessionPhase,
    PartnerGoal,
    PartnerReady,
    PartnerCheckout,
    PartnerBrb,
    Pomodoro,
    SpeakingWhileMuted,
    PartnerAudioLevel,
    Counts,
    FavouriteSearch,
    FavouriteFallback,
    PartnerAgain,
    FavouriteSaved,
    PartnerBlocked,
]
