"""Live counts shared by every instance on one Redis (docs/protocol.md, "Live counts").

Apart from the pairing script on purpose: the counts are figures for people
to read, not decisions, so they need no step of their own in the queue's
script. Each instance, once a second (`server/ws/counts.py`), runs
`scripts/counts.lua`: one round trip writes its figures (hello'd connections,
queued clients per mode and per topic) into one hash, with a time to live,
and reads the other instances' back. An instance that dies without retiring
drops out when its entry's time is up (`ENTRY_TTL`); one that stops cleanly
deletes its entry at once.

The cost is one script run per instance per second, whose size grows with
the number of instances and of distinct topics queued.
"""

from __future__ import annotations

import json
import logging
from importlib import resources
from typing import Any, Final

from server.backends.redis.script import RedisKeys
from server.core.counts import Figures

log = logging.getLogger("studymatch.server.redis")

COUNTS_SCRIPT_TEXT: Final = (
    resources.files("server.backends.redis") / "scripts" / "counts.lua"
).read_text("utf-8")
ENTRY_TTL: Final = 3.0  # seconds an instance's figures count without being renewed (3 ticks)


def counts_key(keys: RedisKeys) -> str:
    return f"{keys.prefix}:counts"


def encode(mine: Figures) -> str:
    return json.dumps(mine.to_json(), separators=(",", ":"), ensure_ascii=False)


def others_of(reply: Any) -> Figures:
    """The sum of the other instances' figures in a script's reply; a malformed entry is
    dropped with one log line (another version of the server, a hand-written key)."""
    total = Figures()
    for raw in reply if isinstance(reply, list) else []:
        try:
            text = raw.decode("utf-8") if isinstance(raw, bytes) else str(raw)
            total = total.plus(Figures.from_json(json.loads(text)))
        except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
            log.warning("event=counts_entry_dropped error=%s", type(exc).__name__)
    return total
