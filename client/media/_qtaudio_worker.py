"""The Qt side of client/media/audio.py: objects that live in the audio QThread.

Kept apart so audio.py imports no Qt at module level (unit tests and
`--fake-media` never load QtMultimedia).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

import av
from PySide6.QtCore import QObject, Qt, QThread, QTimer, Signal
from PySide6.QtMultimedia import QAudioDevice, QAudioFormat, QAudioSink, QAudioSource, QtAudio

from client.media.echocancel import EchoCanceller
from client.media.pcm import CHUNK_BYTES, FRAME_SAMPLES, SAMPLE_RATE, BoundedPcm, to_mono_s16

log = logging.getLogger(__name__)
FRAME_BYTES = FRAME_SAMPLES * 2


def audio_format() -> QAudioFormat:
    fmt = QAudioFormat()
    fmt.setSampleRate(SAMPLE_RATE)
    fmt.setChannelCount(1)
    fmt.setSampleFormat(QAudioFormat.SampleFormat.Int16)
    return fmt


class _Worker(QObject):
    invoke = Signal(object)

    def __init__(self, canceller: EchoCanceller) -> None:
        super().__init__()
        self._canceller = canceller
        self.invoke.connect(self._run)
        self._sources: list[QAudioSource] = []
        self._sinks: list[tuple[QAudioSink, QTimer]] = []
        self._speaker_ms = 0.0  # audio queued in the sink: the echo path's delay

    def _run(self, fn: Callable[[_Worker], None]) -> None:
        try:
            fn(self)
        except Exception:  # a Qt slot must not raise
            log.exception("audio thread task failed")

    def start_microphone(self, device: QAudioDevice, deliver: Callable[[bytes | None], None],
                         started: Callable[[str | None], None]) -> None:
        source = QAudioSource(device, audio_format(), self)
        source.setBufferSize(CHUNK_BYTES * 4)
        io = source.start()
        if io is None or source.error() != QtAudio.Error.NoError:
            started(source.error().name)
            return
        self._sources.append(source)
        pending = bytearray()
        out = bytearray()

        def on_ready() -> None:
            pending.extend(bytes(io.readAll().data()))
            while len(pending) >= CHUNK_BYTES:
                chunk = bytes(pending[:CHUNK_BYTES])
                del pending[:CHUNK_BYTES]
                out.extend(self._canceller.near_end(chunk, int(self._speaker_ms) + 10))
                while len(out) >= FRAME_BYTES:
                    deliver(bytes(out[:FRAME_BYTES]))
                    del out[:FRAME_BYTES]

        def on_state(_state: object) -> None:
            err = source.error()
            if err not in (QtAudio.Error.NoError, QtAudio.Error.UnderrunError):
                log.warning("microphone stopped: %s", err.name)
                deliver(None)

        io.readyRead.connect(on_ready)
        source.stateChanged.connect(on_state)
        started(None)

    def start_speaker(self, device: QAudioDevice, buffer: BoundedPcm) -> None:
        sink = QAudioSink(device, audio_format(), self)
        sink.setBufferSize(CHUNK_BYTES * 8)
        io = sink.start()
        if io is None:
            log.warning("speaker could not start: %s", sink.error().name)
            return
        timer = QTimer(self)
        timer.setTimerType(Qt.TimerType.PreciseTimer)
        timer.setInterval(10)

        def feed() -> None:
            free = sink.bytesFree()
            n = min(free, len(buffer)) // CHUNK_BYTES * CHUNK_BYTES
            data = buffer.pop(n) if n else b""
            for i in range(0, len(data) - CHUNK_BYTES + 1, CHUNK_BYTES):
                chunk = data[i : i + CHUNK_BYTES]
                self._canceller.far_end(chunk)  # exactly what the speaker gets, in order
                io.write(chunk)
            queued = sink.bufferSize() - sink.bytesFree()
            self._speaker_ms = queued / (SAMPLE_RATE * 2 / 1000)

        timer.timeout.connect(feed)
        timer.start()
        self._sinks.append((sink, timer))

    def stop_all(self) -> None:
        for sink, timer in self._sinks:
            timer.stop()
            sink.stop()
        for source in self._sources:
            source.stop()
        self._sinks.clear()
        self._sources.clear()


class AudioThread(QThread):
    def __init__(self, canceller: EchoCanceller) -> None:
        super().__init__()
        self._canceller = canceller
        self.ready = threading.Event()
        self.worker: _Worker | None = None

    def run(self) -> None:
        # Created here so the worker (and every Qt audio object it makes) lives in this thread.
        self.worker = _Worker(self._canceller)
        self.ready.set()
        self.exec()
        self.worker.stop_all()
        self.worker = None

    def call(self, fn: Callable[[_Worker], None]) -> None:
        """Run fn(worker) in the audio thread (queued through a signal)."""
        assert self.worker is not None
        self.worker.invoke.emit(fn)

    def shutdown(self) -> None:
        self.quit()
        self.wait(5000)


class QtSpeaker:
    """`play(frame)` from the asyncio side; the audio thread drains the bounded buffer."""

    def __init__(self, buffer_ms: int) -> None:
        self.buffer = BoundedPcm(SAMPLE_RATE * 2 * buffer_ms // 1000)
        self._resampler: Any = None
        self.frames = 0

    def play(self, frame: av.AudioFrame) -> None:
        pcm, self._resampler = to_mono_s16(frame, self._resampler)
        self.frames += 1
        self.buffer.push(pcm)

    def close(self) -> None:
        pass  # the sink stops with the audio thread
