"""The person's choices, kept between runs with QSettings.

Tests and tools pass their own QSettings (an INI file in a temporary folder)
so they never touch the real user's settings; `STUDYMATCH_SETTINGS=path.ini`
does the same for a whole run.
"""

from __future__ import annotations

import os
from typing import Any

from PySide6.QtCore import QByteArray, QPoint, QSettings

from client.language import LANGUAGES

DEFAULT_SERVER = "ws://127.0.0.1:8765/ws"
ORGANIZATION = "StudyMatch"
STUDY_LENGTHS = (25, 50, 75)  # minutes, as `find` allows (docs/protocol.md, "Study sessions")
STUDY_LENGTHS_TEXT = tuple(str(n) for n in STUDY_LENGTHS)
STUDY_TALK = ("talk", "quiet")
APPLICATION = "StudyMatch"
BACKGROUNDS = ("none", "blur", "colour")  # client.media.backdrop.Backdrop's values, without loading OpenCV


def open_qsettings() -> QSettings:
    path = os.environ.get("STUDYMATCH_SETTINGS")
    if path:
        return QSettings(path, QSettings.Format.IniFormat)
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANIZATION, APPLICATION)


class Settings:
    """Typed access to the few values the window remembers."""

    def __init__(self, store: QSettings | None = None) -> None:
        self._store = store if store is not None else open_qsettings()

    def _str(self, key: str, default: str) -> str:
        value: Any = self._store.value(key, default)
        return default if value is None else str(value)

    def _bool(self, key: str, default: bool) -> bool:
        value: Any = self._store.value(key, default)
        if isinstance(value, str):  # INI files hand booleans back as text
            return value.strip().lower() in ("1", "true", "yes", "on")
        return bool(value)

    def _set(self, key: str, value: object) -> None:
        self._store.setValue(key, value)
        self._store.sync()

    @property
    def server(self) -> str:
        return self._str("server", DEFAULT_SERVER).strip() or DEFAULT_SERVER

    @server.setter
    def server(self, value: str) -> None:
        self._set("server", value.strip())

    @property
    def mode(self) -> str:
        mode = self._str("mode", "video")
        return mode if mode in ("video", "audio") else "video"

    @mode.setter
    def mode(self, value: str) -> None:
        self._set("mode", value)

    @property
    def topic(self) -> str:
        return self._str("topic", "")

    @topic.setter
    def topic(self, value: str) -> None:
        self._set("topic", value)

    @property
    def study_length(self) -> int | None:
        """The study session's length in minutes (25, 50 or 75); None: open, no end."""
        value = self._str("study/length", "")
        return int(value) if value in STUDY_LENGTHS_TEXT else None

    @study_length.setter
    def study_length(self, value: int | None) -> None:
        self._set("study/length", "" if value is None else str(value))

    @property
    def study_talk(self) -> str | None:
        """"talk" or "quiet"; None: either."""
        value = self._str("study/talk", "")
        return value if value in STUDY_TALK else None

    @study_talk.setter
    def study_talk(self, value: str | None) -> None:
        self._set("study/talk", value or "")

    @property
    def camera(self) -> str:
        """Device id as QMediaDevices reports it; empty means the system default."""
        return self._str("devices/camera", "")

    @camera.setter
    def camera(self, value: str) -> None:
        self._set("devices/camera", value)

    @property
    def background(self) -> str:
        """What is behind the person on camera: "none", "blur" or "colour" (client/media/backdrop.py)."""
        value = self._str("camera/background", "none")
        return value if value in BACKGROUNDS else "none"

    @background.setter
    def background(self, value: str) -> None:
        self._set("camera/background", value)

    @property
    def background_effect(self) -> str:
        """The effect the call's "Hide background" button turns on: "blur" or "colour"."""
        value = self._str("camera/background_effect", "blur")
        return value if value in BACKGROUNDS[1:] else "blur"

    @background_effect.setter
    def background_effect(self, value: str) -> None:
        self._set("camera/background_effect", value)

    @property
    def microphone(self) -> str:
        return self._str("devices/microphone", "")

    @microphone.setter
    def microphone(self, value: str) -> None:
        self._set("devices/microphone", value)

    @property
    def speaker(self) -> str:
        return self._str("devices/speaker", "")

    @speaker.setter
    def speaker(self, value: str) -> None:
        self._set("devices/speaker", value)

    @property
    def auto_search(self) -> bool:
        return self._bool("auto_search", False)

    @auto_search.setter
    def auto_search(self, value: bool) -> None:
        self._set("auto_search", value)

    @property
    def sounds(self) -> bool:
        return self._bool("sounds", True)

    @sounds.setter
    def sounds(self, value: bool) -> None:
        self._set("sounds", value)

    @property
    def notifications(self) -> bool:
        return self._bool("notifications", True)

    @notifications.setter
    def notifications(self, value: bool) -> None:
        self._set("notifications", value)

    @property
    def relay_only(self) -> bool:
        """Media only through the server's TURN relay, so partners never learn this computer's address."""
        return self._bool("connection/relay_only", False)

    @relay_only.setter
    def relay_only(self, value: bool) -> None:
        self._set("connection/relay_only", value)

    @property
    def token(self) -> str:
        """Access token for a server run with --token or signed tokens; empty: none sent."""
        return self._str("connection/token", "").strip()

    @token.setter
    def token(self, value: str) -> None:
        self._set("connection/token", value.strip())

    @property
    def ca_file(self) -> str:
        """Extra trusted certificate authority (PEM) for a wss:// server; empty: the system's only."""
        return self._str("connection/ca_file", "").strip()

    @ca_file.setter
    def ca_file(self, value: str) -> None:
        self._set("connection/ca_file", value.strip())

    @property
    def language(self) -> str:
        """A language code from client/language.py's LANGUAGES; empty: the system's."""
        value = self._str("language", "")
        return value if value in LANGUAGES else ""

    @language.setter
    def language(self, value: str) -> None:
        self._set("language", value)

    @property
    def geometry(self) -> QByteArray | None:
        value: Any = self._store.value("window/geometry")
        return value if isinstance(value, QByteArray) else None

    @geometry.setter
    def geometry(self, value: QByteArray) -> None:
        self._set("window/geometry", value)

    @property
    def mini_window(self) -> bool:
        """During a call, a small window on top while StudyMatch is in the background."""
        return self._bool("mini_window/enabled", True)

    @mini_window.setter
    def mini_window(self, value: bool) -> None:
        self._set("mini_window/enabled", value)

    @property
    def smooth_video(self) -> bool:
        """"Always smooth video": every camera frame sent; off, a still picture goes at 5 fps."""
        return self._bool("video/always_smooth", False)

    @smooth_video.setter
    def smooth_video(self, value: bool) -> None:
        self._set("video/always_smooth", value)

    @property
    def mini_window_pos(self) -> QPoint | None:
        """Where the person last left the mini window (its top left corner); None: never moved."""
        value: Any = self._store.value("mini_window/pos")
        return value if isinstance(value, QPoint) else None

    @mini_window_pos.setter
    def mini_window_pos(self, value: QPoint) -> None:
        self._set("mini_window/pos", value)
