"""Turn call statistics into a label a person understands (pure; no Qt)."""

from __future__ import annotations

from dataclasses import dataclass

from client import messages

# Thresholds follow common VoIP guidance: past ~300 ms round trip people talk
# over each other; past ~5 % loss video freezes and speech breaks up.
_GOOD_RTT_MS = 150.0
_FAIR_RTT_MS = 300.0
_GOOD_LOSS = 1.0
_FAIR_LOSS = 5.0


@dataclass(frozen=True)
class Quality:
    level: str  # "good" | "fair" | "poor" | "unknown"
    bars: int  # 0..3
    text: str
    detail: str


def classify(rtt_ms: float | None, loss_percent: float | None, bitrate_kbps: float | None) -> Quality:
    if rtt_ms is None and loss_percent is None:
        level = "unknown"
    else:
        rtt = rtt_ms or 0.0
        loss = loss_percent or 0.0
        if rtt <= _GOOD_RTT_MS and loss <= _GOOD_LOSS:
            level = "good"
        elif rtt <= _FAIR_RTT_MS and loss <= _FAIR_LOSS:
            level = "fair"
        else:
            level = "poor"
    bars = {"good": 3, "fair": 2, "poor": 1, "unknown": 0}[level]
    detail = messages.QUALITY_DETAIL.format(
        rtt=messages.NOT_MEASURED if rtt_ms is None else f"{rtt_ms:.0f} ms",
        loss=messages.NOT_MEASURED if loss_percent is None else f"{loss_percent:.1f} %",
        bitrate=messages.NOT_MEASURED if bitrate_kbps is None else f"{bitrate_kbps:.0f} kbit/s",
    )
    text = messages.QUALITY_TEXT.format(label=messages.QUALITY_LABELS[level])
    return Quality(level, bars, text, detail)
