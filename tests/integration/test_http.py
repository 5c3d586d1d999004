"""/healthz and /metrics on the WebSocket port reflect the server's state."""

from __future__ import annotations

import re

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from .conftest import Cluster, http_get
from .wsclient import TIMEOUT


def samples(text: str) -> dict[str, float]:
    """Every sample line of a Prometheus text exposition, by name and labels."""
    out: dict[str, float] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            out[name] = float(value)
    return out


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


async def test_metrics_reflect_state_and_counters(cluster: Cluster) -> None:
    before = samples(await cluster.metrics())
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
    status, content_type, text = await http_get(cluster.servers[0].http_url + "/metrics")
    assert status == 200 and content_type.startswith("text/plain; version=0.0.4")
    shared = samples(text)  # the backend's figures: the same on every instance
    assert shared['studymatch_waiting{mode="video"}'] == 1
    assert shared['studymatch_waiting{mode="audio"}'] == 0
    assert shared["studymatch_sessions"] == 1
    assert shared["studymatch_matches_total"] == 1
    assert shared["studymatch_backend_up"] == 1
    # Each instance counts its own connections, relays and errors: add them up.
    now: dict[str, float] = {}
    for index in range(len(cluster.servers)):
        for name, value in samples(await cluster.metrics(index)).items():
            now[name] = now.get(name, 0.0) + value
    assert now["studymatch_connections"] == 3
    assert now["studymatch_relayed_messages_total"] == 3
    assert now['studymatch_errors_total{code="bad_json"}'] == 1
    assert now['studymatch_errors_total{code="unknown_type"}'] == 1
    # Both sides of the match observed their wait: the initiator > 0, the newcomer 0.
    assert now["studymatch_match_wait_seconds_count"] == 2
    assert now['studymatch_match_wait_seconds_bucket{le="+Inf"}'] == 2
    assert now['studymatch_match_wait_seconds_bucket{le="0.1"}'] >= 1
    buckets = [v for k, v in now.items() if k.startswith("studymatch_match_wait_seconds_bucket")]
    assert buckets == sorted(buckets)  # cumulative
    for family in ("studymatch_connections", "studymatch_match_wait_seconds", "studymatch_errors_total"):
        assert re.search(rf"^# TYPE {family} \w+$", text, re.MULTILINE)


@pytest.mark.parametrize("path", ["/", "/ws/extra", "/health", "/metrics.txt"])
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
