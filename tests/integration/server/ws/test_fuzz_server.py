"""Fuzz the real server: malformed frames and random message sequences over real sockets.

Hypothesis runs in a worker thread and drives connections on the test's
event loop, where the server runs. Throughout, a bystander pair keeps its
session and relays signals. The server must never fail a handler (1011, or
an error logged: the suite's autouse fixture fails the test on one), and
when the fuzzing clients are gone nothing of them may remain: no connection,
no queue entry, no session, no per-address count.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from integration.wsclient import QUIET, TIMEOUT, WsClient
from server.config import ServerConfig
from server.ws.app import Server, running_server

EXAMPLES = int(os.environ.get("STUDYMATCH_FUZZ_EXAMPLES", "150"))
SESSION = "$session"  # replaced by the connection's latest session when sent

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40)
json_values = st.recursive(json_scalars, lambda c: st.lists(c, max_size=4) | st.dictionaries(
    st.text(max_size=8), c, max_size=4), max_leaves=12)
valid = st.one_of(
    st.builds(lambda m, t: {"type": "find", "mode": m, "topic": t}, st.sampled_from(["video", "audio"]),
              st.none() | st.sampled_from(["maths", " Maths ", ""])),
    st.just({"type": "cancel"}),
    st.just({"type": "skip", "session": SESSION}),
    st.just({"type": "leave"}),
    st.builds(lambda d: {"type": "signal", "session": SESSION, "data": d},
              st.dictionaries(st.text(max_size=5), json_values, max_size=3)),
    st.just({"type": "report", "session": SESSION, "reason": "fuzz"}),
    st.just({"type": "hello", "protocol": 1}),
)
broken = st.one_of(
    st.dictionaries(st.sampled_from(["type", "mode", "session", "data", "protocol", "topic"]) | st.text(max_size=6),
                    json_values, max_size=5),
    st.builds(lambda kind, extra: {"type": kind, **extra},
              st.sampled_from(["find", "signal", "report", "hello", "welcome", "matched", "shutdown"]),
              st.dictionaries(st.sampled_from(["mode", "session", "data", "reason", "topic"]), json_values,
                              max_size=3)),
)
frames = st.one_of(
    valid.map(json.dumps), broken.map(json.dumps), json_values.map(json.dumps),
    st.text(max_size=200), st.binary(max_size=200),
    st.just("{" * 3000), st.just('{"type": "find", "mode": "video", "topic": "' + "x" * 200 + '"}'),
)
# Most connections get past hello (so the sequences reach the backend); some must not.
hellos = st.integers(0, 9).flatmap(
    lambda n: st.just(json.dumps({"type": "hello", "protocol": 1, "client": "fuzz"})) if n < 8
    else st.one_of(st.just(json.dumps({"type": "hello", "protocol": 2})), frames)
)
# (which of two connections, frame) steps; both connections start with a hello-ish frame.
scripts = st.tuples(hellos, hellos, st.lists(st.tuples(st.integers(0, 1), frames), max_size=25))


class Tally:
    examples = 0
    frames = 0
    close_codes: dict[int | None, int] = {}


async def run_script(url: str, script: tuple[str, str, list[tuple[int, str | bytes]]]) -> None:
    first, second, steps = script
    async with contextlib.AsyncExitStack() as stack:
        sockets = [await stack.enter_async_context(connect(url, max_size=2**20)) for _ in range(2)]
        sessions: list[str | None] = [None, None]

        async def read(i: int) -> None:
            with contextlib.suppress(ConnectionClosed):
                async for frame in sockets[i]:
                    message = json.loads(frame)
                    if message.get("type") == "matched":
                        sessions[i] = message["session"]

        readers = [asyncio.create_task(read(i)) for i in range(2)]
        with contextlib.suppress(ConnectionClosed):
            await sockets[0].send(first)
            await sockets[1].send(second)
        for which, frame in steps:
            if isinstance(frame, str) and SESSION in frame:
                frame = frame.replace(SESSION, sessions[which] or "none")
            with contextlib.suppress(ConnectionClosed):
                await sockets[which].send(frame)
            Tally.frames += 1
        for ws in sockets:
            with contextlib.suppress(ConnectionClosed):
                await asyncio.wait_for(ws.ping(), TIMEOUT)  # everything sent so far was read
        for ws in sockets:
            await ws.close()
        await asyncio.gather(*readers)
        for ws in sockets:
            Tally.close_codes[ws.close_code] = Tally.close_codes.get(ws.close_code, 0) + 1
            assert ws.close_code != 1011, "a handler failed"
    Tally.examples += 1


async def settled(server: Server) -> dict[str, Any]:
    async with asyncio.timeout(TIMEOUT):
        while True:
            stats = server.backend.stats()
            state = {"connections": len(server._connections), "waiting": sum(stats.waiting.values()),
                     "sessions": stats.sessions, "addresses": server.security.gate.addresses()}
            if state == {"connections": 2, "waiting": 0, "sessions": 1, "addresses": 1}:
                return state
            await asyncio.sleep(QUIET)


async def test_fuzzed_frames_and_sequences_never_break_the_server_or_other_sessions() -> None:
    config = ServerConfig(port=0, rate_messages=10_000.0, rate_burst=10_000, rematch_cooldown=0.0,
                          max_frame_bytes=4096, report_threshold=1000, max_connections_per_ip=50)
    async with running_server(config) as server:
        a, b = await WsClient.open(server.url), await WsClient.open(server.url)
        await a.find("video", "bystanders")
        await b.find("video", "bystanders")
        session = (await a.expect("matched"))["session"]
        await b.expect("matched")
        loop = asyncio.get_running_loop()

        @settings(max_examples=EXAMPLES, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
        @given(scripts)
        def fuzz(script: tuple[str, str, list[tuple[int, str | bytes]]]) -> None:
            asyncio.run_coroutine_threadsafe(run_script(server.url, script), loop).result(4 * TIMEOUT)

        for round_ in range(3):  # the bystanders keep relaying between rounds
            await asyncio.to_thread(fuzz)
            await a.send({"type": "signal", "session": session, "data": {"round": round_}})
            assert (await b.expect("signal"))["data"] == {"round": round_}
        # Nothing of the fuzzing clients is left; the bystanders' session is intact.
        assert await settled(server) == {"connections": 2, "waiting": 0, "sessions": 1, "addresses": 1}
        print(f"\nfuzz: {Tally.examples} scripts, {Tally.frames} frames, close codes {Tally.close_codes}")
        assert Tally.examples >= 3 * EXAMPLES
