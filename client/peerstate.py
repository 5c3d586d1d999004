"""What two partners tell each other directly, on the `state` data channel.

The server never sees this (its protocol does not change): the initiator
opens a second data channel, labelled `state`, next to `chat`, and each side
sends its current state when the channel opens and again on every change,
one compact JSON object per message, e.g. `{"camera":false,"screen":false}`. Each side also
beats, `{"beat":n}` every second (n counts up from 1): the partner is there
while beats or frames arrive (client/presence.py).

The partner is not trusted: a message is refused unless it is a text of at
most MAX_STATE_CHARS characters holding a JSON object whose known fields
have exactly their type. Unknown fields are ignored, so later versions can
add fields without confusing this one. A client that never opens the channel
(an older one) simply says nothing, and nothing is shown.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from .identity import decode_key
from .study import DONE, MAX_GOAL_CHARS, MAX_NOTE_CHARS, Checkout, StudyState

STATE_CHANNEL = "state"
# Above what this version sends (a whole study state: a 140-character goal and a
# 280-character note, sent unescaped); small enough that a hostile partner cannot
# make us parse anything big.
MAX_STATE_CHARS = 2048
STUDY_FIELDS = ("goal", "ready", "checkout", "brb", "pomodoro", "again")


class PeerStateError(ValueError):
    """A state message we refuse; the caller logs it and carries on."""


@dataclass(frozen=True)
class PeerState:
    # True: a live camera picture; False: black (turned off, failed, or none).
    # None: not said (an audio call, or a partner that does not know the field).
    camera: bool | None = None
    # True: the video is the sender's screen, sent in place of its camera (`camera` is then true:
    # the picture is live, so a client that does not know this field shows it). None: not said.
    screen: bool | None = None
    # A heartbeat's number; None: this message is no beat.
    beat: int | None = None
    # The sender's whole study state; None: this message says nothing about the session.
    study: StudyState | None = None


def encode_peer_state(state: PeerState) -> str | None:
    """The message to send, or None when there is nothing to say."""
    fields: dict[str, Any] = {}
    if state.camera is not None:
        fields["camera"] = state.camera
    if state.screen is not None:
        fields["screen"] = state.screen
    if state.beat is not None:
        fields["beat"] = state.beat
    if state.study is not None:
        fields.update(encode_study(state.study))
    if not fields:
        return None
    return json.dumps(fields, separators=(",", ":"), ensure_ascii=False)


def encode_study(study: StudyState) -> dict[str, Any]:
    fields: dict[str, Any] = {"goal": study.goal, "ready": study.ready, "brb": study.brb}
    if study.checkout is not None:
        fields["checkout"] = {"done": study.checkout.done, "note": study.checkout.note}
    if study.pomodoro is not None:
        fields["pomodoro"] = list(study.pomodoro)
    fields["again"] = None if study.again is None else {"key": study.again}
    return fields


def decode_study(fields: dict[str, Any]) -> StudyState | None:
    """The study fields of one message, strictly; None when it has none. Raises PeerStateError."""
    if not any(name in fields for name in STUDY_FIELDS):
        return None
    goal = fields.get("goal", "")
    if type(goal) is not str or len(goal) > MAX_GOAL_CHARS:
        raise PeerStateError(f"goal is not a string of at most {MAX_GOAL_CHARS} characters")
    ready = fields.get("ready", False)
    if type(ready) is not bool:
        raise PeerStateError("ready is not true or false")
    brb = fields.get("brb")
    if brb is not None and type(brb) is not int:
        raise PeerStateError("brb is not an integer or null")
    checkout = _decode_checkout(fields.get("checkout"))
    pomodoro = fields.get("pomodoro")
    if pomodoro is not None:
        if not (type(pomodoro) is list and len(pomodoro) == 2 and type(pomodoro[0]) is bool
                and type(pomodoro[1]) is int):  # fmt: skip
            raise PeerStateError("pomodoro is not [true|false, integer]")
        pomodoro = (pomodoro[0], pomodoro[1])
    return StudyState(goal=goal, ready=ready, checkout=checkout, brb=brb, pomodoro=pomodoro,
                      again=_decode_again(fields.get("again")))


def _decode_again(value: object) -> str | None:
    """`{"key": <43 characters of base64url: 32 bytes>}` or null (docs/protocol.md, "Study again")."""
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) != {"key"}:
        raise PeerStateError("again is not {key} or null")
    key = value["key"]
    try:
        decode_key(key)
    except ValueError as exc:
        raise PeerStateError(f"again.key: {exc}") from exc
    return str(key)


def _decode_checkout(value: object) -> Checkout | None:
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) - {"done", "note"}:
        raise PeerStateError("checkout is not {done, note}")
    done, note = value.get("done"), value.get("note", "")
    if done not in DONE or type(done) is not str:
        raise PeerStateError("checkout.done is not yes, partly or no")
    if type(note) is not str or len(note) > MAX_NOTE_CHARS:
        raise PeerStateError(f"checkout.note is not a string of at most {MAX_NOTE_CHARS} characters")
    return Checkout(done, note)


def decode_peer_state(message: object) -> PeerState:
    """The partner's state from one data channel message. Raises PeerStateError."""
    if not isinstance(message, str):
        raise PeerStateError("not a text message")
    if len(message) > MAX_STATE_CHARS:
        raise PeerStateError(f"longer than {MAX_STATE_CHARS} characters")
    try:
        fields = json.loads(message)
    except (ValueError, RecursionError) as exc:  # RecursionError: deep nesting fits in the bound
        raise PeerStateError("not JSON") from exc
    if not isinstance(fields, dict):
        raise PeerStateError("not a JSON object")
    camera = fields.get("camera")
    # `type(...) is bool`, not isinstance: 0 and 1 are not camera states.
    if camera is not None and type(camera) is not bool:
        raise PeerStateError("camera is not true or false")
    screen = fields.get("screen")
    if screen is not None and type(screen) is not bool:
        raise PeerStateError("screen is not true or false")
    beat = fields.get("beat")
    if beat is not None and type(beat) is not int:
        raise PeerStateError("beat is not an integer")
    return PeerState(camera=camera, screen=screen, beat=beat, study=decode_study(fields))


