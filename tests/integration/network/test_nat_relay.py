"""Two clients, each behind its own symmetric NAT: the call connects through coturn's relay.

The NATs draw a new source port per destination, so what the TURN server sees of a client
(its server-reflexive address) is not how the other end could reach it, and the public
network has no route into either home: a direct or reflexive pair cannot carry media.
coturn runs in the public namespace with `use-auth-secret`, the server hands out its
credentials (`--turn`, `--turn-secret`). That the media really went through the relay is
counted, not assumed: an nftables counter in the public namespace on UDP to coturn's port.
"""

from __future__ import annotations

import re
import secrets
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tools.netlab import Natted, natted

from .conftest import needs_lab, needs_turn
from .support import WAIT, peer, server, stopping, video_gaps

pytestmark = [pytest.mark.slow, needs_lab, needs_turn]
TURN_PORT = 3478
CALL_SECONDS = 8.0
# A few seconds of 30 fps video are hundreds of kilobytes; the ICE checks and TURN
# allocations that would also reach the port without media are a few kilobytes.
MEDIA_BYTES = 150_000


def start_coturn(net: Natted, directory: Path) -> tuple[str, str]:
    secret = secrets.token_urlsafe(16)
    address = net.public_address
    net.lab.popen("public", [
        str(shutil.which("turnserver")), "-n", "--listening-ip", address, "--relay-ip", address,
        "--listening-port", str(TURN_PORT), "--min-port", "50000", "--max-port", "50200",
        "--use-auth-secret", "--static-auth-secret", secret, "--realm", "studymatch.test",
        "--no-cli", "--no-tls", "--no-dtls", "--no-stdout-log", "--log-file", str(directory / "turn.log"),
        "--simple-log", "--pidfile", str(directory / "turn.pid"), "--db", str(directory / "turndb"),
    ], stdout=None)  # fmt: skip
    net.lab.exec("public", "nft", "-f", "-", stdin=f"""
        table inet turncount {{
            counter to_turn {{ }}
            counter direct {{ }}
            chain input {{ type filter hook input priority 0;
                udp dport {TURN_PORT} counter name to_turn;
            }}
            chain forward {{ type filter hook forward priority 0;
                meta l4proto udp counter name direct;
            }}
        }}
    """)  # fmt: skip
    deadline = time.monotonic() + WAIT
    while not stun_answers(net, address):
        assert time.monotonic() < deadline, "coturn did not answer a STUN binding request"
    return f"turn:{address}:{TURN_PORT}?transport=udp", secret


def stun_answers(net: Natted, address: str) -> bool:
    probe = (
        "import socket,struct,secrets,sys\n"
        "s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);s.settimeout(0.3)\n"
        f"s.sendto(struct.pack('!HHI',1,0,0x2112A442)+secrets.token_bytes(12),('{address}',{TURN_PORT}))\n"
        "try: sys.exit(0 if s.recv(2048)[:2]==b'\\x01\\x01' else 1)\n"
        "except OSError: sys.exit(1)\n"
    )
    done = subprocess.run(net.lab.ns_command("a", [sys.executable, "-c", probe]), capture_output=True)
    return done.returncode == 0


def bytes_to_turn(net: Natted, counter: str = "to_turn") -> int:
    """UDP bytes to coturn's port (`to_turn`), or from one home straight to the other (`direct`)."""
    listed = net.lab.exec("public", "nft", "list", "counter", "inet", "turncount", counter)
    found = re.search(r"bytes (\d+)", listed)
    assert found, listed
    return int(found.group(1))


def test_two_symmetric_nats_connect_through_the_relay_and_video_arrives(tmp_path: Path) -> None:
    with natted() as net:
        turn, secret = start_coturn(net, tmp_path)
        _srv, port = server("--turn", turn, "--turn-secret", secret, host=net.public_address,
                            lab=net.lab, namespace="public")  # fmt: skip
        url = f"ws://{net.public_address}:{port}/ws"
        before = bytes_to_turn(net)
        args = ("--call-seconds", str(CALL_SECONDS))
        with stopping(peer(url, *args, lab=net.lab, namespace="a"),
                      peer(url, *args, lab=net.lab, namespace="b")) as (a, b):  # fmt: skip
            for p in (a, b):
                p.wait_for("media_connected")
            connected = time.time()
            ended = [p.wait_for("call_ended", WAIT + CALL_SECONDS) for p in (a, b)]
            for p in (a, b):
                assert p.finish() == 0
        relayed = bytes_to_turn(net) - before
        direct = bytes_to_turn(net, "direct")
    for p, end in zip((a, b), ended, strict=True):
        assert "partner_left" not in p.names() or p.of("partner_left")[0]["reason"] == "skipped"
        assert end["video_frames"] > 0
        assert not video_gaps(p, connected + 2.0, end["t"] - 0.5, every=2.0), p.lines
    assert direct < MEDIA_BYTES, f"{direct} bytes went from one NAT straight to the other"
    assert relayed >= MEDIA_BYTES, f"only {relayed} bytes reached coturn: the media did not go through the relay"

