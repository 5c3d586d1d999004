"""Coming back (docs/protocol.md, "Coming back"): never again, and favourites, on every backend.

Real servers on port 0 (the Redis backend: two instances on one redis-server
sharing the ticket key, clients round-robin over them), real WebSocket
clients: avoid tokens taken at once and again after a reconnect, forged and
foreign tokens changing nothing, tokens read by another instance, favourites
finding each other past the cool-down and never an ordinary search, bad
fields, old clients, and the metrics.
"""

from __future__ import annotations

from typing import Any

from integration.conftest import Cluster, ServerFactory
from integration.wsclient import WsClient
from server.config import ServerConfig
from server.core.avoidtokens import AvoidSeal
from server.ws.app import running_server

KEY = "a ticket key for the come-back tests, long enough"
INSTALL_A, INSTALL_B, INSTALL_C = "installation-aaaaaaaa", "installation-bbbbbbbb", "installation-cccccccc"
FAV, OTHER_FAV = "rendezvous-token-0001", "rendezvous-token-0002"


async def connect(cluster: Cluster, install: str | None = None, url: str | None = None, **hello: Any) -> WsClient:
    client = await cluster.connect(hello=False, url=url)
    await client.hello(**({"install": install} if install else {}), **hello)
    return client


async def find(client: WsClient, favourites: list[str] | None = None, **wish: Any) -> dict[str, Any]:
    message = {"type": "find", "mode": "video", "topic": None, **wish}
    if favourites is not None:
        message["favourites"] = favourites
    return await client.request(message, "queued")


async def avoid(client: WsClient, tokens: list[str]) -> int:
    answer = await client.request({"type": "avoid", "tokens": tokens}, "avoiding")
    count = answer["count"]
    assert isinstance(count, int)
    return count


async def pair(a: WsClient, b: WsClient) -> tuple[dict[str, Any], dict[str, Any]]:
    await find(a)
    await find(b)
    return await a.expect("matched", initiator=True), await b.expect("matched", initiator=False)


async def token_for_b(cluster: Cluster) -> tuple[WsClient, str]:
    """A's avoid token for B's installation, from a call they had; both idle after."""
    a, b = await connect(cluster, INSTALL_A), await connect(cluster, INSTALL_B)
    ma, mb = await pair(a, b)
    token = ma["partner"]["avoid"]
    assert token.startswith("a1.") and INSTALL_B not in token
    assert mb["partner"]["avoid"].startswith("a1.")
    await a.request({"type": "leave"}, "idle")
    await b.expect("partner_left", reason="left")
    await b.close()
    return a, token


async def test_avoid_takes_effect_at_once_even_for_a_place_in_line(server_factory: ServerFactory) -> None:
    cluster = await server_factory(ticket_key=KEY)
    a, token = await token_for_b(cluster)
    await find(a)  # waiting already when it says never again
    assert await avoid(a, [token]) == 1
    b = await connect(cluster, INSTALL_B)  # the same installation, a new connection
    await find(b)
    await a.assert_silent()
    await b.assert_silent()
    c = await connect(cluster, INSTALL_C)
    await find(c)  # anyone else still pairs with either, the longest waiter first
    await a.expect("matched", initiator=True)
    await c.expect("matched", initiator=False)
    # And in the other direction: B, still waiting, is never paired with A's installation either.
    a2 = await connect(cluster, INSTALL_A)
    assert await avoid(a2, [token, token]) == 1  # one installation, however often named
    await find(a2)
    await b.assert_silent()


async def test_each_matched_seals_the_partner_afresh(server_factory: ServerFactory) -> None:
    cluster = await server_factory(ticket_key=KEY)
    a, first = await token_for_b(cluster)
    b = await connect(cluster, INSTALL_B)
    ma, _ = await pair(a, b)
    second = ma["partner"]["avoid"]
    assert second != first  # the same installation, two unlike tokens
    await a.request({"type": "leave"}, "idle")
    await b.expect("partner_left")
    assert await avoid(a, [first, second]) == 1  # both name B's installation


async def test_avoid_lasts_across_a_reconnect_when_sent_again_before_resume(server_factory: ServerFactory) -> None:
    cluster = await server_factory(ticket_key=KEY)
    a, token = await token_for_b(cluster)
    await a.close()
    first = await connect(cluster, INSTALL_A, resume=True)
    ticket = (await find(first))["ticket"]
    await first.close()  # the app quits: its place in line is in its ticket
    back = await connect(cluster, INSTALL_A, url=cluster.urls[-1], resume=True)
    assert await avoid(back, [token]) == 1  # not a request: `resume` may still come
    await back.request({"type": "resume", "ticket": ticket}, "queued")
    b = await connect(cluster, INSTALL_B)
    await find(b)
    await back.assert_silent()
    await b.assert_silent()


