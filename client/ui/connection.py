"""What the saved settings mean for the engine's connection.

Pure functions over `Settings`: the options a new engine is built with, and
whether a save in the Settings dialog changed anything an engine connects with
(so the controller builds a fresh one only then).
"""

from __future__ import annotations

from client.ui.seams import EngineOptions
from client.ui.settings import Settings


def engine_options(settings: Settings, *, mode: str, topic: str, fake_media: bool,
                   server: str | None = None) -> EngineOptions:
    """`server` overrides the saved address (the test call's private server); "" settings mean defaults."""
    s = settings
    return EngineOptions(
        server=server or s.server,
        mode=mode,
        topic=topic or None,
        camera=s.camera or None,
        microphone=s.microphone or None,
        speaker=s.speaker or None,
        fake_media=fake_media,
        relay_only=s.relay_only,
        token=s.token or None,
        ca_file=s.ca_file or None,
        smooth_video=s.smooth_video,
    )


def store_connection(settings: Settings, server: str, *, relay_only: bool, token: str, ca_file: str) -> bool:
    """Remember a saved connection; True when it differs from the one saved before (the engine's)."""
    s = settings
    changed = (server, relay_only, token, ca_file) != (s.server, s.relay_only, s.token, s.ca_file)
    s.server, s.relay_only, s.token, s.ca_file = server, relay_only, token, ca_file
    return changed
