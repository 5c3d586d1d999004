"""Relay-only ("hide my IP address from partners") with real candidate gathering in aiortc.

Every SDP the clients send goes through the real server; a spy on the
server's delivery reads them. In relay-only mode no `typ host` or `typ srflx`
candidate may leave a client; with a real coturn on loopback the call still
connects, through the relay.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

from client import events as ev
from client import messages
from integration.engines import MEDIA_TIMEOUT, engines
from integration.turn_support import coturn
from server.config import ServerConfig
from server.ws.app import Server

CANDIDATE = re.compile(r"^a=candidate:\S+ \d+ \w+ \d+ (\S+) (\d+) typ (\w+)", re.MULTILINE)


async def spied_server(config: ServerConfig) -> tuple[Server, list[dict[str, Any]]]:
    """A started server that also records every relayed signal's data (as it is encoded)."""
    server = Server(config)
    seen: list[dict[str, Any]] = []
    spied = copy.copy(server.codec)  # the codec is shared by every server in this process
    encode_signal = spied.signal

    def spy(session: str, data: dict[str, Any]) -> bytes:
        seen.append(data)
        return encode_signal(session, data)

    spied.signal = spy  # type: ignore[method-assign]  # this server's codec copy records as it encodes
    server.codec = spied
    await server.start()
    return server, seen


def candidates(signals: list[dict[str, Any]]) -> list[tuple[str, int, str]]:
    """(address, port, type) of every candidate in the SDPs."""
    return [(host, int(port), kind) for s in signals for host, port, kind in CANDIDATE.findall(s.get("sdp", ""))]


def candidate_types(signals: list[dict[str, Any]]) -> list[str]:
    return [kind for _, _, kind in candidates(signals)]


async def test_relay_only_calls_connect_through_turn_and_offer_only_relay_candidates(tmp_path: Path) -> None:
    async with coturn(tmp_path) as turn:
        server, signals = await spied_server(
            ServerConfig(port=0, turn=(turn.url,), turn_secret=turn.secret, turn_ttl=600.0)
        )
        try:
            async with engines() as make:
                a = await make("a", server.url, relay_only=True)
                b = await make("b", server.url, relay_only=True)
                await a.engine.find("audio")
                await b.engine.find("audio")
                for peer in (a, b):
                    await peer.events.next(ev.MediaConnected, within=MEDIA_TIMEOUT)
                    await peer.events.next(ev.FirstRemoteFrame, lambda e: e.kind == "audio", MEDIA_TIMEOUT)
                assert not a.events.of(ev.ErrorEvent)
        finally:
            await server.stop()
    found = candidates(signals)
    assert {s["type"] for s in signals} == {"offer", "answer"}
    assert found and {kind for _, _, kind in found} == {"relay"}, found
    # Addresses coturn allocated: the only thing a partner learns is the relay's.
    assert all(host == "127.0.0.1" and port in turn.relay_ports for host, port, _ in found), found


async def test_without_relay_only_host_candidates_are_offered(tmp_path: Path) -> None:
    # The control for the test above: the same spy sees host candidates in a normal call.
    server, signals = await spied_server(ServerConfig(port=0))
    try:
        async with engines() as make:
            a = await make("a", server.url)
            b = await make("b", server.url)
            await a.engine.find("audio")
            await b.engine.find("audio")
            for peer in (a, b):
                await peer.events.next(ev.MediaConnected, within=MEDIA_TIMEOUT)
    finally:
        await server.stop()
    assert "host" in candidate_types(signals)


async def test_relay_only_without_a_turn_server_says_so_and_leaks_nothing() -> None:
    server, signals = await spied_server(ServerConfig(port=0, stun=("stun:127.0.0.1:9",)))
    try:
        async with engines() as make:
            a = await make("a", server.url, relay_only=True, media_timeout=2.0)
            b = await make("b", server.url, relay_only=True, media_timeout=2.0)
            error = await a.events.next(ev.ErrorEvent)
            assert (error.code, error.message) == ("no_relay", messages.RELAY_ONLY_NO_TURN)
            await a.engine.find("audio")
            await b.engine.find("audio")
            await a.events.next(ev.MediaFailed, within=MEDIA_TIMEOUT)
    finally:
        await server.stop()
    assert {s["type"] for s in signals} >= {"offer"}
    assert candidate_types(signals) == []  # zero candidates: nothing about this machine's addresses
