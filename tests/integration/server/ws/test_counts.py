"""Live counts while searching (docs/protocol.md, "Live counts while searching") on every backend.

Real servers on port 0 (the Redis backend: two instances on one redis-server),
real WebSocket clients placed on chosen instances, so that with Redis a client
on one instance sees the clients queued on the other. The figures converge
within about a second of each step: each check reads `counts` until the
expected figures come, and fails if anything else comes first.
"""

from __future__ import annotations

import asyncio
from typing import Any

from integration.conftest import Cluster
from integration.wsclient import TIMEOUT, WsClient


def on(cluster: Cluster, index: int) -> str:
    """The url of instance `index` (the same one for the memory backend's single instance)."""
    return cluster.urls[index % len(cluster.urls)]


async def counted(cluster: Cluster, index: int) -> WsClient:
    """A client on instance `index` that asks for counts."""
    client = await cluster.connect(hello=False, url=on(cluster, index))
    await client.hello(counts=True)
    return client


async def find(client: WsClient, mode: str, topic: str | None) -> dict[str, Any]:
    return await client.request({"type": "find", "mode": mode, "topic": topic}, "queued")


async def counts_until(client: WsClient, **expected: Any) -> list[dict[str, Any]]:
    """Read `counts` until one carries `expected` (the last of those returned); nothing but
    `counts` may come meanwhile."""
    seen: list[dict[str, Any]] = []
    async with asyncio.timeout(TIMEOUT):
        while True:
            message = await client.recv()
            assert message["type"] == "counts", f"expected counts, got {message} after {seen}"
            assert set(message) == {"type", "online", "video", "audio", "topic"}, message
            seen.append(message)
            if all(message[key] == value for key, value in expected.items()):
                return seen


async def expect(client: WsClient, kind: str) -> dict[str, Any]:
    """The next message that is not `counts` (one may come before it), which must be `kind`."""
    async with asyncio.timeout(TIMEOUT):
        while (message := await client.recv())["type"] == "counts":
            pass
    assert message["type"] == kind, f"expected {kind}, got {message}"
    return message


async def test_counts_follow_clients_joining_leaving_and_being_matched(cluster: Cluster) -> None:
    watcher = await counted(cluster, 0)
    assert (await find(watcher, "video", " Maths "))["topic"] == "maths"
    await counts_until(watcher, online=1, video=1, audio=0, topic=0)  # itself: not in its topic
    # Another mode, the same topic, on the other instance: in `topic` (any mode), and in `audio`.
    peer = await cluster.connect(url=on(cluster, 1))
    await find(peer, "audio", "maths")
    await counts_until(watcher, online=2, video=1, audio=1, topic=1)
    other = await cluster.connect(url=on(cluster, 1))  # online, not searching
    await counts_until(watcher, online=3, video=1, audio=1, topic=1)
    await find(other, "audio", "physics")  # not paired with `peer`: another topic
    await counts_until(watcher, online=3, video=1, audio=2, topic=1)
    partner = await cluster.connect(url=on(cluster, 0))
    await find(partner, "audio", "maths")  # paired with `peer`: both out of line
    await peer.expect("matched")
    await partner.expect("matched")
    await counts_until(watcher, online=4, video=1, audio=1, topic=0)
    await peer.close()
    await counts_until(watcher, online=3, video=1, audio=1, topic=0)
    # The watcher itself is matched: no counts from then on (checked once another tick has passed).
    mate = await counted(cluster, 1)
    await find(mate, "video", "maths")
    await expect(watcher, "matched")
    await expect(mate, "matched")
    witness = await counted(cluster, 0)
    await find(witness, "audio", "art")
    await counts_until(witness, online=5, video=0, audio=2, topic=0)
    late = await cluster.connect(url=on(cluster, 0))
    await counts_until(witness, online=6)
    await late.close()
    await counts_until(witness, online=5)
    await watcher.assert_silent()
    await mate.assert_silent()


async def test_any_topic_has_no_topic_count_and_others_topic_is_not_counted(cluster: Cluster) -> None:
    anyone = await counted(cluster, 0)
    await find(anyone, "audio", None)
    first = (await counts_until(anyone, online=1, video=0, audio=1))[-1]
    assert first["topic"] is None
    art = await counted(cluster, 1)
    await find(art, "video", "art")
    await counts_until(art, online=2, video=1, audio=1, topic=0)  # the any-topic searcher is not in "art"
    await counts_until(anyone, online=2, video=1, audio=1, topic=None)


async def test_a_client_that_did_not_ask_gets_none(cluster: Cluster) -> None:
    quiet = await cluster.connect(url=on(cluster, 0))
    await find(quiet, "video", "maths")
    asked = await counted(cluster, 1)
    await find(asked, "audio", "maths")
    await counts_until(asked, online=2, video=1, audio=1, topic=1)
    # Two more steps on `quiet`'s instance, each seen: a whole tick ran there with `quiet` queued.
    for online in (3, 4):
        await cluster.connect(url=on(cluster, 0))
        await counts_until(asked, online=online)
    await quiet.assert_silent()


async def test_no_counts_once_idle_and_a_first_one_on_the_next_search(cluster: Cluster) -> None:
    searcher = await counted(cluster, 0)
    await find(searcher, "video", None)
    await counts_until(searcher, online=1, video=1, audio=0, topic=None)
    await searcher.send({"type": "cancel"})
    await expect(searcher, "idle")
    witness = await counted(cluster, 1)
    await find(witness, "audio", None)
    await counts_until(witness, online=2, video=0, audio=1)
    await cluster.connect(url=on(cluster, 0))
    await counts_until(witness, online=3)
    await searcher.assert_silent()
    await find(searcher, "video", None)  # a new search: counts again
    await counts_until(searcher, online=3, video=1, audio=1, topic=None)


async def test_online_and_counts_sent_are_in_healthz_and_metrics(cluster: Cluster) -> None:
    first, second = await counted(cluster, 0), await counted(cluster, 1)
    await find(first, "video", None)
    await find(second, "audio", None)
    await cluster.connect(hello=False, url=on(cluster, 1))  # no hello: not online
    # Each has seen both: each instance knows the other's figures (with Redis).
    received = await counts_until(first, online=2) + await counts_until(second, online=2)
    for index in range(len(cluster.servers)):
        assert (await cluster.health(index))["online"] == 2
    assert await cluster.metric("studymatch_online") == [2] * len(cluster.servers)
    assert sum(await cluster.metric("studymatch_counts_sent_total")) >= len(received)
