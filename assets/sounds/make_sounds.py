"""Generate the short chimes the window plays (run once; output committed).

    python assets/sounds/make_sounds.py

They are written into the package (client/assets/sounds/), where the window
finds them and a wheel carries them; this script stays with the repository.

Sine partials with a soft attack and an exponential decay sound like a small
bell rather than a beep; 48 kHz 16-bit mono keeps the files tiny and plays on
every platform's QSoundEffect.
"""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

RATE = 48_000
OUT = Path(__file__).resolve().parents[2] / "client" / "assets" / "sounds"


def _note(freq: float, seconds: float, start: float, total: float) -> np.ndarray:
    t = np.arange(int(total * RATE)) / RATE - start
    active = t >= 0
    tt = np.where(active, t, 0.0)
    # Partials at 1x, 2x and 3x with falling weights give a warm, round tone.
    tone = sum(w * np.sin(2 * np.pi * freq * k * tt) for k, w in ((1, 1.0), (2, 0.35), (3, 0.12)))
    attack = np.clip(tt / 0.012, 0.0, 1.0)
    decay = np.exp(-tt / (seconds / 4))
    return np.where(active, tone * attack * decay, 0.0)


def _chime(freqs: list[float], spacing: float, length: float) -> np.ndarray:
    total = spacing * (len(freqs) - 1) + length
    mix = sum(_note(f, length, i * spacing, total) for i, f in enumerate(freqs))
    mix = mix / np.max(np.abs(mix)) * 0.45  # leave headroom: a notification, not an alarm
    fade = np.minimum(1.0, (len(mix) - np.arange(len(mix))) / (0.02 * RATE))
    return (mix * fade * 32767).astype(np.int16)


def _write(path: Path, samples: np.ndarray) -> None:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(samples.tobytes())


def main() -> None:
    # Rising major third + fifth: "someone is here". Falling pair: "they left".
    _write(OUT / "partner_found.wav", _chime([659.25, 830.61, 987.77], 0.09, 0.6))
    _write(OUT / "partner_left.wav", _chime([783.99, 587.33], 0.14, 0.5))
    # Three slow bells, high to low: "the time is up", calm enough for a quiet room.
    _write(OUT / "session_end.wav", _chime([1046.50, 783.99, 523.25], 0.28, 1.2))


if __name__ == "__main__":
    main()
