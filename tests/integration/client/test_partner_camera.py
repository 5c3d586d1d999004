"""The partner is told when my camera is off: real engines, a real server, real aiortc peers.

The state travels peer to peer on the `state` data channel (client/peerstate.py),
never through the server. Media is synthetic (this machine has no camera), but
the camera failure goes through the real sharing code (`SharedCamera`) with a
stand-in device that can be unplugged and plugged back in.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription

from client import events as ev
from client import messages
from client.loopback import offer_loopback_candidates
from client.media.camera import SyntheticCamera
from client.media.devices import DeviceError
from client.media.factory import MediaFactory
from client.media.synthetic import PatternVideoTrack, ToneAudioTrack, read_pattern
from integration.client.test_call_engine import in_call
from integration.conftest import Cluster
from integration.engines import MEDIA_TIMEOUT, Peer, engines
from integration.wsclient import TIMEOUT

# The state channel does not depend on the server's backend: one is enough.
pytestmark = pytest.mark.parametrize("backend", ["memory"])


class UnpluggableCamera(SyntheticCamera):
    """The synthetic device, failing in its reader thread while `unplugged` is set."""

    def __init__(self, unplugged: threading.Event) -> None:
        super().__init__(320, 240, 30)
        self._unplugged = unplugged

    def read(self) -> Any:
        if self._unplugged.is_set():
            raise DeviceError("camera", "not_found", messages.CAMERA_LOST, "unplugged by the test")
        return super().read()


async def wait_for_pattern(peer: Peer, present: bool) -> None:
    """Until the partner's latest frame does (or does not) carry the test pattern."""
    async with asyncio.timeout(MEDIA_TIMEOUT):
        while True:
            await peer.events.wait_frames(peer.events.remote_frame_count + 1)
            frame = peer.events.remote_frames[-1].frame
            if (read_pattern(frame) is not None) == present:
                return


async def test_camera_off_and_on_tells_the_partner(cluster: Cluster) -> None:
    async with engines() as make:
        a = await make("a", cluster.next_url())
        b = await make("b", cluster.next_url())
        session = await in_call(a, b)
        # Both say their camera is on when the channel opens, whichever side opened it.
        assert await b.events.next(ev.PartnerCamera) == ev.PartnerCamera(session, True)
        assert await a.events.next(ev.PartnerCamera) == ev.PartnerCamera(session, True)

        await a.engine.set_camera_enabled(False)
        assert await b.events.next(ev.PartnerCamera, within=MEDIA_TIMEOUT) == ev.PartnerCamera(session, False)
        await a.engine.set_camera_enabled(True)
        assert await b.events.next(ev.PartnerCamera, within=MEDIA_TIMEOUT) == ev.PartnerCamera(session, True)
        await wait_for_pattern(b, present=True)

        # The other way round, from the side that did not open the channel.
        await b.engine.set_camera_enabled(False)
        assert await a.events.next(ev.PartnerCamera, within=MEDIA_TIMEOUT) == ev.PartnerCamera(session, False)
        # Only changes are news: b heard about a's camera three times, a about b's twice.
        assert len(b.events.of(ev.PartnerCamera)) == 3
        assert len(a.events.of(ev.PartnerCamera)) == 2


async def test_a_call_that_starts_with_the_camera_off_says_so(cluster: Cluster) -> None:
    async with engines() as make:
        a = await make("a", cluster.next_url())
        b = await make("b", cluster.next_url())
        await a.engine.set_camera_enabled(False)
        session = await in_call(a, b)
        assert await b.events.next(ev.PartnerCamera) == ev.PartnerCamera(session, False)
        assert await a.events.next(ev.PartnerCamera) == ev.PartnerCamera(session, True)


