"""The engine's session model as a window sees it (client/ui/pages.py): a real engine, a real server.

An intent moves the model at once, before the coroutine it returns runs, so the
window can show the move at the click; the server is still asked only once.
"""

from __future__ import annotations

from client import events as ev
from client.engine import Engine, EngineConfig
from client.session import Change, Intent
from integration.engines import Recorder, fast_signaling
from server.config import ServerConfig
from server.ws.app import running_server


async def test_a_find_moves_the_model_at_once_and_asks_the_server_once() -> None:
    async with running_server(ServerConfig(port=0, log_level="warning")) as srv:
        recorder = Recorder("a")
        engine = Engine(EngineConfig(server=srv.url, fake_media=True), recorder, signaling=fast_signaling)
        heard: list[Change] = []
        engine.model.subscribe(heard.append)
        try:
            finding = engine.find("video")  # before the engine connects, as the test call's does
            assert engine.model.searching and [c.intent for c in heard] == [Intent.FIND]
            await engine.start()
            await recorder.next(ev.Connected)  # welcomed while the find is on its way: it asks, once
            await finding
            await recorder.next(ev.Queued)
            await engine.cancel()
            await recorder.next(ev.Idle)
            assert len(recorder.of(ev.Queued)) == 1
            assert [c.intent for c in heard] == [Intent.FIND, None, Intent.CANCEL, None]
        finally:
            await engine.close()
