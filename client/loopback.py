"""Same-machine calls with no network: loopback ICE candidates when the server is local.

aioice leaves 127.0.0.1 and ::1 out of its host candidates (they are useless
between machines), so two clients on one machine connect over its other
interfaces; on a laptop with no network at all (only `lo`), the lobby's Test
call and a two-window demo would never connect. When the signaling server is
on this machine (a loopback URL), every client of that server is on this
machine too, so offering 127.0.0.1 as well is safe; calls through a server
elsewhere are untouched.

aioice has no option for extra host addresses: each ICE gatherer's connection
gets them by wrapping its `get_component_candidates`, which receives the host
address list (aioice 0.13, aiortc 1.16).
"""

from __future__ import annotations

import ipaddress
from typing import Any
from urllib.parse import urlsplit

from aiortc import RTCPeerConnection

LOOPBACK_ADDRESS = "127.0.0.1"


def is_loopback_url(url: str) -> bool:
    """ws://127.0.0.1:8765/ws, ws://[::1]/ws, ws://localhost/ws: the server is on this machine."""
    host = urlsplit(url).hostname
    if host is None:
        return False
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _gatherers(pc: RTCPeerConnection) -> list[Any]:
    transports = [t.receiver.transport for t in pc.getTransceivers()]
    if pc.sctp is not None:
        transports.append(pc.sctp.transport)
    return [dtls.transport.iceGatherer for dtls in transports if dtls is not None]


def offer_loopback_candidates(pc: RTCPeerConnection) -> None:
    """Before setLocalDescription: every ICE gatherer of `pc` also binds 127.0.0.1.
    Not for the relay-only policy, which must offer no host candidate at all."""
    for gatherer in _gatherers(pc):
        connection = gatherer._connection  # aioice.Connection
        if getattr(connection, "_studymatch_loopback", False):
            continue
        original = connection.get_component_candidates

        async def with_loopback(component: int, addresses: list[str], original: Any = original,
                                **options: Any) -> list[Any]:
            if LOOPBACK_ADDRESS not in addresses:  # empty too: offline, only lo is up
                addresses = [*addresses, LOOPBACK_ADDRESS]
            return await original(component=component, addresses=addresses, **options)

        connection.get_component_candidates = with_loopback
        connection._studymatch_loopback = True
