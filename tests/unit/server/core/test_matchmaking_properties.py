"""Hypothesis drives random interleavings through the pure core and checks the guarantees.

A small model kept by the test (who asked for what, who waited since when,
which pairs are cooling down) is the oracle: after every step the core's
state and the messages it produced must agree with it.

The machine talks to the core through `Pairing`, the core's own events and
queries, so the same rules and invariants also run against the Redis pairing
script (tests/integration/server/backends/redis/test_redis_properties.py subclasses the machine
with `make_core`).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Protocol

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from server.core import protocol as p
from server.core.matchmaking import Matchmaker, Outgoing, Session, Where
from server.core.rules import Wish, compatible

CLIENTS = [f"c{i}" for i in range(7)]
COOLDOWN = 10.0
modes = st.sampled_from(p.MODES)
topics = st.sampled_from([None, "maths", "Maths ", "physics"])
lengths = st.sampled_from([None, *p.LENGTHS])
talks = st.sampled_from([None, *p.TALKS])
clients = st.sampled_from(CLIENTS)
# A few installations, so that two connections may share one (the same app, reconnected).
# Few of each, so that avoided pairs and shared tokens come up often.
INSTALLS = ["inst-aaaaaaaaaaaaaaa", "inst-bbbbbbbbbbbbbbb"]
installs = st.sampled_from([None, *INSTALLS, *INSTALLS])
FAV_A, FAV_B = "fav-aaaaaaaaaaaaaaaa", "fav-bbbbbbbbbbbbbbbb"
favourites = st.sampled_from([(), (), (FAV_A,), (FAV_A,), (FAV_B,), (FAV_A, FAV_B), (FAV_B, FAV_A)])


class Pairing(Protocol):
    """What the machine asks of a pairing implementation: `Matchmaker`'s events and queries."""

    def connect(self, client_id: str, resumable: bool = False, install: str | None = None) -> None: ...
    def avoid(self, client_id: str, installs: list[str]) -> int: ...
    def find(
        self, client_id: str, mode: str, topic: str | None, now: float,
        length: int | None = None, talk: str | None = None, favourites: tuple[str, ...] = (),
    ) -> Outgoing: ...
    def cancel(self, client_id: str, now: float) -> Outgoing: ...
    def skip(self, client_id: str, now: float) -> Outgoing: ...
    def leave(self, client_id: str, now: float) -> Outgoing: ...
    def report(self, client_id: str, session_id: str, now: float) -> Outgoing: ...
    def signal(self, client_id: str, session_id: str, data: dict[str, object]) -> Outgoing: ...
    def disconnect(self, client_id: str, now: float) -> Outgoing: ...
    def tick(self, now: float) -> Outgoing: ...
    def where(self, client_id: str) -> Where: ...
    def session_of(self, client_id: str) -> Session | None: ...
    def is_connected(self, client_id: str) -> bool: ...
    def waiting_count(self, mode: str | None = None) -> int: ...
    def waiting_order(self, mode: str) -> list[str]: ...
    def wish_of(self, client_id: str) -> Wish | None: ...
    def client_count(self) -> int: ...
    def sessions(self) -> list[Session]: ...
    def in_cooldown(self, a: str, b: str, now: float) -> bool: ...


class MatchmakingMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        counter = itertools.count()
        self.core = self.make_core(lambda: f"s{next(counter)}")
        self.now = 0.0
        self.connected: set[str] = set()
        self.ever_connected: set[str] = set()
        # model: pairs that may not meet again until a time
        self.cooling: dict[frozenset[str], float] = {}
        self.sessions_seen: set[str] = set()
        # model: each client's installation, and the installations it avoids
        self.installs: dict[str, str | None] = {}
        self.avoiding: dict[str, set[str]] = {}

    def make_core(self, new_session_id: Callable[[], str]) -> Pairing:
        """The implementation under test."""
        return Matchmaker(rematch_cooldown=COOLDOWN, new_session_id=new_session_id)

    # --- helpers ----------------------------------------------------------------

    def snapshot(self) -> tuple[object, ...]:
        return (
            {c: self.core.where(c) for c in self.connected},
            {m: self.core.waiting_order(m) for m in p.MODES},
            sorted((s.id, s.initiator, s.responder) for s in self.core.sessions()),
        )

    def attempt(self, action: Callable[..., Outgoing], *args: object) -> Outgoing | None:
        """Run an event; a refused one must change nothing."""
        before = self.snapshot()
        waiting_before = {m: self.core.waiting_order(m) for m in p.MODES}
        wishes_before = {c: self.core.wish_of(c) for c in self.connected}
        try:
            out = action(*args)
        except p.ProtocolError as error:
            assert error.code in p.ALL_ERROR_CODES
            assert self.snapshot() == before
            return None
        self.check_matches(out, waiting_before, wishes_before)
        return out

    def check_matches(
        self, out: Outgoing, waiting_before: dict[str, list[str]], wishes_before: dict[str, Wish | None]
    ) -> None:
        matched = [(cid, m) for cid, m in out if isinstance(m, p.Matched)]
        assert len(matched) in (0, 2)
        if not matched:
            return
        (a, ma), (b, mb) = matched
        assert a != b, "nobody is paired with themselves"
        assert ma.session == mb.session and ma.session not in self.sessions_seen
        self.sessions_seen.add(ma.session)
        assert ma.initiator != mb.initiator
        # The initiator is the one who waited; the newcomer takes the longest compatible waiter.
        waiter, newcomer = (a, b) if ma.initiator else (b, a)
        wish = self.core.wish_of(newcomer)
        assert wish is not None
        assert waiter in waiting_before[wish.mode]
        eligible = [
            c
            for c in waiting_before[wish.mode]
            if c != newcomer
            and (other := wishes_before[c]) is not None
            and self.pairable(newcomer, wish, c, other)
        ]
        assert eligible and eligible[0] == waiter, "the longest compatible waiter is taken first"
        waiter_wish = wishes_before[waiter]
        assert waiter_wish is not None and compatible(wish, waiter_wish), "mode, topic, length and talk agree"
        assert not self.avoided(a, b), "an avoided installation is never paired"
        # Both sides get the same terms: the initiator's (the waiter's) length and talk, else the other's.
        assert ma.study is not None and ma.study == mb.study
        length = waiter_wish.length if waiter_wish.length is not None else wish.length
        talk = waiter_wish.talk if waiter_wish.talk is not None else wish.talk
        assert ma.study.length == length
        assert ma.study.talk == (talk if talk is not None else "talk")
        assert (ma.study.ends_at is None) == (ma.study.length is None)
        if wish.favourites or waiter_wish.favourites:
            assert wish.favourites and waiter_wish.favourites, "a favourite search pairs only with one"
            shared = set(wish.favourites) & set(waiter_wish.favourites)
            assert ma.favourite == mb.favourite == min(shared), "paired by a shared token, the least one"
        else:
            assert ma.favourite is None and mb.favourite is None
            assert self.cooling.get(frozenset((a, b)), float("-inf")) <= self.now, "skip cool-down holds"
        # Each side is named to the other by its installation (sealed later, by the shell).
        assert ma.partner.avoid == self.installs[b] and mb.partner.avoid == self.installs[a]

    def avoided(self, a: str, b: str) -> bool:
        """The model's word: either side avoids the other's installation."""
        ia, ib = self.installs.get(a), self.installs.get(b)
        return (ib is not None and ib in self.avoiding.get(a, set())) or (
            ia is not None and ia in self.avoiding.get(b, set()))

    def pairable(self, a: str, wa: Wish, b: str, wb: Wish) -> bool:
        """The model's word on two waiters: favourites by a shared token, others by wish and cool-down."""
        if self.avoided(a, b):
            return False
        if wa.favourites or wb.favourites:
            return wa.mode == wb.mode and bool(set(wa.favourites) & set(wb.favourites))
        return compatible(wa, wb) and self.cooling.get(frozenset((a, b)), float("-inf")) <= self.now

    def record_cooldowns(self, out: Outgoing, actor: str) -> None:
        for cid, message in out:
            if isinstance(message, p.PartnerLeft) and message.reason in ("skipped", "reported"):
                self.cooling[frozenset((actor, cid))] = self.now + COOLDOWN

    def session_id(self, cid: str) -> str | None:
        session = self.core.session_of(cid)
        return None if session is None else session.id

    # --- rules --------------------------------------------------------------------

    @rule(cid=clients, install=installs)
    def connect(self, cid: str, install: str | None) -> None:
        if cid in self.ever_connected:
            return  # a client id is never reused, as in the server
        self.core.connect(cid, install=install)
        self.installs[cid] = install
        self.connected.add(cid)
        self.ever_connected.add(cid)

    @precondition(lambda self: self.connected)
    @rule(data=st.data(), avoided=st.lists(st.sampled_from(INSTALLS), min_size=1, max_size=2))
    def avoid(self, data: st.DataObject, avoided: list[str]) -> None:
        cid = data.draw(st.sampled_from(sorted(self.connected)))
        before = self.snapshot()
        count = self.core.avoid(cid, avoided)
        self.avoiding.setdefault(cid, set()).update(avoided)
        assert count == len(self.avoiding[cid])
        assert self.snapshot() == before, "avoiding pairs nobody and unpairs nobody"

    @precondition(lambda self: self.connected)
    @rule(data=st.data(), mode=modes, topic=topics, length=lengths, talk=talks, favs=favourites)
    def find(
        self, data: st.DataObject, mode: str, topic: str | None, length: int | None, talk: str | None,
        favs: tuple[str, ...],
    ) -> None:
        cid = data.draw(st.sampled_from(sorted(self.connected)))
        was_in_session = self.core.where(cid) is Where.IN_SESSION
        out = self.attempt(self.core.find, cid, mode, topic, self.now, length, talk, favs)
        assert (out is None) == was_in_session
        if out is not None:
            assert (cid, p.Queued(mode, p.normalize_topic(topic), length, talk, favourite=bool(favs))) in out

    @precondition(lambda self: self.connected)
    @rule(data=st.data())
    def cancel(self, data: st.DataObject) -> None:
        cid = data.draw(st.sampled_from(sorted(self.connected)))
        out = self.attempt(self.core.cancel, cid, self.now)
        if out is not None:
            assert out == [(cid, p.Idle())] and self.core.where(cid) is Where.IDLE

    @precondition(lambda self: self.connected)
    @rule(data=st.data())
    def skip(self, data: st.DataObject) -> None:
        cid = data.draw(st.sampled_from(sorted(self.connected)))
        had_wish = self.core.wish_of(cid) is not None
        out = self.attempt(self.core.skip, cid, self.now)
        assert (out is not None) == had_wish
        if out is not None:
            self.record_cooldowns(out, cid)
            assert any(c == cid and isinstance(m, p.Queued) for c, m in out)
            assert self.core.where(cid) in (Where.QUEUED, Where.IN_SESSION)

    @precondition(lambda self: self.connected)
    @rule(data=st.data())
    def leave(self, data: st.DataObject) -> None:
        cid = data.draw(st.sampled_from(sorted(self.connected)))
        session = self.session_id(cid)
        out = self.attempt(self.core.leave, cid, self.now)
        assert out is not None and out[-1] == (cid, p.Idle())
        if session is not None:
            assert any(isinstance(m, p.PartnerLeft) and m.reason == "left" for _, m in out)
        assert self.core.where(cid) is Where.IDLE

    @precondition(lambda self: self.connected)
    @rule(data=st.data(), stale=st.booleans())
    def report(self, data: st.DataObject, stale: bool) -> None:
        cid = data.draw(st.sampled_from(sorted(self.connected)))
        session = self.session_id(cid)
        named = "s-unknown" if stale or session is None else session
        out = self.attempt(self.core.report, cid, named, self.now)
        assert (out is None) == (named != session)
        if out is not None:
            self.record_cooldowns(out, cid)
            assert (cid, p.Reported(named)) in out

    @precondition(lambda self: self.connected)
    @rule(data=st.data(), stale=st.booleans())
    def signal(self, data: st.DataObject, stale: bool) -> None:
        cid = data.draw(st.sampled_from(sorted(self.connected)))
        session = self.core.session_of(cid)
        named = "s-unknown" if stale or session is None else session.id
        out = self.attempt(self.core.signal, cid, named, {"n": 1})
        if session is None or stale:
            assert out is None, "nothing is relayed for a session that is not yours"
        else:
            assert out == [(session.partner_of(cid), p.Signal(session.id, {"n": 1}))]

    @precondition(lambda self: self.connected)
    @rule(data=st.data())
    def disconnect(self, data: st.DataObject) -> None:
        cid = data.draw(st.sampled_from(sorted(self.connected)))
        session = self.core.session_of(cid)
        out = self.core.disconnect(cid, self.now)
        self.connected.discard(cid)
        if session is not None:
            assert out == [(session.partner_of(cid), p.PartnerLeft(session.id, "disconnected"))]
        else:
            assert out == []
        assert not self.core.is_connected(cid)

    @rule(seconds=st.sampled_from([0.5, 3.0, COOLDOWN]))
    def wait(self, seconds: float) -> None:
        self.now += seconds
        out = self.attempt(self.core.tick, self.now)
        assert out is not None
        assert all(isinstance(m, p.Matched) for _, m in out), "a tick only pairs"

    # --- invariants -----------------------------------------------------------------

    @invariant()
    def everyone_is_in_exactly_one_place(self) -> None:
        queued = [c for m in p.MODES for c in self.core.waiting_order(m)]
        in_sessions = [c for s in self.core.sessions() for c in (s.initiator, s.responder)]
        assert len(queued) == len(set(queued)), "nobody waits twice"
        assert len(in_sessions) == len(set(in_sessions)), "nobody is in two sessions"
        assert not set(queued) & set(in_sessions), "nobody waits while in a session"
        assert set(queued) | set(in_sessions) <= self.connected, "nobody stays after a disconnect"
        for cid in self.connected:
            where = self.core.where(cid)
            assert (where is Where.QUEUED) == (cid in queued)
            assert (where is Where.IN_SESSION) == (cid in in_sessions)

    @invariant()
    def pairs_are_symmetric(self) -> None:
        for session in self.core.sessions():
            assert session.initiator != session.responder
            assert self.core.session_of(session.initiator) == session
            assert self.core.session_of(session.responder) == session

    @invariant()
    def no_two_compatible_waiters_are_left_unpaired(self) -> None:
        for mode in p.MODES:
            waiting = self.core.waiting_order(mode)
            for a, b in itertools.combinations(waiting, 2):
                wa, wb = self.core.wish_of(a), self.core.wish_of(b)
                assert wa is not None and wb is not None
                if compatible(wa, wb) and not self.avoided(a, b):
                    assert not (wa.favourites or wb.favourites), f"favourites {a} and {b} could have been paired"
                    assert self.core.in_cooldown(a, b, self.now), f"{a} and {b} could have been paired"

    @invariant()
    def counts_agree(self) -> None:
        assert self.core.client_count() == len(self.connected)
        assert self.core.waiting_count() == sum(len(self.core.waiting_order(m)) for m in p.MODES)


TestMatchmaking = MatchmakingMachine.TestCase
TestMatchmaking.settings = settings(TestMatchmaking.settings, stateful_step_count=60)
