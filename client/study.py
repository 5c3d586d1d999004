"""A study session's phases, countdown and ritual, as a pure core (docs/protocol.md,
"Study sessions" and "The study session between the two clients").

It holds the terms the server sent (`p.Study`), the clock offset taken when they
arrived, and what each side said on the state channel; given `now` (seconds on
this machine's clock) it answers the phase and its end, the countdown, and when
the next thing changes. No asyncio, no aiortc, no Qt: the engine keeps one per
session and sets a timer at `next_change(now)`.

Times inside are milliseconds on the server's clock; times handed out are
seconds on this machine's clock (`server - offset`), so two partners whose
clocks disagree still show the same countdown.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from server.core import protocol as p

CHECK_IN_MINUTES = 2
POMODORO_FOCUS_MINUTES = 25
POMODORO_CYCLE_MINUTES = 30  # 25 of focus, then 5 of break
BRB_MINUTES = 5
MAX_GOAL_CHARS = 140
MAX_NOTE_CHARS = 280
DONE = ("yes", "partly", "no")
# A partner's `checkout` before `ends_at` is refused, allowing this much for the two clocks.
CHECKOUT_EARLY_MS = 5000

CHECK_IN, FOCUS, BREAK, CHECK_OUT = "check_in", "focus", "break", "check_out"


@dataclass(frozen=True)
class Checkout:
    done: str  # "yes" | "partly" | "no"
    note: str = ""


@dataclass(frozen=True)
class StudyState:
    """What one side says about its session: a study message carries all of it."""

    goal: str = ""
    ready: bool = False
    checkout: Checkout | None = None
    brb: int | None = None  # back at this server time (ms); None: here
    pomodoro: tuple[bool, int] | None = None  # (on, switched at server ms); None: never switched
    again: str | None = None  # "Study again" ticked: the sender's public key (base64url); None: not


class StudyRefused(ValueError):
    """A partner's study message that this session refuses (the caller logs it once)."""


def chimes(before: str | None, after: str) -> bool:
    """A chime marks the end of focus and each Pomodoro change."""
    return before != after and (after == CHECK_OUT or {before, after} == {FOCUS, BREAK})


