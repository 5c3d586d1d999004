"""Synthetic media: a moving test pattern that carries its capture time, and a tone.

Used by tests, demos, benchmarks and `--fake-media`. The pattern's bottom
band holds big black/white cells (a fixed marker, the capture time in ms, a
sequence number and a CRC) so a receiver can read back when and which frame
was captured after a lossy VP8 round trip, and measure latency.

Frames are generated straight in yuv420p with numpy (no RGB conversion) so
the generator stays cheap next to the encoder.
"""

from __future__ import annotations

import asyncio
import binascii
import fractions
import math
import time
from dataclasses import dataclass
from typing import Literal

import av
import numpy as np
from aiortc.mediastreams import AudioStreamTrack, MediaStreamError, VideoStreamTrack

VIDEO_CLOCK_RATE = 90000
VIDEO_TIME_BASE = fractions.Fraction(1, VIDEO_CLOCK_RATE)
AUDIO_PTIME = 0.020

# --- the code band ------------------------------------------------------------
# 6 rows x 20 columns of cells; at 640x480 each cell is 32x16 pixels, aligned
# with VP8's 16x16 macroblocks so a cell never shares a block with the scene.
BAND_ROWS = 6
BAND_COLS = 20
BAND_CELLS = BAND_ROWS * BAND_COLS
_TIME_BITS = 44  # milliseconds since the epoch: fits until the year 2527
_SEQ_BITS = 32
_CRC_BITS = 16
_HEAD_MARKER = (1, 0, 1, 1, 0, 0, 1, 0, 1, 1, 1, 0, 0, 0, 1, 0)
_TAIL_MARKER = (0, 1, 1, 0, 1, 0, 0, 1, 1, 1, 0, 0)
assert len(_HEAD_MARKER) + _TIME_BITS + _SEQ_BITS + _CRC_BITS + len(_TAIL_MARKER) == BAND_CELLS
_MARKER_INDEX = np.array(
    list(range(len(_HEAD_MARKER))) + list(range(BAND_CELLS - len(_TAIL_MARKER), BAND_CELLS))
)
_MARKER_BITS = np.array(_HEAD_MARKER + _TAIL_MARKER, dtype=bool)
_BLACK, _WHITE = 16, 235  # video-range luma
_MIN_CONTRAST = 60.0  # a blank or ordinary frame has no such black/white marker


@dataclass(frozen=True)
class PatternInfo:
    capture_time: float  # time.time() when the frame was generated, ms precision
    sequence: int


