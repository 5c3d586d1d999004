"""The core's guarantees hold with dropped sides, resumes and rebuilt sessions in the mix.

The machine of tests/unit/server/core/test_matchmaking_properties.py, with three
more events: a socket drops (`disconnect(hold=True)`), a new connection resumes
with the ticket of a dropped side or place in line, or takes over a side that
is still connected. Never a double match, never a ghost in the queue, every
client in exactly one place, a spent ticket changes nothing.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import invariant, precondition, rule

from server.core import protocol as p
from server.core.matchmaking import Matchmaker, Where
from server.core.resume import Claim, QueueClaim, SessionClaim

from .test_matchmaking_properties import COOLDOWN, MatchmakingMachine, Pairing, installs

GRACE = 20.0


class ResumeMachine(MatchmakingMachine):
    def __init__(self) -> None:
        super().__init__()
        self.tickets: list[Claim] = []
        self.epochs: dict[str, int] = {}  # sides resumed so far; a matched side is at 0
        self.fresh = (f"r{n}" for n in itertools.count())
        self.nonces = (f"n{n}" for n in itertools.count())

    def make_core(self, new_session_id: Callable[[], str]) -> Pairing:
        return Matchmaker(rematch_cooldown=COOLDOWN, new_session_id=new_session_id, resume_grace=GRACE)

    @property
    def mm(self) -> Matchmaker:
        assert isinstance(self.core, Matchmaker)
        return self.core

    def claim_of(self, cid: str) -> Claim | None:
        """The ticket `cid` holds now, as the shell would have minted it."""
        wish = self.core.wish_of(cid)
        session = self.core.session_of(cid)
        if session is not None and wish is not None:
            partner = session.partner_of(cid)
            theirs = self.core.wish_of(partner) if self.core.is_connected(partner) else wish
            assert theirs is not None
            return SessionClaim(session.id, session.initiator == cid, self.epochs.get(cid, 0), wish.mode,
                                wish.topic, theirs.mode, theirs.topic, cid)
        if self.core.where(cid) is Where.QUEUED and wish is not None and not wish.favourites:
            return QueueClaim(wish.mode, wish.topic, 1.0, next(self.nonces), 1e12, cid)
        return None

    # --- the new events -----------------------------------------------------------------

    @precondition(lambda self: self.connected)
    @rule(data=st.data())
    def drop(self, data: st.DataObject) -> None:
        cid = data.draw(st.sampled_from(sorted(self.connected)))
        claim = self.claim_of(cid)
        session = self.core.session_of(cid)
        out = self.mm.disconnect(cid, self.now, hold=True)
        self.connected.discard(cid)
        if claim is not None:
            self.tickets.append(claim)
        if session is not None:
            partner = session.partner_of(cid)
            expected = [(partner, p.PartnerReconnecting(session.id))] if self.core.is_connected(partner) else []
            assert out == expected
            assert self.mm.away.is_away(cid)
        else:
            assert out == []

    def _resume(self, claim: Claim, install: str | None) -> None:
        new = next(self.fresh)
        self.core.connect(new, install=install)
        self.installs[new] = install
        self.connected.add(new)
        self.ever_connected.add(new)
        if isinstance(claim, SessionClaim):
            out = self.attempt(self.mm.resume_session, new, claim, self.now)
        else:
            out = self.attempt(self.mm.resume_queue, new, claim, self.now)
        if out is None:
            return
        for cid, message in out:
            if isinstance(message, p.Replaced):
                self.connected.discard(cid)
        if any(isinstance(m, p.Resumed) for _, m in out):
            assert isinstance(claim, SessionClaim)
            session = self.core.session_of(new)
            assert session is not None
            # The partner is named by the installation it was matched or resumed with (none when rebuilt).
            [resumed] = [m for c, m in out if isinstance(m, p.Resumed)]
            assert resumed.partner.avoid == session.install_of(session.partner_of(new))
            self.epochs[new] = claim.epoch + 1
            assert self.core.where(new) is Where.IN_SESSION
        if isinstance(claim, QueueClaim):
            assert (new, p.Queued(claim.mode, claim.topic)) in out

    @precondition(lambda self: self.tickets)
    @rule(data=st.data(), install=installs)
    def resume(self, data: st.DataObject, install: str | None) -> None:
        self._resume(data.draw(st.sampled_from(self.tickets)), install)

    @precondition(lambda self: self.connected)
    @rule(data=st.data(), install=installs)
    def take_over(self, data: st.DataObject, install: str | None) -> None:
        """A new connection resumes a side whose old socket the server has not seen die."""
        claim = self.claim_of(data.draw(st.sampled_from(sorted(self.connected))))
        if isinstance(claim, SessionClaim):
            self._resume(claim, install)

    # --- the old events, where an away partner changes what is sent -------------------

    @precondition(lambda self: self.connected)
    @rule(data=st.data(), stale=st.booleans())
    def signal(self, data: st.DataObject, stale: bool) -> None:
        cid = data.draw(st.sampled_from(sorted(self.connected)))
        session = self.core.session_of(cid)
        named = "s-unknown" if stale or session is None else session.id
        out = self.attempt(self.core.signal, cid, named, {"n": 1})
        if session is None or stale:
            assert out is None
        elif self.mm.away.is_away(session.partner_of(cid)):
            assert out == [], "kept for the away partner"
        else:
            assert out == [(session.partner_of(cid), p.Signal(session.id, {"n": 1}))]

    @precondition(lambda self: self.connected)
    @rule(data=st.data())
    def disconnect(self, data: st.DataObject) -> None:
        cid = data.draw(st.sampled_from(sorted(self.connected)))
        session = self.core.session_of(cid)
        out = self.core.disconnect(cid, self.now)
        self.connected.discard(cid)
        if session is not None and self.core.is_connected(session.partner_of(cid)):
            assert out == [(session.partner_of(cid), p.PartnerLeft(session.id, "disconnected"))]
        else:
            assert out == []

    @precondition(lambda self: self.connected)
    @rule(data=st.data())
    def leave(self, data: st.DataObject) -> None:
        cid = data.draw(st.sampled_from(sorted(self.connected)))
        out = self.attempt(self.core.leave, cid, self.now)
        assert out is not None and out[-1] == (cid, p.Idle())
        assert self.core.where(cid) is Where.IDLE

    @rule(seconds=st.sampled_from([0.5, 3.0, COOLDOWN, GRACE]))
    def wait(self, seconds: float) -> None:
        self.now += seconds
        out = self.attempt(self.core.tick, self.now)
        assert out is not None
        for cid, message in out:
            assert isinstance(message, p.Matched) or message.reason == "timeout"  # type: ignore[union-attr]
            assert self.core.is_connected(cid)
        for side in self.mm.away.sides.values():
            assert side.deadline > self.now or self.mm.session_by_id(side.session) is not None

    # --- invariants with away sides ---------------------------------------------------------

    @invariant()
    def everyone_is_in_exactly_one_place(self) -> None:
        queued = [c for m in p.MODES for c in self.core.waiting_order(m)]
        in_sessions = [c for s in self.core.sessions() for c in (s.initiator, s.responder)]
        assert len(queued) == len(set(queued)) and len(in_sessions) == len(set(in_sessions))
        assert not set(queued) & set(in_sessions)
        assert set(queued) <= self.connected, "nobody dropped stays in the queue"
        for cid in in_sessions:
            assert (cid in self.connected) != self.mm.away.is_away(cid), "a side is connected or away"
        for cid in self.connected:
            where = self.core.where(cid)
            assert (where is Where.QUEUED) == (cid in queued)
            assert (where is Where.IN_SESSION) == (cid in in_sessions)

    @invariant()
    def pairs_are_symmetric(self) -> None:
        for session in self.core.sessions():
            assert session.initiator != session.responder
            for side in (session.initiator, session.responder):
                if self.core.is_connected(side):
                    assert self.core.session_of(side) == session
                else:
                    assert self.mm.away.sides[side].session == session.id

    @invariant()
    def a_session_waits_only_for_someone(self) -> None:
        for session in self.core.sessions():
            assert any(self.core.is_connected(s) for s in (session.initiator, session.responder)) or all(
                self.mm.away.is_away(s) for s in (session.initiator, session.responder))


TestResume = ResumeMachine.TestCase
# Four times the examples of the profile: a drop, then a resume or a take-over, needs a pair first.
TestResume.settings = settings(TestResume.settings, stateful_step_count=60,
                               max_examples=4 * settings().max_examples)
