"""Fixtures for the integration suite: real servers on port 0, real clients.

The suite runs over every backend in `BACKENDS`. A backend may need several
server instances (the Redis backend runs two, sharing one queue); `Cluster`
hands out clients round-robin over the instances, so a test written once
checks the cross-instance paths too. To add a backend, add its name to
`BACKENDS` and teach `_instance_configs` how to configure it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from server.config import ServerConfig
from server.ws.app import Server, running_server

from .redis_support import shared_redis  # noqa: F401 (a fixture) [redis backend]
from .wsclient import SCALE, TIMEOUT, WsClient

BACKENDS = ["memory", "redis"]

__all__ = ["SCALE", "TIMEOUT", "Cluster", "WsClient"]


def _instance_configs(
    backend: str, config: ServerConfig, request: pytest.FixtureRequest
) -> list[ServerConfig]:
    if backend == "memory":
        return [config]
    if backend == "redis":  # [redis backend] two instances sharing one queue (tests/integration/redis_support.py)
        from .redis_support import unique_prefix

        redis_url = request.getfixturevalue("shared_redis").url
        options = {"prefix": unique_prefix(), **config.backend_options}
        return [config.replace(backend="redis", redis_url=redis_url, backend_options=options) for _ in range(2)]
    raise AssertionError(f"unknown backend {backend}")


async def http_get(url: str) -> tuple[int, str, str]:
    """(status, content type, body) of a plain HTTP GET; errors are answers too."""

    def get() -> tuple[int, str, str]:
        try:
            with urllib.request.urlopen(url, timeout=TIMEOUT) as response:
                return response.status, response.headers["Content-Type"], response.read().decode()
        except urllib.error.HTTPError as error:
            with error:
                return error.code, error.headers["Content-Type"], error.read().decode()

    return await asyncio.to_thread(get)


@dataclass
class Cluster:
    """The running instances of one backend, and the clients opened on them."""

    servers: list[Server]
    clients: list[WsClient] = field(default_factory=list)
    _next: int = 0

    @property
    def urls(self) -> list[str]:
        return [s.url for s in self.servers]

    @property
    def config(self) -> ServerConfig:
        return self.servers[0].config

    def next_url(self) -> str:
        url = self.urls[self._next % len(self.servers)]
        self._next += 1
        return url

    async def connect(self, *, hello: bool = True, url: str | None = None, **options: Any) -> WsClient:
        """A client on the next instance (round-robin), by default past hello."""
        client = await WsClient.open(url or self.next_url(), hello=hello, **options)
        self.clients.append(client)
        return client

    async def pair(self, mode: str = "video", topic: str | None = None) -> tuple[WsClient, WsClient, str]:
        """Two matched clients (initiator first) and their session."""
        a, b = await self.connect(), await self.connect()
        await a.find(mode, topic)
        await b.find(mode, topic)
        ma, mb = await a.expect("matched"), await b.expect("matched")
        assert ma["session"] == mb["session"] and ma["initiator"] and not mb["initiator"]
        return a, b, ma["session"]

    async def health(self, index: int = 0) -> dict[str, Any]:
        # [redis backend] /healthz reports a cache of the shared counts renewed every heartbeat;
        # renew it now so that a check right after a step sees that step.
        refresh = getattr(self.servers[index].backend, "refresh_stats", None)
        if refresh is not None:
            await refresh()
        status, _, body = await http_get(self.servers[index].http_url + "/healthz")
        data: dict[str, Any] = json.loads(body)
        data["http_status"] = status
        return data

    async def state(self) -> dict[str, Any]:
        """/healthz of the first instance, with `connections` summed over all instances."""
        health = [await self.health(i) for i in range(len(self.servers))]
        return {**health[0], "connections": sum(h["connections"] for h in health)}

    async def metrics(self, index: int = 0) -> str:
        status, _, body = await http_get(self.servers[index].http_url + "/metrics")
        assert status == 200
        return body

    async def metric(self, sample: str) -> list[float]:
        """One sample (name and labels, as written) from every instance's /metrics."""
        values = []
        for index in range(len(self.servers)):
            match = re.search(rf"^{re.escape(sample)} (\S+)$", await self.metrics(index), re.MULTILINE)
            assert match, f"{sample} not in /metrics"
            values.append(float(match.group(1)))
        return values

    async def wait_until(
        self, predicate: Callable[[dict[str, Any]], bool], within: float = TIMEOUT
    ) -> dict[str, Any]:
        """Poll `state()` until `predicate` holds; return that state.

        Polling on purpose: the state is observed over HTTP as an operator
        would; with several instances there is no one event to await, and a
        shared backend's figures may be refreshed periodically. Every check of
        the counts goes through here, so the suite runs on any backend.
        """
        health: dict[str, Any] = {}
        async with asyncio.timeout(within):
            while True:
                health = await self.state()
                if predicate(health):
                    return health
                await asyncio.sleep(0.02)

    async def wait_settled(self, within: float = TIMEOUT) -> dict[str, Any]:
        """Wait until no instance has a connection, nobody waits, no session runs."""
        return await self.wait_until(
            lambda h: h["waiting"] == 0 and h["sessions"] == 0 and h["connections"] == 0, within
        )

    async def close_clients(self) -> None:
        await asyncio.gather(*(c.close() for c in self.clients), return_exceptions=True)
        self.clients.clear()


ServerFactory = Callable[..., Awaitable[Cluster]]


@pytest.fixture(autouse=True)
def _no_swallowed_errors(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Fail a test when the server or the event loop logged an error it swallowed."""
    yield
    errors = [
        r for r in caplog.get_records("call") + caplog.get_records("teardown")
        if r.levelno >= logging.ERROR and r.name.split(".")[0] in ("studymatch", "asyncio", "websockets")
    ]
    assert not errors, "errors were logged:\n" + "\n".join(
        f"{r.name}: {r.getMessage()}\n{r.exc_text or ''}" for r in errors
    )


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def server_factory(backend: str, request: pytest.FixtureRequest) -> AsyncIterator[ServerFactory]:
    """`await server_factory(**config_overrides)` -> a started `Cluster` for this backend."""
    async with contextlib.AsyncExitStack() as stack:
        clusters: list[Cluster] = []

        async def make(**overrides: Any) -> Cluster:
            config = ServerConfig(port=0, **overrides)
            servers = [
                await stack.enter_async_context(running_server(c))
                for c in _instance_configs(backend, config, request)
            ]
            cluster = Cluster(servers)
            clusters.append(cluster)
            return cluster

        try:
            yield make
        finally:
            for cluster in clusters:
                await cluster.close_clients()


@pytest.fixture
async def cluster(server_factory: ServerFactory) -> Cluster:
    """The backend's instances with default limits."""
    return await server_factory()
