"""What Python and the pairing script (`redis_scripts/matchmaking.lua`) share.

The key names, the argument layout of the script, the shape of its reply,
and the envelopes it publishes are defined here once; the backend and the
tests that drive the script directly both use them. No I/O here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from typing import Any, Final

from server.core import protocol as p

DEFAULT_PREFIX: Final = "{studymatch}"  # one hash tag: every key lands in one Cluster slot
SCRIPT_TEXT: Final = (resources.files("server.backends.redis") / "scripts" / "matchmaking.lua").read_text("utf-8")



@dataclass(frozen=True, slots=True)
class RedisKeys:
    """Every key and channel name, all under one hash tag."""

    prefix: str = DEFAULT_PREFIX

    def queue(self, mode: str) -> str:
        return f"{self.prefix}:queue:{mode}"

    @property
    def clients(self) -> str:
        return f"{self.prefix}:clients"

    @property
    def sessions(self) -> str:
        return f"{self.prefix}:sessions"

    @property
    def instances(self) -> str:
        return f"{self.prefix}:instances"

    @property
    def channel_prefix(self) -> str:
        return f"{self.prefix}:to:"

    def channel(self, instance: str) -> str:
        return self.channel_prefix + instance

    def reports(self, key: str) -> str:
        """Who reported `key` within the window (see `redis_scripts/abuse.lua`)."""
        return f"{self.prefix}:reports:{key}"

    def penalty(self, key: str) -> str:
        return f"{self.prefix}:penalty:{key}"

    @property
    def report_log(self) -> str:
        return f"{self.prefix}:reportlog"

    def abuse_keys(self, reported: str) -> list[str]:
        """KEYS of an abuse script call about `reported`, in the order the script reads them."""
        return [self.reports(reported), self.penalty(reported), self.report_log]

    def script_keys(self) -> list[str]:
        """KEYS of every script call, in the order the script reads them."""
        fixed = ("clients", "sessions", "cool", "cooldue", "seq", "matches", "instances")
        return [f"{self.prefix}:{name}" for name in fixed] + [self.queue(m) for m in p.MODES]


def script_args(
    op: str,
    *args: str,
    instance: str,
    cooldown: float,
    lease: float,
    keys: RedisKeys,
    now: float | None = None,
) -> list[str]:
    """ARGV of a script call; `now=None` lets the script use Redis' clock (one clock for all)."""
    return [
        op,
        "" if now is None else repr(float(now)),
        repr(float(cooldown)),
        repr(float(lease)),
        keys.channel_prefix,
        instance,
        " ".join(p.MODES),
        *args,
    ]


def wire_topic(topic: str | None) -> str:
    """A normalized topic as the script stores it ('' is any topic)."""
    return "" if topic is None else topic


@dataclass(frozen=True, slots=True)
class SharedStats:
    waiting: dict[str, int]
    sessions: int
    matches_total: int


@dataclass(frozen=True, slots=True)
class Reply:
    status: str  # ok | err | gone (the client's record is missing)
    detail: str
    waits: list[float]  # seconds waited by each client paired in this step
    stats: SharedStats
    sent: list[tuple[str, str]]  # (instance, envelope) in publish order


def _text(value: Any) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def parse_reply(raw: list[Any]) -> Reply:
    status, detail, waits, stats, sent = raw
    counts = [int(c) for c in stats]
    modes = len(p.MODES)
    flat = [_text(x) for x in sent]
    return Reply(
        status=_text(status),
        detail=_text(detail),
        waits=[float(_text(w)) for w in waits],
        stats=SharedStats(dict(zip(p.MODES, counts[:modes], strict=True)), counts[modes], counts[modes + 1]),
        sent=list(zip(flat[::2], flat[1::2], strict=True)),
    )


@dataclass(frozen=True, slots=True)
class Truth:
    """A client's state as Redis holds it, read atomically by the `sync` op."""

    lost: bool  # Redis had forgotten the client (restart, or its instance was reaped)
    where: str  # i | q | s
    session: str | None
    initiator: bool
    partner: p.Partner | None
    wish: tuple[str, str | None] | None
    last_session: str | None
    last_reason: str  # '' when the client ended its last session itself


def _topic(value: str) -> str | None:
    return value or None


def decode_envelope(payload: str | bytes) -> tuple[str, p.ServerMessage | Truth]:
    """The receiving client and the message of one published envelope."""
    to, kind, *f = json.loads(payload)
    msg: p.ServerMessage | Truth
    if kind == "queued":
        msg = p.Queued(f[0], _topic(f[1]))
    elif kind == "matched":
        msg = p.Matched(f[0], bool(f[1]), p.Partner(f[2], _topic(f[3])))
    elif kind == "partner_left":
        msg = p.PartnerLeft(f[0], f[1])
    elif kind == "idle":
        msg = p.Idle()
    elif kind == "reported":
        msg = p.Reported(f[0])
    elif kind == "signal":
        msg = p.Signal(f[0], json.loads(f[1]))
    elif kind == "sync":
        lost, where, session, initiator, pmode, ptopic, mode, topic, last_session, last_reason = f
        msg = Truth(
            lost=bool(lost),
            where=where,
            session=session or None,
            initiator=bool(initiator),
            partner=p.Partner(pmode, _topic(ptopic)) if pmode else None,
            wish=(mode, _topic(topic)) if mode else None,
            last_session=last_session or None,
            last_reason=last_reason,
        )
    else:
        raise ValueError(f"unknown envelope kind {kind!r}")
    return to, msg
