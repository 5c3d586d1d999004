"""A mixed call (Chromium's web client with a desktop client) beside desktop<->desktop, in one run.

    python bench/web_call.py [--seconds 15] [--warmup 5] [--json]

Each call runs on this machine through one `python -m server --port 0` process:
- browser->desktop and desktop->browser: the web client in Debian's Chromium
  (Playwright, fake 640x480 30 fps camera), the browser offering, with
  `studymatch --headless --fake-media --video-stats` as its partner;
- the same call with the web client's two quality settings undone (`untuned`:
  no contentHint 'detail', no maintain-resolution), to show what they are for;
- desktop<->desktop: two headless clients, the baseline;
- browser<->browser: two tabs.
Figures are over `--seconds` after `--warmup`: the receiver's decoded size and
frame rate (median of its per-second samples), and the kbps it received (all of
the call: video, audio, data channels; aiortc's transport bytes on a desktop,
the transport's bytesReceived in Chromium).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from playwright.async_api import Browser, Page, async_playwright

from bench.common import start_server

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--use-fake-device-for-media-stream=fps=30", "--use-fake-ui-for-media-stream",
        "--allow-loopback-in-peer-connection", "--disable-features=WebRtcHideLocalIpsWithMdns"]
# Undoes rtc.js's two settings before the page runs, for the `untuned` row.
UNTUNED = """
Object.defineProperty(MediaStreamTrack.prototype, "contentHint", {set() {}, get() { return ""; }});
RTCRtpSender.prototype.setParameters = function () { return Promise.resolve(); };
"""


class Desktop:
    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.stats: list[tuple[float, dict[str, Any]]] = []
        self.matched = asyncio.Event()
        self._reader = asyncio.get_running_loop().create_task(self._read())

    @classmethod
    async def start(cls, url: str) -> Desktop:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "client", "--headless", "--fake-media", "--events", "json", "--video-stats",
            "--server", url, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
        return cls(proc)

    async def _read(self) -> None:
        assert self.proc.stdout is not None
        async for line in self.proc.stdout:
            event = json.loads(line)
            if event["event"] == "matched":
                self.matched.set()
            elif event["event"] == "video_stats":
                self.stats.append((time.monotonic(), event))

    def window(self, start: float, end: float) -> dict[str, float]:
        samples = [e for t, e in self.stats if start <= t <= end]
        if not samples:
            return {"width": 0, "height": 0, "fps": 0, "kbps": 0}
        return {"width": statistics.median(e["width"] for e in samples),
                "height": statistics.median(e["height"] for e in samples),
                "fps": statistics.median(e["fps"] for e in samples),
                "kbps": statistics.mean(e["kbps"] or 0 for e in samples)}

    async def stop(self) -> None:
        if self.proc.returncode is None:
            self.proc.terminate()
        await self.proc.wait()
        await self._reader


async def open_tab(browser: Browser, http_url: str, untuned: bool = False) -> Page:
    context = await browser.new_context()
    if untuned:
        await context.add_init_script(UNTUNED)
    page = await context.new_page()
    await page.goto(http_url + "/")
    return page


async def tab_window(page: Page, seconds: float) -> tuple[dict[str, float], dict[str, float]]:
    """(received, sent) by the tab over `seconds`: size, fps (median per second) and kbps."""
    samples = []
    for _ in range(int(seconds) + 1):
        samples.append((time.monotonic(), await page.evaluate("window.studymatch.stats()")))
        await asyncio.sleep(1.0)
    (t0, first), (t1, last) = samples[0], samples[-1]

    def side(key: str, total: str) -> dict[str, float]:
        rows = [s[key] for _, s in samples if s and s[key]]
        return {"width": statistics.median(r["width"] for r in rows),
                "height": statistics.median(r["height"] for r in rows),
                "fps": statistics.median(r["fps"] for r in rows),
                "kbps": 8 * (last[total] - first[total]) / (t1 - t0) / 1000}

    return side("inbound", "received"), side("outbound", "sent")


async def wait_call(page: Page) -> None:
    await page.wait_for_selector("body[data-screen=call]", state="attached", timeout=60_000)


async def mixed(browser: Browser, url: str, http_url: str, warmup: float, seconds: float,
                untuned: bool) -> dict[str, dict[str, float]]:
    page = await open_tab(browser, http_url, untuned)
    await page.click("#find")
    await page.wait_for_selector("body[data-screen=searching]", state="attached")
    await asyncio.sleep(0.5)  # queued first: the browser offers
    desktop = await Desktop.start(url)
    try:
        await wait_call(page)
        await asyncio.wait_for(desktop.matched.wait(), 60)
        await asyncio.sleep(warmup)
        start = time.monotonic()
        received, _sent = await tab_window(page, seconds)
        to_desktop = desktop.window(start, time.monotonic())
    finally:
        await page.click("#end")
        await desktop.stop()
        await page.context.close()
    return {"browser->desktop": to_desktop, "desktop->browser": received}


async def desktops(url: str, warmup: float, seconds: float) -> dict[str, dict[str, float]]:
    a = await Desktop.start(url)
    await asyncio.sleep(1.0)
    b = await Desktop.start(url)
    try:
        await asyncio.wait_for(asyncio.gather(a.matched.wait(), b.matched.wait()), 60)
        await asyncio.sleep(warmup + 3)  # their media comes up after the match
        start = time.monotonic()
        await asyncio.sleep(seconds)
        end = time.monotonic()
    finally:
        await a.stop()
        await b.stop()
    return {"desktop->desktop": a.window(start, end)}


async def browsers(browser: Browser, http_url: str, warmup: float, seconds: float) -> dict[str, dict[str, float]]:
    a, b = await open_tab(browser, http_url), await open_tab(browser, http_url)
    try:
        await a.click("#find")
        await b.click("#find")
        await wait_call(a)
        await wait_call(b)
        await asyncio.sleep(warmup)
        received, _ = await tab_window(a, seconds)
    finally:
        await a.context.close()
        await b.context.close()
    return {"browser->browser": received}


async def run(warmup: float, seconds: float) -> dict[str, dict[str, float]]:
    server = start_server(["--rematch-cooldown", "0"])
    http_url = server.url.replace("ws", "http", 1).removesuffix("/ws")
    results: dict[str, dict[str, float]] = {}
    try:
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            try:
                results |= await mixed(browser, server.url, http_url, warmup, seconds, untuned=False)
                untuned = await mixed(browser, server.url, http_url, warmup, seconds, untuned=True)
                results["browser->desktop, untuned"] = untuned["browser->desktop"]
                results |= await desktops(server.url, warmup, seconds)
                results |= await browsers(browser, http_url, warmup, seconds)
            finally:
                await browser.close()
    finally:
        server.stop()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results = asyncio.run(run(args.warmup, args.seconds))
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    print(f"{'direction':28} {'received':>10} {'fps':>5} {'kbps':>7}")
    for name, r in results.items():
        print(f"{name:28} {int(r['width']):>4}x{int(r['height']):<5} {r['fps']:>5.1f} {r['kbps']:>7.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
