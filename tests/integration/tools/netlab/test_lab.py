"""The network lab itself, measured with a UDP echo across real namespaces.

Timing is checked only from below (a delay is at least what was asked) and loss and
rate within wide bounds: the machine is shared, and speed belongs to bench/.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tools.netlab import Lab, Star, star, unavailable_reason

ROOT = Path(__file__).resolve().parents[4]
ECHO = [sys.executable, "-m", "tools.netlab.udpecho"]
WHY_NOT = unavailable_reason()
pytestmark = [pytest.mark.slow, pytest.mark.skipif(WHY_NOT is not None, reason=WHY_NOT or "")]


def namespaces() -> str:
    return subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True).stdout


@pytest.fixture
def net() -> Iterator[Star]:
    """a and b around a router, with a UDP echo listening in b on 10.99.2.2:9000."""
    with star() as s:
        echo = s.lab.popen("b", [*ECHO, "serve", "--port", "9000"], cwd=ROOT, stdout=subprocess.PIPE)
        assert echo.stdout is not None
        assert echo.stdout.readline().strip() == "ready"
        yield s


def probe(s: Star, *, count: int, interval_ms: float, size: int = 64, linger_ms: float = 1000) -> dict[str, Any]:
    return probe_from(s.lab, "a", "10.99.2.2", count=count, interval_ms=interval_ms, size=size,
                      linger_ms=linger_ms)  # fmt: skip


def probe_from(lab: Lab, name: str, to: str, *, count: int, interval_ms: float, size: int = 64,
               linger_ms: float = 1000) -> dict[str, Any]:  # fmt: skip
    out = subprocess.run(
        lab.ns_command(name, [*ECHO, "probe", "--to", f"{to}:9000", "--count", str(count),
                               "--interval-ms", str(interval_ms), "--size", str(size),
                               "--linger-ms", str(linger_ms)]),
        cwd=ROOT, capture_output=True, text=True, check=True, timeout=120,
    ).stdout  # fmt: skip
    result: dict[str, Any] = json.loads(out)
    return result


def test_the_ends_reach_each_other_through_the_router(net: Star) -> None:
    result = probe(net, count=50, interval_ms=5)
    assert result["received"] == result["sent"] == 50


def test_the_delay_line_adds_its_delay_each_way(net: Star) -> None:
    net.add_delay(40, jitter_ms=10, seed=3)
    result = probe(net, count=100, interval_ms=10)
    assert result["received"] == 100
    # One way is 40 +- 10 ms, so a round trip is at least 60 ms, and typically 80 or more.
    assert min(result["rtts_ms"]) >= 60
    assert statistics.median(result["rtts_ms"]) >= 70


def test_a_loss_rule_drops_about_its_share(net: Star) -> None:
    net.lab.loss(net.a, 20)
    result = probe(net, count=500, interval_ms=2)
    # 20% each way: about 64% come back; bounds wide enough for chance (sd about 2%).
    assert 0.50 * 500 <= result["received"] <= 0.78 * 500
    net.lab.loss(net.a, 0)  # a second call replaces the rule
    assert probe(net, count=100, interval_ms=2)["received"] == 100


def test_a_rate_cap_bounds_throughput(net: Star) -> None:
    net.lab.rate(net.a, 1000)
    # 1200-byte packets every ms is 9.6 Mbit/s offered; at most about 1 Mbit/s comes back.
    result = probe(net, count=1500, interval_ms=1, size=1200, linger_ms=500)
    assert result["received"] > 0
    assert result["bytes_per_second"] * 8 < 2_000_000
    assert result["received"] < result["sent"] / 2


def test_a_link_down_loses_everything_and_up_brings_it_back(net: Star) -> None:
    net.lab.set_down(net.a)
    assert probe(net, count=30, interval_ms=5, linger_ms=300)["received"] == 0
    net.lab.set_up(net.a)
    assert probe(net, count=30, interval_ms=5)["received"] == 30


def test_a_new_address_keeps_the_end_reachable_and_drops_the_old_one(net: Star) -> None:
    old = net.a.a_address
    net.a = net.lab.readdress(net.a, subnet=7)
    addresses = net.lab.ip("a", "-4", "-o", "addr", "show", "dev", net.a.left)
    assert "10.99.7.2/24" in addresses
    assert old not in addresses
    assert probe(net, count=30, interval_ms=5)["received"] == 30


def test_masquerade_lets_a_private_end_reach_a_network_that_cannot_route_back_to_it() -> None:
    with Lab() as lab:
        lab.namespace("a")
        lab.namespace("nat", forwarding=True)
        lab.namespace("public")
        home = lab.link("a", "nat")
        uplink = lab.link("nat", "public")  # public knows no way back to home's 10.99.1.0/24
        lab.default_route("a", home.b_address)
        echo = lab.popen("public", [*ECHO, "serve", "--port", "9000"], cwd=ROOT, stdout=subprocess.PIPE)
        assert echo.stdout is not None
        assert echo.stdout.readline().strip() == "ready"
        assert probe_from(lab, "a", uplink.b_address, count=20, interval_ms=5, linger_ms=300)["received"] == 0
        lab.masquerade("nat", uplink.left, per_destination=True)
        assert probe_from(lab, "a", uplink.b_address, count=20, interval_ms=5)["received"] == 20


def test_nothing_is_left_behind_even_when_the_code_inside_fails() -> None:
    with pytest.raises(RuntimeError, match="inside"), star() as s:
        made = list(s.lab.namespaces.values())
        s.add_delay(10)
        assert all(name in namespaces() for name in made)
        raise RuntimeError("inside")
    assert not any(name in namespaces() for name in made)


def test_two_labs_at_once_do_not_collide() -> None:
    with Lab() as one, Lab() as two:
        for lab in (one, two):
            lab.namespace("x")
            lab.namespace("y")
            lab.link("x", "y")  # the same interface names and addresses, in other namespaces
        assert one.namespaces["x"] != two.namespaces["x"]
