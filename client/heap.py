"""The startup heap, kept out of later full garbage collections (both entry points use it)."""

from __future__ import annotations

import gc


def freeze_startup_heap() -> None:
    """Keep the objects made at import time out of every later full garbage collection.

    The first full pass after startup re-scans them all (20-70 ms on the development
    machine, bench/call.py) and tended to land just as the first match arrived, on
    the way to the first remote frame. A process entry point calls this once.
    """
    gc.collect()
    gc.freeze()
