"""A call over a bad link: loss with a rate cap, and a short outage; the call lives through both.

Two headless clients in namespaces a and b around a router that runs the server; the
impairment sits on a's link, so every packet between them meets it. Speed (freezes, delay
after an outage) is bench/network.py's business; these tests check that video keeps coming.
"""

from __future__ import annotations

import time

import pytest

from tools.netlab import Star, star

from .conftest import needs_lab
from .support import WAIT, Proc, peer, server, stopping, video_gaps

pytestmark = [pytest.mark.slow, needs_lab]


def call_in(net: Star, seconds: float) -> tuple[Proc, Proc]:
    _srv, port = server(host="0.0.0.0", lab=net.lab, namespace="router")
    args = ("--call-seconds", str(seconds))
    a = peer(f"ws://{net.a.b_address}:{port}/ws", *args, lab=net.lab, namespace="a")
    b = peer(f"ws://{net.b.b_address}:{port}/ws", *args, lab=net.lab, namespace="b")
    return a, b


def ended_by_a_skip(p: Proc) -> None:
    """The call ended as planned: by a skip, never by the network."""
    left = p.of("partner_left")
    assert all(r["reason"] == "skipped" for r in left), p.lines
    assert not p.of("error"), p.lines


def test_video_keeps_flowing_under_5_percent_loss_and_a_1_mbit_cap() -> None:
    seconds = 12.0
    with star() as net:
        net.lab.loss(net.a, 5)
        net.lab.rate(net.a, 1000)
        with stopping(*call_in(net, seconds)) as (a, b):
            first = max(p.wait_for("first_remote_frame")["t"] for p in (a, b))
            ends = [p.wait_for("call_ended", WAIT + seconds)["t"] for p in (a, b)]
            for p in (a, b):
                assert p.finish() == 0
    for p, end in zip((a, b), ends, strict=True):
        ended_by_a_skip(p)
        # Every 3 s window from the first frame to the hang-up has frames in it.
        assert not video_gaps(p, first, end - 0.5, every=3.0), p.lines


def test_a_4_second_outage_of_one_link_does_not_end_the_call() -> None:
    seconds = 20.0
    with star() as net:
        with stopping(*call_in(net, seconds)) as (a, b):
            for p in (a, b):
                p.wait_for("first_remote_frame")
            time.sleep(2.0)  # some video before the outage
            net.lab.set_down(net.a)
            time.sleep(4.0)  # the blip
            net.lab.set_up(net.a)
            back = time.time()
            # Heard again after the gap, the clients build a new peer connection: the old one's
            # video would come back 4-9 s late and lag (docs/benchmarks.md, "A call under bad networks").
            restored = [p.wait_for("media_restored", WAIT)["t"] for p in (a, b)]
            ends = [p.wait_for("call_ended", WAIT + seconds)["t"] for p in (a, b)]
            for p in (a, b):
                assert p.finish() == 0
    for p, end, again in zip((a, b), ends, restored, strict=True):
        ended_by_a_skip(p)
        assert again >= back and p.names().count("media_reconnecting") >= 1, p.lines
        # Video came back on the new connection and kept coming to the end.
        assert end - again > 8.0, "the call ended too soon after the media came back to see video flow"
        assert not video_gaps(p, again + 1.0, end - 0.5, every=2.0), p.lines
