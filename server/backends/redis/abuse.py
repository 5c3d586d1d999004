"""Report penalties shared by every instance: `AbuseStore` over Redis.

Each report is one operation of `scripts/abuse.lua` (batched with others by
`link.py`; each one's count-and-penalize step is atomic, so instances taking
reports on the same client at once agree). Keys live under the deployment's
hash tag (`RedisKeys.abuse_keys`): a sorted set of distinct reporters per
reported key, trimmed to the window and expiring with it; a penalty key with
a TTL; and a capped log of the reports themselves.

The penalty check: the Redis backend's store (`checked_by_pairing`) leaves it
to the pairing script, which reads the penalty key in the same step as the
find or skip it would refuse (`scripts/matchmaking.lua`): one round trip less
for each, and no moment between the check and the pairing. A store on its
own (`checked_by_pairing=False`) asks `abuse.lua`.

The clock is Redis' own (`TIME` inside the script) unless `given_clock` is
set: instances' clocks may disagree, Redis' is one clock for all of them. The
shell's `now` is then ignored. Tests pass `given_clock=True` to drive time.

Redis unreachable: a find or skip is refused with `backend_unavailable`, the
true reason, at once (the queue lives in the same Redis, so nobody can be
matched while it is down anyway); a store asked on its own **fails open**
(answers 0) at once, without waiting. Failing closed would tell blameless
users they were reported, and a penalised user gains nothing in that window.
A report that cannot be recorded is logged and lost (the backend ended its
session a moment before, so this is the rare outage that began in between).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from importlib import resources
from typing import Any, Final

from server.backends.redis.script import RedisKeys
from server.core.abuse import ReportRecord

log = logging.getLogger("studymatch.server.redis")

ABUSE_SCRIPT_TEXT: Final = (resources.files("server.backends.redis") / "scripts" / "abuse.lua").read_text("utf-8")
DEFAULT_MAX_RECORDS: Final = 10_000


class AbuseUnavailable(Exception):
    """Redis cannot be asked now; the store fails open."""


# Runs one operation of the abuse script: (KEYS, ARGV) -> its answer; raises `AbuseUnavailable`.
Runner = Callable[[list[str], list[str]], Awaitable[Any]]


def _text(value: Any) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


@dataclass(frozen=True, slots=True)
class AbuseLimits:
    threshold: int
    window: float
    penalty: float
    max_records: int = DEFAULT_MAX_RECORDS

    def __post_init__(self) -> None:
        if self.threshold < 1 or self.window <= 0 or self.penalty < 0 or self.max_records < 1:
            raise ValueError("threshold must be at least 1, window positive, penalty not negative")


def abuse_args(op: str, limits: AbuseLimits, reporter: str, reported: str, reason: str,
               now: float | None) -> list[str]:
    """ARGV of one abuse script operation; `now=None` lets the script use Redis' clock."""
    return [
        op, "" if now is None else repr(float(now)),
        repr(int(limits.threshold)), repr(float(limits.window)), repr(float(limits.penalty)),
        str(limits.max_records), reporter, reported, reason,
    ]


def abuse_batch(ops: list[tuple[list[str], list[str]]]) -> tuple[list[str], list[str]]:
    """KEYS and ARGV of one abuse script run doing `ops` (each its KEYS and its
    `abuse_args`) in order."""
    return [k for keys, _ in ops for k in keys], [json.dumps([args for _, args in ops], separators=(",", ":"))]


def abuse_answers(raw: Any) -> list[str]:
    """The answers of one abuse script run, one for each operation."""
    return [str(answer) for answer in json.loads(raw)]


class RedisAbuseStore:
    """`server.core.abuse.AbuseStore` with its state in Redis, shared by every instance."""

    def __init__(
        self, run: Runner, keys: RedisKeys, limits: AbuseLimits, *, given_clock: bool = False,
        checked_by_pairing: bool = False,
    ) -> None:
        self._run = run
        self.keys = keys
        self.limits = limits
        self._given_clock = given_clock
        self._checked_by_pairing = checked_by_pairing
        self._failing = False  # logged once per outage, not once per find

    async def record_report(self, reporter: str, reported: str, reason: str, now: float) -> float:
        answer = await self._ask("record", reporter, reported, reason, now)
        if answer is None:
            log.warning("event=report_not_shared")  # no key: a subject must not reach the log
            return 0.0
        return answer

    async def refused_for(self, key: str, now: float) -> float:
        if self._checked_by_pairing:
            return 0.0  # the Redis backend's find and skip refuse a penalised client themselves
        answer = await self._ask("check", "", key, "", now)
        return 0.0 if answer is None else answer

    async def _ask(self, op: str, reporter: str, reported: str, reason: str, now: float) -> float | None:
        args = abuse_args(op, self.limits, reporter, reported, reason, now if self._given_clock else None)
        try:
            raw = await self._run(self.keys.abuse_keys(reported), args)
        except AbuseUnavailable:
            if not self._failing:
                self._failing = True
                log.warning("event=abuse_store_unavailable policy=fail_open")
            return None
        if self._failing:
            self._failing = False
            log.info("event=abuse_store_available")
        return float(_text(raw))

    async def records(self, redis: Any) -> list[ReportRecord]:
        """The reports kept (within the window, at most `max_records`), oldest first; for
        moderators and tests, read with any `redis.asyncio.Redis` on the same database."""
        out = []
        for raw in await redis.zrange(self.keys.report_log, 0, -1):
            r = json.loads(raw)
            out.append(ReportRecord(r["reporter"], r["reported"], r["reason"], float(r["at"])))
        return out
