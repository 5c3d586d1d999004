"""The wire contract end to end, the queue's messages: find, cancel, skip, leave, report.

A real server (memory, and two Redis-backed instances), real WebSocket clients; one test
(or a few) per row of the tables in docs/protocol.md. The other rows: test_protocol.py.
"""

from __future__ import annotations

import asyncio

import pytest

from integration.conftest import Cluster, ServerFactory

# --- find / queued / matched --------------------------------------------------


async def test_two_finders_are_matched_with_one_initiator(cluster: Cluster) -> None:
    a, b = await cluster.connect(), await cluster.connect()
    queued = {"type": "queued", "mode": "audio", "topic": "maths", "length": None, "talk": None}
    assert await a.find("audio", " Maths ") == queued
    await b.find("audio", None)
    ma, mb = await a.expect("matched"), await b.expect("matched")
    assert ma["session"] == mb["session"]
    assert [ma["initiator"], mb["initiator"]] == [True, False]  # the one who waited offers
    assert ma["partner"] == {"mode": "audio", "topic": None}
    assert mb["partner"] == {"mode": "audio", "topic": "maths"}


@pytest.mark.parametrize(
    ("first", "second", "compatible"),
    [
        (("video", "maths"), ("video", "MATHS "), True),
        (("video", "maths"), ("video", None), True),
        (("video", None), ("video", None), True),
        (("video", "maths"), ("video", "physics"), False),
        (("video", None), ("audio", None), False),
    ],
)
async def test_mode_and_topic_compatibility(
    cluster: Cluster, first: tuple[str, str | None], second: tuple[str, str | None], compatible: bool
) -> None:
    a, b = await cluster.connect(), await cluster.connect()
    await a.find(*first)
    await b.find(*second)
    if compatible:
        await a.expect("matched")
        await b.expect("matched")
    else:
        await a.assert_silent()
        await b.assert_silent()
        await cluster.wait_until(lambda h: h["waiting"] == 2 and h["sessions"] == 0)


async def test_the_longest_compatible_waiter_is_chosen(cluster: Cluster) -> None:
    video, history, art = await cluster.connect(), await cluster.connect(), await cluster.connect()
    await video.find("video", None)  # waited longest, but another mode
    await history.find("audio", "history")
    await art.find("audio", "art")
    same_topic = await cluster.connect()
    await same_topic.find("audio", "art")  # only `art` is compatible, though younger
    assert (await art.expect("matched"))["session"] == (await same_topic.expect("matched"))["session"]
    anyone = await cluster.connect()
    await anyone.find("audio", None)
    assert (await history.expect("matched"))["session"] == (await anyone.expect("matched"))["session"]
    await video.assert_silent()


async def test_among_several_compatible_waiters_the_oldest_wins(cluster: Cluster) -> None:
    first, second = await cluster.connect(), await cluster.connect()
    await first.find("audio", "history")
    await second.find("audio", "art")
    newcomer = await cluster.connect()
    await newcomer.find("audio", None)
    matched = await newcomer.expect("matched")
    assert (await first.expect("matched"))["session"] == matched["session"]
    await second.assert_silent()


async def test_find_again_while_queued_keeps_one_place_or_moves(cluster: Cluster) -> None:
    a = await cluster.connect()
    await a.find("video", "maths")
    await a.find("video", "maths")
    await cluster.wait_until(lambda h: h["waiting_by_mode"] == {"video": 1, "audio": 0})
    await a.find("audio", None)  # a new wish moves the client, not copies it
    await cluster.wait_until(lambda h: h["waiting_by_mode"] == {"video": 0, "audio": 1})


async def test_find_in_a_session_is_refused_and_the_session_goes_on(cluster: Cluster) -> None:
    a, b, session = await cluster.pair()
    await a.send({"type": "find", "mode": "video"})
    await a.expect_error("in_session")
    await a.send({"type": "signal", "session": session, "data": {"still": "here"}})
    await b.expect("signal", session=session, data={"still": "here"})


@pytest.mark.parametrize(
    "message",
    [
        {"type": "find", "mode": "hologram"},
        {"type": "find"},
        {"type": "find", "mode": "video", "topic": "x" * 33},
        {"type": "find", "mode": "video", "topic": 7},
    ],
)
async def test_malformed_find_is_a_bad_message(cluster: Cluster, message: dict[str, object]) -> None:
    client = await cluster.connect()
    await client.send(message)
    await client.expect_error("bad_message")
    await client.find("audio")  # proves the refused find left nothing behind in the queue
    await cluster.wait_until(lambda h: h["waiting_by_mode"] == {"video": 0, "audio": 1})


# --- cancel -------------------------------------------------------------------------


async def test_cancel_leaves_the_queue_and_answers_idle(cluster: Cluster) -> None:
    a = await cluster.connect()
    await a.request({"type": "cancel"}, "idle")  # also when idle
    await a.find()
    await a.request({"type": "cancel"}, "idle")
    b = await cluster.connect()
    await b.find()
    await b.assert_silent()
    await a.assert_silent()


