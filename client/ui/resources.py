"""Find the files in assets/ (icon, sounds) next to the source tree."""

from __future__ import annotations

from pathlib import Path

_ROOT = Path(__file__).resolve().parents[2] / "assets"


def asset_path(relative: str) -> Path | None:
    path = _ROOT / relative
    return path if path.exists() else None
