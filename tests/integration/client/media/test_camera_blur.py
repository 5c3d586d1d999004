"""Blur reaches the partner: the app's camera path (MediaFactory, SharedCamera, the effect in the
reader thread) into a real aiortc receiver on this machine, switched off and on mid-call."""

from __future__ import annotations

import asyncio
from typing import Any

import cv2
import numpy as np

from client.media.backdrop import Backdrop
from client.media.effects import BackgroundEffect
from client.media.factory import PERSON, MediaFactory
from integration.client.media.loopback import loopback
from integration.wsclient import TIMEOUT


def room_detail(frame: Any) -> float:
    """Edge energy in the top corners: the synthetic room, never the person."""
    grey = frame.to_ndarray(format="gray")
    h, w = grey.shape
    lap = np.abs(cv2.Laplacian(grey, cv2.CV_32F))
    return float(lap[: h * 2 // 5, : w // 4].mean() + lap[: h * 2 // 5, -w // 4 :].mean())


async def test_the_partner_receives_the_blur_and_the_room_again_when_it_is_off() -> None:
    effect = BackgroundEffect(Backdrop.BLUR)
    media = MediaFactory(camera=PERSON, fake_media=True, background=effect)
    try:
        async with loopback(await media.open_camera()) as remote:

            async def detail_after(frames: int) -> float:
                for _ in range(frames):
                    frame = await asyncio.wait_for(remote.recv(), TIMEOUT)
                return room_detail(frame)

            blurred = await detail_after(45)  # the encoder's first key frames are soft whatever we send
            effect.set(Backdrop.NONE)
            sharp = await detail_after(45)
            effect.set(Backdrop.BLUR)
            blurred_again = await detail_after(45)
        assert blurred < sharp / 3 and blurred_again < sharp / 3, (blurred, sharp, blurred_again)
        assert effect.unavailable is None
    finally:
        await media.close()
