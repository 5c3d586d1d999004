"""A storm: hundreds of clients doing random things at once, then the invariants.

Each client checks what it receives as it goes: never a second `matched`
while it is still in a session (as far as the server told it), `signal` only
for its present session, and only the errors a legal request can earn. At the
end every client leaves and the server must be empty.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed

from integration.conftest import ServerFactory
from integration.wsclient import SCALE, WsClient

CLIENTS = 300
SECONDS = 3.0
MODES = ("video", "audio")
TOPICS = (None, None, "maths", "physics")


@dataclass
class Tracker:
    """What one connection was told, checked message by message."""

    name: str
    violations: list[str]
    matched: dict[str, list[tuple[str, bool]]]
    current: str | None = None
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def on(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        self.counts[kind] += 1
        session = str(message.get("session"))
        if kind == "matched":
            if self.current is not None:
                self.violations.append(f"{self.name}: matched {session} while in {self.current}")
            self.current = session
            self.matched[session].append((self.name, message["initiator"]))
        elif kind in ("partner_left", "reported"):
            if session == self.current:
                self.current = None
        elif kind in ("idle", "queued"):
            self.current = None  # the server says: not in a session
        elif kind == "signal":
            if session != self.current:
                self.violations.append(f"{self.name}: signal for {session}, present session {self.current}")
        elif kind == "error":
            # `refused`: reported by several partners in the storm, penalized for a while.
            if message["code"] not in ("in_session", "not_in_session", "refused"):
                self.violations.append(f"{self.name}: unexpected error {message}")
        else:
            self.violations.append(f"{self.name}: unexpected {message}")


@pytest.mark.slow
async def test_storm_keeps_every_invariant_and_ends_empty(server_factory: ServerFactory) -> None:
    # Every client comes from 127.0.0.1: lift the per-address cap along with the rates.
    cluster = await server_factory(
        rate_messages=1000.0, rate_burst=1000, rate_finds_per_minute=100_000, rematch_cooldown=0.5,
        max_connections_per_ip=10 * CLIENTS,
    )
    violations: list[str] = []
    matched: dict[str, list[tuple[str, bool]]] = defaultdict(list)
    trackers: list[Tracker] = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + SECONDS

    async def read(client: WsClient, tracker: Tracker) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for frame in client.ws:
                tracker.on(json.loads(frame))

    async def life(number: int) -> None:
        rng = random.Random(number)
        generation = 0
        while loop.time() < deadline:
            client = await cluster.connect()
            tracker = Tracker(f"{number}.{generation}", violations, matched)
            trackers.append(tracker)
            reader = asyncio.create_task(read(client, tracker))
            gone = False
            while loop.time() < deadline and not gone:
                op = rng.choices(
                    ["find", "skip", "leave", "cancel", "signal", "report", "close", "abort"],
                    weights=[30, 15, 5, 5, 30, 2, 2, 1],
                )[0]
                session = tracker.current or "none"
                if op == "find":
                    await client.send({"type": "find", "mode": rng.choice(MODES), "topic": rng.choice(TOPICS)})
                elif op in ("skip", "leave"):
                    await client.send({"type": op, "session": session})
                elif op == "cancel":
                    await client.send({"type": "cancel"})
                elif op == "signal":
                    await client.send({"type": "signal", "session": session, "data": {"n": rng.random()}})
                elif op == "report":
                    await client.send({"type": "report", "session": session, "reason": "storm"})
                elif op == "close":
                    await client.close()
                    gone = True
                else:
                    client.ws.transport.abort()
                    gone = True
                await asyncio.sleep(rng.uniform(0.0, 0.05))  # pacing: a person, not a loop
            if not gone:
                await client.close()
            await reader
            generation += 1

    async with asyncio.timeout(SECONDS + 60 * SCALE):
        await asyncio.gather(*(life(n) for n in range(CLIENTS)))
    health = await cluster.wait_settled(within=30 * SCALE)

    assert not violations, "\n".join(violations[:20])
    for session, sides in matched.items():
        # A side that disconnected may not have read its `matched`; never more than two.
        assert len(sides) <= 2, (session, sides)
        if len(sides) == 2:
            (a, a_init), (b, b_init) = sides
            assert a != b and a_init != b_init, (session, sides)
    pairs = sum(1 for sides in matched.values() if len(sides) == 2)
    signals = sum(t.counts["signal"] for t in trackers)
    kinds = {k: sum(t.counts[k] for t in trackers) for k in sorted({k for t in trackers for k in t.counts})}
    print(f"storm: {len(trackers)} connections, {pairs} pairs, {signals} signals relayed; received {kinds}")
    # Not a benchmark (a shared backend is slower here), only proof the storm did pair and relay.
    assert pairs > CLIENTS // 4, f"the storm made only {pairs} pairs"
    assert signals > 0, "no signal was relayed"
    assert health["waiting"] == 0 and health["sessions"] == 0
