"""How long to wait before the next reconnect attempt (pure, the randomness passed in).

Exponential so a server that is down for a while is not hammered, capped so a
client reconnects within half a minute of the server coming back, and jittered
so that the clients of a restarted server do not all come back in the same
instant (the "thundering herd").
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Backoff:
    base: float = 0.5  # seconds before the first retry (before jitter)
    factor: float = 2.0
    cap: float = 30.0  # never wait longer than this
    jitter: float = 0.5  # fraction of the delay that is randomised (0 = none, 1 = "full jitter")

    def delay(self, attempt: int, rand: Callable[[], float] = random.random) -> float:
        """The wait before retry number `attempt` (0 = the first retry); in (0, cap]."""
        if attempt < 0:
            raise ValueError("attempt must be >= 0")
        # min() before the power would overflow for a long outage.
        exponent = min(attempt, 64)
        ceiling = min(self.cap, self.base * self.factor**exponent)
        return ceiling * (1.0 - self.jitter * rand())


def schedule(backoff: Backoff, attempts: int, rand: Callable[[], float] = random.random) -> list[float]:
    """The first `attempts` delays, for tests and for the docs."""
    return [backoff.delay(i, rand) for i in range(attempts)]
