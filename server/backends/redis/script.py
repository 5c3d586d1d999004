"""What Python and the pairing script (`scripts/matchmaking.lua`) share.

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
from server.core.rules import MAX_AVOIDED, Terms, Wish, study_of

DEFAULT_PREFIX: Final = "{studymatch}"  # one hash tag: every key lands in one Cluster slot
# One script in three files, one idea each (see the first one's header): joined, they are one
# chunk whose parts share its locals.
SCRIPT_PARTS: Final = ("matchmaking.lua", "sessions.lua", "ops.lua")
SCRIPT_TEXT: Final = "\n".join(
    (resources.files("server.backends.redis") / "scripts" / part).read_text("utf-8") for part in SCRIPT_PARTS
)


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
    def cool(self) -> str:
        """Pairs in a rematch cool-down: "a|b" (a < b) -> until when."""
        return f"{self.prefix}:cool"

    @property
    def instances(self) -> str:
        return f"{self.prefix}:instances"

    @property
    def channel_prefix(self) -> str:
        return f"{self.prefix}:to:"

    def channel(self, instance: str) -> str:
        return self.channel_prefix + instance

    def reports(self, key: str) -> str:
        """Who reported `key` within the window (see `scripts/abuse.lua`)."""
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
        fixed = (
            "clients", "sessions", "cool", "cooldue", "seq", "matches", "instances",
            "tombs", "tombdue", "spent", "awaydue", "kept", "avoid", "avoidlist", "rdv",
        )
        return [f"{self.prefix}:{name}" for name in fixed] + [self.queue(m) for m in p.MODES]


# One operation of a batch: its name, then its arguments.
Op = tuple[str, ...]
# Where a find's, a skip's or a queue resume's penalty key (`RedisKeys.penalty`) is in its
# operation, if given.
_PENALTY_KEY_AT: Final = {"find": 5, "skip": 3, "resume_queue": 9}


def run_keys(keys: RedisKeys, ops: list[Op]) -> list[str]:
    """KEYS of a run doing `ops`: the fixed ones, then the penalty keys its finds and
    skips read (every key a script touches is declared, as Redis Cluster asks)."""
    out = keys.script_keys()
    for op in ops:
        at = _PENALTY_KEY_AT.get(op[0])
        if at is not None and at < len(op) and op[at]:
            out.append(op[at])
    return out


def script_args(
    ops: list[Op],
    *,
    instance: str,
    cooldown: float,
    lease: float,
    keys: RedisKeys,
    now: float | None = None,
    resume_grace: float = 60.0,
    ticket_ttl: float = 600.0,
) -> list[str]:
    """ARGV of a script run doing `ops` in order; `now=None` lets the script use
    Redis' clock (one clock for all). `resume_grace`: how long an away side of a
    session is kept; `ticket_ttl`: how long an ended session is remembered."""
    return [
        "" if now is None else repr(float(now)),
        repr(float(cooldown)),
        repr(float(lease)),
        keys.channel_prefix,
        instance,
        " ".join(p.MODES),
        json.dumps(ops, separators=(",", ":")),
        repr(float(resume_grace)),
        repr(float(ticket_ttl)),
        str(MAX_AVOIDED),
    ]


def wire_topic(topic: str | None) -> str:
    """A normalized topic as the script stores it ('' is any topic)."""
    return "" if topic is None else topic


def wire_length(length: int | None) -> str:
    """A study length as the script takes it ('' is open)."""
    return "" if length is None else str(length)


def wire_favourites(favourites: tuple[str, ...]) -> str:
    """A find's rendezvous tokens as the script takes and compares them ('' is an ordinary search)."""
    return json.dumps(list(favourites), separators=(",", ":")) if favourites else ""


def wire_terms(terms: Terms | None) -> tuple[str, str, str]:
    """A session ticket's study terms for the script's rebuild ('' each: from before study sessions)."""
    if terms is None:
        return "", "", ""
    return wire_length(terms.length), terms.talk, str(terms.started_at)


