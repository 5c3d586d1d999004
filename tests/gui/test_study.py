"""The study session in the window: the call page's panel renders the study events, its intents reach
the engine through the controller, and the lobby's choices are remembered and sent with every search.

The panel runs on a clock the test moves (`Clock`), so countdowns are checked at exact times.
"""

from __future__ import annotations

import wave

from PySide6.QtCore import QSettings, Qt

from client import events as ev
from client import messages
from client.ui.clock import session_clock
from client.ui.resources import asset_path
from client.ui.settings import Settings
from client.ui.sounds import SOUNDS
from client.ui.views.study import GOAL_MAX, StudyPanel

T0 = 1_764_900_000.0


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


def panel(qtbot, clock: Clock) -> StudyPanel:
    p = StudyPanel(now=clock)
    qtbot.addWidget(p)
    p.show()  # the test shows it; in the window the call page does
    return p


def started(length: int | None = 25, talk: str = "talk") -> ev.SessionStarted:
    return ev.SessionStarted("s1", length, talk, T0, None if length is None else T0 + length * 60)


def test_clock_text_counts_down_or_up():
    assert session_clock(T0, until=T0 + 25 * 60, started_at=T0) == "25:00"
    assert session_clock(T0 + 0.5, until=T0 + 25 * 60, started_at=T0) == "25:00"  # a second shows until it is over
    assert session_clock(T0 + 25 * 60 - 0.2, until=T0 + 25 * 60, started_at=T0) == "0:01"
    assert session_clock(T0 + 26 * 60, until=T0 + 25 * 60, started_at=T0) == "0:00"
    assert session_clock(T0 + 75, until=None, started_at=T0) == "1:15"  # an open session: time since the start
    assert session_clock(T0 + 3700, until=None, started_at=T0) == "1:01:40"
    assert session_clock(T0, until=None, started_at=None) == ""  # no session (yet)


def test_the_panel_renders_each_phase(qtbot):
    clock = Clock()
    p = StudyPanel(now=clock)
    qtbot.addWidget(p)
    assert p.isHidden()  # no study session (an older partner or server): the call page as before
    p.show_event(started(25, "quiet"))
    assert not p.isHidden() and not p.quiet_badge.isHidden()
    p.show_event(ev.SessionPhase("s1", "check_in", T0 + 120))
    assert p.phase.text() == messages.STUDY_PHASES["check_in"] and p.clock.text() == "2:00"
    assert p.goal.isVisibleTo(p) and p.ready_button.isVisibleTo(p) and not p.note.isVisibleTo(p)

    clock.now = T0 + 120
    p.show_event(ev.SessionPhase("s1", "focus", None))  # until the session's end
    assert p.phase.text() == messages.STUDY_PHASES["focus"] and p.clock.text() == "23:00"
    assert not p.goal.isVisibleTo(p) and not p.note.isVisibleTo(p)
    clock.now = T0 + 600.5
    p.refresh()
    assert p.clock.text() == "15:00"

    p.show_event(ev.SessionPhase("s1", "break", T0 + 900))
    assert p.phase.text() == messages.STUDY_PHASES["break"] and p.clock.text() == "5:00"

    clock.now = T0 + 25 * 60
    p.show_event(ev.SessionPhase("s1", "check_out", None))
    assert p.phase.text() == messages.STUDY_PHASES["check_out"] and p.clock.text() == "0:00"
    assert p.note.isVisibleTo(p) and p.checkout_button.isVisibleTo(p) and p.next_button.isVisibleTo(p)
    assert not p.pomodoro_button.isVisibleTo(p) and not p.brb_button.isVisibleTo(p)

    p.reset()  # the next call
    assert p.isHidden() and p.phase.text() == messages.STUDY_PHASES["check_in"]
    p.show_event(started(None, "talk"))  # an open session counts up, and talks
    assert p.quiet_badge.isHidden()
    clock.now = T0 + 65
    p.refresh()
    assert p.clock.text() == "1:05"


def test_both_goals_stay_pinned(qtbot):
    p = panel(qtbot, Clock())
    p.show_event(started())
    p.show_event(ev.SessionPhase("s1", "check_in", T0 + 120))
    p.show_event(ev.PartnerGoal("s1", "Finish chapter 3"))
    p.show_event(ev.PartnerReady("s1"))
    assert p.partner_goal.text() == messages.STUDY_GOAL_PARTNER.format(goal="Finish chapter 3")
    assert p.partner_status.text() == messages.STUDY_PARTNER_READY
    p.goal.setText("Twenty exercises")
    p.ready_button.click()
    for phase in ("focus", "break", "check_out"):
        p.show_event(ev.SessionPhase("s1", phase, None))
        assert p.my_goal.isVisible() and "Twenty exercises" in p.my_goal.text()
        assert p.partner_goal.isVisible() and "Finish chapter 3" in p.partner_goal.text()


