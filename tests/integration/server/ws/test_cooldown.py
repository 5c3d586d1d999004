"""The rematch cool-down ends by itself: two waiters kept apart are paired when it does."""

from __future__ import annotations

from integration.conftest import ServerFactory


async def test_skipped_partners_meet_again_once_the_cool_down_ends(server_factory: ServerFactory) -> None:
    cluster = await server_factory(rematch_cooldown=2.0)
    a, b, session = await cluster.pair()
    await a.send({"type": "skip", "session": session})
    await b.expect("partner_left", session=session, reason="skipped")
    await a.expect("queued")
    await b.find()
    # Both wait, compatible, but may not meet before the cool-down ends...
    health = await cluster.health()
    assert health["waiting"] == 2 and health["sessions"] == 0
    # ...and then they are paired without sending anything more.
    ma, mb = await a.expect("matched"), await b.expect("matched")
    assert ma["session"] == mb["session"] != session
    assert ma["initiator"] is True and mb["initiator"] is False
