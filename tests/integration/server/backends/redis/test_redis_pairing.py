"""The pairing script against the pure core: same random events, same outcome.

Hypothesis drives random find/cancel/skip/leave/report/signal/disconnect/tick
sequences through `scripts/matchmaking.lua` on a real redis-server and,
step by step, through the pure `Matchmaker`. Every step must send the same
messages (in the same order, with the same session ids) or be refused with
the same code, and afterwards the state in Redis must satisfy the core's
invariants: nobody in two places, nobody paired with themselves, pairs
symmetric, waiting order equal to the core's (so longest compatible waiter
first and the cool-down hold exactly as there), nobody kept after a disconnect.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from integration.redis_support import (  # noqa: F401 (fixture)
    INSTANCE,
    RedisServer,
    ScriptDriver,
    hash_json,
    shared_redis,
)
from server.backends.redis.script import Reply, decode_envelopes, wire_favourites, wire_length, wire_topic
from server.core import protocol as p
from server.core.matchmaking import Matchmaker, Outgoing, Where, refusal
from server.core.rules import MAX_AVOIDED

pytestmark = pytest.mark.redis

SLOTS = 6
INSTALLS = ["inst-aaaaaaaaaaaaaaa", "inst-bbbbbbbbbbbbbbb", "inst-ccccccccccccccc"]
FAVOURITES = [(), (), ("fav-aaaaaaaaaaaaaaaa",), ("fav-bbbbbbbbbbbbbbbb",),
              ("fav-bbbbbbbbbbbbbbbb", "fav-aaaaaaaaaaaaaaaa")]
COOLDOWN = 10.0
WHERE = {"i": Where.IDLE, "q": Where.QUEUED, "s": Where.IN_SESSION}


class PairingMachine(RuleBasedStateMachine):
    url = ""

    def __init__(self) -> None:
        super().__init__()
        self.driver = ScriptDriver(self.url, cooldown=COOLDOWN)
        self.now = 0.0
        self.step = 0
        self._names: Iterator[str] = iter(())
        # The script starts a session at Redis' `now`, in ms: the core's wall clock is the same one.
        self.core = Matchmaker(rematch_cooldown=COOLDOWN, new_session_id=lambda: next(self._names),
                               observe_wait=self._waited, wall_ms=lambda: math.floor(self.now * 1000))
        self.waits: list[float] = []
        self.slots: list[str | None] = [None] * SLOTS
        self.generation = itertools.count()
        self.driver.call("beat", "unused", now=self.now)

    def teardown(self) -> None:
        self.driver.r.close()

    def _waited(self, seconds: float) -> None:
        self.waits.append(seconds)

    def _session_base(self) -> str:
        self.step += 1
        base = f"s{self.step}"
        self._names = itertools.chain([base], (f"{base}.{n}" for n in itertools.count(2)))
        return base

    def both(self, core_event: Any, op: str, *args: str) -> Reply:
        """One event through both; they must agree on refusals and on every message sent."""
        self.waits = []
        try:
            expected: Outgoing | p.ProtocolError = core_event()
        except p.ProtocolError as error:
            expected = error
        reply = self.driver.call(op, *args, now=self.now)
        [outcome] = reply.outcomes
        if isinstance(expected, p.ProtocolError):
            assert outcome.status == "err", (op, args, reply)
            assert refusal(outcome.detail).code == expected.code
            assert refusal(outcome.detail).message == expected.message
            assert reply.sent == []
            return reply
        assert outcome.status == "ok", (op, args, reply)
        sent = [m for _, payload in reply.sent for m in decode_envelopes(payload)]
        assert sent == expected, f"{op}{args}:\n redis {sent}\n core  {expected}"
        assert all(instance == INSTANCE for instance, _ in reply.sent)
        assert reply.waits == self.waits
        return reply

    def client(self, slot: int) -> str | None:
        return self.slots[slot]

    # --- events -------------------------------------------------------------------

    @initialize()
    def everyone_connects(self) -> None:
        for slot in range(SLOTS):
            self.connect(slot, INSTALLS[slot % len(INSTALLS)] if slot % 2 else None)

    @rule(slot=st.integers(0, SLOTS - 1), install=st.sampled_from([None, *INSTALLS]))
    def connect(self, slot: int, install: str | None) -> None:
        if self.slots[slot] is None:
            cid = f"c{slot}-{next(self.generation)}"  # never reused, as the shell's ids
            self.slots[slot] = cid
            self.core.connect(cid, install=install)
            reply = self.driver.call("connect", cid, "", "0", install or "", now=self.now)
            assert reply.outcomes[0].status == "ok"

    @rule(slot=st.integers(0, SLOTS - 1), installs=st.lists(st.sampled_from(INSTALLS), min_size=1, max_size=2))
    def avoid(self, slot: int, installs: list[str]) -> None:
        """Never again: the same count from both, and nothing sent (the pairs to come say the rest)."""
        cid = self.client(slot)
        if cid is not None:
            count = self.core.avoid(cid, installs)
            reply = self.driver.call("avoid", cid, json.dumps(installs), now=self.now)
            assert [(o.status, o.detail) for o in reply.outcomes] == [("ok", str(count))]
            assert reply.sent == []

    @rule(slot=st.integers(0, SLOTS - 1), mode=st.sampled_from(p.MODES),
          topic=st.sampled_from([None, "maths", " Maths", "physics", ""]),
          length=st.sampled_from([None, *p.LENGTHS]), talk=st.sampled_from([None, *p.TALKS]),
          favourites=st.sampled_from(FAVOURITES))
    def find(
        self, slot: int, mode: str, topic: str | None, length: int | None, talk: str | None,
        favourites: tuple[str, ...],
    ) -> None:
        cid = self.client(slot)
        if cid is not None:
            norm = wire_topic(p.normalize_topic(topic))
            base = self._session_base()
            self.both(lambda: self.core.find(cid, mode, topic, self.now, length, talk, favourites), "find", cid, mode,
                      norm, base, "", wire_length(length), wire_topic(talk), wire_favourites(favourites))

    @rule(slot=st.integers(0, SLOTS - 1))
    def cancel(self, slot: int) -> None:
        cid = self.client(slot)
        if cid is not None:
            self.both(lambda: self.core.cancel(cid, self.now), "cancel", cid)

    @rule(slot=st.integers(0, SLOTS - 1))
    def skip(self, slot: int) -> None:
        cid = self.client(slot)
        if cid is not None:
            base = self._session_base()
            self.both(lambda: self.core.skip(cid, self.now), "skip", cid, base)

    @rule(slot=st.integers(0, SLOTS - 1))
    def leave(self, slot: int) -> None:
        cid = self.client(slot)
        if cid is not None:
            self.both(lambda: self.core.leave(cid, self.now), "leave", cid)

    @rule(slot=st.integers(0, SLOTS - 1), stale=st.booleans())
    def report(self, slot: int, stale: bool) -> None:
        cid = self.client(slot)
        if cid is not None:
            session = self.core.session_of(cid)
            sid = "s0" if stale or session is None else session.id
            reply = self.both(lambda: self.core.report(cid, sid, self.now), "report", cid, sid)
            [outcome] = reply.outcomes
            if outcome.status == "ok":  # it names who was reported (no abuse key given: their id)
                assert session is not None
                partner = session.partner_of(cid)
                assert json.loads(outcome.detail) == [partner, partner]

    @rule(slot=st.integers(0, SLOTS - 1), stale=st.booleans(), data=st.sampled_from([{}, {"sdp": "x"}, {"a": [1]}]))
    def signal(self, slot: int, stale: bool, data: dict[str, Any]) -> None:
        cid = self.client(slot)
        if cid is not None:
            session = self.core.session_of(cid)
            sid = "s0" if stale or session is None else session.id
            self.both(lambda: self.core.signal(cid, sid, data), "signal", cid, sid, json.dumps(data))

    @rule(slot=st.integers(0, SLOTS - 1))
    def disconnect(self, slot: int) -> None:
        cid = self.client(slot)
        if cid is not None:
            self.slots[slot] = None
            self.both(lambda: self.core.disconnect(cid, self.now), "disconnect", cid)

    @rule(events=st.lists(st.tuples(st.sampled_from(["find", "skip", "cancel", "leave"]), st.integers(0, SLOTS - 1)),
                          min_size=2, max_size=6))
    def several_in_one_run(self, events: list[tuple[str, int]]) -> None:
        """A batch (what an instance sends under load) does what its operations do one run each."""
        self.waits = []
        ops: list[tuple[str, ...]] = []
        statuses: list[str] = []
        expected: Outgoing = []
        for kind, slot in events:
            cid = self.client(slot)
            if cid is None:
                continue
            try:
                if kind == "find":
                    ops.append(("find", cid, "video", "", self._session_base()))
                    expected += self.core.find(cid, "video", None, self.now)
                elif kind == "skip":
                    ops.append(("skip", cid, self._session_base()))
                    expected += self.core.skip(cid, self.now)
                elif kind == "cancel":
                    ops.append(("cancel", cid))
                    expected += self.core.cancel(cid, self.now)
                else:
                    ops.append(("leave", cid))
                    expected += self.core.leave(cid, self.now)
                statuses.append("ok")
            except p.ProtocolError:
                statuses.append("err")
        if not ops:
            return
        reply = self.driver.run(ops, now=self.now)
        assert [o.status for o in reply.outcomes] == statuses, (ops, reply)
        sent = [m for _, payload in reply.sent for m in decode_envelopes(payload)]
        assert sent == expected, f"{ops}:\n redis {sent}\n core  {expected}"
        assert len(reply.sent) == (1 if sent else 0), "one PUBLISH per instance per run"
        assert reply.waits == self.waits

    # Around the cool-down's end, where an off-by-one would show.
    @rule(seconds=st.sampled_from([0, 1, 3, COOLDOWN - 1, COOLDOWN]))
    def time_passes(self, seconds: float) -> None:
        self.now += seconds
        base = self._session_base()
        self.both(lambda: self.core.tick(self.now), "tick", base)

    # --- invariants -----------------------------------------------------------------

    @invariant()
    def same_state_and_consistent(self) -> None:
        records, sessions = self.driver.records(), self.driver.sessions()
        connected = {c for c in self.slots if c is not None}
        assert set(records) == connected, "a disconnected client is still known, or a connected one lost"
        queued: dict[str, str] = {}
        for mode in p.MODES:
            entries = self.driver.queue(mode)
            assert [c for c, _ in entries] == self.core.waiting_order(mode), "waiting order differs"
            for cid, seq in entries:
                assert cid not in queued, "queued twice"
                queued[cid] = mode
                assert records[cid]["w"] == "q" and records[cid]["m"] == mode and float(records[cid]["s"]) == seq
        in_session: dict[str, str] = {}
        for sid, s in sessions.items():
            assert s["a"] != s["b"], "paired with themselves"
            for cid in (s["a"], s["b"]):
                assert cid not in in_session, "in two sessions"
                in_session[cid] = sid
                assert records[cid]["w"] == "s" and records[cid]["ss"] == sid
        assert {(sid, s["a"], s["b"]) for sid, s in sessions.items()} == {
            (s.id, s.initiator, s.responder) for s in self.core.sessions()
        }
        for cid, record in records.items():
            assert WHERE[record["w"]] is self.core.where(cid)
            assert (cid in queued) == (record["w"] == "q") and (cid in in_session) == (record["w"] == "s")
        # The rendezvous index holds exactly the searches for a favourite; avoid sets only the connected's.
        keys = self.driver.keys
        rdv = {(field, cid) for field, ids in hash_json(self.driver.r, f"{keys.prefix}:rdv").items() for cid in ids}
        assert rdv == {(f"{queued[cid]}|{token}", cid) for cid in queued
                       for token in json.loads(records[cid].get("fk", "[]"))}
        avoiders = {field.split("|")[0] for field in hash_json(self.driver.r, f"{keys.prefix}:avoid")}
        assert avoiders <= connected and set(hash_json(self.driver.r, f"{keys.prefix}:avoidlist")) <= connected


def test_script_agrees_with_the_core(shared_redis: RedisServer) -> None:  # noqa: F811
    PairingMachine.url = shared_redis.url
    run_state_machine_as_test(
        PairingMachine, settings=settings(max_examples=100, stateful_step_count=40, deadline=None)
    )


def test_past_the_most_avoided_the_script_forgets_the_oldest(shared_redis: RedisServer) -> None:  # noqa: F811
    driver = ScriptDriver(shared_redis.url, cooldown=COOLDOWN)
    try:
        driver.call("beat", "", now=0.0)
        installs = [f"install-{n:09d}" for n in range(MAX_AVOIDED + 1)]
        driver.call("connect", "a", "", "0", "install-a-0000000", now=0.0)
        for cid, install in (("first", installs[0]), ("second", installs[1])):
            driver.call("connect", cid, "", "0", install, now=0.0)
        for chunk, count in ((installs[:MAX_AVOIDED], MAX_AVOIDED), (installs[:3], MAX_AVOIDED),
                             (installs[MAX_AVOIDED:], MAX_AVOIDED)):
            [outcome] = driver.call("avoid", "a", json.dumps(chunk), now=0.0).outcomes
            assert (outcome.status, outcome.detail) == ("ok", str(count))
        driver.call("find", "a", "video", "", "s1", now=0.0)
        driver.call("find", "second", "video", "", "s2", now=1.0)
        assert driver.records()["a"]["w"] == "q", "the second oldest is still avoided"
        driver.call("find", "first", "video", "", "s3", now=2.0)
        assert driver.records()["a"]["w"] == driver.records()["first"]["w"] == "s", "the oldest was forgotten"
        driver.call("disconnect", "a", now=3.0)
        assert hash_json(driver.r, f"{driver.keys.prefix}:avoid") == {}, "a connection's avoid set goes with it"
    finally:
        driver.r.close()
