"""One client's session, sans I/O: a frame and the time in, effects out.

Every message a client sends takes this one path, whatever it is and
whichever backend runs: `ClientSession.receive(frame, now)` checks the
hello, the rate limits and the message, and answers with a list of effects
for the shell (`server/ws/`) to apply in order: reply to this client, relay
to the partner, ask the backend to find/skip/cancel/leave/report, close.
Nothing here does I/O or reads a clock; the shell passes the time in.
Model: websockets' `ServerProtocol` and h11's `Connection` (a state and
events in, what to do out).

A refusal the shell meets while applying an effect (a backend's
`ProtocolError`, a refused token) comes back through `refused()`, so
whether an error closes the connection is decided here too.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any, TypeAlias

from server.core import protocol as p
from server.core import texts
from server.core.codec import Codec
from server.core.limits import TokenBucket, WindowCap, per_minute

# WebSocket close codes (RFC 6455), without importing the WebSocket library here.
GOING_AWAY = 1001
POLICY_VIOLATION = 1008


# --- effects: what the shell does for a session -------------------------------------
# Slotted records, not frozen: the relay makes one for every message, and a frozen
# dataclass's __init__ (object.__setattr__ per field) costs twice as much.


@dataclass(slots=True)
class Reply:
    """Send `message` to this client."""

    message: p.ServerMessage


@dataclass(slots=True)
class Refuse:
    """Tell this client its message was refused (a wire `error`, counted by code)."""

    error: p.ProtocolError


@dataclass(slots=True)
class Close:
    """Close this connection after what is queued; out of the backend at once.

    `dropped` names why, for the metrics, when the server ends it for cause; `hold`:
    the backend keeps its place as for a dropped socket (`Backend.disconnect`)."""

    code: int
    reason: str
    dropped: str | None = None
    hold: bool = False  # a resuming client's session waits for it (the server is restarting)


@dataclass(slots=True)
class Greet:
    """A well-formed hello: check its credentials, connect to the backend, send `welcome`."""

    hello: p.Hello


@dataclass(slots=True)
class Relay:
    """Relay a signal to the partner in `session` (`Backend.signal`; the backend checks the session)."""

    session: str
    data: dict[str, Any]


@dataclass(slots=True)
class FindPartner:
    """Queue for a partner (`Backend.find`), unless a report penalty refuses it."""

    mode: str
    topic: str | None
    length: int | None = None
    talk: str | None = None
    favourites: tuple[str, ...] = ()  # non-empty: a search for a favourite only


@dataclass(slots=True)
class AvoidPartners:
    """Unseal these avoid tokens and never pair this client with their installations (`Backend.avoid`)."""

    tokens: tuple[str, ...]


@dataclass(slots=True)
class SkipPartner:
    """End the session and search again (`Backend.skip`), unless a report penalty refuses it."""


@dataclass(slots=True)
class CancelFind:
    """Stop searching (`Backend.cancel`)."""


@dataclass(slots=True)
class LeaveSession:
    """End the session or the search (`Backend.leave`)."""


@dataclass(slots=True)
class ResumeSession:
    """Verify `ticket` and put this client back where it claims (`Backend.resume`)."""

    ticket: str


@dataclass(slots=True)
class ReportPartner:
    """End `session` and record a report on the partner (`Backend.report`)."""

    session: str
    reason: str


Effect: TypeAlias = (
    Reply | Refuse | Close | Greet | Relay | FindPartner | SkipPartner | CancelFind | LeaveSession | ReportPartner
    | ResumeSession | AvoidPartners
)


# --- the session ------------------------------------------------------------------------


class Phase(enum.Enum):
    HELLO = "hello"  # the first message must be hello, before `hello_deadline`
    READY = "ready"  # said hello: requests are taken, within the rate limits
    CLOSED = "closed"  # a close was decided: nothing more is taken


@dataclass(frozen=True, slots=True)
class SessionLimits:
    rate_messages: float
    rate_burst: int
    abuse_strikes: int  # refusals for rate a minute before the connection is closed
    finds_per_minute: int
    hello_timeout: float


class ClientSession:
    """One connection's protocol state: hello, rate limits, and dispatch of every message."""

    __slots__ = (
        "_asked", "_bucket", "_codec", "_finds", "_hello_timeout", "_resumable", "_strikes", "hello_deadline", "phase",
    )

    def __init__(self, limits: SessionLimits, codec: Codec, now: float) -> None:
        self.phase = Phase.HELLO
        self._hello_timeout = limits.hello_timeout
        self.hello_deadline = now + limits.hello_timeout
        self._codec = codec
        self._bucket = TokenBucket(limits.rate_messages, limits.rate_burst, now)
        self._strikes: WindowCap = per_minute(limits.abuse_strikes)
        self._finds: WindowCap = per_minute(limits.finds_per_minute)
        self._resumable = False  # said `"resume": true` in hello
        self._asked = False  # a request other than a signal came: `resume` is too late

    def receive(self, frame: str | bytes, now: float) -> list[Effect]:
        """One whole WebSocket message from the client (text as str, binary as bytes)."""
        phase = self.phase
        if phase is Phase.READY:
            if not self._bucket.allow(now):
                return self._over_rate(now)
            try:
                msg = self._codec.decode_client(frame)
            except p.ProtocolError as error:
                return self.refused(error)
            if type(msg) is p.Signal:  # the message sent most, by far
                return [Relay(msg.session, msg.data)]
            return self._dispatch(msg, now)
        if phase is Phase.HELLO:
            return self._hello(frame)
        return []

    def expire(self, now: float) -> list[Effect]:
        """The shell's timer for `hello_deadline` fired: close a client that never said hello."""
        if self.phase is not Phase.HELLO or now < self.hello_deadline:
            return []
        message = texts.HELLO_TIMEOUT.format(seconds=self._hello_timeout)
        return self._fatal(p.ProtocolError(p.ErrorCode.HELLO_REQUIRED, message), "hello_timeout")

    def refused(self, error: p.ProtocolError) -> list[Effect]:
        """A refusal to send this client; the fatal ones close the connection too."""
        if error.code in p.FATAL_ERROR_CODES:
            return self._fatal(error)
        return [Refuse(error)]

    def shutdown(self, retry_after: float) -> list[Effect]:
        """The server is leaving: say so and close."""
        self.phase = Phase.CLOSED
        return [Reply(p.Shutdown(retry_after)), Close(GOING_AWAY, texts.CLOSE_SHUTDOWN, hold=self._resumable)]

    # --- the steps ------------------------------------------------------------------------

    def _fatal(self, error: p.ProtocolError, dropped: str | None = None) -> list[Effect]:
        self.phase = Phase.CLOSED
        return [Refuse(error), Close(POLICY_VIOLATION, error.message, dropped)]

    def _hello(self, frame: str | bytes) -> list[Effect]:
        try:
            hello = self._codec.decode_client(frame)
        except p.ProtocolError:
            hello = None
        if not isinstance(hello, p.Hello):
            return self._fatal(p.ProtocolError(p.ErrorCode.HELLO_REQUIRED, texts.HELLO_REQUIRED))
        if hello.protocol != p.PROTOCOL_VERSION:
            return self._fatal(p.ProtocolError(
                p.ErrorCode.UNSUPPORTED_PROTOCOL,
                texts.UNSUPPORTED_PROTOCOL.format(supported=p.PROTOCOL_VERSION, asked=hello.protocol),
            ))
        self.phase = Phase.READY
        self._resumable = bool(hello.resume)
        return [Greet(hello)]

    def _over_rate(self, now: float) -> list[Effect]:
        if not self._strikes.allow(now):
            self.phase = Phase.CLOSED  # the refusals so far are still delivered
            return [Close(POLICY_VIOLATION, texts.CLOSE_ABUSE, "abuse")]
        return [Refuse(p.ProtocolError(p.ErrorCode.RATE_LIMITED, texts.RATE_LIMITED))]

    def _dispatch(self, msg: p.ClientMessage, now: float) -> list[Effect]:
        """Every message but `Signal`, which `receive` relays itself."""
        if isinstance(msg, p.Hello):
            return [Refuse(p.ProtocolError(p.ErrorCode.BAD_MESSAGE, texts.HELLO_AGAIN))]
        if isinstance(msg, p.Avoid):
            return [AvoidPartners(msg.tokens)]  # sent before `resume` after each welcome: not a request
        asked, self._asked = self._asked, True
        if isinstance(msg, p.Resume):
            if asked:
                return [Refuse(p.ProtocolError(p.ErrorCode.BAD_MESSAGE, texts.RESUME_TOO_LATE))]
            if not self._resumable:
                return [Refuse(p.ProtocolError(p.ErrorCode.BAD_MESSAGE, texts.RESUME_NOT_ASKED))]
            return [ResumeSession(msg.ticket)]
        if isinstance(msg, (p.Find, p.Skip)):
            if not self._finds.allow(now):
                return [Refuse(p.ProtocolError(p.ErrorCode.RATE_LIMITED, texts.FINDS_LIMITED))]
            if isinstance(msg, p.Find):
                return [FindPartner(msg.mode, msg.topic, msg.length, msg.talk, msg.favourites)]
            return [SkipPartner()]
        if isinstance(msg, p.Cancel):
            return [CancelFind()]
        if isinstance(msg, p.Leave):
            return [LeaveSession()]
        if isinstance(msg, p.Report):
            return [ReportPartner(msg.session, msg.reason)]
        raise AssertionError(f"no dispatch for {type(msg).__name__}")  # pragma: no cover
