"""Real calls: a real server on port 0 and real engines (aiortc peers) on this machine.

Media is synthetic (no camera, microphone or sound card here); everything
else is the code that runs in the app: websockets signaling, aiortc ICE over
the machine's interfaces, VP8/Opus encode and decode, the data channel.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from client import events as ev
from client.engine import Engine, EngineConfig
from client.media.audio import NullSpeaker
from client.media.factory import MediaFactory
from client.media.synthetic import dominant_frequency, read_pattern
from client.presence import SILENCE
from client.session import CallState
from integration.conftest import Cluster
from integration.engines import MEDIA_TIMEOUT, Recorder, engines, fast_signaling
from integration.wsclient import SCALE, TIMEOUT
from server.config import ServerConfig
from server.ws.app import Server, running_server


async def in_call(a: Any, b: Any, mode: str = "video") -> str:
    """Find in both, wait until media flows both ways; the session."""
    await a.engine.find(mode)
    await b.engine.find(mode)
    ma = await a.events.next(ev.Matched)
    mb = await b.events.next(ev.Matched)
    assert ma.session == mb.session and ma.initiator != mb.initiator
    for peer in (a, b):
        await peer.events.next(ev.MediaConnected, lambda e: e.session == ma.session, MEDIA_TIMEOUT)
        await peer.events.next(ev.FirstRemoteFrame, lambda e: e.kind == "audio", MEDIA_TIMEOUT)
    return ma.session


async def test_video_call_carries_the_pattern_both_ways_and_chat(cluster: Cluster) -> None:
    started = time.time()
    async with engines() as make:
        a = await make("a", cluster.next_url())
        b = await make("b", cluster.next_url())
        session = await in_call(a, b)
        assert a.state is CallState.IN_CALL and b.state is CallState.IN_CALL
        for peer in (a, b):
            first = await peer.events.next(ev.FirstRemoteFrame, lambda e: e.kind == "video", MEDIA_TIMEOUT)
            assert 0 < first.ms_since_matched < 1000 * MEDIA_TIMEOUT
            await peer.events.wait_frames(30, MEDIA_TIMEOUT)
            # The frames are the partner's pattern, decoded: capture times and sequence read back.
            infos = [read_pattern(f.frame) for f in list(peer.events.remote_frames)[-20:]]
            readable = [i for i in infos if i is not None]
            assert len(readable) >= 18, infos
            assert all(started - 1 <= i.capture_time <= time.time() for i in readable)
            sequences = [i.sequence for i in readable]
            assert sequences == sorted(sequences) and len(set(sequences)) == len(sequences)
            assert all(f.session == session for f in peer.events.remote_frames)
            assert peer.events.local_frame_count > 0  # the self-preview
            stats = await peer.events.next(ev.CallStats, lambda s: (s.bitrate_kbps or 0) > 50)
            assert stats.session == session and stats.loss_percent is not None
        # Audio reached the (counting) speaker, not just the track.
        for peer in (a, b):
            speaker = peer.engine._devices.speaker
            assert isinstance(speaker, NullSpeaker) and speaker.frames > 0  # fake media: the counting sink

        await a.engine.send_chat("hello from a")
        got = await b.events.next(ev.ChatMessage, lambda m: not m.mine)
        assert (got.text, got.session) == ("hello from a", session)
        await b.engine.send_chat("hi a")
        assert (await a.events.next(ev.ChatMessage, lambda m: not m.mine)).text == "hi a"
        assert [m.text for m in a.events.of(ev.ChatMessage) if m.mine] == ["hello from a"]

        await a.engine.leave()
        ended_a = await a.events.next(ev.CallEnded)
        left = await b.events.next(ev.PartnerLeft)
        ended_b = await b.events.next(ev.CallEnded)
        assert (left.session, left.reason) == (session, "left")
        for ended in (ended_a, ended_b):
            assert ended.session == session and ended.video_frames >= 30 and ended.audio_frames > 0
            assert ended.latency_ms_p50 is not None and 0 < ended.latency_ms_p50 < 1000
            assert ended.seconds > 0
        await a.events.next(ev.Idle)
        assert a.state is CallState.IDLE and b.state is CallState.PARTNER_LEFT
        # The closed call's peer connection is really closed, and it was the only one.
        assert a.engine.call is None


async def test_skip_gives_a_new_partner_on_a_new_peer_connection(cluster: Cluster) -> None:
    async with engines() as make:
        a = await make("a", cluster.next_url())
        b = await make("b", cluster.next_url())
        c = await make("c", cluster.next_url())
        first = await in_call(a, b)
        old_call = a.engine.call
        assert old_call is not None
        await c.engine.find()
        await c.events.next(ev.Queued)

        await a.engine.skip()
        assert (await a.events.next(ev.CallEnded)).session == first
        assert (await b.events.next(ev.PartnerLeft)).reason == "skipped"
        second = await a.events.next(ev.Matched)
        assert (await c.events.next(ev.Matched)).session == second.session != first
        await a.events.next(ev.MediaConnected, lambda e: e.session == second.session, MEDIA_TIMEOUT)
        await c.events.next(ev.FirstRemoteFrame, lambda e: e.kind == "video", MEDIA_TIMEOUT)
        assert a.engine.call is not None and a.engine.call.pc is not old_call.pc
        assert old_call.closing is not None
        await old_call.closing
        assert old_call.pc.connectionState == "closed"
        # b was left idle by the server (not re-queued) until it asks again.
        assert b.state is CallState.PARTNER_LEFT


async def test_audio_only_call(cluster: Cluster) -> None:
    async with engines() as make:
        a = await make("a", cluster.next_url(), mode="audio")
        b = await make("b", cluster.next_url(), mode="audio")
        await in_call(a, b, mode="audio")
        # Each hears the other's tone on its meter (what the mini window shows in place of a picture).
        for peer in (a, b):
            loud = await peer.events.next(ev.PartnerAudioLevel, lambda e: e.level > 0.6, MEDIA_TIMEOUT)
            assert loud.session == peer.events.of(ev.Matched)[-1].session
        assert (await a.events.next(ev.Queued)).mode == "audio"
        await b.engine.skip()
        for peer in (a, b):
            ended = await peer.events.next(ev.CallEnded)
            assert ended.audio_frames > 0 and ended.video_frames == 0 and ended.latency_ms_p50 is None
        assert not a.events.of(ev.FirstRemoteFrame) or all(
            e.kind == "audio" for e in a.events.of(ev.FirstRemoteFrame)
        )


async def test_a_missing_camera_falls_back_to_audio_only(cluster: Cluster) -> None:
    # /dev/video9 does not exist here: PyAV's real v4l2 error, classified by the media code.
    media = MediaFactory(camera="/dev/video9", microphone="fake")
    media.fake_speaker = True  # no sound card on this machine
    async with engines() as make:
        a = await make("a", cluster.next_url(), media=media)
        b = await make("b", cluster.next_url(), mode="audio")
        await a.engine.find("video")
        error = await a.events.next(ev.DeviceErrorEvent)
        assert (error.device, error.code) == ("camera", "not_found")
        assert "camera" in error.message.lower() and "audio only" in error.message.lower()
        assert (await a.events.next(ev.ModeChanged)).mode == "audio"
        assert (await a.events.next(ev.Queued)).mode == "audio"
        await b.engine.find()
        await a.events.next(ev.MediaConnected, within=MEDIA_TIMEOUT)
        await a.events.next(ev.FirstRemoteFrame, lambda e: e.kind == "audio", MEDIA_TIMEOUT)
        await b.events.next(ev.FirstRemoteFrame, lambda e: e.kind == "audio", MEDIA_TIMEOUT)
        assert a.engine.mode == "audio"


async def test_no_microphone_joins_muted_and_says_so(cluster: Cluster, qapp: Any) -> None:
    # The real Qt audio path: this machine has no audio input, so the microphone is not found.
    # qapp: pytest-qt's QApplication, or the audio code would make a QCoreApplication that
    # later Qt tests in this process cannot use.
    media = MediaFactory(camera="fake")
    media.fake_speaker = True
    async with engines() as make:
        a = await make("a", cluster.next_url(), media=media)
        b = await make("b", cluster.next_url())
        await a.engine.find()
        await b.engine.find()
        error = await a.events.next(ev.DeviceErrorEvent, within=MEDIA_TIMEOUT)
        assert (error.device, error.code) == ("microphone", "not_found")
        # The call goes on: b hears (silent) audio frames from a, and sees a's video.
        await b.events.next(ev.FirstRemoteFrame, lambda e: e.kind == "audio", MEDIA_TIMEOUT)
        await b.events.next(ev.FirstRemoteFrame, lambda e: e.kind == "video", MEDIA_TIMEOUT)
        await a.events.next(ev.FirstRemoteFrame, lambda e: e.kind == "audio", MEDIA_TIMEOUT)


async def test_server_going_away_and_coming_back() -> None:
    first = Server(ServerConfig(port=0, shutdown_retry_after=0.2))
    await first.start()
    url, port = first.url, first.port
    async with engines() as make:
        a = await make("a", url)
        await a.engine.find()
        await a.events.next(ev.Queued)
        await first.stop()
        assert (await a.events.next(ev.Shutdown)).retry_after == 0.2
        gone = await a.events.next(ev.Disconnected)
        assert gone.retry_in >= 0.2 and "Reconnecting" in gone.message
        # While it is down the engine keeps trying and keeps saying so.
        down = await a.events.next(ev.Disconnected, lambda e: "Cannot reach" in e.message)
        assert down.server == url
        assert a.state is CallState.IDLE
        # Back on the same port: reconnect, and the search the user started is resumed.
        async with running_server(ServerConfig(port=port)) as again:
            await a.events.next(ev.Connected)
            assert (await a.events.next(ev.Queued)).mode == "video"
            assert again.backend.stats().waiting["video"] == 1


async def test_a_partner_gone_while_the_server_is_down_ends_the_call_after_the_grace() -> None:
    # Nobody can tell a that b left: the server is down (a shutdown: "resume later") when b goes.
    # a's own presence (client/presence.py) notices the silence, fails to rebuild, and after the
    # grace the server gave in its welcome, ends the call as a timeout, with no server involved.
    grace = 2.0
    server = Server(ServerConfig(port=0, resume_grace=grace, shutdown_retry_after=30.0))
    await server.start()
    async with engines() as make:
        a = await make("a", server.url)
        b = await make("b", server.url)
        session = await in_call(a, b)
        await server.stop()
        await a.events.next(ev.SignalingLost)
        await b.engine.close()
        left = await a.events.next(ev.PartnerLeft, within=(SILENCE + grace) * SCALE + MEDIA_TIMEOUT)
        assert (left.session, left.reason) == (session, "timeout")
        assert (await a.events.next(ev.CallEnded)).session == session
        assert a.events.of(ev.MediaReconnecting)  # it tried to rebuild first


async def test_unreachable_server_is_reported_and_retried() -> None:
    # A port nobody listens on: let a server pick a free one, then stop it.
    async with running_server(ServerConfig(port=0)) as server:
        url = server.url
    events = Recorder("x")
    engine = Engine(EngineConfig(server=url, fake_media=True), events, signaling=fast_signaling)
    try:
        await engine.start()
        first = await events.next(ev.Disconnected)
        second = await events.next(ev.Disconnected)
        assert "Cannot reach the StudyMatch server" in first.message and url in first.message
        assert "running on this computer" in first.message  # a loopback address: not the internet
        assert 0 < first.retry_in <= 0.05 and 0 < second.retry_in <= 0.1
        assert not events.of(ev.Connected)
    finally:
        await engine.close()


class RecordingSpeaker:
    """Stands in for the sound card this machine lacks; keeps the frames it is asked to play."""

    def __init__(self) -> None:
        self.frames: list[Any] = []
        self.changed = asyncio.Event()

    def play(self, frame: Any) -> None:
        self.frames.append(frame)
        self.changed.set()

    async def wait(self, predicate: Any, within: float = TIMEOUT) -> None:
        """Until `predicate(last 10 frames)` holds."""
        async with asyncio.timeout(within):
            while len(self.frames) < 10 or not predicate(self.frames[-10:]):
                self.changed.clear()
                await self.changed.wait()


async def test_mute_and_camera_off_and_on_during_a_call(cluster: Cluster) -> None:
    media_a = MediaFactory(fake_media=True)
    media_b = MediaFactory(fake_media=True)
    speaker_b = RecordingSpeaker()
    media_b.open_speaker = lambda: speaker_b  # type: ignore[method-assign]  # B's speaker records what it plays
    async with engines() as make:
        a = await make("a", cluster.next_url(), media=media_a)
        b = await make("b", cluster.next_url(), media=media_b)
        await in_call(a, b)
        await b.events.wait_frames(10, MEDIA_TIMEOUT)
        # b hears a's 440 Hz tone; muted, silence; unmuted, the tone again.
        await speaker_b.wait(lambda fs: all(abs(dominant_frequency(f) - 440) < 20 for f in fs[-3:]))
        await b.events.latest(ev.PartnerAudioLevel, lambda e: e.level > 0.6, MEDIA_TIMEOUT)  # b's meter hears a
        a.engine.set_microphone_muted(True)
        await speaker_b.wait(lambda fs: all(dominant_frequency(f) == 0.0 for f in fs))
        await b.events.latest(ev.PartnerAudioLevel, lambda e: e.level == 0.0, MEDIA_TIMEOUT)  # and empties
        a.engine.set_microphone_muted(False)
        await speaker_b.wait(lambda fs: all(abs(dominant_frequency(f) - 440) < 20 for f in fs[-3:]))

        # Camera off: the device is released and b sees black, not a frozen pattern.
        assert media_a.camera_is_open
        await a.engine.set_camera_enabled(False)
        assert not media_a.camera_is_open
        seen = b.events.remote_frame_count
        await b.events.wait_frames(seen + 15, MEDIA_TIMEOUT)
        last = [f.frame for f in list(b.events.remote_frames)[-3:]]
        assert all(read_pattern(f) is None for f in last)
        assert all(f.to_ndarray(format="gray").mean() < 40 for f in last)
        # On again: the pattern is back, from a camera opened once more.
        await a.engine.set_camera_enabled(True)
        assert media_a.camera_is_open
        async with asyncio.timeout(MEDIA_TIMEOUT):
            while read_pattern(b.events.remote_frames[-1].frame) is None:
                await b.events.wait_frames(b.events.remote_frame_count + 1)


async def test_report_ends_the_call_for_both(cluster: Cluster) -> None:
    async with engines() as make:
        a = await make("a", cluster.next_url())
        b = await make("b", cluster.next_url())
        session = await in_call(a, b)
        await a.engine.report("rude")
        assert (await a.events.next(ev.CallEnded)).session == session
        assert (await b.events.next(ev.PartnerLeft)) == ev.PartnerLeft(session, "reported")
        await a.events.next(ev.Idle)
        assert a.state is CallState.IDLE and b.state is CallState.PARTNER_LEFT
