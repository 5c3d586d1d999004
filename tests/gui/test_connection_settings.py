"""Connection settings (relay-only, access token, CA file) through the real window, real
engine and a real server on port 0: what a person saves reaches the engine, and each
problem the server or its certificate causes shows as a notice with a way forward."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from integration.tls_support import TestCA

from client import messages
from client.ui.app import App
from client.ui.settings import Settings
from client.ui.views.settings_dialog import SettingsDialog, SettingsValues
from server.config import ServerConfig
from server.ws.app import running_server

from .conftest import real_engine, shown_notice, until
from .test_end_to_end import click, make_settings


@contextlib.asynccontextmanager
async def opened(qtbot, settings: Settings) -> AsyncIterator[App]:
    """A window that has started its engine, connected or not."""
    app = App(settings, fake_media=True)
    qtbot.addWidget(app.window)
    app.window.show()
    await app.start()
    try:
        yield app
    finally:
        await app.close()


def open_settings_from_notice(qtbot, app: App, key: str) -> SettingsDialog:
    item = app.window.notices.item(key)
    assert item is not None, app.window.notices.keys()
    click(qtbot, item.buttons["open_settings"])
    dialog = app.window.settings_dialog
    assert dialog is not None and dialog.isVisible()
    return dialog


def save(qtbot, dialog: SettingsDialog) -> None:
    click(qtbot, dialog.buttons.button(dialog.buttons.StandardButton.Save))


def test_dialog_shows_and_validates_connection_options(qtbot, tmp_path):
    pem = tmp_path / "school-ca.pem"
    pem.write_text("-----BEGIN CERTIFICATE-----\n")
    dialog = SettingsDialog(SettingsValues("ws://127.0.0.1:8765/ws", False, True, True, relay_only=True,
                                           token="t0k", ca_file=""))
    qtbot.addWidget(dialog)
    assert dialog.relay_only.text() == messages.SETTINGS_RELAY_ONLY
    assert dialog.relay_only.isChecked() and dialog.token.text() == "t0k"
    assert dialog.token.echoMode() != dialog.token.EchoMode.Normal  # not readable over a shoulder
    dialog.ca_file.setText(str(tmp_path / "missing.pem"))
    with qtbot.assertNotEmitted(dialog.saved):
        save(qtbot, dialog)
    assert dialog.error.text() == messages.SETTINGS_BAD_CA_FILE
    dialog.ca_file.setText(str(pem))
    dialog.relay_only.setChecked(False)
    dialog.token.setText("  other  ")
    with qtbot.waitSignal(dialog.saved) as blocker:
        save(qtbot, dialog)
    assert blocker.args[0] == SettingsValues("ws://127.0.0.1:8765/ws", False, True, True, relay_only=False,
                                             token="other", ca_file=str(pem))


def test_relay_only_without_turn_offers_to_turn_it_off(qtbot, aloop, tmp_path):
    async def scenario() -> None:
        async with running_server(ServerConfig(port=0, log_level="warning")) as srv:  # no TURN server
            settings = make_settings(tmp_path, "a", srv.url, relay_only=True)
            async with opened(qtbot, settings) as a:
                w = a.window
                assert real_engine(a).config.relay_only  # the saved switch reached the engine
                await until(lambda: w.notices.item("error:no_relay") is not None, what="no-relay notice")
                item = shown_notice(w, "error:no_relay")
                assert item.notice.text == messages.RELAY_ONLY_NO_TURN
                assert set(item.buttons) == {"relay_off"}
                click(qtbot, item.buttons["relay_off"])
                assert w.notices.item("error:no_relay") is None
                await until(lambda: a.controller.engine is not None and not real_engine(a).config.relay_only
                            and a.controller.connected, what="reconnected without relay-only")
                assert settings.relay_only is False  # remembered
                assert Settings(settings._store).relay_only is False

    aloop.run(scenario())


def test_relay_only_switch_saved_in_the_dialog_reaches_the_engine(qtbot, aloop, tmp_path):
    async def scenario() -> None:
        async with running_server(ServerConfig(port=0, log_level="warning")) as srv:
            settings = make_settings(tmp_path, "a", srv.url)
            async with opened(qtbot, settings) as a:
                w = a.window
                await until(lambda: a.controller.connected, what="connected")
                assert not real_engine(a).config.relay_only
                w.open_settings()
                dialog = w.settings_dialog
                assert dialog is not None
                dialog.relay_only.setChecked(True)
                save(qtbot, dialog)
                assert settings.relay_only is True
                await until(lambda: w.notices.item("error:no_relay") is not None, what="no-relay notice")
                assert real_engine(a).config.relay_only

    aloop.run(scenario())


def test_access_token_refused_then_entered_in_settings(qtbot, aloop, tmp_path):
    async def scenario() -> None:
        async with running_server(ServerConfig(port=0, tokens=("maths-club",), log_level="warning")) as srv:
            settings = make_settings(tmp_path, "a", srv.url)
            async with opened(qtbot, settings) as a:
                w = a.window
                await until(lambda: w.notices.item("error:unauthorized") is not None, what="token notice")
                item = shown_notice(w, "error:unauthorized")
                assert item.notice.text == messages.NOTICE_TOKEN_NEEDED.format(server=srv.url)
                assert item.notice.timeout is None  # the engine stopped retrying: it stays until acted on
                dialog = open_settings_from_notice(qtbot, a, "error:unauthorized")
                await until(dialog.token.hasFocus, what="the token field focused")

                qtbot.keyClicks(dialog.token, "wrong")
                save(qtbot, dialog)
                assert settings.token == "wrong"
                await until(lambda: (now := w.notices.item("error:unauthorized")) is not None
                            and "did not accept" in now.notice.text,
                            what="token rejected")
                assert real_engine(a).config.token == "wrong"

                dialog = open_settings_from_notice(qtbot, a, "error:unauthorized")
                assert dialog.token.text() == "wrong"
                dialog.token.setText("maths-club")
                save(qtbot, dialog)
                await until(lambda: a.controller.connected, what="connected with the token")
                assert "error:unauthorized" not in w.notices.keys()
                assert Settings(settings._store).token == "maths-club"

    aloop.run(scenario())


def test_untrusted_certificate_names_the_server_and_a_ca_file_fixes_it(qtbot, aloop, tmp_path):
    async def scenario() -> None:
        ca = TestCA(tmp_path)
        cert = ca.issue("server")
        config = ServerConfig(port=0, tls_cert=str(cert.cert), tls_key=str(cert.key), log_level="warning")
        async with running_server(config) as srv:
            assert srv.url.startswith("wss://127.0.0.1:")
            settings = make_settings(tmp_path, "a", srv.url)
            async with opened(qtbot, settings) as a:
                w = a.window
                await until(lambda: w.notices.item("server") is not None, what="certificate notice")
                text = shown_notice(w, "server").notice.text
                assert "127.0.0.1" in text and "certificate" in text and "does not trust" in text
                dialog = open_settings_from_notice(qtbot, a, "server")
                dialog.ca_file.setText(str(ca.pem))
                save(qtbot, dialog)
                assert settings.ca_file == str(ca.pem)
                await until(lambda: a.controller.connected, what="connected over wss")
                assert "server" not in w.notices.keys() or "Connected" in w.notices.texts()[0]

    aloop.run(scenario())


def test_unreadable_ca_file_says_which_file_and_server(qtbot, aloop, tmp_path):
    async def scenario() -> None:
        garbage = tmp_path / "not-a-certificate.pem"
        garbage.write_text("hello\n")
        url = "wss://127.0.0.1:9/ws"
        async with opened(qtbot, make_settings(tmp_path, "a", url, ca_file=str(garbage))) as a:
            w = a.window
            await until(lambda: w.notices.item("error:bad_ca_file") is not None, what="CA file notice")
            item = shown_notice(w, "error:bad_ca_file")
            assert item.notice.text == messages.NOTICE_BAD_CA_FILE.format(path=garbage, server=url)
            assert set(item.buttons) == {"open_settings"}

    aloop.run(scenario())


def test_saving_unchanged_connection_settings_keeps_the_engine(qtbot, aloop, tmp_path):
    """Saving unchanged connection settings keeps the engine (a restart would drop a search)."""
    async def scenario() -> None:
        async with running_server(ServerConfig(port=0, log_level="warning")) as srv:
            async with opened(qtbot, make_settings(tmp_path, "a", srv.url)) as a:
                await until(lambda: a.controller.connected, what="connected")
                engine = a.controller.engine
                a.window.open_settings()
                dialog = a.window.settings_dialog
                assert dialog is not None
                dialog.sounds.setChecked(False)
                save(qtbot, dialog)
                assert a.controller.engine is engine and not a.window.sounds.enabled

    aloop.run(scenario())
