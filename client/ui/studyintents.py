"""What the person says during a study session (the call page's study panel), handed to the engine.

Part of the controller (client/ui/controller.py), kept apart so each reads on its own: only a real
call on screen has a session (a test call has none), so each intent goes to that call's engine or
nowhere. The window connects the panel's signals to these slots (MainWindow._connect_signals).
"""

from __future__ import annotations

from collections.abc import Callable

from client.ui.seams import EngineLike


class StudyIntents:
    def __init__(self, engine: Callable[[], EngineLike | None]) -> None:
        self._engine = engine  # the engine of the real call on screen, or None

    def set_goal(self, text: str) -> None:
        if (engine := self._engine()) is not None and text.strip():
            engine.set_goal(text.strip())

    def set_ready(self) -> None:
        if (engine := self._engine()) is not None:
            engine.set_ready()

    def check_out(self, done: str, note: str) -> None:
        if (engine := self._engine()) is not None:
            engine.check_out(done, note.strip())

    def set_brb(self, away: bool) -> None:
        if (engine := self._engine()) is not None:
            engine.set_brb(away)

    def set_pomodoro(self, on: bool) -> None:
        if (engine := self._engine()) is not None:
            engine.set_pomodoro(on)
