"""The window in Spanish: chosen in Settings, shown from the next start, every widget translated."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox

from client import messages
from client.ui import translation
from client.ui.views.call import CallView
from server.config import ServerConfig
from server.ws.app import running_server

from .test_end_to_end import make_settings, window


@pytest.fixture(autouse=True)
def english_afterwards() -> Iterator[None]:
    yield
    translation.apply("en")


def test_a_window_started_in_spanish_speaks_spanish_and_a_new_choice_waits_for_the_next_start(
        qtbot, aloop, tmp_path):
    async def scenario() -> None:
        async with running_server(ServerConfig(port=0, log_level="warning")) as srv:
            settings = make_settings(tmp_path, "studymatch", srv.url)
            settings.language = "es"
            async with window(qtbot, settings) as a:
                w = a.window
                assert w.windowTitle() == "StudyMatch: encuentra un compañero de estudio"
                assert w.lobby.find_button.text() == "Buscar compañero"
                assert w.call.camera_button.text() == "Apagar cámara"
                assert w.call.self_view.accessibleName() == "Tu cámara"
                w.open_settings()
                dialog = w.settings_dialog
                assert dialog is not None
                # Qt's own words too: its standard buttons come from Qt's Spanish translation.
                save = dialog.buttons.button(QDialogButtonBox.StandardButton.Save)
                assert save.text() == "Guardar"
                assert dialog.language.currentText() == "Español"
                dialog.language.setCurrentIndex(dialog.language.findData("en"))
                qtbot.mouseClick(save, Qt.MouseButton.LeftButton)
                assert settings.language == "en"
                # The choice waits for the next start, as the dialog's hint says.
                assert w.lobby.find_button.text() == "Buscar compañero"

            async with window(qtbot, settings) as b:
                assert b.window.lobby.find_button.text() == "Find partner"
                b.window.open_settings()
                assert b.window.settings_dialog is not None
                assert b.window.settings_dialog.language.currentText() == "English"

    aloop.run(scenario())


def test_system_default_follows_the_systems_languages() -> None:
    assert translation.window_language("", ["es-ES", "es"]) == "es"
    assert translation.window_language("", ["de-DE", "en-US"]) == "en"
    assert translation.window_language("en", ["es-ES"]) == "en"
    assert translation.window_language("xx", ["es-ES"]) == "es"  # an unknown saved value: the system's


def test_the_report_menu_speaks_spanish_but_sends_the_server_the_english_reason(qtbot) -> None:
    translation.apply("es")
    view = CallView()
    qtbot.addWidget(view)
    actions = view.report_actions
    assert [a.text() for a in actions] == list(messages.REPORT_REASONS)
    assert actions[1].text() == "Acoso"
    with qtbot.waitSignal(view.report_requested) as blocker:
        actions[1].trigger()
    assert blocker.args == ["Harassment"]
