"""Two real windows through a whole study session: a real server (port 0) whose minute is short, two
real engines with synthetic media, check-in, focus and check-out, as a person clicks them."""

from __future__ import annotations

from PySide6.QtCore import Qt

from client import messages
from client.study import Checkout
from server.config import ServerConfig
from server.ws.app import running_server

from .conftest import TIMEOUT, real_engine, until
from .test_end_to_end import MEDIA_TIMEOUT, click, make_settings, window

MINUTE = 0.4  # seconds: a 25-minute session lasts 10 s, its check-in at most 0.8 s


def test_two_windows_through_a_study_session(qtbot, aloop, tmp_path):
    async def scenario() -> None:
        config = ServerConfig(port=0, log_level="warning", study_minute=MINUTE)
        async with running_server(config) as srv:
            async with window(qtbot, make_settings(tmp_path, "a", srv.url, study_length=25)) as a, \
                    window(qtbot, make_settings(tmp_path, "b", srv.url, study_length=25, study_talk="quiet")) as b:
                wa, wb = a.window, b.window
                pa, pb = wa.call.study, wb.call.study
                click(qtbot, wa.lobby.find_button)
                click(qtbot, wb.lobby.find_button)
                await until(lambda: pa.isVisible() and pb.isVisible(), MEDIA_TIMEOUT, what="both study panels")
                assert pa.quiet_badge.isVisible() and pb.quiet_badge.isVisible()  # B asked quiet, A either
                assert wa.call.mute_button.isChecked() and wb.call.mute_button.isChecked()

                # Enter in the goal field (keys go to the active window, as on a desktop), and Ready.
                wa.activateWindow()
                await until(wa.isActiveWindow, what="A active")
                pa.goal.setFocus()
                qtbot.keyClicks(pa.goal, "Chapter 3 exercises")
                qtbot.keyClick(pa.goal, Qt.Key.Key_Return)
                qtbot.keyClicks(pb.goal, "Essay outline")
                click(qtbot, pb.ready_button)
                await until(lambda: "Essay outline" in pa.partner_goal.text()
                            and "Chapter 3 exercises" in pb.partner_goal.text(), what="goals on the partner's screen")

                await until(lambda: pa.current_phase == "focus" and pb.current_phase == "focus", what="focus")
                ends_a, ends_b = pa.counting_to(), pb.counting_to()
                assert ends_a is not None and ends_b is not None and abs(ends_a - ends_b) < 1.0
                assert abs(_seconds(pa.clock.text()) - _seconds(pb.clock.text())) <= 1

                await until(lambda: pa.current_phase == "check_out" and pb.current_phase == "check_out",
                            25 * MINUTE + TIMEOUT, what="check-out")
                assert wa.sounds.played.count("session_end") == 1 and wb.sounds.played.count("session_end") == 1
                # goals stay pinned to the end
                assert "Essay outline" in pa.partner_goal.text() and "Chapter 3 exercises" in pa.my_goal.text()

                partly = next(b for b in pa.done_group.buttons() if b.property("done") == "partly")
                click(qtbot, partly)
                pa.note.setText("Got through half of them")
                click(qtbot, pa.checkout_button)
                done = messages.STUDY_PARTNER_CHECKOUT.format(done=messages.STUDY_DONE_CHOICES["partly"])
                await until(lambda: pb.partner_status.text() == f"{done} · Got through half of them",
                            what="A's check-out at B")
                study_b = real_engine(b).study
                assert study_b is not None and study_b.partner.checkout == Checkout("partly", "Got through half of them")
                click(qtbot, pb.end_button)
                await until(lambda: wa.pages.currentWidget() is not wa.call, what="A off the call")

    aloop.run(scenario())


def _seconds(text: str) -> int:
    minutes, seconds = text.split(":")[-2:]
    return int(minutes) * 60 + int(seconds)
