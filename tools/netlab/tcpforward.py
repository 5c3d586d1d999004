"""A tiny TCP forwarder: a load balancer's one job, trying its backends in order.

    python -m tools.netlab.tcpforward --listen 127.0.0.1:0 --to 127.0.0.1:8001 --to 127.0.0.1:8002

Prints `listening on HOST:PORT`. Each accepted connection goes to the first backend that
accepts it; when that one is dead (refused), to the next. A test puts two server instances
behind it, kills one, and a client that reconnects through the same address reaches the other,
as it would behind a real load balancer.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from collections.abc import Sequence

CHUNK = 65536


async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(CHUNK):
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass  # either side went away: the other is closed below
    finally:
        with contextlib.suppress(ConnectionError, RuntimeError):
            writer.close()


async def serve(host: str, port: int, backends: list[tuple[str, int]]) -> None:
    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for backend in backends:
            try:
                up_reader, up_writer = await asyncio.open_connection(*backend)
            except OSError:
                continue
            await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
            return
        writer.close()  # no backend alive: the client sees the connection closed, and retries

    server = await asyncio.start_server(accept, host, port)
    bound = server.sockets[0].getsockname()
    print(f"listening on {bound[0]}:{bound[1]}", flush=True)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    async with server:
        await stop.wait()


def address(text: str) -> tuple[str, int]:
    host, port = text.rsplit(":", 1)
    return host, int(port)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listen", type=address, default=("127.0.0.1", 0))
    parser.add_argument("--to", type=address, action="append", required=True, help="a backend, in order")
    args = parser.parse_args(argv)
    host, port = args.listen
    asyncio.run(serve(host, port, args.to))
    return 0


if __name__ == "__main__":
    sys.exit(main())
