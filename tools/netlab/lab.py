"""Namespaces joined by veth pairs, and what a test does to them: loss, rate, outage, new address.

Names are unique per `Lab` (a random token), so parallel runs never collide: namespaces
are `sm-<token>-<name>`; veth ends are created directly inside their namespaces, where
short fixed names cannot clash with anything. Closing the lab stops the processes it
started in its namespaces (a process would keep a deleted namespace alive) and deletes
the namespaces, which takes their veths, qdiscs, nftables tables and tun devices along.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType

STOP_TIMEOUT = 5.0


class LabError(RuntimeError):
    pass


def unavailable_reason() -> str | None:
    """Why this machine cannot run the lab, or None when it can."""
    if os.geteuid() != 0:
        return "the network lab needs root (network namespaces)"
    for tool in ("ip", "tc", "nft"):
        if shutil.which(tool) is None:
            return f"the network lab needs `{tool}` (tools/setup --test installs it)"
    probe = f"sm-probe-{secrets.token_hex(3)}"
    made = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    if made.returncode != 0:
        return f"`ip netns add` does not work here: {made.stderr.strip()}"
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    return None


def run(args: Sequence[str], *, stdin: str | None = None) -> str:
    done = subprocess.run(list(args), input=stdin, capture_output=True, text=True)
    if done.returncode != 0:
        raise LabError(f"{' '.join(args)} failed ({done.returncode}): {done.stderr.strip()}")
    return done.stdout


@dataclass(frozen=True)
class Link:
    """A veth pair: `left` end in namespace `a`, `right` end in namespace `b`, one /24 between them."""

    a: str
    b: str
    left: str
    right: str
    subnet: int  # the link's addresses are 10.99.<subnet>.1 (b) and 10.99.<subnet>.2 (a)

    @property
    def a_address(self) -> str:
        return f"10.99.{self.subnet}.2"

    @property
    def b_address(self) -> str:
        return f"10.99.{self.subnet}.1"


class Lab:
    """Owns every namespace, link and process it made; use it as a context manager."""

    def __init__(self) -> None:
        self.token = secrets.token_hex(3)
        self.namespaces: dict[str, str] = {}
        self.processes: list[subprocess.Popen[str]] = []
        self._links = 0

    def __enter__(self) -> Lab:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # --- building -----------------------------------------------------------------------

    def namespace(self, name: str, *, forwarding: bool = False) -> str:
        """A new namespace with its loopback up; `forwarding` makes it a router."""
        full = f"sm-{self.token}-{name}"
        run(["ip", "netns", "add", full])
        self.namespaces[name] = full
        self.ip(name, "link", "set", "lo", "up")
        if forwarding:
            # A router forwards, and must not drop packets whose reverse path is another
            # interface (the delay line re-injects packets through its tun device).
            for key in ("net.ipv4.ip_forward=1", "net.ipv4.conf.all.rp_filter=0",
                        "net.ipv4.conf.default.rp_filter=0"):  # fmt: skip
                self.exec(name, "sysctl", "-qw", key)
        return full

    def link(self, a: str, b: str) -> Link:
        """A veth pair between namespaces a and b, addressed and up; the next free /24."""
        self._links += 1
        link = Link(a, b, left=f"v{self._links}a", right=f"v{self._links}b", subnet=self._links)
        self.ip(a, "link", "add", link.left, "type", "veth", "peer", "name", link.right,
                "netns", self.namespaces[b])  # fmt: skip
        self.ip(a, "addr", "add", f"{link.a_address}/24", "dev", link.left)
        self.ip(b, "addr", "add", f"{link.b_address}/24", "dev", link.right)
        self.ip(a, "link", "set", link.left, "up")
        self.ip(b, "link", "set", link.right, "up")
        return link

    def default_route(self, name: str, via: str) -> None:
        self.ip(name, "route", "replace", "default", "via", via)

    # --- running things inside ------------------------------------------------------------

    def ns_command(self, name: str, args: Sequence[str]) -> list[str]:
        """`args` prefixed so that they run inside namespace `name`."""
        return ["ip", "netns", "exec", self.namespaces[name], *args]

    def exec(self, name: str, *args: str, stdin: str | None = None) -> str:
        return run(self.ns_command(name, args), stdin=stdin)

    def ip(self, name: str, *args: str) -> str:
        return run(["ip", "-n", self.namespaces[name], *args])

    def popen(self, name: str, args: Sequence[str], **kwargs: object) -> subprocess.Popen[str]:
        """A process inside namespace `name`, stopped when the lab closes (if still running)."""
        process: subprocess.Popen[str] = subprocess.Popen(  # type: ignore[call-overload]
            self.ns_command(name, args), text=True, **kwargs
        )
        self.processes.append(process)
        return process

    # --- what tests do to a link -----------------------------------------------------------

    def set_down(self, link: Link) -> None:
        """An outage: b's end goes down, a keeps its address and routes (as a laptop's Wi-Fi blink)."""
        self.ip(link.b, "link", "set", link.right, "down")

    def set_up(self, link: Link) -> None:
        self.ip(link.b, "link", "set", link.right, "up")

    def rate(self, link: Link, kbit: int) -> None:
        """Cap both directions of the link at `kbit` kbit/s (tc tbf on each end)."""
        burst = max(16, kbit // 8 // 10)  # kbyte: about 100 ms worth, and at least a few packets
        for name, dev in ((link.a, link.left), (link.b, link.right)):
            self.exec(name, "tc", "qdisc", "replace", "dev", dev, "root", "tbf",
                      "rate", f"{kbit}kbit", "burst", f"{burst}kb", "latency", "300ms")  # fmt: skip

    def loss(self, link: Link, percent: int) -> None:
        """Drop `percent`% of packets crossing the link in each direction (nftables numgen, at b)."""
        if not 0 <= percent <= 100:
            raise ValueError("loss is a percentage, 0 to 100")
        table = f"loss_{link.right}"
        dev = link.right
        rules = f"""
            table inet {table} {{
                chain forward {{ type filter hook forward priority 0;
                    iifname "{dev}" numgen random mod 100 < {percent} drop
                    oifname "{dev}" numgen random mod 100 < {percent} drop;
                }}
                chain input {{ type filter hook input priority 0;
                    iifname "{dev}" numgen random mod 100 < {percent} drop;
                }}
                chain output {{ type filter hook output priority 0;
                    oifname "{dev}" numgen random mod 100 < {percent} drop;
                }}
            }}
        """
        # Replacing the table (not adding rules to it) makes a second call change the figure.
        self.exec(link.b, "nft", "-f", "-", stdin=f"table inet {table}\ndelete table inet {table}\n{rules}")

    def drop_larger(self, link: Link, size: int, ways: str = "both") -> None:
        """Drop every packet over `size` bytes crossing the link, until `mend`: both ways, or
        only what the end sends (`ways="out"`: into the link from `link.a`'s side) or receives
        (`"in"`).

        A call's video packets are about 1 KB; its audio, RTCP and data channel messages (the
        beats) are a few hundred bytes at most: so the video alone is lost, as when a lost video
        packet's resend is lost too, and the rest of the call carries on. Large TCP segments are
        dropped as well, so a signaling message as big as an SDP offer waits for `mend`: a
        rebuild started during the hole completes only after it.
        """
        if ways not in ("both", "out", "in"):
            raise LabError(f"ways must be both, out or in, not {ways!r}")
        table, dev = f"hole_{link.right}", link.right
        # Seen from the router, where the rules are: what the end sends comes in on `dev`.
        come_in = f'iifname "{dev}" meta length > {size} drop;' if ways != "in" else ""
        go_out = f'oifname "{dev}" meta length > {size} drop;' if ways != "out" else ""
        rules = f"""
            table inet {table} {{
                chain forward {{ type filter hook forward priority 0;
                    {come_in}
                    {go_out}
                }}
                chain input {{ type filter hook input priority 0;
                    {come_in}
                }}
                chain output {{ type filter hook output priority 0;
                    {go_out}
                }}
            }}
        """
        self.exec(link.b, "nft", "-f", "-", stdin=f"table inet {table}\ndelete table inet {table}\n{rules}")

    def mend(self, link: Link) -> None:
        """Undo `drop_larger`."""
        table = f"hole_{link.right}"
        self.exec(link.b, "nft", "-f", "-", stdin=f"table inet {table}\ndelete table inet {table}\n")

    def masquerade(self, name: str, out: str, *, per_destination: bool = False) -> None:
        """Namespace `name` NATs what leaves by device `out`, as a home router does.

        `per_destination` draws a new source port for every destination (a symmetric NAT,
        which STUN cannot see through: only a TURN relay connects two such ends).
        """
        table = f"nat_{out}"
        how = "masquerade fully-random" if per_destination else "masquerade"
        rules = f"""
            table ip {table} {{
                chain postrouting {{ type nat hook postrouting priority 100;
                    oifname "{out}" {how};
                }}
            }}
        """
        self.exec(name, "nft", "-f", "-", stdin=rules)

    def readdress(self, link: Link, subnet: int) -> Link:
        """a moves to another network: new addresses on both ends, a's old address gone.

        `subnet` must be one no link of this lab uses (links take 1, 2, 3... in order).
        """
        moved = Link(link.a, link.b, link.left, link.right, subnet)
        self.ip(link.b, "addr", "add", f"{moved.b_address}/24", "dev", link.right)
        self.ip(link.a, "addr", "flush", "dev", link.left)
        self.ip(link.a, "addr", "add", f"{moved.a_address}/24", "dev", link.left)
        self.default_route(link.a, moved.b_address)
        return moved

    # --- teardown ----------------------------------------------------------------------------

    def close(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            for pipe in (process.stdin, process.stdout, process.stderr):
                if pipe is not None:
                    pipe.close()
        self.processes.clear()
        errors = []
        for full in self.namespaces.values():
            done = subprocess.run(["ip", "netns", "del", full], capture_output=True, text=True)
            if done.returncode != 0:
                errors.append(f"{full}: {done.stderr.strip()}")
        self.namespaces.clear()
        if errors:
            raise LabError("namespaces left behind: " + "; ".join(errors))
