"""Every sentence the server's shell says to a person, in one place.

(The schema and the matchmaking core word their own refusals; these are the
shell's: limits, the hello handshake, closing reasons.)
"""

from __future__ import annotations

from typing import Final

HELLO_REQUIRED: Final = "the first message must be hello"
HELLO_TIMEOUT: Final = "no hello arrived within {seconds:g} seconds"
HELLO_AGAIN: Final = "hello was already received on this connection"
UNSUPPORTED_PROTOCOL: Final = "this server speaks protocol {supported}, not {asked}"
UNAUTHORIZED: Final = "this server needs a valid token in hello"
UNAUTHORIZED_EXPIRED: Final = "your access token has expired; get a new one from your school"
REFUSED_REPORTED: Final = (
    "several partners reported you recently, so you cannot be matched for {minutes} more minutes"
)
CLOSE_TOO_MANY_CONNECTIONS: Final = "too many connections from your address"
RATE_LIMITED: Final = "too many messages; this one was dropped, slow down"
FINDS_LIMITED: Final = "too many find or skip requests; wait a little and try again"

CLOSE_ABUSE: Final = "too many messages"
CLOSE_SLOW: Final = "too slow reading messages"
CLOSE_INTERNAL: Final = "internal server error"
CLOSE_SHUTDOWN: Final = "server shutting down"

HTTP_ORIGIN_FORBIDDEN: Final = "forbidden: pages from this origin may not use this StudyMatch server\n"
HTTP_TOO_MANY_CONNECTIONS: Final = "too many connections from your address; close some and try again\n"
HTTP_NOT_FOUND: Final = "not found: the WebSocket endpoint is /ws, health is /healthz, metrics /metrics\n"

BACKEND_UNAVAILABLE: Final = "matchmaking is unavailable right now (its database is unreachable); try again shortly"
BACKEND_UNAVAILABLE_QUEUED: Final = (
    "matchmaking is unavailable right now (its database is unreachable); "
    "you will be queued again as soon as it is back"
)
REDIS_BACKEND_MISSING: Final = (
    "the redis backend is not available in this installation (server.backends.redis.backend is missing); "
    "use --backend memory"
)
UVLOOP_MISSING: Final = "--loop uvloop needs the uvloop package (pip install 'studymatch[fast]'); or use --loop asyncio"
