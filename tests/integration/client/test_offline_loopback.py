"""Two clients on a machine with no network at all (only `lo`) still connect.

A network namespace with only the loopback interface stands in for a laptop
offline: inside it run a server on 127.0.0.1 and two engines
(tests/integration/offline_call.py). The control run turns the loopback
candidates off and must fail, which shows the namespace really is offline.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from client.loopback import is_loopback_url
from integration.engines import MEDIA_TIMEOUT

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def offline_netns() -> Iterator[str]:
    if os.geteuid() != 0:
        pytest.skip("creating a network namespace (ip netns add) needs root; CI runs as root")
    if shutil.which("ip") is None:
        pytest.skip("iproute2's `ip` is not installed")
    name = f"studymatch-offline-{os.getpid()}"
    made = subprocess.run(["ip", "netns", "add", name], capture_output=True, text=True, check=False)
    if made.returncode != 0:  # root without CAP_SYS_ADMIN, e.g. an unprivileged container
        pytest.skip(f"ip netns add failed: {made.stderr.strip()}")
    try:
        subprocess.run(["ip", "netns", "exec", name, "ip", "link", "set", "lo", "up"], check=True)
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False)


def _call_in(netns: str, mode: str) -> dict[str, object]:
    proc = subprocess.run(
        ["ip", "netns", "exec", netns, sys.executable, "-m", "tests.integration.offline_call", mode],
        cwd=ROOT, capture_output=True, text=True, timeout=6 * MEDIA_TIMEOUT, check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result: dict[str, object] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


@pytest.mark.slow
def test_a_same_machine_call_connects_with_only_loopback(offline_netns: str) -> None:
    result = _call_in(offline_netns, "loopback")
    assert (result["a"], result["b"]) == ("MediaConnected", "MediaConnected"), result
    assert result["a_frames"] and result["b_frames"]  # video decoded both ways


@pytest.mark.slow
def test_without_loopback_candidates_the_offline_call_fails(offline_netns: str) -> None:
    result = _call_in(offline_netns, "control")
    assert (result["a"], result["b"]) == ("MediaFailed", "MediaFailed"), result


@pytest.mark.parametrize(("url", "local"), [
    ("ws://127.0.0.1:8765/ws", True),
    ("wss://127.0.0.2/ws", True),
    ("ws://[::1]:8765/ws", True),
    ("ws://localhost:8765/ws", True),
    ("ws://192.0.2.2:8765/ws", False),
    ("wss://studymatch.example.org/ws", False),
    ("ws://localhost.example.org/ws", False),
    ("not a url", False),
])
def test_which_server_urls_are_on_this_machine(url: str, local: bool) -> None:
    assert is_loopback_url(url) is local
