"""A UDP echo and a probe that counts and times what comes back: the lab's own yardstick.

    python -m tools.netlab.udpecho serve --port 9000
    python -m tools.netlab.udpecho probe --to 10.99.2.2:9000 --count 200 --interval-ms 5 [--size 1000]

The probe sends numbered packets at a fixed pace, waits `--linger-ms` after the last one,
and prints one JSON line: sent, received, the round-trip times (ms) of those that came
back, and the bytes per second that came back over the whole probe (sending time plus linger).
"""

from __future__ import annotations

import argparse
import json
import socket
import struct
import sys
import time
from collections.abc import Sequence

HEADER = struct.Struct("!Id")  # sequence, send time


def serve(port: int) -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("0.0.0.0", port))
    print("ready", flush=True)
    while True:
        data, peer = sock.recvfrom(65536)
        try:
            sock.sendto(data, peer)
        except OSError:
            pass  # no way back to the sender (no route, a link down): the reply is lost, not the echo


def probe(host: str, port: int, count: int, interval: float, size: int, linger: float) -> dict[str, object]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.connect((host, port))
    sock.setblocking(False)
    rtts: list[float] = []
    received_bytes = 0
    start = time.monotonic()
    sent = 0
    end = start + count * interval + linger
    while time.monotonic() < end:
        now = time.monotonic()
        if sent < count and now >= start + sent * interval:
            packet = HEADER.pack(sent, now).ljust(size, b"\0")
            try:
                sock.send(packet)
            except OSError:
                pass  # a full buffer or an unreachable network: the packet is lost, as on a wire
            sent += 1
        try:
            data = sock.recv(65536)
        except OSError:  # nothing yet (BlockingIOError), or an ICMP error (ConnectionRefusedError)
            time.sleep(0.0005)
            continue
        _seq, sent_at = HEADER.unpack_from(data)
        rtts.append(1000.0 * (time.monotonic() - sent_at))
        received_bytes += len(data)
    seconds = count * interval + linger
    return {"sent": sent, "received": len(rtts), "rtts_ms": rtts, "bytes_per_second": received_bytes / seconds}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=("serve", "probe"))
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--to", default="")
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--interval-ms", type=float, default=10.0)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--linger-ms", type=float, default=1000.0)
    args = parser.parse_args(argv)
    if args.mode == "serve":
        serve(args.port)
        return 0
    host, port = args.to.rsplit(":", 1)
    result = probe(host, int(port), args.count, args.interval_ms / 1000.0, max(args.size, HEADER.size),
                   args.linger_ms / 1000.0)  # fmt: skip
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
