"""Operations asked for while a script run is under way go together in the next run.

Under load one script run then serves many requests: a script call, its reply
and its PUBLISHes cost more than the decisions themselves, on both sides of
the socket (redis-py's pool, packing, timeouts and parsing, per call). An
idle instance still runs each operation alone and at once: a lone request
waits for nobody.

Each operation gets its own answer, or the exception of the whole run (an
outage, a bug). An operation whose caller gave up is done all the same, as a
command already sent would be.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

Op = TypeVar("Op")
Answer = TypeVar("Answer")


class Batcher(Generic[Op, Answer]):
    """`await batcher(op)`: `op` done in the next run of `run` (at most `size` operations a
    run, at most `parallel` runs at a time, in the order asked)."""

    def __init__(
        self, run: Callable[[list[Op]], Awaitable[list[Answer | BaseException]]], *, size: int, parallel: int,
        name: str,
    ) -> None:
        self._run = run
        self._size = size
        self._parallel = parallel
        self._name = name
        self._waiting: list[tuple[Op, asyncio.Future[Answer]]] = []
        # Drains that will still look at `_waiting`. Counted down by the drain itself, in the
        # step where it finds nothing left: a task's done callbacks run a turn later, and an
        # operation asked in between (its caller woken by the last answer) would find every
        # place taken and wait until some other request came.
        self._draining = 0
        self.runs: set[asyncio.Task[None]] = set()  # under way; see `RedisLink.close`

    async def __call__(self, op: Op) -> Answer:
        done: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()
        self._waiting.append((op, done))
        if self._draining < self._parallel:
            self._draining += 1
            run = asyncio.create_task(self._drain(), name=self._name)
            self.runs.add(run)
            run.add_done_callback(self.runs.discard)
        return await done

    async def _drain(self) -> None:
        try:
            await self._drain_waiting()
        finally:
            self._draining -= 1

    async def _drain_waiting(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting[:self._size], self._waiting[self._size:]
            try:
                answers = await self._run([op for op, _ in batch])
            except asyncio.CancelledError:
                # Only closing stops a run: nobody is left to run what still waits.
                waiting, self._waiting = batch + self._waiting, []
                for _, done in waiting:
                    done.cancel()
                raise
            except Exception as exc:
                answers = [exc] * len(batch)
            for (_, done), answer in zip(batch, answers, strict=True):
                if done.done():
                    continue  # its caller gave up
                if isinstance(answer, BaseException):
                    done.set_exception(answer)
                else:
                    done.set_result(answer)
