"""The pairing rules, defined once for every backend.

Compatibility: equal modes, and equal topics or at least one "any topic"
(None); likewise equal session lengths or one open (None), and equal talk
wishes or one "either" (None). Among compatible waiters, the one who has waited longest wins. Two
clients whose session ended by skip or report are not paired again until
the rematch cool-down has passed.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Final

from server.core import protocol as p

DEFAULT_REMATCH_COOLDOWN: Final = 120.0
# Installations one connection may avoid at once; past it the oldest are forgotten (docs/protocol.md).
MAX_AVOIDED: Final = 500
# Why a session ended, as told to the partner who did not end it.
COOLDOWN_REASONS: Final = frozenset({"skipped", "reported"})


@dataclass(frozen=True, slots=True)
class Wish:
    """What a waiting client asked for."""

    mode: str
    topic: str | None
    length: int | None = None  # minutes; None: open
    talk: str | None = None  # "talk" or "quiet"; None: either
    # Non-empty: a search for a favourite only, by these rendezvous tokens (topic, length
    # and talk do not keep two such searches apart; the rematch cool-down does not apply).
    favourites: tuple[str, ...] = ()


def _agree(a: object, b: object) -> bool:
    return a is None or b is None or a == b


def shared_favourite(a: Wish, b: Wish) -> str | None:
    """The rendezvous token two searches for a favourite pair by (the least one they share), if any."""
    if a.mode != b.mode:
        return None
    return min(set(a.favourites) & set(b.favourites), default=None)


def compatible(a: Wish, b: Wish) -> bool:
    if a.favourites or b.favourites:
        return shared_favourite(a, b) is not None
    return a.mode == b.mode and _agree(a.topic, b.topic) and _agree(a.length, b.length) and _agree(a.talk, b.talk)


# Waiters of one mode are kept in buckets of equal topic, length and talk: every waiter of
# a compatible bucket is compatible, so a search looks at the head of a few buckets only.
Bucket = tuple[str | None, int | None, str | None]


def bucket_of(wish: Wish) -> Bucket:
    return (wish.topic, wish.length, wish.talk)


def candidate_buckets(wish: Wish, waiting: Collection[Bucket]) -> list[Bucket]:
    """The waiting buckets (of the same mode) a newcomer may be paired from.

    With a topic, the few buckets it may meet are looked up (topics are free text:
    there may be many); with none, every bucket is a candidate unless its terms differ.
    """
    if wish.topic is None:
        return [b for b in waiting if _agree(wish.length, b[1]) and _agree(wish.talk, b[2])]
    lengths = (wish.length, None) if wish.length is not None else (None, *p.LENGTHS)
    talks = (wish.talk, None) if wish.talk is not None else (None, *p.TALKS)
    return [b for t in (wish.topic, None) for n in lengths for k in talks if (b := (t, n, k)) in waiting]


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
    return p.Queued(wish.mode, wish.topic, wish.length, wish.talk, favourite=bool(wish.favourites))


def study_of(terms: Terms, minute_ms: int) -> p.Study:
    """The `study` of `matched` and `resumed`, `now` left for the shell to set as it sends."""
    ends_at = None if terms.length is None else terms.started_at + terms.length * minute_ms
    return p.Study(terms.length, terms.talk, terms.started_at, ends_at, minute_ms)

