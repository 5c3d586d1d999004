"""Media rebuilt after the network changed under a call: a 40 s outage, a new address, video holes.

aiortc has no `restartIce`; when the peer connection fails (ICE consent runs out after
30 to 33 s) or its path is gone (the address moved), the clients build a new peer connection
to the same partner in the same session (`media_reconnecting`, then `media_restored`), and
nobody is told the partner left. Both clients in lab namespaces around a router with the
server; the change happens on a's link, to which a's signaling socket is tied as well.
"""

from __future__ import annotations

import time

import pytest

from tools.netlab import Star, star

from .conftest import needs_lab
from .support import WAIT, Proc, frames_after, peer, server, stopping, video_gaps, wait_video_after

pytestmark = [pytest.mark.slow, needs_lab]
OUTAGE = 40.0  # the figure: longer than ICE consent lasts


def both_in(net: Star) -> tuple[Proc, Proc]:
    _srv, port = server(host="0.0.0.0", lab=net.lab, namespace="router")
    a = peer(f"ws://{net.a.b_address}:{port}/ws", lab=net.lab, namespace="a")
    b = peer(f"ws://{net.b.b_address}:{port}/ws", lab=net.lab, namespace="b")
    for p in (a, b):
        p.wait_for("first_remote_frame")
    return a, b


def restored_with_video(p: Proc, timeout: float) -> float:
    """Waits for `media_restored`, then for video after it; returns when it was restored."""
    restored = p.wait_for("media_restored", timeout)["t"]
    wait_video_after(p, restored)
    return restored


def same_partner_throughout(p: Proc, stopped: float) -> None:
    names = p.names()
    assert names.count("matched") == 1, p.lines
    session = p.of("matched")[0]["session"]
    assert "media_reconnecting" in names, p.lines
    assert names.index("media_reconnecting") < names.index("media_restored"), p.lines
    assert all(r["session"] == session for r in p.of("media_restored") + p.of("call_ended")), p.lines
    # Nothing ended it before our own stop; stopping one side first may tell the other `left`.
    assert not [r for r in p.of("partner_left") if r["t"] < stopped], p.lines
    assert all(r["t"] >= stopped for r in p.of("call_ended")), p.lines


def stop(*procs: Proc) -> float:
    stopped = time.time()
    for p in procs:
        p.process.terminate()
    for p in procs:
        assert p.finish() == 0, p.lines
    return stopped


def test_media_is_rebuilt_to_the_same_partner_after_a_40_second_outage() -> None:
    with star() as net, stopping(*both_in(net)) as (a, b):
        time.sleep(2.0)
        net.lab.set_down(net.a)
        time.sleep(OUTAGE)
        net.lab.set_up(net.a)
        for p in (a, b):
            restored_with_video(p, 2 * WAIT)
        stopped = stop(a, b)
    for p in (a, b):
        same_partner_throughout(p, stopped)


def test_media_is_rebuilt_to_the_same_partner_after_a_new_address() -> None:
    with star() as net, stopping(*both_in(net)) as (a, b):
        time.sleep(2.0)
        moved_at = time.time()
        net.a = net.lab.readdress(net.a, subnet=7)
        for p in (a, b):
            restored_with_video(p, 2 * WAIT)
        stopped = stop(a, b)
    for p in (a, b):
        same_partner_throughout(p, stopped)
    # a's signaling socket died with its old address: found out and replaced (a ping when the
    # media was lost), and the session resumed on the new one, before the media came back.
    names = a.names()
    assert "signaling_lost" in names and "resumed" in names, a.lines
    assert names.index("resumed") < names.index("media_restored"), a.lines
    print(f"address changed -> a resumed {a.of('resumed')[0]['t'] - moved_at:.1f} s, "
          f"media restored {a.of('media_restored')[0]['t'] - moved_at:.1f} s")


def test_media_is_rebuilt_when_the_video_stalls_while_the_partner_is_heard() -> None:
    # Every video packet lost for longer than the sender keeps them to resend, while audio and
    # beats go on: aiortc's video receiver then waits for 512 packets (8 s and more) before
    # giving up on the hole, with a frozen picture. The stall is noticed and the media rebuilt.
    with star() as net, stopping(*both_in(net)) as (a, b):
        time.sleep(2.0)
        net.lab.drop_larger(net.a, 400)
        time.sleep(3.5)
        net.lab.mend(net.a)
        for p in (a, b):
            restored_with_video(p, 2 * WAIT)
        stopped = stop(a, b)
    for p in (a, b):
        same_partner_throughout(p, stopped)
        # No outage: the partner was heard all along, so nothing said the server or partner was away.
        assert "partner_reconnecting" not in p.names(), p.lines


def test_a_one_way_video_hole_costs_the_other_way_nothing_while_the_media_is_rebuilt() -> None:
    # b's video to a is lost, and with it b's DTLS flights and big signaling messages, so no new
    # connection comes up until the hole is mended. a's video to b is fine: the old connection
    # stays open beside each new attempt (make before break), so b keeps getting a's picture
    # through the whole rebuild, however many attempts it takes.
    with star() as net, stopping(*both_in(net)) as (a, b):
        time.sleep(2.0)
        net.lab.drop_larger(net.b, 400, ways="out")
        # a's video stalls: as the initiator it rebuilds; as the responder it asks b to.
        initiator = a if a.of("matched")[0]["initiator"] else b
        lost = initiator.wait_for("media_reconnecting", WAIT)["t"]
        time.sleep(4.0)
        mended = time.time()
        assert "media_restored" not in b.names(), b.lines  # the hole held b's new connection back
        net.lab.mend(net.b)
        for p in (a, b):
            restored_with_video(p, 2 * WAIT)
        stopped = stop(a, b)
    for p in (a, b):
        same_partner_throughout(p, stopped)
    # Through the rebuild, a's picture reached b every second, from the connection kept open.
    assert frames_after(b, lost) - frames_after(b, mended) > 30, b.lines
    assert video_gaps(b, lost, mended, every=1.0) == [], b.lines
