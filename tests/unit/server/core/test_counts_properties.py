"""The live counts' tally agrees with the queue it never asks: a Hypothesis state machine.

The shell learns who is queued only from the messages it delivers
(server/core/counts.py, `Tally`). Random interleavings of find, cancel, skip,
leave, report, disconnect and time going by run through the pure matchmaking
core; every message it sends goes to a `Tally`, and a disconnect makes the
tally forget the client, as the shell does. After every step the tally must
count exactly the core's waiting clients, per mode and per topic.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from server.core import protocol as p
from server.core.counts import Tally
from server.core.matchmaking import Matchmaker, Outgoing
from server.core.places import Where

CLIENTS = [f"c{i}" for i in range(6)]
clients = st.sampled_from(CLIENTS)


class CountsMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        counter = itertools.count()
        self.core = Matchmaker(rematch_cooldown=5.0, new_session_id=lambda: f"s{next(counter)}")
        self.tally = Tally()
        self.now = 0.0
        self.connected: set[str] = set()

    def deliver(self, step: Callable[[], Outgoing]) -> None:
        try:
            out = step()
        except p.ProtocolError:
            return  # refused (a find in a session, a cancel out of line...): nothing changes
        for client_id, message in out:
            if client_id in self.connected:  # the shell delivers only to its clients
                self.tally.observe(client_id, message)

    def ensure(self, client_id: str) -> None:
        if client_id not in self.connected:
            self.core.connect(client_id)
            self.connected.add(client_id)

    @rule(client=clients, mode=st.sampled_from(p.MODES), topic=st.sampled_from([None, "maths", "Maths ", "art"]))
    def find(self, client: str, mode: str, topic: str | None) -> None:
        self.ensure(client)
        self.deliver(lambda: self.core.find(client, mode, topic, self.now))

    @rule(client=clients)
    def cancel(self, client: str) -> None:
        if client in self.connected:
            self.deliver(lambda: self.core.cancel(client, self.now))

    @rule(client=clients)
    def skip(self, client: str) -> None:
        if client in self.connected:
            self.deliver(lambda: self.core.skip(client, self.now))

    @rule(client=clients)
    def leave(self, client: str) -> None:
        if client in self.connected:
            self.deliver(lambda: self.core.leave(client, self.now))

    @rule(client=clients)
    def report(self, client: str) -> None:
        session = self.core.session_of(client) if client in self.connected else None
        if session is not None:
            self.deliver(lambda: self.core.report(client, session.id, self.now))

    @rule(client=clients)
    def disconnect(self, client: str) -> None:
        if client in self.connected:
            self.connected.discard(client)
            self.tally.forget(client)  # the shell's detach
            self.deliver(lambda: self.core.disconnect(client, self.now))

    @rule(seconds=st.sampled_from([0.5, 3.0, 6.0]))
    def time_passes(self, seconds: float) -> None:
        self.now += seconds
        self.deliver(lambda: self.core.tick(self.now))

    @invariant()
    def the_tally_counts_the_queue(self) -> None:
        waiting = [c for c in self.connected if self.core.where(c) is Where.QUEUED]
        figures = self.tally.figures(len(self.connected))
        assert dict(figures.modes) == {m: self.core.waiting_count(m) for m in p.MODES if self.core.waiting_count(m)}
        wishes = [self.core.wish_of(c) for c in waiting]
        topics = Counter(w.topic for w in wishes if w is not None and w.topic is not None)
        assert dict(figures.topics) == dict(topics)
        assert {c for c, _ in self.tally.queued()} == set(waiting)


CountsMachine.TestCase.settings = settings(max_examples=150, stateful_step_count=40, deadline=None)
TestCountsMachine = CountsMachine.TestCase
