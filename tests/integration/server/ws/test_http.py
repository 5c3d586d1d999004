"""/healthz and /metrics on the WebSocket port reflect the server's state."""

from __future__ import annotations

import asyncio
import urllib.request

import pytest
from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_openmetrics
from prometheus_client.parser import text_string_to_metric_families as parse_text
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from integration.conftest import Cluster, http_get
from integration.wsclient import TIMEOUT

PROMETHEUS_ACCEPT = (  # what Prometheus itself sends
    "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,"
    "text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
)


async def scrape(url: str, accept: str | None = None) -> tuple[str, dict[str, float]]:
    """(content type, every sample by name and labels as written) of a real GET of /metrics."""

    def get() -> tuple[str, str]:
        request = urllib.request.Request(url + "/metrics", headers={"Accept": accept} if accept else {})
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            assert response.status == 200
            return response.headers["Content-Type"], response.read().decode()

    content_type, text = await asyncio.to_thread(get)
    openmetrics = content_type.startswith("application/openmetrics-text")
    parse = parse_openmetrics if openmetrics else parse_text
    out: dict[str, float] = {}
    for family in parse(text):
        out[f"# TYPE {family.name} {family.type}"] = 1  # the family's type, as a pseudo-sample
        for sample in family.samples:
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(sample.labels.items()))
            out[f"{sample.name}{{{labels}}}" if labels else sample.name] = sample.value
    return content_type, out


async def test_healthz_counts_connections_waiting_and_sessions(cluster: Cluster) -> None:
    health = await cluster.state()
    expected = {"status": "ok", "http_status": 200, "connections": 0, "waiting": 0,
                "waiting_by_mode": {"video": 0, "audio": 0}, "sessions": 0, "matches_total": 0}
    assert {key: health[key] for key in expected} == expected
    a, b, _ = await cluster.pair("video")
    waiter = await cluster.connect()
    await waiter.find("audio", "maths")
    await cluster.connect(hello=False)  # connected, not yet said hello: counted as a connection
    expected.update(connections=4, waiting=1, waiting_by_mode={"video": 0, "audio": 1},
                    sessions=1, matches_total=1)
    await cluster.wait_until(lambda h: {key: h[key] for key in expected} == expected)
    await a.close()
    await b.expect("partner_left", reason="disconnected")
    expected.update(connections=3, sessions=0)
    await cluster.wait_until(lambda h: {key: h[key] for key in expected} == expected)


async def test_healthz_is_json_and_not_cached(cluster: Cluster) -> None:
    status, content_type, body = await http_get(cluster.servers[0].http_url + "/healthz")
    assert status == 200 and content_type == "application/json" and body.startswith("{")


@pytest.mark.parametrize("accept", [None, PROMETHEUS_ACCEPT], ids=["text", "openmetrics"])
async def test_metrics_reflect_state_and_counters(cluster: Cluster, accept: str | None) -> None:
    _, before = await scrape(cluster.servers[0].http_url, accept)
    assert before["studymatch_connections"] == 0
    assert before['studymatch_errors_total{code="bad_json"}'] == 0
    a, b, session = await cluster.pair("audio")
    for i in range(3):
        await a.send({"type": "signal", "session": session, "data": {"i": i}})
        await b.expect("signal")
    waiter = await cluster.connect()
    await waiter.find("video")
    await waiter.send("{oops")
    await waiter.expect_error("bad_json")
    await waiter.send({"type": "nope"})
    await waiter.expect_error("unknown_type")
    await cluster.wait_until(lambda h: h["waiting"] == 1 and h["sessions"] == 1)  # shared figures fresh
    content_type, shared = await scrape(cluster.servers[0].http_url, accept)
    if accept is None:
        assert content_type == "text/plain; version=0.0.4; charset=utf-8"
    else:
        assert content_type.startswith("application/openmetrics-text; version=1.0.0")
    # The backend's figures: the same on every instance.
    assert shared['studymatch_waiting{mode="video"}'] == 1
    assert shared['studymatch_waiting{mode="audio"}'] == 0
    assert shared["studymatch_sessions"] == 1
    assert shared["studymatch_matches_total"] == 1
    assert shared["studymatch_backend_up"] == 1
    assert shared["process_cpu_seconds_total"] > 0  # the process, from prometheus-client
    # Each instance counts its own connections, relays and errors: add them up.
    now: dict[str, float] = {}
    for server in cluster.servers:
        for name, value in (await scrape(server.http_url, accept))[1].items():
            now[name] = now.get(name, 0.0) + value
    assert now["studymatch_connections"] == 3
    assert now["studymatch_relayed_messages_total"] == 3
    assert now['studymatch_errors_total{code="bad_json"}'] == 1
    assert now['studymatch_errors_total{code="unknown_type"}'] == 1
    assert now['studymatch_errors_total{code="rate_limited"}'] == 0
    # Both sides of the match observed their wait: the initiator > 0, the newcomer 0.
    assert now["studymatch_match_wait_seconds_count"] == 2
    assert now['studymatch_match_wait_seconds_bucket{le="+Inf"}'] == 2
    assert now['studymatch_match_wait_seconds_bucket{le="0.1"}'] >= 1
    buckets = [v for k, v in now.items() if k.startswith("studymatch_match_wait_seconds_bucket")]
    assert len(buckets) == 11 and buckets == sorted(buckets)  # cumulative
    for family, kind in [("studymatch_connections", "gauge"), ("studymatch_match_wait_seconds", "histogram"),
                         ("studymatch_errors", "counter"), ("studymatch_relayed_messages", "counter")]:
        assert f"# TYPE {family} {kind}" in shared


# "/" is the web client (tests/integration/server/ws/test_web_client_http.py).
@pytest.mark.parametrize("path", ["/index.htm", "/ws/extra", "/health", "/metrics.txt"])
async def test_other_paths_are_404(cluster: Cluster, path: str) -> None:
    status, _, body = await http_get(cluster.servers[0].http_url + path)
    assert status == 404 and "/ws" in body


async def test_websocket_on_another_path_is_refused(cluster: Cluster) -> None:
    with pytest.raises(InvalidStatus) as refused:
        await connect(cluster.servers[0].url.replace("/ws", "/chat"), open_timeout=TIMEOUT)
    assert refused.value.response.status_code == 404


async def test_plain_http_on_ws_path_is_not_a_crash(cluster: Cluster) -> None:
    status, _, _ = await http_get(cluster.servers[0].http_url + "/ws")
    assert status in (400, 426)  # a WebSocket endpoint, told so in HTTP
    assert (await cluster.state())["status"] == "ok"
