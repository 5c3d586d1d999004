"""The call page's study panel: the clock and phase, both goals, check-in, Pomodoro, "Be right back",
check-out.

It renders the study events (client/events.py, STUDY_EVENTS) the controller hands on and emits the
person's intents; it keeps no session logic beyond what it shows. Hidden until a session starts, so
a call with a partner (or server) that knows no study sessions looks as before.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from client import events as ev
from client import messages
from client.study import BRB_MINUTES, MAX_GOAL_CHARS, MAX_NOTE_CHARS
from client.ui import clock
from client.ui.views.lobby import FIELD_STYLE
from client.ui.widgets.labels import SecondaryLabel

GOAL_MAX, NOTE_MAX = MAX_GOAL_CHARS, MAX_NOTE_CHARS  # characters, as the state channel allows
BRB_SECONDS = BRB_MINUTES * 60  # real minutes: a test server's short ones end the partner's side sooner


class StudyPanel(QFrame):
    goal_set = Signal(str)
    ready_requested = Signal()
    pomodoro_toggled = Signal(bool)
    brb_toggled = Signal(bool)  # True: away
    checkout_submitted = Signal(str, str)  # done ("yes" | "partly" | "no"), note
    next_requested = Signal()
    end_requested = Signal()

    def __init__(self, parent: QWidget | None = None, *, now: Callable[[], float] = time.time) -> None:
        super().__init__(parent)
        self._now = now
        self.current_phase = "check_in"
        self._started_at: float | None = None
        self._ends_at: float | None = None
        self._until: float | None = None  # the end of the phase shown, or of the session
        self._partner_brb_until: float | None = None
        self._my_brb_until: float | None = None
        self._sent = False  # the check-out went out
        self.setObjectName("studyPanel")
        self.setStyleSheet(
            "QFrame#studyPanel { background: palette(base); border-radius: 10px; }"
            f"QFrame#studyPanel QLineEdit {{ {FIELD_STYLE} }}"
            # A chosen answer (and Pomodoro, Be right back when on) as the lobby shows its chosen mode.
            "QFrame#studyPanel QPushButton:checked { border: 2px solid palette(highlight); border-radius: 4px;"
            " background: palette(alternate-base); color: palette(text); font-weight: bold; padding: 2px 8px; }"
        )
        self.phase = QLabel()
        bold = self.phase.font()
        bold.setBold(True)
        self.phase.setFont(bold)
        self.clock = QLabel(clock.duration(0))
        self.clock.setAccessibleName(messages.STUDY_TIME)
        big = self.clock.font()
        big.setPointSizeF(big.pointSizeF() * 1.6)
        big.setBold(True)
        self.clock.setFont(big)
        self.quiet_badge = QLabel(messages.STUDY_QUIET_BADGE)
        self.quiet_badge.setStyleSheet(
            "background: palette(highlight); color: palette(highlighted-text); border-radius: 6px; padding: 2px 8px;"
        )
        head = QHBoxLayout()
        head.addWidget(self.phase)
        head.addStretch(1)
        head.addWidget(self.clock)
        badge = QHBoxLayout()  # a row of its own: the panel stays narrow enough for the smallest window
        badge.addWidget(self.quiet_badge)
        badge.addStretch(1)

        self.my_goal = self._wrapped()
        self.partner_goal = self._wrapped()
        self.partner_status = SecondaryLabel("")
        self.partner_status.setWordWrap(True)

        self.goal = QLineEdit()
        self.goal.setMaxLength(GOAL_MAX)
        self.goal.setPlaceholderText(messages.STUDY_GOAL_PLACEHOLDER)
        self.goal.setAccessibleName(messages.STUDY_GOAL_PLACEHOLDER)
        self.goal_count = SecondaryLabel(f"0/{GOAL_MAX}")
        self.ready_button = QPushButton(messages.STUDY_READY)
        checkin_row = QHBoxLayout()
        checkin_row.addWidget(self.goal_count)
        checkin_row.addStretch(1)
        checkin_row.addWidget(self.ready_button)
        checkin = QVBoxLayout()
        checkin.addWidget(self.goal)
        checkin.addLayout(checkin_row)

        self.done_group = QButtonGroup(self)
        done_row = QHBoxLayout()
        for done, label in messages.STUDY_DONE_CHOICES.items():
            radio = QPushButton(label)  # not a QRadioButton: its circle vanishes on palette(base) in dark themes
            radio.setCheckable(True)
            radio.setProperty("done", done)
            self.done_group.addButton(radio)
            done_row.addWidget(radio)
        done_row.addStretch(1)
        self.note = QLineEdit()
        self.note.setMaxLength(NOTE_MAX)
        self.note.setPlaceholderText(messages.STUDY_NOTE_PLACEHOLDER)
        self.note.setAccessibleName(messages.STUDY_NOTE_PLACEHOLDER)
        self.checkout_button = QPushButton(messages.STUDY_CHECK_OUT)
        self.checkout_button.setEnabled(False)
        self.checked_out = SecondaryLabel(messages.STUDY_CHECKED_OUT)
        self.next_button = QPushButton(messages.STUDY_NEXT_PARTNER)
        self.end_button = QPushButton(messages.END)
        send_row = QHBoxLayout()
        send_row.addWidget(self.checkout_button)
        send_row.addStretch(1)
        after_row = QHBoxLayout()
        after_row.addStretch(1)
        after_row.addWidget(self.next_button)
        after_row.addWidget(self.end_button)
        question = QLabel(messages.STUDY_CHECKOUT_QUESTION)
        question.setWordWrap(True)
        checkout = QVBoxLayout()
        checkout.addWidget(question)
        checkout.addLayout(done_row)
        checkout.addWidget(self.note)
        checkout.addLayout(send_row)
        checkout.addWidget(self.checked_out)
        checkout.addLayout(after_row)

        for button in (self.ready_button, self.checkout_button, self.next_button, self.end_button,
                       *self.done_group.buttons()):
            button.setAccessibleName(button.text())

        # Shown by phase, widget by widget (see _show_if).
        self._checkin_widgets: tuple[QWidget, ...] = (self.goal, self.goal_count, self.ready_button)
        self._checkout_widgets: tuple[QWidget, ...] = (question, *self.done_group.buttons(), self.note, self.checkout_button,
                                  self.next_button, self.end_button)

        self.pomodoro_button = QPushButton(messages.STUDY_POMODORO)
        self.pomodoro_button.setCheckable(True)
        self.pomodoro_button.setToolTip(messages.STUDY_POMODORO_TIP)
        self.brb_button = QPushButton(messages.STUDY_BRB)
        self.brb_button.setCheckable(True)
        self.pomodoro_button.setAccessibleName(messages.STUDY_POMODORO)
        self.brb_button.setAccessibleName(messages.STUDY_BRB)
        tools = QHBoxLayout()
        tools.addWidget(self.pomodoro_button)
        tools.addWidget(self.brb_button)
        tools.addStretch(1)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 10, 10, 10)
        layout.setSpacing(6)
        layout.addLayout(head)
        layout.addLayout(badge)
        layout.addWidget(self.my_goal)
        layout.addWidget(self.partner_goal)
        layout.addWidget(self.partner_status)
        layout.addLayout(checkin)
        layout.addLayout(checkout)
        layout.addLayout(tools)

        self._tick = QTimer(self)
        self._tick.setInterval(250)
        self._tick.timeout.connect(self.refresh)

        self.goal.textChanged.connect(lambda text: self.goal_count.setText(f"{len(text)}/{GOAL_MAX}"))
        self.goal.returnPressed.connect(self.submit_goal)
        self.ready_button.clicked.connect(self.submit_goal)
        self.done_group.buttonToggled.connect(lambda _b, _c: self.checkout_button.setEnabled(not self._sent))
        self.checkout_button.clicked.connect(self._check_out)
        self.next_button.clicked.connect(self.next_requested)
        self.end_button.clicked.connect(self.end_requested)
        self.pomodoro_button.toggled.connect(self.pomodoro_toggled)
        self.brb_button.toggled.connect(self._brb_toggled)
        self.reset()

    def _wrapped(self) -> QLabel:
        label = QLabel()
        label.setWordWrap(True)
        return label

    # --- intents -----------------------------------------------------------
    def submit_goal(self) -> None:
        """Ready (or Enter in the goal field): the goal, if any, then ready."""
        if not self.ready_button.isEnabled():
            return
        text = self.goal.text().strip()
        if text:
            self.goal_set.emit(text)
            self.my_goal.setText(messages.STUDY_GOAL_MINE.format(goal=text))
        self.ready_button.setEnabled(False)
        self.goal.setEnabled(False)
        self.ready_requested.emit()

    def _check_out(self) -> None:
        button = self.done_group.checkedButton()
        if button is None or self._sent:
            return
        self._sent = True
        self.checkout_button.setEnabled(False)
        for radio in self.done_group.buttons():
            radio.setEnabled(False)
        self.note.setEnabled(False)
        self._show_if(self.checked_out, True)
        self.checkout_submitted.emit(str(button.property("done")), self.note.text().strip())

    def _brb_toggled(self, away: bool) -> None:
        self._my_brb_until = self._now() + BRB_SECONDS if away else None
        self.brb_button.setText(messages.STUDY_BACK if away else messages.STUDY_BRB)
        self.brb_toggled.emit(away)

    # --- state -------------------------------------------------------------
    def reset(self) -> None:
        """A new call: nothing of the last session shows, and the panel hides until one starts."""
        self.hide()
        self._tick.stop()
        self._started_at = self._ends_at = self._until = None
        self._partner_brb_until = self._my_brb_until = None
        self._sent = False
        self.goal.clear()
        self.goal.setEnabled(True)
        self.ready_button.setEnabled(True)
        self.my_goal.setText(messages.STUDY_GOAL_MINE.format(goal=messages.STUDY_GOAL_NONE))
        self.partner_goal.setText(messages.STUDY_GOAL_PARTNER.format(goal=messages.STUDY_GOAL_NONE))
        self.partner_status.clear()
        self.note.clear()
        self.note.setEnabled(True)
        self.done_group.setExclusive(False)
        for radio in self.done_group.buttons():
            radio.setChecked(False)
            radio.setEnabled(True)
        self.done_group.setExclusive(True)
        self.checkout_button.setEnabled(False)
        self._set_checked(self.pomodoro_button, False)
        self._set_checked(self.brb_button, False)
        self.brb_button.setText(messages.STUDY_BRB)
        self.show_phase("check_in", None)

    def stop(self) -> None:
        self._tick.stop()

    def show_event(self, event: object) -> None:
        """Render one study event (the controller's `study_changed`)."""
        match event:
            case ev.SessionStarted():
                self._started_at, self._ends_at = event.started_at, event.ends_at
                self.quiet_badge.setVisible(event.talk == "quiet")
                self.show()
                self._tick.start()
            case ev.SessionPhase():
                self.show_phase(event.phase, event.until)
            case ev.PartnerGoal():
                self.partner_goal.setText(messages.STUDY_GOAL_PARTNER.format(goal=event.text))
            case ev.PartnerReady():
                self.partner_status.setText(messages.STUDY_PARTNER_READY)
            case ev.PartnerCheckout():
                done = messages.STUDY_PARTNER_CHECKOUT.format(done=messages.STUDY_DONE_CHOICES.get(event.done, ""))
                self.partner_status.setText(f"{done} · {event.note}" if event.note else done)
            case ev.PartnerBrb():
                self._partner_brb_until = event.until
                if event.until is None:
                    self.partner_status.clear()
            case ev.Pomodoro():
                self._set_checked(self.pomodoro_button, event.on)
        self.refresh()

    def show_phase(self, phase: str, until: float | None) -> None:
        self.current_phase = phase
        self._until = until if until is not None else self._ends_at
        self.phase.setText(messages.STUDY_PHASES.get(phase, phase))
        for widget in self._checkin_widgets:
            self._show_if(widget, phase == "check_in")
        for shown in self._checkout_widgets:
            self._show_if(shown, phase == "check_out")
        self._show_if(self.checked_out, phase == "check_out" and self._sent)
        self._show_if(self.pomodoro_button, phase != "check_out")  # room for the form in a small window
        self._show_if(self.brb_button, phase != "check_out")
        self.refresh()

    def refresh(self) -> None:
        """The clocks, from the time now (a timer calls it four times a second)."""
        now = self._now()
        self.clock.setText(clock.session_clock(now, until=self._until, started_at=self._started_at))
        if self._my_brb_until is not None and now >= self._my_brb_until:
            self._my_brb_until = None  # ended by itself, on both sides: the partner's clock ran out too
            self._set_checked(self.brb_button, False)
            self.brb_button.setText(messages.STUDY_BRB)
        if self._partner_brb_until is not None and now < self._partner_brb_until:
            left = clock.duration(self._partner_brb_until - now + 0.999)
            self.partner_status.setText(messages.STUDY_PARTNER_BRB.format(time=left))
        elif self._partner_brb_until is not None:
            self._partner_brb_until = None
            self.partner_status.clear()

    def counting_to(self) -> float | None:
        """When the clock shown reaches 0:00 (this machine's clock); None when it counts up."""
        return self._until

    def brb_text(self) -> str:
        return self.partner_status.text()

    @staticmethod
    def _show_if(widget: QWidget, shown: bool) -> None:
        # Only a hidden widget is shown: a label shown explicitly under a hidden parent with a style
        # sheet, before it is first polished, misses a later theme switch (SecondaryLabel stays grey).
        if widget.isHidden() == shown:
            widget.setVisible(shown)

    @staticmethod
    def _set_checked(button: QPushButton, on: bool) -> None:
        button.blockSignals(True)
        button.setChecked(on)
        button.blockSignals(False)
