"""One RTCPeerConnection of a call: its negotiation, tracks and data channels, and its bounded close.

A call (client/call.py) has one of these at a time, and builds a new one when the
network took the old one away (aiortc has no `restartIce`). What a peer connection
reports goes to the call through `PeerEvents`, with the `Peer` it came from, so the
call can tell the current connection from a retired one.

The tracks the call keeps (the microphone gate, the switchable video) outlive any one
peer connection: `pc.close()` stops every track it sends, so each connection is given
tracks of its own over them (client/calltracks.py).

aiortc has no trickle ICE: `setLocalDescription` returns after gathering, so the
offer/answer carry every candidate and a signal's data is the browser's
RTCSessionDescription JSON, `{"type": "offer"|"answer", "sdp": ...}` (plus `restart`
on a rebuilt connection), so a web client could join.

Loopback note: aioice leaves 127.0.0.1 out of its host candidates, so two clients on
one machine connect over the machine's other interfaces; when the server is on this
machine (`loopback=True`), 127.0.0.1 is offered as well (client/loopback.py).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from aiortc import (
    RTCConfiguration,
    RTCDataChannel,
    RTCIceServer,
    RTCIceTransportPolicy,
    RTCPeerConnection,
    RTCSessionDescription,
)
from aiortc.mediastreams import MediaStreamTrack

from .loopback import offer_loopback_candidates
from .peerstate import STATE_CHANNEL
from .tracks import ObservedTrack

log = logging.getLogger("studymatch.client.peer")

CHAT_CHANNEL = "chat"
CLOSE_TIMEOUT = 5.0

T = TypeVar("T")


def ice_configuration(ice_servers: list[dict[str, Any]], relay_only: bool = False) -> RTCConfiguration:
    """Always explicit: given no list, aiortc would fall back to a public STUN server."""
    servers = [
        RTCIceServer(urls=s["urls"], username=s.get("username"), credential=s.get("credential"))
        for s in ice_servers
    ]
    if relay_only:
        return RTCConfiguration(iceServers=servers, iceTransportPolicy=RTCIceTransportPolicy.RELAY)
    return RTCConfiguration(iceServers=servers)


@dataclass(frozen=True)
class PeerEvents:
    """What a peer connection tells its call; each gets the Peer it came from."""

    state: Callable[[Peer], None]  # connectionState changed
    track: Callable[[Peer, MediaStreamTrack], None]  # a remote track, observed (see `heard`)
    heard: Callable[[Peer, str], None]  # a remote frame of this kind ("audio" | "video") arrived
    chat: Callable[[Peer, str], None]
    state_message: Callable[[Peer, str | bytes], None]
    state_open: Callable[[Peer], None]


class Peer:
    def __init__(self, configuration: RTCConfiguration, *, restart: int, loopback: bool,
                 events: PeerEvents, name: str) -> None:  # fmt: skip
        self.restart = restart  # 0: the call's first connection; then each rebuild's number
        self.name = name
        self.pc = RTCPeerConnection(configuration)
        self._loopback = loopback
        self._events = events
        self.chat: RTCDataChannel | None = None
        self.state: RTCDataChannel | None = None
        self.description: dict[str, Any] | None = None  # our offer or answer, to send again
        self._step: asyncio.Future[Any] | None = None  # the aiortc call in progress, if any
        self.closing: asyncio.Task[None] | None = None
        self._close_timeout = CLOSE_TIMEOUT
        self.pc.on("connectionstatechange", lambda: events.state(self))
        self.pc.on("track", self._remote_track)
        self.pc.on("datachannel", self._datachannel)

    @property
    def connection_state(self) -> str:
        return str(self.pc.connectionState)

    # --- negotiation -------------------------------------------------------------------------

    def add_tracks(self, audio: MediaStreamTrack, video: MediaStreamTrack | None, receive_video: bool) -> None:
        """Send these tracks: this connection's own, as closing it stops them."""
        self.pc.addTrack(audio)
        if video is not None:
            self.pc.addTrack(video)
        elif receive_video:
            self.pc.addTransceiver("video", direction="recvonly")

    def open_channels(self) -> None:
        """The initiator opens both channels; the responder is handed them (`datachannel`)."""
        self._datachannel(self.pc.createDataChannel(CHAT_CHANNEL))
        self._datachannel(self.pc.createDataChannel(STATE_CHANNEL))

    async def offer(self) -> dict[str, Any]:
        await self.step(self._describe(self.pc.createOffer))
        return self._described()

    async def answer(self, sdp: str, add_tracks: Callable[[], None]) -> dict[str, Any]:
        await self.step(self.pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer")))
        add_tracks()  # after the offer, so addTrack reuses its transceivers
        await self.step(self._describe(self.pc.createAnswer))
        return self._described()

    async def take_answer(self, sdp: str) -> None:
        await self.step(self.pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="answer")))

    @property
    def answered(self) -> bool:
        return self.pc.remoteDescription is not None

    async def _describe(self, create: Callable[[], Awaitable[RTCSessionDescription]]) -> None:
        """Create the offer or answer and set it locally, which gathers the ICE candidates."""
        description = await create()
        if self._loopback:
            offer_loopback_candidates(self.pc)
        await self.pc.setLocalDescription(description)

    def _described(self) -> dict[str, Any]:
        desc = self.pc.localDescription
        self.description = {"type": desc.type, "sdp": desc.sdp}
        if self.restart:
            self.description["restart"] = self.restart
        return self.description

    async def step(self, step: Awaitable[T]) -> T:
        """Run one aiortc call to its end even if the call ends meanwhile.

        aiortc's calls are not safe to cancel: while gathering, aioice binds one UDP
        socket per host address and records them only once all are bound, so a call
        ended in between (End pressed just after matching) would lose those sockets,
        open for good. The step runs in its own task; close() waits for it before it
        closes the peer connection.
        """
        task = asyncio.ensure_future(step)
        self._step = task
        return await asyncio.shield(task)

    # --- what the connection reports -----------------------------------------------------------

    def _remote_track(self, track: MediaStreamTrack) -> None:
        self._events.track(self, ObservedTrack(track, lambda: self._events.heard(self, track.kind)))

    def _datachannel(self, channel: RTCDataChannel) -> None:
        if channel.label == STATE_CHANNEL:
            self.state = channel
            channel.on("message", lambda message: self._events.state_message(self, message))
            # The answer side is handed the channel already open (aiortc opens, then announces).
            if channel.readyState == "open":
                self._events.state_open(self)
            else:
                channel.on("open", lambda: self._events.state_open(self))
        elif channel.label == CHAT_CHANNEL:
            self.chat = channel

            def on_message(message: str | bytes) -> None:
                if isinstance(message, str):
                    self._events.chat(self, message)

            channel.on("message", on_message)

    def _can_send(self, channel: RTCDataChannel | None) -> bool:
        """A channel stays "open" after its connection failed (aiortc has no ICE restart, so a
        failed connection never comes back); a send then only fails inside aiortc (lostsends.py)."""
        return channel is not None and channel.readyState == "open" and self.connection_state == "connected"

    @property
    def chat_open(self) -> bool:
        return self._can_send(self.chat)

    def send_chat(self, text: str) -> bool:
        channel = self.chat
        if channel is None or not self._can_send(channel):
            return False
        channel.send(text)
        return True

    @property
    def state_open(self) -> bool:
        return self._can_send(self.state)

    def send_state(self, message: str) -> bool:
        if self.state is None or not self.state_open:
            return False
        self.state.send(message)
        return True

    # --- the end ---------------------------------------------------------------------------------

    def close(self, timeout: float = CLOSE_TIMEOUT) -> asyncio.Task[None]:
        """Close in the background, at most about 2 x `timeout`, never raising (`closing`)."""
        if self.closing is None:
            self._close_timeout = timeout
            self.closing = asyncio.create_task(self._close(), name=f"close-{self.name}")
        return self.closing

    async def _close(self) -> None:
        timeout = self._close_timeout
        await self._finish_step()
        try:
            await asyncio.wait_for(self.pc.close(), timeout)
            return
        except TimeoutError:
            # Seen after an address change: a goodbye to a partner no longer reachable.
            log.warning("%s: the peer connection did not close in %s s; stopping its sockets", self.name, timeout)
        except Exception as exc:  # aiortc on a broken path; the sockets still must go
            log.warning("%s: closing the peer connection failed (%r); stopping its sockets", self.name, exc)
        await self._stop_ice()

    async def _stop_ice(self) -> None:
        """What pc.close() does last, on its own: close every ICE transport, so no socket stays open."""
        transports = [t.receiver.transport for t in self.pc.getTransceivers()]
        if self.pc.sctp is not None:
            transports.append(self.pc.sctp.transport)
        for dtls in transports:
            if dtls is None:
                continue
            try:
                await asyncio.wait_for(dtls.transport.stop(), self._close_timeout)
            except Exception as exc:
                log.warning("%s: an ICE transport did not stop: %r", self.name, exc)

    async def _finish_step(self) -> None:
        """Let an aiortc step the negotiation was cancelled in finish (see `step`)."""
        timeout = self._close_timeout
        step, self._step = self._step, None
        if step is None:
            return
        done, _ = await asyncio.wait([step], timeout=timeout)
        if not done:  # gathering is bounded by aioice's own timeouts; this is a last resort
            log.warning("%s: an aiortc step did not finish in %s s", self.name, timeout)
            step.cancel()
        elif not step.cancelled() and step.exception() is not None:
            log.info("%s: the last aiortc step failed after the call ended: %r", self.name, step.exception())
