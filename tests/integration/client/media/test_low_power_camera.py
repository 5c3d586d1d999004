"""Low-power mode's cap on the real shared camera: a 720p synthetic device at 30 fps comes out
at 480 lines and at most 15 frames a second, whatever moves; lifted, full size and rate again."""

from __future__ import annotations

import asyncio

import av

from client.media.factory import MediaFactory
from client.media.power import CAP_FPS, CAP_HEIGHT
from integration.wsclient import TIMEOUT


async def frames(track: object, n: int) -> list[av.VideoFrame]:
    out = []
    for _ in range(n):
        frame = await asyncio.wait_for(track.recv(), TIMEOUT)  # type: ignore[attr-defined]
        out.append(frame)
    return out


async def test_the_cap_scales_down_and_slows_the_camera() -> None:
    media = MediaFactory(fake_media=True, width=1280, height=720, smooth_video=True)  # the pattern moves
    try:
        media.set_video_cap(CAP_FPS, CAP_HEIGHT)
        track = await media.open_camera()
        got = await frames(track, 10)
        assert {(f.width, f.height) for f in got} == {(854, 480)}
        read0, passed0 = media.camera_frames
        await frames(track, 15)
        read1, passed1 = media.camera_frames
        assert passed1 - passed0 <= (read1 - read0) // 2 + 1  # 15 of the camera's 30
        media.set_video_cap(None, None)
        got = await frames(track, 5)
        assert got[-1].height == 720
        read0, passed0 = media.camera_frames
        await frames(track, 15)
        read1, passed1 = media.camera_frames
        assert passed1 - passed0 >= read1 - read0 - 1
    finally:
        await media.close()
