"""QApplication + qasync loop + the window: `run_window(options)` is what `studymatch` calls
with the options it parsed (client/cli.py)."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import sys
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from client import lostsends, messages
from client.heap import freeze_startup_heap
from client.history import store
from client.history.store import HistoryError, HistoryStore
from client.people import People
from client.practice.partner import start_practice_partner
from client.ui import alerts, translation
from client.ui.controller import Controller
from client.ui.local_server import ensure_local_server
from client.ui.lowpower import LowPowerWatch
from client.ui.pages import Page
from client.ui.settings import ORGANIZATION, Settings
from client.ui.widgets.notices import Notice
from client.ui.window import MainWindow, app_icon
from client.ui.wiring import Runtime

log = logging.getLogger("studymatch.ui")


@dataclasses.dataclass(frozen=True)
class WindowOptions:
    """What the command line (client/cli.py) tells the window. A connection option given
    there (non-empty) replaces the saved one and is remembered."""

    server: str | None = None
    fake_media: bool = False
    settings: str | None = None  # an INI file to keep the settings in (tests, demos)
    relay_only: bool = False
    token: str | None = None
    ca_file: str | None = None
    history: str | None = None  # the history's sqlite file (default: in the user's data folder)
    scene: str = "moving"  # with fake_media: what the synthetic camera shows


class App:
    """One window, its controller, the shared media and (maybe) an embedded server."""

    def __init__(self, settings: Settings, *, fake_media: bool = False,
                 loop: asyncio.AbstractEventLoop | None = None, history: str | Path | None = None,
                 scene: str = "moving") -> None:
        translation.apply(settings.language)  # before any widget reads a sentence
        self.history = open_history(history)
        self.runtime = Runtime(scene)
        # The identity beside the history (client/identity.py); no history: one in memory, this run.
        self.runtime.people = People.in_memory() if self.history is None else People.beside(self.history)
        self.controller = Controller(
            settings,
            self.runtime.make_engine,
            fake_media=fake_media,
            practice_factory=start_practice_partner,
            preview=self.runtime,
            loop=loop,
            history=self.history,
        )
        self.runtime.on_device_error = self._device_failed
        self.runtime.on_speaker_notice = self.controller.speaker_notice
        self.runtime.on_background_unavailable = lambda _reason: self.controller.notice.emit(
            alerts.background_unavailable())
        self.controller.background_changed.connect(self.runtime.set_background)
        self.window = MainWindow(self.controller)
        self.controller.background.start()  # the remembered blur, to the camera and the views
        self.local_server: Any = None
        self.closed = asyncio.Event()
        self.window.close_requested.connect(self._close_requested)
        self.controller.connection_changed.connect(self._connection_changed)
        self.window.smooth_video_changed.connect(self.runtime.set_smooth_video)
        self.low_power = LowPowerWatch(parent=self.window)
        self.low_power.changed.connect(self._low_power_changed)
        geometry = settings.geometry
        if geometry is not None:
            self.window.restoreGeometry(geometry)

    def _low_power_changed(self, cap: Any) -> None:
        self.runtime.set_video_cap(cap)
        self.window.set_low_power(cap is not None)

    def _device_failed(self, exc: Any) -> None:
        from client import events as ev

        self.controller.on_event(ev.DeviceErrorEvent(exc.device, exc.code, exc.message))

    async def start(self) -> None:
        server = self.controller.settings.server
        self.local_server = await ensure_local_server(server)
        if self.local_server is not None:
            self.controller.notice.emit(
                Notice("local", messages.NOTICE_LOCAL_SERVER.format(server=server), timeout=8)
            )
        self.low_power.start()
        await self.controller.start()

    def _connection_changed(self, connected: bool, server: str) -> None:
        # The window is usable: scripts wait for this line (the bundle's smoke test, bench/bundle.py).
        if connected and self.controller.page is Page.LOBBY:
            log.info("lobby ready %s", server)

    def _close_requested(self) -> None:
        asyncio.get_event_loop_policy().get_event_loop().create_task(self.close())

    async def close(self) -> None:
        if self.closed.is_set():
            return
        self.low_power.stop()
        await self.controller.shutdown()
        await self.runtime.close()
        if self.local_server is not None:
            await self.local_server.stop()
            self.local_server = None
        if self.history is not None:
            self.history.close()
        self.closed.set()


def open_history(path: str | Path | None) -> HistoryStore | None:
    """The history file (client/history/store.py); None, with one log line, when it cannot be
    used: the window works without a history rather than not at all."""
    try:
        return HistoryStore(store.default_path() if path is None else path)
    except (HistoryError, OSError) as exc:
        log.warning("no history this time: %s", exc)
        return None


def make_qapp(argv: list[str]) -> QApplication:
    existing = QApplication.instance()
    if isinstance(existing, QApplication):
        return existing
    QApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
    app = QApplication(argv)
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(messages.APP_NAME)
    app.setApplicationDisplayName(messages.APP_NAME)
    app.setDesktopFileName("studymatch")
    app.setWindowIcon(app_icon())
    return app


def run_window(options: WindowOptions) -> int:
    import qasync

    if options.settings:
        os.environ["STUDYMATCH_SETTINGS"] = options.settings
    qapp = make_qapp([sys.argv[0]])
    qapp.setQuitOnLastWindowClosed(False)  # we quit after the engine has left cleanly
    loop = qasync.QEventLoop(qapp)
    asyncio.set_event_loop(loop)
    lostsends.install(loop)
    settings = Settings()
    if options.server:
        settings.server = options.server
    if options.relay_only:
        settings.relay_only = True
    if options.token:
        settings.token = options.token
    if options.ca_file:
        settings.ca_file = options.ca_file

    async def main() -> None:
        app = App(settings, fake_media=options.fake_media, loop=loop, history=options.history or None,
                  scene=options.scene)
        app.window.show()
        await app.start()
        # The CLI froze the heap before Qt and the window existed; freeze their objects too, or
        # every full collection re-scans them (a 20-70 ms pause, measured right after `matched`).
        # Only here, in the program's own entry point: a test process must never be frozen.
        freeze_startup_heap()
        await app.closed.wait()

    with loop:
        loop.run_until_complete(main())
    return 0
