"""Counters for /metrics, and the Prometheus text format written by hand.

The format is small (https://prometheus.io/docs/instrumenting/exposition_formats/),
so this avoids a dependency; the gauges that live in the backend (waiting,
sessions, matches) are read from `BackendStats` when rendering.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable
from typing import Final

from server.backends.base import BackendStats
from server.core import protocol as p
from server.core.auth import AUTH_FAILURE_REASONS

WAIT_BUCKETS: Final = (0.1, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)
DROP_REASONS: Final = ("outbox_full", "send_timeout", "abuse", "hello_timeout", "internal")


class Histogram:
    def __init__(self, buckets: Iterable[float]) -> None:
        self.bounds = tuple(sorted(buckets))
        self.counts = [0] * (len(self.bounds) + 1)  # the last one is +Inf
        self.sum = 0.0
        self.count = 0

    def observe(self, value: float) -> None:
        self.counts[bisect_left(self.bounds, value)] += 1
        self.sum += value
        self.count += 1

    def cumulative(self) -> list[tuple[str, int]]:
        out, running = [], 0
        for bound, count in zip((*map(_num, self.bounds), "+Inf"), self.counts, strict=True):
            running += count
            out.append((bound, running))
        return out


class Metrics:
    """What this instance counted since it started."""

    def __init__(self) -> None:
        self.connections = 0
        self.relayed = 0
        self.errors: Counter[str] = Counter()
        self.dropped: Counter[str] = Counter()
        self.match_wait = Histogram(WAIT_BUCKETS)
        self.outbox_peak_bytes = 0  # the most any one connection ever had queued
        # Refused credentials and handshakes: missing/invalid/expired token, origin, ip_limit.
        self.auth_failures: Counter[str] = Counter()
        self.reports = 0
        self.penalties = 0

    def render(self, stats: BackendStats) -> str:
        lines: list[str] = []

        def family(name: str, kind: str, help_text: str, samples: Iterable[tuple[str, float]]) -> None:
            lines.append(f"# HELP {name} {help_text}")
            lines.append(f"# TYPE {name} {kind}")
            lines.extend(f"{name}{labels} {_num(value)}" for labels, value in samples)

        family("studymatch_connections", "gauge", "Open WebSocket connections on this instance.",
               [("", self.connections)])
        family("studymatch_waiting", "gauge", "Clients waiting for a partner, by mode.",
               [(_labels(mode=mode), stats.waiting.get(mode, 0)) for mode in p.MODES])
        family("studymatch_sessions", "gauge", "Sessions in progress.", [("", stats.sessions)])
        family("studymatch_matches_total", "counter", "Pairs made.", [("", stats.matches_total)])
        family("studymatch_backend_up", "gauge", "1 when the backend answers.",
               [("", 1 if stats.healthy else 0)])
        name = "studymatch_match_wait_seconds"
        lines.append(f"# HELP {name} How long a client waited in the queue before it was matched.")
        lines.append(f"# TYPE {name} histogram")
        lines.extend(f"{name}_bucket{_labels(le=le)} {n}" for le, n in self.match_wait.cumulative())
        lines.append(f"{name}_sum {_num(self.match_wait.sum)}")
        lines.append(f"{name}_count {self.match_wait.count}")
        family("studymatch_relayed_messages_total", "counter", "Signal messages delivered to a partner.",
               [("", self.relayed)])
        family("studymatch_errors_total", "counter", "Error messages sent, by code.",
               [(_labels(code=c), self.errors[c]) for c in sorted({*p.ALL_ERROR_CODES, *self.errors})])
        family("studymatch_dropped_connections_total", "counter",
               "Connections the server closed because of the client, by reason.",
               [(_labels(reason=r), self.dropped[r]) for r in sorted({*DROP_REASONS, *self.dropped})])
        family("studymatch_outbox_peak_bytes", "gauge",
               "The most bytes ever queued for one connection (bounded by the outbox limit).",
               [("", self.outbox_peak_bytes)])
        family("studymatch_auth_failures_total", "counter",
               "Refused hellos and handshakes, by reason.",
               [(_labels(reason=r), self.auth_failures[r])
                for r in sorted({*AUTH_FAILURE_REASONS, *self.auth_failures})])
        family("studymatch_reports_total", "counter", "Reports taken by this instance.",
               [("", self.reports)])
        family("studymatch_report_penalties_total", "counter",
               "Clients refused new matches after reports by several partners.", [("", self.penalties)])
        return "\n".join(lines) + "\n"


def _num(value: float) -> str:
    if isinstance(value, int) or float(value).is_integer():
        return str(int(value))
    return repr(float(value))


def _labels(**labels: str) -> str:
    def escape(value: str) -> str:
        return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')

    return "{" + ",".join(f'{k}="{escape(v)}"' for k, v in labels.items()) + "}"
