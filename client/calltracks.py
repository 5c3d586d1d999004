"""What a call sends: opened once by the engine, sent over each of the call's peer connections.

A peer connection stops the tracks it sends when it closes, so each one sends its own
`MediaRelay` subscribers of these: they outlive a rebuilt connection and end only with
the call. The relay gives every subscriber every frame, so while a rebuilt connection
comes up beside the old one (client/call.py, make before break) both send the whole
picture and sound, rather than each every other frame. Video subscribers keep only the
newest frame (a connection that stalls never piles frames up); audio ones queue, so a
busy moment costs latency rather than a gap in the sound.

What the video senders send is switched inside the call's one `SwitchableVideoTrack`
(client/tracks.py): camera, black, or a shared screen. That is the "same sender, no
renegotiation" of `RTCRtpSender.replaceTrack`, but kept here rather than in a sender: a
rebuilt connection has new senders, and a track replaced on the old one would be lost with
it (the new connection would send the camera again while the person still shares). The
switchable track outlives them all, so every connection, old or rebuilt, sends what the
person chose. While the screen is shared, the camera's track (or the black one) waits
aside unread, and comes back when sharing stops.
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
    camera_on: bool  # the camera's track is a live camera, not black or none (shared screen or not)


class CallTracks:
    def __init__(self, media: CallMedia, on_camera_ended: Callable[[], None],
                 on_screen_ended: Callable[[MediaStreamTrack], None] = lambda screen: None) -> None:  # fmt: skip
        self.media = media
        self._on_camera_ended = on_camera_ended
        self._on_screen_ended = on_screen_ended  # the shared screen's capture failed
        self._video: SwitchableVideoTrack | None = None  # made when first sent or switched
        self._relay = MediaRelay()
        self._aside: MediaStreamTrack | None = None  # the camera (or black) while the screen is sent

    def _switchable(self) -> SwitchableVideoTrack | None:
        if self._video is None and self.media.video is not None:
            self._video = SwitchableVideoTrack(self.media.video, on_source_ended=self._source_ended)
        return self._video

    def send_over(self, peer: Peer) -> None:
        video = self._switchable()
        sent = None if video is None else self._relay.subscribe(video, buffered=False)
        peer.add_tracks(self._relay.subscribe(self.media.audio), sent, self.media.receive_video)

    @property
    def sends_video(self) -> bool:
        """A video sender (camera or black) is there for `switch_video` and `share`."""
        return self._video is not None or self.media.video is not None

    @property
    def sharing(self) -> bool:
        """The screen is sent in place of the camera."""
        return self._aside is not None

    def switch_video(self, track: MediaStreamTrack, *, camera_on: bool) -> None:
        """The camera turned on or off (or failed): sent now, or after sharing when the screen is."""
        if self._aside is not None:
            self._aside.stop()
            self._aside = track
        else:
            video = self._switchable()
            assert video is not None, "a call that sends no video"
            video.switch(track)
        self.media.camera_on = camera_on

    def share(self, screen: MediaStreamTrack) -> None:
        """Send `screen` in place of the camera; the camera's track waits aside, unread."""
        video = self._switchable()
        assert video is not None, "a call that sends no video"
        if self._aside is None:
            self._aside = video.source
            video.switch(screen, stop_old=False)
        else:  # another screen: the one shared before ends
            video.switch(screen)

    def unshare(self) -> None:
        """The camera (or black) again, as it is now."""
        aside, self._aside = self._aside, None
        if aside is not None and self._video is not None:
            self._video.switch(aside)

    def _source_ended(self) -> None:
        if self._aside is not None and self._video is not None:
            self._on_screen_ended(self._video.source)
        else:
            self._on_camera_ended()

    def stop(self) -> None:
        self.media.audio.stop()
        if self._aside is not None:
            self._aside.stop()
        if self._video is not None:
            self._video.stop()
        elif self.media.video is not None:
            self.media.video.stop()
