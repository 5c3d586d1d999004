"""The PeerJS server (npm `peer`, pinned in package.json) installed here and run on loopback.

What `bench/relay_compare.py` relies on, read in `peer` 1.0.2's own source
(`node_modules/peer/dist/bin/peerjs.js`):
- CLI defaults: `--host` none (the library then listens on `::`, every
  interface: we always pass 127.0.0.1), `--port` required (0 is falsy and
  becomes NaN there, so we pick a free port ourselves), `--path /`,
  `--key peerjs`, `--concurrent_limit 5000` (a connection past it gets an
  ERROR and is closed), `--alive_timeout 60000` ms, `--expire_timeout 5000` ms.
- WebSocket at `<path>peerjs` = `/peerjs?key=peerjs&id=ID&token=TOKEN`; no
  HTTP `GET /peerjs/id` is needed when the client picks its own id.
  The server answers `{"type":"OPEN"}`.
- `OFFER`/`ANSWER`/`CANDIDATE`/`LEAVE` with a `dst`: re-built as
  `{type, src, dst, payload}` and sent to `dst` (queued when `dst` is not
  connected yet). No validation and no rate limit.
- A client's `lastPing` is set when it connects and on each `HEARTBEAT`
  message only, and every 300 ms the server closes clients whose last ping is
  older than `alive_timeout`: relaying does not count as alive. The real
  PeerJS client sends HEARTBEAT every 5 s; the benchmark raises
  `alive_timeout` instead, so no heartbeat traffic lands in PeerJS's measured
  CPU (which can only flatter PeerJS).
- It prints a line per client connect/disconnect: stdout is drained by a thread.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
from dataclasses import dataclass

from bench.common import ServerProcess, raise_fd_limit

HERE = os.path.dirname(os.path.abspath(__file__))
BINARY = os.path.join(HERE, "node_modules", ".bin", "peerjs")
VERSION = "1.0.2"


def install() -> None:
    """`npm install` the pinned `peer` into bench/peers/node_modules (ignored by git), once."""
    if os.path.exists(BINARY) and _installed_version() == VERSION:
        return
    if shutil.which("npm") is None:
        raise RuntimeError("npm is needed to install the PeerJS server (apt-get install nodejs npm)")
    subprocess.run(["npm", "install", "--no-audit", "--no-fund"], cwd=HERE, check=True)
    if _installed_version() != VERSION:
        raise RuntimeError(f"npm installed peer {_installed_version()}, not {VERSION}")


def _installed_version() -> str | None:
    import json

    try:
        with open(os.path.join(HERE, "node_modules", "peer", "package.json")) as f:
            return str(json.load(f)["version"])
    except OSError:
        return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PeerJsProcess(ServerProcess):
    key: str = "peerjs"

    def client_url(self, client_id: str) -> str:
        return f"{self.url}?key={self.key}&id={client_id}&token=t{client_id}"


def start_peerjs(concurrent_limit: int, alive_timeout_ms: int = 3_600_000) -> PeerJsProcess:
    """Started and listening on 127.0.0.1, its stdout drained so it never blocks."""
    install()
    port = free_port()
    process = subprocess.Popen(
        [
            BINARY, "--host", "127.0.0.1", "--port", str(port),
            "--concurrent_limit", str(concurrent_limit), "--alive_timeout", str(alive_timeout_ms),
        ],
        stdout=subprocess.PIPE,
        text=True,
        preexec_fn=raise_fd_limit,
    )  # fmt: skip
    assert process.stdout is not None
    line = process.stdout.readline().strip()
    if not line.startswith("Started PeerServer on 127.0.0.1, port: "):
        process.kill()
        raise RuntimeError(f"the PeerJS server did not start: {line!r}")
    threading.Thread(target=process.stdout.read, daemon=True).start()
    return PeerJsProcess(process, f"ws://127.0.0.1:{port}/peerjs")
