"""The seam between the connection shell and where the queue lives.

The shell calls a `Backend` for every request of a client that said hello;
the backend answers by calling `deliver(client_id, message)` for each message
to send to a client connected to *this* process, and raises
`ProtocolError` for a refused request (nothing changes then).

`MemoryBackend` (`server/backends/memory.py`) keeps the queue in this process with the pure `Matchmaker`.
The Redis backend (`server/backends/redis/backend.py`) shares one queue between many
processes; both follow the rules in `server/core/rules.py`.

`report` answers who was reported (`ReportedPartner`): the backend ends the
session, so it knows the other side in the same step. `abuse_store(threshold,
window, penalty)` is where reports are counted (`AbuseStore`,
`server/core/abuse.py`): this process's memory for the memory backend, one
store every process shares for a shared backend.

`signal` is the relay, the request sent most: a backend that can relay without
waiting (the memory one: its core names the partner) does it inside the call
and returns None; one that must wait (Redis publishes) returns an awaitable.
The shell applies both the same way: `pending = backend.signal(...)`, and
awaits `pending` when there is one. Every other request is a coroutine.

Resuming (docs/protocol.md, "Resuming after a dropped socket"): a client
connected with `resumable=True` whose socket drops is `disconnect`ed with
`hold=True`: in a session, its side is kept for the grace period (the partner
gets `partner_reconnecting`, signals to it are kept, at most 16) and ends with
`partner_left` `timeout` to the partner when the grace runs out; queued, it
just leaves the queue. `resume(client_id, claim)` puts a new connection in the
place a verified ticket claims, atomically: it delivers `resumed` (without a
ticket: the shell adds one) and what follows, or `partner_left` for a session
that ended, or `queued`/`matched` for a place in line; it raises
`ProtocolError` `bad_ticket` for a spent ticket. A side still connected is
taken over: its connection is delivered `replaced` (the shell closes it).
The grace period and how long ended sessions are remembered (the ticket's
lifetime) are the backend's constructor options.

Live counts (docs/protocol.md, "Live counts while searching"): the shell
counts its own clients and, once a second, calls `share_counts(mine)`, which
answers the figures of every *other* instance sharing the queue (none for
the memory backend), or None when it cannot say now (the last ones stay).

Coming back (docs/protocol.md, "Coming back"): `connect` takes the client's
installation pseudonym (`install`), `avoid` the pseudonyms (already unsealed
by the shell) it must never be paired with, from now on, in either direction;
`find` with `favourites` is a search for a favourite only. `matched` and
`resumed` carry the partner's pseudonym as it is in `partner.avoid`: the shell
seals it as it sends.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from server.core import protocol as p
from server.core.abuse import AbuseStore
from server.core.counts import Figures
from server.core.resume import Claim

Deliver = Callable[[str, p.ServerMessage], None]
Clock = Callable[[], float]


@dataclass(frozen=True, slots=True)
class ReportedPartner:
    """Who a `report` was about: the backend ends the session, so it knows the other side."""

    client_id: str
    abuse_key: str  # what reports follow: the key given at `connect`, else the connection id


@dataclass(slots=True)
class BackendStats:
    waiting: dict[str, int]  # by mode
    sessions: int
    matches_total: int
    healthy: bool = True
    details: dict[str, Any] = field(default_factory=dict)


class Backend(Protocol):
    name: str

    def attach(self, deliver: Deliver, observe_wait: Callable[[float], None]) -> None: ...
    async def start(self) -> None: ...
    async def close(self) -> None: ...
    async def connect(
        self, client_id: str, abuse_key: str | None = None, *, resumable: bool = False, install: str | None = None,
    ) -> None: ...
    async def resume(self, client_id: str, claim: Claim) -> None: ...
    async def find(
        self, client_id: str, mode: str, topic: str | None, length: int | None = None, talk: str | None = None,
        favourites: tuple[str, ...] = (),
    ) -> None: ...
    async def avoid(self, client_id: str, installs: list[str]) -> int: ...
    async def cancel(self, client_id: str) -> None: ...
    async def skip(self, client_id: str) -> None: ...
    async def leave(self, client_id: str) -> None: ...
    async def report(self, client_id: str, session: str, reason: str) -> ReportedPartner | None: ...
    def signal(self, client_id: str, session: str, data: dict[str, Any]) -> Awaitable[None] | None: ...
    async def disconnect(self, client_id: str, *, hold: bool = False) -> None: ...
    def abuse_store(self, threshold: int, window: float, penalty: float) -> AbuseStore: ...
    def stats(self) -> BackendStats: ...
    async def share_counts(self, mine: Figures) -> Figures | None: ...
    def wall_ms(self) -> int:
        """Unix time in ms on the clock of the sessions' times (`study.started_at`): `study.now`."""
        ...
