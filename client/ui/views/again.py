"""The call page's "Study again with this partner": a tick, a nickname only this side keeps, and
whether the partner ticked too (docs/protocol.md, "Study again on the state channel").

One row under the partner's picture, there from the start of the study session (the tick
travels on its state channel) to the end of the call and beside the check-out form, so
ticking during the call and at check-out is the same tick. It renders and emits;
whether a favourite is kept (both ticks) is the engine's business.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLineEdit, QWidget

from client import messages
from client.ui.views.lobby import FIELD_STYLE
from client.ui.widgets.labels import SecondaryLabel

NICKNAME_MAX = 40  # characters: a name in a list, never sent


class AgainBar(QWidget):
    again_changed = Signal(bool, str)  # ticked, nickname ("": the engine makes one up)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tick = QCheckBox(messages.AGAIN)
        self.tick.setToolTip(messages.AGAIN_TIP)
        self.tick.setAccessibleName(messages.AGAIN)
        self.tick.setAccessibleDescription(messages.AGAIN_TIP)
        self.nickname = QLineEdit()
        self.nickname.setMaxLength(NICKNAME_MAX)
        self.nickname.setPlaceholderText(messages.AGAIN_NICKNAME)
        self.nickname.setAccessibleName(messages.AGAIN_NICKNAME)
        self.nickname.setStyleSheet(f"QLineEdit {{ {FIELD_STYLE} }}")  # visible in dark themes too (lobby.py)
        self.nickname.setMaximumWidth(220)
        self.partner = SecondaryLabel(messages.PARTNER_AGAIN)
        self.partner.setWordWrap(True)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.tick)
        row.addWidget(self.nickname, 1)
        row.addStretch(0)
        row.addWidget(self.partner, 1)
        self.tick.toggled.connect(self._ticked)
        self.nickname.editingFinished.connect(self.submit_nickname)
        self.reset(shown=False)

    def _ticked(self, on: bool) -> None:
        self.nickname.setVisible(on)
        if on:
            self.nickname.setFocus()
        self.again_changed.emit(on, self.nickname.text().strip())

    def submit_nickname(self) -> None:
        if self.tick.isChecked():  # the nickname goes with the tick: said again when it changes
            self.again_changed.emit(True, self.nickname.text().strip())

    def reset(self, *, shown: bool) -> None:
        """A new call: unticked, no nickname; `shown` for a partner who may become a favourite."""
        self.tick.blockSignals(True)
        self.tick.setChecked(False)
        self.tick.blockSignals(False)
        self.nickname.clear()
        self.nickname.hide()
        self.partner.hide()
        self.setVisible(shown)

    def set_partner_again(self, on: bool) -> None:
        self.partner.setVisible(on)
