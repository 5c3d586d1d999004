"""Issue 12 as a new user tried it: two `studymatch --headless` clients in a call, the server
restarted (SIGTERM, same port) during it. Real processes; the call must run to its planned end."""

from __future__ import annotations

import asyncio
import signal

import pytest

from integration.headless import Headless
from integration.wsclient import TIMEOUT

from . import test_headless_cli

pytestmark = pytest.mark.slow

CALL_SECONDS = 8.0


async def start_server(port: int) -> tuple[asyncio.subprocess.Process, str]:
    # The ticket key file is the CLI's default, under the tests' own XDG_STATE_HOME (tests/conftest.py):
    # the restarted process reads the key the first one made, as on a real machine.
    return await test_headless_cli.start_server("--port", str(port), "--shutdown-retry-after", "0.5")


async def test_two_headless_clients_keep_their_call_through_a_server_restart() -> None:
    server, url = await start_server(0)
    port = int(url.rsplit(":", 1)[1].split("/", 1)[0])
    args = ["--fake-media", "--calls", "1", "--call-seconds", str(CALL_SECONDS), "--server", url]
    clients = [await Headless.start(*args) for _ in range(2)]
    again = None
    try:
        for client in clients:
            await client.expect("media_connected")
        server.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(server.wait(), 4 * TIMEOUT) == 0
        for client in clients:
            await client.expect("signaling_lost")
        again, _ = await start_server(port)
        codes = [await client.finish() for client in clients]
    finally:
        for proc in (server, again, *(c.proc for c in clients)):
            if proc is not None and proc.returncode is None:
                proc.kill()
                await proc.wait()
    assert codes == [0, 0]
    (session,) = {m["session"] for c in clients for m in c.named("matched")}  # one call, the same for both
    for client in clients:
        assert [e["session"] for e in client.named("signaling_lost")][:1] == [session]
        assert [e["session"] for e in client.named("resumed")] == [session]
        # Only the planned end: a skip after CALL_SECONDS (the slower side may hear the other's).
        assert all(e["reason"] == "skipped" for e in client.named("partner_left"))
        (ended,) = client.named("call_ended")
        assert ended["session"] == session and ended["seconds"] >= CALL_SECONDS - 1
        assert ended["video_frames"] > 0 and ended["audio_frames"] > 0
