"""Calls that survive a server restart: N calls, the server stopped and restarted mid-call.

    python bench/network_restart.py [--pairs 3] [--signals term,kill] [--call-seconds 15] [--cut 5]

On loopback (no root): a memory-backend server (`python -m server`, its ticket key in a
file), `2 x --pairs` real `studymatch --headless --fake-media` clients in video calls; once
every call has media, `--cut` seconds on, the server gets the signal (SIGTERM: it says
`shutdown`; SIGKILL: it just dies) and a new one starts on the same port with the same key.
A call survives when both its clients end it as planned: one `matched`, `call_ended` in that
session after at least `--call-seconds - 1` s, no `partner_left` but the planned skip, exit 0.
Also printed: the received video frames per second over each call (both ends' mean).
"""

from __future__ import annotations

import argparse
import json
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SERVER = [sys.executable, "-m", "server", "--host", "127.0.0.1", "--log-level", "warning",
          "--rate-finds-per-minute", "100000"]  # fmt: skip
CLIENT = [sys.executable, "-m", "client", "--headless", "--fake-media", "--events", "json", "--calls", "1"]
SIGNALS = {"term": signal.SIGTERM, "kill": signal.SIGKILL}


class Child:
    def __init__(self, args: list[str]) -> None:
        self.process = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, text=True)
        self.records: list[dict[str, Any]] = []
        self.first_line = threading.Event()
        self.line = ""
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if not self.line:
                self.line = line.strip()
                self.first_line.set()
            if line.startswith("{"):
                self.records.append(json.loads(line))
        self.process.stdout.close()
        self.first_line.set()

    def of(self, event: str) -> list[dict[str, Any]]:
        return [r for r in list(self.records) if r.get("event") == event]


def start_server(key: Path, port: int = 0) -> tuple[Child, int]:
    server = Child([*SERVER, "--port", str(port), "--ticket-key-file", str(key)])
    server.first_line.wait(30)
    if not server.line.startswith("listening on "):
        raise RuntimeError(f"the server did not start: {server.line!r}")
    return server, int(server.line.rsplit(":", 1)[1].split("/", 1)[0])


def survived(client: Child, call_seconds: float) -> bool:
    matched, ended = client.of("matched"), client.of("call_ended")
    return (
        client.process.returncode == 0
        and len(matched) == 1
        and len(ended) == 1
        and ended[0]["session"] == matched[0]["session"]
        and ended[0]["seconds"] >= call_seconds - 1.0
        and all(r["reason"] == "skipped" for r in client.of("partner_left"))
    )


def one_round(how: str, args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as directory:
        key = Path(directory) / "ticket.key"
        server, port = start_server(key)
        url = f"ws://127.0.0.1:{port}/ws"
        clients = [Child([*CLIENT, "--server", url, "--call-seconds", str(args.call_seconds)])
                   for _ in range(2 * args.pairs)]  # fmt: skip
        deadline = time.monotonic() + 90
        while not all(c.of("media_connected") for c in clients):
            if time.monotonic() > deadline:
                raise RuntimeError("not every call got media within 90 s")
            time.sleep(0.1)
        time.sleep(args.cut)
        server.process.send_signal(SIGNALS[how])
        server.process.wait(30)
        again, _ = start_server(key, port)
        for client in clients:
            try:
                client.process.wait(args.call_seconds + 90)
            except subprocess.TimeoutExpired:
                client.process.kill()
                client.process.wait()
        again.process.terminate()
        again.process.wait(30)
    sessions: dict[str, list[Child]] = {}
    for client in clients:
        for record in client.of("matched")[:1]:
            sessions.setdefault(record["session"], []).append(client)
    ok = sum(len(pair) == 2 and all(survived(c, args.call_seconds) for c in pair) for pair in sessions.values())
    fps = [e["video_frames"] / e["seconds"] for c in clients for e in c.of("call_ended") if e["seconds"] > 0]
    return {
        "signal": how,
        "calls": args.pairs,
        "survived": ok,
        "resumed_clients": sum(bool(c.of("resumed")) for c in clients),
        "video_fps": round(statistics.fmean(fps), 1) if fps else None,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=3, help="calls at once")
    parser.add_argument("--signals", default="term,kill")
    parser.add_argument("--call-seconds", type=float, default=15.0)
    parser.add_argument("--cut", type=float, default=5.0, help="seconds into the calls the server goes")
    args = parser.parse_args()
    for how in args.signals.split(","):
        print(json.dumps(one_round(how, args)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
