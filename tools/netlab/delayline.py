"""The userspace delay line: the kernel here has no netem, so delay and jitter are ours.

    python -m tools.netlab.delayline --device smdelay --delay-ms 100 --jitter-ms 30 --seed 1

Runs inside the router namespace (`topology.Star.add_delay`). It opens a tun device;
policy routing sends the UDP that arrives from either end into it, and every packet is
written back after `delay + jitter` (one way, so a round trip gains twice the delay),
after which the router forwards it to the other end. Packets keep their order (jitter
bunches them, as on one real path, instead of reordering them). The queue is bounded:
past `--queue` packets waiting, new ones are dropped, as a router's buffer would.
The jitter is drawn from a seeded generator, so a run can be repeated.
"""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import os
import random
import signal
import struct
import sys
import time
from collections import deque
from collections.abc import Sequence

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000
MAX_PACKET = 65536
READ_BATCH = 64


def open_tun(name: str) -> int:
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TUN | IFF_NO_PI))
    return fd


class DelayLine:
    """Packets in, the same packets out `delay + jitter` later, in order, from a bounded queue."""

    def __init__(self, delay_ms: float, jitter_ms: float, seed: int, queue: int) -> None:
        self.delay = delay_ms / 1000.0
        self.jitter = jitter_ms / 1000.0
        self.random = random.Random(seed)
        self.limit = queue
        self.waiting: deque[tuple[float, bytes]] = deque()
        self.last_due = 0.0
        self.dropped = 0

    def due(self, now: float) -> float:
        """When a packet arriving now leaves: never before the one ahead of it (no reordering)."""
        spread = self.random.uniform(-self.jitter, self.jitter) if self.jitter else 0.0
        self.last_due = max(self.last_due, now + max(0.0, self.delay + spread))
        return self.last_due

    def push(self, packet: bytes, now: float) -> bool:
        if len(self.waiting) >= self.limit:
            self.dropped += 1
            return False
        self.waiting.append((self.due(now), packet))
        return True

    def pop_due(self, now: float) -> list[bytes]:
        out = []
        while self.waiting and self.waiting[0][0] <= now:
            out.append(self.waiting.popleft()[1])
        return out

    def next_due(self) -> float | None:
        return self.waiting[0][0] if self.waiting else None


async def serve(fd: int, line: DelayLine) -> None:
    loop = asyncio.get_running_loop()
    wake = asyncio.Event()

    def readable() -> None:
        for _ in range(READ_BATCH):
            try:
                packet = os.read(fd, MAX_PACKET)
            except BlockingIOError:
                break
            line.push(packet, time.monotonic())
        wake.set()

    stopping = False

    def stop() -> None:
        nonlocal stopping
        stopping = True
        wake.set()

    loop.add_reader(fd, readable)
    loop.add_signal_handler(signal.SIGTERM, stop)
    print("ready", flush=True)
    while not stopping:
        now = time.monotonic()
        for packet in line.pop_due(now):
            try:
                os.write(fd, packet)
            except OSError:
                line.dropped += 1  # the device is down or full: a lost packet, as on a wire
        head = line.next_due()
        wake.clear()
        timeout = None if head is None else max(0.0, head - time.monotonic())
        try:
            await asyncio.wait_for(wake.wait(), timeout)  # a packet, SIGTERM, or the head's due time
        except TimeoutError:
            pass
    loop.remove_reader(fd)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", required=True)
    parser.add_argument("--delay-ms", type=float, default=0.0)
    parser.add_argument("--jitter-ms", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--queue", type=int, default=2000, help="packets waiting at most")
    args = parser.parse_args(argv)
    fd = open_tun(args.device)
    line = DelayLine(args.delay_ms, args.jitter_ms, args.seed, args.queue)
    try:
        asyncio.run(serve(fd, line))
    finally:
        os.close(fd)
    print(f"dropped {line.dropped}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
