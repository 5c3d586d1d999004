"""The pairing rules, defined once for every backend.

Compatibility: equal modes, and equal topics or at least one "any topic"
(None). Among compatible waiters, the one who has waited longest wins. Two
clients whose session ended by skip or report are not paired again until
the rematch cool-down has passed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

DEFAULT_REMATCH_COOLDOWN: Final = 120.0
# Why a session ended, as told to the partner who did not end it.
COOLDOWN_REASONS: Final = frozenset({"skipped", "reported"})


@dataclass(frozen=True, slots=True)
class Wish:
    """What a waiting client asked for."""

    mode: str
    topic: str | None


def compatible(a: Wish, b: Wish) -> bool:
    return a.mode == b.mode and (a.topic is None or b.topic is None or a.topic == b.topic)


def candidate_topics(wish: Wish, waiting_topics: set[str | None]) -> list[str | None]:
    """The waiting topics (of the same mode) a newcomer may be paired from."""
    if wish.topic is None:
        return list(waiting_topics)
    return [t for t in (wish.topic, None) if t in waiting_topics]
