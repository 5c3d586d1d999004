"""While the server looks for a partner: a calm animation, elapsed time, who else is there, Cancel.

The live counts (client/ui/searchcounts.py words them) update in place; after a while with
nobody else in the subject the page offers "Search any subject". A search for a favourite
says so, and so does its fallback to anyone.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QElapsedTimer, Qt, QTimer, Signal
from PySide6.QtWidgets import QLabel, QPushButton, QVBoxLayout, QWidget

from client import events as ev
from client import messages
from client.ui import clock, searchcounts
from client.ui.widgets.indicators import Pulse
from client.ui.widgets.labels import SecondaryLabel


class SearchingView(QWidget):
    cancel_requested = Signal()
    any_subject_requested = Signal()

    def __init__(self, parent: QWidget | None = None, *, now: Callable[[], float] = time.monotonic) -> None:
        super().__init__(parent)
        self._now = now
        self._topic = ""
        self._since = 0.0  # when this subject's search began (the offer's clock)
        self._seen: list[ev.Counts] = []  # the counts since then
        self._for_favourite = False  # no offer while only a favourite is looked for
        self.pulse = Pulse()
        self.pulse.setAccessibleName(messages.SEARCHING_TITLE)
        self.title = QLabel(messages.SEARCHING_TITLE)
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.5)
        font.setBold(True)
        self.title.setFont(font)
        self.subject = QLabel(messages.SEARCHING_ANY)
        self.note = QLabel()  # a favourite search, or its fallback
        self.note.setWordWrap(True)
        self.elapsed = QLabel(clock.duration(0))
        self.elapsed.setAccessibleName(messages.SEARCHING_TIME)
        mono = self.elapsed.font()
        mono.setPointSizeF(mono.pointSizeF() * 1.3)
        self.elapsed.setFont(mono)
        self.counts = SecondaryLabel("")
        self.counts.setAccessibleName(messages.COUNTS_A11Y)
        self.counts.setWordWrap(True)
        self.any_button = QPushButton(messages.SEARCH_ANY_SUBJECT)
        self.any_button.setToolTip(messages.SEARCH_ANY_SUBJECT_TIP)
        self.any_button.setAccessibleName(messages.SEARCH_ANY_SUBJECT)
        self.any_button.setAccessibleDescription(messages.SEARCH_ANY_SUBJECT_TIP)
        self.any_button.setMinimumHeight(36)
        self.cancel_button = QPushButton(messages.CANCEL)
        self.cancel_button.setAccessibleName(messages.CANCEL)
        self.cancel_button.setToolTip(f"{messages.CANCEL} (Esc)")
        self.cancel_button.setMinimumWidth(160)
        self.cancel_button.setMinimumHeight(36)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 24, 24, 40)
        layout.addWidget(self.pulse, 1)
        for widget in (self.title, self.subject, self.note, self.elapsed, self.counts):
            widget.setAlignment(Qt.AlignmentFlag.AlignCenter)
            layout.addWidget(widget)
        layout.addSpacing(16)
        layout.addWidget(self.any_button, 0, Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self.cancel_button, 0, Qt.AlignmentFlag.AlignCenter)
        self._clock = QElapsedTimer()
        self._tick = QTimer(self)
        self._tick.setInterval(250)
        self._tick.timeout.connect(self.refresh)
        self.cancel_button.clicked.connect(self.cancel_requested)
        self.any_button.clicked.connect(self.any_subject_requested)
        self._clear()

    def start(self, topic: str) -> None:
        self.subject.setText(messages.SEARCHING_SUBJECT.format(topic=topic) if topic else messages.SEARCHING_ANY)
        if not self._tick.isActive():  # a retry keeps counting from the first press
            self._clock.start()
            self._tick.start()
            self.pulse.start()
            self._clear()
        if topic != self._topic:  # another subject (or any): its own wait for the offer
            self._topic = topic
            self._restart_offer()
        self.refresh()

    def stop(self) -> None:
        self._tick.stop()
        self.pulse.stop()

    def _clear(self) -> None:
        self._topic = ""
        self._for_favourite = False
        self.counts.clear()
        self.counts.hide()
        self.note.hide()
        self._restart_offer()

    def _restart_offer(self) -> None:
        self._since, self._seen = self._now(), []
        self.any_button.hide()

    def show_event(self, event: object) -> None:
        """Render one search event (the controller's `search_changed`)."""
        match event:
            case ev.Counts():
                self._seen.append(event)
                self.counts.setText(searchcounts.counts_line(event, self._topic))
                self.counts.show()
            case ev.FavouriteSearch():
                self._for_favourite = True
                self.note.setText(messages.FAVOURITE_SEARCHING.format(seconds=event.wait))
                self.note.show()
            case ev.FavouriteFallback():
                self._for_favourite = False
                self._restart_offer()
                self.note.setText(event.message)
                self.note.show()
        self.refresh()

    def seconds(self) -> float:
        return self._clock.elapsed() / 1000 if self._clock.isValid() else 0.0

    def refresh(self) -> None:
        """The elapsed time, and the offer (a timer calls it four times a second)."""
        self.elapsed.setText(clock.duration(self.seconds()))
        offer = not self._for_favourite and bool(self._topic) and \
            searchcounts.offer_any_subject(self._since, self._seen, self._now())
        if self.any_button.isHidden() == offer:
            self.any_button.setVisible(offer)
