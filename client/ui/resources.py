"""The runtime assets (window icon, chimes), found with importlib.resources.

They live inside the package, in client/assets/, so an installed wheel carries
them (pyproject.toml's package-data) and the same lookup works from a checkout,
an editable install and a wheel. The top-level assets/ keeps what only the
repository needs: screenshots, deployment samples, the chime generator.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
from importlib import resources
from pathlib import Path

# as_file() hands out a real file (QIcon and QSoundEffect want paths); from a zipped
# install that is a temporary copy, removed at exit. On disk it is the file itself.
_extracted = contextlib.ExitStack()
atexit.register(_extracted.close)


@functools.cache
def asset_path(relative: str) -> Path | None:
    """The file for "studymatch.svg" or "sounds/partner_found.wav", or None if absent."""
    ref = resources.files("client").joinpath("assets", *relative.split("/"))
    if not ref.is_file():
        return None
    return _extracted.enter_context(resources.as_file(ref))
