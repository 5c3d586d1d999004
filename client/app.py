"""`studymatch` without --headless opens the window (client/cli.py imports this lazily)."""

from __future__ import annotations


def run(argv: list[str] | None = None) -> int:
    from client.ui.app import run as run_window

    return run_window(argv)
