"""Report penalties over real connections, on every backend.

On the Redis backend the cluster has two instances and hands out clients
round-robin, so reporters, the reported client and its later finds land on
different instances: the penalty must be counted and enforced across them.
"""

from __future__ import annotations

import asyncio
import time

from integration.conftest import SCALE, Cluster, ServerFactory
from integration.wsclient import TIMEOUT, WsClient
from server.core.auth import sign_token

SECRET = "portal-secret-0123456789"


def token(subject: str) -> str:
    return sign_token(SECRET, subject, int(time.time()) + 300)


async def report_from(target: WsClient, reporter: WsClient) -> None:
    await reporter.find("video")
    await target.send({"type": "find", "mode": "video"})
    await target.expect("queued")
    matched = await reporter.expect("matched")
    await target.expect("matched", session=matched["session"])
    await reporter.request({"type": "report", "session": matched["session"], "reason": "rude"}, "reported")
    await target.expect("partner_left", reason="reported")


async def total(cluster: Cluster, sample: str) -> float:
    return sum(await cluster.metric(sample))


async def test_a_client_reported_by_several_partners_is_refused_matches_for_a_while(
    server_factory: ServerFactory,
) -> None:
    cluster = await server_factory(report_threshold=2, report_window=60.0, report_penalty=120.0,
                                   rematch_cooldown=0.0)
    # Round-robin: target and the first reporter on one instance, the second reporter on the other.
    target, bystander = await cluster.connect(), await cluster.connect()
    await report_from(target, await cluster.connect())
    await report_from(target, await cluster.connect())
    error = await target.request({"type": "find", "mode": "video"}, "error", code="refused")
    assert "2 more minutes" in error["message"]
    await target.request({"type": "skip"}, "error", code="refused")
    await target.request({"type": "leave"}, "idle")  # everything else still works
    await target.assert_silent()
    # Other people are not touched: the bystander still finds a partner.
    await bystander.find("video")
    partner = await cluster.connect()
    await partner.find("video")
    await bystander.expect("matched")
    assert await total(cluster, "studymatch_reports_total") == 2
    assert await total(cluster, "studymatch_report_penalties_total") == 1
    assert await total(cluster, 'studymatch_errors_total{code="refused"}') == 2


async def test_one_partner_reporting_twice_counts_once(server_factory: ServerFactory) -> None:
    cluster = await server_factory(report_threshold=2, rematch_cooldown=0.0)
    target, grudge = await cluster.connect(url=cluster.urls[0]), await cluster.connect(url=cluster.urls[-1])
    await report_from(target, grudge)
    await report_from(target, grudge)
    await target.find("video")  # not refused
    assert await total(cluster, "studymatch_report_penalties_total") == 0


async def test_a_signed_subject_carries_its_penalty_to_a_new_connection(server_factory: ServerFactory) -> None:
    cluster = await server_factory(token_secret=SECRET, report_threshold=1, report_penalty=120.0)
    target = await cluster.connect(url=cluster.urls[0], hello=False)
    await target.hello(token=token("student-9"))
    other = await cluster.connect(url=cluster.urls[-1], hello=False)  # the other instance (Redis)
    await other.hello(token=token("student-1"))
    await report_from(target, other)
    await target.ws.close()
    for url in cluster.urls:  # reconnecting, to any instance, does not wipe the slate
        again = await cluster.connect(url=url, hello=False)
        await again.hello(token=token("student-9"))
        await again.request({"type": "find", "mode": "video"}, "error", code="refused")
    bystander = await cluster.connect(hello=False)  # another subject of the same portal is not touched
    await bystander.hello(token=token("student-2"))
    await bystander.find("video")


async def test_reports_from_partners_on_every_instance_refuse_the_subject_on_every_instance(
    server_factory: ServerFactory,
) -> None:
    cluster = await server_factory(token_secret=SECRET, report_threshold=2, report_penalty=120.0,
                                   rematch_cooldown=0.0)
    first, last = cluster.urls[0], cluster.urls[-1]
    target = await cluster.connect(url=first, hello=False)
    await target.hello(token=token("student-9"))
    for n, url in enumerate((first, last)):  # one reporter on each instance
        reporter = await cluster.connect(url=url, hello=False)
        await reporter.hello(token=token(f"reporter-{n}"))
        await report_from(target, reporter)
    await target.request({"type": "find", "mode": "video"}, "error", code="refused")
    elsewhere = await cluster.connect(url=last, hello=False)
    await elsewhere.hello(token=token("student-9"))
    await elsewhere.request({"type": "skip"}, "error", code="refused")
    await elsewhere.request({"type": "find", "mode": "audio"}, "error", code="refused")


async def test_the_penalty_ends_by_itself(server_factory: ServerFactory) -> None:
    penalty = 1.0 * SCALE
    cluster = await server_factory(report_threshold=1, report_penalty=penalty)
    target, reporter = await cluster.connect(url=cluster.urls[0]), await cluster.connect(url=cluster.urls[-1])
    await report_from(target, reporter)
    started = time.monotonic()
    await target.request({"type": "find", "mode": "video"}, "error", code="refused")
    # No event marks the end of a penalty: ask again until the answer changes, as a user would.
    async with asyncio.timeout(penalty + TIMEOUT):
        while True:
            await target.send({"type": "find", "mode": "video"})
            answer = await target.recv()
            if answer["type"] == "queued":
                break
            assert answer["type"] == "error" and answer["code"] == "refused", answer
            await asyncio.sleep(0.1 * SCALE)
    assert time.monotonic() - started >= penalty * 0.8  # not before its time (clock granularity aside)
