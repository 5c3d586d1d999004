"""Dark mode: what the style draws from a darker shade of the window colour (field frames,
a checked button's shading) must still stand out against the lobby's and chat's cards; and
secondary text (hints, status) stays readable in light and dark themes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtGui import QColor, QImage, QPalette
from PySide6.QtWidgets import QApplication, QStyleFactory, QWidget

from client.ui.palette import contrast, dark_palette
from client.ui.views.call import CallView
from client.ui.views.lobby import LobbyView
from client.ui.views.settings_dialog import SettingsDialog, SettingsValues
from client.ui.widgets.labels import SecondaryLabel


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


def readable_secondary(qapp: QApplication, label: SecondaryLabel) -> None:
    """Quieter than the main text, and at least WCAG AA's 4.5:1 on the window colour, as painted."""
    group = QPalette.ColorGroup.Active if label.isEnabled() else QPalette.ColorGroup.Disabled
    painted = label.palette().color(group, QPalette.ColorRole.WindowText)
    window = qapp.palette().color(QPalette.ColorRole.Window)
    text = qapp.palette().color(QPalette.ColorRole.WindowText)
    assert contrast(painted, window) >= 4.5, (label.text(), painted.name(), window.name())
    assert contrast(painted, text) > 1.4, (label.text(), painted.name(), text.name())  # visibly secondary


@pytest.fixture
def light(qapp: QApplication) -> Iterator[None]:
    palette, style = qapp.palette(), qapp.style().name()
    QApplication.setStyle("Fusion")
    qapp.setPalette(QApplication.style().standardPalette())
    try:
        yield
    finally:
        qapp.setPalette(palette)
        QApplication.setStyle(QStyleFactory.create(style))


def secondary_labels(qtbot) -> tuple[list[SecondaryLabel], list[QWidget]]:
    """Every secondary label of the call view and the settings dialog (and the views, kept alive)."""
    call = CallView()
    dialog = SettingsDialog(SettingsValues("ws://127.0.0.1:8765/ws", auto_search=False, sounds=True, notifications=True))
    for widget in (call, dialog):
        qtbot.addWidget(widget)
    labels = [*call.findChildren(SecondaryLabel), *dialog.findChildren(SecondaryLabel)]
    assert {call.quality_label, call.chat_hint} <= set(labels) and len(labels) >= 5
    return labels, [call, dialog]


def test_secondary_text_is_readable_in_the_light_theme(qtbot, qapp, light):
    labels, _views = secondary_labels(qtbot)
    for label in labels:
        readable_secondary(qapp, label)


def test_secondary_text_is_readable_in_the_dark_theme(qtbot, qapp, dark):
    labels, _views = secondary_labels(qtbot)
    for label in labels:
        readable_secondary(qapp, label)


def test_secondary_text_follows_a_switch_to_dark(qtbot, qapp, light):
    labels, _views = secondary_labels(qtbot)
    qapp.setPalette(dark_palette())  # the desktop switched theme while the app runs
    qapp.processEvents()  # the change reaches each widget as an event
    for label in labels:
        readable_secondary(qapp, label)
