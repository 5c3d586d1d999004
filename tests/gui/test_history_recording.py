"""Two real windows on a real server (port 0): when a study session's call ends, each window keeps
one row in its own history file, from what its engine knew; a call of less than a minute of study
is not a session and is not kept."""

from __future__ import annotations

from client.history.progress import Session
from client.history.store import HistoryStore
from server.config import ServerConfig
from server.ws.app import running_server

from .conftest import TIMEOUT, real_engine, until
from .test_end_to_end import MEDIA_TIMEOUT, click, make_settings, window

MINUTE = 0.2  # seconds: a 25-minute session lasts 5 s


def test_each_window_keeps_the_finished_session(qtbot, aloop, tmp_path):
    async def scenario() -> None:
        config = ServerConfig(port=0, log_level="warning", study_minute=MINUTE)
        async with running_server(config) as srv:
            async with window(qtbot, make_settings(tmp_path, "a", srv.url, mode="audio", study_length=25,
                                                          topic="Álgebra"),
                              history=tmp_path / "a.sqlite3") as a, \
                    window(qtbot, make_settings(tmp_path, "b", srv.url, mode="audio"),
                           history=tmp_path / "b.sqlite3") as b:
                wa, wb = a.window, b.window
                pa, pb = wa.call.study, wb.call.study
                click(qtbot, wa.lobby.find_button)
                click(qtbot, wb.lobby.find_button)
                await until(lambda: pa.isVisible() and pb.isVisible(), MEDIA_TIMEOUT, what="both study panels")
                pa.goal.setText("Chapter 3 exercises")
                click(qtbot, pa.ready_button)
                click(qtbot, pb.ready_button)
                await until(lambda: pa.current_phase == "check_out" and pb.current_phase == "check_out",
                            25 * MINUTE + TIMEOUT, what="check-out")
                yes = next(b for b in pa.done_group.buttons() if b.property("done") == "yes")
                click(qtbot, yes)
                pa.note.setText("All of them")
                click(qtbot, pa.checkout_button)
                kept_a: list[Session] = []
                kept_b: list[Session] = []
                a.controller.history_changed.connect(kept_a.append)
                b.controller.history_changed.connect(kept_b.append)
                click(qtbot, pb.end_button)  # B ends the call; A's ends as its partner leaves
                await until(lambda: kept_a and kept_b, what="a session kept on each side")
                (row_a,), (row_b,) = kept_a, kept_b

        with HistoryStore(tmp_path / "a.sqlite3") as h:
            assert h.sessions() == [row_a]
        with HistoryStore(tmp_path / "b.sqlite3") as h:
            assert h.sessions() == [row_b]
        assert (row_a.goal, row_a.checkout, row_a.note) == ("Chapter 3 exercises", "yes", "All of them")
        assert (row_b.goal, row_b.checkout, row_b.note) == ("", None, "")  # B never said a goal nor checked out
        # A's subject as typed; B searched any subject, so it keeps A's as the server passed it on
        assert (row_a.subject, row_b.subject) == ("Álgebra", "álgebra")
        for row in (row_a, row_b):
            assert row.length == 25 and row.partner is None
            assert row.mode == "audio"
            assert row.minutes == 25.0  # start to check-out, in the session's minutes, whenever the call ended
            assert row.started_at < row.ended_at
        assert abs((row_a.started_at - row_b.started_at).total_seconds()) < 1.0  # the server's start, both sides

    aloop.run(scenario())


def test_a_call_under_a_minute_of_study_is_not_kept(qtbot, aloop, tmp_path):
    async def scenario() -> None:
        async with running_server(ServerConfig(port=0, log_level="warning")) as srv:  # minutes of 60 s
            async with window(qtbot, make_settings(tmp_path, "a", srv.url), history=tmp_path / "a.sqlite3") as a, \
                    window(qtbot, make_settings(tmp_path, "b", srv.url), history=tmp_path / "b.sqlite3") as b:
                wa, wb = a.window, b.window
                kept: list[object] = []
                a.controller.history_changed.connect(kept.append)
                b.controller.history_changed.connect(kept.append)
                click(qtbot, wa.lobby.find_button)
                click(qtbot, wb.lobby.find_button)
                await until(lambda: wa.call.study.isVisible() and wb.call.study.isVisible(), MEDIA_TIMEOUT,
                            what="both study panels")
                click(qtbot, wa.call.end_button)
                # The engine lets go of its study session just before it says the call ended, in
                # the same step: once both have, both recorders have heard the end.
                await until(lambda: real_engine(a).study is None and real_engine(b).study is None,
                            what="both calls over")
                assert kept == []
        for name in ("a", "b"):
            with HistoryStore(tmp_path / f"{name}.sqlite3") as h:
                assert h.sessions() == []

    aloop.run(scenario())
