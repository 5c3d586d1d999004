"""What /metrics serves: this instance's counters, the backend's gauges, the process.

prometheus-client writes the exposition (Prometheus text or OpenMetrics, as the
scraper's Accept header asks), with its escaping and its process metrics. Each
`Metrics` has its own `CollectorRegistry`, not the library's global one, so that
several servers in one process (the tests, a cluster in one event loop) each
report their own figures.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from typing import Final

from prometheus_client import (
    CollectorRegistry,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector

from server.backends.base import BackendStats
from server.core import protocol as p
from server.core.auth import AUTH_FAILURE_REASONS
from server.core.tickets import RESUME_OUTCOMES

WAIT_BUCKETS: Final = (0.1, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)
DROP_REASONS: Final = ("outbox_full", "send_timeout", "abuse", "hello_timeout", "internal")
AVOID_OUTCOMES: Final = ("taken", "unreadable")


class Metrics:
    """What this instance counted since it started, and the registry that exposes it.

    The shell counts in plain attributes (`metrics.relayed += 1`, `metrics.errors[code] += 1`)
    that a collector reads at scrape time, rather than in prometheus-client's `Counter`s:
    `relayed` moves once per relayed message, the relay's hot path, whose CPU per message
    is benchmarked against PeerJS (docs/benchmarks.md), and an int increment costs about
    an eighth of a `Counter.inc()`, which takes a lock (45 ns against 350 ns, measured
    with timeit on CPython 3.11). A match's wait is observed once per match, so it is
    prometheus-client's own `Histogram`.
    """

    def __init__(
        self, stats: Callable[[], BackendStats], connections: Callable[[], int],
        online: Callable[[], int] = lambda: 0,
    ) -> None:
        self.relayed = 0
        self.errors: Counter[str] = Counter()
        self.dropped: Counter[str] = Counter()
        self.outbox_peak_bytes = 0  # the most any one connection ever had queued
        # Refused credentials and handshakes: missing/invalid/expired token, origin, ip_limit.
        self.auth_failures: Counter[str] = Counter()
        self.reports = 0
        self.penalties = 0
        self.resumes: Counter[str] = Counter()  # by outcome (RESUME_OUTCOMES)
        # Pairs whose initiator this instance told `matched`, by the study terms agreed.
        self.study_matches: Counter[tuple[str, str]] = Counter()
        self.counts_sent = 0  # `counts` messages (docs/protocol.md, "Live counts while searching")
        self.online = online  # connections that said hello, on every instance
        self.favourite_matches = 0  # pairs made by a shared rendezvous token, counted by the initiator's instance
        self.avoid_tokens: Counter[str] = Counter()  # by outcome (AVOID_OUTCOMES)

        self.registry = CollectorRegistry()
        self.registry.register(_Counted(self, stats, connections))
        self.match_wait = Histogram(
            "studymatch_match_wait_seconds",
            "How long a client waited in the queue before it was matched.",
            buckets=WAIT_BUCKETS,
            registry=self.registry,
        )
        ProcessCollector(registry=self.registry)  # CPU, memory, open files (Linux)
        PlatformCollector(registry=self.registry)  # python_info
        GCCollector(registry=self.registry)

    def count_match(self, study: p.Study) -> None:
        self.study_matches[("open" if study.length is None else str(study.length), study.talk)] += 1

    def exposition(self, accept: str) -> tuple[bytes, str]:
        """The /metrics body and its content type, in the format the Accept header asks for."""
        try:
            encode, content_type = choose_encoder(accept)
        except (TypeError, ValueError):
            # prometheus-client 0.26 raises TypeError for a version that is not a number
            # (`text/plain;version=abc`): answer as if no format was asked for, not with a 500.
            encode, content_type = choose_encoder("")
        return encode(self.registry), content_type


class _Counted(Collector):
    """Reads the shell's counters, its open connections and the backend's figures at scrape time."""

    def __init__(self, metrics: Metrics, stats: Callable[[], BackendStats], connections: Callable[[], int]) -> None:
        self._metrics = metrics
        self._stats = stats
        self._connections = connections

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
        m, stats = self._metrics, self._stats()
        yield GaugeMetricFamily("studymatch_connections", "Open WebSocket connections on this instance.",
                                value=self._connections())
        waiting = GaugeMetricFamily("studymatch_waiting", "Clients waiting for a partner, by mode.",
                                    labels=["mode"])
        for mode in p.MODES:
            waiting.add_metric([mode], stats.waiting.get(mode, 0))
        yield waiting
        yield GaugeMetricFamily("studymatch_sessions", "Sessions in progress.", value=stats.sessions)
        yield CounterMetricFamily("studymatch_matches_total", "Pairs made.", value=stats.matches_total)
        yield GaugeMetricFamily("studymatch_backend_up", "1 when the backend answers.",
                                value=1 if stats.healthy else 0)
        yield CounterMetricFamily("studymatch_relayed_messages_total",
                                  "Signal messages delivered to a partner.", value=m.relayed)
        yield _by("studymatch_errors_total", "Error messages sent, by code.", "code",
                  m.errors, p.ALL_ERROR_CODES)
        yield _by("studymatch_dropped_connections_total",
                  "Connections the server closed because of the client, by reason.", "reason",
                  m.dropped, DROP_REASONS)
        yield GaugeMetricFamily("studymatch_outbox_peak_bytes",
                                "The most bytes ever queued for one connection (bounded by the outbox limit).",
                                value=m.outbox_peak_bytes)
        yield _by("studymatch_auth_failures_total", "Refused hellos and handshakes, by reason.", "reason",
                  m.auth_failures, AUTH_FAILURE_REASONS)
        yield CounterMetricFamily("studymatch_reports_total", "Reports taken by this instance.",
                                  value=m.reports)
        yield CounterMetricFamily("studymatch_report_penalties_total",
                                  "Clients refused new matches after reports by several partners.",
                                  value=m.penalties)
        yield _by("studymatch_resumes_total", "Resume requests, by outcome.", "outcome",
                  m.resumes, RESUME_OUTCOMES)
        study = CounterMetricFamily("studymatch_study_matches_total",
                                    "Pairs made, by the session length and talk agreed (counted by the "
                                    "initiator's instance).", labels=["length", "talk"])
        lengths = ["open", *(str(length) for length in p.LENGTHS)]
        for labels in sorted({*((length, talk) for length in lengths for talk in p.TALKS), *m.study_matches}):
            study.add_metric(list(labels), m.study_matches[labels])
        yield study
        yield GaugeMetricFamily("studymatch_online",
                                "Connections that said hello (with a shared backend: on every instance).",
                                value=m.online())
        yield CounterMetricFamily("studymatch_counts_sent_total", "Counts messages sent by this instance.",
                                  value=m.counts_sent)
        yield CounterMetricFamily("studymatch_favourite_matches_total",
                                  "Pairs made by a shared rendezvous token (counted by the initiator's instance).",
                                  value=m.favourite_matches)
        yield _by("studymatch_avoid_tokens_total", "Avoid tokens received, by outcome.", "outcome",
                  m.avoid_tokens, AVOID_OUTCOMES)


def _by(name: str, help_text: str, label: str, counts: Counter[str], known: tuple[str, ...]) -> CounterMetricFamily:
    """A counter by one label; every known value is listed, 0 included, so rate() sees it from the start."""
    family = CounterMetricFamily(name, help_text, labels=[label])
    for value in sorted({*known, *counts}):
        family.add_metric([value], counts[value])
    return family
