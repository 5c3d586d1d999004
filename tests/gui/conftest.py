"""pytest-qt offscreen, plus a qasync loop on pytest-qt's QApplication.

GUI tests are plain (sync) test functions that run their scenario with
`aloop.run(coro)`: qasync's loop runs Qt's event loop and asyncio together,
so real servers, engines and widgets all make progress while the scenario
awaits conditions (`until`) or signals (`signal`).
"""

from __future__ import annotations

import asyncio
import gc
import os
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QSettings, SignalInstance

from client.engine import Engine
from client.ui.app import App
from client.ui.settings import Settings
from client.ui.widgets.notices import NoticeItem
from client.ui.window import MainWindow

from .recording import Harness

SCALE = float(os.environ.get("STUDYMATCH_TEST_TIMEOUT_SCALE", "1"))
TIMEOUT = 10.0 * SCALE  # one wait for one thing to happen
SCENARIO_TIMEOUT = 90.0 * SCALE  # a whole scenario (below pytest-timeout's 120 s)


async def until(predicate: Callable[[], Any], within: float = TIMEOUT, what: str = "") -> None:
    """Wait for a condition the widgets show (polled at 50 Hz while the loop runs)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {within:.0f} s waiting for {what or predicate}")
        await asyncio.sleep(0.02)


async def signal(sig: SignalInstance, within: float = TIMEOUT) -> tuple[Any, ...]:
    """Wait for the next emission of a Qt signal; returns its arguments."""
    future: asyncio.Future[tuple[Any, ...]] = asyncio.get_running_loop().create_future()

    def fire(*args: Any) -> None:
        if not future.done():
            future.set_result(args)

    sig.connect(fire)
    try:
        return await asyncio.wait_for(future, within)
    finally:
        sig.disconnect(fire)


def shown_notice(window: MainWindow, key: str) -> NoticeItem:
    """The notice `key`, which the test expects the window to be showing."""
    item = window.notices.item(key)
    assert item is not None, f"no {key!r} notice; showing {window.notices.keys()}"
    return item


def real_engine(app: App) -> Engine:
    """The controller's engine: in these tests the real one, started with the window."""
    engine = app.controller.engine
    assert isinstance(engine, Engine), engine
    return engine


class AsyncRunner:
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.errors: list[dict[str, Any]] = []
        loop.set_exception_handler(lambda _loop, context: self.errors.append(context))

    def run(self, coro: Coroutine[Any, Any, Any], timeout: float = SCENARIO_TIMEOUT) -> Any:
        return self.loop.run_until_complete(asyncio.wait_for(coro, timeout))


@pytest.fixture
def aloop(qapp: Any) -> Iterator[AsyncRunner]:
    import qasync

    loop = qasync.QEventLoop(qapp)
    asyncio.set_event_loop(loop)
    runner = AsyncRunner(loop)
    try:
        yield runner
    finally:
        pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
        for task in pending:
            task.cancel()
        if pending:
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.close()
        asyncio.set_event_loop(None)
        # Collect now, so a leaked socket or transport fails the test that leaked it.
        gc.collect()
    # An exception swallowed by the loop is a failure, not a log line.
    assert not runner.errors, runner.errors


@pytest.fixture(autouse=True)
def data_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The user's data folder (Qt's AppDataLocation, where the history lives) in a temporary
    folder: a window a test opens never writes to the user's own."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    return tmp_path / "data"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings in a temporary INI file: tests never touch the user's own."""
    return Settings(QSettings(str(tmp_path / "studymatch.ini"), QSettings.Format.IniFormat))


@pytest.fixture
def make_harness(qtbot: Any, aloop: AsyncRunner, settings: Settings) -> Iterator[Callable[..., Harness]]:
    """Started controllers + shown windows around a recording engine; shut down afterwards."""
    made: list[Harness] = []

    def make(practice: Any = None, history: Any = None) -> Harness:
        h = Harness(settings, aloop.loop, practice=practice, history=history)
        qtbot.addWidget(h.window)
        h.window.show()
        aloop.run(h.controller.start())
        made.append(h)
        return h

    yield make
    for h in made:
        aloop.run(h.controller.shutdown())


@pytest.fixture
def harness(make_harness: Callable[..., Harness]) -> Harness:
    return make_harness()
