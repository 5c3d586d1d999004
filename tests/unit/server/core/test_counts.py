"""Live counts' pure core (server/core/counts.py): the tally, the figures, the coalescer on a fake clock."""

from __future__ import annotations

import json
from typing import Any

import pytest

from server.core import protocol as p
from server.core.counts import Coalescer, Figures, Tally

SESSION = "s1"


def matched() -> p.Matched:
    return p.Matched(SESSION, True, p.Partner("video", None))


def test_the_tally_follows_the_messages_delivered() -> None:
    tally = Tally()
    assert tally.observe("a", p.Queued("video", "maths"))
    assert tally.observe("b", p.Queued("audio", "maths"))
    assert tally.observe("c", p.Queued("video", None))
    assert not tally.observe("a", p.Signal(SESSION, {}))  # not about the queue
    assert tally.figures(5) == Figures(5, {"video": 2, "audio": 1}, {"maths": 2})
    assert tally.observe("a", matched())
    assert tally.observe("b", p.Idle())
    assert not tally.observe("b", p.PartnerLeft(SESSION, "left"))  # out of line already
    assert tally.figures(3) == Figures(3, {"video": 1}, {})
    assert dict(tally.queued()) == {"c": None}


@pytest.mark.parametrize("out", [matched(), p.Resumed(SESSION, True, p.Partner("video", None)), p.Idle(),
                                 p.PartnerLeft(SESSION, "skipped"), p.Replaced(SESSION)])
def test_every_way_out_of_line_is_followed(out: p.ServerMessage) -> None:
    tally = Tally()
    tally.observe("a", p.Queued("audio", "art"))
    assert tally.observe("a", out)
    assert tally.figures(1) == Figures(1, {}, {})


def test_a_new_queued_replaces_the_wish() -> None:
    tally = Tally()
    tally.observe("a", p.Queued("video", "maths"))
    tally.observe("a", p.Queued("audio", "art"))  # skip, or a resume with another wish
    assert tally.figures(1) == Figures(1, {"audio": 1}, {"art": 1})
    assert tally.forget("a") and not tally.forget("a")
    assert tally.figures(0) == Figures(0, {}, {})


def test_counts_leave_the_client_out_of_its_topic_only() -> None:
    figures = Figures(9, {"video": 3, "audio": 1}, {"maths": 2})
    assert figures.counts("maths") == p.Counts(online=9, video=3, audio=1, topic=1)
    assert figures.counts(None) == p.Counts(online=9, video=3, audio=1, topic=None)
    assert Figures().counts("art") == p.Counts(online=0, video=0, audio=0, topic=0)


def test_figures_add_up_and_survive_json() -> None:
    a = Figures(2, {"video": 1}, {"maths": 1})
    b = Figures(3, {"video": 1, "audio": 2}, {"maths": 1, "art": 1})
    assert a.plus(b) == Figures(5, {"video": 2, "audio": 2}, {"maths": 2, "art": 1})
    assert Figures.from_json(json.loads(json.dumps(b.to_json()))) == b
    assert Figures(1, {"video": 0}, {}).to_json() == {"o": 1, "m": {}, "t": {}}


@pytest.mark.parametrize("bad", [
    None, [], {"o": 1}, {"o": -1, "m": {}, "t": {}}, {"o": True, "m": {}, "t": {}}, {"o": 1.5, "m": {}, "t": {}},
    {"o": 1, "m": {"video": "2"}, "t": {}}, {"o": 1, "m": {}, "t": {"x": -3}}, {"o": 1, "m": [], "t": {}},
])
def test_malformed_figures_are_refused(bad: Any) -> None:
    with pytest.raises(ValueError):
        Figures.from_json(bad)


COUNTS = p.Counts(online=4, video=2, audio=1, topic=0)
MORE = p.Counts(online=5, video=2, audio=1, topic=0)


def test_the_first_counts_goes_at_once() -> None:
    assert Coalescer().due("a", COUNTS, now=10.0)


def test_then_only_a_change_goes() -> None:
    coalescer = Coalescer()
    assert coalescer.due("a", COUNTS, now=10.0)
    assert not coalescer.due("a", COUNTS, now=11.0)
    assert not coalescer.due("a", COUNTS, now=12.0)
    assert coalescer.due("a", MORE, now=13.0)


def test_never_twice_within_a_second_and_the_latest_figures_win() -> None:
    coalescer = Coalescer(interval=1.0)
    assert coalescer.due("a", COUNTS, now=10.0)
    assert not coalescer.due("a", MORE, now=10.5)
    assert not coalescer.due("a", COUNTS, now=10.9)  # back as sent: nothing to say
    later = p.Counts(online=6, video=2, audio=1, topic=0)
    assert not coalescer.due("a", later, now=10.99)
    assert coalescer.due("a", later, now=11.0)
    assert not coalescer.due("a", later, now=12.0)


def test_each_queued_gets_a_first_counts_but_not_within_the_second() -> None:
    coalescer = Coalescer()
    assert coalescer.due("a", COUNTS, now=10.0)
    coalescer.requeued("a")  # matched, then queued again (skip)
    assert not coalescer.due("a", COUNTS, now=10.4)  # still within the second of the last
    assert coalescer.due("a", COUNTS, now=11.0)  # the same figures: it is a new search's first


def test_connections_are_apart() -> None:
    coalescer = Coalescer()
    assert coalescer.due("a", COUNTS, now=10.0)
    assert coalescer.due("b", COUNTS, now=10.1)
    coalescer.forget("a")
    assert coalescer.due("a", COUNTS, now=10.2)  # a new connection's first
    coalescer.requeued("nobody")  # unknown: nothing to reset
