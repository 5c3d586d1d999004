"""What the network tests share: processes in lab namespaces (or on loopback) and their JSON lines.

A `Proc` reads its stdout in a thread, so a pipe never fills while the test waits on
something else; tests wait on lines (`wait_for`), never on fixed sleeps, except where the
issue prescribes a length (a link down for 4 s, a restart 5 s into the call).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from integration.wsclient import SCALE
from tools.netlab import Lab

ROOT = Path(__file__).resolve().parents[3]
ENV = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'tests'}", "PYTHONUNBUFFERED": "1"}
PEER = [sys.executable, "-m", "integration.network.peer"]
SERVER = [sys.executable, "-m", "server"]
# Rate limits off: the tests are about networks, not about the server's abuse limits.
QUIET_SERVER = ["--log-level", "warning", "--rate-finds-per-minute", "100000"]
WAIT = 30.0 * SCALE  # media through NAT, relays and loss, on two shared cores
STOP_WAIT = 10.0 * SCALE


class Proc:
    """A child process whose stdout lines are kept; JSON lines parsed."""

    def __init__(self, args: Sequence[str], lab: Lab | None = None, namespace: str = "") -> None:
        kwargs: dict[str, Any] = {"cwd": ROOT, "env": ENV, "stdout": subprocess.PIPE}
        self.process = lab.popen(namespace, args, **kwargs) if lab is not None else subprocess.Popen(
            list(args), text=True, **kwargs
        )
        self.lines: list[str] = []
        self.records: list[dict[str, Any]] = []
        self._changed = threading.Condition()
        self._eof = False
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                if line.startswith("{"):
                    self.records.append(json.loads(line))
                self._changed.notify_all()
        self.process.stdout.close()
        with self._changed:
            self._eof = True
            self._changed.notify_all()

    def wait_line(self, test: Callable[[str], bool], timeout: float = WAIT) -> str:
        with self._changed:
            seen = 0
            deadline = time.monotonic() + timeout
            while True:
                for line in self.lines[seen:]:
                    if test(line):
                        return line
                seen = len(self.lines)
                left = deadline - time.monotonic()
                if self._eof or left <= 0:
                    why = "exited" if self._eof else f"said nothing matching in {timeout:.0f} s"
                    raise AssertionError(f"the process {why}; its output:\n" + "\n".join(self.lines))
                self._changed.wait(left)

    def wait_for(self, event: str, timeout: float = WAIT) -> dict[str, Any]:
        """The first record of `event` (already printed or still to come)."""
        line = self.wait_line(lambda line: line.startswith("{") and json.loads(line).get("event") == event,
                              timeout)  # fmt: skip
        record: dict[str, Any] = json.loads(line)
        return record

    def of(self, event: str) -> list[dict[str, Any]]:
        with self._changed:
            return [r for r in self.records if r.get("event") == event]

    def names(self) -> list[str]:
        with self._changed:
            return [str(r.get("event")) for r in self.records]

    def finish(self, timeout: float = WAIT) -> int:
        code = self.process.wait(timeout)
        with self._changed:
            while not self._eof:
                self._changed.wait(1.0)
        return code

    def signal(self, number: int) -> None:
        self.process.send_signal(number)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(STOP_WAIT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def server(*extra: str, host: str = "127.0.0.1", port: int = 0, lab: Lab | None = None,
           namespace: str = "") -> tuple[Proc, int]:  # fmt: skip
    """`python -m server` (a real process, so it can be killed), and the port it listens on."""
    proc = Proc([*SERVER, "--host", host, "--port", str(port), *QUIET_SERVER, *extra], lab, namespace)
    line = proc.wait_line(lambda line: line.startswith("listening on "))
    return proc, int(line.rsplit(":", 1)[1].split("/", 1)[0])


def peer(url: str, *extra: str, lab: Lab | None = None, namespace: str = "") -> Proc:
    return Proc([*PEER, "--server", url, *extra], lab, namespace)


@contextmanager
def stopping(*procs: Proc) -> Iterator[list[Proc]]:
    """Stops every process it holds on the way out (a failed test leaves none behind)."""
    held = list(procs)
    try:
        yield held
    finally:
        for proc in held:
            proc.stop()


def video_gaps(proc: Proc, start: float, end: float, every: float) -> list[tuple[float, float]]:
    """The windows of `every` seconds in [start, end) in which no remote video frame arrived."""
    ticks = [r["t"] for r in proc.of("video")]
    gaps = []
    t = start
    while t + every <= end:
        if not any(t <= tick < t + every for tick in ticks):
            gaps.append((round(t - start, 1), round(t + every - start, 1)))
        t += every
    return gaps


def frames_after(proc: Proc, t: float) -> int:
    """Remote video frames that arrived after `t` (from the ticks: a lower bound by one tick)."""
    ticks = proc.of("video")
    before = max((r["frames"] for r in ticks if r["t"] <= t), default=0)
    return max((r["frames"] for r in ticks), default=0) - before


def wait_video_after(proc: Proc, t: float, timeout: float = WAIT) -> None:
    """Waits until a remote video frame arrives after time `t`."""

    def after(line: str) -> bool:
        if not line.startswith("{"):
            return False
        record = json.loads(line)
        return bool(record.get("event") == "video" and record["t"] > t)

    proc.wait_line(after, timeout)