@dataclass(frozen=True, slots=True)
class SharedStats:
    waiting: dict[str, int]
    sessions: int
    matches_total: int


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one operation of a run answered."""

    # ok | err (detail: a refusal's name, `server.core.matchmaking.REFUSALS`)
    # | gone (the client's record is missing) | penalty (detail: seconds of report penalty left)
    # | fail (a bug; detail: the script's error)
    status: str
    detail: str


@dataclass(frozen=True, slots=True)
class Reply:
    """What one run of the script answered."""

    outcomes: list[Outcome]  # one for each operation, in order
    waits: list[float]  # seconds waited by each client paired in this run
    stats: SharedStats
    sent: list[tuple[str, str]]  # (instance, payload of `decode_envelopes`) in publish order


def _text(value: Any) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def parse_reply(raw: list[Any]) -> Reply:
    outcomes, waits, stats, sent = raw
    counts = [int(c) for c in stats]
    modes = len(p.MODES)
    flat = [_text(x) for x in sent]
    return Reply(
        outcomes=[Outcome(status, detail) for status, detail in json.loads(outcomes)],
        waits=[float(w) for w in _text(waits).split()],
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
    wish: Wish | None  # the last find's, as Redis keeps it
    last_session: str | None
    last_reason: str  # '' when the client ended its last session itself
    partner_away: bool = False  # in a session whose partner's connection dropped (within its grace)
    study: p.Study | None = None  # the session's terms, in a session


def _topic(value: str) -> str | None:
    return value or None


def _length(value: int) -> int | None:
    return value or None  # 0: open


def _study(length: int, talk: str, started_at: int, minute_ms: int) -> p.Study:
    return study_of(Terms(_length(length), talk, int(started_at)), minute_ms)


def decode_envelopes(payload: str | bytes, minute_ms: int = p.MINUTE_MS) -> list[tuple[str, p.ServerMessage | Truth]]:
    """The receiving clients and their messages, in order, of one PUBLISH (one run's
    messages to one instance); `minute_ms`: this server's `study.minute`."""
    return [_decode(envelope, minute_ms) for envelope in json.loads(payload)]


def _decode(envelope: list[Any], minute_ms: int) -> tuple[str, p.ServerMessage | Truth]:
    to, kind, *f = envelope
    msg: p.ServerMessage | Truth
    if kind == "queued":
        msg = p.Queued(f[0], _topic(f[1]), _length(f[2]), _topic(f[3]), favourite=f[4] is True)
    elif kind == "matched":
        # `partner.avoid`: the partner's pseudonym as it is (the shell seals it); `favourite`: the shared token.
        msg = p.Matched(f[0], bool(f[1]), p.Partner(f[2], _topic(f[3]), f[7] or None),
                        study=_study(f[4], f[5], f[6], minute_ms), favourite=f[8] or None)
    elif kind == "partner_left":
        msg = p.PartnerLeft(f[0], f[1])
    elif kind == "idle":
        msg = p.Idle()
    elif kind == "reported":
        msg = p.Reported(f[0])
    elif kind == "signal":
        msg = p.Signal(f[0], json.loads(f[1]))
    elif kind == "resumed":
        msg = p.Resumed(f[0], bool(f[1]), p.Partner(f[2], _topic(f[3]), f[7] or None),
                        study=_study(f[4], f[5], f[6], minute_ms))
    elif kind == "partner_reconnecting":
        msg = p.PartnerReconnecting(f[0])
    elif kind == "partner_resumed":
        msg = p.PartnerResumed(f[0])
    elif kind == "replaced":
        msg = p.Replaced(f[0])
    elif kind == "sync":
        lost, where, session, initiator, pmode, ptopic, mode, topic, last_session, last_reason, away = f[:11]
        length, talk, s_length, s_talk, s_started, favourites = f[11:]
        msg = Truth(
            lost=bool(lost),
            where=where,
            session=session or None,
            initiator=bool(initiator),
            partner=p.Partner(pmode, _topic(ptopic)) if pmode else None,
            wish=Wish(mode, _topic(topic), _length(length), _topic(talk), tuple(json.loads(favourites or "[]")))
            if mode else None,
            last_session=last_session or None,
            last_reason=last_reason,
            partner_away=bool(away),
            study=_study(s_length, s_talk, s_started, minute_ms) if where == "s" else None,
        )
    else:
        raise ValueError(f"unknown envelope kind {kind!r}")
    return to, msg
