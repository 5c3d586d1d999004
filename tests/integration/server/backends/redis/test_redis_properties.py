"""The core's property test, run against the Redis pairing script on a real redis-server.

tests/unit/server/core/test_matchmaking_properties.py checks the pure core against a
small model: nobody in two places, nobody paired with themselves, pairs
symmetric, the longest compatible waiter first, the skip cool-down, nobody
queued after a disconnect, refused events change nothing. The same machine,
rules and invariants run here with `ScriptPairing` in the core's place: every
event is one run of `scripts/matchmaking.lua`, and every query reads the keys
the script keeps. (test_redis_pairing.py compares the script with the core
step by step; this one holds the script to the model on its own.)
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
import redis
from hypothesis import settings
from hypothesis.stateful import run_state_machine_as_test
from unit.server.core.test_matchmaking_properties import COOLDOWN, MatchmakingMachine, Pairing

from integration.redis_support import RedisServer, ScriptDriver, hash_json, shared_redis, zset_members  # noqa: F401 (fixture)
from server.backends.redis.script import Truth, decode_envelopes, wire_favourites, wire_length, wire_topic
from server.core import protocol as p
from server.core.matchmaking import Outgoing, Session, Where, refusal
from server.core.rules import Terms, Wish

pytestmark = pytest.mark.redis

WHERE = {"i": Where.IDLE, "q": Where.QUEUED, "s": Where.IN_SESSION}


class ScriptPairing:
    """`Pairing` (the core's events and queries) answered by the pairing script."""

    def __init__(self, driver: ScriptDriver, new_session_id: Callable[[], str]) -> None:
        self.driver = driver
        self.r: redis.Redis = driver.r
        self.keys = driver.keys
        self._new_session_id = new_session_id
        self._now = 0.0
        self.driver.call("beat", "", now=0.0)  # the instance's lease, so that its clients are alive

    def _do(self, now: float, op: str, *args: str) -> Outgoing:
        """One operation: its messages, or the core's refusal."""
        self._now = now
        reply = self.driver.call(op, *args, now=now)
        [outcome] = reply.outcomes
        if outcome.status == "err":
            raise refusal(outcome.detail)
        assert outcome.status == "ok", (op, args, outcome)
        out: Outgoing = []
        for _, payload in reply.sent:
            for cid, msg in decode_envelopes(payload):
                assert not isinstance(msg, Truth), "only a sync reads the truth back"
                out.append((cid, msg))
        return out

    def _record(self, cid: str) -> dict[str, Any]:
        raw = self.r.hget(self.keys.clients, cid)
        if raw is None:
            raise KeyError(cid)  # as the core's lookups
        record: dict[str, Any] = json.loads(raw)
        return record

    # --- events ---------------------------------------------------------------------

    def connect(self, client_id: str, resumable: bool = False, install: str | None = None) -> None:
        self._do(self._now, "connect", client_id, "", "1" if resumable else "0", install or "")

    def avoid(self, client_id: str, installs: list[str]) -> int:
        reply = self.driver.call("avoid", client_id, json.dumps(installs), now=self._now)
        [outcome] = reply.outcomes
        assert outcome.status == "ok" and reply.sent == []
        return int(outcome.detail)

    def find(
        self, client_id: str, mode: str, topic: str | None, now: float,
        length: int | None = None, talk: str | None = None, favourites: tuple[str, ...] = (),
    ) -> Outgoing:
        return self._do(
            now, "find", client_id, mode, wire_topic(p.normalize_topic(topic)), self._new_session_id(), "",
            wire_length(length), wire_topic(talk), wire_favourites(tuple(dict.fromkeys(favourites))),
        )

    def cancel(self, client_id: str, now: float) -> Outgoing:
        return self._do(now, "cancel", client_id)

    def skip(self, client_id: str, now: float) -> Outgoing:
        return self._do(now, "skip", client_id, self._new_session_id())

    def leave(self, client_id: str, now: float) -> Outgoing:
        return self._do(now, "leave", client_id)

    def report(self, client_id: str, session_id: str, now: float) -> Outgoing:
        return self._do(now, "report", client_id, session_id)

    def signal(self, client_id: str, session_id: str, data: dict[str, object]) -> Outgoing:
        return self._do(self._now, "signal", client_id, session_id, json.dumps(data))

    def disconnect(self, client_id: str, now: float) -> Outgoing:
        return self._do(now, "disconnect", client_id)

    def tick(self, now: float) -> Outgoing:
        return self._do(now, "tick", self._new_session_id())

    # --- queries: what the script keeps -------------------------------------------------

    def where(self, client_id: str) -> Where:
        return WHERE[self._record(client_id)["w"]]

    def session_of(self, client_id: str) -> Session | None:
        sid = self._record(client_id).get("ss")
        return None if sid is None else self._session(sid, self.driver.sessions()[sid])

    @staticmethod
    def _session(sid: str, s: dict[str, Any]) -> Session:
        return Session(sid, initiator=s["a"], responder=s["b"], started=s["t"],
                       terms=Terms(s["sl"] or None, s["sk"], s["sa"]))

    def is_connected(self, client_id: str) -> bool:
        return bool(self.r.hexists(self.keys.clients, client_id))

    def waiting_count(self, mode: str | None = None) -> int:
        return sum(len(self.waiting_order(m)) for m in (p.MODES if mode is None else (mode,)))

    def waiting_order(self, mode: str) -> list[str]:
        return zset_members(self.r, self.keys.queue(mode))

    def wish_of(self, client_id: str) -> Wish | None:
        record = self._record(client_id)
        if "m" not in record:
            return None
        favourites = tuple(json.loads(record["fk"])) if "fk" in record else ()
        return Wish(record["m"], record["t"] or None, record.get("ln") or None, record.get("tk") or None, favourites)

    def client_count(self) -> int:
        return len(self.driver.records())

    def sessions(self) -> list[Session]:
        return [self._session(sid, s) for sid, s in self.driver.sessions().items()]

    def in_cooldown(self, a: str, b: str, now: float) -> bool:
        till = self.r.zscore(self.keys.cool, "|".join(sorted((a, b))))  # the script's pair_key
        return till is not None and till > now


class ScriptMatchmakingMachine(MatchmakingMachine):
    url = ""

    def make_core(self, new_session_id: Callable[[], str]) -> Pairing:
        self.driver = ScriptDriver(self.url, cooldown=COOLDOWN)
        return ScriptPairing(self.driver, new_session_id)

    def teardown(self) -> None:
        self.driver.r.close()


def test_the_script_keeps_the_cores_guarantees(shared_redis: RedisServer) -> None:  # noqa: F811
    ScriptMatchmakingMachine.url = shared_redis.url
    run_state_machine_as_test(
        ScriptMatchmakingMachine, settings=settings(max_examples=100, stateful_step_count=60, deadline=None)
    )