def test_goal_entry_keeps_to_140_characters_and_ready_sends_it(qtbot):
    p = panel(qtbot, Clock())
    goals: list[str] = []
    ready: list[bool] = []
    p.goal_set.connect(goals.append)
    p.ready_requested.connect(lambda: ready.append(True))
    p.show_event(started())
    qtbot.keyClicks(p.goal, "x" * (GOAL_MAX + 30))
    assert len(p.goal.text()) == GOAL_MAX and p.goal_count.text() == f"{GOAL_MAX}/{GOAL_MAX}"
    p.goal.setText("  Read the paper  ")
    assert p.goal_count.text() == f"18/{GOAL_MAX}"
    qtbot.keyClick(p.goal, Qt.Key.Key_Return)
    assert goals == ["Read the paper"] and ready == [True]
    assert not p.goal.isEnabled() and not p.ready_button.isEnabled()
    p.ready_button.click()  # once only
    assert ready == [True]


def test_ready_without_a_goal_sends_no_goal(qtbot):
    p = panel(qtbot, Clock())
    goals: list[str] = []
    p.goal_set.connect(goals.append)
    with qtbot.waitSignal(p.ready_requested, timeout=1000):
        p.ready_button.click()
    assert goals == []


def test_the_check_out_form(qtbot):
    p = panel(qtbot, Clock())
    sent: list[tuple[str, str]] = []
    p.checkout_submitted.connect(lambda done, note: sent.append((done, note)))
    p.show_event(started())
    p.show_event(ev.SessionPhase("s1", "check_out", None))
    assert not p.checkout_button.isEnabled()  # a choice first
    partly = next(b for b in p.done_group.buttons() if b.property("done") == "partly")
    partly.click()
    assert p.checkout_button.isEnabled()
    p.note.setText(" Got halfway through. ")
    p.checkout_button.click()
    assert sent == [("partly", "Got halfway through.")]
    assert p.checked_out.isVisible() and not p.checkout_button.isEnabled() and not p.note.isEnabled()
    p.checkout_button.click()
    assert len(sent) == 1

    p.show_event(ev.PartnerCheckout("s1", "yes", "All done"))
    done = messages.STUDY_PARTNER_CHECKOUT.format(done=messages.STUDY_DONE_CHOICES["yes"])
    assert p.partner_status.text() == f"{done} · All done"
    with qtbot.waitSignal(p.next_requested, timeout=1000):
        p.next_button.click()
    with qtbot.waitSignal(p.end_requested, timeout=1000):
        p.end_button.click()


def test_be_right_back_counts_down_and_ends_by_itself(qtbot):
    clock = Clock()
    p = panel(qtbot, clock)
    p.show_event(started())
    p.show_event(ev.SessionPhase("s1", "focus", None))
    p.show_event(ev.PartnerBrb("s1", T0 + 300))
    assert p.brb_text() == messages.STUDY_PARTNER_BRB.format(time="5:00")
    clock.now = T0 + 61
    p.refresh()
    assert p.brb_text() == messages.STUDY_PARTNER_BRB.format(time="3:59")
    clock.now = T0 + 300
    p.refresh()
    assert p.brb_text() == ""  # ended by itself
    p.show_event(ev.PartnerBrb("s1", T0 + 600))
    p.show_event(ev.PartnerBrb("s1", None))  # back early
    assert p.brb_text() == ""

    away: list[bool] = []
    p.brb_toggled.connect(away.append)
    p.brb_button.click()
    assert away == [True] and p.brb_button.text() == messages.STUDY_BACK
    clock.now = T0 + 300 + 301
    p.refresh()
    assert not p.brb_button.isChecked() and p.brb_button.text() == messages.STUDY_BRB
    p.brb_button.click()
    p.brb_button.click()  # back on return
    assert away == [True, True, False]


def test_pomodoro_follows_either_side(qtbot):
    p = panel(qtbot, Clock())
    toggled: list[bool] = []
    p.pomodoro_toggled.connect(toggled.append)
    p.show_event(started())
    p.show_event(ev.Pomodoro("s1", True))  # the partner switched it on: shown, not sent back
    assert p.pomodoro_button.isChecked() and toggled == []
    p.pomodoro_button.click()
    assert toggled == [False]


