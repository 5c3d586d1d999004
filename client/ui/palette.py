"""Colours: a dark palette like the one a dark desktop theme hands Qt (for screenshots and tests
that check the window stays readable in dark mode; the app itself follows the system's palette),
and the secondary text colour derived from whichever palette is in use."""

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


# WCAG 2 AA asks 4.5:1 for body text; a little above it, so rounding never drops below.
SECONDARY_CONTRAST = 4.6


def contrast(a: QColor, b: QColor) -> float:
    """WCAG contrast ratio of two colours (1 = the same, 21 = black on white)."""

    def luminance(c: QColor) -> float:
        def channel(v: float) -> float:
            return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

        return 0.2126 * channel(c.redF()) + 0.7152 * channel(c.greenF()) + 0.0722 * channel(c.blueF())

    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def secondary_text(palette: QPalette) -> QColor:
    """The window's text eased toward its background, as far as SECONDARY_CONTRAST allows.

    For hints and status lines: quieter than the main text, still readable. (The
    disabled text colour, which some labels used, is ~1.7:1 in Qt's light Fusion.)
    """
    text = palette.color(QPalette.ColorGroup.Active, QPalette.ColorRole.WindowText)
    window = palette.color(QPalette.ColorGroup.Active, QPalette.ColorRole.Window)
    chosen = text
    for step in range(1, 20):
        t = step / 20
        mixed = QColor.fromRgbF(
            text.redF() + (window.redF() - text.redF()) * t,
            text.greenF() + (window.greenF() - text.greenF()) * t,
            text.blueF() + (window.blueF() - text.blueF()) * t,
        )
        if contrast(mixed, window) < SECONDARY_CONTRAST:
            break
        chosen = mixed
    return chosen