@dataclass(frozen=True)
class News:
    """What one message from the partner changed: each None when it is no news."""

    camera: bool | None = None
    screen: bool | None = None


class PeerStateLink:
    """One call's end of the exchange, without the channel: what to send, what is news.

    In an audio call nothing is sent and whatever the partner says about a camera
    is ignored: both windows already say it is an audio call.
    """

    def __init__(self, video_call: bool) -> None:
        self.video_call = video_call
        self.partner_camera: bool | None = None  # None: the partner has not said
        self.partner_screen = False  # the partner sends its screen (a partner that never says: not)
        self.refused = 0  # messages refused so far (the caller logs the first)
        self.beats_sent = 0
        self.beat: int | None = None  # the last message received was this beat (None: no beat)
        self.study: StudyState | None = None  # the study state in the last message received (None: none)

    def message(self, camera_on: bool, screen: bool = False) -> str | None:
        """What to send for our present state, or None (an audio call).

        While the screen is shared, `camera` says true: the picture is live, and a client that
        does not know `screen` (an older one) shows it rather than "camera off"."""
        if not self.video_call:
            return None
        return encode_peer_state(PeerState(camera=camera_on or screen, screen=screen))

    def study_message(self, study: StudyState) -> str:
        """Our whole study state, sent on every change and when the channel opens."""
        message = encode_peer_state(PeerState(study=study))
        assert message is not None
        return message

    def beat_message(self) -> str:
        """The next heartbeat, sent in every call (audio ones too)."""
        self.beats_sent += 1
        message = encode_peer_state(PeerState(beat=self.beats_sent))
        assert message is not None
        return message

    def received(self, message: object) -> bool | None:
        """The partner's camera state when it is news (first said, or changed), else None.

        Raises PeerStateError for a message refused; the state known stays as it was.
        """
        return self.news(message).camera

    def news(self, message: object) -> News:
        """What the partner's message changed: its camera state when first said or changed, and
        whether it shares its screen when that changed. Raises PeerStateError, as `received`."""
        try:
            state = decode_peer_state(message)
        except PeerStateError:
            self.refused += 1
            raise
        self.beat = state.beat
        self.study = state.study
        if not self.video_call:
            return News()
        camera = screen = None
        if state.camera is not None and state.camera != self.partner_camera:
            self.partner_camera = camera = state.camera
        if state.screen is not None and state.screen != self.partner_screen:
            self.partner_screen = screen = state.screen
        return News(camera, screen)
