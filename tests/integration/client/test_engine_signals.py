"""The engine's handling of server messages, through the signaling seam.

A recording fake stands in for the websocket (it records what the engine
sends; the test plays the server), while the peer connections are real
aiortc ones: this is where crossing and stale messages are produced on
purpose, which a real server only does by chance.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from client import events as ev
from client.call import ice_configuration
from client.engine import Engine, EngineConfig
from client.media.devices import DeviceError
from client.session import CallState
from integration.engines import Recorder
from integration.wsclient import TIMEOUT
from server.core import protocol as p


class RecordingSignaling:
    """A `SignalingChannel` that records every message and says it was sent."""

    def __init__(self) -> None:
        self.sent: list[p.ClientMessage] = []
        self.connected = False
        self.ice_servers: list[dict[str, Any]] = []
        self._changed = asyncio.Event()

    async def start(self) -> None:
        pass

    async def send(self, message: p.ClientMessage) -> bool:
        if not self.connected:
            return False
        self.sent.append(message)
        self._changed.set()
        return True

    async def probe(self) -> bool:
        return self.connected

    async def close(self) -> None:
        self.connected = False

    async def wait_sent(self, kind: type[Any], count: int = 1) -> list[Any]:
        async with asyncio.timeout(TIMEOUT):
            while len(found := [m for m in self.sent if isinstance(m, kind)]) < count:
                self._changed.clear()
                await self._changed.wait()
        return found


@pytest.fixture
async def engine() -> AsyncIterator[tuple[Engine, RecordingSignaling, Recorder]]:
    fake = RecordingSignaling()
    events = Recorder("engine")
    engine = Engine(EngineConfig(server="ws://fake/ws", fake_media=True), events, signaling=lambda e: fake)
    await engine.start()
    try:
        yield engine, fake, events
    finally:
        await engine.close()


async def connect(engine: Engine, fake: RecordingSignaling) -> None:
    fake.connected = True
    await engine.on_welcome(p.Welcome(id="me", ice_servers=[], limits={}))


async def matched(engine: Engine, session: str, initiator: bool = True) -> None:
    await engine.on_message(p.Queued("video", None))
    await engine.on_message(p.Matched(session, initiator, p.Partner("video", None)))


async def test_find_before_the_connection_is_sent_once_connected(engine: Any) -> None:
    eng, fake, events = engine
    await eng.find("audio", "Maths")
    assert fake.sent == []
    await connect(eng, fake)
    assert fake.sent == [p.Find("audio", "Maths")]
    assert isinstance(events.events[0], ev.Connected)


async def test_the_initiator_offers_with_every_candidate(engine: Any) -> None:
    eng, fake, _ = engine
    await connect(eng, fake)
    await eng.find()
    await matched(eng, "s1")
    assert eng.state is CallState.CONNECTING
    (offer,) = await fake.wait_sent(p.Signal)
    assert offer.session == "s1" and offer.data["type"] == "offer"
    # No trickle ICE in aiortc: the offer itself carries the candidates.
    assert "a=candidate:" in offer.data["sdp"] and "m=video" in offer.data["sdp"]
    assert "m=application" in offer.data["sdp"]  # the chat data channel
    # welcome's empty ice_servers means none: no public STUN server was asked (no srflx candidate).
    assert "typ srflx" not in offer.data["sdp"]
    assert ice_configuration([]).iceServers == []  # an empty list, not None (None means "use Google's")


async def test_stale_session_messages_are_ignored(engine: Any) -> None:
    eng, fake, events = engine
    await connect(eng, fake)
    await eng.find()
    await matched(eng, "s1")
    await fake.wait_sent(p.Signal)
    await eng.skip()
    assert (await events.next(ev.CallEnded)).session == "s1"
    await matched(eng, "s2")
    await fake.wait_sent(p.Signal, 2)
    call = eng.call
    assert call is not None and call.session == "s2"

    # The old partner's late answer and late partner_left must not touch the new call.
    await eng.on_message(p.Signal("s1", {"type": "answer", "sdp": "v=0 garbage"}))
    await eng.on_message(p.PartnerLeft("s1", "left"))
    assert eng.state is CallState.CONNECTING and eng.call is call
    assert call.pc.remoteDescription is None and not call.media_failed
    assert not events.of(ev.PartnerLeft) and not events.of(ev.MediaFailed)
    # The same message for the current session is acted on.
    await eng.on_message(p.PartnerLeft("s2", "left"))
    assert (await events.next(ev.PartnerLeft)).session == "s2"
    assert eng.state is CallState.PARTNER_LEFT and eng.call is None


async def test_a_match_that_crossed_a_cancel_is_left(engine: Any) -> None:
    eng, fake, events = engine
    await connect(eng, fake)
    await eng.find()
    await eng.on_message(p.Queued("video", None))
    await eng.cancel()
    await eng.on_message(p.Matched("s9", True, p.Partner("video", None)))
    assert p.Leave("s9") in fake.sent
    assert eng.call is None and not events.of(ev.Matched)
    await eng.on_message(p.Idle())
    assert eng.state is CallState.IDLE


async def test_idle_crossing_a_match_ends_that_call(engine: Any) -> None:
    eng, fake, events = engine
    await connect(eng, fake)
    await eng.find()
    await matched(eng, "s1")
    await eng.on_message(p.Idle())
    assert (await events.next(ev.CallEnded)).session == "s1"
    assert eng.state is CallState.IDLE and eng.call is None


async def test_server_errors_become_events_except_benign_races(engine: Any) -> None:
    eng, fake, events = engine
    await connect(eng, fake)
    for code in p.ALL_ERROR_CODES:
        await eng.on_message(p.Error(code, f"because {code}"))
    reported = [e.code for e in events.of(ev.ErrorEvent)]
    assert reported == [c for c in p.ALL_ERROR_CODES if c != p.ErrorCode.NOT_IN_SESSION]
    await eng.on_fatal(p.ErrorCode.UNAUTHORIZED, "refused")
    assert events.of(ev.ErrorEvent)[-1] == ev.ErrorEvent("unauthorized", "refused")


async def test_intents_in_the_wrong_state_do_not_raise(engine: Any) -> None:
    eng, fake, events = engine
    await connect(eng, fake)
    await eng.report("rude")  # nothing to report
    await eng.send_chat("anyone?")  # no call
    assert events.of(ev.ErrorEvent)[-1].code == "chat_closed"
    eng.set_microphone_muted(True)
    await eng.leave()
    assert p.Leave(None) in fake.sent
    assert not [m for m in fake.sent if isinstance(m, p.Report)]


async def test_losing_the_server_mid_call_ends_the_call_and_resumes_nothing(engine: Any) -> None:
    eng, fake, events = engine
    await connect(eng, fake)
    await eng.find()
    await matched(eng, "s1")
    fake.connected = False
    await eng.on_disconnected(0.1, "gone")
    assert (await events.next(ev.CallEnded)).session == "s1"
    assert eng.state is CallState.ENDED
    assert events.of(ev.Disconnected) == [ev.Disconnected("ws://fake/ws", 0.1, "gone")]
    sent_before = len(fake.sent)
    await connect(eng, fake)
    # The user was in a call, not searching: nothing is re-sent on reconnect.
    assert len(fake.sent) == sent_before


async def test_a_camera_lost_while_searching_switches_the_search_to_audio(engine: Any) -> None:
    eng, fake, events = engine
    await connect(eng, fake)
    await eng.find("video")
    await eng.on_message(p.Queued("video", None))
    # What the media code reports when the camera is unplugged (client/media/camera.py).
    eng.on_device_error(DeviceError("camera", "unknown", detail="EIO"))
    assert (await events.next(ev.DeviceErrorEvent)).device == "camera"
    assert (await events.next(ev.ModeChanged)).mode == "audio"
    await fake.wait_sent(p.Find, 2)
    assert [m for m in fake.sent if isinstance(m, p.Find)][-1] == p.Find("audio", None)
    assert eng.mode == "audio"
