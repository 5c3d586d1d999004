"""The History view: minutes studied per day over the last four weeks (a QtCharts bar chart),
the current and longest streak, goals done, "Export CSV", and the favourites (views/favourites.py).

A dialog opened with open() (never exec()), so a search or call goes on behind it. It reads
the history file it is given (client/history/store.py) and renders what the pure core works
out (client/history/progress.py) on this computer's time zone; the window asks it to refresh
when a session is kept.
"""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
from collections.abc import Callable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from PySide6.QtCharts import QBarCategoryAxis, QBarSeries, QBarSet, QChart, QChartView, QValueAxis
from PySide6.QtCore import Qt, QTimeZone
from PySide6.QtGui import QPainter, QPalette
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QGridLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from client import messages
from client.history.progress import Progress, progress
from client.history.store import HistoryError, HistoryStore
from client.ui.views.favourites import FavouritesPanel
from client.ui.widgets.labels import SecondaryLabel

log = logging.getLogger("studymatch.ui.history")


def local_zone() -> dt.tzinfo:
    """This computer's time zone with its DST rules (an IANA zone), else its offset now."""
    name = bytes(QTimeZone.systemTimeZoneId().data()).decode(errors="replace")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return dt.datetime.now().astimezone().tzinfo or dt.UTC


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _tile(caption: str) -> tuple[QLabel, QWidget]:
    value = QLabel("0")
    font = value.font()
    font.setPointSizeF(font.pointSizeF() * 1.8)
    font.setBold(True)
    value.setFont(font)
    value.setAlignment(Qt.AlignmentFlag.AlignCenter)
    value.setAccessibleDescription(caption)
    label = SecondaryLabel(caption)
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    label.setWordWrap(True)
    tile = QWidget()
    column = QVBoxLayout(tile)
    column.setContentsMargins(4, 4, 4, 4)
    column.addWidget(value)
    column.addWidget(label)
    return value, tile


