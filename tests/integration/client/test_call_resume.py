"""Calls that outlive the signaling socket: real servers, real engines, real aiortc peers (fake media).

docs/protocol.md, "Resuming after a dropped socket": a client whose socket drops
in a call keeps the call (it goes peer to peer), reconnects and resumes the same
session; the partner only hears `partner_reconnecting` / `partner_resumed`, and
`partner_left` only when the grace period runs out. A server restarted with the
same ticket key takes both partners back into the session they had.
"""

from __future__ import annotations

import time

from client import events as ev
from client.session import CallState
from client.signaling import WebSocketSignaling
from integration.conftest import Cluster, ServerFactory
from integration.engines import MEDIA_TIMEOUT, Peer, engines
from integration.wsclient import TIMEOUT
from server.config import ServerConfig
from server.ws.app import Server, running_server

from .test_call_engine import in_call


def keyed(port: int = 0, shutdown_retry_after: float = 5.0) -> ServerConfig:
    """A server and its restart share the ticket key (`--ticket-key`), so the restart takes the tickets."""
    return ServerConfig(port=port, ticket_key="resume-tests-ticket-key-0123456789", log_level="warning",
                        shutdown_retry_after=shutdown_retry_after)


def signaling(peer: Peer) -> WebSocketSignaling:
    channel = peer.engine.signaling
    assert isinstance(channel, WebSocketSignaling)
    return channel


def nothing_ended(*peers: Peer) -> None:
    for peer in peers:
        assert not peer.events.of(ev.PartnerLeft) and not peer.events.of(ev.CallEnded), peer.events.events
        assert peer.state is CallState.IN_CALL


async def frames_keep_coming(*peers: Peer, more: int = 20) -> None:
    for peer in peers:
        await peer.events.wait_frames(peer.events.remote_frame_count + more, MEDIA_TIMEOUT)


async def test_a_dropped_socket_mid_call_is_resumed_and_the_call_goes_on(cluster: Cluster) -> None:
    async with engines() as make:
        a = await make("a", cluster.next_url())
        b = await make("b", cluster.next_url())
        session = await in_call(a, b)
        await frames_keep_coming(a, b)
        await signaling(b).drop()  # no close handshake, like a crash or a Wi-Fi blink
        lost = await b.events.next(ev.SignalingLost)
        assert lost.session == session and lost.retry_in > 0 and lost.message
        assert b.events.of(ev.Disconnected)  # the connection status says so too
        assert await b.events.next(ev.Resumed) == ev.Resumed(session)
        # The partner was told its partner was away, and back; never that it left.
        assert await a.events.next(ev.PartnerReconnecting) == ev.PartnerReconnecting(session)
        assert await a.events.next(ev.PartnerResumed) == ev.PartnerResumed(session)
        await frames_keep_coming(a, b)
        nothing_ended(a, b)
        assert b.engine.model.session == session and b.engine.call is not None
        # The server has b back in the session: its leaving reaches a at once.
        await b.engine.leave()
        assert await a.events.next(ev.PartnerLeft) == ev.PartnerLeft(session, "left")


async def test_a_partner_that_vanishes_for_good_ends_the_call_after_the_grace(
    server_factory: ServerFactory,
) -> None:
    cluster = await server_factory(resume_grace=1.0)
    async with engines() as make:
        a = await make("a", cluster.next_url())
        b = await make("b", cluster.next_url())
        session = await in_call(a, b)
        await signaling(b).drop()
        await signaling(b).close()  # and never comes back
        t0 = time.monotonic()
        assert await a.events.next(ev.PartnerReconnecting) == ev.PartnerReconnecting(session)
        left = await a.events.next(ev.PartnerLeft, within=TIMEOUT + 1.0)
        assert (left.session, left.reason) == (session, "timeout")
        assert time.monotonic() - t0 >= 0.9  # not before the grace ran out
        await a.events.next(ev.CallEnded, lambda e: e.session == session)
        assert a.state is CallState.PARTNER_LEFT and a.engine.call is None


async def test_a_server_restart_mid_call_loses_no_call() -> None:
    first = Server(keyed(shutdown_retry_after=0.2))
    await first.start()
    url, port = first.url, first.port
    async with engines() as make:
        a = await make("a", url)
        b = await make("b", url)
        session = await in_call(a, b)
        await first.stop()  # SIGTERM: `shutdown`, every socket closed
        for peer in (a, b):
            assert (await peer.events.next(ev.SignalingLost)).session == session
        await frames_keep_coming(a, b)  # peer to peer: no server needed
        async with running_server(keyed(port)):
            for peer in (a, b):
                assert await peer.events.next(ev.Resumed, within=2 * TIMEOUT) == ev.Resumed(session)
            await frames_keep_coming(a, b)
            nothing_ended(a, b)
            await a.engine.leave()  # the restarted server knows the session: b hears at once
            assert await b.events.next(ev.PartnerLeft) == ev.PartnerLeft(session, "left")


async def test_end_pressed_while_the_server_is_away_reaches_the_partner_on_the_reconnect() -> None:
    """The person expects End to end the call now, and the partner to hear so as soon as it can be
    said: not after the grace period (60 s here) as if they had vanished."""
    first = Server(keyed(shutdown_retry_after=0.2))
    await first.start()
    url, port = first.url, first.port
    async with engines() as make:
        a = await make("a", url)
        b = await make("b", url)
        session = await in_call(a, b)
        await first.stop()
        await b.events.next(ev.SignalingLost)
        await b.engine.leave()  # pressed while the server is away
        ended = await b.events.next(ev.CallEnded)  # at once: media stops without the server
        assert ended.session == session and b.engine.call is None and not b.engine.signaling.connected
        async with running_server(keyed(port)):
            t0 = time.monotonic()
            left = await a.events.next(ev.PartnerLeft, within=2 * TIMEOUT)
            assert (left.session, left.reason) == (session, "left")  # told, not timed out
            assert time.monotonic() - t0 < 2 * TIMEOUT
            await a.events.next(ev.CallEnded, lambda e: e.session == session)
            await b.events.next(ev.Idle)  # the server's answer to b's leave, said after resuming
            assert not b.events.of(ev.Resumed) and b.engine.model.farewell is None  # said once, no call back


async def test_a_dropped_search_keeps_its_place_in_line(cluster: Cluster) -> None:
    async with engines() as make:
        a = await make("a", cluster.next_url())
        c = await make("c", cluster.next_url())
        b = await make("b", cluster.next_url())
        await a.engine.find("video", "maths")
        await a.events.next(ev.Queued)
        await c.engine.find("video", "art")  # not a's topic: both wait, a first
        await c.events.next(ev.Queued)
        await signaling(a).drop()
        await a.events.next(ev.Disconnected)
        assert (await a.events.next(ev.Queued)).topic == "maths"  # back in line after the reconnect
        assert not a.events.of(ev.SignalingLost)  # no call to speak of
        await b.engine.find("video", None)  # any topic: the one who waited longest is a
        matched = await b.events.next(ev.Matched)
        assert matched.session == (await a.events.next(ev.Matched)).session
        assert not c.events.of(ev.Matched)
