"""Embedded defaults: with the default local address and nothing answering
there, the app runs the server itself, so a new user sees a working app."""

from __future__ import annotations

import asyncio
import contextlib
from urllib.parse import urlsplit

from client.ui.settings import DEFAULT_SERVER


async def reachable(url: str, wait: float = 0.5) -> bool:
    parts = urlsplit(url)
    host = parts.hostname or "127.0.0.1"
    port = parts.port or (443 if parts.scheme == "wss" else 80)
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), wait)
    except (OSError, TimeoutError):
        return False
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True


async def ensure_local_server(url: str) -> object | None:
    """The started server.ws.app.Server when we had to start one, else None."""
    if url != DEFAULT_SERVER or await reachable(url):
        return None
    from server.config import ServerConfig
    from server.ws.app import Server

    parts = urlsplit(url)
    server = Server(ServerConfig(host=parts.hostname or "127.0.0.1", port=parts.port or 8765, log_level="warning"))
    try:
        await server.start()
    except OSError:  # someone else took the port in the meantime: use theirs
        return None
    return server
