"""Calls that outlive their server: a restart on the same port, a dead Redis-backed instance.

Issue 12's scenario, as a new user would try it: two `--headless --fake-media` clients in a
15 s call; 5 s in, the server goes away (SIGTERM, or SIGKILL with no goodbye) and comes back
on the same port with the same ticket key; or, with Redis, one of two instances is killed and
its client reaches the other through the same address (a forwarder in front, as a load
balancer). Both calls must run to their planned end, in the same session, with no
`partner_left`, and video must keep arriving, also after the server came back: the media
goes peer to peer and never touched the server. All on loopback: no lab, no root.
"""

from __future__ import annotations

import signal
import sys
import time
from pathlib import Path

import pytest

from integration.redis_support import REDIS_SERVER, running_redis

from .support import WAIT, Proc, frames_after, peer, server, stopping, video_gaps

pytestmark = [pytest.mark.slow]
CALL_SECONDS = 15.0
CUT_AT = 5.0  # seconds into the call
FORWARD = [sys.executable, "-m", "tools.netlab.tcpforward"]


def planned_call(p: Proc, cut: float, *, lost_its_server: bool = True) -> None:
    """`p` had one call, which ran to its planned end, with video before and after `cut`."""
    matched = p.of("matched")
    ended = p.of("call_ended")
    assert len(matched) == 1 and len(ended) == 1, p.lines
    assert ended[0]["session"] == matched[0]["session"], p.lines
    assert all(r["reason"] == "skipped" for r in p.of("partner_left")), p.lines  # the planned hang-up only
    assert not p.of("error"), p.lines
    assert ("resumed" in p.names()) == lost_its_server, p.lines
    assert ended[0]["seconds"] >= CALL_SECONDS - 1.0, p.lines
    first = p.wait_for("first_remote_frame")["t"]
    assert frames_after(p, cut + 2.0) > 0, p.lines
    assert not video_gaps(p, first + 1.0, ended[0]["t"] - 0.5, every=3.0), p.lines


def run_call(a: Proc, b: Proc) -> None:
    for p in (a, b):
        assert p.finish(WAIT + CALL_SECONDS + 30.0) == 0, p.lines


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "sigkill"])
def test_a_call_outlives_a_server_restart_on_the_same_port(tmp_path: Path, how: signal.Signals) -> None:
    key = ("--ticket-key-file", str(tmp_path / "ticket.key"))
    first, port = server(*key)
    url = f"ws://127.0.0.1:{port}/ws"
    with stopping(first, peer(url, "--call-seconds", str(CALL_SECONDS)),
                  peer(url, "--call-seconds", str(CALL_SECONDS))) as held:  # fmt: skip
        _, a, b = held
        connected = max(p.wait_for("media_connected")["t"] for p in (a, b))
        time.sleep(max(0.0, connected + CUT_AT - time.time()))
        cut = time.time()
        first.signal(how)
        first.finish(WAIT)
        again, _ = server(*key, port=port)
        held.append(again)
        run_call(a, b)
    for p in (a, b):
        planned_call(p, cut)


@pytest.mark.redis
@pytest.mark.skipif(not Path(REDIS_SERVER).exists(), reason="needs redis-server (tools/setup --test)")
def test_a_call_outlives_the_death_of_one_of_two_redis_backed_instances(tmp_path: Path) -> None:
    with running_redis() as redis:
        shared = ("--backend", "redis", "--redis-url", redis.url, "--ticket-key-file", str(tmp_path / "ticket.key"))
        one, port_one = server(*shared)
        two, port_two = server(*shared)
        # Each client's own "load balancer": its instance first, the other when that one is dead.
        to_one = Proc([*FORWARD, "--to", f"127.0.0.1:{port_one}", "--to", f"127.0.0.1:{port_two}"])
        to_two = Proc([*FORWARD, "--to", f"127.0.0.1:{port_two}", "--to", f"127.0.0.1:{port_one}"])
        urls = [forwarded_url(f) for f in (to_one, to_two)]
        with stopping(one, two, to_one, to_two, *(peer(u, "--call-seconds", str(CALL_SECONDS)) for u in urls)) as held:
            a, b = held[-2:]
            connected = max(p.wait_for("media_connected")["t"] for p in (a, b))
            time.sleep(max(0.0, connected + CUT_AT - time.time()))
            cut = time.time()
            one.signal(signal.SIGKILL)
            one.finish(WAIT)
            run_call(a, b)
    planned_call(a, cut)
    planned_call(b, cut, lost_its_server=False)  # its instance lives: nothing to resume


def forwarded_url(forwarder: Proc) -> str:
    line = forwarder.wait_line(lambda line: line.startswith("listening on "))
    return f"ws://{line.removeprefix('listening on ').strip()}/ws"
