"""`python -m server --loop ...`: the server relays the same on asyncio's loop and on uvloop."""

from __future__ import annotations

import asyncio
import os
import sys

import pytest

from integration.wsclient import TIMEOUT, WsClient


@pytest.mark.slow
@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
async def test_each_event_loop_serves_and_relays(loop: str) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "server", "--port", "0", "--loop", loop, "--log-level", "info",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=dict(os.environ),
    )  # fmt: skip
    assert proc.stdout is not None and proc.stderr is not None
    try:
        line = (await asyncio.wait_for(proc.stdout.readline(), 4 * TIMEOUT)).decode().strip()
        url = line.removeprefix("listening on ")
        a, b = await WsClient.open(url), await WsClient.open(url)
        await a.find()
        await b.find()
        session = (await a.expect("matched"))["session"]
        await b.expect("matched", session=session)
        for n in range(20):  # several in one go, so that reads and writes carry several
            await a.send({"type": "signal", "session": session, "data": {"n": n, "sdp": "v=0\r\n" * 40}})
        for n in range(20):
            await b.expect("signal", session=session, data={"n": n, "sdp": "v=0\r\n" * 40})
        await a.close()
        await b.expect("partner_left", session=session, reason="disconnected")
        await b.close()
    finally:
        proc.terminate()
        _, stderr = await asyncio.wait_for(proc.communicate(), 4 * TIMEOUT)
    assert proc.returncode == 0
    assert f"event=listening url={url} backend=memory loop={loop} json=orjson" in stderr.decode()
