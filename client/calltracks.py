"""What a call sends: opened once by the engine, sent over each of the call's peer connections.

A peer connection stops the tracks it sends when it closes, so each one sends its own
`MediaRelay` subscribers of these: they outlive a rebuilt connection and end only with
the call. The relay gives every subscriber every frame, so while a rebuilt connection
comes up beside the old one (client/call.py, make before break) both send the whole
picture and sound, rather than each every other frame. Video subscribers keep only the
newest frame (a connection that stalls never piles frames up); audio ones queue, so a
busy moment costs latency rather than a gap in the sound.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from aiortc.contrib.media import MediaRelay
from aiortc.mediastreams import MediaStreamTrack

from .media.audio import AudioSink
from .peer import Peer
from .tracks import GatedAudioTrack, SwitchableVideoTrack


@dataclass
class CallMedia:
    """What the engine opened for this call (it owns the devices, the call owns the tracks)."""

    audio: GatedAudioTrack
    video: MediaStreamTrack | None  # outgoing video; None = send none
    receive_video: bool  # a video-mode call: take the partner's video even if we send none
    speaker: AudioSink
    camera_on: bool  # `video` is a live camera, not black or none: what the partner is told


class CallTracks:
    def __init__(self, media: CallMedia, on_camera_ended: Callable[[], None]) -> None:
        self.media = media
        self._on_camera_ended = on_camera_ended
        self._video: SwitchableVideoTrack | None = None  # made when first sent
        self._relay = MediaRelay()

    def send_over(self, peer: Peer) -> None:
        media = self.media
        if self._video is None and media.video is not None:
            self._video = SwitchableVideoTrack(media.video, on_source_ended=self._on_camera_ended)
        video = None if self._video is None else self._relay.subscribe(self._video, buffered=False)
        peer.add_tracks(self._relay.subscribe(media.audio), video, media.receive_video)

    @property
    def sends_video(self) -> bool:
        """A video sender (camera or black) is there for `switch_video`."""
        return self._video is not None or self.media.video is not None

    def switch_video(self, track: MediaStreamTrack, *, camera_on: bool) -> None:
        media = self.media
        if self._video is not None:
            self._video.switch(track)
        else:  # the answer side before the offer: negotiation will send this one
            assert media.video is not None
            media.video.stop()
            media.video = track
        media.camera_on = camera_on

    def stop(self) -> None:
        self.media.audio.stop()
        if self._video is not None:
            self._video.stop()
        elif self.media.video is not None:
            self.media.video.stop()
