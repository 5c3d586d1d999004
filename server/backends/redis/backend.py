"""The Redis backend: many server processes, one shared queue.

Every decision about the queue is one operation of `scripts/matchmaking.lua`
(see `script.py` for what Python and the script share), done atomically, so
instances racing each other can never pair a client twice. The script
publishes the resulting messages to the channel of the instance that owns the
receiving connection (one PUBLISH per instance per run: `link.py` batches the
operations); each instance subscribes to its own channel and passes messages
on through `deliver`.

Why pub/sub rather than streams: a pairing or a relayed signal is then one
round trip (the script publishes while it decides), and a message costs no
storage nor trimming. What pub/sub loses, messages published while our
subscription reconnects, is caught up from the truth instead of replayed:
after every reconnect each local client is `sync`ed (the script re-reads its
state into the same ordered stream and `sync.reconcile` tells the
client what it missed: `matched`, `partner_left`, `queued` or `idle`).
Relayed `signal`s lost in that window are not recovered; they belong to a
call being set up while the server was unreachable, and the client's own
timeout (skip) is the way out. With streams they would survive a subscriber
reconnect but not a Redis restart without persistence either.

The link to Redis (the pool, the subscription, the lease, the batches,
reconnecting and stopping tasks safely) is `link.py`'s; this module is what the replies
and the published messages mean for this instance's clients.

Resuming (docs/protocol.md, "Resuming after a dropped socket"; the script's
`sessions.lua`): a resumable client whose socket drops, or whose instance
dies or retires (SIGTERM), leaves its side of its session in Redis for the
grace period, so it resumes through any instance; `resume` is one script
operation, so two connections racing with one ticket cannot both win. The
messages it causes (`resumed`, `partner_resumed`, `replaced`, kept signals)
go to the instances of their receivers like every other message. Instances
must share the ticket key (the shell's), as they share Redis.

Redis down: connections stay up; queued clients get `backend_unavailable`,
requests are refused with it, disconnects are remembered and replayed; when
the link is back every client is synced (Redis restarted empty: sessions end
with `partner_left` reason `disconnected`, waiting clients are queued again
with the wish kept here).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import time
from collections.abc import Callable
from typing import Any

from server.backends.base import BackendStats, Deliver, ReportedPartner
from server.backends.redis.abuse import AbuseLimits, RedisAbuseStore
from server.backends.redis.counts import ENTRY_TTL, counts_key, encode, others_of
from server.backends.redis.link import LinkHooks, RedisLink, Unavailable, new_session_id
from server.backends.redis.script import (
    DEFAULT_PREFIX,
    Outcome,
    RedisKeys,
    Reply,
    SharedStats,
    Truth,
    decode_envelopes,
    wire_favourites,
    wire_length,
    wire_terms,
    wire_topic,
)
from server.backends.redis.sync import ClientView, admit, reconcile
from server.core import protocol as p
from server.core import texts
from server.core.abuse import penalty_refusal
from server.core.counts import Figures
from server.core.matchmaking import refusal  # the script refuses with the core's names and words
from server.core.resume import Claim, SessionClaim
from server.core.rules import DEFAULT_REMATCH_COOLDOWN, MAX_AVOIDED, Wish


class RedisBackend:
    """Shares the queue, the sessions and the relay between any number of servers."""

    name = "redis"

    def __init__(
        self,
        *,
        url: str,
        rematch_cooldown: float = DEFAULT_REMATCH_COOLDOWN,
        resume_grace: float = 60.0,
        ticket_ttl: float = 600.0,
        prefix: str = DEFAULT_PREFIX,
        lease: float = 3.0,
        heartbeat: float = 0.5,
        max_backoff: float = 2.0,
        start_timeout: float = 5.0,
        socket_timeout: float = 2.0,
        max_connections: int = 64,
        study_minute: float = 60.0,
    ) -> None:
        self.url = url
        self._study_minute_ms = round(study_minute * 1000)
        self.instance = secrets.token_hex(6)
        self.keys = RedisKeys(prefix)
        self._link = RedisLink(
            url=url, instance=self.instance, keys=self.keys,
            hooks=LinkHooks(self._on_reply, self._on_envelope, self._on_down, self._catch_up, self._sync_all),
            cooldown=rematch_cooldown, resume_grace=resume_grace, ticket_ttl=ticket_ttl, lease=lease, heartbeat=heartbeat, max_backoff=max_backoff,
            start_timeout=start_timeout, socket_timeout=socket_timeout, max_connections=max_connections,
        )
        self._deliver: Deliver = lambda client_id, message: None
        self._observe_wait: Callable[[float], None] = lambda seconds: None
        self._views: dict[str, ClientView] = {}
        self._abuse_keys: dict[str, str] = {}  # only those that differ from the connection id
        self._resumable: set[str] = set()
        # What Redis is told again if it forgets a client (a restart): its installation, the
        # installations it avoids (oldest first), its last find's rendezvous tokens.
        self._installs: dict[str, str] = {}
        self._avoided: dict[str, dict[str, None]] = {}
        self._favourites: dict[str, tuple[str, ...]] = {}
        self._pending_disconnects: dict[str, bool] = {}  # id -> hold
        self._sync_waiters: dict[str, list[asyncio.Future[None]]] = {}
        self._shared = SharedStats({mode: 0 for mode in p.MODES}, 0, 0)

    # --- lifecycle ----------------------------------------------------------------

    def wall_ms(self) -> int:
        """Redis' clock, as the sessions' `started_at` are (server/backends/redis/clock.py)."""
        return time.time_ns() // 1_000_000 + round(self._link.clock_offset_ms)

    def attach(self, deliver: Deliver, observe_wait: Callable[[float], None]) -> None:
        self._deliver = deliver
        self._observe_wait = observe_wait

    async def start(self) -> None:
        await self._link.start()

    async def close(self) -> None:
        with contextlib.suppress(Unavailable):  # the others stop counting our clients now
            await self._link.run_counts([counts_key(self.keys)], [self.instance, "", str(round(ENTRY_TTL * 1000))])
        await self._link.close()

    # --- requests -------------------------------------------------------------------

    async def connect(
        self, client_id: str, abuse_key: str | None = None, *, resumable: bool = False, install: str | None = None,
    ) -> None:
        self._views[client_id] = ClientView()
        if install is not None:
            self._installs[client_id] = install
        if abuse_key is not None and abuse_key != client_id:
            self._abuse_keys[client_id] = abuse_key
        if resumable:
            self._resumable.add(client_id)
        if self._link.healthy:
            with contextlib.suppress(Unavailable):
                # else created by the sync on reconnect
                await self._link.call(
                    "connect", client_id, self._abuse_keys.get(client_id, ""), "1" if resumable else "0",
                    install or "",
                )

    async def resume(self, client_id: str, claim: Claim) -> None:
        view = self._views.get(client_id)
        if view is None:
            return
        # Reports about the resumed client follow the key its ticket carries, here too.
        if claim.abuse_key != client_id:
            self._abuse_keys[client_id] = claim.abuse_key
        else:
            self._abuse_keys.pop(client_id, None)
        key = self._abuse_keys.get(client_id, "")
        if isinstance(claim, SessionClaim):
            view.resuming = claim.session  # lets the session's `partner_left` through (sync.py)
            try:
                await self._request(
                    "resume_session", client_id, claim.session, "1" if claim.initiator else "0", str(claim.epoch),
                    claim.mode, wire_topic(claim.topic), claim.partner_mode, wire_topic(claim.partner_topic), key,
                    *wire_terms(claim.terms), wire_length(claim.length), wire_topic(claim.talk),
                )
            except p.ProtocolError:
                view.resuming = None
                raise
        else:
            await self._request(
                "resume_queue", client_id, claim.mode, wire_topic(p.normalize_topic(claim.topic)),
                repr(float(claim.waited)), claim.nonce, repr(float(claim.expires)), key, new_session_id(),
                self._penalty(client_id), wire_length(claim.length), wire_topic(claim.talk),
            )

    async def find(
        self, client_id: str, mode: str, topic: str | None, length: int | None = None, talk: str | None = None,
        favourites: tuple[str, ...] = (),
    ) -> None:
        favourites = tuple(dict.fromkeys(favourites))
        await self._request(
            "find", client_id, mode, wire_topic(p.normalize_topic(topic)), new_session_id(), self._penalty(client_id),
            wire_length(length), wire_topic(talk), wire_favourites(favourites),
        )
        if client_id in self._views:
            self._favourites[client_id] = favourites

    async def avoid(self, client_id: str, installs: list[str]) -> int:
        """In Redis, where every instance's pairing reads it; kept here too, for a Redis that forgets."""
        outcome = await self._request("avoid", client_id, json.dumps(installs, separators=(",", ":")))
        if outcome is None:
            return 0  # disconnected meanwhile
        avoided = self._avoided.setdefault(client_id, {})
        for install in installs:
            avoided[install] = None
        while len(avoided) > MAX_AVOIDED:
            del avoided[next(iter(avoided))]
        return int(outcome.detail)

    async def cancel(self, client_id: str) -> None:
        await self._request("cancel", client_id)

    async def skip(self, client_id: str) -> None:
        await self._request("skip", client_id, new_session_id(), self._penalty(client_id))

    def _penalty(self, client_id: str) -> str:
        """The key of the report penalty a find or skip of this client must not be serving
        (the script checks it in the same step; see `abuse_store`)."""
        return self.keys.penalty(self._abuse_keys.get(client_id, client_id))

    async def leave(self, client_id: str) -> None:
        await self._request("leave", client_id)

    async def report(self, client_id: str, session: str, reason: str) -> ReportedPartner | None:
        # The script ends the session and names the partner in the same step: no extra
        # round trip, and nobody can change partners in between.
        outcome = await self._request("report", client_id, session)
        if outcome is None or not outcome.detail:
            return None  # nobody known: a rebuilt session whose partner never came back
        partner, key = json.loads(outcome.detail)
        return ReportedPartner(partner, key)

    async def signal(self, client_id: str, session: str, data: dict[str, Any]) -> None:
        await self._request("signal", client_id, session, json.dumps(data, separators=(",", ":")))

    async def disconnect(self, client_id: str, *, hold: bool = False) -> None:
        self._abuse_keys.pop(client_id, None)
        self._resumable.discard(client_id)
        self._forget_comeback(client_id)
        if self._views.pop(client_id, None) is None:
            return
        if self._link.healthy:
            try:
                await self._link.call("disconnect", client_id, "1" if hold else "0")
                return
            except Unavailable:
                pass
        self._pending_disconnects[client_id] = hold  # replayed as soon as Redis is back

    async def _request(self, op: str, client_id: str, *args: str) -> Outcome | None:
        if client_id not in self._views:
            return None
        unavailable = p.ProtocolError(p.ErrorCode.BACKEND_UNAVAILABLE, texts.BACKEND_UNAVAILABLE)
        if not self._link.healthy:
            raise unavailable
        try:
            outcome = await self._link.call(op, client_id, *args)
            if outcome.status == "gone":
                # Redis forgot this client (restart, or we were taken for dead):
                # tell it what it missed, then do what it asked.
                await self._sync_and_wait(client_id)
                if client_id not in self._views:
                    return None  # the sync found its place taken by a resume: it was told `replaced`
                outcome = await self._link.call(op, client_id, *args)
        except Unavailable:
            raise unavailable from None
        if outcome.status == "err":
            raise refusal(outcome.detail)
        if outcome.status == "penalty":
            raise penalty_refusal(float(outcome.detail))
        if outcome.status != "ok":
            raise unavailable
        return outcome

    # --- report penalties, shared (abuse.py) -----------------------------------------------

    def abuse_store(self, threshold: int, window: float, penalty: float) -> RedisAbuseStore:
        """The shell's `AbuseStore`: every instance counts the same reports. Its penalty check
        is this backend's `find` and `skip`, in the pairing script's step (`checked_by_pairing`):
        a round trip less for each, and nothing can change in between."""
        return RedisAbuseStore(
            self._link.run_abuse, self.keys, AbuseLimits(threshold, window, penalty), checked_by_pairing=True,
        )

    # --- what the link hears, and catching up (server/backends/redis/link.py calls these) ----------

    def _on_reply(self, reply: Reply) -> None:
        self._shared = reply.stats
        for seconds in reply.waits:
            self._observe_wait(seconds)

    def _on_envelope(self, payload: bytes | str) -> None:
        for client_id, msg in decode_envelopes(payload, self._study_minute_ms):
            view = self._views.get(client_id)
            if view is None:
                continue  # disconnected meanwhile; the script has been or will be told
            if isinstance(msg, Truth):
                for caught_up in reconcile(view, msg):
                    self._deliver(client_id, caught_up)
                self._synced(client_id)
            else:
                for passed in admit(view, msg):
                    self._deliver(client_id, passed)
                if isinstance(msg, p.Replaced):
                    # Another connection holds its side now; the shell closes this one,
                    # and nothing of it is left for Redis to hear of.
                    self._forget(client_id)
                    self._synced(client_id)

    def _forget(self, client_id: str) -> None:
        self._views.pop(client_id, None)
        self._abuse_keys.pop(client_id, None)
        self._resumable.discard(client_id)
        self._forget_comeback(client_id)

    def _forget_comeback(self, client_id: str) -> None:
        self._installs.pop(client_id, None)
        self._avoided.pop(client_id, None)
        self._favourites.pop(client_id, None)

    def _synced(self, client_id: str) -> None:
        for waiter in self._sync_waiters.pop(client_id, []):
            if not waiter.done():
                waiter.set_result(None)

    def _on_down(self) -> None:
        for client_id, view in list(self._views.items()):
            if view.where == "q" and not view.told_unavailable:
                view.told_unavailable = True
                self._deliver(client_id, p.Error(p.ErrorCode.BACKEND_UNAVAILABLE, texts.BACKEND_UNAVAILABLE_QUEUED))
        for waiters in self._sync_waiters.values():
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_exception(Unavailable())
        self._sync_waiters.clear()

    async def _catch_up(self) -> int:
        """After a reconnect: replay the disconnects Redis missed, then sync everyone."""
        for client_id, hold in list(self._pending_disconnects.items()):
            await self._link.call("disconnect", client_id, "1" if hold else "0")
            self._pending_disconnects.pop(client_id, None)
        # Whatever was published while we were away is lost: catch up from the truth.
        await self._sync_all()
        return len(self._views)

    async def _sync(self, client_id: str) -> None:
        view = self._views.get(client_id)
        if view is None:
            return
        wish = view.wish if view.wish is not None else Wish("", None)
        requeue = "1" if view.where == "q" else "0"
        await self._link.call(
            "sync", client_id, requeue, wish.mode, wire_topic(wish.topic), new_session_id(),
            self._abuse_keys.get(client_id, ""), "1" if client_id in self._resumable else "0",
            view.session or "", wire_length(wish.length), wire_topic(wish.talk),
            self._installs.get(client_id, ""), wire_favourites(self._favourites.get(client_id, ())),
            json.dumps(list(self._avoided.get(client_id, ())), separators=(",", ":")) if client_id in self._avoided else "",
        )

    async def _sync_all(self) -> None:
        ids = list(self._views)
        batch = max(1, self._link.max_connections // 2)  # in groups: requests get runs in between
        for start in range(0, len(ids), batch):
            await asyncio.gather(*(self._sync(cid) for cid in ids[start:start + batch]))

    async def _sync_and_wait(self, client_id: str) -> None:
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        waiters = self._sync_waiters.setdefault(client_id, [])
        waiters.append(done)
        try:
            await self._sync(client_id)
            async with asyncio.timeout(self._link.lease):
                await done
        except TimeoutError:
            raise Unavailable from None
        finally:
            # However this ends (the sync refused, the link went down and `_on_down` failed
            # the waiter, a timeout), nobody awaits `done` any more: settle it, read it.
            if not done.done():
                done.cancel()
            elif not done.cancelled():
                done.exception()
            if done in waiters:
                waiters.remove(done)
            if not waiters and self._sync_waiters.get(client_id) is waiters:
                del self._sync_waiters[client_id]

    # --- stats ---------------------------------------------------------------------------

    async def refresh_stats(self) -> None:
        """Read the shared counts now rather than at the next heartbeat."""
        with contextlib.suppress(Unavailable):
            await self._link.call("stats")

    async def share_counts(self, mine: Figures) -> Figures | None:
        """Ours into the shared hash, the other instances' out (`counts.py`); None: Redis is down."""
        try:
            reply = await self._link.run_counts(
                [counts_key(self.keys)], [self.instance, encode(mine), str(round(ENTRY_TTL * 1000))]
            )
        except Unavailable:
            return None
        return others_of(reply)

    def stats(self) -> BackendStats:
        shared = self._shared
        healthy = self._link.healthy
        last_error = self._link.last_error
        return BackendStats(
            waiting=dict(shared.waiting),
            sessions=shared.sessions,
            matches_total=shared.matches_total,
            healthy=healthy,
            details={
                "name": self.name,
                "instance": self.instance,
                "redis": "up" if healthy else "down",
                "local_clients": len(self._views),
                "outages": self._link.outages,  # times this instance lost Redis since it started
                **({"last_error": last_error} if not healthy and last_error else {}),
            },
        )
