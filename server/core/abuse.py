"""Reports and the penalty they lead to, as a pure ledger: the clock is passed in.

A report names who reported whom (connection ids, or a signed token's
subject), the reason and the time; never any media. A key reported by
`threshold` distinct partners within `window` seconds is refused new matches
for `penalty` seconds. One partner reporting many times counts once, so a
single grudge cannot lock anyone out.

`ReportLedger` is the memory implementation; `AbuseStore` is the seam the
shell calls, so a shared backend can keep the same state for every instance
(`server/backends/redis/abuse.py`, the same rules in Lua, tested against this ledger).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Protocol

from server.core import protocol as p
from server.core import texts


@dataclass(frozen=True, slots=True)
class ReportRecord:
    reporter: str
    reported: str
    reason: str
    at: float


class AbuseStore(Protocol):
    """What the shell needs; `now` is Unix time so several instances agree on it."""

    async def record_report(self, reporter: str, reported: str, reason: str, now: float) -> float: ...
    async def refused_for(self, key: str, now: float) -> float: ...


class ReportLedger:
    """Reports within the window, and penalties until they end.

    Memory is bounded by the reports of the last `window` seconds plus one
    entry per key under penalty: everything older is pruned as time moves on.
    """

    def __init__(self, threshold: int, window: float, penalty: float, max_records: int = 100_000) -> None:
        if threshold < 1 or window <= 0 or penalty < 0:
            raise ValueError("threshold must be at least 1, window positive, penalty not negative")
        self.threshold = threshold
        self.window = window
        self.penalty = penalty
        self._max_records = max_records
        self._records: deque[ReportRecord] = deque()  # in time order
        self._reporters: dict[str, dict[str, float]] = {}  # reported -> {reporter -> last report}
        self._penalties: dict[str, float] = {}  # key -> refused until
        self.penalties_total = 0

    def record(self, reporter: str, reported: str, reason: str, now: float) -> float:
        """Take a report; the seconds of penalty it started for `reported` (0 when none)."""
        self.prune(now)
        if reporter == reported:
            return 0.0
        if len(self._records) >= self._max_records:
            self._forget_oldest()
        self._records.append(ReportRecord(reporter, reported, reason, now))
        reporters = self._reporters.setdefault(reported, {})
        reporters[reporter] = now
        if len(reporters) >= self.threshold and self.refused_for(reported, now) == 0.0 and self.penalty > 0:
            self._penalties[reported] = now + self.penalty
            self.penalties_total += 1
            # Starting over after the penalty: the same reports do not count twice.
            del self._reporters[reported]
            return self.penalty
        return 0.0

    def refused_for(self, key: str, now: float) -> float:
        until = self._penalties.get(key)
        if until is None:
            return 0.0
        if until <= now:
            del self._penalties[key]
            return 0.0
        return until - now

    def prune(self, now: float) -> None:
        cutoff = now - self.window
        while self._records and self._records[0].at <= cutoff:
            self._forget_oldest()
        for key in [k for k, until in self._penalties.items() if until <= now]:
            del self._penalties[key]

    def _forget_oldest(self) -> None:
        old = self._records.popleft()
        reporters = self._reporters.get(old.reported)
        if reporters is not None and reporters.get(old.reporter, float("inf")) <= old.at:
            del reporters[old.reporter]
            if not reporters:
                del self._reporters[old.reported]

    def records(self) -> list[ReportRecord]:
        return list(self._records)

    def size(self) -> int:
        """Entries held: reports in the window plus keys under penalty."""
        return len(self._records) + len(self._penalties)


class MemoryAbuseStore:
    """`AbuseStore` for one process, over a `ReportLedger`."""

    def __init__(self, ledger: ReportLedger) -> None:
        self.ledger = ledger

    async def record_report(self, reporter: str, reported: str, reason: str, now: float) -> float:
        return self.ledger.record(reporter, reported, reason, now)

    async def refused_for(self, key: str, now: float) -> float:
        return self.ledger.refused_for(key, now)


def penalty_refusal(seconds: float) -> p.ProtocolError:
    """How a find or skip is refused while a report penalty runs, wherever the penalty is checked
    (the shell's store, or the Redis pairing script in the same step)."""
    return p.ProtocolError(p.ErrorCode.REFUSED, texts.REFUSED_REPORTED.format(minutes=max(1, round(seconds / 60))))
