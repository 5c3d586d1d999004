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
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from server.core import protocol as p
from server.core.abuse import AbuseStore

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
    async def connect(self, client_id: str, abuse_key: str | None = None) -> None: ...
    async def find(self, client_id: str, mode: str, topic: str | None) -> None: ...
    async def cancel(self, client_id: str) -> None: ...
    async def skip(self, client_id: str) -> None: ...
    async def leave(self, client_id: str) -> None: ...
    async def report(self, client_id: str, session: str, reason: str) -> ReportedPartner | None: ...
    def signal(self, client_id: str, session: str, data: dict[str, Any]) -> Awaitable[None] | None: ...
    async def disconnect(self, client_id: str) -> None: ...
    def abuse_store(self, threshold: int, window: float, penalty: float) -> AbuseStore: ...
    def stats(self) -> BackendStats: ...
