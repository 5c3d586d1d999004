"""Resuming through the Redis backend: a dropped client, a dead or retiring instance.

Two real `RedisBackend` instances share a real redis-server; each delivers
into a recorder, as the shell's `deliver` would. A dead instance is one whose
lease ran out: `Ghost` runs the real pairing script as an instance that then
stops beating, the way a SIGKILLed server stops (test_redis_failures.py kills
a real one). The claims are what a verified ticket says
(`server/core/resume.py`); the tickets themselves are the shell's.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import redis

from integration.redis_support import RedisServer, hash_json, shared_redis, unique_prefix, until  # noqa: F401 (fixture)
from integration.wsclient import SCALE, TIMEOUT
from server.backends.redis.backend import RedisBackend
from server.backends.redis.script import SCRIPT_TEXT, Op, RedisKeys, script_args
from server.core import protocol as p
from server.core.resume import QueueClaim, SessionClaim

pytestmark = pytest.mark.redis

HEARTBEAT = 0.05
LEASE = 0.5 * SCALE
VIDEO = p.Partner("video", None)


@dataclass
class Recorder:
    """What each client was delivered, in order; `matched` and `resumed` with their `study`
    set aside, by session, so the terms each side was told can be compared."""

    got: dict[str, list[p.ServerMessage]] = field(default_factory=dict)
    studies: dict[str, list[p.Study]] = field(default_factory=dict)

    def __call__(self, client_id: str, message: p.ServerMessage) -> None:
        if isinstance(message, (p.Matched, p.Resumed)):
            assert message.study is not None
            self.studies.setdefault(message.session, []).append(message.study)
            message = dataclasses.replace(message, study=None)
        self.got.setdefault(client_id, []).append(message)

    def of(self, client_id: str) -> list[p.ServerMessage]:
        return self.got.get(client_id, [])

    async def wait_for(self, client_id: str, message: p.ServerMessage, within: float = TIMEOUT) -> None:
        try:
            await until(lambda: message in self.of(client_id), within)
        except TimeoutError:
            pytest.fail(f"{client_id} never got {message}; got {self.of(client_id)}")


@dataclass
class Place:
    backends: list[RedisBackend]
    heard: Recorder
    keys: RedisKeys
    r: redis.Redis

    async def pair(self, a: tuple[int, str], b: tuple[int, str]) -> str:
        """Two resumable clients (a on instance a[0], b on b[0]) matched; a is the initiator.
        Any topic: each test has a prefix, so a queue, of its own."""
        (ia, ida), (ib, idb) = a, b
        await self.backends[ia].connect(ida, resumable=True)
        await self.backends[ib].connect(idb, resumable=True)
        await self.backends[ia].find(ida, "video", None)
        await self.backends[ib].find(idb, "video", None)
        await until(lambda: any(isinstance(m, p.Matched) for m in self.heard.of(idb)))
        [matched] = [m for m in self.heard.of(idb) if isinstance(m, p.Matched)]
        await self.heard.wait_for(ida, p.Matched(matched.session, True, VIDEO))
        return matched.session


def claim(session: str, *, initiator: bool, epoch: int = 0, key: str = "k") -> SessionClaim:
    return SessionClaim(session, initiator, epoch, "video", None, "video", None, key)


def fresh(name: str) -> str:
    return f"{name}-{secrets.token_hex(3)}"


@contextlib.asynccontextmanager
async def place(url: str, *, count: int = 2, **options: Any) -> AsyncIterator[Place]:
    keys = RedisKeys(unique_prefix())
    heard = Recorder()
    backends = [
        RedisBackend(url=url, prefix=keys.prefix, heartbeat=HEARTBEAT, lease=LEASE, **options) for _ in range(count)
    ]
    r = redis.Redis.from_url(url)
    try:
        for backend in backends:
            backend.attach(heard, lambda seconds: None)
            await backend.start()
        yield Place(backends, heard, keys, r)
    finally:
        for backend in backends:
            await backend.close()
        r.close()


class Ghost:
    """An instance that runs the real script, then dies: it stops renewing its lease."""

    def __init__(self, url: str, keys: RedisKeys) -> None:
        self.r = redis.Redis.from_url(url)
        self.keys = keys
        self.name = fresh("ghost")
        self.script = self.r.register_script(SCRIPT_TEXT)

    def run(self, *op: str) -> None:
        ops: list[Op] = [op]
        raw = self.script(keys=self.keys.script_keys(), args=script_args(
            ops, instance=self.name, cooldown=0.0, lease=LEASE, keys=self.keys))
        [outcome] = json.loads(raw[0])
        assert outcome[0] == "ok", outcome

    async def beating(self) -> None:
        """Alive until cancelled: a loaded machine may take longer than a lease between two steps."""
        while True:
            self.run("beat", "unused")
            await asyncio.sleep(LEASE / 4)


# --- a client's socket drops and it comes back ---------------------------------------------------


@pytest.mark.parametrize("back_on", [0, 1], ids=["same_instance", "other_instance"])
async def test_a_held_side_resumes_with_its_kept_signals(shared_redis: RedisServer, back_on: int) -> None:  # noqa: F811
    async with place(shared_redis.url) as at:
        one, two, back = fresh("one"), fresh("two"), fresh("back")
        session = await at.pair((0, one), (0, two))
        await at.backends[0].disconnect(one, hold=True)
        await at.heard.wait_for(two, p.PartnerReconnecting(session))
        # What the partner sends meanwhile waits for the side: the newest 16, in order.
        for n in range(20):
            pending = at.backends[0].signal(two, session, {"n": n})
            if pending is not None:
                await pending
        assert hash_json(at.r, at.keys.sessions)[session]["da"] > 0

        await at.backends[back_on].connect(back, resumable=True)
        await at.backends[back_on].resume(back, claim(session, initiator=True))
        await at.heard.wait_for(two, p.PartnerResumed(session))
        await until(lambda: len(at.heard.of(back)) == 17)
        assert at.heard.of(back) == [
            p.Resumed(session, True, VIDEO), *(p.Signal(session, {"n": n}) for n in range(4, 20)),
        ]
        # Both `matched` and the `resumed` on either instance: the same terms, started on Redis' clock.
        told = at.heard.studies[session]
        assert len(told) == 3 and told[0].started_at > 0 and all(study == told[0] for study in told)
        # The new connection is the side now: it relays both ways, and its old ticket is spent.
        pending = at.backends[0].signal(two, session, {"to": "back"})
        if pending is not None:
            await pending
        await at.heard.wait_for(back, p.Signal(session, {"to": "back"}))
        with pytest.raises(p.ProtocolError) as refused:
            await at.backends[1 - back_on].connect(again := fresh("again"), resumable=True)
            await at.backends[1 - back_on].resume(again, claim(session, initiator=True, epoch=0))
        assert refused.value.code == p.ErrorCode.BAD_TICKET
        assert at.heard.of(again) == []
        assert at.heard.of(two) == [p.Queued("video", None), p.Matched(session, False, VIDEO), p.PartnerReconnecting(session),
                                    p.PartnerResumed(session)]


async def test_a_side_still_connected_is_replaced(shared_redis: RedisServer) -> None:  # noqa: F811
    async with place(shared_redis.url) as at:
        one, two, back = fresh("one"), fresh("two"), fresh("back")
        session = await at.pair((0, one), (1, two))
        # The server has not noticed `one`'s socket died; `one` comes back through instance 1.
        await at.backends[1].connect(back, resumable=True)
        await at.backends[1].resume(back, claim(session, initiator=True))
        await at.heard.wait_for(one, p.Replaced(session))
        await at.heard.wait_for(back, p.Resumed(session, True, VIDEO))
        await at.heard.wait_for(two, p.PartnerResumed(session))
        # The replaced connection is gone without ending anything: its close changes nothing.
        await at.backends[0].disconnect(one)
        assert await at.backends[0].report(one, session, "spam") is None
        sessions = hash_json(at.r, at.keys.sessions)
        assert (sessions[session]["a"], sessions[session]["b"]) == (back, two)
        assert one not in hash_json(at.r, at.keys.clients)
        assert p.PartnerLeft(session, "disconnected") not in at.heard.of(two)


async def test_the_grace_runs_out(shared_redis: RedisServer) -> None:  # noqa: F811
    async with place(shared_redis.url, resume_grace=0.3 * SCALE) as at:
        one, two, late = fresh("one"), fresh("two"), fresh("late")
        session = await at.pair((0, one), (1, two))
        await at.backends[0].disconnect(one, hold=True)
        await at.heard.wait_for(two, p.PartnerReconnecting(session))
        await at.heard.wait_for(two, p.PartnerLeft(session, "timeout"))
        assert session not in hash_json(at.r, at.keys.sessions)
        # Too late: the ticket is answered with how the session ended, and the client is idle.
        await at.backends[1].connect(late, resumable=True)
        await at.backends[1].resume(late, claim(session, initiator=True))
        await at.heard.wait_for(late, p.PartnerLeft(session, "timeout"))
        await at.backends[1].find(late, "audio", "after")
        await at.heard.wait_for(late, p.Queued("audio", "after"))


async def test_both_away_the_session_waits_for_both(shared_redis: RedisServer) -> None:  # noqa: F811
    async with place(shared_redis.url) as at:
        one, two, back_one, back_two = fresh("one"), fresh("two"), fresh("b1"), fresh("b2")
        session = await at.pair((0, one), (1, two))
        await at.backends[0].disconnect(one, hold=True)
        await at.backends[1].disconnect(two, hold=True)
        await at.backends[1].connect(back_two, resumable=True)
        await at.backends[1].resume(back_two, claim(session, initiator=False))
        await until(lambda: len(at.heard.of(back_two)) == 2)
        assert at.heard.of(back_two) == [p.Resumed(session, False, VIDEO), p.PartnerReconnecting(session)]
        await at.backends[0].connect(back_one, resumable=True)
        await at.backends[0].resume(back_one, claim(session, initiator=True))
        await at.heard.wait_for(back_two, p.PartnerResumed(session))
        assert at.heard.of(back_one) == [p.Resumed(session, True, VIDEO)]


@pytest.mark.parametrize("ending", ["leave", "skip", "disconnect"])
async def test_a_session_ended_while_away_answers_with_its_reason(shared_redis: RedisServer, ending: str) -> None:  # noqa: F811
    reason = {"leave": "left", "skip": "skipped", "disconnect": "disconnected"}[ending]
    async with place(shared_redis.url) as at:
        one, two, back = fresh("one"), fresh("two"), fresh("back")
        session = await at.pair((0, one), (1, two))
        await at.backends[0].disconnect(one, hold=True)
        await at.heard.wait_for(two, p.PartnerReconnecting(session))
        await getattr(at.backends[1], ending)(two)
        await at.backends[0].connect(back, resumable=True)
        await at.backends[0].resume(back, claim(session, initiator=True))
        await at.heard.wait_for(back, p.PartnerLeft(session, reason))
        assert hash_json(at.r, at.keys.clients)[back]["w"] == "i"
        assert p.PartnerLeft(session, reason) not in at.heard.of(two)  # the partner was not told of itself


async def test_a_resume_on_a_busy_connection_is_refused(shared_redis: RedisServer) -> None:  # noqa: F811
    async with place(shared_redis.url) as at:
        one, two, busy = fresh("one"), fresh("two"), fresh("busy")
        session = await at.pair((0, one), (1, two))
        await at.backends[0].disconnect(one, hold=True)
        await at.backends[0].connect(busy, resumable=True)
        await at.backends[0].find(busy, "audio", "elsewhere")
        with pytest.raises(p.ProtocolError) as refused:
            await at.backends[0].resume(busy, claim(session, initiator=True))
        assert refused.value.code == p.ErrorCode.BAD_TICKET
        assert hash_json(at.r, at.keys.sessions)[session]["a"] == one  # still kept for its owner


async def test_a_session_redis_does_not_know_is_rebuilt(shared_redis: RedisServer) -> None:  # noqa: F811
    async with place(shared_redis.url) as at:
        first, second, session = fresh("first"), fresh("second"), fresh("lost-session")
        await at.backends[0].connect(first, resumable=True)
        await at.backends[0].resume(first, SessionClaim(session, False, 3, "video", "x", "audio", "y", "key-1"))
        await until(lambda: len(at.heard.of(first)) == 2)
        assert at.heard.of(first) == [
            p.Resumed(session, False, p.Partner("audio", "y")), p.PartnerReconnecting(session),
        ]
        # The partner's first ticket is taken whatever its epoch.
        await at.backends[1].connect(second, resumable=True)
        await at.backends[1].resume(second, SessionClaim(session, True, 7, "audio", "y", "video", "x", "key-2"))
        await at.heard.wait_for(second, p.Resumed(session, True, p.Partner("video", "x")))
        await at.heard.wait_for(first, p.PartnerResumed(session))


# --- a place in line ----------------------------------------------------------------------------


async def test_a_queue_claim_goes_before_later_waiters_and_resumes_once(shared_redis: RedisServer) -> None:  # noqa: F811
    waits: list[float] = []
    async with place(shared_redis.url) as at:
        at.backends[0].attach(at.heard, waits.append)  # the newcomer's instance runs the pairing
        later, back, newcomer, again = fresh("later"), fresh("back"), fresh("new"), fresh("again")
        await at.backends[0].connect(later)
        await at.backends[0].find(later, "audio", "maths")
        nonce = secrets.token_hex(8)
        # Another topic, so the two waiters cannot pair; a newcomer open to any topic takes
        # the one who has waited longest.
        queued = QueueClaim("audio", "physics", 30.0, nonce, 2e9, "k")
        await at.backends[1].connect(back, resumable=True)
        await at.backends[1].resume(back, queued)
        await at.heard.wait_for(back, p.Queued("audio", "physics"))
        await at.backends[0].connect(newcomer)
        await at.backends[0].find(newcomer, "audio", None)
        await until(lambda: any(isinstance(m, p.Matched) for m in at.heard.of(newcomer)))
        assert [m for m in at.heard.of(back) if isinstance(m, p.Matched)], "the claim lost its place"
        assert not [m for m in at.heard.of(later) if isinstance(m, p.Matched)]
        assert max(waits) >= 30.0  # its wait counts from when it first queued
        # The same ticket again: spent.
        await at.backends[1].connect(again, resumable=True)
        with pytest.raises(p.ProtocolError) as refused:
            await at.backends[1].resume(again, queued)
        assert refused.value.code == p.ErrorCode.BAD_TICKET


async def test_a_held_waiter_leaves_the_line(shared_redis: RedisServer) -> None:  # noqa: F811
    async with place(shared_redis.url) as at:
        gone, newcomer = fresh("gone"), fresh("new")
        await at.backends[0].connect(gone, resumable=True)
        await at.backends[0].find(gone, "video", "ghosts")
        await at.backends[0].disconnect(gone, hold=True)
        await at.backends[1].connect(newcomer)
        await at.backends[1].find(newcomer, "video", "ghosts")
        assert gone not in hash_json(at.r, at.keys.clients)
        assert [m.type for m in at.heard.of(newcomer)] == ["queued"]


# --- an instance dies, or retires ---------------------------------------------------------------


async def test_a_dead_instance_s_client_resumes_on_another(shared_redis: RedisServer) -> None:  # noqa: F811
    async with place(shared_redis.url, count=1) as at:
        ghost = Ghost(shared_redis.url, at.keys)
        alive = asyncio.create_task(ghost.beating())
        try:
            doomed, survivor, back, plain, plain_partner = (
                fresh("doomed"), fresh("survivor"), fresh("back"), fresh("plain"), fresh("pp"))
            await asyncio.sleep(0)  # its first beat
            ghost.run("connect", doomed, "", "1")
            ghost.run("connect", plain, "", "0")
            ghost.run("find", doomed, "video", "dead", fresh("s"))
            await at.backends[0].connect(survivor, resumable=True)
            await at.backends[0].find(survivor, "video", "dead")
            [matched] = [m for m in at.heard.of(survivor) if isinstance(m, p.Matched)]
            session = matched.session
            # And a client that did not opt in, in a session of its own: ends as today.
            ghost.run("find", plain, "video", "plain", fresh("s"))
            await at.backends[0].connect(plain_partner)
            await at.backends[0].find(plain_partner, "video", "plain")
            [plain_match] = [m for m in at.heard.of(plain_partner) if isinstance(m, p.Matched)]

            # The ghost stops beating; the live instance's heartbeat reaps it.
            alive.cancel()
            await at.heard.wait_for(survivor, p.PartnerReconnecting(session), within=TIMEOUT + LEASE)
            await at.heard.wait_for(plain_partner, p.PartnerLeft(plain_match.session, "disconnected"))
            await at.backends[0].connect(back, resumable=True)
            # The ghost's client waited first: it is the initiator.
            await at.backends[0].resume(back, claim(session, initiator=True))
            await at.heard.wait_for(back, p.Resumed(session, True, p.Partner("video", "dead")))
            await at.heard.wait_for(survivor, p.PartnerResumed(session))
            assert p.PartnerLeft(session, "disconnected") not in at.heard.of(survivor)
        finally:
            alive.cancel()
            ghost.r.close()


async def test_a_retiring_instance_keeps_its_clients_sessions(shared_redis: RedisServer) -> None:  # noqa: F811
    async with place(shared_redis.url) as at:
        leaving, staying, back = fresh("leaving"), fresh("staying"), fresh("back")
        session = await at.pair((0, leaving), (1, staying))
        await at.backends[0].close()  # what SIGTERM does
        await at.heard.wait_for(staying, p.PartnerReconnecting(session))
        assert session in hash_json(at.r, at.keys.sessions)
        await at.backends[1].connect(back, resumable=True)
        await at.backends[1].resume(back, claim(session, initiator=True))
        await at.heard.wait_for(back, p.Resumed(session, True, VIDEO))
        await at.heard.wait_for(staying, p.PartnerResumed(session))
        assert not [m for m in at.heard.of(staying) if isinstance(m, p.PartnerLeft)]
