"""Builds the real engines for the window and the one shared MediaFactory.

The camera is opened once per run: the lobby preview, the calls
and the practice call all take subscribers from the same MediaFactory. Each
engine gets a `SharedMedia` view of it whose close() does nothing, because an
engine closes its media when it closes and the next engine still needs it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

from aiortc.mediastreams import MediaStreamError

from client import events as ev
from client.engine import Engine
from client.media.devices import DeviceError
from client.people import People
from client.tracks import PREVIEW_FPS, PreviewTap
from client.ui.seams import EngineOptions


def _media_factory(options: EngineOptions, on_device_error: Callable[[DeviceError], None] | None,
                   scene: str = "moving", background: Any = None) -> Any:
    from client.media.factory import MediaFactory

    return MediaFactory(
        background=background,  # blur or a plain colour, in the camera's reader thread
        camera=options.camera,
        microphone=options.microphone,
        speaker=options.speaker,
        fake_media=options.fake_media,
        on_device_error=on_device_error,  # a camera unplugged mid-call
        smooth_video=options.smooth_video,
        scene=scene,  # what the synthetic camera shows (benchmarks)
    )


class SharedMedia:
    """A MediaFactory seen by one engine: everything passes through except close(),
    and opening the speaker reports `speaker_notice` (the factory only keeps it)."""

    def __init__(self, media: Any, on_speaker_notice: Callable[[str], None] | None = None) -> None:
        self._media = media
        self._on_speaker_notice = on_speaker_notice

    def __getattr__(self, name: str) -> Any:
        return getattr(self._media, name)

    def open_speaker(self) -> Any:
        sink = self._media.open_speaker()
        notice = getattr(self._media, "speaker_notice", None)
        if notice and self._on_speaker_notice is not None:
            self._on_speaker_notice(notice)
        return sink

    async def close(self) -> None:
        """The runtime closes the real factory, once, when devices change or the app quits."""


class Runtime:
    """Owns the shared MediaFactory and the lobby preview; hands out engines."""

    def __init__(self, scene: str = "moving") -> None:
        self.scene = scene  # the synthetic camera's scene, with fake media (bench/power.py)
        self.video_cap: Any = None  # low-power mode's cap (client/media/power.py VideoCap), or None
        self.on_device_error: Callable[[DeviceError], None] | None = None
        self.on_speaker_notice: Callable[[str], None] | None = None
        # Who we are, our favourites and blocks (client/people.py), shared by every engine; the app
        # sets it beside the history file (None: each engine keeps its own in memory).
        self.people: People | None = None
        self.media: Any = None
        self._key: tuple[Any, ...] | None = None
        self._preview: asyncio.Task[None] | None = None
        self._preview_track: Any = None
        # Blur / plain colour (client/media/effects.py): one switch for the run, kept across device
        # changes; made on first use, so OpenCV loads only when the window asks for an effect.
        self.on_background_unavailable: Callable[[str], None] | None = None
        self.background: Any = None

    def set_background(self, value: str) -> None:
        """"none", "blur" or "colour": applies from the next camera frame, in the preview and in calls."""
        from client.media.backdrop import Backdrop
        from client.media.effects import BackgroundEffect

        if self.background is None:
            self.background = BackgroundEffect(on_unavailable=self._background_unavailable)
        backdrop = Backdrop.parse(value)
        self.background.set(backdrop)
        if backdrop is not Backdrop.NONE and self.background.unavailable is not None:
            self._background_unavailable(self.background.unavailable)  # asked again: said again

    def _background_unavailable(self, reason: str) -> None:
        if self.on_background_unavailable is not None:
            self.on_background_unavailable(reason)

    def media_for(self, options: EngineOptions) -> Any:
        key = (options.camera, options.microphone, options.speaker, options.fake_media)
        if self.media is None or key != self._key:
            old = self.media
            if self.background is None:
                self.set_background("none")
            self.media, self._key = _media_factory(options, self._device_failed, self.scene,
                                                   self.background), key
            if old is not None:
                with contextlib.suppress(RuntimeError):
                    asyncio.get_running_loop().create_task(old.close())
        self.media.set_smooth_video(options.smooth_video)  # the setting may have changed since
        self._apply_cap()
        return self.media

    def set_video_cap(self, cap: Any) -> None:
        """Low-power mode turned on (a VideoCap) or off (None): at once, also mid-call."""
        self.video_cap = cap
        self._apply_cap()

    def _apply_cap(self) -> None:
        if self.media is not None:
            cap = self.video_cap
            self.media.set_video_cap(None if cap is None else cap.max_fps, None if cap is None else cap.max_height)

    def set_smooth_video(self, on: bool) -> None:
        """"Always smooth video" changed in Settings: at once, also in a call going on."""
        if self.media is not None:
            self.media.set_smooth_video(on)

    def _device_failed(self, exc: DeviceError) -> None:
        if self.on_device_error is not None:
            self.on_device_error(exc)

    def _speaker_notice(self, text: str) -> None:
        if self.on_speaker_notice is not None:
            self.on_speaker_notice(text)

    def make_engine(self, options: EngineOptions, on_event: Callable[[Any], None]) -> Engine:
        media: Any = SharedMedia(self.media_for(options), self._speaker_notice)  # duck-typed MediaFactory
        return Engine(options, on_event, media=media, people=self.people)  # the options are an EngineConfig

    # --- lobby preview -----------------------------------------------------------
    async def start_preview(self, options: EngineOptions, on_frame: Callable[[Any], None],
                            on_event: Callable[[Any], None], max_fps: float = PREVIEW_FPS) -> None:
        await self.stop_preview()
        media = self.media_for(options)
        try:
            track = await media.open_camera()
        except DeviceError as exc:
            on_event(ev.DeviceErrorEvent(exc.device, exc.code, exc.message))
            return
        tap = PreviewTap(track, on_frame, max_fps)  # the call's preview throttle, here without a call
        self._preview_track = tap
        self._preview = asyncio.get_running_loop().create_task(self._pump(tap))

    @staticmethod
    async def _pump(tap: PreviewTap) -> None:
        with contextlib.suppress(MediaStreamError):
            while True:
                await tap.recv()  # read every frame so the relay never queues up

    async def stop_preview(self, release: bool = False) -> None:
        """release: also close the camera when nothing else uses it (the window cannot be seen)."""
        task, self._preview = self._preview, None
        track, self._preview_track = self._preview_track, None
        if track is not None:
            track.stop()
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if release and self.media is not None:
            await self.media.release_unused_camera()

    def previewing(self) -> bool:
        return self._preview is not None and not self._preview.done()

    async def close(self) -> None:
        await self.stop_preview()
        if self.media is not None:
            await self.media.close()
            self.media = None

