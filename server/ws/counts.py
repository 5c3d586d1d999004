"""Live counts while searching: one ticker per instance (docs/protocol.md, "Live counts").

The server passes it every message it delivers (`observe`), so the `Tally`
(`server/core/counts.py`) knows who is queued here. Once a second the
ticker shares this instance's figures with the backend and gets the other
instances' back (`Backend.share_counts`: nothing for the memory backend, a
Redis hash for the Redis one), then offers each queued client that asked
for counts its figures; the `Coalescer` decides which of them go.

The figures sent are this instance's as they are now plus the others' as of
this tick's share, so a client on this instance sees its neighbours at once
and those of other instances within about a second.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping

from server.backends.base import Backend
from server.core import protocol as p
from server.core.counts import INTERVAL, Coalescer, Figures, Tally
from server.ws.connection import Connection
from server.ws.metrics import Metrics

log = logging.getLogger("studymatch.server")


class CountsTicker:
    def __init__(
        self, backend: Backend, clients: Mapping[str, Connection], metrics: Metrics, interval: float = INTERVAL,
    ) -> None:
        self.backend = backend
        self.clients = clients  # said hello, known to the backend: `online` here
        self.metrics = metrics
        self.interval = interval
        self.tally = Tally()
        self.coalescer = Coalescer(interval)
        self.others = Figures()  # the other instances', as of the last share
        self._task: asyncio.Task[None] | None = None
        self._closing = False

    def observe(self, client_id: str, message: p.ServerMessage) -> None:
        if self.tally.observe(client_id, message):
            self.coalescer.requeued(client_id)

    def forget(self, client_id: str) -> None:
        self.tally.forget(client_id)
        self.coalescer.forget(client_id)

    def online(self) -> int:
        """Connections that said hello, on every instance (the others' as of the last tick)."""
        return len(self.clients) + self.others.online

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="counts")

    async def close(self, within: float) -> None:
        """Stop ticking, before the backend closes. The loop checks `_closing` too: a
        cancellation may be lost inside redis-py (server/backends/redis/link.py, "Stopping")."""
        self._closing = True
        if self._task is not None:
            self._task.cancel()
            await asyncio.wait([self._task], timeout=within)

    async def _run(self) -> None:
        """Tick every `interval` s; each tick's `now` is at least `interval` after the last one's."""
        loop = asyncio.get_running_loop()
        at = loop.time()
        while not self._closing:
            at = max(at + self.interval, loop.time())
            await asyncio.sleep(at - loop.time())
            try:
                await self.tick(at)
            except Exception:
                # A bad tick must not end the counts for good (nor take the server down).
                log.exception("event=counts_tick_failed")

    async def tick(self, now: float) -> int:
        """Share the figures, send what is due; how many `counts` went."""
        mine = self.tally.figures(len(self.clients))
        others = await self.backend.share_counts(mine)
        if others is not None:  # None: the backend could not say (Redis down): the last figures stay
            self.others = others
        return self.send_due(now)

    def send_due(self, now: float) -> int:
        total = self.tally.figures(len(self.clients)).plus(self.others)  # this instance as it is now
        sent = 0
        for client_id, topic in self.tally.queued():
            conn = self.clients.get(client_id)
            if conn is None or not conn.wants_counts:
                continue
            counts = total.counts(topic)
            if self.coalescer.due(client_id, counts, now):
                conn.send(counts)
                sent += 1
        self.metrics.counts_sent += sent
        return sent
