"""The web client on its own: two tabs in a call, the screens driven by clicks, device errors."""

from __future__ import annotations

from typing import Any

import pytest

from integration.headless import Headless
from server.config import ServerConfig
from server.ws.app import Server, running_server

from .conftest import FAKE_DEVICES, WebPage, chromium

pytestmark = [pytest.mark.chromium, pytest.mark.slow]


async def test_two_browser_students_see_each_other_and_chat(web_server: Server, browser: Any) -> None:
    a = await WebPage.open(browser, web_server)
    b = await WebPage.open(browser, web_server)
    await a.find("video", "history")
    await b.find("video", "history")  # the same wish: a pair
    await a.screen("call")
    await b.screen("call")
    for tab in (a, b):
        stats = await tab.wait_stats(lambda s: (s["inbound"] or {}).get("frames", 0) > 10)
        assert (stats["inbound"]["width"], stats["inbound"]["height"]) == (640, 480)
    await a.say("from a")
    await b.heard("from a")
    await b.say("from b")
    await a.heard("from b")
    assert (await b.page.inner_text("#chat-lines")).split("\n") == ["Partner: from a", "You: from b"]
    # Camera off is said on the state channel, and shown on the partner's picture.
    await a.page.click("#camera")
    await b.page.wait_for_selector("body[data-partner-camera=off]", state="attached")
    assert await b.page.inner_text("#remote-note") == "Your partner's camera is off"
    await a.page.click("#camera")
    await b.page.wait_for_selector("body[data-partner-camera=on]", state="attached")
    # a ends the call: b is told, and looks for someone new by itself.
    await a.page.click("#end")
    await a.screen("lobby")
    await b.screen("searching")
    assert await b.page.inner_text("#notice-text") == "Your partner left the call. Looking for someone new…"
    a.assert_clean()
    b.assert_clean()


async def test_lobby_searching_call_next_end_by_clicks(web_server: Server, browser: Any, desktops: Any) -> None:
    tab = await WebPage.open(browser, web_server)
    assert await tab.page.inner_text("#find") == "Find partner"
    desktop: Headless = await desktops(web_server, "--calls", "2")
    await desktop.expect("queued")
    await tab.page.click("#find")
    await tab.screen("call")
    first = await desktop.expect("matched")
    await desktop.expect("media_connected")
    await tab.page.click("#mute")
    assert await tab.page.get_attribute("#mute", "aria-pressed") == "true"
    assert await tab.page.inner_text("#mute") == "Unmute"
    # Next: the desktop is told we skipped, searches again, and the two meet again.
    await tab.page.click("#next")
    assert await tab.page.get_attribute("body", "data-screen") in ("searching", "call")
    assert (await desktop.expect("partner_left"))["reason"] == "skipped"
    await tab.screen("call")
    second = await desktop.expect("matched", lambda e: e["session"] != first["session"])
    await desktop.expect("media_connected", lambda e: e["session"] == second["session"])
    await tab.page.click("#end")
    await tab.screen("lobby")
    left = await desktop.expect("partner_left", lambda e: e["session"] == second["session"])
    assert left["reason"] == "left"
    tab.assert_clean()


async def test_the_lobby_previews_the_camera_only_once_it_was_allowed(web_server: Server) -> None:
    # Without the fake prompt (which says yes to everything, the Permissions API included),
    # a site nobody allowed yet is "prompt": the page must not ask before Find partner.
    async with chromium(FAKE_DEVICES[0]) as browser:
        never = await WebPage.open(browser, web_server)
        allowed = WebPage(await (await browser.new_context()).new_page())
        await allowed.page.context.grant_permissions(["camera", "microphone"], origin=web_server.http_url)
        await allowed.page.goto(web_server.http_url + "/")
        width = await allowed.page.evaluate(
            "new Promise(r => { const v = document.getElementById('preview'); "
            "v.videoWidth ? r(v.videoWidth) : v.onloadedmetadata = () => r(v.videoWidth); })")
        assert width == 640
        assert await allowed.page.inner_text("#preview-note") == ""
        # Audio only: the camera is let go at once.
        await allowed.page.check("input[name=mode][value=audio]")
        assert await allowed.page.evaluate("document.getElementById('preview').srcObject === null")
        assert await never.page.evaluate("document.getElementById('preview').srcObject === null")
        assert await never.page.inner_text("#preview-note") == "Your camera turns on when you press Find partner."
        never.assert_clean()
        allowed.assert_clean()


