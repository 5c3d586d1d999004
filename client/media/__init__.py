"""Client media: synthetic sources, camera, microphone/speaker, device errors.

`factory.MediaFactory` is the only place that decides which device to open.
"""

from client.media.devices import DeviceError
from client.media.synthetic import (
    PatternInfo,
    PatternVideoTrack,
    ToneAudioTrack,
    dominant_frequency,
    read_pattern,
)

__all__ = [
    "DeviceError",
    "PatternInfo",
    "PatternVideoTrack",
    "ToneAudioTrack",
    "dominant_frequency",
    "read_pattern",
]
