""""Study again" end to end, over the state channel of two real engines on a real server: one
tick alone stores nothing on either side; both ticks make each a favourite of the other, under
the nickname given (or a default), with the same rendezvous token on both sides."""

from __future__ import annotations

import datetime as dt
from typing import Any

from client import events as ev
from client import messages
from client.history.store import HistoryStore
from client.people import People
from integration.engines import Peer, engines

from .test_call_engine import in_call


async def study_call(cluster: Any, make: Any, **people: People) -> tuple[Peer, Peer, str]:
    a = await make("a", cluster.next_url(), length=25, people=people.get("a"))
    b = await make("b", cluster.next_url(), length=25, people=people.get("b"))
    session = await in_call(a, b)
    for peer in (a, b):
        await peer.events.next(ev.SessionStarted)
    return a, b, session


async def test_one_tick_alone_stores_nothing_on_either_side(cluster: Any) -> None:
    async with engines() as make:
        a, b, session = await study_call(cluster, make)
        a.engine.set_again(True, "Bea")
        assert (await b.events.next(ev.PartnerAgain)) == ev.PartnerAgain(session, True)
        b.engine.set_again(True)  # b ticks too, then thinks better of it
        await a.events.next(ev.PartnerAgain, lambda e: e.on)
        b.engine.set_again(False)
        assert (await a.events.next(ev.PartnerAgain)) == ev.PartnerAgain(session, False)
        await b.engine.leave()
        for peer in (a, b):
            await peer.events.next(ev.CallEnded)
        assert a.events.of(ev.FavouriteSaved) == b.events.of(ev.FavouriteSaved) == []
        assert a.engine.people.favourites() == b.engine.people.favourites() == []


async def test_both_ticks_make_each_a_favourite_of_the_other(cluster: Any, tmp_path: Any) -> None:
    with HistoryStore(tmp_path / "a.sqlite3") as store_a:
        async with engines() as make:
            a, b, session = await study_call(cluster, make, a=People.beside(store_a))
            a.engine.set_again(True, "Bea")
            b.engine.set_again(True)  # no nickname: a default
            await a.events.next(ev.PartnerAgain, lambda e: e.on)
            await b.events.next(ev.PartnerAgain, lambda e: e.on)
            await a.engine.leave()
            assert (await a.events.next(ev.FavouriteSaved)) == ev.FavouriteSaved(session, "Bea")
            saved_b = await b.events.next(ev.FavouriteSaved)
            for peer in (a, b):
                await peer.events.next(ev.CallEnded)
            today = dt.date.today()
            assert saved_b.nickname == messages.FAVOURITE_DEFAULT_NICKNAME.format(
                date=f"{today.day} {today.strftime('%b')}")
            [bea] = a.engine.people.favourites()
            [al] = b.engine.people.favourites()
            assert (bea.key, bea.nickname) == (b.engine.people.public_key, "Bea")
            assert (al.key, al.nickname) == (a.engine.people.public_key, saved_b.nickname)
            url = a.engine.config.server
            assert set(a.engine.people.by_rendezvous(url)) == set(b.engine.people.by_rendezvous(url))
            assert a.engine.people.by_rendezvous(url) != a.engine.people.by_rendezvous(url + "?other")
    with HistoryStore(tmp_path / "a.sqlite3") as store_a:  # a kept it, with its key, across a restart
        again = People.beside(store_a)
        assert [f.nickname for f in again.favourites()] == ["Bea"]
        assert again.public_key == a.engine.people.public_key
