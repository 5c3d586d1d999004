"""Coming back end to end with real engines on a real server, both backends (with Redis: across
two instances behind one public URL): favourites find each other and nobody else, a search for
a favourite falls back to anyone after its wait, and a blocked (or reported) partner is never
matched again, across a restart of the app and another instance. Needs the server's side of
issue 14 (favourites, avoid)."""

from __future__ import annotations

from typing import Any

from client import events as ev
from client import messages
from client.history.store import HistoryStore
from client.people import People
from integration.engines import Peer, engines

from .test_call_engine import in_call

TICKET_KEY = "k" * 32


def instances(cluster: Any) -> tuple[str, list[str]]:
    """The server's public name (what a load balancer's clients all use), and its instances."""
    return cluster.urls[0], list(cluster.urls)


def favourites_of_each_other(a: People, b: People) -> None:
    a.add_favourite(b.public_key, "Bea")
    b.add_favourite(a.public_key, "Al")


async def test_favourites_find_each_other_and_nobody_else(cluster: Any) -> None:
    public, urls = instances(cluster)
    al, bea = People.in_memory(), People.in_memory()
    favourites_of_each_other(al, bea)
    async with engines() as make:
        stranger = await make("stranger", public, connect=urls[0])
        await stranger.engine.find()
        await stranger.events.next(ev.Queued)
        a = await make("a", public, connect=urls[0], people=al)
        b = await make("b", public, connect=urls[-1], people=bea)  # another instance with Redis
        await a.engine.find_favourite()
        assert (await a.events.next(ev.FavouriteSearch)) == ev.FavouriteSearch(1, 30.0)
        await a.events.next(ev.Queued)
        await b.engine.find_favourite()
        matched_a = await a.events.next(ev.Matched)
        matched_b = await b.events.next(ev.Matched)
        assert matched_a.session == matched_b.session
        assert (matched_a.favourite, matched_b.favourite) == ("Bea", "Al")
        assert matched_a.avoidable and matched_b.avoidable
        assert not stranger.events.of(ev.Matched)  # a search for a favourite never takes a stranger
        assert not a.events.of(ev.FavouriteFallback) and not b.events.of(ev.FavouriteFallback)


async def test_a_search_for_a_favourite_turns_to_anyone_after_its_wait(cluster: Any) -> None:
    public, urls = instances(cluster)
    al = People.in_memory()
    al.add_favourite(People.in_memory().public_key, "Bea")  # never online
    async with engines() as make:
        a = await make("a", public, connect=urls[0], people=al, favourite_wait=0.5)
        other = await make("other", public, connect=urls[-1])
        await a.engine.find_favourite()
        await a.events.next(ev.Queued)
        await other.engine.find()
        await other.events.next(ev.Queued)
        assert not a.events.of(ev.Matched)  # a stranger is no favourite
        assert (await a.events.next(ev.FavouriteFallback)).message == messages.FAVOURITE_NONE_CAME
        matched = await a.events.next(ev.Matched)
        assert matched.favourite is None and matched.session == (await other.events.next(ev.Matched)).session


async def blocked_pair(make: Any, public: str, url: str, people: People) -> tuple[Peer, Peer]:
    a = await make("a", public, connect=url, people=people)
    b = await make("b", public, connect=url)
    await in_call(a, b)
    assert a.events.of(ev.Matched)[-1].avoidable
    for peer in (a, b):
        await peer.events.next(ev.Queued)  # the first search's: the next ones come after the call
    return a, b


async def test_a_blocked_partner_is_never_matched_again_across_a_restart(server_factory: Any, tmp_path: Any) -> None:
    cluster = await server_factory(ticket_key=TICKET_KEY)  # shared by the instances, as deployed
    public, urls = instances(cluster)
    async with engines() as make:
        with HistoryStore(tmp_path / "a.sqlite3") as store:
            a, b = await blocked_pair(make, public, urls[0], People.beside(store))
            session = a.engine.model.session
            assert session is not None
            await a.engine.block_partner()
            assert (await a.events.next(ev.PartnerBlocked)) == ev.PartnerBlocked(
                session, True, messages.PARTNER_BLOCKED)
            await a.engine.leave()
            await a.engine.close()
            await b.events.next(ev.CallEnded)
        with HistoryStore(tmp_path / "a.sqlite3") as store:  # the app again, on another instance
            again = People.beside(store)
            assert again.blocked_count() == 1
            a2 = await make("a2", public, connect=urls[-1], people=again)
            await a2.engine.find()
            await a2.events.next(ev.Queued)
            await b.engine.find()
            await b.events.next(ev.Queued)
            c = await make("c", public, connect=urls[0])
            await c.engine.find()
            matched_c = await c.events.next(ev.Matched)
            # a2 waited longest and would have been b's partner at once: it is c's instead
            assert matched_c.session == (await a2.events.next(ev.Matched)).session
            assert len(b.events.of(ev.Matched)) == 1  # only the first call


async def test_a_report_blocks_the_partner_too(server_factory: Any) -> None:
    cluster = await server_factory(rematch_cooldown=0.0, ticket_key=TICKET_KEY)  # only the block keeps them apart
    public, urls = instances(cluster)
    async with engines() as make:
        a, b = await blocked_pair(make, public, urls[0], People.in_memory())
        await a.engine.report("rude")
        blocked = await a.events.next(ev.PartnerBlocked)
        assert blocked.blocked and a.engine.people.blocked_count() == 1
        await b.events.next(ev.CallEnded)
        await a.engine.find()
        await a.events.next(ev.Queued)
        await b.engine.find()
        await b.events.next(ev.Queued)
        c = await make("c", public, connect=urls[-1])
        await c.engine.find()
        matched_c = await c.events.next(ev.Matched)
        assert matched_c.session == (await a.events.next(ev.Matched)).session
        assert len(b.events.of(ev.Matched)) == 1
