"""The StudyMatch wire contract's messages: every type, field and error code.

Plain frozen dataclasses, no I/O; `wire.py` beside it decodes and validates
frames into these and encodes them back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final, Literal, TypeAlias

PROTOCOL_VERSION: Final = 1
MODES: Final = ("video", "audio")
LENGTHS: Final = (25, 50, 75)  # minutes a client may ask for; None: open
TALKS: Final = ("talk", "quiet")  # None in `find`: either
MINUTE_MS: Final = 60_000
MAX_TOPIC_CHARS: Final = 32
MAX_ID_CHARS: Final = 64
MAX_CLIENT_CHARS: Final = 64
MAX_TOKEN_CHARS: Final = 1024
MAX_REASON_CHARS: Final = 200
MAX_MESSAGE_CHARS: Final = 500
MAX_TICKET_CHARS: Final = 1024
# docs/protocol.md, "Coming back": an installation's pseudonym, rendezvous and avoid tokens
MIN_INSTALL_CHARS: Final = 16
MAX_INSTALL_CHARS: Final = 64
MIN_RENDEZVOUS_CHARS: Final = 16
MAX_RENDEZVOUS_CHARS: Final = 128
MAX_FAVOURITES: Final = 50  # rendezvous tokens in one find
MAX_AVOID_TOKEN_CHARS: Final = 128
MAX_AVOID_TOKENS: Final = 100  # in one `avoid` message
# `timeout`: the partner's connection dropped and it did not resume within the grace period.
LEFT_REASONS: Final = ("skipped", "left", "disconnected", "reported", "timeout")

Mode: TypeAlias = Literal["video", "audio"]


class ErrorCode:
    """Every `code` an `error` message can carry."""

    BAD_JSON: Final = "bad_json"
    BAD_MESSAGE: Final = "bad_message"
    UNKNOWN_TYPE: Final = "unknown_type"
    HELLO_REQUIRED: Final = "hello_required"
    UNSUPPORTED_PROTOCOL: Final = "unsupported_protocol"
    UNAUTHORIZED: Final = "unauthorized"
    NOT_IN_SESSION: Final = "not_in_session"
    IN_SESSION: Final = "in_session"
    RATE_LIMITED: Final = "rate_limited"
    # Additive codes (see docs/protocol.md): the server's own troubles.
    BACKEND_UNAVAILABLE: Final = "backend_unavailable"
    REFUSED: Final = "refused"
    # A resume ticket that is forged, expired, replayed or not this client's.
    BAD_TICKET: Final = "bad_ticket"


ALL_ERROR_CODES: Final = tuple(value for name, value in vars(ErrorCode).items() if name.isupper())
# Errors after which the server closes the connection (close code 1008).
FATAL_ERROR_CODES: Final = frozenset(
    {ErrorCode.HELLO_REQUIRED, ErrorCode.UNSUPPORTED_PROTOCOL, ErrorCode.UNAUTHORIZED}
)


class ProtocolError(Exception):
    """A message that breaks the contract; `code` is its wire error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


# --- client -> server -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Hello:
    protocol: int = PROTOCOL_VERSION
    client: str | None = None
    token: str | None = None
    # True: this client resumes its session after a dropped socket (it is given tickets,
    # and its partner waits for it through the grace period). Absent: as before resume.
    resume: bool | None = None
    # This installation's pseudonym for this server (docs/protocol.md, "Coming back"); None: none.
    install: str | None = None
    # True: send `counts` while queued (docs/protocol.md, "Live counts while searching").
    counts: bool | None = None
    type: Literal["hello"] = field(default="hello", init=False)


@dataclass(frozen=True, slots=True)
class Resume:
    """Back after a dropped socket: the ticket of the session (or the place in line) we had."""

    ticket: str
    type: Literal["resume"] = field(default="resume", init=False)


@dataclass(frozen=True, slots=True)
class Find:
    mode: str
    topic: str | None = None
    length: int | None = None  # minutes, one of LENGTHS; None: open
    talk: str | None = None  # one of TALKS; None: either
    # Non-empty: a search for a favourite only, by these rendezvous tokens (docs/protocol.md).
    favourites: tuple[str, ...] = ()
    type: Literal["find"] = field(default="find", init=False)


@dataclass(frozen=True, slots=True)
class Avoid:
    """Never pair this connection with the installations these avoid tokens name."""

    tokens: tuple[str, ...]
    type: Literal["avoid"] = field(default="avoid", init=False)


@dataclass(frozen=True, slots=True)
class Cancel:
    type: Literal["cancel"] = field(default="cancel", init=False)


@dataclass(frozen=True, slots=True)
class Signal:
    """Both directions: what a client sends and what its partner receives."""

    session: str
    data: dict[str, Any]
    type: Literal["signal"] = field(default="signal", init=False)


