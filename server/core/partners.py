"""Who a searching client is paired with: the rules of `rules.py` applied to the lines of `waiting.py`.

Pure lookups over the core's data (`server/core/matchmaking.py` holds it and
records the pair): for an ordinary search, the compatible waiter who has waited
longest, skipping pairs in a rematch cool-down; for a search for a favourite,
the longest waiter of the same mode sharing a rendezvous token, whatever the
topic, length, talk or cool-down. Neither ever pairs two clients when either
avoids the other's installation (docs/protocol.md, "Coming back").
"""

from __future__ import annotations

from collections.abc import Callable

from server.core.places import Client
from server.core.rules import Wish, candidate_buckets, shared_favourite
from server.core.waiting import OrderKey, Rendezvous, Waiting


def avoids(a: Client, b: Client) -> bool:
    """Either client avoids the other's installation."""
    return (b.install is not None and b.install in a.avoid) or (a.install is not None and a.install in b.avoid)


def longest_compatible_waiter(
    waiting: Waiting, clients: dict[str, Client], client: Client, wish: Wish,
    cooling: Callable[[str], bool], older_than: OrderKey | None = None,
) -> Client | None:
    """The longest waiter of `wish`'s mode compatible with it, not `cooling` with `client` nor avoided;
    `older_than`: only one who waited longer than that (a tick's pass over the line)."""
    best: tuple[OrderKey, str] | None = None if older_than is None else (older_than, client.id)
    for bucket in candidate_buckets(wish, waiting.buckets):
        for other_id, key in waiting.buckets[bucket].items():
            if best is not None and key >= best[0]:
                break  # buckets are in waiting order: nothing older follows
            if not cooling(other_id) and not avoids(client, clients[other_id]):
                best = (key, other_id)
                break
    if best is None or best[1] == client.id:
        return None
    return clients[best[1]]


def favourite_waiter(
    rendezvous: Rendezvous, clients: dict[str, Client], client: Client, wish: Wish,
) -> tuple[Client | None, str | None]:
    """The longest-waiting search for a favourite sharing a token, not avoided, and the least token shared."""
    for _, other_id in rendezvous.sharing(wish.favourites):
        other = clients[other_id]
        if other_id != client.id and not avoids(client, other):
            assert other.wish is not None
            return other, shared_favourite(wish, other.wish)
    return None, None
