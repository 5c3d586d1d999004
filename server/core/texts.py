"""Every sentence the server says to a person, in one catalogue ready for translation.

That is: the `message` of every wire `error` (the schema's, the matchmaking core's,
the shell's), close reasons, the plain-HTTP answers, and what the operator reads
when a server refuses its options or cannot start. Not here: log lines (operators
grep them, so they stay in English), the `listening on URL` line that scripts read,
`--help` (it stands beside each option in server/cli.py), and the programmers'
guards (a `ValueError` for a bad constructor argument the options never pass).

Translation is gettext's, text domain `studymatch-server`: `_()` marks each
sentence for extraction (`xgettext -L Python -k_ -o studymatch-server.pot
server/core/texts.py` finds every one) and translates it once, at import, for the
locale the server runs in (gettext's LANGUAGE, LC_ALL, LC_MESSAGES, LANG).
Translations go in `server/locale/<lang>/LC_MESSAGES/studymatch-server.mo`; with
none there (as shipped), every sentence is the English below, byte for byte.
Placeholders are named: tests/unit/server/core/test_texts.py checks them against the names
the code passes, and xgettext flags them python-brace-format so that
`msgfmt --check-format` checks a translation keeps them. Clients act on the
`code`, never on the sentence.

Pure: the standard library only; server/core/protocol/, which the client
imports too, takes its sentences from here.
"""

from __future__ import annotations

import gettext
from pathlib import Path
from typing import Final

DOMAIN: Final = "studymatch-server"
LOCALE_DIR: Final = Path(__file__).resolve().parent.parent / "locale"

_ = gettext.translation(DOMAIN, LOCALE_DIR, fallback=True).gettext

# --- the schema: a frame that breaks the wire contract (server/core/protocol/) ---
BINARY_FRAME: Final = _("binary frames are not accepted; send JSON text")
NOT_JSON: Final = _("the frame is not valid JSON")
NOT_JSON_OBJECT: Final = _("the frame is not a JSON object")
TYPE_REQUIRED: Final = _("'type' is required and must be a string")
UNKNOWN_TYPE: Final = _("unknown message type {name}")
FIELD_REQUIRED: Final = _("'{field}' is required")
FIELD_NOT_STRING: Final = _("'{field}' must be a string")
FIELD_TOO_LONG: Final = _("'{field}' is longer than {limit} characters")
FIELD_NOT_INTEGER: Final = _("'{field}' must be an integer")
FIELD_NOT_BOOLEAN: Final = _("'{field}' must be true or false")
FIELD_NOT_NUMBER: Final = _("'{field}' must be a number")
FIELD_NOT_OBJECT: Final = _("'{field}' must be an object")
MODE_INVALID: Final = _("'mode' must be \"video\" or \"audio\"")
TOPIC_NOT_STRING: Final = _("'topic' must be a string or null")
LENGTH_INVALID: Final = _("'length' must be 25, 50, 75 or null")
TALK_INVALID: Final = _("'talk' must be \"talk\", \"quiet\" or null")
TOKEN_INVALID: Final = _("'{field}' must be {shortest} to {longest} characters of A-Z, a-z, 0-9, - and _")
FIELD_NOT_LIST: Final = _("'{field}' must be a list of at most {most} items")
AVOID_TOKENS_INVALID: Final = _("'tokens' must be a list of 1 to {most} strings of at most {longest} characters")
STUDY_INVALID: Final = _("'study' must be an object with the session's terms")
ICE_SERVERS_NOT_LIST: Final = _("'ice_servers' must be a list of objects")
ICE_SERVER_WITHOUT_URLS: Final = _("each ICE server needs 'urls' (a string or a list of strings)")

# --- the matchmaking core's refusals (server/core/matchmaking.py's REFUSALS) ---
FIND_IN_SESSION: Final = _("you are in a session; skip or leave it first")
CANCEL_IN_SESSION: Final = _("you are in a session; use leave to end it")
NOTHING_TO_SKIP: Final = _("nothing to skip: send find first")
NOT_YOUR_SESSION: Final = _("that session is not yours now")
TICKET_SPENT: Final = _("this ticket has been used already or is no longer valid; start a new search")

