"""The seam between the connection shell and where the queue lives.

The shell calls a `Backend` for every request of a client that said hello;
the backend answers by calling `deliver(client_id, message)` for each message
to send to a client connected to *this* process, and raises
`ProtocolError` for a refused request (nothing changes then).

`MemoryBackend` (`server/backends/memory.py`) keeps the queue in this process with the pure `Matchmaker`.
The Redis backend (`server/backends/redis/backend.py`) shares one queue between many
processes; both follow the rules in `server/core/rules.py`.

`report` answers who was reported (`ReportedPartner`): the backend ends the
session, so it knows the other side in the same step. A backend shared by
several processes also offers `abuse_store(threshold, window, penalty)`, an
`AbuseStore` (`server/core/abuse.py`) every process counts reports in; without one
the shell keeps reports in its own memory.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from server.core import protocol as p

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
    async def signal(self, client_id: str, session: str, data: dict[str, Any]) -> None: ...
    async def disconnect(self, client_id: str) -> None: ...
    def stats(self) -> BackendStats: ...
