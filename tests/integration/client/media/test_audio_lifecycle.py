"""When livekit's native runtime starts, and that the echo canceller ends at a known moment.

Creating a livekit `AudioProcessingModule` starts livekit's FFI server: a tokio
thread pool, an audio runtime and a watchdog thread, which call back into
Python (to log) and live until the process exits. One of them once aborted a
test process after every test had passed. The rule these tests hold: no
sound device in use, no livekit runtime; and the APM is released when the
audio closes, not by whichever garbage collection comes last.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest

from client.media.audio import QtAudio
from client.media.echocancel import EchoCanceller
from client.media.pcm import CHUNK_BYTES
from integration.wsclient import TIMEOUT

# Runs where nothing else has touched livekit: a fresh interpreter.
NO_DEVICES_SCRIPT = """
import asyncio, json, sys
from client.media.factory import MediaFactory
from client.media.devices import DeviceError

async def main():
    media = MediaFactory(camera="fake")
    out = {}
    try:
        await media.open_microphone()
        out["microphone"] = "opened"
    except DeviceError as exc:
        out["microphone"] = exc.code
    out["speaker"] = type(media.open_speaker()).__name__
    await media.close()
    ffi = sys.modules.get("livekit.rtc._ffi_client")
    out["livekit_runtime_started"] = ffi is not None and ffi.FfiClient._instance is not None
    print(json.dumps(out))

asyncio.run(main())
"""


def test_without_sound_devices_livekit_never_starts() -> None:
    env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}
    proc = subprocess.run([sys.executable, "-c", NO_DEVICES_SCRIPT], capture_output=True, text=True,
                          timeout=TIMEOUT * 6, env=env, check=False)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    if result["microphone"] == "opened" or result["speaker"] != "NullSpeaker":
        # A machine with sound devices needs the canceller: the other tests here still hold.
        assert result["livekit_runtime_started"]
        return
    assert result == {"microphone": "not_found", "speaker": "NullSpeaker", "livekit_runtime_started": False}


def test_closing_the_canceller_releases_the_native_apm_now() -> None:
    canceller = EchoCanceller()
    handle = canceller._apm._ffi_handle  # livekit's handle on the native object
    silence = bytes(CHUNK_BYTES)
    assert canceller.near_end(silence) == silence
    canceller.close()
    assert handle.disposed and canceller.closed
    canceller.close()  # twice is fine
    # After close a chunk is a Python error, never a call on a released native object.
    with pytest.raises(RuntimeError, match="closed"):
        canceller.near_end(silence)
    with pytest.raises(RuntimeError, match="closed"):
        canceller.far_end(silence)


def test_the_audio_thread_brings_its_canceller_and_takes_it_away(qapp: Any) -> None:
    audio = QtAudio()
    assert audio.canceller is None  # nothing opened yet: no livekit
    audio._ensure_thread()  # what opening a found microphone or speaker does first
    canceller = audio.canceller
    assert canceller is not None and not canceller.closed
    thread = audio._thread
    audio.close()
    assert thread.isFinished()
    assert canceller.closed and audio.canceller is None

