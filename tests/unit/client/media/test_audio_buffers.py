"""Pure parts of the audio path (client/media/pcm.py, client/media/audio.py): the speaker's
bounded buffer, framing, resampling."""

from __future__ import annotations

import asyncio

import av
import numpy as np
import pytest
from aiortc.mediastreams import MediaStreamError

from client.media.audio import MicrophoneTrack, NullSpeaker
from client.media.pcm import CHUNK_BYTES, FRAME_SAMPLES, BoundedPcm, to_mono_s16
from client.media.synthetic import dominant_frequency, tone_frame


def test_bounded_buffer_drops_the_oldest_and_never_grows() -> None:
    buf = BoundedPcm(max_bytes=10)
    buf.push(b"abcdef")
    buf.push(b"ghijkl")  # 12 bytes pushed into 10: "ab" is dropped
    assert len(buf) == 10 and buf.dropped_bytes == 2
    assert buf.pop(4) == b"cdef"
    buf.push(b"0123456789ABCDEF")  # larger than the cap on its own: only its tail stays
    assert len(buf) == 10
    assert buf.pop(100) == b"6789ABCDEF"
    assert len(buf) == 0 and buf.pop(5) == b""


def test_bounded_buffer_pop_splits_chunks() -> None:
    buf = BoundedPcm(max_bytes=100)
    for part in (b"aaa", b"bbb", b"ccc"):
        buf.push(part)
    assert buf.pop(4) == b"aaab"
    assert buf.pop(4) == b"bbcc"
    assert buf.pop(4) == b"c"


def test_remote_stereo_audio_becomes_mono_s16_for_the_speaker() -> None:
    # aiortc's Opus decoder hands over s16 stereo 48 kHz, 20 ms frames.
    mono = tone_frame(440.0, 48000, 0, 960).to_ndarray()[0]
    stereo = av.AudioFrame.from_ndarray(np.repeat(mono, 2).reshape(1, -1), format="s16", layout="stereo")
    stereo.sample_rate = 48000
    stereo.pts = 0
    pcm, resampler = to_mono_s16(stereo, None)
    pcm2, again = to_mono_s16(stereo, resampler)
    assert again is resampler
    total = len(pcm) + len(pcm2)
    assert total % 2 == 0 and abs(total - 2 * 960 * 2) <= 2 * 64  # resampler may hold a few samples
    samples = np.frombuffer(pcm + pcm2, np.int16)
    back = av.AudioFrame.from_ndarray(samples[:960].reshape(1, -1), format="s16", layout="mono")
    back.sample_rate = 48000
    assert dominant_frequency(back) == pytest.approx(440, abs=5)


def test_null_speaker_counts() -> None:
    speaker = NullSpeaker()
    for i in range(3):
        speaker.play(tone_frame(440.0, 48000, i * 960, 960))
    assert (speaker.frames, speaker.samples) == (3, 2880)


async def test_microphone_track_frames_and_end() -> None:
    track = MicrophoneTrack()
    chunk = np.arange(FRAME_SAMPLES, dtype=np.int16).tobytes()
    assert len(chunk) == 2 * CHUNK_BYTES
    track.push(chunk)
    track.push(chunk)
    first, second = await track.recv(), await track.recv()
    assert (first.samples, first.sample_rate, first.format.name, first.layout.name) == (960, 48000, "s16", "mono")
    assert (first.pts, second.pts) == (0, 960)
    assert np.array_equal(first.to_ndarray()[0], np.arange(FRAME_SAMPLES, dtype=np.int16))
    track.push(None)  # the device went away
    with pytest.raises(MediaStreamError):
        await asyncio.wait_for(track.recv(), 1)
    assert track.readyState == "ended"


async def test_a_stalled_call_gets_recent_microphone_audio_not_a_backlog() -> None:
    track = MicrophoneTrack()
    for i in range(40):  # 0.8 s while nobody reads; the queue holds 0.5 s
        track.push(np.full(FRAME_SAMPLES, i, np.int16).tobytes())
    first = await track.recv()
    assert first.to_ndarray()[0][0] == 40 - 25
