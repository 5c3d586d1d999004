"""The layout issue 12's tests and benchmark use: two ends around a router, optional delay line.

    a (10.99.1.2) ---- router (10.99.1.1 | 10.99.2.1) ---- b (10.99.2.2)

The router forwards between the ends, runs what both must reach (the signaling server),
and carries the loss rules and the delay line; rate caps and outages act on a link.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tools.netlab.lab import Lab, LabError, Link

ROOT = Path(__file__).resolve().parents[2]
DELAY_TABLE = "100"


@dataclass
class Star:
    lab: Lab
    a: Link  # a <-> router
    b: Link  # b <-> router
    delay_device: str | None = None

    def add_delay(self, delay_ms: float, jitter_ms: float = 0.0, seed: int = 1) -> None:
        """UDP between the ends goes through the userspace delay line in the router."""
        if self.delay_device is not None:
            raise LabError("the delay line is already running")
        device = "smdelay"
        process = self.lab.popen(
            "router",
            [sys.executable, "-m", "tools.netlab.delayline", "--device", device,
             "--delay-ms", str(delay_ms), "--jitter-ms", str(jitter_ms), "--seed", str(seed)],
            cwd=ROOT, stdout=subprocess.PIPE,
        )  # fmt: skip
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        if line != "ready":
            raise LabError(f"the delay line did not start: {line!r}")
        lab = self.lab
        lab.ip("router", "link", "set", device, "up")
        lab.exec("router", "sysctl", "-qw", f"net.ipv4.conf.{device}.rp_filter=0")
        lab.ip("router", "route", "add", "default", "dev", device, "table", DELAY_TABLE)
        # Only UDP arriving from an end is diverted; what the delay line writes back comes in
        # on its tun device and takes the main table, out to the other end.
        for link in (self.a, self.b):
            lab.ip("router", "rule", "add", "iif", link.right, "ipproto", "udp", "lookup", DELAY_TABLE)
        self.delay_device = device


@contextmanager
def star() -> Iterator[Star]:
    """A fresh lab with ends `a`, `b` and a `router`; everything removed on exit."""
    with Lab() as lab:
        lab.namespace("router", forwarding=True)
        lab.namespace("a")
        lab.namespace("b")
        to_a = lab.link("a", "router")
        to_b = lab.link("b", "router")
        lab.default_route("a", to_a.b_address)
        lab.default_route("b", to_b.b_address)
        yield Star(lab, to_a, to_b)


@dataclass
class Natted:
    """Two homes behind their own NAT, on a public network that cannot route into either.

        a (10.99.1.2) -- nata (NAT) -- public (10.99.2.1 | 10.99.4.1) -- natb (NAT) -- b (10.99.3.2)

    Each NAT gives every destination its own source port (a symmetric NAT), so a mapping
    learned through one server is useless for reaching the other end: only a relay on the
    public side connects a and b. What runs in `public` listens on `public_address`.
    """

    lab: Lab
    a: Link  # a <-> nata
    b: Link  # b <-> natb
    a_uplink: Link  # nata <-> public
    b_uplink: Link  # natb <-> public

    @property
    def public_address(self) -> str:
        return self.a_uplink.b_address


@contextmanager
def natted() -> Iterator[Natted]:
    with Lab() as lab:
        for name in ("nata", "natb", "public"):
            lab.namespace(name, forwarding=True)
        lab.namespace("a")
        lab.namespace("b")
        home_a = lab.link("a", "nata")
        uplink_a = lab.link("nata", "public")
        home_b = lab.link("b", "natb")
        uplink_b = lab.link("natb", "public")
        lab.default_route("a", home_a.b_address)
        lab.default_route("b", home_b.b_address)
        lab.default_route("nata", uplink_a.b_address)
        lab.default_route("natb", uplink_b.b_address)
        # The rest of the internet: what public sends to an address it has no route for (a
        # home's private address, from a candidate) vanishes, as it would out there, instead of
        # failing with ENETUNREACH, on which coturn closes the whole allocation.
        # (A veth whose other end stays down: this kernel has no dummy device.)
        lab.ip("public", "link", "add", "elsewhere", "type", "veth", "peer", "name", "nowhere")
        lab.ip("public", "link", "set", "elsewhere", "up")
        lab.ip("public", "route", "add", "default", "dev", "elsewhere")
        lab.masquerade("nata", uplink_a.left, per_destination=True)
        lab.masquerade("natb", uplink_b.left, per_destination=True)
        yield Natted(lab, home_a, home_b, uplink_a, uplink_b)
