"""The Redis backend: many server processes, one shared queue.

Every decision about the queue is one run of `redis_scripts/matchmaking.lua`
(see `redis_script.py` for what Python and the script share), so instances
racing each other can never pair a client twice. The script publishes every
resulting message to the channel of the instance that owns the receiving
connection; each instance subscribes to its own channel and passes messages
on through `deliver`.

Why pub/sub rather than streams: a pairing or a relayed signal is then one
round trip (the script publishes while it decides), and a message costs no
storage nor trimming. What pub/sub loses, messages published while our
subscription reconnects, is caught up from the truth instead of replayed:
after every reconnect each local client is `sync`ed (the script re-reads its
state into the same ordered stream and `redis_sync.reconcile` tells the
client what it missed: `matched`, `partner_left`, `queued` or `idle`).
Relayed `signal`s lost in that window are not recovered; they belong to a
call being set up while the server was unreachable, and the client's own
timeout (skip) is the way out. With streams they would survive a subscriber
reconnect but not a Redis restart without persistence either.

Liveness: each instance renews a lease (`beat`, every `heartbeat` seconds);
every beat also reaps the clients of instances whose lease expired (a
SIGKILLed server) so their partners get `partner_left` and the queue forgets
them, and pairs waiters whose rematch cool-down just ended.

Stopping tasks: Python 3.11's `asyncio.wait_for`, which redis-py uses to send
every command, loses a cancellation that lands in the loop iteration where
the write completes (the caller gets the result instead of CancelledError).
A cancelled heartbeat could then beat on forever, and whoever awaited it
(a reconnect, `close`) with it. So no task of ours is stopped by one
`cancel()`: `_stop` cancels again until it ends, within a bound, and the
loops also check `_closing`.

Redis down: connections stay up; queued clients get `backend_unavailable`,
requests are refused with it, disconnects are remembered and replayed; a
reconnect loop with backoff brings everything back and syncs every client
(Redis restarted empty: sessions end with `partner_left` reason
`disconnected`, waiting clients are queued again with the wish kept here).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
from collections.abc import Callable
from typing import Any, Final

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ReadOnlyError
from redis.exceptions import TimeoutError as RedisTimeoutError

from . import protocol as p
from .backend import BackendStats, Deliver, ReportedPartner
from .redis_abuse import ABUSE_SCRIPT_TEXT, AbuseLimits, AbuseUnavailable, RedisAbuseStore
from .redis_script import (
    DEFAULT_PREFIX,
    SCRIPT_TEXT,
    RedisKeys,
    Reply,
    SharedStats,
    Truth,
    decode_envelope,
    parse_reply,
    refusal,
    script_args,
    wire_topic,
)
from .redis_sync import ClientView, admit, reconcile
from .rules import DEFAULT_REMATCH_COOLDOWN

log = logging.getLogger("studymatch.server.redis")

# Sentences for people, in one place for this backend.
UNAVAILABLE_REQUEST: Final = "matchmaking is unavailable right now (its database is unreachable); try again shortly"
UNAVAILABLE_QUEUED: Final = (
    "matchmaking is unavailable right now (its database is unreachable); "
    "you will be queued again as soon as it is back"
)

# Errors that mean "Redis cannot be used now" rather than a bug of ours.
_UNAVAILABLE_ERRORS: Final = (RedisConnectionError, RedisTimeoutError, ReadOnlyError, OSError)


class _Unavailable(Exception):
    pass


def _new_session_id() -> str:
    return secrets.token_urlsafe(12)


async def _stop(tasks: list[asyncio.Task[Any]], *, within: float, every: float) -> None:
    """Cancel `tasks` and wait until they end, cancelling again each `every` seconds
    (see the module's docstring: one cancel can be lost inside redis-py). Bounded by
    `within`: a task still running then is named in the log and left behind, rather
    than hanging the caller (a reconnect, or the server's shutdown) for good."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    pending = {task for task in tasks if not task.done()}
    while pending:
        left = deadline - loop.time()
        if left <= 0:
            log.warning("event=redis_task_not_stopping tasks=%s", sorted(t.get_name() for t in pending))
            return
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=min(every, left))
    for task in tasks:
        if not task.cancelled():
            task.exception()  # retrieved: the caller reads `done` for what matters


class RedisBackend:
    """Shares the queue, the sessions and the relay between any number of servers."""

    name = "redis"

    def __init__(
        self,
        *,
        url: str,
        rematch_cooldown: float = DEFAULT_REMATCH_COOLDOWN,
        prefix: str = DEFAULT_PREFIX,
        lease: float = 3.0,
        heartbeat: float = 0.5,
        max_backoff: float = 2.0,
        start_timeout: float = 5.0,
        socket_timeout: float = 2.0,
        max_connections: int = 64,
    ) -> None:
        if heartbeat <= 0 or lease <= heartbeat:
            raise ValueError("the lease must be longer than the heartbeat interval")
        self.url = url
        self.instance = secrets.token_hex(6)
        self.keys = RedisKeys(prefix)
        self._key_list = self.keys.script_keys()
        self._cooldown = rematch_cooldown
        self._lease = lease
        self._heartbeat = heartbeat
        self._max_backoff = max_backoff
        self._start_timeout = start_timeout
        self._socket_timeout = socket_timeout
        self._max_connections = max_connections
        self._slots = asyncio.Semaphore(max_connections)
        self._deliver: Deliver = lambda client_id, message: None
        self._observe_wait: Callable[[float], None] = lambda seconds: None
        self._views: dict[str, ClientView] = {}
        self._abuse_keys: dict[str, str] = {}  # only those that differ from the connection id
        self._pending_disconnects: set[str] = set()
        self._sync_waiters: dict[str, list[asyncio.Future[None]]] = {}
        self._shared = SharedStats({mode: 0 for mode in p.MODES}, 0, 0)
        self._healthy = False
        self._last_error = ""
        self._trouble = asyncio.Event()
        self._ready = asyncio.Event()
        self._supervisor: asyncio.Task[None] | None = None
        self._closing = False
        self._redis: aioredis.Redis | None = None
        self._pubsub: Any = None
        self.outages = 0

    # --- lifecycle ----------------------------------------------------------------

    def attach(self, deliver: Deliver, observe_wait: Callable[[float], None]) -> None:
        self._deliver = deliver
        self._observe_wait = observe_wait

    async def start(self) -> None:
        # No retries inside redis-py: a script that timed out may have run, and
        # running it twice could decide twice. Recovery is ours (sync).
        # A bounded pool; `_slots` keeps script calls within it, so a burst of
        # requests waits for a connection rather than fails.
        pool = aioredis.BlockingConnectionPool.from_url(
            self.url,
            max_connections=self._max_connections + 4,  # + the subscription (old and new)
            timeout=self._socket_timeout,
            retry=Retry(NoBackoff(), 0),
            socket_timeout=self._socket_timeout,
            socket_connect_timeout=self._socket_timeout,
            client_name=f"studymatch-{self.instance}",
        )
        self._redis = aioredis.Redis(connection_pool=pool)
        self._script = self._redis.register_script(SCRIPT_TEXT)
        self._abuse_script = self._redis.register_script(ABUSE_SCRIPT_TEXT)
        self._supervisor = asyncio.create_task(self._run(), name=f"redis-backend-{self.instance}")
        try:
            async with asyncio.timeout(self._start_timeout):
                await self._ready.wait()
        except TimeoutError:
            log.warning("event=redis_unavailable_at_start url=%s error=%s", self.url, self._last_error)

    async def close(self) -> None:
        self._closing = True
        if self._healthy:
            with contextlib.suppress(_Unavailable, TimeoutError):
                async with asyncio.timeout(self._socket_timeout):
                    await self._call("retire")  # our clients leave now rather than at lease expiry
        self._healthy = False
        if self._supervisor is not None:
            # Its own clean-up (stopping listener and heartbeat) takes one more round of
            # cancels at most: ask again only after a while, not in the middle of that.
            await _stop([self._supervisor], within=self._socket_timeout * 2, every=0.5)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self._socket_timeout):
                await self._close_pubsub()
                if self._redis is not None:
                    await self._redis.aclose(close_connection_pool=True)

    # --- requests -------------------------------------------------------------------

    async def connect(self, client_id: str, abuse_key: str | None = None) -> None:
        self._views[client_id] = ClientView()
        if abuse_key is not None and abuse_key != client_id:
            self._abuse_keys[client_id] = abuse_key
        if self._healthy:
            with contextlib.suppress(_Unavailable):
                # else created by the sync on reconnect
                await self._call("connect", client_id, self._abuse_keys.get(client_id, ""))

    async def find(self, client_id: str, mode: str, topic: str | None) -> None:
        await self._request("find", client_id, mode, wire_topic(p.normalize_topic(topic)), _new_session_id())

    async def cancel(self, client_id: str) -> None:
        await self._request("cancel", client_id)

    async def skip(self, client_id: str) -> None:
        await self._request("skip", client_id, _new_session_id())

    async def leave(self, client_id: str) -> None:
        await self._request("leave", client_id)

    async def report(self, client_id: str, session: str, reason: str) -> ReportedPartner | None:
        # The script ends the session and names the partner in the same run: no extra
        # round trip, and nobody can change partners in between.
        reply = await self._request("report", client_id, session)
        if reply is None:
            return None
        partner, key = json.loads(reply.detail)
        return ReportedPartner(partner, key)

    async def signal(self, client_id: str, session: str, data: dict[str, Any]) -> None:
        await self._request("signal", client_id, session, json.dumps(data, separators=(",", ":")))

    async def disconnect(self, client_id: str) -> None:
        self._abuse_keys.pop(client_id, None)
        if self._views.pop(client_id, None) is None:
            return
        if self._healthy:
            try:
                await self._call("disconnect", client_id)
                return
            except _Unavailable:
                pass
        self._pending_disconnects.add(client_id)  # replayed as soon as Redis is back

    async def _request(self, op: str, client_id: str, *args: str) -> Reply | None:
        if client_id not in self._views:
            return None
        unavailable = p.ProtocolError(p.ErrorCode.BACKEND_UNAVAILABLE, UNAVAILABLE_REQUEST)
        if not self._healthy:
            raise unavailable
        try:
            reply = await self._call(op, client_id, *args)
            if reply.status == "gone":
                # Redis forgot this client (restart, or we were taken for dead):
                # tell it what it missed, then do what it asked.
                await self._sync_and_wait(client_id)
                reply = await self._call(op, client_id, *args)
        except _Unavailable:
            raise unavailable from None
        if reply.status == "err":
            raise refusal(reply.detail)
        if reply.status != "ok":
            raise unavailable
        return reply

    # --- report penalties, shared (server/redis_abuse.py) ----------------------------------

    def abuse_store(self, threshold: int, window: float, penalty: float) -> RedisAbuseStore:
        """The shell's `AbuseStore`: every instance counts the same reports."""
        return RedisAbuseStore(self._run_abuse, self.keys, AbuseLimits(threshold, window, penalty))

    async def _run_abuse(self, keys: list[str], args: list[str]) -> Any:
        if not self._healthy:
            raise AbuseUnavailable  # at once: a find must not wait for a Redis known to be down
        try:
            async with self._slots:
                return await self._abuse_script(keys=keys, args=args)
        except _UNAVAILABLE_ERRORS as exc:
            # The supervisor notices on its own (heartbeat); this only fails open.
            raise AbuseUnavailable from exc

    # --- talking to Redis ----------------------------------------------------------------

    async def _call(self, op: str, *args: str) -> Reply:
        try:
            # Waiting for a free connection is load, not an outage: queue here, so the
            # pool (sized above this) never refuses and only Redis' silence counts.
            async with self._slots:
                raw = await self._script(
                    keys=self._key_list,
                    args=script_args(
                        op, *args, instance=self.instance, cooldown=self._cooldown, lease=self._lease,
                        keys=self.keys,
                    ),
                )
        except _UNAVAILABLE_ERRORS as exc:
            self._report_trouble(exc)
            raise _Unavailable from exc
        reply = parse_reply(raw)
        self._shared = reply.stats
        for seconds in reply.waits:
            self._observe_wait(seconds)
        return reply

    def _report_trouble(self, exc: BaseException) -> None:
        self._last_error = f"{type(exc).__name__}: {exc}"[:200]
        self._trouble.set()
        self._mark_down()

    async def _sync(self, client_id: str) -> None:
        view = self._views.get(client_id)
        if view is None:
            return
        mode, topic = view.wish if view.wish is not None else ("", None)
        requeue = "1" if view.where == "q" else "0"
        await self._call(
            "sync", client_id, requeue, mode, wire_topic(topic), _new_session_id(),
            self._abuse_keys.get(client_id, ""),
        )

    async def _sync_all(self) -> None:
        ids = list(self._views)
        batch = max(1, self._max_connections // 2)  # leave connections for requests
        for start in range(0, len(ids), batch):
            await asyncio.gather(*(self._sync(cid) for cid in ids[start:start + batch]))

    async def _sync_and_wait(self, client_id: str) -> None:
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._sync_waiters.setdefault(client_id, []).append(done)
        await self._sync(client_id)
        try:
            async with asyncio.timeout(self._lease):
                await done
        except TimeoutError:
            raise _Unavailable from None

    # --- the connection's life: connect, serve, fall, come back ----------------------

    async def _run(self) -> None:
        delay = 0.05
        while not self._closing:
            try:
                # Bounded: a Redis that accepts but does not answer is a Redis that is down.
                async with asyncio.timeout(self._socket_timeout * 10):
                    await self._connect_once()
                delay = 0.05
                await self._serve()
            except (*_UNAVAILABLE_ERRORS, TimeoutError) as exc:
                self._report_trouble(exc)
            except _Unavailable:
                pass
            except Exception:
                # A bug must not end the recovery loop for good; say it loudly and go on.
                log.exception("event=redis_backend_failed instance=%s", self.instance)
            if self._closing:
                return
            self._mark_down()
            await self._close_pubsub()
            log.warning("event=redis_down error=%r retry_in=%.2f", self._last_error, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._max_backoff)

    async def _connect_once(self) -> None:
        assert self._redis is not None
        self._trouble.clear()
        # Idle sockets from before an outage would each fail once more, each a new
        # outage; sockets in use are left to the requests using them.
        await self._redis.connection_pool.disconnect(inuse_connections=False)
        pubsub = self._redis.pubsub()
        self._pubsub = pubsub
        await pubsub.subscribe(self.keys.channel(self.instance))
        await self._call("beat", _new_session_id())
        for client_id in list(self._pending_disconnects):
            await self._call("disconnect", client_id)
            self._pending_disconnects.discard(client_id)
        # Whatever was published while we were away is lost: catch up from the truth.
        await self._sync_all()
        if self._trouble.is_set():
            raise _Unavailable
        self._healthy = True
        self._ready.set()
        log.info("event=redis_up instance=%s clients=%d", self.instance, len(self._views))

    async def _serve(self) -> None:
        tasks = [
            asyncio.create_task(self._listen(), name=f"redis-listen-{self.instance}"),
            asyncio.create_task(self._beat(), name=f"redis-beat-{self.instance}"),
            asyncio.create_task(self._trouble.wait(), name=f"redis-trouble-{self.instance}"),
        ]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            await _stop(tasks, within=self._socket_timeout * 2, every=0.05)
        for task in done:
            if task.exception() is not None:
                raise task.exception()  # type: ignore[misc]
        raise _Unavailable

    async def _listen(self) -> None:
        while not self._closing:
            message = await self._pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
            if message is not None and message.get("type") == "message":
                self._on_envelope(message["data"])

    async def _beat(self) -> None:
        while not self._closing:
            await asyncio.sleep(self._heartbeat)
            reply = await self._call("beat", _new_session_id())
            if reply.detail == "new":
                # Redis forgot us (it restarted, or took us for dead): catch up.
                log.warning("event=redis_forgot_instance instance=%s", self.instance)
                await self._sync_all()

    def _on_envelope(self, payload: bytes | str) -> None:
        client_id, msg = decode_envelope(payload)
        view = self._views.get(client_id)
        if view is None:
            return  # disconnected meanwhile; the script has been or will be told
        if isinstance(msg, Truth):
            for caught_up in reconcile(view, msg):
                self._deliver(client_id, caught_up)
            for waiter in self._sync_waiters.pop(client_id, []):
                if not waiter.done():
                    waiter.set_result(None)
        else:
            for passed in admit(view, msg):
                self._deliver(client_id, passed)

    def _mark_down(self) -> None:
        if not self._healthy:
            return
        self._healthy = False
        self.outages += 1
        for client_id, view in list(self._views.items()):
            if view.where == "q" and not view.told_unavailable:
                view.told_unavailable = True
                self._deliver(client_id, p.Error(p.ErrorCode.BACKEND_UNAVAILABLE, UNAVAILABLE_QUEUED))
        for waiters in self._sync_waiters.values():
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_exception(_Unavailable())
        self._sync_waiters.clear()

    async def _close_pubsub(self) -> None:
        pubsub, self._pubsub = self._pubsub, None
        if pubsub is not None:
            with contextlib.suppress(*_UNAVAILABLE_ERRORS):
                await pubsub.aclose()

    # --- stats ---------------------------------------------------------------------------

    async def refresh_stats(self) -> None:
        """Read the shared counts now rather than at the next heartbeat."""
        with contextlib.suppress(_Unavailable):
            await self._call("stats")

    def stats(self) -> BackendStats:
        shared = self._shared
        return BackendStats(
            waiting=dict(shared.waiting),
            sessions=shared.sessions,
            matches_total=shared.matches_total,
            healthy=self._healthy,
            details={
                "name": self.name,
                "instance": self.instance,
                "redis": "up" if self._healthy else "down",
                "local_clients": len(self._views),
                **({"last_error": self._last_error} if not self._healthy and self._last_error else {}),
            },
        )
