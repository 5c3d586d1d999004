"""The pairing rules, defined once for every backend.

Compatibility: equal modes, and equal topics or at least one "any topic"
(None); likewise equal session lengths or one open (None), and equal talk
wishes or one "either" (None). Among compatible waiters, the one who has waited longest wins. Two
clients whose session ended by skip or report are not paired again until
the rematch cool-down has passed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from server.core import protocol as p

DEFAULT_REMATCH_COOLDOWN: Final = 120.0
# Why a session ended, as told to the partner who did not end it.
COOLDOWN_REASONS: Final = frozenset({"skipped", "reported"})


@dataclass(frozen=True, slots=True)
class Wish:
    """What a waiting client asked for."""

    mode: str
    topic: str | None
    length: int | None = None  # minutes; None: open
    talk: str | None = None  # "talk" or "quiet"; None: either


def _agree(a: object, b: object) -> bool:
    return a is None or b is None or a == b


def compatible(a: Wish, b: Wish) -> bool:
    return a.mode == b.mode and _agree(a.topic, b.topic) and terms_compatible(a, b)


def terms_compatible(a: Wish, b: Wish) -> bool:
    """The study terms alone (the topic buckets already answer for the topic)."""
    return _agree(a.length, b.length) and _agree(a.talk, b.talk)


@dataclass(frozen=True, slots=True)
class Terms:
    """A pair's agreed study terms (docs/protocol.md, "Study sessions"), `started_at` in ms."""

    length: int | None
    talk: str
    started_at: int


def agreed_terms(a: Wish, b: Wish, started_at: int) -> Terms:
    length = a.length if a.length is not None else b.length
    talk = a.talk if a.talk is not None else b.talk
    return Terms(length, talk if talk is not None else "talk", started_at)


def queued(wish: Wish) -> p.Queued:
    """`queued` echoes the wish as normalized."""
    return p.Queued(wish.mode, wish.topic, wish.length, wish.talk)


def study_of(terms: Terms, minute_ms: int) -> p.Study:
    """The `study` of `matched` and `resumed`, `now` left for the shell to set as it sends."""
    ends_at = None if terms.length is None else terms.started_at + terms.length * minute_ms
    return p.Study(terms.length, terms.talk, terms.started_at, ends_at, minute_ms)


def candidate_topics(wish: Wish, waiting_topics: set[str | None]) -> list[str | None]:
    """The waiting topics (of the same mode) a newcomer may be paired from."""
    if wish.topic is None:
        return list(waiting_topics)
    return [t for t in (wish.topic, None) if t in waiting_topics]
