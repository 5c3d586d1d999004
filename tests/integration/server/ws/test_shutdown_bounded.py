"""Stopping the server ends in bounded time even when the backend stops answering."""

from __future__ import annotations

import asyncio
import time

import pytest

from integration.wsclient import TIMEOUT, WsClient
from server.backends.memory import MemoryBackend
from server.config import ServerConfig
from server.ws.app import running_server


class _HangingBackend(MemoryBackend):
    """The memory backend, but a disconnect never returns (a backend gone silent)."""

    async def disconnect(self, client_id: str, *, hold: bool = False) -> None:
        await asyncio.Event().wait()


async def test_a_backend_that_never_answers_does_not_hold_the_shutdown(caplog: pytest.LogCaptureFixture) -> None:
    config = ServerConfig(port=0, close_timeout=0.2)
    backend = _HangingBackend(rematch_cooldown=config.rematch_cooldown)
    started = time.monotonic()
    async with running_server(config, backend) as server:
        client = await WsClient.open(server.url)
        await client.find()
        started = time.monotonic()
    elapsed = time.monotonic() - started
    # Two grace periods of close_timeout + 1 s at most, with room for a slow machine.
    assert elapsed < 2 * (config.close_timeout + 1.0) + TIMEOUT / 2
    assert any("event=shutdown_incomplete" in r.getMessage() for r in caplog.records)
    await client.close()
