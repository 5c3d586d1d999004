"""One instance's link to Redis: script runs, its subscription, its lease, its outages.

`RedisLink` owns the connection pool, runs the scripts (`call` for
`scripts/matchmaking.lua`, `run_abuse` for `scripts/abuse.lua`), listens on this
instance's channel and keeps the instance alive. What the replies and the
published messages mean is the backend's (`backend.py`); the link tells
it through `LinkHooks` and knows nothing of clients.

Batches: both scripts take a list of operations, and operations asked for
while a run is under way wait for the next one (`batch.py`): under load one
script call serves many requests.

Liveness: each instance renews a lease (`beat`, every `heartbeat` seconds);
every beat also reaps the clients of instances whose lease expired (a
SIGKILLed server): the queue forgets them, a resumable client's side of its
session waits for it to resume elsewhere (its partner gets
`partner_reconnecting`), another's partner gets `partner_left`. A beat also
ends the sessions whose away side's grace ran out, and pairs waiters whose
rematch cool-down just ended. A beat runs on a
path of its own, never in the requests' batches nor behind their wait for a
connection: after a restart thousands of clients come back at once, and a
beat queued behind their requests waited out the lease, so the other
instances took a live one for dead. It waits only for the script runs
Redis is already doing (each at most `_BATCH` operations).

Redis down: the first failed call (a request's or the heartbeat's) marks the
link down at once (`on_down`). A supervisor loop reconnects with backoff:
it resubscribes, beats, lets the backend catch up (`on_up`: disconnects
replayed, every client synced), and only then calls the link healthy; trouble
during the catch-up starts it over.

Stopping tasks: Python 3.11's `asyncio.wait_for`, which redis-py uses to send
every command, loses a cancellation that lands in the loop iteration where
the write completes (the caller gets the result instead of CancelledError).
A cancelled heartbeat could then beat on forever, and whoever awaited it
(a reconnect, `close`) with it. So no task of ours is stopped by one
`cancel()`: `_stop` cancels again until it ends, within a bound, and the
loops also check `_closing`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ReadOnlyError, RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from server.backends.redis import clock
from server.backends.redis.abuse import ABUSE_SCRIPT_TEXT, AbuseUnavailable, abuse_answers, abuse_batch
from server.backends.redis.batch import Batcher
from server.backends.redis.counts import COUNTS_SCRIPT_TEXT
from server.backends.redis.script import (
    SCRIPT_TEXT,
    Op,
    Outcome,
    RedisKeys,
    Reply,
    parse_reply,
    run_keys,
    script_args,
)

log = logging.getLogger("studymatch.server.redis")

# Errors that mean "Redis cannot be used now" rather than a bug of ours.
_UNAVAILABLE_ERRORS: Final = (RedisConnectionError, RedisTimeoutError, ReadOnlyError, OSError)
# Operations in one run: bounds how long one run holds Redis (a sync of every client
# after an outage comes in batches of this size).
_BATCH: Final = 64
# Runs under way at once: one would leave Redis idle during each reply's trip; a few
# keep it busy while the batches stay large.
_RUNS: Final = 2


class Unavailable(Exception):
    """Redis cannot be used now: the link is down, or went down during the call."""


class ScriptFailed(RuntimeError):
    """The script failed on an operation: a bug, not an outage."""


# One operation of the abuse script: its KEYS and its ARGV (`abuse.Runner`).
AbuseOp = tuple[list[str], list[str]]


def new_session_id() -> str:
    """The id a script run gives the session it may start (a beat may pair waiters too)."""
    return secrets.token_urlsafe(12)


@dataclass(frozen=True, slots=True)
class LinkHooks:
    """What the backend does at each turn of the link's life."""

    on_reply: Callable[[Reply], None]  # every reply of the pairing script
    on_envelope: Callable[[bytes | str], None]  # every message published to this instance
    on_down: Callable[[], None]  # the link just went down
    on_up: Callable[[], Awaitable[int]]  # reconnected, not yet healthy: catch up; how many clients
    on_forgotten: Callable[[], Awaitable[None]]  # Redis forgot this instance while the link was up


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


