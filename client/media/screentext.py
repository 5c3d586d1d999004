"""A synthetic "screen" of text, and reading it back: the pure part of screen sharing's checks.

`--share-screen fake` (and the tests and bench/camera_effects.py) send a screen full of text
that must stay readable after VP8. The text is drawn in a fixed grid of cells with OpenCV's
Hershey font, and read back by matching each cell against the same glyphs drawn alone: a
template match of our own glyphs, no OCR engine needed.
"""

from __future__ import annotations

import functools
import random
import string

import cv2
import numpy as np

CELL_W, CELL_H = 16, 28  # px per character at scale 1 (a 1280x720 screen holds 80 x 25)
MARGIN = 8
# Hershey's "I" and "l" are the same stroke: a screen of ours never shows "I", so what is read is sure.
ALPHABET = string.ascii_letters.replace("I", "") + string.digits + "+-=()/.,:;"
FONT = cv2.FONT_HERSHEY_SIMPLEX
BACKGROUND, INK = 250, 20


def _draw(img: np.ndarray, ch: str, x: int, y: int) -> None:
    cv2.putText(img, ch, (x + 2, y + CELL_H - 8), FONT, 0.62, INK, 1, cv2.LINE_AA)


@functools.cache
def _templates() -> tuple[str, np.ndarray]:
    """Each glyph alone in its cell, as float vectors with zero mean and unit length."""
    rows = []
    for ch in ALPHABET:
        cell = np.full((CELL_H, CELL_W), BACKGROUND, np.uint8)
        _draw(cell, ch, 0, 0)
        v = cell.astype(np.float32).ravel()
        v -= v.mean()
        rows.append(v / max(1e-6, float(np.linalg.norm(v))))
    return ALPHABET, np.stack(rows)


def grid(width: int, height: int) -> tuple[int, int]:
    """(columns, rows) of characters a screen of this size holds."""
    return (width - 2 * MARGIN) // CELL_W, (height - 2 * MARGIN) // CELL_H


def page(width: int, height: int, seed: int = 0) -> list[str]:
    """Lines of text that fill the screen: words and formulas, every glyph, no blank cells."""
    cols, rows = grid(width, height)
    rng = random.Random(seed)
    return ["".join(rng.choice(ALPHABET) for _ in range(cols)) for _ in range(rows)]


def render(lines: list[str], width: int, height: int) -> np.ndarray:
    """The screen as a grey image (height, width) uint8: dark text on a light background."""
    img = np.full((height, width), BACKGROUND, np.uint8)
    for r, line in enumerate(lines):
        for c, ch in enumerate(line):
            _draw(img, ch, MARGIN + c * CELL_W, MARGIN + r * CELL_H)
    return img


def read(image: np.ndarray, rows: int, cols: int) -> list[str]:
    """The characters in a grey image of a rendered screen (the same size), cell by cell."""
    alphabet, templates = _templates()
    cells = []
    for r in range(rows):
        y = MARGIN + r * CELL_H
        for c in range(cols):
            x = MARGIN + c * CELL_W
            cells.append(image[y : y + CELL_H, x : x + CELL_W].astype(np.float32).ravel())
    if not cells:
        return []
    m = np.stack(cells)
    m -= m.mean(axis=1, keepdims=True)
    m /= np.maximum(1e-6, np.linalg.norm(m, axis=1, keepdims=True))
    best = np.argmax(m @ templates.T, axis=1)
    chars = [alphabet[i] for i in best]
    return ["".join(chars[r * cols : (r + 1) * cols]) for r in range(rows)]


def accuracy(sent: list[str], got: list[str]) -> float:
    """The share of characters read back right, 0..1."""
    total = sum(len(line) for line in sent)
    right = sum(a == b for s, g in zip(sent, got, strict=False) for a, b in zip(s, g, strict=False))
    return right / max(1, total)
