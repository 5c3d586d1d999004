"""One track over two real aiortc peers on this machine: what a partner's receiver gets."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from aiortc import RTCConfiguration, RTCPeerConnection
from aiortc.mediastreams import MediaStreamTrack

from integration.wsclient import TIMEOUT


@contextlib.asynccontextmanager
async def loopback(track: MediaStreamTrack) -> AsyncIterator[MediaStreamTrack]:
    """Send `track` from one peer connection to another (no ICE servers: host candidates on
    loopback) and yield the receiver's remote track; both connections close on the way out."""
    sender = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    receiver = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    tracks: asyncio.Queue[MediaStreamTrack] = asyncio.Queue()
    receiver.on("track", tracks.put_nowait)
    try:
        sender.addTrack(track)
        await sender.setLocalDescription(await sender.createOffer())
        await receiver.setRemoteDescription(sender.localDescription)
        await receiver.setLocalDescription(await receiver.createAnswer())
        await sender.setRemoteDescription(receiver.localDescription)
        yield await asyncio.wait_for(tracks.get(), TIMEOUT)
    finally:
        await sender.close()
        await receiver.close()