class RedisLink:
    """The pool, the subscription and the lease of one instance, kept up through outages."""

    def __init__(
        self,
        *,
        url: str,
        instance: str,
        keys: RedisKeys,
        hooks: LinkHooks,
        cooldown: float,
        resume_grace: float,
        ticket_ttl: float,
        lease: float,
        heartbeat: float,
        max_backoff: float,
        start_timeout: float,
        socket_timeout: float,
        max_connections: int,
    ) -> None:
        if heartbeat <= 0 or lease <= heartbeat:
            raise ValueError("the lease must be longer than the heartbeat interval")
        self.url = url
        self.instance = instance
        self.keys = keys
        self.lease = lease
        self.max_connections = max_connections
        self._hooks = hooks
        self._cooldown = cooldown
        self._resume_grace = resume_grace
        self._ticket_ttl = ticket_ttl
        self._heartbeat = heartbeat
        self._max_backoff = max_backoff
        self._start_timeout = start_timeout
        self._socket_timeout = socket_timeout
        self._slots = asyncio.Semaphore(max_connections)
        self._pairing = Batcher(self._run_pairing, size=_BATCH, parallel=_RUNS, name=f"redis-run-{instance}")
        self._abuse = Batcher(self._run_abuse, size=_BATCH, parallel=_RUNS, name=f"redis-abuse-{instance}")
        # A batcher of its own for the beats: their own queue (one at a time, so always empty),
        # and a run that a cancelled heartbeat leaves to end on its own, as requests' do.
        self._beats = Batcher(self._run_script, size=1, parallel=1, name=f"redis-beat-{instance}")
        self._healthy = False
        self._last_error = ""
        self._outages = 0
        self._trouble = asyncio.Event()
        self._ready = asyncio.Event()
        self._supervisor: asyncio.Task[None] | None = None
        self._closing = False
        self.redis: aioredis.Redis | None = None
        self._pubsub: Any = None
        self.clock_offset_ms = 0.0  # Redis' clock minus ours (server/backends/redis/clock.py)

    @property
    def healthy(self) -> bool:
        return self._healthy

    @property
    def last_error(self) -> str:
        return self._last_error

    @property
    def outages(self) -> int:
        return self._outages

    # --- lifecycle ----------------------------------------------------------------

    async def start(self) -> None:
        # No retries inside redis-py: a script that timed out may have run, and
        # running it twice could decide twice. Recovery is the backend's (sync).
        # A bounded pool; `_slots` keeps script calls within it, so a burst of
        # requests waits for a connection rather than fails.
        pool = aioredis.BlockingConnectionPool.from_url(
            self.url,
            max_connections=self.max_connections + 4,  # + the subscription (old and new), the beat
            timeout=self._socket_timeout,
            retry=Retry(NoBackoff(), 0),
            socket_timeout=self._socket_timeout,
            socket_connect_timeout=self._socket_timeout,
            client_name=f"studymatch-{self.instance}",
        )
        self.redis = aioredis.Redis(connection_pool=pool)
        self._script = self.redis.register_script(SCRIPT_TEXT)
        self._abuse_script = self.redis.register_script(ABUSE_SCRIPT_TEXT)
        self._counts_script = self.redis.register_script(COUNTS_SCRIPT_TEXT)
        self._supervisor = asyncio.create_task(self._run(), name=f"redis-backend-{self.instance}")
        try:
            async with asyncio.timeout(self._start_timeout):
                await self._ready.wait()
        except TimeoutError:
            log.warning("event=redis_unavailable_at_start url=%s error=%s", self.url, self._last_error)

    async def close(self) -> None:
        self._closing = True
        if self._supervisor is not None:
            # Stopped before the retire: a beat after it would renew the lease of an instance
            # that has left, and, taken for new, sync its clients back in. Its own clean-up
            # (stopping listener and heartbeat) takes one more round of cancels at most: ask
            # again only after a while, not in the middle of that.
            await _stop([self._supervisor], within=self._socket_timeout * 2, every=0.5)
        if self._beats.runs:
            await asyncio.wait(self._beats.runs, timeout=self._socket_timeout)  # a beat still on its way
        if self._healthy:
            with contextlib.suppress(Unavailable, TimeoutError):
                async with asyncio.timeout(self._socket_timeout):
                    await self.call("retire")  # our clients leave now rather than at lease expiry
        self._healthy = False
        runs = self._pairing.runs | self._abuse.runs | self._beats.runs
        if runs:
            # A run under way (a cancelled heartbeat's, a last disconnect) ends within a
            # socket timeout; stopped after that, so the pool closes with no socket in use.
            await asyncio.wait(runs, timeout=self._socket_timeout)
            await _stop(list(runs), within=self._socket_timeout, every=0.5)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self._socket_timeout):
                await self._close_pubsub()
                if self.redis is not None:
                    await self.redis.aclose(close_connection_pool=True)

    # --- running the scripts -------------------------------------------------------------

    async def call(self, op: str, *args: str) -> Outcome:
        """One operation of the pairing script, in the next run; raises `Unavailable`
        (and marks the link down) or `ScriptFailed`."""
        return await self._pairing((op, *args))

    async def _beat_once(self) -> Outcome:
        """Renew the lease now, on the beats' own path (see Liveness in the module's docstring)."""
        return await self._beats(("beat", new_session_id()))

    async def _run_pairing(self, ops: list[Op]) -> list[Outcome | BaseException]:
        # Waiting for a free connection is load, not an outage: queue here, so the
        # pool (sized above this) never refuses and only Redis' silence counts.
        async with self._slots:
            return await self._run_script(ops)

    async def _run_script(self, ops: list[Op]) -> list[Outcome | BaseException]:
        """One run of the pairing script; a beat's takes no slot (the pool keeps one for it)."""
        try:
            raw = await self._script(
                keys=run_keys(self.keys, ops),
                args=script_args(
                    ops, instance=self.instance, cooldown=self._cooldown, lease=self.lease, keys=self.keys,
                    resume_grace=self._resume_grace, ticket_ttl=self._ticket_ttl,
                ),
            )
        except _UNAVAILABLE_ERRORS as exc:
            self._report_trouble(exc)
            raise Unavailable from exc
        reply: Reply = parse_reply(raw)
        self._hooks.on_reply(reply)
        return [ScriptFailed(o.detail) if o.status == "fail" else o for o in reply.outcomes]

    async def run_abuse(self, keys: list[str], args: list[str]) -> Any:
        """One operation of the abuse script, in the next run (`abuse.Runner`)."""
        if not self._healthy:
            raise AbuseUnavailable  # at once: nothing waits for a Redis known to be down
        return await self._abuse((keys, args))

    async def run_counts(self, keys: list[str], args: list[str]) -> Any:
        """One run of the live counts' script (`counts.py`); raises `Unavailable` when Redis is
        down or does not answer (the link's supervisor notices on its own, by its heartbeat)."""
        if not self._healthy:
            raise Unavailable
        try:
            async with self._slots:
                return await self._counts_script(keys=keys, args=args)
        except _UNAVAILABLE_ERRORS as exc:
            raise Unavailable from exc

    async def _run_abuse(self, ops: list[AbuseOp]) -> list[Any]:
        try:
            async with self._slots:
                keys, args = abuse_batch(ops)
                return abuse_answers(await self._abuse_script(keys=keys, args=args))
        except _UNAVAILABLE_ERRORS as exc:
            # The supervisor notices on its own (heartbeat); this only fails open.
            raise AbuseUnavailable from exc

    def _report_trouble(self, exc: BaseException) -> None:
        self._last_error = f"{type(exc).__name__}: {exc}"[:200]
        self._trouble.set()
        self._mark_down()

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
            except Unavailable:
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
        assert self.redis is not None
        self._trouble.clear()
        # Idle sockets from before an outage would each fail once more, each a new
        # outage; sockets in use are left to the requests using them.
        await self.redis.connection_pool.disconnect(inuse_connections=False)
        pubsub = self.redis.pubsub()
        self._pubsub = pubsub
        await pubsub.subscribe(self.keys.channel(self.instance))
        await self._beat_once()
        await self._measure_clock()
        # Whatever was published while we were away is lost: the backend catches up.
        clients = await self._hooks.on_up()
        if self._trouble.is_set():
            raise Unavailable
        self._healthy = True
        self._ready.set()
        log.info("event=redis_up instance=%s clients=%d", self.instance, clients)

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
        raise Unavailable

    async def _listen(self) -> None:
        while not self._closing:
            message = await self._pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
            if message is not None and message.get("type") == "message":
                self._hooks.on_envelope(message["data"])

    async def _beat(self) -> None:
        while not self._closing:
            await asyncio.sleep(self._heartbeat)
            outcome = await self._beat_once()
            await self._measure_clock()
            if outcome.detail == "new":
                # Redis forgot us (it restarted, or took us for dead): catch up.
                log.warning("event=redis_forgot_instance instance=%s", self.instance)
                await self._hooks.on_forgotten()

    async def _measure_clock(self) -> None:
        """Redis' clock against ours, kept for `now` (a failed or slow answer keeps the last)."""
        assert self.redis is not None
        with contextlib.suppress(RedisError, OSError, TimeoutError):
            sent = time.time()
            seconds, micros = await self.redis.time()
            offset = clock.offset_ms(sent, time.time(), int(seconds), int(micros))
            if offset is not None:
                self.clock_offset_ms = offset

    def _mark_down(self) -> None:
        if not self._healthy:
            return
        self._healthy = False
        self._outages += 1
        self._hooks.on_down()

    async def _close_pubsub(self) -> None:
        pubsub, self._pubsub = self._pubsub, None
        if pubsub is not None:
            with contextlib.suppress(*_UNAVAILABLE_ERRORS):
                await pubsub.aclose()
