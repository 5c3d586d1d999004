"""Dark mode: what the style draws from a darker shade of the window colour (field frames,
a checked button's shading) must still stand out against the lobby's and chat's cards."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QApplication, QStyleFactory, QWidget

from client.ui.palette import dark_palette
from client.ui.views.call import CallView
from client.ui.views.lobby import LobbyView


@pytest.fixture
def dark(qapp: QApplication) -> Iterator[None]:
    palette, style = qapp.palette(), qapp.style().name()
    QApplication.setStyle("Fusion")  # what Qt uses on a desktop without a native dark style
    qapp.setPalette(dark_palette())
    try:
        yield
    finally:
        qapp.setPalette(palette)
        QApplication.setStyle(QStyleFactory.create(style))


def contrast(a: QColor, b: QColor) -> float:
    """WCAG contrast ratio of two colours (1 = the same, 21 = black on white)."""
    def luminance(c: QColor) -> float:
        def channel(v: float) -> float:
            return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4
        return 0.2126 * channel(c.redF()) + 0.7152 * channel(c.greenF()) + 0.0722 * channel(c.blueF())
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def shown(qtbot, widget: QWidget) -> QImage:
    qtbot.addWidget(widget)
    widget.resize(1100, 680)
    widget.show()
    qtbot.waitExposed(widget)
    return widget.grab().toImage()


def field_edge(image: QImage, field: QWidget, root: QWidget) -> tuple[QColor, QColor]:
    """(the field's left edge, the card just outside it), halfway down the field."""
    left = field.mapTo(root, field.rect().topLeft())
    y = left.y() + field.height() // 2
    return image.pixelColor(left.x(), y), image.pixelColor(left.x() - 3, y)


def test_lobby_subject_field_and_chosen_mode_stand_out(qtbot, dark):
    lobby = LobbyView()
    image = shown(qtbot, lobby)
    edge, card = field_edge(image, lobby.subject, lobby)
    assert contrast(edge, card) > 1.8, (edge.name(), card.name())

    chosen, other = lobby.video_button, lobby.audio_button
    assert chosen.isChecked() and not other.isChecked()
    left = [b.mapTo(lobby, b.rect().topLeft()) for b in (chosen, other)]
    mid = chosen.height() // 2
    chosen_edge = image.pixelColor(left[0].x() + 1, left[0].y() + mid)
    other_edge = image.pixelColor(left[1].x() + 1, left[1].y() + mid)
    assert contrast(chosen_edge, other_edge) > 2.0, (chosen_edge.name(), other_edge.name())


def test_chat_field_stands_out(qtbot, dark):
    call = CallView()
    image = shown(qtbot, call)
    edge, card = field_edge(image, call.chat_input, call)
    assert contrast(edge, card) > 1.8, (edge.name(), card.name())
