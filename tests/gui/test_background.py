"""Background blur in the window: the choice is remembered, the self-view shows the effect the
partner gets, and a face detector that cannot load leaves the camera on and says so."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from PySide6.QtCore import QSettings

from client import messages
from client.ui.app import App
from client.ui.controller import Controller
from client.ui.seams import EngineLike
from client.ui.settings import Settings
from client.ui.window import MainWindow

from .conftest import shown_notice, until
from .test_end_to_end import MEDIA_TIMEOUT, click, image_to_frame


def pick(combo, value: str) -> None:
    """Choose an entry as a person does: the combo's `activated`, not a programmatic index."""
    index = combo.findData(value)
    assert index >= 0
    combo.setCurrentIndex(index)
    combo.activated.emit(index)


def no_engine(*_args: object) -> EngineLike:
    raise AssertionError("this window makes no call")


def test_the_choice_is_remembered_and_both_views_follow_it(harness, qtbot, tmp_path: Path):
    h, w = harness, harness.window
    h.controller.background.start()
    assert w.lobby.background.currentData() == "none" and not w.call.background_button.isChecked()

    pick(w.lobby.background, "colour")
    assert h.controller.settings.background == "colour"
    assert w.call.background_button.isChecked()

    click(qtbot, w.call.background_button)  # off in the call
    assert h.controller.settings.background == "none"
    assert w.lobby.background.currentData() == "none"
    click(qtbot, w.call.background_button)  # on again: the effect chosen last, not always blur
    assert h.controller.settings.background == "colour"
    assert w.lobby.background.currentData() == "colour"

    pick(w.lobby.background, "blur")
    # Another run: a new window on the same settings file starts where this one stopped.
    again = Settings(QSettings(str(tmp_path / "studymatch.ini"), QSettings.Format.IniFormat))
    assert again.background == "blur"
    controller = Controller(again, no_engine)
    window = MainWindow(controller)
    qtbot.addWidget(window)
    controller.background.start()
    assert window.lobby.background.currentData() == "blur"
    assert window.call.background_button.isChecked()


def room_detail(app: App) -> float:
    """Edge energy in the preview's top corners: the synthetic room, never the person (mirrored or not)."""
    image = app.window.lobby.preview.current_image()
    assert image is not None
    grey = cv2.cvtColor(image_to_frame(image).to_ndarray(format="rgb24"), cv2.COLOR_RGB2GRAY)
    h, w = grey.shape
    lap = np.abs(cv2.Laplacian(grey, cv2.CV_32F))
    return float(lap[: h * 2 // 5, : w // 4].mean() + lap[: h * 2 // 5, -w // 4 :].mean())


def make_app(qtbot, tmp_path: Path, background: str) -> App:
    settings = Settings(QSettings(str(tmp_path / "app.ini"), QSettings.Format.IniFormat))
    settings.camera = "fake-person"  # client/media/synthscene.py: a face the detector finds
    settings.background = background
    settings.server = "ws://127.0.0.1:9/ws"  # nothing listens: the lobby preview needs no server
    app = App(settings, fake_media=True)
    qtbot.addWidget(app.window)
    app.window.show()
    return app


async def preview_shows(app: App, blurred: bool) -> None:
    def settled() -> bool:
        image = app.window.lobby.preview.current_image()
        return image is not None and (room_detail(app) < 4.0) == blurred

    await until(settled, MEDIA_TIMEOUT, what=f"a preview {'with' if blurred else 'without'} blur")


def test_the_self_view_shows_the_blur_the_partner_gets(qtbot, aloop, tmp_path: Path):
    app = make_app(qtbot, tmp_path, "blur")

    async def scenario() -> None:
        await app.controller.start()
        try:
            await preview_shows(app, blurred=True)
            pick(app.window.lobby.background, "none")
            await preview_shows(app, blurred=False)
            sharp = room_detail(app)
            pick(app.window.lobby.background, "blur")
            await preview_shows(app, blurred=True)
            assert room_detail(app) < sharp / 3
            assert app.window.notices.item("background") is None  # the detector loaded: nothing to say
        finally:
            await app.close()

    aloop.run(scenario())


def test_a_detector_that_cannot_load_leaves_the_camera_on_and_says_so(qtbot, aloop, tmp_path: Path):
    app = make_app(qtbot, tmp_path, "none")
    app.runtime.set_background("none")
    missing = tmp_path / "no-such-cascade.xml"
    app.runtime.background.cascade_path = str(missing)  # the real load, of a file that is not there

    async def scenario() -> None:
        await app.controller.start()
        try:
            await preview_shows(app, blurred=False)
            pick(app.window.lobby.background, "blur")
            await until(lambda: app.window.notices.item("background") is not None, MEDIA_TIMEOUT,
                        what="the sentence about blur")
            notice = shown_notice(app.window, "background")
            assert notice.notice.text == messages.BACKGROUND_UNAVAILABLE
            # The camera stays on, unblurred.
            await preview_shows(app, blurred=False)
            assert app.runtime.background.unavailable is not None
            assert str(missing) in app.runtime.background.unavailable
            # Asked again later (the call's button, say): said again, never a silent no.
            app.window.notices.dismiss("background")
            pick(app.window.lobby.background, "none")
            assert app.window.notices.item("background") is None
            pick(app.window.lobby.background, "colour")
            assert shown_notice(app.window, "background").notice.text == messages.BACKGROUND_UNAVAILABLE
        finally:
            await app.close()

    aloop.run(scenario())
