"""Real QtMultimedia on a machine with no sound card (offscreen).

The audio thread design (one QThread with its own Qt event loop, work queued
to it through a signal) is exercised for real; the device paths end in the
errors this machine really produces.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
from typing import Any

import pytest
from PySide6.QtMultimedia import QMediaDevices

from client import messages
from client.media.audio import NullSpeaker, QtAudio
from client.media.devices import DeviceError
from client.media.factory import MediaFactory
from integration.wsclient import TIMEOUT


async def test_no_microphone_on_this_machine_is_not_found(qapp: Any) -> None:
    if QMediaDevices.audioInputs():
        pytest.skip("this machine has a microphone; the named-device test below still runs")
    media = MediaFactory(microphone=None)
    try:
        with pytest.raises(DeviceError) as info:
            await asyncio.wait_for(media.open_microphone(), TIMEOUT)
        err = info.value
        assert (err.device, err.code) == ("microphone", "not_found")
        assert err.message == messages.MICROPHONE_NOT_FOUND
        assert "audioInputs() is empty" in err.detail
    finally:
        await media.close()


async def test_a_named_microphone_that_is_not_there_is_not_found(qapp: Any) -> None:
    media = MediaFactory(microphone="No Such Microphone 9")
    try:
        with pytest.raises(DeviceError) as info:
            await asyncio.wait_for(media.open_microphone(), TIMEOUT)
        assert info.value.code == "not_found"
        assert info.value.message == messages.MICROPHONE_NOT_FOUND
    finally:
        await media.close()


async def test_no_output_device_gives_a_counting_null_speaker(qapp: Any) -> None:
    if QMediaDevices.audioOutputs():
        pytest.skip("this machine has a speaker")
    media = MediaFactory(microphone=None)
    try:
        speaker = media.open_speaker()
        assert isinstance(speaker, NullSpeaker)
    finally:
        await media.close()


async def test_the_audio_thread_runs_queued_work_without_the_main_loop_running_qt(qapp: Any) -> None:
    # The main thread runs asyncio only (as headless does); the audio thread's own Qt loop works.
    audio = QtAudio()
    ran = threading.Event()
    seen: dict[str, Any] = {}

    def job(worker: Any) -> None:
        seen["thread"] = threading.get_ident()
        seen["worker_thread"] = worker.thread()
        ran.set()

    try:
        audio._ensure_thread()
        thread = audio._thread
        audio._thread.call(job)
        assert await asyncio.to_thread(ran.wait, TIMEOUT)
        assert seen["thread"] != threading.get_ident()
        assert seen["worker_thread"] is thread
    finally:
        audio.close()
    assert thread.isFinished()


def test_headless_makes_its_own_qt_application_and_reports_not_found() -> None:
    script = """
import asyncio, json
from PySide6.QtCore import QCoreApplication
from client.media.factory import MediaFactory
from client.media.devices import DeviceError

async def main():
    assert QCoreApplication.instance() is None
    media = MediaFactory()
    try:
        await media.open_microphone()
        out = {"opened": True}
    except DeviceError as exc:
        out = {"code": exc.code, "message": exc.message}
    out["app"] = type(QCoreApplication.instance()).__name__
    await media.close()
    print(json.dumps(out))

asyncio.run(main())
"""
    env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=TIMEOUT * 6, env=env, check=False)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["app"] == "QCoreApplication"
    if "code" in result:  # no microphone here
        assert result == {"code": "not_found", "message": messages.MICROPHONE_NOT_FOUND,
                          "app": "QCoreApplication"}