async def test_a_camera_that_cannot_be_found_is_explained(web_server: Server) -> None:
    # No fake device: this machine has no camera, so getUserMedia fails as on a laptop without one.
    async with chromium("--use-fake-ui-for-media-stream") as browser:
        tab = await WebPage.open(browser, web_server)
        await tab.find("video")
        await tab.page.wait_for_selector("#notice:not([hidden])")
        assert await tab.page.inner_text("#notice-text") == (
            "No camera was found. Plug one in and try again, or continue with audio only.")
        assert await tab.page.is_visible("#notice-audio") and await tab.page.is_visible("#notice-retry")
        assert await tab.page.get_attribute("body", "data-screen") == "lobby"
        # Audio only: no microphone either, so that is said next, with a way on without one.
        await tab.page.click("#notice-audio")
        await tab.page.wait_for_selector("body[data-device-error] #notice-continue:not([hidden])")
        assert (await tab.page.inner_text("#notice-text")).startswith("No microphone was found.")
        await tab.page.click("#notice-continue")
        await tab.screen("searching")


@pytest.mark.parametrize(("name", "sentence"), [
    ("NotReadableError", "Your camera is being used by another application."),
    ("NotAllowedError", "StudyMatch is not allowed to use your camera. Allow it in your browser's site settings"),
    ("NotFoundError", "No camera was found."),
    ("OverconstrainedError", "No camera was found."),
    ("AbortError", "Your camera is being used by another application."),
    ("SomethingNew", "Your camera could not be started."),
])
async def test_each_camera_error_gets_the_desktop_sentence(
    web_server: Server, name: str, sentence: str
) -> None:
    async with chromium(*FAKE_DEVICES) as browser:
        context = await browser.new_context()
        # The browser's own DOMException, with the name a real device failure carries.
        await context.add_init_script(
            "navigator.mediaDevices.getUserMedia = (c) => c.video ? "
            f"Promise.reject(new DOMException('refused', '{name}')) : Promise.resolve(new MediaStream());"
        )
        page = WebPage(await context.new_page())
        await page.page.goto(web_server.http_url + "/")
        await page.find("video")
        await page.page.wait_for_selector("#notice:not([hidden])")
        assert (await page.page.inner_text("#notice-text")).startswith(sentence)
        assert (await page.page.inner_text("#notice-text")).endswith("or continue with audio only.")
        # Try again asks again (and fails again here); audio only goes on to the search.
        await page.page.click("#notice-audio")
        await page.screen("searching")


async def test_a_server_that_went_away_is_said_with_a_way_to_try_again(browser: Any) -> None:
    async with running_server(ServerConfig(port=0)) as server:
        tab = await WebPage.open(browser, server)
    # The page is loaded; the server behind it is gone.
    await tab.find("video")
    await tab.page.wait_for_selector("#notice:not([hidden])")
    assert await tab.page.inner_text("#notice-text") == (
        "Cannot reach the StudyMatch server. Check your internet connection and try again.")
    assert await tab.page.is_visible("#notice-retry")
    assert await tab.page.get_attribute("body", "data-screen") == "lobby"
    assert not [p for p in tab.problems if "page error" in p], tab.problems


async def test_a_token_in_the_link_lets_the_page_into_a_closed_server(browser: Any) -> None:
    async with running_server(ServerConfig(port=0, tokens=("school-2026-token",))) as server:
        without = await WebPage.open(browser, server)
        await without.find("video")
        await without.page.wait_for_selector("#notice:not([hidden])")
        assert (await without.page.inner_text("#notice-text")).startswith("This StudyMatch server only lets in people with an access token.")
        assert await without.page.get_attribute("body", "data-screen") == "lobby"
        tab = WebPage(await (await browser.new_context()).new_page())
        await tab.page.goto(server.http_url + "/#token=school-2026-token")
        assert tab.page.url == server.http_url + "/"  # the token is out of the address bar
        await tab.find("video")
        await tab.screen("searching")
        await tab.page.reload()  # kept for the tab's life
        await tab.find("video")
        await tab.screen("searching")
        assert server.metrics.auth_failures["missing"] == 1
        tab.assert_clean()
