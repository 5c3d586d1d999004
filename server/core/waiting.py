"""One mode's queue, a bucket per topic, length and talk (`rules.Bucket`), each in waiting order.

The order key is `(queued_at, seq)`: when a client started waiting, then
the order it arrived in. New waiters arrive with the latest time and go at
the end of their bucket; a client back with a queue ticket
(docs/protocol.md, "Resuming after a dropped socket") started waiting
earlier and goes before everyone who started later.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeAlias

from server.core.rules import Bucket

OrderKey: TypeAlias = tuple[float, int]


@dataclass(slots=True)
class Waiting:
    buckets: dict[Bucket, dict[str, OrderKey]] = field(default_factory=dict)

    def add(self, kind: Bucket, client_id: str, key: OrderKey) -> None:
        bucket = self.buckets.setdefault(kind, {})
        last = next(reversed(bucket.values()), None)
        bucket[client_id] = key
        if last is not None and key < last:
            # A resumed place: rare, so the bucket is rebuilt in order rather than kept in a tree.
            self.buckets[kind] = dict(sorted(bucket.items(), key=lambda item: item[1]))

    def remove(self, kind: Bucket, client_id: str) -> None:
        bucket = self.buckets[kind]
        del bucket[client_id]
        if not bucket:
            del self.buckets[kind]

    def count(self) -> int:
        return sum(len(b) for b in self.buckets.values())


@dataclass(slots=True)
class Rendezvous:
    """One mode's searches for a favourite: who waits since when, and under which tokens."""

    waiters: dict[str, tuple[OrderKey, tuple[str, ...]]] = field(default_factory=dict)
    by_token: dict[str, set[str]] = field(default_factory=dict)

    def add(self, client_id: str, key: OrderKey, tokens: tuple[str, ...]) -> None:
        self.waiters[client_id] = (key, tokens)
        for token in tokens:
            self.by_token.setdefault(token, set()).add(client_id)

    def remove(self, client_id: str) -> None:
        _, tokens = self.waiters.pop(client_id)
        for token in tokens:
            holders = self.by_token[token]
            holders.discard(client_id)
            if not holders:
                del self.by_token[token]

    def sharing(self, tokens: tuple[str, ...]) -> list[tuple[OrderKey, str]]:
        """The waiters sharing a token with `tokens`, longest waiter first."""
        found = {cid for token in tokens for cid in self.by_token.get(token, ())}
        return sorted((self.waiters[cid][0], cid) for cid in found)
