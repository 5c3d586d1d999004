"""`studymatch --headless` as a process, its JSON events read as they come (`--events json`).

For tests that act while a client runs: wait for an event, then restart a server, open a
browser page, cut a link. (`test_headless_cli.run_client` runs a client to its end instead.)
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable
from typing import Any

from integration.wsclient import SCALE, TIMEOUT

WAIT = 60 * SCALE  # for one event: a call's whole setup fits in it, on a busy CI machine too


class Headless:
    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.events: list[dict[str, Any]] = []
        self._err: list[bytes] = []
        self._changed = asyncio.Event()
        loop = asyncio.get_running_loop()
        self._reader = loop.create_task(self._read())
        self._err_reader = loop.create_task(self._read_err())  # drained as it comes: a full pipe would block it

    @classmethod
    async def start(cls, *args: str) -> Headless:
        """`python -m client --headless --events json ARGS`."""
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "client", "--headless", "--events", "json", *args,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )
        return cls(proc)

    async def _read(self) -> None:
        assert self.proc.stdout is not None
        async for line in self.proc.stdout:
            if line.strip():
                self.events.append(json.loads(line))
                self._changed.set()
        self._changed.set()  # its end: whoever waits sees it

    async def _read_err(self) -> None:
        assert self.proc.stderr is not None
        async for line in self.proc.stderr:
            self._err.append(line)

    @property
    def stderr(self) -> str:
        return b"".join(self._err).decode(errors="replace")

    def named(self, name: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["event"] == name]

    async def expect(
        self, name: str, ok: Callable[[dict[str, Any]], bool] = lambda e: True, within: float = WAIT
    ) -> dict[str, Any]:
        """The first `name` event that is `ok`, waiting for it; an error if the process ends first."""
        return (await self.expect_count(name, 1, ok, within))[0]

    async def expect_count(
        self, name: str, count: int, ok: Callable[[dict[str, Any]], bool] = lambda e: True, within: float = WAIT
    ) -> list[dict[str, Any]]:
        """The first `count` `name` events that are `ok`, waiting for them."""
        async with asyncio.timeout(within):
            while True:
                found = [e for e in self.named(name) if ok(e)]
                if len(found) >= count:
                    return found[:count]
                if self._reader.done():
                    raise AssertionError(f"the client exited before {name}: {self.events[-5:]} {self.stderr[-2000:]}")
                self._changed.clear()
                await self._changed.wait()

    async def finish(self, within: float = WAIT) -> int:
        """Its exit code, once it ends by itself; killed, and an error, if it does not in time."""
        try:
            async with asyncio.timeout(within):
                code = await self.proc.wait()
                await self._reader
                await self._err_reader
        except TimeoutError:
            await self.kill()
            raise AssertionError(f"a client did not finish: {self.events[-10:]}") from None
        return code

    async def stop(self) -> str:
        """SIGTERM (it leaves its call as a person would), killed if it lingers; its stderr."""
        if self.proc.returncode is None:
            self.proc.terminate()
        try:
            await asyncio.wait_for(self.proc.wait(), 4 * TIMEOUT)
        except TimeoutError:
            await self.kill()
        await self._reader
        await self._err_reader
        return self.stderr

    async def kill(self) -> None:
        if self.proc.returncode is None:
            self.proc.kill()
        await self.proc.wait()
