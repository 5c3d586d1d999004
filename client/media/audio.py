"""Microphone and speaker through QtMultimedia, with WebRTC's echo canceller between them.

Threading choice (documented in docs and the report): every Qt audio object
lives in ONE dedicated `QThread` running its own Qt event loop. That works the
same under qasync in the window and under a plain asyncio loop headless, and
keeps 10 ms audio callbacks off the asyncio loop. Qt needs a
`QCoreApplication` to exist; headless, we create one in the calling (main)
thread if there is none and never run its loop: the audio thread's own loop
delivers `readyRead` and the speaker's timer.

- Microphone: `QAudioSource` 48 kHz mono Int16 -> 10 ms chunks ->
  `AudioProcessingModule.process_stream` (echo cancellation, noise
  suppression) -> 20 ms `av.AudioFrame`s for aiortc.
- Speaker: `QAudioSink` in push mode; remote frames wait in a bounded buffer
  (oldest dropped on overflow, it never grows); each 10 ms chunk written to
  the device is first given to `process_reverse_stream`, so the canceller
  sees exactly what the speaker plays.

The Qt objects of the audio thread are in client/media/_qtaudio_worker.py; what
both sides share is the PCM format (client/media/pcm.py) and the echo canceller
(client/media/echocancel.py).
"""

from __future__ import annotations

import asyncio
import fractions
import logging
import sys
from typing import Any, Protocol

import av
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from client import messages
from client.media.devices import MICROPHONE, DeviceError, classify_microphone_error
from client.media.echocancel import EchoCanceller
from client.media.pcm import FRAME_SAMPLES, SAMPLE_RATE

log = logging.getLogger(__name__)

SPEAKER_BUFFER_MS = 200  # beyond this, the oldest remote audio is dropped
START_TIMEOUT = 5.0


class AudioSink(Protocol):
    """Where the partner's audio goes: a speaker (QtSpeaker), a NullSpeaker, a test's recorder."""

    def play(self, frame: av.AudioFrame) -> None: ...


class NullSpeaker:
    """Plays nothing, counts frames: fake media, or no output device."""

    def __init__(self) -> None:
        self.frames = 0
        self.samples = 0

    def play(self, frame: av.AudioFrame) -> None:
        self.frames += 1
        self.samples += frame.samples

    def close(self) -> None:
        pass


class MicrophoneTrack(MediaStreamTrack):
    """20 ms s16 mono frames from the Qt audio thread (echo already removed)."""

    kind = "audio"

    def __init__(self) -> None:
        super().__init__()
        self._queue: asyncio.Queue[bytes | None] = asyncio.Queue(maxsize=25)  # 0.5 s
        self._pts = 0

    def push(self, pcm: bytes | None) -> None:
        if self._queue.full():
            self._queue.get_nowait()  # a stalled consumer gets recent audio, not a backlog
        self._queue.put_nowait(pcm)

    async def recv(self) -> av.AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        pcm = await self._queue.get()
        if pcm is None:
            self.stop()
            raise MediaStreamError
        frame = av.AudioFrame(format="s16", layout="mono", samples=FRAME_SAMPLES)
        frame.planes[0].update(pcm)
        frame.sample_rate = SAMPLE_RATE
        frame.pts = self._pts
        frame.time_base = fractions.Fraction(1, SAMPLE_RATE)
        self._pts += FRAME_SAMPLES
        return frame


def ensure_qt_app() -> Any:
    """The running Qt application, or a QCoreApplication made now (headless)."""
    from PySide6.QtCore import QCoreApplication

    app = QCoreApplication.instance()
    if app is None:
        app = QCoreApplication([sys.argv[0] if sys.argv else "studymatch"])
    return app


def choose_output(outputs: list[Any], default: Any, name: str | None) -> tuple[Any, str | None]:
    """(the QAudioDevice to play to, a sentence when it is not the one asked for).

    `name` is what the lobby stores (the name the OS shows) or the device id; None is
    the system default. An unplugged or renamed speaker falls back to the default output
    (or the first one) rather than silence, and says so. Pure: tests hand in stand-ins.
    """
    if not outputs:
        return None, messages.NO_SPEAKER
    fallback = default if default is not None and not default.isNull() else outputs[0]
    if name is None:
        return fallback, None
    for dev in outputs:
        if name in (dev.description(), bytes(dev.id().data()).decode(errors="replace")):
            return dev, None
    return fallback, messages.SPEAKER_NOT_FOUND.format(name=name, used=fallback.description())


