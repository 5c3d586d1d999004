"""Live counts while searching (docs/protocol.md, "Live counts while searching"), sans I/O.

Three small pieces, no clock and no sockets; the shell (`server/ws/counts.py`)
ticks them once a second:

- `Tally`: who is queued on this instance and for what, learnt from the
  messages the backend delivers (`queued` puts a client in line; `matched`,
  `resumed`, `partner_left`, `idle` and `replaced` take it out). So it works
  the same on every backend, without asking the backend who is queued.
- `Figures`: what one instance counts (hello'd connections, queued per mode,
  queued per topic); figures of several instances add up (`plus`).
- `Coalescer`: per connection, what was last sent and when; `due(...)` says
  whether a `counts` goes now: the first after each `queued`, then only when a
  figure changed, and never twice within `interval` seconds.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, TypeGuard

from server.core import protocol as p

INTERVAL: Final = 1.0  # seconds: at most one `counts` a second per connection

# Messages after which a client is no longer queued (it is paired, idle, or gone).
_OUT_OF_LINE: Final = (p.Matched, p.Resumed, p.PartnerLeft, p.Idle, p.Replaced)


@dataclass(frozen=True, slots=True)
class Figures:
    """One instance's figures, or the sum of several instances'."""

    online: int = 0
    modes: Mapping[str, int] = field(default_factory=dict)  # queued, by mode
    topics: Mapping[str, int] = field(default_factory=dict)  # queued with each topic, any mode

    def plus(self, other: Figures) -> Figures:
        return Figures(
            self.online + other.online, _add(self.modes, other.modes), _add(self.topics, other.topics)
        )

    def counts(self, topic: str | None) -> p.Counts:
        """The `counts` for a client queued with `topic` (it is in these figures: not in `topic`)."""
        return p.Counts(
            online=self.online,
            video=self.modes.get("video", 0),
            audio=self.modes.get("audio", 0),
            topic=None if topic is None else max(0, self.topics.get(topic, 0) - 1),
        )

    def to_json(self) -> dict[str, Any]:
        """Compact and without zeros: what an instance shares with the others."""
        return {
            "o": self.online,
            "m": {k: n for k, n in self.modes.items() if n},
            "t": {k: n for k, n in self.topics.items() if n},
        }

    @classmethod
    def from_json(cls, obj: Any) -> Figures:
        """Another instance's figures; anything malformed raises ValueError."""
        if not isinstance(obj, dict):
            raise ValueError
        online, modes, topics = obj.get("o"), obj.get("m"), obj.get("t")
        if not _count(online) or not isinstance(modes, dict) or not isinstance(topics, dict):
            raise ValueError
        for key, value in (*modes.items(), *topics.items()):
            if not isinstance(key, str) or not _count(value):
                raise ValueError
        return cls(online, dict(modes), dict(topics))


def _count(value: Any) -> TypeGuard[int]:
    return type(value) is int and value >= 0


def _add(a: Mapping[str, int], b: Mapping[str, int]) -> dict[str, int]:
    total = dict(a)
    for key, n in b.items():
        total[key] = total.get(key, 0) + n
    return total


class Tally:
    """This instance's queued clients, kept up to date by the messages delivered to them."""

    def __init__(self) -> None:
        self._wishes: dict[str, tuple[str, str | None]] = {}  # client -> (mode, topic)
        self._modes: Counter[str] = Counter()
        self._topics: Counter[str] = Counter()

    def observe(self, client_id: str, message: p.ServerMessage) -> bool:
        """Follow one delivered message; True when it put the client in line or took it out."""
        if isinstance(message, p.Queued):
            self.forget(client_id)
            wish = (message.mode, message.topic)
            self._wishes[client_id] = wish
            self._modes[message.mode] += 1
            if message.topic is not None:
                self._topics[message.topic] += 1
            return True
        if isinstance(message, _OUT_OF_LINE):
            return self.forget(client_id)
        return False

    def forget(self, client_id: str) -> bool:
        """Out of line (or gone); True when it was queued."""
        wish = self._wishes.pop(client_id, None)
        if wish is None:
            return False
        mode, topic = wish
        _decrement(self._modes, mode)
        if topic is not None:
            _decrement(self._topics, topic)
        return True

    def queued(self) -> Iterator[tuple[str, str | None]]:
        """(client, topic) of every client queued here."""
        for client_id, (_mode, topic) in self._wishes.items():
            yield client_id, topic

    def figures(self, online: int) -> Figures:
        return Figures(online, dict(self._modes), dict(self._topics))


def _decrement(counter: Counter[str], key: str) -> None:
    counter[key] -= 1
    if counter[key] <= 0:
        del counter[key]


@dataclass(slots=True)
class _Sent:
    counts: p.Counts | None  # None: nothing yet since the last `queued`
    at: float


class Coalescer:
    """Per connection: the last `counts` sent and when; decides whether the next one goes."""

    def __init__(self, interval: float = INTERVAL) -> None:
        self.interval = interval
        self._sent: dict[str, _Sent] = {}

    def due(self, client_id: str, counts: p.Counts, now: float) -> bool:
        """Send `counts` to this queued client now? If so, it is recorded as sent at `now`."""
        sent = self._sent.get(client_id)
        if sent is not None:
            if now - sent.at < self.interval or sent.counts == counts:
                return False
            sent.counts, sent.at = counts, now
        else:
            self._sent[client_id] = _Sent(counts, now)
        return True

    def requeued(self, client_id: str) -> None:
        """A new `queued`, or out of line: the next `counts` goes even if nothing changed
        (but still not within `interval` of the last one)."""
        sent = self._sent.get(client_id)
        if sent is not None:
            sent.counts = None

    def forget(self, client_id: str) -> None:
        self._sent.pop(client_id, None)