@dataclass(frozen=True, slots=True)
class Skip:
    session: str | None = None
    type: Literal["skip"] = field(default="skip", init=False)


@dataclass(frozen=True, slots=True)
class Leave:
    session: str | None = None
    type: Literal["leave"] = field(default="leave", init=False)


@dataclass(frozen=True, slots=True)
class Report:
    session: str
    reason: str
    type: Literal["report"] = field(default="report", init=False)


# --- server -> client -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Welcome:
    id: str
    ice_servers: list[dict[str, Any]]
    limits: dict[str, Any]
    protocol: int = PROTOCOL_VERSION
    type: Literal["welcome"] = field(default="welcome", init=False)


@dataclass(frozen=True, slots=True)
class Queued:
    mode: str
    topic: str | None
    length: int | None = None
    talk: str | None = None
    ticket: str | None = None  # for clients that said `resume` in hello
    favourite: bool = False  # True: the search is for a favourite only
    type: Literal["queued"] = field(default="queued", init=False)


@dataclass(frozen=True, slots=True)
class Partner:
    mode: str
    topic: str | None
    avoid: str | None = None  # the partner's installation, sealed (only when it said `install`)


@dataclass(frozen=True, slots=True)
class Study:
    """A session's agreed terms (docs/protocol.md, "Study sessions"); times are ms since the
    epoch on the server's clock. `now` is the server's clock when the message is sent."""

    length: int | None
    talk: str
    started_at: int
    ends_at: int | None
    minute: int = MINUTE_MS
    now: int = 0


@dataclass(frozen=True, slots=True)
class Matched:
    session: str
    initiator: bool
    partner: Partner
    ticket: str | None = None  # for clients that said `resume` in hello
    study: Study | None = None  # None only from a server older than study sessions
    favourite: str | None = None  # the rendezvous token that paired the two, when one did
    type: Literal["matched"] = field(default="matched", init=False)


@dataclass(frozen=True, slots=True)
class Resumed:
    """The answer to a `resume` with a session ticket: back in `session`, as before the drop."""

    session: str
    initiator: bool
    partner: Partner
    ticket: str | None = None  # a fresh one; the ticket used is spent
    study: Study | None = None
    type: Literal["resumed"] = field(default="resumed", init=False)


@dataclass(frozen=True, slots=True)
class PartnerReconnecting:
    """The partner's socket dropped; its place is kept for the grace period."""

    session: str
    type: Literal["partner_reconnecting"] = field(default="partner_reconnecting", init=False)


@dataclass(frozen=True, slots=True)
class PartnerResumed:
    """The partner is back in the session after `partner_reconnecting`."""

    session: str
    type: Literal["partner_resumed"] = field(default="partner_resumed", init=False)


@dataclass(frozen=True, slots=True)
class Ticket:
    """A fresh ticket before the last one expires (the last one stays valid until then)."""

    ticket: str
    type: Literal["ticket"] = field(default="ticket", init=False)


@dataclass(frozen=True, slots=True)
class Replaced:
    """Another connection resumed this client's session with its ticket; this one is closed."""

    session: str
    type: Literal["replaced"] = field(default="replaced", init=False)


@dataclass(frozen=True, slots=True)
class PartnerLeft:
    session: str
    reason: str
    type: Literal["partner_left"] = field(default="partner_left", init=False)


@dataclass(frozen=True, slots=True)
class Idle:
    type: Literal["idle"] = field(default="idle", init=False)


@dataclass(frozen=True, slots=True)
class Reported:
    session: str
    type: Literal["reported"] = field(default="reported", init=False)


@dataclass(frozen=True, slots=True)
class Error:
    code: str
    message: str
    type: Literal["error"] = field(default="error", init=False)


@dataclass(frozen=True, slots=True)
class Shutdown:
    retry_after: float
    type: Literal["shutdown"] = field(default="shutdown", init=False)


@dataclass(frozen=True, slots=True)
class Avoiding:
    """The answer to `avoid`: how many installations this connection avoids now."""

    count: int
    type: Literal["avoiding"] = field(default="avoiding", init=False)


@dataclass(frozen=True, slots=True)
class Counts:
    """While queued, to a client that asked in hello: who else is there (docs/protocol.md)."""

    online: int
    video: int
    audio: int
    topic: int | None  # others queued with this client's topic; None when it searches any topic
    type: Literal["counts"] = field(default="counts", init=False)


ClientMessage: TypeAlias = Hello | Find | Cancel | Signal | Skip | Leave | Report | Resume | Avoid
ServerMessage: TypeAlias = (
    Welcome | Queued | Matched | Signal | PartnerLeft | Idle | Reported | Error | Shutdown
    | Resumed | PartnerReconnecting | PartnerResumed | Ticket | Replaced | Avoiding | Counts
)
Message: TypeAlias = ClientMessage | ServerMessage
