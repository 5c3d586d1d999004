"""Two real windows come back to each other: a real server (port 0), two real engines with synthetic
media and their own identity and history files. The live counts while one searches alone, "Study
again" ticked on both sides, the favourite kept in each window, "Study with a favourite" from both
lobbies pairing them again, and "never again" for the last partner from the lobby."""

from __future__ import annotations

from PySide6.QtCore import Qt

from client import messages
from server.config import ServerConfig
from server.ws.app import running_server

from .conftest import real_engine, until
from .test_end_to_end import MEDIA_TIMEOUT, click, make_settings, window


def test_both_tick_study_again_and_each_window_keeps_the_other(qtbot, aloop, tmp_path):
    for name in ("a", "b"):
        (tmp_path / name).mkdir()

    async def scenario() -> None:
        async with running_server(ServerConfig(port=0, log_level="warning", study_minute=0.4)) as srv:
            async with window(qtbot, make_settings(tmp_path, "a", srv.url, study_length=25, topic="maths"),
                              history=tmp_path / "a" / "history.sqlite3") as a, \
                    window(qtbot, make_settings(tmp_path, "b", srv.url, study_length=25),
                           history=tmp_path / "b" / "history.sqlite3") as b:
                wa, wb = a.window, b.window
                assert not wa.lobby.favourite_button.isEnabled() and not wb.lobby.favourite_button.isEnabled()
                click(qtbot, wa.lobby.find_button)
                alone = "nobody else in maths yet"
                await until(lambda: alone in wa.searching.counts.text(), what="the counts while A searches alone")
                assert wa.searching.counts.text().startswith("2 students online · 1 searching for video")
                click(qtbot, wb.lobby.find_button)
                await until(lambda: wa.call.again.isVisible() and wb.call.again.isVisible(), MEDIA_TIMEOUT,
                            what="Study again on both calls")

                click(qtbot, wa.call.again.tick)  # A alone: B is told, and nothing is kept
                await until(lambda: wb.call.again.partner.isVisible(), what="A's tick at B")
                assert wb.call.again.partner.text() == messages.PARTNER_AGAIN
                wa.call.again.nickname.setText("Bea")
                wa.call.again.submit_nickname()
                wb.activateWindow()
                await until(wb.isActiveWindow, what="B active")
                click(qtbot, wb.call.again.tick)
                qtbot.keyClicks(wb.call.again.nickname, "Ana")
                qtbot.keyClick(wb.call.again.nickname, Qt.Key.Key_Return)
                await until(lambda: wa.call.again.partner.isVisible(), what="B's tick at A")

                click(qtbot, wa.call.end_button)
                saved_a = messages.NOTICE_FAVOURITE_SAVED.format(nickname="Bea")
                saved_b = messages.NOTICE_FAVOURITE_SAVED.format(nickname="Ana")
                await until(lambda: saved_a in wa.notices.texts() and saved_b in wb.notices.texts(),
                            what="the favourite kept on both sides")
                assert [f.nickname for f in real_engine(a).people.favourites()] == ["Bea"]
                assert [f.nickname for f in real_engine(b).people.favourites()] == ["Ana"]
                await until(lambda: wa.pages.currentWidget() is wa.lobby, what="A in the lobby")
                assert wa.lobby.favourite_button.isEnabled()

                wa.open_history()
                assert wa.history_dialog is not None
                assert wa.history_dialog.favourites.nicknames() == ["Bea"]
                wa.history_dialog.close()

                # "Study with a favourite" on both sides: paired again, as favourites
                await until(lambda: wb.pages.currentWidget() is wb.lobby, what="B in the lobby")
                click(qtbot, wa.lobby.favourite_button)
                await until(lambda: wa.searching.note.text() == messages.FAVOURITE_SEARCHING.format(
                    seconds=real_engine(a).config.favourite_wait), what="A looking for a favourite")
                click(qtbot, wb.lobby.favourite_button)
                studying_with_bea = messages.PARTNER_FAVOURITE.format(nickname="Bea")
                await until(lambda: wa.call.partner.text().startswith(studying_with_bea)
                            and wb.call.partner.text().startswith(messages.PARTNER_FAVOURITE.format(nickname="Ana")),
                            MEDIA_TIMEOUT, what="the favourites paired")
                assert wa.call.block_action.isEnabled()  # this server names the partner: never again can take

                # never again, from the lobby after the call
                click(qtbot, wa.call.end_button)
                await until(lambda: wa.pages.currentWidget() is wa.lobby, what="A in the lobby again")
                assert wa.lobby.block_last_button.isVisible()
                click(qtbot, wa.lobby.block_last_button)
                await until(lambda: messages.PARTNER_BLOCKED in wa.notices.texts(), what="the block said")
                assert wa.lobby.block_last_button.isHidden() and real_engine(a).people.blocked_count() == 1

    aloop.run(scenario())
