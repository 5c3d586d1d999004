"""The pattern survives a REAL VP8 encode/decode at low bitrate with time and sequence intact."""

from __future__ import annotations

import fractions

import av
import pytest
from aiortc.codecs.vpx import MIN_BITRATE, Vp8Decoder, Vp8Encoder, vp8_depayload
from aiortc.jitterbuffer import JitterFrame

from client.media.synthetic import PatternGenerator, read_pattern

T0 = 1_760_000_000.0
FRAMES = 90


def test_through_aiortcs_vp8_encoder_at_its_minimum_bitrate() -> None:
    gen = PatternGenerator()
    encoder, decoder = Vp8Encoder(), Vp8Decoder()
    encoder.target_bitrate = MIN_BITRATE  # what a congested call falls back to (250 kbps)
    read = 0
    sent_bytes = 0
    for i in range(FRAMES):
        frame = gen.next_frame(T0 + i / 30)
        frame.pts, frame.time_base = i * 3000, fractions.Fraction(1, 90000)
        payloads, timestamp = encoder.encode(frame, force_keyframe=(i == 0))
        data = b"".join(vp8_depayload(p) for p in payloads)
        sent_bytes += len(data)
        for decoded in decoder.decode(JitterFrame(data, timestamp)):
            assert isinstance(decoded, av.VideoFrame)
            info = read_pattern(decoded)
            assert info is not None, f"frame {i} lost its pattern"
            assert info.sequence == i
            assert info.capture_time == pytest.approx(T0 + i / 30, abs=0.0005)  # ms precision
            read += 1
    assert read == FRAMES
    assert sent_bytes * 8 / (FRAMES / 30) < 400_000  # it really was a low bitrate


def test_through_libvpx_at_its_coarsest_quantizer() -> None:
    # qmin = qmax = 63: the worst picture VP8 can make, far below any real call's quality.
    encoder = av.CodecContext.create("libvpx", "w")
    encoder.width, encoder.height, encoder.pix_fmt = 640, 480, "yuv420p"
    encoder.time_base, encoder.framerate = fractions.Fraction(1, 30), fractions.Fraction(30)
    encoder.bit_rate = 100_000
    encoder.qmin = encoder.qmax = 63
    encoder.options = {"deadline": "realtime", "cpu-used": "-6", "lag-in-frames": "0"}
    decoder = av.CodecContext.create("libvpx", "r")
    gen = PatternGenerator()
    seen = []
    for i in range(FRAMES):
        frame = gen.next_frame(T0 + i / 30)
        frame.pts = i
        for packet in encoder.encode(frame):
            for decoded in decoder.decode(packet):
                info = read_pattern(decoded)
                assert info is not None
                assert info.capture_time == pytest.approx(T0 + info.sequence / 30, abs=0.0005)
                seen.append(info.sequence)
    assert seen == list(range(len(seen))) and len(seen) >= FRAMES - 1


def test_a_decoded_blank_frame_gives_none() -> None:
    encoder, decoder = Vp8Encoder(), Vp8Decoder()
    blank = av.VideoFrame(640, 480, "yuv420p")
    for plane in blank.planes:
        plane.update(bytes(plane.buffer_size))
    blank.pts, blank.time_base = 0, fractions.Fraction(1, 90000)
    payloads, timestamp = encoder.encode(blank, force_keyframe=True)
    decoded = decoder.decode(JitterFrame(b"".join(vp8_depayload(p) for p in payloads), timestamp))
    assert decoded and all(isinstance(f, av.VideoFrame) and read_pattern(f) is None for f in decoded)
