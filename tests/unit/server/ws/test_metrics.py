"""/metrics' body: the shell's counters and the backend's figures, read when scraped.

(The HTTP side, content negotiation over a real socket, is in tests/integration/server/ws/test_http.py.)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import pytest
from prometheus_client.metrics_core import Metric
from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_openmetrics
from prometheus_client.parser import text_string_to_metric_families as parse_text

from server.backends.base import BackendStats
from server.ws.metrics import Metrics

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def samples(text: str, parse: Callable[[str], Iterable[Metric]] = parse_text) -> Samples:
    """Every sample, by name and sorted labels, as prometheus-client's own parser reads it."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in parse(text)
        for s in family.samples
    }


def test_counters_and_backend_figures_in_the_text_format() -> None:
    stats = BackendStats(waiting={"video": 1, "audio": 0}, sessions=2, matches_total=5)
    metrics = Metrics(lambda: stats, lambda: 4)
    metrics.match_wait.observe(0.05)
    metrics.match_wait.observe(3.0)
    metrics.errors["bad_json"] += 2
    metrics.relayed += 7
    metrics.dropped["abuse"] += 1
    metrics.auth_failures["origin"] += 1
    body, content_type = metrics.exposition("")
    assert content_type == "text/plain; version=0.0.4; charset=utf-8"
    got = samples(body.decode())
    assert got[("studymatch_waiting", (("mode", "video"),))] == 1
    assert got[("studymatch_waiting", (("mode", "audio"),))] == 0
    assert got[("studymatch_sessions", ())] == 2
    assert got[("studymatch_matches_total", ())] == 5
    assert got[("studymatch_backend_up", ())] == 1
    assert got[("studymatch_connections", ())] == 4
    assert got[("studymatch_relayed_messages_total", ())] == 7
    assert got[("studymatch_errors_total", (("code", "bad_json"),))] == 2
    assert got[("studymatch_errors_total", (("code", "refused"),))] == 0  # every code, 0 included
    assert got[("studymatch_dropped_connections_total", (("reason", "abuse"),))] == 1
    assert got[("studymatch_dropped_connections_total", (("reason", "outbox_full"),))] == 0
    assert got[("studymatch_auth_failures_total", (("reason", "origin"),))] == 1
    assert got[("studymatch_auth_failures_total", (("reason", "expired"),))] == 0
    assert got[("studymatch_match_wait_seconds_bucket", (("le", "0.1"),))] == 1
    assert got[("studymatch_match_wait_seconds_bucket", (("le", "5.0"),))] == 2
    assert got[("studymatch_match_wait_seconds_bucket", (("le", "+Inf"),))] == 2
    assert got[("studymatch_match_wait_seconds_sum", ())] == 3.05
    assert got[("studymatch_match_wait_seconds_count", ())] == 2
    # The process itself, from prometheus-client's collectors (process_* is Linux's /proc).
    names = {name for name, _ in got}
    assert {"python_info", "process_cpu_seconds_total", "python_gc_collections_total"} <= names


def test_backend_figures_are_read_at_each_scrape() -> None:
    stats = [BackendStats(waiting={}, sessions=0, matches_total=0, healthy=True)]
    metrics = Metrics(lambda: stats[-1], lambda: 0)
    assert samples(metrics.exposition("")[0].decode())[("studymatch_backend_up", ())] == 1
    stats.append(BackendStats(waiting={"audio": 3}, sessions=1, matches_total=9, healthy=False))
    got = samples(metrics.exposition("")[0].decode())
    assert got[("studymatch_backend_up", ())] == 0
    assert got[("studymatch_waiting", (("mode", "audio"),))] == 3
    assert got[("studymatch_matches_total", ())] == 9


def test_openmetrics_when_asked() -> None:
    metrics = Metrics(lambda: BackendStats(waiting={}, sessions=0, matches_total=1), lambda: 0)
    metrics.errors["unknown_type"] += 1
    # What Prometheus itself sends.
    accept = ("application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,"
              "text/plain;version=0.0.4;q=0.5,*/*;q=0.1")
    body, content_type = metrics.exposition(accept)
    assert content_type.startswith("application/openmetrics-text; version=1.0.0")
    text = body.decode()
    assert text.endswith("# EOF\n")
    got = samples(text, parse_openmetrics)
    assert got[("studymatch_errors_total", (("code", "unknown_type"),))] == 1
    assert got[("studymatch_matches_total", ())] == 1


@pytest.mark.parametrize("accept", ["text/plain;version=abc", "application/openmetrics-text;version=x.y", ";;,=", "*/*"])
def test_an_accept_header_it_cannot_read_gets_the_text_format(accept: str) -> None:
    metrics = Metrics(lambda: BackendStats(waiting={}, sessions=3, matches_total=0), lambda: 0)
    body, content_type = metrics.exposition(accept)
    assert content_type == "text/plain; version=0.0.4; charset=utf-8"
    assert samples(body.decode())[("studymatch_sessions", ())] == 3


def test_each_server_has_its_own_registry() -> None:
    empty = BackendStats(waiting={}, sessions=0, matches_total=0)
    first, second = Metrics(lambda: empty, lambda: 0), Metrics(lambda: empty, lambda: 0)  # no "Duplicated timeseries"
    first.match_wait.observe(1.5)
    first.relayed += 1
    assert samples(first.exposition("")[0].decode())[("studymatch_match_wait_seconds_count", ())] == 1
    got = samples(second.exposition("")[0].decode())
    assert got[("studymatch_match_wait_seconds_count", ())] == 0
    assert got[("studymatch_relayed_messages_total", ())] == 0
