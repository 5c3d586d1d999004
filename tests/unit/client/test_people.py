"""client/people.py: favourites and blocked partners, kept in the database or in memory."""

from __future__ import annotations

import datetime as dt

from client import identity
from client.history.store import FILE_NAME, HistoryStore
from client.identity import Identity
from client.people import Favourite, People

SERVER = "ws://study.example.org/ws"
T0 = dt.datetime(2026, 12, 5, 9, 0, tzinfo=dt.UTC)


def test_favourites_and_blocks_last_across_restarts(tmp_path):
    partner = Identity.generate()
    with HistoryStore(tmp_path / FILE_NAME) as h:
        people = People.beside(h)
        people.add_favourite(partner.public_key, "Ana")
        people.block("a1.token", "never_again")
        people.block("a1.token", "report")  # the same token again: counted once
        mine = people.public_key
    assert (tmp_path / identity.FILE_NAME).exists()
    with HistoryStore(tmp_path / FILE_NAME) as h:
        people = People.beside(h)
        assert people.public_key == mine
        [ana] = people.favourites()
        assert (ana.key, ana.nickname) == (partner.public_key, "Ana")
        assert people.avoid_tokens() == ["a1.token"] and people.blocked_count() == 1
        people.rename(partner.public_key, "Ana María")
        assert [f.nickname for f in people.favourites()] == ["Ana María"]
        people.forget(partner.public_key)
    with HistoryStore(tmp_path / FILE_NAME) as h:
        assert People.beside(h).favourites() == []


def test_rendezvous_tokens_name_the_favourite_on_both_sides():
    clock = iter([T0, T0 + dt.timedelta(days=1)])
    a = People(Identity.generate(), clock=lambda: next(clock))
    b, c = People.in_memory(), People.in_memory()
    a.add_favourite(b.public_key, "Bea")
    a.add_favourite(c.public_key, "Cai")
    b.add_favourite(a.public_key, "Al")
    tokens = a.by_rendezvous(SERVER)
    assert [f.nickname for f in tokens.values()] == ["Cai", "Bea"]  # newest first
    [(shared, al)] = b.by_rendezvous(SERVER).items()
    assert tokens[shared] == Favourite(b.public_key, "Bea", T0) and al.nickname == "Al"
    assert set(a.by_rendezvous("ws://other.example.org/ws")).isdisjoint(tokens)


def test_in_memory_people_keep_nothing(tmp_path):
    people = People.in_memory()
    people.add_favourite(People.in_memory().public_key, "Ana")
    people.block("a1.x", "report")
    assert len(people.favourites()) == 1 and people.blocked_count() == 1
    assert People.in_memory().favourites() == [] and list(tmp_path.iterdir()) == []
