"""A real server on port 0, Debian's Chromium through Playwright, and desktop `--headless` clients.

Chromium runs headless with a fake camera (30 fps) and microphone and says yes to
every device prompt. Headless Chromium leaves loopback out of its WebRTC
candidates; `--allow-loopback-in-peer-connection` puts it back, so a call needs
no network interface besides `lo` (the machine's own address is used as well
when it has one). Host candidates are real addresses, not mDNS names, because
aiortc does not resolve `.local` names.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from integration.headless import Headless
from integration.wsclient import SCALE
from server.config import ServerConfig
from server.ws.app import Server, running_server

playwright_api = pytest.importorskip(
    "playwright.async_api", reason="playwright is not installed (the test extra: tools/setup --test)"
)

CHROMIUM = os.environ.get("STUDYMATCH_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
# A browser, an aiortc process and a server on two shared cores: calls take seconds to come up.
CALL_TIMEOUT = 30 * SCALE
FAKE_DEVICES = ["--use-fake-device-for-media-stream=fps=30", "--use-fake-ui-for-media-stream"]
NETWORK = ["--allow-loopback-in-peer-connection", "--disable-features=WebRtcHideLocalIpsWithMdns"]


@pytest.fixture
async def web_server() -> AsyncIterator[Server]:
    async with running_server(ServerConfig(port=0, rematch_cooldown=0)) as server:
        yield server


@contextlib.asynccontextmanager
async def chromium(*args: str) -> AsyncIterator[Any]:
    """A headless Chromium with these extra switches (Playwright's Browser)."""
    if CHROMIUM is None:
        pytest.skip("no chromium binary: install Debian's chromium package (tools/setup --test does)")
    async with playwright_api.async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=[*NETWORK, *args])
        try:
            yield browser
        finally:
            await browser.close()


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    async with chromium(*FAKE_DEVICES) as b:
        yield b


class WebPage:
    """One student's tab: the page, and every script error or CSP violation it reported."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.problems: list[str] = []
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        page.on("console", self._console)

    def _console(self, message: Any) -> None:
        if message.type == "error":
            self.problems.append(f"console: {message.text}")

    @classmethod
    async def open(cls, browser: Any, server: Server, **context: Any) -> WebPage:
        tab = cls(await (await browser.new_context(**context)).new_page())
        await tab.page.goto(server.http_url + "/")
        await tab.screen("lobby")
        return tab

    async def screen(self, name: str, within: float = CALL_TIMEOUT) -> None:
        # A selector, not wait_for_function: the page's CSP forbids eval, Playwright's too.
        await self.page.wait_for_selector(f"body[data-screen={name}]", state="attached", timeout=within * 1000)

    async def find(self, mode: str = "video", topic: str = "") -> None:
        await self.page.check(f"input[name=mode][value={mode}]")
        await self.page.fill("#subject", topic)
        await self.page.click("#find")

    async def say(self, text: str) -> None:
        await self.page.fill("#chat-input", text)
        await self.page.press("#chat-input", "Enter")

    async def heard(self, text: str, within: float = CALL_TIMEOUT) -> None:
        await self.page.wait_for_selector(f"#chat-lines li.theirs:has-text({json.dumps(text)})",
                                          timeout=within * 1000)

    async def stats(self) -> dict[str, Any]:
        result: dict[str, Any] = await self.page.evaluate("window.studymatch.stats()")
        return result

    async def wait_stats(self, ok: Callable[[dict[str, Any]], bool], within: float = CALL_TIMEOUT) -> dict[str, Any]:
        """The page's video stats once `ok` holds for them (polled: getStats has no event)."""
        async with asyncio.timeout(within):
            while True:
                stats = await self.stats()
                if stats and ok(stats):
                    return stats
                await asyncio.sleep(0.25)

    def assert_clean(self) -> None:
        assert not self.problems, self.problems


@pytest.fixture
async def desktops() -> AsyncIterator[Callable[..., Any]]:
    """Start desktop clients on a server; every one is stopped when the test ends."""
    started: list[Headless] = []

    async def start(server: Server, *args: str) -> Headless:
        desktop = await Headless.start("--fake-media", "--server", server.url, *args)
        started.append(desktop)
        return desktop

    yield start
    for desktop in started:
        await desktop.stop()
