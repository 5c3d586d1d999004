"""aiortc's sends on a connection already gone: one quiet log line, not an alarming traceback.

aiortc's SCTP transport sends from tasks of its own that nobody awaits (a retransmission
timer, the data-channel flush). When ICE consent runs out on a dead link, the next of those
sends fails with `ConnectionError("Cannot send data, not connected")` and asyncio reports
"Task exception was never retrieved" with a traceback. Nothing is lost: the connection is
already gone, and the call builds a new one (client/call.py). The call does what it can to
avoid it (it sends only over a connected peer connection, and closes a failed one at once),
but a retransmission timer may still fire between the link's loss and the close.

`install` puts a loop exception handler in front of asyncio's default: exactly those errors
become one INFO line; everything else goes on to the handler that was there before.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

log = logging.getLogger("studymatch.client.lostsends")

LOST_CONNECTION_SENDS = ("Cannot send data, not connected", "Cannot send encrypted data, not connected")


def is_lost_connection_send(context: dict[str, Any]) -> bool:
    """An unretrieved task that failed to send on a transport already gone (aiortc's wording)."""
    exception = context.get("exception")
    return (isinstance(exception, ConnectionError) and context.get("future") is not None
            and str(exception) in LOST_CONNECTION_SENDS)  # fmt: skip


def install(loop: asyncio.AbstractEventLoop) -> None:
    previous = loop.get_exception_handler()

    def handle(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        if is_lost_connection_send(context):
            log.info("a send on a connection already gone was dropped: %s", context["exception"])
        elif previous is not None:
            previous(loop, context)
        else:
            loop.default_exception_handler(context)

    loop.set_exception_handler(handle)
