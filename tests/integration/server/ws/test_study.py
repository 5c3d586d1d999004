"""Study sessions (docs/protocol.md, "Study sessions") on every backend, end to end.

Real servers on port 0 (the Redis backend: two instances on one redis-server,
clients round-robin over them), real WebSocket clients: pairing by length and
talk, the terms both sides are told, old clients, bad wishes, and `resumed`.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from integration.conftest import Cluster, ServerFactory
from integration.wsclient import WsClient
from server.config import ServerConfig
from server.core import protocol as p
from server.ws.app import Server, running_server

KEY = "a ticket key for the study tests, long enough"


def wall_ms() -> int:
    return time.time_ns() // 1_000_000


async def find(client: WsClient, length: int | None = None, talk: str | None = None, **extra: Any) -> dict[str, Any]:
    message = {"type": "find", "mode": "video", "topic": None, **extra}
    if length is not None:
        message["length"] = length
    if talk is not None:
        message["talk"] = talk
    return await client.request(message, "queued")


def terms(matched: dict[str, Any]) -> dict[str, Any]:
    """The study terms of a `matched` or `resumed`, without `now` (the moment each was sent)."""
    study = dict(matched["study"])
    del study["now"]
    return study


async def test_compatible_wishes_pair_and_both_sides_get_the_same_terms(server_factory: ServerFactory) -> None:
    cluster = await server_factory(study_minute=0.5)
    a, b = await cluster.connect(), await cluster.connect()
    before = wall_ms()
    queued = await find(a, 50, "quiet")
    assert (queued["length"], queued["talk"]) == (50, "quiet")  # the wish, echoed
    queued = await find(b)  # open, either: compatible with anything
    assert (queued["length"], queued["talk"]) == (None, None)
    ma, mb = await a.expect("matched", initiator=True), await b.expect("matched", initiator=False)
    after = wall_ms()
    assert terms(ma) == terms(mb)
    study = ma["study"]
    assert (study["length"], study["talk"], study["minute"]) == (50, "quiet", 500)
    assert before - 1000 <= study["started_at"] <= after + 1000  # with Redis: Redis' clock, this machine's
    assert study["ends_at"] == study["started_at"] + 50 * 500
    for m in (ma, mb):
        assert before - 1000 <= m["study"]["now"] <= after + 1000 and m["study"]["now"] >= study["started_at"] - 1000


async def test_both_open_is_an_open_session_with_talk(cluster: Cluster) -> None:
    c, d = await cluster.connect(), await cluster.connect()
    await find(c)
    await find(d)
    mc, md = await c.expect("matched"), await d.expect("matched")
    assert terms(mc) == terms(md)
    assert (mc["study"]["length"], mc["study"]["talk"], mc["study"]["ends_at"]) == (None, "talk", None)
    assert mc["study"]["minute"] == p.MINUTE_MS


async def test_incompatible_wishes_wait_and_the_longest_compatible_waiter_is_taken(cluster: Cluster) -> None:
    short, long_, talker, quiet = [await cluster.connect() for _ in range(4)]
    await find(short, 25)
    await find(long_, 50)  # another length: no pair
    await find(talker, 25, "talk")  # compatible with `short` (either talk): paired with it
    m_short, m_talker = await short.expect("matched"), await talker.expect("matched")
    assert m_short["session"] == m_talker["session"]
    assert (m_short["study"]["length"], m_short["study"]["talk"]) == (25, "talk")
    await find(quiet, 50, "quiet")  # `long_` (either talk) waited longest: taken
    m_long, m_quiet = await long_.expect("matched"), await quiet.expect("matched")
    assert m_long["session"] == m_quiet["session"] and terms(m_long) == terms(m_quiet)
    assert (m_long["study"]["length"], m_long["study"]["talk"]) == (50, "quiet")
    # Talk and quiet never meet, whatever the length.
    loud, hush = await cluster.connect(), await cluster.connect()
    await find(loud, None, "talk")
    await find(hush, None, "quiet")
    await loud.assert_silent()
    await hush.assert_silent()
    assert (await cluster.health())["waiting"] == 2


async def test_an_old_client_pairs_with_anyone_and_still_decodes_what_it_gets(cluster: Cluster) -> None:
    new, old = await cluster.connect(), await cluster.connect()
    await find(new, 75, "quiet")
    # An old client: no length or talk in its find; it reads only the fields it knows.
    await old.send({"type": "find", "mode": "video", "topic": None})
    queued = await old.recv()
    assert queued["type"] == "queued" and queued["length"] is None and queued["talk"] is None
    matched = await old.recv()
    assert matched["type"] == "matched" and matched["session"] and matched["partner"] == {"mode": "video", "topic": None}
    assert matched["study"]["length"] == 75  # the agreed terms: the new client's
    decoded = p.decode_server(json.dumps(matched))
    assert isinstance(decoded, p.Matched) and decoded.partner == p.Partner("video", None)
    await new.expect("matched", session=matched["session"])


@pytest.mark.parametrize("wish", [
    {"length": 30}, {"length": "25"}, {"length": 25.0}, {"length": True}, {"length": 0},
    {"talk": "loud"}, {"talk": 1}, {"talk": ""}, {"talk": "Quiet"},
])
async def test_a_bad_length_or_talk_is_bad_message_and_changes_nothing(
    cluster: Cluster, wish: dict[str, Any],
) -> None:
    waiting, bad = await cluster.connect(), await cluster.connect()
    await find(waiting, 25)
    await bad.send({"type": "find", "mode": "video", "topic": None, **wish})
    await bad.expect_error("bad_message")
    await waiting.assert_silent()
    assert (await cluster.health())["waiting"] == 1  # `bad` did not join; `waiting` still waits
    await find(bad, 25)  # the same connection, asking properly: paired
    await bad.expect("matched")
    await waiting.expect("matched")


async def _resumable(url: str) -> WsClient:
    client = await WsClient.open(url, hello=False)
    await client.hello(resume=True)
    return client


async def test_resumed_carries_the_same_terms_on_another_instance(server_factory: ServerFactory) -> None:
    # With Redis the two clients are on two instances and the dropped one comes back on
    # the other one; with memory, on the same server.
    cluster = await server_factory(ticket_key=KEY, study_minute=2.0)
    a, b = await _resumable(cluster.urls[0]), await _resumable(cluster.urls[-1])
    await find(a, 25, "quiet")
    await find(b, None, None)
    ma, mb = await a.expect("matched"), await b.expect("matched")
    a.ws.transport.abort()  # the socket dies: no closing handshake
    await b.expect("partner_reconnecting", session=ma["session"])
    back = await _resumable(cluster.urls[-1])
    await back.send({"type": "resume", "ticket": ma["ticket"]})
    resumed = await back.expect("resumed", session=ma["session"], initiator=ma["initiator"])
    assert terms(resumed) == terms(ma) == terms(mb)
    assert resumed["study"]["now"] >= ma["study"]["now"]
    for client in (back, b):
        await client.close()


async def test_resumed_after_a_memory_restart_keeps_the_terms() -> None:
    config = ServerConfig(port=0, ticket_key=KEY, study_minute=0.5)
    first = Server(config)
    await first.start()
    a, b = await _resumable(first.url), await _resumable(first.url)
    await find(a, 75, "talk")
    await find(b, 75)
    ma, mb = await a.expect("matched"), await b.expect("matched")
    await first.stop()
    async with running_server(config.replace(port=first.port)) as second:
        # The new process knows nothing of the session: each ticket carries its terms.
        b2 = await _resumable(second.url)
        await b2.send({"type": "resume", "ticket": mb["ticket"]})
        rebuilt = await b2.expect("resumed", session=mb["session"])
        await b2.expect("partner_reconnecting", session=mb["session"])
        a2 = await _resumable(second.url)
        await a2.send({"type": "resume", "ticket": ma["ticket"]})
        resumed = await a2.expect("resumed", session=ma["session"])
        assert terms(rebuilt) == terms(resumed) == terms(ma) == terms(mb)
        assert terms(ma)["ends_at"] == terms(ma)["started_at"] + 75 * 500
        for client in (a2, b2):
            await client.close()