def test_lobby_choices_are_remembered_and_sent_before_every_search(harness, aloop, qtbot, tmp_path):
    h, w = harness, harness.window

    async def scenario() -> None:
        w.lobby.study_length.setCurrentIndex(w.lobby.study_length.findData(50))
        w.lobby.study_length.activated.emit(w.lobby.study_length.currentIndex())
        w.lobby.study_talk.setCurrentIndex(w.lobby.study_talk.findData("quiet"))
        w.lobby.study_talk.activated.emit(w.lobby.study_talk.currentIndex())
        assert (h.controller.settings.study_length, h.controller.settings.study_talk) == (50, "quiet")
        again = Settings(QSettings(str(tmp_path / "studymatch.ini"), QSettings.Format.IniFormat))
        assert (again.study_length, again.study_talk) == (50, "quiet")  # kept for the next run

        qtbot.mouseClick(w.lobby.find_button, Qt.MouseButton.LeftButton)
        await h.settle()
        assert h.engine.calls[-2:] == [("choose_study", 50, "quiet"), ("find", "video", None)]
        h.engine.emit(ev.Matched("s1", True, "video", None))
        qtbot.mouseClick(w.call.skip_button, Qt.MouseButton.LeftButton)
        await h.settle()
        assert h.engine.calls[-2:] == [("choose_study", 50, "quiet"), ("skip",)]

    aloop.run(scenario())


def test_open_and_either_are_the_defaults_and_round_trip(settings):
    assert (settings.study_length, settings.study_talk) == (None, None)
    settings.study_length, settings.study_talk = 75, "talk"
    assert (settings.study_length, settings.study_talk) == (75, "talk")
    settings.study_length, settings.study_talk = None, None
    assert (settings.study_length, settings.study_talk) == (None, None)


def test_the_window_wires_the_session_both_ways(harness, aloop, qtbot):
    h, w = harness, harness.window
    study = w.call.study

    async def scenario() -> None:
        qtbot.mouseClick(w.lobby.find_button, Qt.MouseButton.LeftButton)
        h.engine.emit(ev.Matched("s1", True, "video", None))
        assert study.isHidden()
        h.engine.emit(ev.SessionStarted("s1", 25, "quiet", T0, T0 + 1500))
        h.engine.emit(ev.SessionPhase("s1", "check_in", T0 + 120))
        assert study.isVisible() and study.quiet_badge.isVisible()
        assert h.engine.calls[-1] == ("muted", True) and w.call.mute_button.isChecked()  # quiet: starts muted
        qtbot.mouseClick(w.call.mute_button, Qt.MouseButton.LeftButton)  # the person speaks up anyway
        h.engine.emit(ev.SessionStarted("s1", 25, "quiet", T0, T0 + 1500))  # as after a resume
        assert h.engine.calls[-1] == ("muted", False) and not w.call.mute_button.isChecked()
        h.engine.emit(ev.PartnerGoal("old-session", "stale"))  # another call's: never shown
        h.engine.emit(ev.PartnerGoal("s1", "Essay outline"))
        assert "Essay outline" in study.partner_goal.text()

        study.goal.setText("Lab report")
        study.ready_button.click()
        study.pomodoro_button.click()
        study.brb_button.click()
        study.brb_button.click()
        h.engine.emit(ev.SpeakingWhileMuted("s1"))
        assert messages.NOTICE_YOU_ARE_MUTED in w.notices.texts()

        assert w.sounds.played == ["partner_found"]
        h.engine.emit(ev.SessionPhase("s1", "focus", None))
        h.engine.emit(ev.SessionPhase("s1", "check_out", None))
        h.engine.emit(ev.SessionPhase("s1", "check_out", None))  # again after a resume: one chime
        assert w.sounds.played == ["partner_found", "session_end"]
        study.done_group.buttons()[0].click()
        study.checkout_button.click()
        await h.settle()
        study_calls = ("set_goal", "set_ready", "set_pomodoro", "set_brb", "check_out")
        assert [c for c in h.engine.calls if c[0] in study_calls] == [
            ("set_goal", "Lab report"), ("set_ready",), ("set_pomodoro", True), ("set_brb", True), ("set_brb", False),
            ("check_out", "yes", ""),
        ]
        qtbot.mouseClick(study.end_button, Qt.MouseButton.LeftButton)
        assert h.page is w.lobby

    aloop.run(scenario())


def test_the_chime_is_a_short_sound_the_player_can_hand_out():
    path = asset_path(SOUNDS["session_end"])
    assert path is not None
    with wave.open(str(path)) as chime:
        seconds = chime.getnframes() / chime.getframerate()
        assert chime.getnchannels() == 1 and chime.getsampwidth() == 2 and 1.0 < seconds < 3.0
