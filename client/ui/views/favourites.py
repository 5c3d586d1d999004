"""The History view's Favourites: the partners kept as favourites (rename, remove) and how many
partners are blocked. It renders what it is given and emits the person's intents; the controller
changes client.people through the engine (client/ui/comebackintents.py).
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QListWidget, QListWidgetItem, QPushButton, QVBoxLayout, QWidget

from client import messages
from client.ui.seams import FavouriteLike
from client.ui.searchcounts import plural
from client.ui.views.again import NICKNAME_MAX
from client.ui.widgets.labels import SecondaryLabel

KEY = Qt.ItemDataRole.UserRole  # a row's favourite, by its key
SHOWN = Qt.ItemDataRole.UserRole + 1  # the nickname as kept, for an edit left empty


class FavouritesPanel(QWidget):
    rename_requested = Signal(str, str)  # key, nickname
    remove_requested = Signal(str)  # key

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.heading = SecondaryLabel(messages.FAVOURITES)
        self.list = QListWidget()
        self.list.setAccessibleName(messages.FAVOURITES)
        self.list.setMaximumHeight(120)
        self.empty = SecondaryLabel(messages.FAVOURITES_EMPTY)
        self.empty.setWordWrap(True)
        self.blocked = SecondaryLabel("")
        self.rename_button = QPushButton(messages.FAVOURITES_RENAME)
        self.remove_button = QPushButton(messages.FAVOURITES_REMOVE)
        for button in (self.rename_button, self.remove_button):
            button.setAccessibleName(button.text())
        buttons = QHBoxLayout()
        buttons.addWidget(self.blocked)
        buttons.addStretch(1)
        buttons.addWidget(self.rename_button)
        buttons.addWidget(self.remove_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.heading)
        layout.addWidget(self.list)
        layout.addWidget(self.empty)
        layout.addLayout(buttons)
        self.list.currentRowChanged.connect(lambda _row: self._sync_buttons())
        self.list.itemChanged.connect(self._edited)
        self.rename_button.clicked.connect(self.rename_current)
        self.remove_button.clicked.connect(self.remove_current)
        self.show_people([], 0)

    def show_people(self, favourites: Sequence[FavouriteLike], blocked: int) -> None:
        self.list.blockSignals(True)  # filling the list is no edit
        self.list.clear()
        for favourite in sorted(favourites, key=lambda f: f.nickname.casefold()):
            item = QListWidgetItem(favourite.nickname)
            item.setData(KEY, favourite.key)
            item.setData(SHOWN, favourite.nickname)
            item.setToolTip(messages.FAVOURITES_SINCE.format(nickname=favourite.nickname,
                                                               date=favourite.added_at.date().isoformat()))
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable)
            self.list.addItem(item)
        self.list.blockSignals(False)
        self.list.setVisible(bool(favourites))
        self.empty.setVisible(not favourites)
        self.blocked.setText(plural(messages.FAVOURITES_BLOCKED, blocked))
        self._sync_buttons()

    def nicknames(self) -> list[str]:
        return [self.list.item(i).text() for i in range(self.list.count())]

    def rename_current(self) -> None:
        item = self.list.currentItem()
        if item is not None:
            self.list.editItem(item)  # the name is edited in place; Enter keeps it

    def remove_current(self) -> None:
        item = self.list.currentItem()
        if item is not None:
            self.remove_requested.emit(str(item.data(KEY)))

    def _edited(self, item: QListWidgetItem) -> None:
        nickname = item.text().strip()[:NICKNAME_MAX]
        if nickname:
            self.rename_requested.emit(str(item.data(KEY)), nickname)
        else:  # no name is no rename: the one kept shows again
            self.list.blockSignals(True)
            item.setText(str(item.data(SHOWN)))
            self.list.blockSignals(False)

    def _sync_buttons(self) -> None:
        chosen = self.list.currentItem() is not None
        self.rename_button.setEnabled(chosen)
        self.remove_button.setEnabled(chosen)