# --- the shell: limits, the hello handshake, access ---
HELLO_REQUIRED: Final = _("the first message must be hello")
HELLO_TIMEOUT: Final = _("no hello arrived within {seconds:g} seconds")
HELLO_AGAIN: Final = _("hello was already received on this connection")
RESUME_NOT_ASKED: Final = _('resume needs "resume": true in hello')
RESUME_TOO_LATE: Final = _("resume must be the first request after hello; start a new search instead")
BAD_TICKET: Final = _("this ticket is not valid here (forged, garbled or expired); start a new search")
BAD_TICKET_SUBJECT: Final = _("this ticket belongs to another account; start a new search")
UNSUPPORTED_PROTOCOL: Final = _("this server speaks protocol {supported}, not {asked}")
UNAUTHORIZED: Final = _("this server needs a valid token in hello")
UNAUTHORIZED_EXPIRED: Final = _("your access token has expired; get a new one from your school")
REFUSED_REPORTED: Final = _(
    "several partners reported you recently, so you cannot be matched for {minutes} more minutes"
)
CLOSE_REPLACED: Final = _("your session was resumed on another connection")
CLOSE_TOO_MANY_CONNECTIONS: Final = _("too many connections from your address")
RATE_LIMITED: Final = _("too many messages; this one was dropped, slow down")
FINDS_LIMITED: Final = _("too many find or skip requests; wait a little and try again")

# --- close reasons ---
CLOSE_ABUSE: Final = _("too many messages")
CLOSE_SLOW: Final = _("too slow reading messages")
CLOSE_INTERNAL: Final = _("internal server error")
CLOSE_SHUTDOWN: Final = _("server shutting down")
CLOSE_PING_TIMEOUT: Final = _("keepalive ping timeout")
# A text frame that is not UTF-8 (the reason is Python's, e.g. "invalid start byte").
CLOSE_BAD_UTF8: Final = _("{reason} at position {position}")

# --- plain HTTP on the WebSocket port ---
HTTP_ORIGIN_FORBIDDEN: Final = _("forbidden: pages from this origin may not use this StudyMatch server\n")
HTTP_TOO_MANY_CONNECTIONS: Final = _("too many connections from your address; close some and try again\n")
HTTP_NOT_FOUND: Final = _(
    "not found: the web client is /, the WebSocket endpoint /ws, health /healthz, metrics /metrics\n"
)

# --- the backends ---
BACKEND_UNAVAILABLE: Final = _(
    "matchmaking is unavailable right now (its database is unreachable); try again shortly"
)
BACKEND_UNAVAILABLE_QUEUED: Final = _(
    "matchmaking is unavailable right now (its database is unreachable); "
    "you will be queued again as soon as it is back"
)

# --- the operator: options refused, a server that cannot start ---
REDIS_BACKEND_MISSING: Final = _(
    "the redis backend is not available in this installation (server.backends.redis.backend is missing); "
    "use --backend memory"
)
UVLOOP_MISSING: Final = _(
    "--loop uvloop needs the uvloop package (pip install 'studymatch[fast]'); or use --loop asyncio"
)
CANNOT_LISTEN: Final = _("cannot listen on {host}:{port}: {error}")
TOKENS_FILE_UNREADABLE: Final = _("cannot read the tokens file {path}: {error}")
TOKENS_FILE_EMPTY: Final = _("the tokens file {path} holds no token")
OPTION_NOT_ONE_OF: Final = _("{option} must be one of {choices}, not {given}")
LOG_LEVEL_NOT_ONE_OF: Final = _("log level must be one of {choices}")
PORT_OUT_OF_RANGE: Final = _("port must be between 0 and 65535")
OPTION_BELOW_ONE: Final = _("{option} must be at least 1")
OPTION_NOT_POSITIVE: Final = _("{option} must be positive")
DELAYS_NEGATIVE: Final = _("rematch-cooldown and shutdown-retry-after must not be negative")
REPORT_PENALTY_NEGATIVE: Final = _("report-penalty must not be negative")
TLS_HALF_GIVEN: Final = _("tls-cert and tls-key go together: give both or neither")
TURN_WITHOUT_SECRET: Final = _("turn needs turn-secret (the static-auth-secret of your TURN server)")
TOKEN_SECRET_SHORT: Final = _("token-secret must be at least 16 characters")
TICKET_KEY_SHORT: Final = _("ticket-key must be at least 16 characters")
TICKET_KEY_FILE_BAD: Final = _("cannot use the ticket key file {path}: {error}")
TURN_URL_SCHEME: Final = _("a TURN URL starts with turn: or turns:, not {url}")