async def test_forged_altered_and_foreign_tokens_change_nothing(server_factory: ServerFactory) -> None:
    cluster = await server_factory(ticket_key=KEY)
    a, token = await token_for_b(cluster)
    altered = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
    foreign = AvoidSeal(b"another server's ticket key, not ours").seal(INSTALL_B)
    unreadable = ["a1.forged", altered, foreign, "v1." + token[3:], token + "x", "a1." + "A" * 100]
    before = sum(await cluster.metric('studymatch_avoid_tokens_total{outcome="unreadable"}'))
    assert await avoid(a, unreadable) == 0
    b = await connect(cluster, INSTALL_B)
    await find(a)
    await find(b)
    await a.expect("matched")  # pairing is unaffected
    await b.expect("matched")
    after = sum(await cluster.metric('studymatch_avoid_tokens_total{outcome="unreadable"}'))
    assert after - before == len(unreadable)
    assert await avoid(a, [*unreadable, token]) == 1  # the readable one among them takes


async def test_another_instance_or_a_restarted_server_reads_the_tokens(server_factory: ServerFactory) -> None:
    cluster = await server_factory(ticket_key=KEY)
    _, token = await token_for_b(cluster)
    elsewhere = await connect(cluster, INSTALL_A, url=cluster.urls[-1])  # with Redis: the other instance
    assert await avoid(elsewhere, [token]) == 1
    b = await connect(cluster, INSTALL_B, url=cluster.urls[0])
    await find(elsewhere)
    await find(b)
    await elsewhere.assert_silent()
    taken = sum(await cluster.metric('studymatch_avoid_tokens_total{outcome="taken"}'))
    assert taken == 1
    async with running_server(ServerConfig(port=0, ticket_key=KEY)) as restarted:
        client = await WsClient.open(restarted.url)
        try:
            assert await avoid(client, [token]) == 1
        finally:
            await client.close()


async def test_favourites_find_each_other_whatever_their_topic_and_terms(server_factory: ServerFactory) -> None:
    cluster = await server_factory(ticket_key=KEY)
    a = await connect(cluster, INSTALL_A, resume=True)
    b = await connect(cluster, INSTALL_B)  # with Redis: on the other instance
    queued = await find(a, [OTHER_FAV, FAV], topic="maths", length=50, talk="quiet")
    assert queued["favourite"] is True and "ticket" not in queued  # no queue ticket for a favourite search
    queued = await find(b, [FAV], topic="history", length=25, talk="talk")
    assert queued["favourite"] is True
    ma, mb = await a.expect("matched", initiator=True), await b.expect("matched", initiator=False)
    assert ma["favourite"] == mb["favourite"] == FAV
    assert ma["session"] == mb["session"]
    assert (ma["study"]["length"], ma["study"]["talk"]) == (50, "quiet")  # the initiator's wish holds
    assert ma["partner"]["avoid"].startswith("a1.") and "ticket" in ma
    counted = sum(await cluster.metric("studymatch_favourite_matches_total"))
    assert counted == 1


async def test_a_favourite_pair_meets_again_past_the_cooldown(server_factory: ServerFactory) -> None:
    cluster = await server_factory(ticket_key=KEY, rematch_cooldown=600.0)
    a, b = await connect(cluster, INSTALL_A), await connect(cluster, INSTALL_B)
    await find(a, [FAV])
    await find(b, [FAV])
    ma = await a.expect("matched")
    await b.expect("matched")
    await a.send({"type": "skip", "session": ma["session"]})
    queued = await a.expect("queued")
    assert queued["favourite"] is True  # the skip searches for the same favourites again
    await b.expect("partner_left", reason="skipped")
    await find(b, [FAV])
    ma2, mb2 = await a.expect("matched"), await b.expect("matched")
    assert ma2["favourite"] == mb2["favourite"] == FAV
    await a.request({"type": "leave"}, "idle")
    await b.expect("partner_left")
    await find(a)  # ordinary searches: the cool-down holds
    await find(b)
    await a.assert_silent()
    await b.assert_silent()


