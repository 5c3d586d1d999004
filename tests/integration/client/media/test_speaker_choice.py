"""The speaker chosen in the lobby reaches the Qt audio layer (this machine has no sound card)."""

from __future__ import annotations

import logging
import os
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
from PySide6.QtMultimedia import QMediaDevices

from client import messages
from client.media.audio import NullSpeaker
from client.media.factory import MediaFactory
from client.ui.seams import EngineOptions
from client.ui.wiring import Runtime

NAME = "No Such Speaker 7"


def _expect(media: MediaFactory, sink: Any, caplog: pytest.LogCaptureFixture) -> None:
    # QtAudio.open_speaker got the name: it logs what it did with it.
    assert any(NAME in r.getMessage() for r in caplog.records if r.name == "client.media.audio")
    if QMediaDevices.audioOutputs():  # a machine with speakers: the default one plays instead
        assert not isinstance(sink, NullSpeaker)
        assert media.speaker_notice is not None and NAME in media.speaker_notice
    else:
        assert isinstance(sink, NullSpeaker)
        assert media.speaker_notice == messages.NO_SPEAKER


async def test_a_named_speaker_that_is_not_there_falls_back_and_says_so(
    qapp: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, "client.media.audio")
    media = MediaFactory(camera="fake", microphone="fake", speaker=NAME)
    try:
        _expect(media, media.open_speaker(), caplog)
    finally:
        await media.close()


async def test_the_window_passes_the_chosen_speaker(qapp: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, "client.media.audio")
    runtime = Runtime()
    options = EngineOptions(server="ws://127.0.0.1:9/ws", mode="video", topic=None, camera="fake",
                            microphone="fake", speaker=NAME, fake_media=False)
    try:
        media = runtime.media_for(options)
        _expect(media, media.open_speaker(), caplog)
    finally:
        await runtime.close()


async def test_fake_media_never_asks_qt_for_a_speaker(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, "client.media.audio")
    media = MediaFactory(fake_media=True, speaker=NAME)
    assert isinstance(media.open_speaker(), NullSpeaker)
    assert media.speaker_notice is None and not caplog.records
    await media.close()
