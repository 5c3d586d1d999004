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
