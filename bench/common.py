"""What the benchmarks share: a server in its own process, and its CPU and memory from /proc."""

from __future__ import annotations

import os
import resource
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
# Benchmarks measure the server, not its abuse limits.
UNLIMITED = [
    "--rate-messages", "1000000", "--rate-burst", "1000000",
    "--rate-finds-per-minute", "1000000", "--rate-abuse-strikes", "1000000",
    "--outbox-messages", "100000", "--outbox-bytes", "1000000000",
    "--log-level", "warning",
]  # fmt: skip


def raise_fd_limit() -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


@dataclass
class ServerProcess:
    process: subprocess.Popen[str]
    url: str

    @property
    def pid(self) -> int:
        return self.process.pid

    def cpu_seconds(self) -> float:
        """User plus system CPU time the server has used so far."""
        with open(f"/proc/{self.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS

    def rss_bytes(self) -> int:
        with open(f"/proc/{self.pid}/statm") as f:
            return int(f.read().split()[1]) * PAGE_SIZE

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_server(args: Sequence[str] = (), *, command: Sequence[str] | None = None) -> ServerProcess:
    """`python -m server --port 0 ...` (or `command`), once it prints its listening line."""
    if command is None:
        command = [sys.executable, "-m", "server", "--port", "0", *UNLIMITED, *args]
    process = subprocess.Popen(
        list(command),
        stdout=subprocess.PIPE,
        text=True,
        preexec_fn=raise_fd_limit,
    )
    assert process.stdout is not None
    line = process.stdout.readline().strip()
    if not line.startswith("listening on "):
        process.kill()
        raise RuntimeError(f"the server did not start: {line!r}")
    return ServerProcess(process, line.removeprefix("listening on "))


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100), interpolated; values need not be sorted."""
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(q) - 1]


def wait_for(predicate: Callable[[], object], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("the benchmark's condition did not hold in time")
        time.sleep(0.05)


def drive_bare_peers(peers: Sequence[subprocess.Popen[str]]) -> list[str]:
    """Runs a bare aiortc pair's line protocol (bench/*_peers.py): each says "ready", both are
    told "go", each answers one JSON line (returned), then "stop"; killed if anything fails."""
    try:
        for p in peers:  # both imported aiortc and hold their socket
            assert p.stdout is not None
            if '"ready"' not in p.stdout.readline():
                raise RuntimeError("a bare peer did not start")
        for p in peers:
            assert p.stdin is not None
            p.stdin.write("go\n")
            p.stdin.flush()
        lines = []
        for p in peers:
            assert p.stdout is not None
            lines.append(p.stdout.readline())
        for p in peers:
            assert p.stdin is not None
            p.stdin.write("stop\n")
            p.stdin.close()
        for p in peers:
            if p.wait(30) != 0:
                raise RuntimeError(f"a bare peer exited {p.returncode}")
        return lines
    finally:
        for p in peers:
            if p.poll() is None:
                p.kill()
                p.wait()
