"""The engine's hold on the devices, across its calls.

It opens the camera before a search (so a broken one means an audio search,
not a dead call) and keeps it for the next call; gives each call its media
(that camera, the microphone, the one speaker every call plays into); turns the
camera off and on inside a call; and remembers which device failed, so it is
not tried again until the person says Try again.

A device that fails is told once, as a DeviceErrorEvent. What a lost camera
means for the search (going on by voice) is the engine's to decide:
`fall_back_to_audio` is its answer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from . import events as ev
from .call import Call, CallMedia
from .media.devices import DeviceError
from .tracks import BlankVideoTrack, GatedAudioTrack, PreviewTap

if TYPE_CHECKING:
    from aiortc.mediastreams import MediaStreamTrack

    from .media.audio import AudioSink
    from .media.factory import MediaFactory


class CallDevices:
    def __init__(
        self,
        media: MediaFactory,
        emit: Callable[[ev.EngineEvent], None],
        current_call: Callable[[], Call | None],
        fall_back_to_audio: Callable[[], Awaitable[None]],
    ) -> None:
        self.media = media
        self._emit = emit
        self._current_call = current_call
        self._fall_back_to_audio = fall_back_to_audio
        self._mic_muted = False
        self.on_muted_frame: Callable[[Any], None] | None = None  # what the muted microphone hears
        self._mic_failed = False  # told once; retry() tries again
        self._camera_enabled = True
        self._camera_failed = False
        self._spare_camera: MediaStreamTrack | None = None  # opened by the probe, used by the next call
        self.speaker: AudioSink | None = None

    @property
    def camera_usable(self) -> bool:
        """Worth opening for a video search: switched on and not known broken."""
        return self._camera_enabled and not self._camera_failed

    async def probe_camera(self) -> None:
        """Open the camera before queueing, so a broken one means an audio search, not a dead call."""
        if self._spare_camera is None:
            self._spare_camera = await self._open_camera()

    async def open_for_call(self, video_call: bool) -> CallMedia:
        video: MediaStreamTrack | None = None
        if video_call and not self._camera_enabled:
            video = BlankVideoTrack()
        elif video_call and not self._camera_failed:
            track, self._spare_camera = self._spare_camera, None
            if track is None:
                track = await self._open_camera()
            if track is not None:
                video = self._preview(track)
        mic: MediaStreamTrack | None = None
        if not self._mic_failed:
            try:
                mic = await self.media.open_microphone()
            except DeviceError as exc:
                # Join muted and say so once; the partner can still be heard and chat works.
                self._mic_failed = True
                self._emit(ev.DeviceErrorEvent(exc.device, exc.code, exc.message))
        if self.speaker is None:
            self.speaker = self.media.open_speaker()
        return CallMedia(
            audio=GatedAudioTrack(mic, muted=self._mic_muted, on_muted_frame=self.on_muted_frame),
            video=video,
            receive_video=video_call,
            speaker=self.speaker,
            camera_on=video is not None and self._camera_enabled,
        )

    def set_microphone_muted(self, muted: bool) -> None:
        self._mic_muted = muted
        call = self._current_call()
        if call is not None and call.media is not None:
            call.media.audio.muted = muted

    async def set_camera_enabled(self, enabled: bool) -> None:
        if enabled == self._camera_enabled:
            return
        self._camera_enabled = enabled
        call = self._current_call()
        if not enabled:
            if call is not None:
                call.set_video_track(BlankVideoTrack(), camera_on=False)
            self._stop_spare()
            await self.media.release_camera()
            return
        track = await self._open_camera()
        if track is not None and call is not None and not call.closed:
            call.set_video_track(self._preview(track), camera_on=True)
        elif track is not None:
            self._spare_camera = track

    async def retry(self) -> bool:
        """Try the failed devices again; True when a camera that had failed is back."""
        self._mic_failed = False
        was_failed, self._camera_failed = self._camera_failed, False
        if not self._camera_enabled:
            return False
        track = await self._open_camera()
        if track is None:
            return False
        call = self._current_call()  # now: the camera took a while, and a call may have begun or ended
        if call is not None and call.sends_video and not call.camera_on:  # it failed during this call
            call.set_video_track(self._preview(track), camera_on=True)
        else:
            self._spare_camera = track
        return was_failed

    def failed(self, exc: DeviceError) -> None:
        """A device failed on its own (a camera unplugged mid-call): say so, and do not reopen it."""
        self._emit(ev.DeviceErrorEvent(exc.device, exc.code, exc.message))
        if exc.device == "camera":
            self._camera_failed = True

    def close(self) -> None:
        """The engine is closing: the camera opened ahead is not needed (the factory closes the rest)."""
        self._stop_spare()

    async def _open_camera(self) -> MediaStreamTrack | None:
        try:
            return await self.media.open_camera()
        except DeviceError as exc:
            self._camera_failed = True
            self._emit(ev.DeviceErrorEvent(exc.device, exc.code, exc.message))
            await self._fall_back_to_audio()
            return None

    def _stop_spare(self) -> None:
        if self._spare_camera is not None:
            self._spare_camera.stop()
            self._spare_camera = None

    def _preview(self, track: MediaStreamTrack) -> PreviewTap:
        return PreviewTap(track, lambda frame: self._emit(ev.LocalVideoFrame(frame)))
