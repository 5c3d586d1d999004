"""The engine's side of coming back, through the signaling seam (docs/protocol.md, "Coming back"):
as in test_engine_signals.py a recording fake plays the server (here: what an older server or a
crossing message says), while the peer connections are real aiortc ones."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from client import events as ev
from client import messages
from client.engine import Engine, EngineConfig
from client.people import People
from integration.engines import Recorder
from server.core import protocol as p

from .test_engine_signals import RecordingSignaling, connect

URL = "ws://fake/ws"


@pytest.fixture
async def make() -> AsyncIterator[Any]:
    made: list[Engine] = []

    async def start(people: People | None = None, **config: Any) -> tuple[Engine, RecordingSignaling, Recorder]:
        fake, events = RecordingSignaling(), Recorder("engine")
        engine = Engine(EngineConfig(server=URL, fake_media=True, **config), events, signaling=lambda e: fake,
                        people=people)
        made.append(engine)
        await engine.start()
        return engine, fake, events

    try:
        yield start
    finally:
        for engine in made:
            await engine.close()


def with_favourite(nickname: str = "Bea") -> tuple[People, str]:
    """People with one favourite, and the rendezvous token both derive for URL."""
    people, partner = People.in_memory(), People.in_memory()
    people.add_favourite(partner.public_key, nickname)
    [token] = people.by_rendezvous(URL)
    return people, token


async def test_every_avoid_token_goes_after_each_welcome_in_hundreds_before_resume(make: Any) -> None:
    people = People.in_memory()
    tokens = [f"a1.token{i:03d}" for i in range(150)]
    for token in tokens:
        people.block(token, "never_again")
    eng, fake, _ = await make(people)
    await connect(eng, fake)
    assert fake.sent == [p.Avoid(tuple(tokens[:100])), p.Avoid(tuple(tokens[100:]))]
    await eng.find()
    await eng.on_message(p.Queued("video", None, ticket="q1"))
    await eng.on_message(p.Matched("s1", True, p.Partner("video", None), ticket="t1"))
    fake.connected = False
    await eng.on_disconnected(0.1, "gone")
    sent = len(fake.sent)
    await connect(eng, fake)
    assert fake.sent[sent:] == [p.Avoid(tuple(tokens[:100])), p.Avoid(tuple(tokens[100:])), p.Resume("t1")]


async def test_a_server_that_cannot_look_for_favourites_means_anyone_at_once(make: Any) -> None:
    people, token = with_favourite()
    eng, fake, events = await make(people)
    await connect(eng, fake)
    await eng.find_favourite()
    assert events.of(ev.FavouriteSearch) == [ev.FavouriteSearch(1, 30.0)]
    assert fake.sent == [p.Find("video", None, favourites=(token,))]
    await eng.on_message(p.Queued("video", None))  # no `favourite: true`: it searches for anyone
    assert (await events.next(ev.FavouriteFallback)).message == messages.FAVOURITE_NOT_SUPPORTED
    assert (await fake.wait_sent(p.Find, 2))[-1] == p.Find("video", None)
    await eng.on_message(p.Queued("video", None))
    assert len(events.of(ev.FavouriteFallback)) == 1


async def test_no_favourite_in_time_means_anyone_and_a_match_before_means_no_fallback(make: Any) -> None:
    people, token = with_favourite()
    eng, fake, events = await make(people, favourite_wait=0.2)
    await connect(eng, fake)
    await eng.find_favourite()
    await eng.on_message(p.Queued("video", None, favourite=True))
    assert (await events.next(ev.FavouriteFallback)).message == messages.FAVOURITE_NONE_CAME
    assert (await fake.wait_sent(p.Find, 2))[-1] == p.Find("video", None)
    # Searching for a favourite again, and this time one comes before the wait is over.
    eng2, fake2, events2 = await make(people, favourite_wait=0.2)
    await connect(eng2, fake2)
    await eng2.find_favourite()
    await eng2.on_message(p.Queued("video", None, favourite=True))
    await eng2.on_message(p.Matched("s1", True, p.Partner("video", None, avoid="a1.sealed"), favourite=token))
    assert (await events2.next(ev.Matched)).favourite == "Bea"
    eng2.set_again(True)  # no study session from this server: nothing happens, nothing breaks
    await eng2.leave()
    await eng2.find()
    await eng2.on_message(p.Queued("video", None))
    # the wait was stopped by the match: a plain search stays plain, with nothing said
    await eng2.on_message(p.Matched("s2", True, p.Partner("video", None)))
    assert not events2.of(ev.FavouriteFallback)


async def test_blocking_the_partner_now_or_of_the_last_call(make: Any) -> None:
    people, token = with_favourite()
    eng, fake, events = await make(people)
    await connect(eng, fake)
    await eng.block_partner()  # nobody yet
    assert events.of(ev.PartnerBlocked) == [ev.PartnerBlocked("", False, messages.PARTNER_BLOCK_NOBODY)]
    await eng.find()
    await eng.on_message(p.Queued("video", None))
    await eng.on_message(p.Matched("s1", True, p.Partner("video", None)))  # an older partner: no install
    assert (await events.next(ev.Matched)).avoidable is False
    await eng.block_partner()
    assert events.of(ev.PartnerBlocked)[-1] == ev.PartnerBlocked("s1", False, messages.PARTNER_BLOCK_UNNAMED)
    await eng.leave()
    await eng.find()
    await eng.on_message(p.Queued("video", None))
    await eng.on_message(p.Matched("s2", True, p.Partner("video", None, avoid="a1.sealed"), favourite=token))
    matched = await events.next(ev.Matched)
    assert (matched.favourite, matched.avoidable) == ("Bea", True)
    await eng.leave()
    await eng.block_partner()  # the last call's partner, after it ended
    assert events.of(ev.PartnerBlocked)[-1] == ev.PartnerBlocked("s2", True, messages.PARTNER_BLOCKED)
    assert fake.sent[-1] == p.Avoid(("a1.sealed",))
    assert people.avoid_tokens() == ["a1.sealed"]
    assert people.favourites() == []  # a favourite never to meet again is no favourite


async def test_a_report_blocks_and_resumed_keeps_the_token_from_matched(make: Any) -> None:
    eng, fake, events = await make()
    await connect(eng, fake)
    await eng.find()
    await eng.on_message(p.Queued("video", None, ticket="q1"))
    await eng.on_message(p.Matched("s1", True, p.Partner("video", None, avoid="a1.first"), ticket="t1"))
    fake.connected = False
    await eng.on_disconnected(0.1, "gone")
    await connect(eng, fake)
    await eng.on_message(p.Resumed("s1", True, p.Partner("video", None), ticket="t2"))  # rebuilt: no avoid
    await eng.report("rude")
    assert fake.sent[-2:] == [p.Report("s1", "rude"), p.Avoid(("a1.first",))]
    assert events.of(ev.PartnerBlocked) == [ev.PartnerBlocked("s1", True, messages.PARTNER_BLOCKED)]
    assert eng.people.avoid_tokens() == ["a1.first"]


async def test_the_answer_to_an_earlier_skip_is_not_taken_for_an_older_server(make: Any) -> None:
    people, token = with_favourite()
    eng, fake, events = await make(people)
    await connect(eng, fake)
    await eng.find()
    await eng.on_message(p.Queued("video", None))
    await eng.on_message(p.Matched("s1", True, p.Partner("video", None)))
    await eng.skip()  # the server queues us again (plain), and says so...
    await eng.find_favourite()  # ...after we already asked for a favourite
    assert fake.sent[-2:] == [p.Skip("s1"), p.Find("video", None, favourites=(token,))]
    await eng.on_message(p.Queued("video", None))  # the skip's answer
    await eng.on_message(p.Queued("video", None, favourite=True))  # the find's
    assert not events.of(ev.FavouriteFallback)
    # An older server: the find's answer says nothing of favourites either.
    eng2, fake2, events2 = await make(people)
    await connect(eng2, fake2)
    await eng2.find()
    await eng2.on_message(p.Queued("video", None))
    await eng2.on_message(p.Matched("s1", True, p.Partner("video", None)))
    await eng2.skip()
    await eng2.find_favourite()
    await eng2.on_message(p.Queued("video", None))
    assert not events2.of(ev.FavouriteFallback)
    await eng2.on_message(p.Queued("video", None))
    assert (await events2.next(ev.FavouriteFallback)).message == messages.FAVOURITE_NOT_SUPPORTED
