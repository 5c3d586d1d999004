"""The baseline for bench/server_load.py: the least a websockets server can do for the same workload.

    python bench/bare_server.py --port 0

It speaks just enough of the protocol for the load driver (hello, find with
an exact topic, signal to the partner) and checks nothing: no validation,
no limits, no metrics, no cool-down, no outbox. What StudyMatch's server
costs beyond this is the price of everything it guarantees.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal

from websockets.asyncio.server import ServerConnection, serve


async def main(port: int) -> None:
    waiting: dict[tuple[str, str | None], ServerConnection] = {}  # (mode, topic)
    partner: dict[ServerConnection, ServerConnection] = {}
    count = 0

    async def handle(ws: ServerConnection) -> None:
        nonlocal count
        try:
            async for frame in ws:
                message = json.loads(frame)
                kind = message["type"]
                if kind == "signal":
                    other = partner.get(ws)
                    if other is not None:
                        await other.send(
                            json.dumps(
                                {"type": "signal", "session": message["session"], "data": message["data"]}
                            )
                        )
                elif kind == "find":
                    key = (message["mode"], message.get("topic"))
                    other = waiting.pop(key, None)
                    await ws.send(json.dumps({"type": "queued", "mode": key[0], "topic": key[1]}))
                    if other is None:
                        waiting[key] = ws
                        continue
                    count += 1
                    session = f"s{count}"
                    partner[ws], partner[other] = other, ws
                    for conn, initiator in ((other, True), (ws, False)):
                        await conn.send(
                            json.dumps(
                                {
                                    "type": "matched",
                                    "session": session,
                                    "initiator": initiator,
                                    "partner": {"mode": key[0], "topic": key[1]},
                                }
                            )
                        )
                elif kind == "hello":
                    await ws.send(
                        json.dumps(
                            {
                                "type": "welcome",
                                "protocol": 1,
                                "id": str(id(ws)),
                                "ice_servers": [],
                                "limits": {},
                            }
                        )
                    )
        finally:
            partner.pop(ws, None)
            for key, conn in list(waiting.items()):
                if conn is ws:
                    del waiting[key]

    async with serve(handle, "127.0.0.1", port, compression=None, max_size=65536) as server:
        bound = next(iter(server.sockets)).getsockname()[1]
        print(f"listening on ws://127.0.0.1:{bound}/ws", flush=True)
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        await stop.wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=0)
    asyncio.run(main(parser.parse_args().port))
