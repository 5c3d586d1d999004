"""The camera rests while the screen is shared: real engines on a real server, a real call.

Nobody sees the camera then (the partner gets the screen, the self-view says "sharing"), so
its reader thread reads nothing, runs no blur and hands nothing on; the device stays open,
so sharing stops without a reopen that could meet "camera busy".
"""

from __future__ import annotations

import asyncio

import pytest

from client import events as ev
from integration.client.test_call_engine import in_call
from integration.conftest import Cluster
from integration.engines import MEDIA_TIMEOUT, Peer, engines
from integration.wsclient import TIMEOUT

pytestmark = pytest.mark.parametrize("backend", ["memory"])  # a client matter: one backend is enough


async def reads(peer: Peer) -> int:
    """The camera's reads over half a second (15 at 30 fps)."""
    before = peer.engine.media.camera_frames[0]
    await asyncio.sleep(0.5)
    return peer.engine.media.camera_frames[0] - before


async def test_the_camera_rests_while_the_screen_is_shared_and_after_a_call_that_ends_sharing(
    cluster: Cluster,
) -> None:
    async with engines() as make:
        a = await make("a", cluster.next_url())
        b = await make("b", cluster.next_url())
        await in_call(a, b)
        assert await reads(a) > 5

        await a.engine.share_screen("fake")
        assert (await a.events.next(ev.ScreenShare, within=MEDIA_TIMEOUT)).on
        await asyncio.sleep(0.2)  # a read under way ends first
        assert a.engine.media.camera_resting and await reads(a) == 0
        assert a.engine.media.camera_is_open and a.engine.media.camera_opens == 1

        a.engine.stop_screen_share()
        assert not (await a.events.next(ev.ScreenShare, within=TIMEOUT)).on
        assert not a.engine.media.camera_resting and await reads(a) > 5
        assert a.engine.media.camera_opens == 1  # the same device all along

        await a.engine.share_screen("fake")
        assert (await a.events.next(ev.ScreenShare, within=MEDIA_TIMEOUT)).on
        assert a.engine.media.camera_resting
        await a.engine.leave()  # the call ends while sharing: the camera is back for what comes next
        await a.events.next(ev.CallEnded, within=TIMEOUT)
        assert not a.engine.media.camera_resting
