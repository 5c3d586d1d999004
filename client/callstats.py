"""A call's connection quality from aiortc's getStats(): round trip, loss, bitrate.

Pure: takes the report's stats objects and the previous snapshot, so rates are
measured between two reports without the call keeping more than one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class StatsSnapshot:
    at: float
    bytes_received: int
    packets_received: int
    packets_lost: int


def summarize_stats(
    stats: list[Any], previous: StatsSnapshot | None, now: float
) -> tuple[StatsSnapshot, float | None, float | None, float | None]:
    """(snapshot, rtt ms, loss %, receive kbps) from one getStats() report, rates since `previous`."""
    rtts = [s.roundTripTime for s in stats if s.type == "remote-inbound-rtp" and s.roundTripTime]
    inbound = [s for s in stats if s.type == "inbound-rtp"]
    transports = {s.id: s for s in stats if s.type == "transport"}
    snap = StatsSnapshot(
        at=now,
        bytes_received=sum(t.bytesReceived for t in transports.values()),
        packets_received=sum(s.packetsReceived for s in inbound),
        packets_lost=sum(max(0, s.packetsLost) for s in inbound),
    )
    rtt_ms = 1000.0 * max(rtts) if rtts else None
    loss = kbps = None
    if previous is not None and now > previous.at:
        got = snap.packets_received - previous.packets_received
        lost = snap.packets_lost - previous.packets_lost
        if got + lost > 0:
            loss = 100.0 * max(0, lost) / (got + lost)
        kbps = 8.0 * (snap.bytes_received - previous.bytes_received) / (now - previous.at) / 1000.0
    return snap, rtt_ms, loss, kbps