async def test_a_camera_failing_mid_call_tells_the_partner_and_comes_back(cluster: Cluster) -> None:
    unplugged = threading.Event()
    holder: list[Peer] = []

    def device_failed(err: DeviceError) -> None:
        holder[0].engine.on_device_error(err)  # as the engine wires its own MediaFactory

    media_b = MediaFactory(
        fake_media=True, camera_source=lambda: UnpluggableCamera(unplugged), on_device_error=device_failed
    )
    async with engines() as make:
        a = await make("a", cluster.next_url())
        b = await make("b", cluster.next_url(), media=media_b)
        holder.append(b)
        session = await in_call(a, b)
        assert await a.events.next(ev.PartnerCamera) == ev.PartnerCamera(session, True)
        await wait_for_pattern(a, present=True)

        unplugged.set()
        assert (await b.events.next(ev.DeviceErrorEvent)).device == "camera"
        assert await a.events.next(ev.PartnerCamera, within=MEDIA_TIMEOUT) == ev.PartnerCamera(session, False)
        # a still gets frames (black), not a picture frozen when the sender stopped.
        await wait_for_pattern(a, present=False)
        await a.events.wait_frames(a.events.remote_frame_count + 10, MEDIA_TIMEOUT)

        # Plugged back in and "Try again": the camera returns to this very call.
        unplugged.clear()
        await b.engine.retry_devices()
        assert await a.events.next(ev.PartnerCamera, within=MEDIA_TIMEOUT) == ev.PartnerCamera(session, True)
        await wait_for_pattern(a, present=True)
        assert b.engine.call is not None and b.engine.call.session == session


async def test_an_audio_call_says_nothing_about_cameras(cluster: Cluster) -> None:
    async with engines() as make:
        a = await make("a", cluster.next_url())
        b = await make("b", cluster.next_url())
        session = await in_call(a, b, mode="audio")
        # Chat both ways: the state channel opened together with the chat channel.
        for sender, receiver in ((a, b), (b, a)):
            await sender.engine.send_chat("hi")
            await receiver.events.next(ev.ChatMessage, lambda e: not e.mine and e.session == session)
        await a.engine.set_camera_enabled(False)
        await a.engine.set_camera_enabled(True)
        await a.engine.send_chat("after")
        await b.events.next(ev.ChatMessage, lambda e: e.text == "after")
        assert a.events.of(ev.PartnerCamera) == [] and b.events.of(ev.PartnerCamera) == []


async def test_a_partner_without_the_state_channel_changes_nothing(cluster: Cluster) -> None:
    """An older client (or a browser page) that opens only `chat`: the call works, nothing is claimed."""
    old = await cluster.connect()
    await old.find("video")
    async with engines() as make:
        b = await make("b", cluster.next_url())
        await b.engine.find("video")
        matched = await old.expect("matched", initiator=True)
        session = matched["session"]
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        video = PatternVideoTrack(320, 240, 30)
        try:
            pc.addTrack(ToneAudioTrack())
            pc.addTrack(video)
            chat = pc.createDataChannel("chat")
            chat_open = asyncio.Event()
            chat.on("open", chat_open.set)
            offer = await pc.createOffer()
            offer_loopback_candidates(pc)  # as the engine does: the server is on this machine
            await pc.setLocalDescription(offer)
            desc = pc.localDescription
            await old.send({"type": "signal", "session": session, "data": {"type": desc.type, "sdp": desc.sdp}})
            answer = await old.expect("signal", within=MEDIA_TIMEOUT)
            await pc.setRemoteDescription(RTCSessionDescription(**answer["data"]))

            await b.events.next(ev.MediaConnected, within=MEDIA_TIMEOUT)
            await b.events.wait_frames(10, MEDIA_TIMEOUT)
            await asyncio.wait_for(chat_open.wait(), TIMEOUT)
            chat.send("hello from an old client")
            await b.events.next(ev.ChatMessage, lambda e: e.text == "hello from an old client")
            assert b.events.of(ev.PartnerCamera) == []
            assert any(read_pattern(f.frame) is not None for f in b.events.remote_frames)
        finally:
            await b.engine.leave()
            await pc.close()
