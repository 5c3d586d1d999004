"""A dark palette like the one a dark desktop theme hands Qt, for screenshots and tests that
check the window stays readable in dark mode (the app itself follows the system's palette)."""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette

_DARK = {
    "Window": "#202124", "WindowText": "#e8eaed", "Base": "#17181a", "AlternateBase": "#2a2b2f",
    "Text": "#e8eaed", "Button": "#2d2e32", "ButtonText": "#e8eaed", "BrightText": "#ffffff",
    "Highlight": "#8ab4f8", "HighlightedText": "#202124", "ToolTipBase": "#2d2e32", "ToolTipText": "#e8eaed",
    "PlaceholderText": "#9aa0a6", "Link": "#8ab4f8", "Mid": "#5f6368", "Dark": "#101113",
    "Light": "#3c4043", "Midlight": "#34353a", "Shadow": "#000000",
}


def dark_palette() -> QPalette:
    """Light text on dark surfaces, a blue accent, dimmed disabled text."""
    palette = QPalette()
    for name, colour in _DARK.items():
        palette.setColor(getattr(QPalette.ColorRole, name), QColor(colour))
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor("#80868b"))
    return palette
