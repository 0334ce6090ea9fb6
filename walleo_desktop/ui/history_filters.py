"""The history's filter bar: period, brand, status, agent and one search box.

Every control narrows the same ``HistoryFilter``; they combine. Pickers apply at once; the
search box waits until typing pauses (``SEARCH_DEBOUNCE_MS``) so a fast typist starts one
query, not one per key. Periods are days of the user's clock (local midnight to midnight),
turned into UTC instants for the store. The custom period's dates can be typed whole or picked
in a calendar (``DateEdit``); a typed text that is not a date is said so under the bar, and the
period stays what it was.

Signals:
    filter_changed(object): the new ``HistoryFilter``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from PySide6.QtCore import QDate, QLocale, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from walleo_desktop.store import HistoryFilter
from walleo_desktop.store.records import PullState
from walleo_desktop.ui.date_edit import DateEdit
from walleo_desktop.ui.flow_layout import FlowLayout

__all__ = ["SEARCH_DEBOUNCE_MS", "HistoryFilters", "Period", "StatusChoice", "period_range"]

SEARCH_DEBOUNCE_MS = 250


class Period(StrEnum):
    ALL = "all"
    TODAY = "today"
    THIS_WEEK = "this_week"
    THIS_MONTH = "this_month"
    LAST_MONTH = "last_month"
    CUSTOM = "custom"


class StatusChoice(StrEnum):
    ALL = "all"
    ISSUED = "issued"
    FAILED = "failed"
    IN_DOUBT = "in_doubt"
    PENDING = "pending"


STATUS_STATES: dict[StatusChoice, tuple[PullState, ...]] = {
    StatusChoice.ALL: (),
    StatusChoice.ISSUED: (PullState.SUCCESS,),
    StatusChoice.FAILED: (PullState.ERROR, PullState.REJECTED),
    StatusChoice.IN_DOUBT: (PullState.IN_DOUBT,),
    StatusChoice.PENDING: (
        PullState.QUEUED,
        PullState.SENDING,
        PullState.WAITING,
        PullState.PROCESSING,
    ),
}


def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, time.min).astimezone()  # naive = local time -> aware


def period_range(
    period: Period,
    today: date,
    first_day_of_week: int = 1,
    custom: tuple[date, date] | None = None,
) -> tuple[datetime | None, datetime | None]:
    """(since, until) for ``period``: local midnights, ``until`` exclusive; None = open.

    ``first_day_of_week`` is ISO (1 = Monday ... 7 = Sunday); ``custom`` is (first, last) day,
    both included.
    """
    if period is Period.TODAY:
        first, after = today, today + timedelta(days=1)
    elif period is Period.THIS_WEEK:
        back = (today.isoweekday() - first_day_of_week) % 7
        first = today - timedelta(days=back)
        after = first + timedelta(days=7)
    elif period is Period.THIS_MONTH:
        first = today.replace(day=1)
        after = (first + timedelta(days=32)).replace(day=1)
    elif period is Period.LAST_MONTH:
        after = today.replace(day=1)
        first = (after - timedelta(days=1)).replace(day=1)
    elif period is Period.CUSTOM and custom is not None:
        first, last = sorted(custom)
        after = last + timedelta(days=1)
    else:
        return None, None
    return _local_midnight(first), _local_midnight(after)


class HistoryFilters(QWidget):
    """Signals:
    filter_changed(object): the new ``HistoryFilter`` (after the debounce, for the search).
    """

    filter_changed = Signal(object)

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        today: Callable[[], date] = date.today,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("historyFilters")
        self._today = today
        self._emitted: HistoryFilter | None = None

        self.period = QComboBox(self)

        self.period.setAccessibleName(self.tr("Period"))
        self.period.setObjectName("historyPeriod")
        for period, label in (
            (Period.ALL, self.tr("All time")),
            (Period.TODAY, self.tr("Today")),
            (Period.THIS_WEEK, self.tr("This week")),
            (Period.THIS_MONTH, self.tr("This month")),
            (Period.LAST_MONTH, self.tr("Last month")),
            (Period.CUSTOM, self.tr("Custom…")),
        ):
            self.period.addItem(label, period.value)
        self.date_from = DateEdit(self)
        self.date_from.setAccessibleName(self.tr("From date"))
        self.date_to = DateEdit(self)
        self.date_to.setAccessibleName(self.tr("To date"))
        for edit, name in ((self.date_from, "historyFrom"), (self.date_to, "historyTo")):
            edit.setObjectName(name)
            edit.setDate(QDate(today()))
            edit.hide()
        self.date_from.setToolTip(self.tr("First day (included)"))
        self.date_to.setToolTip(self.tr("Last day (included)"))
        self._dash = QLabel("–", self)
        self._dash.hide()
        self.date_problem = QLabel(self)
        self.date_problem.setObjectName("historyDateProblem")
        self.date_problem.setStyleSheet("color:#d93025;")
        self.date_problem.setWordWrap(True)
        self.date_problem.setTextFormat(Qt.TextFormat.PlainText)
        self.date_problem.hide()

        self.brand = QComboBox(self)

        self.brand.setAccessibleName(self.tr("Brand"))
        self.brand.setObjectName("historyBrand")
        self.brand.addItem(self.tr("All brands"), "")
        # Wide enough for "All brands" in any language (longer names elide in the list).
        self.brand.setMinimumContentsLength(max(12, len(self.brand.itemText(0)) + 1))
        self.brand.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )

        self.status = QComboBox(self)

        self.status.setAccessibleName(self.tr("Status"))
        self.status.setObjectName("historyStatus")
        for choice, label in (
            (StatusChoice.ALL, self.tr("All statuses")),
            (StatusChoice.ISSUED, self.tr("Issued")),
            (StatusChoice.FAILED, self.tr("Failed")),
            (StatusChoice.IN_DOUBT, self.tr("In doubt")),
            (StatusChoice.PENDING, self.tr("Pending")),
        ):
            self.status.addItem(label, choice.value)

        self.agent = QComboBox(self)

        self.agent.setAccessibleName(self.tr("Agent"))
        self.agent.setObjectName("historyAgent")
        self.agent.addItem(self.tr("All agents"), "")
        self.agent.setMinimumContentsLength(max(10, len(self.agent.itemText(0)) + 1))
        self.agent.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )

        self.search = QLineEdit(self)

        self.search.setAccessibleName(self.tr("Search"))
        self.search.setObjectName("historySearch")
        self.search.setClearButtonEnabled(True)
        self.search.setPlaceholderText(
            self.tr("Search request ID, reference, note, brand or card code (last 4+ digits)")
        )
        self.search.setToolTip(self.search.placeholderText())  # in full, when it is cut
        self.search.setMinimumWidth(260)

        self.clear_button = QToolButton(self)
        self.clear_button.setObjectName("historyClearFilters")
        self.clear_button.setText(self.tr("Clear"))
        self.clear_button.setToolTip(self.tr("Show the whole history again"))

        self._debounce = QTimer(self)
        self._debounce.setObjectName("historySearchDebounce")
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(SEARCH_DEBOUNCE_MS)
        self._debounce.timeout.connect(self._emit)

        # The custom period's two dates stay together when the bar wraps.
        self._range = QWidget(self)
        self._range.setObjectName("historyRange")
        range_layout = QHBoxLayout(self._range)
        range_layout.setContentsMargins(0, 0, 0, 0)
        range_layout.setSpacing(4)
        range_layout.addWidget(self.date_from)
        range_layout.addWidget(self._dash)
        range_layout.addWidget(self.date_to)
        self._range.hide()
        # One line while it fits, more when not (French, the custom dates, a narrow window):
        # never wider than the window can be.
        row = FlowLayout(spacing=6)
        row.addWidget(self.period)
        row.addWidget(self._range)
        row.addWidget(self.brand)
        row.addWidget(self.status)
        row.addWidget(self.agent)
        row.addWidget(self.search)  # expands into what its line leaves
        row.addWidget(self.clear_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addLayout(row)
        layout.addWidget(self.date_problem)

        self.period.currentIndexChanged.connect(self._on_period_changed)
        self.date_from.dateChanged.connect(self._emit)
        self.date_to.dateChanged.connect(self._emit)
        self.date_from.invalid.connect(self._show_date_problem)
        self.date_to.invalid.connect(self._show_date_problem)
        self.brand.currentIndexChanged.connect(self._emit)
        self.status.currentIndexChanged.connect(self._emit)
        self.agent.currentIndexChanged.connect(self._emit)
        self.search.textChanged.connect(self._on_search_edited)
        self.search.returnPressed.connect(self._emit)
        self.clear_button.clicked.connect(self.clear)

    # -- public API ------------------------------------------------------------------------

    def current_filter(self) -> HistoryFilter:
        period = Period(self.period.currentData())
        custom = (self.date_from.date().toPython(), self.date_to.date().toPython())
        first_day = QLocale().firstDayOfWeek().value
        since, until = period_range(period, self._today(), first_day, custom)
        brand = self.brand.currentData() or ""
        agent = self.agent.currentData() or ""
        return HistoryFilter(
            since=since,
            until=until,
            states=STATUS_STATES[StatusChoice(self.status.currentData())],
            gift_card_codes=(brand,) if brand else (),
            agents=(agent,) if agent else (),
            search=self.search.text().strip(),
        )

    def set_choices(self, choices: dict[str, list[object]]) -> None:
        """Brands as (code, name) pairs and agents as names, from the history itself."""
        self._refill(self.brand, self.tr("All brands"), choices.get("gift_card_code", []))
        self._refill(self.agent, self.tr("All agents"), choices.get("agent", []))

    def set_period(self, period: Period, custom: tuple[date, date] | None = None) -> None:
        if custom is not None:
            self.date_from.setDate(QDate(custom[0]))
            self.date_to.setDate(QDate(custom[1]))
        self.period.setCurrentIndex(self.period.findData(period.value))

    def set_status(self, choice: StatusChoice) -> None:
        self.status.setCurrentIndex(self.status.findData(choice.value))

    def clear(self) -> None:
        blockers = [self.period, self.brand, self.status, self.agent, self.search]
        for widget in blockers:
            widget.blockSignals(True)
        try:
            self.period.setCurrentIndex(0)
            self.brand.setCurrentIndex(0)
            self.status.setCurrentIndex(0)
            self.agent.setCurrentIndex(0)
            self.search.clear()
        finally:
            for widget in blockers:
                widget.blockSignals(False)
        self._show_custom(False)
        self._emit()

    # -- internals ---------------------------------------------------------------------------

    def _refill(self, combo: QComboBox, everything: str, values: list[object]) -> None:
        current = combo.currentData() or ""
        combo.blockSignals(True)
        try:
            combo.clear()
            combo.addItem(everything, "")
            for value in values:
                if isinstance(value, (tuple, list)):
                    code, name = str(value[0]), str(value[1])
                    combo.addItem(name, code)
                    combo.setItemData(combo.count() - 1, code, Qt.ItemDataRole.ToolTipRole)
                else:
                    combo.addItem(str(value), str(value))
            index = combo.findData(current)
            if index < 0 and current:  # keep a selection the history no longer lists
                combo.addItem(current, current)
                index = combo.count() - 1
            combo.setCurrentIndex(max(index, 0))
        finally:
            combo.blockSignals(False)

    def _show_custom(self, shown: bool) -> None:
        for widget in (self.date_from, self._dash, self.date_to, self._range):
            widget.setVisible(shown)
        self._show_date_problem()

    def _show_date_problem(self, *_: object) -> None:
        problems = [e.problem() for e in (self.date_from, self.date_to) if e.problem()]
        shown = bool(problems) and self.date_from.isVisibleTo(self)
        if shown:
            problems.append(self.tr("The list still shows the period before."))
        self.date_problem.setText(" ".join(problems))
        self.date_problem.setVisible(shown)

    def _on_period_changed(self) -> None:
        self._show_custom(Period(self.period.currentData()) is Period.CUSTOM)
        self._emit()

    def _on_search_edited(self) -> None:
        self._debounce.start()

    def _emit(self) -> None:
        self._debounce.stop()
        flt = self.current_filter()
        if flt != self._emitted:
            self._emitted = flt
            self.filter_changed.emit(flt)
