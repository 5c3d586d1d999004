"""Resuming after a dropped socket, against a real server and real WebSocket clients.

docs/protocol.md, "Resuming after a dropped socket", is what these check: a
dropped side is held for the grace period, a ticket puts a new connection
back (or gets `partner_left`, or `bad_ticket`), a queued client keeps its
place, and a restarted server rebuilds the session from the two tickets.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
import socket
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from integration.conftest import http_get
from integration.wsclient import TIMEOUT, WsClient
from server.config import ServerConfig
from server.core.auth import sign_token
from server.core.resume import SessionClaim
from server.ws.app import Server, running_server

KEY = "a ticket key for the tests, long enough"


def config(**overrides: Any) -> ServerConfig:
    return ServerConfig(**{"port": 0, "ticket_key": KEY, **overrides})


async def resuming(server_url: str, **hello: Any) -> WsClient:
    client = await WsClient.open(server_url, hello=False)
    await client.hello(resume=True, **hello)
    return client


async def pair(url: str, **hello: Any) -> tuple[WsClient, WsClient, str, str, str]:
    """Two resuming clients in one session; their tickets."""
    a, b = await resuming(url, **hello), await resuming(url, **hello)
    assert (await a.find())["ticket"]
    await b.find()
    matched_a = await a.expect("matched", initiator=True)
    matched_b = await b.expect("matched", initiator=False)
    return a, b, matched_a["session"], matched_a["ticket"], matched_b["ticket"]


async def resume(url: str, ticket: str, **hello: Any) -> WsClient:
    client = await resuming(url, **hello)
    await client.send({"type": "resume", "ticket": ticket})
    return client


def drop(client: WsClient) -> None:
    client.ws.transport.abort()  # the socket dies: no closing handshake


async def test_a_dropped_client_resumes_and_gets_what_was_kept() -> None:
    async with running_server(config()) as server:
        a, b, session, ticket_a, _ = await pair(server.url)
        drop(a)
        await b.expect("partner_reconnecting", session=session)
        await b.send({"type": "signal", "session": session, "data": {"n": 1}})
        a2 = await resume(server.url, ticket_a)
        resumed = await a2.expect("resumed", session=session, initiator=True, partner={"mode": "video", "topic": None})
        assert resumed["ticket"] and resumed["ticket"] != ticket_a
        await a2.expect("signal", session=session, data={"n": 1})
        await b.expect("partner_resumed", session=session)
        await a2.send({"type": "signal", "session": session, "data": {"n": 2}})
        await b.expect("signal", session=session, data={"n": 2})
        # The ticket used is spent: replayed, it gets bad_ticket and changes nothing.
        replay = await resume(server.url, ticket_a)
        await replay.expect_error("bad_ticket")
        await replay.find()
        await b.assert_silent()
        await a2.assert_silent()
        metrics = (await _get(server.http_url + "/metrics"))
        assert 'studymatch_resumes_total{outcome="resumed"} 1.0' in metrics
        assert 'studymatch_resumes_total{outcome="bad_ticket"} 1.0' in metrics


async def test_the_grace_runs_out_and_the_late_resume_hears_timeout() -> None:
    async with running_server(config(resume_grace=1.0)) as server:
        a, b, session, _, ticket_b = await pair(server.url)
        drop(b)
        await a.expect("partner_reconnecting", session=session)
        await a.expect("partner_left", session=session, reason="timeout", within=TIMEOUT + 2)
        late = await resume(server.url, ticket_b)
        await late.expect("partner_left", session=session, reason="timeout")
        await late.find()  # idle: it may search again


async def test_bad_tickets_change_nothing() -> None:
    async with running_server(config(token_secret="s" * 16)) as server:
        ann = sign_token("s" * 16, "ann", int(time.time()) + 600)
        bob = sign_token("s" * 16, "bob", int(time.time()) + 600)
        a, b, session, ticket_a, _ = await pair(server.url, token=ann)
        claim = server.tickets.verify(ticket_a, time.time(), "sub:ann")
        assert isinstance(claim, SessionClaim)
        expired = server.tickets.mint_session(claim, time.time() - 2 * server.config.ticket_ttl)
        forged = ticket_a[:-4] + ("AAAA" if not ticket_a.endswith("AAAA") else "BBBB")
        for ticket, token in [(forged, ann), (expired, ann), (ticket_a, bob), ("not a ticket", ann)]:
            c = await resume(server.url, ticket, token=token)
            await c.expect_error("bad_ticket")
            await c.find()  # idle, and may search
            await c.close()
        await a.send({"type": "signal", "session": session, "data": {}})
        await b.expect("signal", session=session, data={})
        await a.assert_silent()


async def test_a_queued_client_resumes_its_place_before_later_waiters() -> None:
    async with running_server(config()) as server:
        first = await resuming(server.url)
        queued = await first.request({"type": "find", "mode": "audio", "topic": "maths"}, "queued")
        await asyncio.sleep(0.05)  # a later start than the first's, by the wall clock the tickets use
        drop(first)
        later = await resuming(server.url)  # not a partner for "maths": both wait
        await later.request({"type": "find", "mode": "audio", "topic": "physics"}, "queued")
        back = await resume(server.url, queued["ticket"])
        again = await back.expect("queued", mode="audio", topic="maths")
        assert again["ticket"] != queued["ticket"]
        newcomer = await WsClient.open(server.url)  # any topic: takes the longest waiter
        await newcomer.request({"type": "find", "mode": "audio", "topic": None}, "queued")
        matched = await back.expect("matched", initiator=True)
        await newcomer.expect("matched", session=matched["session"], initiator=False)
        await later.assert_silent()
        replay = await resume(server.url, queued["ticket"])
        await replay.expect_error("bad_ticket")


async def test_resume_only_as_the_first_request() -> None:
    async with running_server(config()) as server:
        a, _b, _session, ticket_a, _ = await pair(server.url)
        late = await resuming(server.url)
        await late.find()
        await late.send({"type": "resume", "ticket": ticket_a})
        await late.expect_error("bad_message")
        await a.assert_silent()


async def test_a_side_still_connected_is_replaced_and_closed_normally() -> None:
    async with running_server(config()) as server:
        a, b, session, ticket_a, _ = await pair(server.url)
        a2 = await resume(server.url, ticket_a)
        await a2.expect("resumed", session=session)
        await a.expect("replaced", session=session)
        assert await a.expect_closed() == 1000
        await b.expect("partner_resumed", session=session)
        await b.send({"type": "signal", "session": session, "data": {"to": "a2"}})
        await a2.expect("signal", session=session, data={"to": "a2"})
        await b.assert_silent()


async def test_a_client_that_never_resumes_is_served_as_before() -> None:
    async with running_server(config()) as server:
        a, b = await WsClient.open(server.url), await WsClient.open(server.url)
        assert "ticket" not in await a.find()
        await b.find()
        matched = await a.expect("matched")
        assert "ticket" not in matched
        await b.expect("matched")
        drop(b)
        await a.expect("partner_left", session=matched["session"], reason="disconnected")
        assert a.welcome is not None and a.welcome["limits"]["resume_grace"] == 60.0


async def test_a_stopped_server_loses_no_session_to_the_next_one() -> None:
    first = Server(config())
    await first.start()
    port = first.port
    a, b, session, ticket_a, ticket_b = await pair(first.url)
    await first.stop()  # what SIGTERM does
    for client in (a, b):
        await client.expect("shutdown")  # and no partner_left before it
        await client.expect_closed(1001)
    async with running_server(config(port=port)) as second:
        a2 = await resume(second.url, ticket_a)
        await a2.expect("resumed", session=session, initiator=True)
        await a2.expect("partner_reconnecting", session=session)
        b2 = await resume(second.url, ticket_b)
        await b2.expect("resumed", session=session, initiator=False)
        await a2.expect("partner_resumed", session=session)
        await a2.send({"type": "signal", "session": session, "data": {"sdp": "offer"}})
        await b2.expect("signal", session=session, data={"sdp": "offer"})
        await b2.send({"type": "signal", "session": session, "data": {"sdp": "answer"}})
        await a2.expect("signal", session=session, data={"sdp": "answer"})
    async with running_server(dataclasses.replace(config(port=port), ticket_key="another key, also long")) as third:
        c = await resume(third.url, ticket_a)
        await c.expect_error("bad_ticket")


async def _get(url: str) -> str:
    _status, _type, body = await http_get(url)
    return body


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port




async def _start(port: int, key_file: Path) -> tuple[asyncio.subprocess.Process, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "server", "--port", str(port), "--ticket-key-file", str(key_file),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL, env=dict(os.environ),
    )  # fmt: skip
    assert proc.stdout is not None
    line = (await asyncio.wait_for(proc.stdout.readline(), 4 * TIMEOUT)).decode().strip()
    assert line.startswith("listening on "), line
    return proc, line.removeprefix("listening on ")


@pytest.mark.slow
async def test_a_killed_server_process_restarted_with_its_key_file_resumes_both(tmp_path: Path) -> None:
    key_file, port = tmp_path / "state" / "ticket.key", _free_port()
    proc, url = await _start(port, key_file)
    try:
        a, b, session, ticket_a, ticket_b = await pair(url)
        assert key_file.stat().st_mode & 0o777 == 0o600
    finally:
        proc.send_signal(signal.SIGKILL)
        await proc.wait()
    proc, url = await _start(port, key_file)
    try:
        for client in (a, b):
            await client.expect_closed()
        b2 = await resume(url, ticket_b)
        await b2.expect("resumed", session=session, initiator=False)
        await b2.expect("partner_reconnecting", session=session)
        a2 = await resume(url, ticket_a)
        await a2.expect("resumed", session=session, initiator=True)
        await b2.expect("partner_resumed", session=session)
        await a2.send({"type": "signal", "session": session, "data": {"after": "kill"}})
        await b2.expect("signal", session=session, data={"after": "kill"})
    finally:
        proc.terminate()
        await asyncio.wait_for(proc.wait(), 4 * TIMEOUT)


async def test_a_fresh_ticket_comes_before_the_present_one_expires() -> None:
    async with running_server(config(ticket_ttl=2.0, resume_grace=1.0)) as server:
        a, _b, session, _ticket_a, _ = await pair(server.url)
        fresh = await a.expect("ticket")
        claim = server.tickets.verify(fresh["ticket"], time.time() + 1.5)
        assert isinstance(claim, SessionClaim) and claim.session == session and claim.initiator
