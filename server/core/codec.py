"""The server's JSON on the hot path: `server/core/protocol/`'s rules, the fastest parser at hand.

`server/core/protocol/` stays dependency-free (the client and bots import it):
it validates with whatever `loads` it is given and encodes with the standard
`json`. The server, which parses and re-encodes every relayed message, brings
orjson when it is installed (the `fast` extra) and falls back to `json`
otherwise; the messages on the wire are the same either way (compact JSON,
UTF-8 text), and so is every check: only the parser and the serializer
change, never the validation.

`encode` returns UTF-8 bytes, sent as a text frame without a second encode.
A relayed `signal` is built directly from its three fields: it is the message
the server sends most, and `data` goes out as it came in (parsed and checked to
be an object, then serialized once).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from server.core import protocol as p

try:
    import orjson
except ModuleNotFoundError:  # the fast extra is not installed: same wire, slower
    orjson = None  # type: ignore[assignment]

Dumps = Callable[[Any], bytes]


def _json_dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


class Codec:
    """Decode client frames and encode server messages with one JSON library."""

    def __init__(self, loads: p.Loads, dumps: Dumps, name: str) -> None:
        self.loads = loads
        self.dumps = dumps
        self.name = name

    def decode_client(self, frame: str | bytes) -> p.ClientMessage:
        return p.decode_client(frame, self.loads)

    def encode(self, message: p.ServerMessage) -> bytes:
        if type(message) is p.Signal:
            return self.signal(message.session, message.data)
        return self.dumps(p.to_wire(message))

    def signal(self, session: str, data: dict[str, Any]) -> bytes:
        """The relayed `signal` a partner receives, as `encode(Signal(session, data))` makes it."""
        return self.dumps({"type": "signal", "session": session, "data": data})


STANDARD = Codec(json.loads, _json_dumps, "json")
FAST = Codec(orjson.loads, orjson.dumps, "orjson") if orjson is not None else None


def best() -> Codec:
    return FAST if FAST is not None else STANDARD