def find_input(name: str | None, platform: str = sys.platform) -> Any:
    """The QAudioDevice to record from, or raise DeviceError(not_found / permission_denied)."""
    from PySide6.QtCore import QMicrophonePermission, Qt
    from PySide6.QtMultimedia import QMediaDevices

    app = ensure_qt_app()
    if app.checkPermission(QMicrophonePermission()) == Qt.PermissionStatus.Denied:
        raise classify_microphone_error(PermissionError("microphone permission denied"), [], platform)
    inputs = QMediaDevices.audioInputs()
    if not inputs:
        raise classify_microphone_error(None, [], platform, have_inputs=False)
    if name is None:
        default = QMediaDevices.defaultAudioInput()
        return default if not default.isNull() else inputs[0]
    for dev in inputs:
        if name in (dev.description(), bytes(dev.id().data()).decode(errors="replace")):
            return dev
    raise classify_microphone_error(None, [f"no audio input named {name!r}"], platform, have_inputs=False)


class QtAudio:
    """The audio thread: one microphone and one speaker sharing one echo canceller.

    The microphone is opened once and fanned out to per-call tracks (a call's
    track ends with the call; the device stays open for the next partner).
    """

    def __init__(self, platform: str = sys.platform) -> None:
        self._platform = platform
        self._thread: Any = None
        # Made with the audio thread, i.e. only once a real device was found: a machine
        # without sound devices (or --fake-media) never starts livekit's native runtime.
        self.canceller: EchoCanceller | None = None
        self._mic_tracks: list[MicrophoneTrack] = []
        self._mic_running = False
        self._speaker: Any = None
        self.speaker_notice: str | None = None  # why the speaker is not the one chosen, if so

    def _ensure_thread(self) -> None:
        if self._thread is not None:
            return
        ensure_qt_app()
        from client.media._qtaudio_worker import AudioThread

        if self.canceller is None:
            self.canceller = EchoCanceller()
        thread = AudioThread(self.canceller)
        thread.start()
        if not thread.ready.wait(START_TIMEOUT):
            raise DeviceError(MICROPHONE, "unknown", detail="Qt audio thread did not start")
        self._thread = thread

    def _fan_out(self, pcm: bytes | None) -> None:
        """On the asyncio loop: one 20 ms chunk to every live call track."""
        self._mic_tracks = [t for t in self._mic_tracks if t.readyState == "live"]
        for track in self._mic_tracks:
            track.push(pcm)
        if pcm is None:  # the device went away: the next call opens it again
            self._mic_running = False
            self._mic_tracks.clear()

    async def open_microphone(self, name: str | None) -> MicrophoneTrack:
        device = find_input(name, self._platform)
        self._ensure_thread()
        if not self._mic_running:
            await self._start_microphone(device)
        track = MicrophoneTrack()
        self._mic_tracks.append(track)
        return track

    async def _start_microphone(self, device: Any) -> None:
        loop = asyncio.get_running_loop()
        result: asyncio.Future[str | None] = loop.create_future()

        def deliver(pcm: bytes | None) -> None:  # audio thread
            try:
                loop.call_soon_threadsafe(self._fan_out, pcm)
            except RuntimeError:  # loop closed at exit
                pass

        def started(error: str | None) -> None:  # audio thread
            def settle() -> None:
                if not result.done():
                    result.set_result(error)

            try:
                loop.call_soon_threadsafe(settle)
            except RuntimeError:
                pass

        self._thread.call(lambda w: w.start_microphone(device, deliver, started))
        error = await asyncio.wait_for(result, START_TIMEOUT)
        if error is not None:
            raise classify_microphone_error(None, [], self._platform, qt_error=error)
        self._mic_running = True

    def open_speaker(self, name: str | None = None) -> Any:
        """A sink with `play(frame)` on the output named `name` (None: the default);
        a NullSpeaker when there is no output device. `speaker_notice` says why
        the sink is not the one asked for."""
        from PySide6.QtMultimedia import QMediaDevices

        if self._speaker is not None:
            return self._speaker
        ensure_qt_app()
        device, self.speaker_notice = choose_output(
            QMediaDevices.audioOutputs(), QMediaDevices.defaultAudioOutput(), name)
        if self.speaker_notice is not None:
            log.warning("speaker %r: %s", name, self.speaker_notice)
        if device is None:  # remote audio is counted, not played
            self._speaker = NullSpeaker()
            return self._speaker
        self._ensure_thread()
        from client.media._qtaudio_worker import QtSpeaker

        speaker = QtSpeaker(SPEAKER_BUFFER_MS)
        self._thread.call(lambda w: w.start_speaker(device, speaker.buffer))
        self._speaker = speaker
        return speaker

    def close(self) -> None:
        for track in self._mic_tracks:
            track.push(None)
        self._mic_tracks.clear()
        self._mic_running = False
        self._speaker = None
        stopped = True
        if self._thread is not None:
            self._thread.shutdown()  # stops the source and the sink in their own thread
            stopped = self._thread.isFinished()
            self._thread = None
        if self.canceller is not None and stopped:  # after the thread: nothing feeds it any more
            self.canceller.close()
        self.canceller = None
