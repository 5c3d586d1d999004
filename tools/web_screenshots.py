"""Screenshots of the web client for the README: lobby and call, at desktop and phone width.

    .venv/bin/python tools/web_screenshots.py [--out assets/screenshots]

A real server on port 0 (in this process), Debian's Chromium through Playwright
with its fake camera, and a desktop `studymatch --headless --fake-media` as the
partner (its synthetic test pattern is the partner's picture).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from playwright.async_api import async_playwright

from server.config import ServerConfig
from server.ws.app import Server, running_server

ROOT = Path(__file__).resolve().parents[1]
ARGS = ["--use-fake-device-for-media-stream=fps=30", "--use-fake-ui-for-media-stream",
        "--allow-loopback-in-peer-connection", "--disable-features=WebRtcHideLocalIpsWithMdns",
        "--hide-scrollbars"]
SIZES = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}


async def shoot(browser: Any, server: Server, size: str, out: Path) -> None:
    phone = size == "phone"
    context = await browser.new_context(viewport=SIZES[size], device_scale_factor=2 if phone else 1,
                                        is_mobile=phone, has_touch=phone, color_scheme="light")
    # A returning student who allowed the camera before: the lobby shows the preview.
    await context.grant_permissions(["camera", "microphone"], origin=server.http_url)
    page = await context.new_page()
    await page.goto(server.http_url + "/")
    await page.fill("#subject", "calculus")
    await page.wait_for_timeout(1500)  # the preview's first frames
    await page.screenshot(path=str(out / f"web-lobby-{size}.png"))
    partner = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "client", "--headless", "--fake-media", "--topic", "calculus",
        "--say", "Hi! Working on integrals by parts, you?", "--server", server.url,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
    try:
        await page.click("#find")
        await page.wait_for_selector("body[data-screen=call]", state="attached", timeout=60_000)
        await page.wait_for_selector("#chat-lines li.theirs", timeout=60_000)
        await page.fill("#chat-input", "Limits and series. 25 minutes, then a break?")
        await page.press("#chat-input", "Enter")
        await page.wait_for_timeout(2500)  # the partner's pattern is on screen and in focus
        await page.screenshot(path=str(out / f"web-call-{size}.png"))
        await page.click("#end")
    finally:
        partner.terminate()
        await partner.wait()
        await context.close()


async def main(out: Path) -> None:
    chromium = shutil.which("chromium")
    if chromium is None:
        raise SystemExit("Debian's chromium package is needed (tools/setup --test installs it)")
    async with running_server(ServerConfig(port=0, rematch_cooldown=0)) as server, async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium, args=ARGS)
        try:
            for size in SIZES:
                await shoot(browser, server, size, out)
        finally:
            await browser.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "assets" / "screenshots")
    out = parser.parse_args().out
    out.mkdir(parents=True, exist_ok=True)
    asyncio.run(main(out))