class HistoryDialog(QDialog):
    def __init__(self, store: HistoryStore, parent: QWidget | None = None, *, tz: dt.tzinfo | None = None,
                 now: Callable[[], dt.datetime] = _now) -> None:
        super().__init__(parent)
        self.store = store
        self.tz = local_zone() if tz is None else tz
        self._now = now
        self.progress: Progress | None = None
        self.setWindowTitle(messages.HISTORY_TITLE)
        self.setAccessibleName(messages.HISTORY_TITLE)
        self.resize(760, 660)

        self.bars = QBarSet(messages.HISTORY_MINUTES)
        self.series = QBarSeries()
        self.series.append(self.bars)
        self.days_axis = QBarCategoryAxis()
        small = self.days_axis.labelsFont()
        small.setPointSizeF(small.pointSizeF() * 0.8)  # 28 days' numbers side by side, none elided
        self.days_axis.setLabelsFont(small)
        self.days_axis.setTruncateLabels(False)  # the chart elides even "12" to "..." otherwise
        self.minutes_axis = QValueAxis()
        self.minutes_axis.setLabelFormat("%d")
        self.minutes_axis.setTitleText(messages.HISTORY_MINUTES)
        self.chart = QChart()
        self.chart.addSeries(self.series)
        self.chart.addAxis(self.days_axis, Qt.AlignmentFlag.AlignBottom)
        self.chart.addAxis(self.minutes_axis, Qt.AlignmentFlag.AlignLeft)
        self.series.attachAxis(self.days_axis)
        self.series.attachAxis(self.minutes_axis)
        self.chart.legend().hide()
        self.chart.setTitle(messages.HISTORY_CHART_TITLE)
        self._follow_palette()
        self.chart_view = QChartView(self.chart)
        self.chart_view.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.chart_view.setMinimumHeight(260)
        self.chart_view.setAccessibleName(messages.HISTORY_CHART_TITLE)

        self.current_streak, current = _tile(messages.HISTORY_CURRENT_STREAK)
        self.longest_streak, longest = _tile(messages.HISTORY_LONGEST_STREAK)
        self.goals_done, goals = _tile(messages.HISTORY_GOALS_DONE)
        self.total_minutes, total = _tile(messages.HISTORY_TOTAL_MINUTES)
        tiles = QGridLayout()
        for column, tile in enumerate((current, longest, goals, total)):
            tiles.addWidget(tile, 0, column)

        self.empty = SecondaryLabel(messages.HISTORY_EMPTY)
        self.empty.setWordWrap(True)
        self.export_status = SecondaryLabel("")
        self.export_status.setWordWrap(True)
        self.export_button = QPushButton(messages.HISTORY_EXPORT)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(self.export_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        self.export_button.clicked.connect(self.choose_export)

        layout = QVBoxLayout(self)
        layout.addLayout(tiles)
        layout.addWidget(self.chart_view, 1)
        layout.addWidget(self.empty)
        self.favourites = FavouritesPanel()  # the window fills it from the engine's People
        layout.addWidget(self.favourites)
        layout.addWidget(self.export_status)
        layout.addWidget(buttons)
        self.refresh()

    def _follow_palette(self) -> None:
        # QChart draws its own background and text: take the window's colours (light or dark).
        palette = self.palette()
        self.chart.setBackgroundVisible(False)
        self.chart.setTitleBrush(palette.color(QPalette.ColorRole.WindowText))
        for axis in (self.days_axis, self.minutes_axis):
            axis.setLabelsColor(palette.color(QPalette.ColorRole.WindowText))
            axis.setTitleBrush(palette.color(QPalette.ColorRole.WindowText))
            axis.setGridLineColor(palette.color(QPalette.ColorRole.Mid))
        self.days_axis.setGridLineVisible(False)  # the bars mark the days; lines between them are noise
        self.bars.setColor(palette.color(QPalette.ColorRole.Highlight))
        self.bars.setBorderColor(palette.color(QPalette.ColorRole.Highlight))

    def refresh(self) -> None:
        """Read the history again and show it as of now."""
        try:
            sessions = self.store.sessions()
        except (HistoryError, sqlite3.Error) as exc:  # the file went bad under us: one line, an empty view
            log.warning("cannot read the history: %s", exc)
            sessions = []
        self.show_progress(progress(sessions, self._now(), self.tz))

    def show_progress(self, p: Progress) -> None:
        self.progress = p
        self.bars.remove(0, self.bars.count())
        self.bars.append([round(minutes, 1) for _day, minutes in p.days])
        self.days_axis.setCategories([str(day.day) for day, _minutes in p.days])
        top = max((minutes for _day, minutes in p.days), default=0.0)
        self.minutes_axis.setRange(0, max(30.0, top))
        self.minutes_axis.applyNiceNumbers()  # ticks on round numbers of minutes
        self.current_streak.setText(str(p.current_streak))
        self.longest_streak.setText(str(p.longest_streak))
        self.goals_done.setText(str(p.goals_done))
        self.total_minutes.setText(str(round(sum(minutes for _day, minutes in p.days))))
        self.empty.setVisible(p.sessions == 0)

    def bar_values(self) -> list[float]:
        return [self.bars.at(i) for i in range(self.bars.count())]

    def choose_export(self) -> None:
        path, _filter = QFileDialog.getSaveFileName(self, messages.HISTORY_EXPORT, "studymatch-history.csv",
                                                    messages.HISTORY_CSV_FILTER)
        if path:
            self.export_csv(path)

    def export_csv(self, path: str) -> bool:
        try:
            count = self.store.export_csv(path)
        except (OSError, HistoryError, sqlite3.Error) as exc:
            self.export_status.setText(messages.HISTORY_EXPORT_FAILED.format(path=path, error=exc))
            return False
        self.export_status.setText(messages.HISTORY_EXPORTED.format(count=count, path=path))
        return True
