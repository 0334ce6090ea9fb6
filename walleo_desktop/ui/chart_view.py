"""Issued value per day, stacked by brand, over the filtered period (pyqtgraph).

Why pyqtgraph: QtCharts lives in PySide6-Addons (59 MB wheel, 157 MB installed, for one chart);
pyqtgraph 0.14 (1.9 MB wheel, 10 MB installed) + numpy (16 MB wheel, 66 MB installed) is half
that, is actively maintained, supports PySide6 6.12 and draws thousands of bars in one item.
Measured in a scratch venv; see pyproject.toml.

Input is ``Store.daily_totals`` (UTC day, brand code, face value of successful pulls). The x
axis has one slot per day from the first day to the last, gaps included, so the spacing is
time; the ``TOP_BRANDS`` biggest brands of the period get their own colour and the rest is
stacked as "Other". An empty period shows a sentence instead of an empty frame; one day is one
bar in the middle. The chart is read-only (no zoom or pan: the filters choose the period).
"""

from __future__ import annotations

import html
from collections import defaultdict
from datetime import date, timedelta

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QDate, QLocale, Qt
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QLabel, QStackedLayout, QVBoxLayout, QWidget

__all__ = ["PALETTE", "TOP_BRANDS", "ChartView", "stack_series"]

TOP_BRANDS = 6
# Distinguishable, colour-blind-friendlier palette (Okabe–Ito-like), "Other" in grey.
PALETTE = ["#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442"]
OTHER_COLOR = "#9aa0a6"
OTHER = "\x00other"  # a key no brand code can be


def stack_series(
    daily: list[tuple[str, str, int]], top: int = TOP_BRANDS
) -> tuple[list[date], list[str], np.ndarray]:
    """(days, series keys, values[series, day]) ready to stack.

    Days run from the first to the last day in ``daily`` without gaps; series are the ``top``
    brands by total value (biggest first), then ``OTHER`` if any brand is left over.
    """
    if not daily:
        return [], [], np.zeros((0, 0))
    by_brand: dict[str, int] = defaultdict(int)
    for _day, code, value in daily:
        by_brand[code] += value
    ranked = sorted(by_brand, key=lambda code: (-by_brand[code], code))
    keys = ranked[:top]
    if len(ranked) > top:
        keys.append(OTHER)
    row_of = {code: i for i, code in enumerate(keys)}
    first = date.fromisoformat(daily[0][0])
    last = date.fromisoformat(daily[-1][0])
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    values = np.zeros((len(keys), len(days)))
    for day, code, value in daily:
        row = row_of.get(code, row_of.get(OTHER, 0))
        values[row, (date.fromisoformat(day) - first).days] += value
    return days, keys, values


class ChartView(QWidget):
    """The chart widget: ``set_data(daily, names, currency)``."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("historyChart")
        self.setMinimumHeight(160)
        self._plot = pg.PlotWidget(self, background="w")
        self._plot.setAccessibleName(self.tr("Issued value per day"))
        self._plot.setObjectName("historyChartPlot")
        item = self._plot.getPlotItem()
        item.setMenuEnabled(False)
        item.hideButtons()
        item.setMouseEnabled(x=False, y=False)
        item.showGrid(x=False, y=True, alpha=0.25)
        for axis in ("left", "bottom"):
            item.getAxis(axis).setPen(pg.mkPen("#5f6368"))
            item.getAxis(axis).setTextPen(pg.mkPen("#3c4043"))
        # The legend is a label above the plot: pyqtgraph's own sits on top of the bars.
        self.legend = QLabel(self)
        self.legend.setObjectName("historyChartLegend")
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.legend.setWordWrap(True)
        self._empty = QLabel(self.tr("No cards were issued in this period."), self)
        self._empty.setObjectName("historyChartEmpty")
        self._empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._empty.setWordWrap(True)  # a narrow chart wraps the sentence, not the window
        self._empty.setStyleSheet("color:#5f6368;")
        font = QFont(self._empty.font())
        font.setPointSizeF(font.pointSizeF() * 1.1)
        self._empty.setFont(font)
        self._stack = QStackedLayout()
        self._stack.setContentsMargins(0, 0, 0, 0)
        self._stack.addWidget(self._plot)
        self._stack.addWidget(self._empty)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.legend)
        layout.addLayout(self._stack, 1)
        self._bars: list[pg.BarGraphItem] = []
        self.series: list[str] = []  # series labels currently drawn (tests)
        self.days: list[date] = []
        self._stack.setCurrentWidget(self._empty)
        self.legend.setText(f"<b>{html.escape(self.tr('Issued value per day'))}</b>")

    @property
    def is_empty(self) -> bool:
        return self._stack.currentWidget() is self._empty

    def set_data(
        self,
        daily: list[tuple[str, str, int]],
        names: dict[str, str] | None = None,
        currency: str = "",
    ) -> None:
        item = self._plot.getPlotItem()
        for bar in self._bars:
            item.removeItem(bar)
        self._bars.clear()
        days, keys, values = stack_series(daily)
        self.days = days
        names = names or {}
        self.series = [self.tr("Other") if key == OTHER else names.get(key, key) for key in keys]
        title = self.tr("Issued value per day")
        if not days or not values.any():
            self.legend.setText(f"<b>{html.escape(title)}</b>")
            self._stack.setCurrentWidget(self._empty)
            return
        colors = [
            OTHER_COLOR if key == OTHER else PALETTE[i % len(PALETTE)] for i, key in enumerate(keys)
        ]
        swatches = "&nbsp;&nbsp; ".join(
            f'<span style="color:{color}">■</span>&nbsp;{html.escape(label)}'
            for color, label in zip(colors, self.series, strict=True)
        )
        self.legend.setText(f"<b>{html.escape(title)}</b>&nbsp;&nbsp;&nbsp; {swatches}")
        self._stack.setCurrentWidget(self._plot)
        x = np.arange(len(days), dtype=float)
        bottom = np.zeros(len(days))
        width = 0.8 if len(days) < 60 else 1.0  # long periods: bars touch, like an area
        for i, (name, label) in enumerate(zip(colors, self.series, strict=True)):
            color = QColor(name)
            bar = pg.BarGraphItem(
                x=x,
                y0=bottom.copy(),
                height=values[i],
                width=width,
                brush=color,
                pen=pg.mkPen(color.darker(115), width=0),
                name=label,
            )
            item.addItem(bar)
            self._bars.append(bar)
            bottom += values[i]
        top = float(bottom.max())
        item.setXRange(-1, len(days), padding=0)
        item.setYRange(0, top * 1.05, padding=0)
        item.getAxis("bottom").setTicks([self._day_ticks(days)])
        unit = f" ({currency})" if currency else ""
        item.setLabel("left", self.tr("Face value") + unit, color="#3c4043")

    @staticmethod
    def _day_ticks(days: list[date]) -> list[tuple[float, str]]:
        """About eight labels whatever the period; months when the period is long."""
        locale = QLocale()
        if len(days) > 120:
            return [
                (
                    float(i),
                    locale.standaloneMonthName(d.month, QLocale.FormatType.ShortFormat)
                    + (f" {d.year}" if d.month == 1 or i == 0 else ""),
                )
                for i, d in enumerate(days)
                if d.day == 1 or i == 0
            ]
        step = max(1, len(days) // 8)
        return [
            (float(i), locale.toString(QDate(d.year, d.month, d.day), "d MMM"))
            for i, d in enumerate(days)
            if i % step == 0
        ]
