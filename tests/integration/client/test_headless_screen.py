"""`studymatch --headless --share-screen fake`: real processes and a real server; the partner
receives the synthetic screen of text in place of the camera, and both say so in JSON events."""

from __future__ import annotations

import asyncio

import pytest

from client import messages
from integration.client.test_headless_cli import named, run_client, server_process

pytestmark = pytest.mark.slow


async def test_a_headless_client_shares_the_synthetic_screen_once_the_call_is_up() -> None:
    async with server_process("--rematch-cooldown", "0") as url:
        args = ["--fake-media", "--calls", "1", "--events", "json", "--video-stats", "--server", url]
        (code_a, a, err_a), (code_b, b, err_b) = await asyncio.gather(
            run_client(*args, "--share-screen", "fake", "--call-seconds", "6"),
            run_client(*args),
        )
    assert (code_a, code_b) == (0, 0), (err_a[-2000:], err_b[-2000:])
    (session,) = {m["session"] for m in named(a, "matched")}
    (shared,) = named(a, "screen_share")
    assert shared == {**shared, "session": session, "on": True, "message": None}
    assert not named(b, "screen_share") and not named(a, "partner_screen")
    (told,) = named(b, "partner_screen")
    assert told == {**told, "session": session, "on": True}
    assert told["t"] >= shared["t"] - 1
    # b decodes the screen (1280x720) after a's camera (640x480); a keeps getting b's camera.
    sizes_b = [(e["width"], e["height"]) for e in named(b, "video_stats") if e["fps"] > 0]
    assert (1280, 720) in sizes_b and sizes_b[-1] == (1280, 720), sizes_b
    assert all(size == (640, 480) for size in [(e["width"], e["height"]) for e in named(a, "video_stats")
                                                if e["fps"] > 0])  # fmt: skip
    # The same sender all along: the partner's camera state never said off.
    assert all(e["on"] for e in named(b, "partner_camera"))


async def test_a_screen_that_is_not_there_is_said_and_the_camera_goes_on() -> None:
    async with server_process("--rematch-cooldown", "0") as url:
        args = ["--fake-media", "--calls", "1", "--events", "json", "--server", url]
        (code_a, a, err_a), (code_b, b, err_b) = await asyncio.gather(
            run_client(*args, "--share-screen", "9", "--call-seconds", "2"),
            run_client(*args),
        )
    assert (code_a, code_b) == (0, 0), (err_a[-2000:], err_b[-2000:])
    (said,) = named(a, "screen_share")
    assert said["on"] is False and said["message"]  # no display here, or no screen 9: the sentence
    assert not named(b, "partner_screen")
    assert named(a, "call_ended")[0]["video_frames"] > 0 and named(b, "call_ended")[0]["video_frames"] > 0


async def test_an_audio_call_has_no_picture_to_share_a_screen_in() -> None:
    async with server_process("--rematch-cooldown", "0") as url:
        args = ["--fake-media", "--mode", "audio", "--calls", "1", "--events", "json", "--server", url]
        (code_a, a, err_a), (code_b, b, err_b) = await asyncio.gather(
            run_client(*args, "--share-screen", "fake", "--call-seconds", "2"),
            run_client(*args),
        )
    assert (code_a, code_b) == (0, 0), (err_a[-2000:], err_b[-2000:])
    (said,) = named(a, "screen_share")
    assert said == {**said, "on": False, "message": messages.SCREEN_AUDIO_CALL}
    assert not named(b, "partner_screen")