async def test_cancel_in_a_session_is_refused(cluster: Cluster) -> None:
    a, b, session = await cluster.pair()
    await a.send({"type": "cancel"})
    await a.expect_error("in_session")
    await b.send({"type": "signal", "session": session, "data": {}})
    await a.expect("signal", session=session)


# --- skip ---------------------------------------------------------------------------


async def test_skip_ends_the_session_and_queues_again_without_instant_rematch(cluster: Cluster) -> None:
    a, b, session = await cluster.pair("video", "maths")
    await a.request({"type": "skip", "session": session}, "queued", mode="video", topic="maths")
    await b.expect("partner_left", session=session, reason="skipped")
    await b.find("video", "maths")  # the partner searches again: not the skipper
    await a.assert_silent()
    await b.assert_silent()
    c = await cluster.connect()
    await c.find("video", None)
    # The skipper has waited longest, so the newcomer gets it.
    mc = await c.expect("matched")
    assert (await a.expect("matched"))["session"] == mc["session"] != session
    await b.assert_silent()


async def test_the_partner_that_was_skipped_is_idle_not_queued(cluster: Cluster) -> None:
    a, b, _ = await cluster.pair()
    await a.request({"type": "skip"}, "queued")
    await b.expect("partner_left", reason="skipped")
    await cluster.wait_until(lambda h: h["waiting"] == 1 and h["sessions"] == 0)  # only the skipper


async def test_skip_after_the_cooldown_may_pair_the_same_two_again(server_factory: ServerFactory) -> None:
    cluster = await server_factory(rematch_cooldown=0.0)
    a, b, session = await cluster.pair()
    await a.request({"type": "skip"}, "queued")
    await b.expect("partner_left", reason="skipped")
    await b.find()
    assert (await a.expect("matched"))["session"] == (await b.expect("matched"))["session"] != session


async def test_skip_while_queued_keeps_the_place(cluster: Cluster) -> None:
    first, second = await cluster.connect(), await cluster.connect()
    await first.find("video", "maths")
    await second.find("video", "art")
    await first.request({"type": "skip"}, "queued", mode="video", topic="maths")
    newcomer = await cluster.connect()
    await newcomer.find("video", None)
    assert (await first.expect("matched"))["session"] == (await newcomer.expect("matched"))["session"]


async def test_skip_without_an_earlier_find_is_not_in_session(cluster: Cluster) -> None:
    a = await cluster.connect()
    await a.send({"type": "skip"})
    await a.expect_error("not_in_session")


async def test_skip_with_a_stale_session_acts_on_the_present(cluster: Cluster) -> None:
    a, b, old = await cluster.pair()
    await a.request({"type": "skip", "session": old}, "queued")
    await b.expect("partner_left", session=old)
    await a.request({"type": "skip", "session": old}, "queued")  # still searching, no error
    await a.assert_silent()


async def test_crossing_skips_both_find_new_partners(cluster: Cluster) -> None:
    a, b, session = await cluster.pair()
    await asyncio.gather(a.send({"type": "skip", "session": session}),
                         b.send({"type": "skip", "session": session}))
    health = await cluster.wait_until(lambda h: h["waiting"] == 2)
    assert health["sessions"] == 0
    c, d = await cluster.connect(), await cluster.connect()
    await c.find()
    await d.find()
    sessions = {(await x.expect("matched"))["session"] for x in (c, d)}
    assert len(sessions) == 2  # c and d each got one of the skippers, not each other


# --- leave --------------------------------------------------------------------------


async def test_leave_ends_the_session_without_requeueing(cluster: Cluster) -> None:
    a, b, session = await cluster.pair()
    await a.request({"type": "leave", "session": session}, "idle")
    await b.expect("partner_left", session=session, reason="left")
    await cluster.wait_until(lambda h: h["waiting"] == 0 and h["sessions"] == 0)


async def test_leave_while_queued_or_idle_answers_idle(cluster: Cluster) -> None:
    a = await cluster.connect()
    await a.request({"type": "leave"}, "idle")
    await a.find()
    await cluster.wait_until(lambda h: h["waiting"] == 1)
    await a.request({"type": "leave", "session": "stale-one"}, "idle")
    await cluster.wait_until(lambda h: h["waiting"] == 0)


# --- report -------------------------------------------------------------------------


async def test_report_ends_the_session_and_blocks_the_rematch(cluster: Cluster) -> None:
    a, b, session = await cluster.pair()
    await a.request({"type": "report", "session": session, "reason": "rude"}, "reported", session=session)
    await b.expect("partner_left", session=session, reason="reported")
    await a.find()
    await b.find()
    await a.assert_silent()
    await b.assert_silent()


@pytest.mark.parametrize(
    ("message", "code"),
    [
        ({"type": "report", "session": "not-mine", "reason": "rude"}, "not_in_session"),
        ({"type": "report", "session": "not-mine"}, "bad_message"),
        ({"type": "report", "reason": "rude"}, "bad_message"),
    ],
)
async def test_report_refusals(cluster: Cluster, message: dict[str, object], code: str) -> None:
    a, b, _ = await cluster.pair()
    await a.send(message)
    await a.expect_error(code)
    await b.assert_silent()
    await cluster.wait_until(lambda h: h["sessions"] == 1)