def _band_height(height: int) -> int:
    # 1/5 of the frame, rounded to a multiple of the rows, so 480 -> 96 (16 per row).
    return max(BAND_ROWS * 2, (height // 5) // BAND_ROWS * BAND_ROWS)


def _to_bits(value: int, n: int) -> list[int]:
    return [(value >> (n - 1 - i)) & 1 for i in range(n)]


def _from_bits(bits: np.ndarray) -> int:
    value = 0
    for b in bits:
        value = (value << 1) | int(b)
    return value


def _crc(payload_bits: list[int] | np.ndarray) -> int:
    value = _from_bits(np.asarray(payload_bits))
    return binascii.crc_hqx(value.to_bytes(10, "big"), 0xFFFF)


def encode_bits(capture_ms: int, sequence: int) -> np.ndarray:
    """The 120 cell values (True = white) for one frame."""
    payload = _to_bits(capture_ms, _TIME_BITS) + _to_bits(sequence & 0xFFFFFFFF, _SEQ_BITS)
    bits = list(_HEAD_MARKER) + payload + _to_bits(_crc(payload), _CRC_BITS) + list(_TAIL_MARKER)
    return np.array(bits, dtype=bool)


def decode_bits(bits: np.ndarray) -> PatternInfo | None:
    if not np.array_equal(bits[_MARKER_INDEX], _MARKER_BITS):
        return None
    start = len(_HEAD_MARKER)
    payload = bits[start : start + _TIME_BITS + _SEQ_BITS]
    crc = _from_bits(bits[start + _TIME_BITS + _SEQ_BITS : start + _TIME_BITS + _SEQ_BITS + _CRC_BITS])
    if crc != _crc(payload):
        return None
    capture_ms = _from_bits(payload[:_TIME_BITS])
    sequence = _from_bits(payload[_TIME_BITS:])
    return PatternInfo(capture_time=capture_ms / 1000.0, sequence=sequence)


def _cell_bounds(length: int, cells: int) -> list[tuple[int, int]]:
    """Inner half of each cell: VP8 blurs edges, the centre survives."""
    out = []
    for i in range(cells):
        a, b = i * length // cells, (i + 1) * length // cells
        q = max(0, (b - a) // 4)
        out.append((a + q, max(a + q + 1, b - q)))
    return out


def _luma(frame: av.VideoFrame) -> np.ndarray:
    """The Y plane without a conversion when the frame is already planar YUV (decoded VP8 is)."""
    if frame.format.name in ("yuv420p", "yuvj420p", "yuv422p", "yuv444p", "nv12"):
        plane = frame.planes[0]
        rows = np.frombuffer(memoryview(plane), np.uint8).reshape(frame.height, plane.line_size)
        return rows[:, : frame.width]
    return frame.to_ndarray(format="gray")


def _inner_edges(length: int, cells: int) -> np.ndarray:
    return np.array([edge for bounds in _cell_bounds(length, cells) for edge in bounds])


def read_pattern(frame: av.VideoFrame) -> PatternInfo | None:
    """Capture time and sequence from a (possibly decoded) pattern frame, or None."""
    if frame.width < BAND_COLS * 2 or frame.height < BAND_ROWS * 4:
        return None
    gray = _luma(frame)
    height, width = gray.shape
    band = gray[height - _band_height(height) :]
    rows = _cell_bounds(band.shape[0], BAND_ROWS)
    # Mean of each row's inner strip, then per-cell sums in one reduceat over [start, end) pairs.
    strips = np.stack([band[y0:y1].mean(axis=0, dtype=np.float32) for y0, y1 in rows])
    edges = _inner_edges(width, BAND_COLS)
    sums = np.add.reduceat(strips, edges[:-1] if edges[-1] >= width else edges, axis=1)[:, ::2]
    means = (sums / np.diff(edges)[::2]).reshape(-1)
    marker = means[_MARKER_INDEX]
    white = marker[_MARKER_BITS].mean()
    black = marker[~_MARKER_BITS].mean()
    if white - black < _MIN_CONTRAST:
        return None
    return decode_bits(means > (white + black) / 2)


# --- scenes: when the picture moves ------------------------------------------------
# A still scene repeats its last frame exactly, stamp included: a desk with nobody moving.
# The first frame after a still stretch carries a fresh capture time and sequence number,
# so a receiver can time the first moving frame (bench/power.py).
Scene = Literal["moving", "still", "reading"]
SCENES: tuple[Scene, ...] = ("moving", "still", "reading")
READING_PERIOD = 10.0  # a page scrolls every 10 s...
READING_SCROLL = 0.5  # ...for half a second


def scene_moving(scene: Scene, t: float) -> bool:
    """Whether the scene moves `t` seconds after the camera opened."""
    if scene == "moving":
        return True
    if scene == "reading":
        return t >= READING_PERIOD and t % READING_PERIOD < READING_SCROLL
    return False


STILL_GAP = 0.5  # a new capture this long after the one before ends a still stretch


class CaptureClock:
    """Latency from the stamps of received pattern frames, each capture counted once.

    A still scene sends the same capture again and again (at the lower rate): those repeats
    are not new latency samples. The first new capture after STILL_GAP without one is the
    first moving frame after a still stretch, timed on its own (`after_still`)."""

    def __init__(self) -> None:
        self._last: PatternInfo | None = None

    def heard(self, info: PatternInfo, now: float) -> tuple[float | None, bool]:
        """(ms from capture to `now` (time.time()), or None for a repeat; after a still stretch)."""
        last, self._last = self._last, info
        if last is not None and info.sequence == last.sequence:
            return None, False
        after_still = last is not None and info.capture_time - last.capture_time >= STILL_GAP
        return 1000.0 * (now - info.capture_time), after_still


# --- the picture ----------------------------------------------------------------
# (Y, U, V) of the classic colour bars, 75 % amplitude, video range.
_BARS_YUV = [
    (180, 128, 128),  # white
    (162, 44, 142),  # yellow
    (131, 156, 44),  # cyan
    (112, 72, 58),  # green
    (84, 184, 198),  # magenta
    (65, 100, 212),  # red
    (35, 212, 114),  # blue
]

# A 5x7 font for the caption only; the caption is drawn once, not per frame.
_FONT = {
    "S": ["01111", "10000", "10000", "01110", "00001", "00001", "11110"],
    "T": ["11111", "00100", "00100", "00100", "00100", "00100", "00100"],
    "U": ["10001", "10001", "10001", "10001", "10001", "10001", "01110"],
    "D": ["11110", "10001", "10001", "10001", "10001", "10001", "11110"],
    "Y": ["10001", "10001", "01010", "00100", "00100", "00100", "00100"],
    "M": ["10001", "11011", "10101", "10101", "10001", "10001", "10001"],
    "A": ["01110", "10001", "10001", "11111", "10001", "10001", "10001"],
    "C": ["01111", "10000", "10000", "10000", "10000", "10000", "01111"],
    "H": ["10001", "10001", "10001", "11111", "10001", "10001", "10001"],
    "E": ["11111", "10000", "10000", "11110", "10000", "10000", "11111"],
    "P": ["11110", "10001", "10001", "11110", "10000", "10000", "10000"],
    "R": ["11110", "10001", "10001", "11110", "10100", "10010", "10001"],
    "N": ["10001", "11001", "10101", "10011", "10001", "10001", "10001"],
    " ": ["00000"] * 7,
}
CAPTION = "STUDYMATCH TEST PATTERN"


def _caption_mask(scale: int) -> np.ndarray:
    glyphs = [np.array([[c == "1" for c in row] for row in _FONT[ch]]) for ch in CAPTION]
    gap = np.zeros((7, 1), dtype=bool)
    line = np.hstack([np.hstack([g, gap]) for g in glyphs])
    return np.kron(line, np.ones((scale, scale), dtype=bool))


class PatternGenerator:
    """Makes pattern frames; pure numpy, no pacing, so a fake camera thread can use it too."""

    def __init__(self, width: int = 640, height: int = 480, fps: int = 30) -> None:
        if width % 2 or height % 2:
            raise ValueError("width and height must be even for yuv420p")
        self.width, self.height, self.fps = width, height, fps
        self.sequence = 0
        w, h = width, height
        self._band_h = _band_height(h)
        self._scene_h = h - self._band_h
        # Bars twice as wide as the frame so a moving window is a plain slice.
        bar_of_x = (np.arange(2 * w) * len(_BARS_YUV) // w) % len(_BARS_YUV)
        bars = np.array(_BARS_YUV, dtype=np.uint8)[bar_of_x]
        self._bars_y = bars[:, 0]
        self._bars_u = bars[::2, 1]
        self._bars_v = bars[::2, 2]
        self._row_idx = np.arange(self._band_h) * BAND_ROWS // self._band_h
        self._col_idx = np.arange(w) * BAND_COLS // w
        self._square = max(8, h // 8) // 2 * 2
        scale = max(1, w // 220)
        self._caption = _caption_mask(scale)
        if self._caption.shape[1] > w - 8:
            self._caption = self._caption[:, : w - 8]
        self._buf = np.empty(w * h * 3 // 2, dtype=np.uint8)

    def next_frame(self, capture_time: float | None = None, *, moving: bool = True) -> av.VideoFrame:
        """The next frame, stamped with capture_time (default: now) and the next sequence;
        `moving` False: the last frame again, stamp and all (a still scene)."""
        if not moving and self.sequence > 0:
            h, w = self.height, self.width
            return av.VideoFrame.from_ndarray(self._buf.reshape(h * 3 // 2, w), format="yuv420p")
        if capture_time is None:
            capture_time = time.time()
        seq = self.sequence
        self.sequence += 1
        w, h, sh = self.width, self.height, self._scene_h
        buf = self._buf
        y = buf[: w * h].reshape(h, w)
        u = buf[w * h : w * h * 5 // 4].reshape(h // 2, w // 2)
        v = buf[w * h * 5 // 4 :].reshape(h // 2, w // 2)

        shift = (seq * 4) % w  # bars scroll 4 px a frame
        y[:sh] = self._bars_y[shift : shift + w]
        u[: sh // 2] = self._bars_u[shift // 2 : shift // 2 + w // 2]
        v[: sh // 2] = self._bars_v[shift // 2 : shift // 2 + w // 2]

        # A square bouncing inside the scene (triangle waves on both axes).
        s = self._square
        x0 = _bounce(seq * 7, w - s) // 2 * 2
        y0 = _bounce(seq * 5, sh - s) // 2 * 2
        y[y0 : y0 + s, x0 : x0 + s] = 235
        u[y0 // 2 : (y0 + s) // 2, x0 // 2 : (x0 + s) // 2] = 128
        v[y0 // 2 : (y0 + s) // 2, x0 // 2 : (x0 + s) // 2] = 128

        ch, cw = self._caption.shape
        cy, cx = 6, (w - cw) // 2
        box = y[cy - 2 : cy + ch + 2, cx - 4 : cx + cw + 4]
        box[:] = 16
        box[2 : 2 + ch, 4 : 4 + cw][self._caption] = 235
        u[(cy - 2) // 2 : (cy + ch + 3) // 2, (cx - 4) // 2 : (cx + cw + 5) // 2] = 128
        v[(cy - 2) // 2 : (cy + ch + 3) // 2, (cx - 4) // 2 : (cx + cw + 5) // 2] = 128

        bits = encode_bits(round(capture_time * 1000), seq)
        cells = np.where(bits, _WHITE, _BLACK).astype(np.uint8).reshape(BAND_ROWS, BAND_COLS)
        y[sh:] = cells[self._row_idx[:, None], self._col_idx[None, :]]
        u[sh // 2 :] = 128
        v[sh // 2 :] = 128

        return av.VideoFrame.from_ndarray(buf.reshape(h * 3 // 2, w), format="yuv420p")


def _bounce(pos: int, span: int) -> int:
    if span <= 0:
        return 0
    p = pos % (2 * span)
    return p if p < span else 2 * span - p


class PatternVideoTrack(VideoStreamTrack):
    """A paced video track of the moving pattern, each frame carrying its capture time."""

    def __init__(self, width: int = 640, height: int = 480, fps: int = 30, scene: Scene = "moving") -> None:
        super().__init__()
        self._gen = PatternGenerator(width, height, fps)
        self._fps = fps
        self._scene = scene
        self._start = 0.0
        self._timestamp = -1

    async def next_timestamp(self) -> tuple[int, fractions.Fraction]:
        # Like aiortc's VideoStreamTrack.next_timestamp, at our own frame rate.
        if self.readyState != "live":
            raise MediaStreamError
        if self._timestamp < 0:
            self._start = time.time()
            self._timestamp = 0
        else:
            self._timestamp += VIDEO_CLOCK_RATE // self._fps
            wait = self._start + self._timestamp / VIDEO_CLOCK_RATE - time.time()
            if wait > 0:
                await asyncio.sleep(wait)
        return self._timestamp, VIDEO_TIME_BASE

    async def recv(self) -> av.VideoFrame:
        pts, time_base = await self.next_timestamp()
        frame = self._gen.next_frame(moving=scene_moving(self._scene, pts / VIDEO_CLOCK_RATE))
        frame.pts = pts
        frame.time_base = time_base
        return frame


class ToneAudioTrack(AudioStreamTrack):
    """A paced sine tone: 20 ms s16 mono frames at sample_rate."""

    def __init__(self, frequency: float = 440.0, sample_rate: int = 48000, amplitude: float = 0.3) -> None:
        super().__init__()
        self.frequency = frequency
        self.sample_rate = sample_rate
        self._amplitude = amplitude
        self._samples = int(AUDIO_PTIME * sample_rate)
        self._start = 0.0
        self._timestamp = -1

    async def recv(self) -> av.AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        if self._timestamp < 0:
            self._start = time.time()
            self._timestamp = 0
        else:
            self._timestamp += self._samples
            wait = self._start + self._timestamp / self.sample_rate - time.time()
            if wait > 0:
                await asyncio.sleep(wait)
        return tone_frame(self.frequency, self.sample_rate, self._timestamp, self._samples, self._amplitude)


def tone_frame(
    frequency: float, sample_rate: int, start_sample: int, samples: int, amplitude: float = 0.3
) -> av.AudioFrame:
    """One s16 mono frame of a continuous sine starting at start_sample (so phases join up)."""
    n = np.arange(start_sample, start_sample + samples, dtype=np.float64)
    wave = np.sin(2 * math.pi * frequency * n / sample_rate) * (amplitude * 32767)
    frame = av.AudioFrame.from_ndarray(wave.astype(np.int16).reshape(1, -1), format="s16", layout="mono")
    frame.sample_rate = sample_rate
    frame.pts = start_sample
    frame.time_base = fractions.Fraction(1, sample_rate)
    return frame


def audio_samples(frame: av.AudioFrame) -> np.ndarray:
    """A frame's samples as float64 in [-1, 1], channels mixed down to mono."""
    raw = frame.to_ndarray()
    data = raw.astype(np.float64)
    if np.issubdtype(raw.dtype, np.integer):
        data /= 2.0 ** (8 * raw.dtype.itemsize - 1)
    channels = frame.layout.nb_channels
    if frame.format.is_planar:
        return data.reshape(channels, -1).mean(axis=0)
    return data.reshape(-1, channels).mean(axis=1)


def dominant_frequency(frame: av.AudioFrame) -> float:
    """The strongest frequency in the frame, in Hz (0.0 for silence)."""
    x = audio_samples(frame)
    if x.size < 4 or not np.any(x):
        return 0.0
    spectrum = np.abs(np.fft.rfft(x * np.hanning(x.size)))
    k = int(np.argmax(spectrum[1:])) + 1
    # Parabolic interpolation on the log magnitude: sub-bin accuracy for a 20 ms frame.
    if 0 < k < spectrum.size - 1:
        a, b, c = np.log(spectrum[k - 1 : k + 2] + 1e-12)
        denom = a - 2 * b + c
        k_f = k + (0.5 * (a - c) / denom if denom != 0 else 0.0)
    else:
        k_f = float(k)
    return float(k_f * frame.sample_rate / x.size)