async def test_a_favourite_search_never_pairs_with_an_ordinary_one(server_factory: ServerFactory) -> None:
    cluster = await server_factory(ticket_key=KEY)
    a, b, c = [await connect(cluster, i) for i in (INSTALL_A, INSTALL_B, INSTALL_C)]
    await find(a, [FAV])
    await find(b)
    await find(c, [OTHER_FAV])  # no token shared
    await a.assert_silent()
    await b.assert_silent()
    await c.assert_silent()
    await find(a, [FAV], mode="audio")  # another mode, the same token: still apart
    d = await connect(cluster)
    await find(d, [FAV])
    await a.assert_silent()
    await d.assert_silent()


async def test_avoidance_holds_between_favourites(server_factory: ServerFactory) -> None:
    cluster = await server_factory(ticket_key=KEY)
    a, token = await token_for_b(cluster)
    assert await avoid(a, [token]) == 1
    b = await connect(cluster, INSTALL_B)
    await find(a, [FAV])
    await find(b, [FAV])
    await a.assert_silent()
    await b.assert_silent()


async def test_old_clients_see_nothing_new(server_factory: ServerFactory) -> None:
    cluster = await server_factory(ticket_key=KEY)
    a, b = await connect(cluster), await connect(cluster, INSTALL_B)
    queued = await find(a)
    assert "favourite" not in queued
    await find(b)
    ma, mb = await a.expect("matched"), await b.expect("matched")
    assert "favourite" not in ma and "favourite" not in mb
    assert ma["partner"]["avoid"].startswith("a1.")  # B said install: A may avoid it
    assert "avoid" not in mb["partner"]  # A said none: there is nothing to avoid


async def test_bad_fields_are_bad_messages(server_factory: ServerFactory) -> None:
    cluster = await server_factory(ticket_key=KEY)
    client = await connect(cluster, INSTALL_A)
    for bad in (
        {"type": "find", "mode": "video", "favourites": "not a list"},
        {"type": "find", "mode": "video", "favourites": ["short"]},
        {"type": "find", "mode": "video", "favourites": ["has spaces in it, no"]},
        {"type": "find", "mode": "video", "favourites": [f"token-{n:012d}" for n in range(51)]},
        {"type": "avoid", "tokens": []},
        {"type": "avoid", "tokens": "a1.x"},
        {"type": "avoid", "tokens": [7]},
        {"type": "avoid", "tokens": ["a1." + "A" * 200]},
        {"type": "avoid", "tokens": ["a1.x"] * 101},
        {"type": "avoid"},
    ):
        await client.send(bad)
        await client.expect_error("bad_message")
    await find(client)  # nothing changed: still idle, and may search
    other = await cluster.connect(hello=False)
    await other.send({"type": "hello", "protocol": 1, "install": "not one!"})
    await other.expect_error("hello_required")
    await other.expect_closed(1008)


async def test_tokens_name_the_partner_in_matched_and_again_in_resumed(server_factory: ServerFactory) -> None:
    cluster = await server_factory(ticket_key=KEY)
    seal = AvoidSeal(KEY.encode())  # what the servers derive their key from
    a, b = await connect(cluster, INSTALL_A, resume=True), await connect(cluster, INSTALL_B, resume=True)
    ma, mb = await pair(a, b)
    assert seal.unseal(ma["partner"]["avoid"]) == INSTALL_B and seal.unseal(mb["partner"]["avoid"]) == INSTALL_A
    a.ws.transport.abort()  # A's socket dies; it comes back through the other instance (with Redis)
    await b.expect("partner_reconnecting")
    back = await connect(cluster, INSTALL_A, url=cluster.urls[-1], resume=True)
    await back.send({"type": "resume", "ticket": ma["ticket"]})
    resumed = await back.expect("resumed", session=ma["session"])
    assert seal.unseal(resumed["partner"]["avoid"]) == INSTALL_B
    assert resumed["partner"]["avoid"] != ma["partner"]["avoid"]  # sealed afresh
    await b.expect("partner_resumed")
    b.ws.transport.abort()
    await back.expect("partner_reconnecting")
    b2 = await connect(cluster, INSTALL_B, url=cluster.urls[0], resume=True)
    await b2.send({"type": "resume", "ticket": mb["ticket"]})
    resumed = await b2.expect("resumed", session=ma["session"])
    assert seal.unseal(resumed["partner"]["avoid"]) == INSTALL_A  # the installation of A's new connection
