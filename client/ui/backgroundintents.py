"""The background effect the person chose (lobby picker, call button), remembered and applied.

Part of the controller (client/ui/controller.py), kept apart so each reads on its own. The
choice is stored in the settings and announced through `changed` (the controller's
`background_changed` signal): the app sets the camera's one `BackgroundEffect` from it
(client/ui/wiring.py: Runtime.set_background), the views show it. The effect runs in the
camera's reader thread, so the lobby preview, the self-view and the partner all see it at once.
"""

from __future__ import annotations

from collections.abc import Callable

from client.ui.settings import Settings


class BackgroundIntents:
    def __init__(self, settings: Settings, changed: Callable[[str], None]) -> None:
        self._settings = settings
        self._changed = changed  # "none" | "blur" | "colour"

    @property
    def current(self) -> str:
        return self._settings.background

    def start(self) -> None:
        """The remembered choice, announced when the window opens."""
        self._changed(self.current)

    def choose(self, backdrop: str) -> None:
        """The lobby's picker: none, blur or plain colour."""
        if backdrop != "none":
            self._settings.background_effect = backdrop
        self._settings.background = backdrop
        self.start()

    def toggle(self, on: bool) -> None:
        """The call's button: hides the background with the last effect chosen, or shows it."""
        self.choose(self._settings.background_effect if on else "none")
