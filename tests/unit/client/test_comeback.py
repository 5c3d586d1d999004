"""client/comeback.py, the pure part of coming back: ticks at the end of a call, avoid chunks."""

from __future__ import annotations

import datetime as dt

import pytest

from client import events as ev
from client.comeback import Comeback, avoid_messages, default_nickname
from client.people import People
from client.study import StudySession, StudyState
from server.core import protocol as p

URL = "ws://study.example.org/ws"
STUDY = p.Study(length=25, talk="talk", started_at=0, ends_at=25 * 60_000, minute=60_000, now=0)
DAY = dt.date(2026, 12, 5)


@pytest.mark.parametrize(("count", "sizes"), [(0, []), (1, [1]), (100, [100]), (101, [100, 1]), (250, [100, 100, 50])])
def test_avoid_tokens_go_in_messages_of_at_most_a_hundred(count: int, sizes: list[int]) -> None:
    tokens = [f"t{i}" for i in range(count)]
    messages = avoid_messages(tokens)
    assert [len(m.tokens) for m in messages] == sizes
    assert [t for m in messages for t in m.tokens] == tokens


def ended_with(mine: str | None, partners: str | None, nickname: str = "") -> tuple[People, list[ev.EngineEvent]]:
    people, said = People.in_memory(), list[ev.EngineEvent]()
    comeback = Comeback(people, URL, said.append)
    comeback.matched(p.Matched("s1", True, p.Partner("video", None, avoid="a1.x")))
    comeback.set_again("s1", nickname)
    study = StudySession(STUDY, 0.0)
    study.set_again(mine)
    study.partner_said(StudyState(again=partners), 0.0)
    comeback.call_ended("s1", study, DAY)
    return people, said


def test_only_both_ticks_make_a_favourite() -> None:
    key_a, key_b = People.in_memory().public_key, People.in_memory().public_key
    for mine, partners in ((key_a, None), (None, key_b), (None, None)):
        people, said = ended_with(mine, partners)
        assert people.favourites() == [] and said == []
    people, said = ended_with(key_a, key_b, "  Bea ")
    assert [(f.key, f.nickname) for f in people.favourites()] == [(key_b, "Bea")]
    assert said == [ev.FavouriteSaved("s1", "Bea")]
    people, said = ended_with(key_a, key_b)
    assert said == [ev.FavouriteSaved("s1", default_nickname(DAY))] and default_nickname(DAY) == "Partner of 5 Dec"
