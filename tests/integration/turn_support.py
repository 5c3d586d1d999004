"""A real coturn on loopback for relay tests (Debian package `coturn`, see tools/setup --test).

Started with the same `use-auth-secret` scheme the StudyMatch server hands
credentials out for, on free ports, and awaited with a real STUN binding
request rather than a sleep.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shutil
import socket
import struct
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from .wsclient import TIMEOUT

TURNSERVER = shutil.which("turnserver")
STUN_MAGIC = 0x2112A442


@dataclass(frozen=True)
class Turn:
    url: str
    secret: str
    port: int
    relay_ports: range  # where coturn allocates relay addresses
    log: Path


def free_udp_and_tcp_port() -> int:
    """A port free for both UDP and TCP: coturn listens on both, and retries a taken
    TCP port forever (seen in CI: another test's server held it)."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind(("127.0.0.1", 0))
            port = int(udp.getsockname()[1])
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
                try:
                    tcp.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port


def _stun_answers(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(0.2)
        request = struct.pack("!HHI", 0x0001, 0, STUN_MAGIC) + secrets.token_bytes(12)
        s.sendto(request, ("127.0.0.1", port))
        try:
            data, _ = s.recvfrom(2048)
        except OSError:
            return False
        return data[:2] == b"\x01\x01"  # Binding success response


@contextlib.asynccontextmanager
async def coturn(directory: Path) -> AsyncIterator[Turn]:
    if TURNSERVER is None:
        raise RuntimeError("turnserver is not installed: run tools/setup --test (Debian package coturn)")
    port, secret = free_udp_and_tcp_port(), secrets.token_urlsafe(16)
    base = 49152 + (os.getpid() * 97 + port) % 12000  # a relay port range unlikely to collide
    log = directory / "turnserver.log"
    process = await asyncio.create_subprocess_exec(
        TURNSERVER, "-n", "--listening-ip", "127.0.0.1", "--relay-ip", "127.0.0.1",
         "--listening-port", str(port), "--min-port", str(base), "--max-port", str(base + 200),
         "--use-auth-secret", "--static-auth-secret", secret, "--realm", "studymatch.test",
         "--allow-loopback-peers", "--no-cli", "--no-tls", "--no-dtls", "--no-stdout-log",
         "--log-file", str(log), "--simple-log", "--pidfile", str(directory / "turnserver.pid"),
         "--db", str(directory / "turndb"),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        async with asyncio.timeout(4 * TIMEOUT):
            while not await asyncio.to_thread(_stun_answers, port):
                assert process.returncode is None, f"turnserver exited: {log.read_text() if log.exists() else ''}"
        yield Turn(f"turn:127.0.0.1:{port}?transport=udp", secret, port, range(base, base + 201), log)
    finally:
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), TIMEOUT)
        except TimeoutError:
            process.kill()
            await process.wait()
