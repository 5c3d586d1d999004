"""MediaFactory: the ONLY place that decides which device to open.

- camera: None = system default, "fake" = synthetic pattern, "fake-person" = a synthetic person
  in a synthetic room (client/media/synthscene.py, for the background effects), else a device.
- microphone: None = default input, "fake" = synthetic tone, else an input's name.
- speaker: None = default output, else an output's name (an unknown one falls back to
  the default output; `speaker_notice` says so).
- fake_media=True: both synthetic, no device touched, speaker is a counting null sink.
- screen (`open_screen`, for sharing): a screen chosen in the picker, a screen's number, or
  "fake", the synthetic screen of text.

The camera is opened once and shared across partners: each `open_camera()`
is a new `MediaRelay` subscriber; `release_camera()` closes the device.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, cast

from aiortc.mediastreams import MediaStreamTrack

from client.media.audio import AudioSink, NullSpeaker
from client.media.camera import DEFAULT_OPEN_TIMEOUT, CameraSource, PyAVCamera, SharedCamera, SyntheticCamera
from client.media.devices import DeviceError
from client.media.effects import BackgroundEffect, with_background
from client.media.motion import MotionGate
from client.media.synthetic import SCENES, Scene, ToneAudioTrack

if TYPE_CHECKING:
    from client.media.audio import QtAudio
    from client.media.screen import ScreenSource

FAKE = "fake"
PERSON = "fake-person"


class MediaFactory:
    def __init__(self, *, camera: str | None = None, microphone: str | None = None,
                 speaker: str | None = None, fake_media: bool = False,
                 width: int = 640, height: int = 480, fps: int = 30,
                 camera_open_timeout: float = DEFAULT_OPEN_TIMEOUT,
                 on_device_error: Callable[[DeviceError], None] | None = None,
                 camera_source: Callable[[], CameraSource] | None = None,
                 smooth_video: bool = False, scene: str = "moving",
                 background: BackgroundEffect | None = None,
                 platform: str = sys.platform) -> None:
        """on_device_error: a device failing mid-call (camera unplugged), called on the loop.
        camera_source: tests' seam to put a stand-in device behind the real sharing code.
        smooth_video: "Always smooth video", every captured frame sent; else the frame rate
        follows motion (client/media/motion.py). scene: what the synthetic camera shows.
        background: the blur / plain colour switch, applied in the camera's reader thread."""
        if scene not in SCENES:
            raise ValueError(f"scene must be one of {', '.join(SCENES)}, not {scene!r}")
        shown = cast(Scene, scene)
        self.fake_camera = fake_media or camera in (FAKE, PERSON)
        self.fake_microphone = fake_media or microphone == FAKE
        self.fake_speaker = fake_media
        self._camera_name = None if self.fake_camera else camera
        self._microphone_name = None if self.fake_microphone else microphone
        self._speaker_name = speaker
        self.width, self.height, self.fps = width, height, fps
        self._platform = platform
        if camera_source is None:
            if camera == PERSON:
                def camera_source() -> CameraSource:
                    from client.media.synthscene import PersonCamera

                    return PersonCamera(width, height, fps)
            elif self.fake_camera:
                def camera_source() -> CameraSource:
                    return SyntheticCamera(width, height, fps, scene=shown)
            else:
                def camera_source() -> CameraSource:
                    return PyAVCamera(self._camera_name, width, height, fps, platform)
        if background is not None:
            camera_source = with_background(camera_source, background)
        self.motion = MotionGate(enabled=not smooth_video)
        self._camera = SharedCamera(camera_source, open_timeout=camera_open_timeout,
                                    on_error=self._camera_failed, gate=self.motion, platform=platform)
        self._on_device_error = on_device_error
        self._audio: QtAudio | None = None  # made on first real use: only then is Qt loaded

    def _camera_failed(self, err: DeviceError) -> None:
        if self._on_device_error is not None:
            self._on_device_error(err)

    @property
    def camera_opens(self) -> int:
        """How many times the camera device was opened (stays 1 across partners)."""
        return self._camera.opens

    def set_smooth_video(self, on: bool) -> None:
        """"Always smooth video": every frame sent (True), or the rate follows motion (False)."""
        self.motion.enabled = not on

    def set_video_cap(self, max_fps: float | None, max_height: int | None) -> None:
        """Low-power mode's cap on sent video (client/media/power.py); None, None: no cap."""
        self.motion.max_fps = max_fps
        self._camera.max_height = max_height

    @property
    def camera_frames(self) -> tuple[int, int]:
        """(captured, handed on) by the camera's reader thread since the factory was made."""
        return self._camera.frames_read, self._camera.frames_passed

    @property
    def camera_is_open(self) -> bool:
        return self._camera.is_open

    async def open_camera(self) -> MediaStreamTrack:
        """A NEW per-call subscriber of the one shared camera. Raises DeviceError."""
        return await self._camera.subscribe()

    async def release_camera(self) -> None:
        await self._camera.release()

    async def release_unused_camera(self) -> None:
        """Close the camera if no track of it is live (the window hidden in the lobby)."""
        if self._camera.subscribers == 0:
            await self._camera.release()

    async def open_screen(self, choice: ScreenSource | str) -> MediaStreamTrack:
        """A track of a screen to share (client/media/screen.py): the picker's ScreenSource, "fake"
        (the synthetic screen of text) or a screen's number. Raises ScreenError with the sentence."""
        from client.media.screen import open_screen

        return await open_screen(choice, self._platform)

    async def open_microphone(self) -> MediaStreamTrack:
        """A per-call microphone track (20 ms s16 mono 48 kHz). Raises DeviceError."""
        if self.fake_microphone:
            return ToneAudioTrack()
        return await self._qt_audio().open_microphone(self._microphone_name)

    def open_speaker(self) -> AudioSink:
        """Plays remote audio; with fake media (or no output device) a counting null sink."""
        if self.fake_speaker:
            sink: AudioSink = NullSpeaker()
        else:
            sink = self._qt_audio().open_speaker(self._speaker_name)
        return sink

    @property
    def speaker_notice(self) -> str | None:
        """A sentence for the person when the speaker is not the one chosen (or there is none)."""
        return None if self._audio is None else self._audio.speaker_notice

    def _qt_audio(self) -> QtAudio:
        from client.media.audio import QtAudio

        if self._audio is None:
            self._audio = QtAudio(self._platform)
        return self._audio

    async def close(self) -> None:
        await self._camera.release()
        if self._audio is not None:
            self._audio.close()
            self._audio = None
