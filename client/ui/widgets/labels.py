"""Secondary text: hints and status lines, quieter than the main text and still readable."""

from __future__ import annotations

from PySide6.QtCore import QEvent
from PySide6.QtGui import QGuiApplication, QPalette
from PySide6.QtWidgets import QLabel, QWidget

from client.ui.palette import secondary_text


class SecondaryLabel(QLabel):
    """A label in the palette's secondary text colour (client/ui/palette.py), kept in step
    when the desktop switches between light and dark.

    Not a disabled label: disabled text is too faint to read in some themes, and screen
    readers announce it as unavailable.
    """

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self._restyling = False
        self._restyle()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() in (QEvent.Type.ApplicationPaletteChange, QEvent.Type.PaletteChange):
            self._restyle()

    def _restyle(self) -> None:
        if self._restyling:  # setPalette below sends a PaletteChange of its own
            return
        self._restyling = True
        try:
            palette = self.palette()
            palette.setColor(QPalette.ColorRole.WindowText, secondary_text(QGuiApplication.palette()))
            self.setPalette(palette)
        finally:
            self._restyling = False