class StudySession:
    def __init__(self, study: p.Study, received_at: float) -> None:
        self.study = study
        # offset = server clock - our clock, in ms (docs/protocol.md: `now`)
        self.offset_ms = study.now - round(received_at * 1000)
        self.mine = StudyState()
        self.partner = StudyState()
        self._ready_at: int | None = None  # server ms when both were first ready
        self._checked_out_at: int | None = None  # open session: server ms of the first check-out

    # --- the clock ------------------------------------------------------------------------

    def server_ms(self, now: float) -> int:
        return round(now * 1000) + self.offset_ms

    def local(self, server_ms: int) -> float:
        return (server_ms - self.offset_ms) / 1000

    @property
    def length(self) -> int | None:
        return self.study.length

    @property
    def talk(self) -> str:
        return self.study.talk

    @property
    def started_at(self) -> float:
        return self.local(self.study.started_at)

    @property
    def ends_at(self) -> float | None:
        return None if self.study.ends_at is None else self.local(self.study.ends_at)

    def countdown(self, now: float) -> float | None:
        """Seconds left until the end (never below 0); None in an open session."""
        if self.study.ends_at is None:
            return None
        return max(0.0, (self.study.ends_at - self.server_ms(now)) / 1000)

    # --- the phase ------------------------------------------------------------------------

    def _check_in_end(self) -> int:
        end = self.study.started_at + CHECK_IN_MINUTES * self.study.minute
        return end if self._ready_at is None else min(end, self._ready_at)

    def pomodoro_on(self) -> bool:
        """Of the two last switches, the later one holds; on a tie, on."""
        switches = [s for s in (self.mine.pomodoro, self.partner.pomodoro) if s is not None]
        if not switches:
            return False
        latest = max(at for _, at in switches)
        return any(on for on, at in switches if at == latest)

    def _check_out_at(self) -> int | None:
        return self.study.ends_at if self.study.ends_at is not None else self._checked_out_at

    def phase_at(self, now: float) -> tuple[str, float | None]:
        """The phase at `now` and when it ends (local seconds; None: not known)."""
        t = self.server_ms(now)
        out = self._check_out_at()
        if out is not None and t >= out:
            return CHECK_OUT, None
        check_in_end = self._check_in_end()
        if t < check_in_end:
            return CHECK_IN, self.local(check_in_end)
        if not self.pomodoro_on():
            return FOCUS, None if out is None else self.local(out)
        cycle, focus = POMODORO_CYCLE_MINUTES * self.study.minute, POMODORO_FOCUS_MINUTES * self.study.minute
        cycle_start = t - (t - self.study.started_at) % cycle
        phase, end = (FOCUS, cycle_start + focus) if t < cycle_start + focus else (BREAK, cycle_start + cycle)
        return phase, self.local(end if out is None else min(end, out))

    def studied_minutes(self, now: float) -> float:
        """Minutes of the session (`study.minute` long) from its start to check-out, or to `now`
        before check-out: what the history keeps as the time studied."""
        end = self.server_ms(now)
        out = self._check_out_at()
        if out is not None:
            end = min(end, out)
        return max(0, end - self.study.started_at) / self.study.minute

    def partner_brb(self, now: float) -> float | None:
        """When the partner said it would be back (local seconds), while that is still ahead."""
        return self._ahead(self.partner.brb, now)

    def my_brb(self, now: float) -> float | None:
        return self._ahead(self.mine.brb, now)

    def _ahead(self, server_ms: int | None, now: float) -> float | None:
        return None if server_ms is None or server_ms <= self.server_ms(now) else self.local(server_ms)

    def next_change(self, now: float) -> float | None:
        """The next time (local seconds) the phase or a "be right back" changes by itself."""
        times = [until for until in (self.phase_at(now)[1], self.partner_brb(now), self.my_brb(now))
                 if until is not None]  # fmt: skip
        return min(times) if times else None

    # --- what this side does ----------------------------------------------------------------

    def set_goal(self, text: str) -> None:
        self.mine = dataclasses.replace(self.mine, goal=text[:MAX_GOAL_CHARS])

    def set_ready(self, now: float) -> None:
        self.mine = dataclasses.replace(self.mine, ready=True)
        self._note_ready(now)

    def check_out(self, done: str, note: str, now: float) -> None:
        if done not in DONE:
            raise ValueError(f"done must be one of {DONE}, not {done!r}")
        self.mine = dataclasses.replace(self.mine, checkout=Checkout(done, note[:MAX_NOTE_CHARS]))
        self._note_checkout(now)

    def set_brb(self, away: bool, now: float) -> None:
        back = self.server_ms(now) + BRB_MINUTES * self.study.minute if away else None
        self.mine = dataclasses.replace(self.mine, brb=back)

    def set_pomodoro(self, on: bool, now: float) -> None:
        self.mine = dataclasses.replace(self.mine, pomodoro=(on, self.server_ms(now)))

    def set_again(self, key: str | None) -> None:
        """Tick "Study again with this partner" (our public key goes with it), or untick (None)."""
        self.mine = dataclasses.replace(self.mine, again=key)

    def both_again(self) -> str | None:
        """The partner's key when both ticks stand (docs/protocol.md, "Study again"), else None."""
        return self.partner.again if self.mine.again is not None else None

    # --- what the partner says --------------------------------------------------------------

    def partner_said(self, state: StudyState, now: float) -> list[str]:
        """Take the partner's whole study state; the names of the fields that are news.

        Raises StudyRefused for a check-out before the end of a session with a length
        (the state known stays as it was)."""
        t = self.server_ms(now)
        if (state.checkout is not None and self.partner.checkout is None and self.study.ends_at is not None
                and t < self.study.ends_at - CHECKOUT_EARLY_MS):  # fmt: skip
            raise StudyRefused("a check-out before the end of the session")
        before, self.partner = self.partner, state
        news = [name for name in ("goal", "ready", "checkout", "brb", "pomodoro", "again")
                if getattr(before, name) != getattr(state, name)]  # fmt: skip
        if "pomodoro" in news and before.pomodoro is not None and state.pomodoro is not None \
                and before.pomodoro[0] == state.pomodoro[0]:  # fmt: skip
            news.remove("pomodoro")  # the same switch, said again
        if state.ready:
            self._note_ready(now)
        if state.checkout is not None:
            self._note_checkout(now)
        return news

    def _note_ready(self, now: float) -> None:
        if self._ready_at is None and self.mine.ready and self.partner.ready:
            self._ready_at = self.server_ms(now)

    def _note_checkout(self, now: float) -> None:
        if self._checked_out_at is None and self.study.ends_at is None:
            self._checked_out_at = self.server_ms(now)
