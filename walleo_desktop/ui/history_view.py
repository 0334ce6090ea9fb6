"""The finance tab: the whole history with filters, totals, a chart and CSV/XLSX export.

    ┌ filters: period · brand · status · agent · search ─────────────────────────────┐
    │ totals strip: issued · face value · cost · failed · in doubt · pending  [Export…] │
    │ history table (lazy, sorted in SQL)                                              │
    ├ per-brand totals │ issued value per day, stacked by brand ──────────────────────┤

Everything the view shows comes from ``HistoryModel``, whose queries run on their own thread
and connection (see history_model.py for the measurements behind that). The GUI thread only
reads one pull and its card by id when a row is selected (two primary-key lookups).

Signals:
    pull_selected(object, object): the selected ``PullRecord`` and its ``CardRecord`` or None.
"""

from __future__ import annotations

import logging
import time

from PySide6.QtCore import QItemSelectionModel, QLocale, QModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHeaderView,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid

from walleo_desktop.store import NotFoundError, Store, StoreError, Totals
from walleo_desktop.store.records import PullRecord
from walleo_desktop.ui.async_ops import BackgroundTasks
from walleo_desktop.ui.chart_view import ChartView
from walleo_desktop.ui.export_dialog import ExportDialog
from walleo_desktop.ui.flow_layout import FlowLayout
from walleo_desktop.ui.history_filters import HistoryFilters
from walleo_desktop.ui.history_model import SORT_KEYS, Columns, HistoryModel
from walleo_desktop.ui.pull_table_model import format_amount

__all__ = ["REFRESH_DELAY_MS", "REFRESH_MIN_GAP_MS", "HistoryView"]

log = logging.getLogger("walleo.ui.history")

# A pull changed (here, another window, a teammate): the view reads again this soon after,
# and during a burst no more often than every REFRESH_MIN_GAP_MS, so a teammate's new card is
# on finance's screen within about a second and a half, and a 500-pull batch costs a few
# refreshes, not 500.
REFRESH_DELAY_MS = 250
REFRESH_MIN_GAP_MS = 1500

# Column widths from sample texts in the table's font (never by measuring rows: style.md §5).
_SAMPLES = {
    Columns.DATE: "25/11/2026 23:59",
    Columns.AGENT: "camille.laurent",
    Columns.REFERENCE: "CMD-0000000",
    Columns.BRAND: "Spotify Premium",
    Columns.AMOUNT: "1,500 €",
    Columns.COST: "1,455.50 €",
    Columns.STATUS: "In doubt",
    Columns.REQUEST_ID: "wd-00000000-0000-0000",
    Columns.CARD_ID: "00000000-0000-0000",
    Columns.CODE: "•••• 0000",
    Columns.EXPIRY: "25/11/2026",
}


def _number(value: int) -> str:
    return QLocale().toString(value)


class HistoryView(QWidget):
    """Signals:
    pull_selected(object, object): the selected ``PullRecord`` and its ``CardRecord`` or None.
    """

    pull_selected = Signal(object, object)

    def __init__(
        self,
        store: Store,
        parent: QWidget | None = None,
        *,
        currency: str = "EUR",
        agent: str = "",
    ):
        super().__init__(parent)
        self.setObjectName("historyView")
        self._store = store
        self._agent = agent
        self._tasks = BackgroundTasks(self, "reading the selected pull")
        self._currency = currency
        self._brand_names: dict[str, str] = {}
        self._daily: list[tuple[str, str, int]] = []
        self._dialog: ExportDialog | None = None
        self._selected_id: int | None = None

        self._refresh_timer = QTimer(self)
        self._refresh_timer.setObjectName("historyRefresh")
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(REFRESH_DELAY_MS)
        self._refresh_timer.timeout.connect(self.refresh)
        self._last_refresh = float("-inf")

        self.filters = HistoryFilters(self)
        self.model = HistoryModel(store, self)

        self.table = QTableView(self)
        self.table.setAccessibleName(self.tr("Pull history"))
        self.table.setObjectName("historyTable")
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.setShowGrid(False)
        self.table.setSortingEnabled(False)  # sorting is ORDER BY in SQL, driven below
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.table.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.table.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        vertical = self.table.verticalHeader()
        vertical.hide()
        vertical.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vertical.setDefaultSectionSize(self.fontMetrics().height() + 8)
        header = self.table.horizontalHeader()
        header.setResizeContentsPrecision(0)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setHighlightSections(False)
        header.setStretchLastSection(True)
        header.setSectionsClickable(True)
        header.setSortIndicatorShown(True)
        header.setSortIndicator(Columns.DATE, Qt.SortOrder.DescendingOrder)
        self.table.setModel(self.model)
        self._size_columns()

        # Totals strip
        self.totals_label = QLabel(self)
        self.totals_label.setObjectName("historyTotals")
        self.totals_label.setTextFormat(Qt.TextFormat.RichText)
        self.problems_label = QLabel(self)
        self.problems_label.setObjectName("historyProblems")
        self.problems_label.setTextFormat(Qt.TextFormat.RichText)
        # It takes the width its line leaves: the count and Export stay on the right.
        self.problems_label.setSizePolicy(
            QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred
        )
        self.status_label = QLabel(self)
        self.status_label.setObjectName("historyStatusLine")
        self.status_label.setStyleSheet("color:#5f6368;")
        self.export_button = QPushButton(self.tr("Export…"), self)
        self.export_button.setObjectName("historyExport")
        self.export_button.setToolTip(self.tr("Write the rows shown to a CSV or XLSX file"))
        strip = QFrame(self)
        strip.setObjectName("historyTotalsStrip")
        strip.setFrameShape(QFrame.Shape.StyledPanel)
        # On one line while it fits; the totals (long in French, with big numbers) wrap onto
        # more lines rather than widen the window.
        strip_layout = FlowLayout(strip, spacing=12)
        strip_layout.setContentsMargins(8, 4, 8, 4)
        strip_layout.addWidget(self.totals_label)
        strip_layout.addWidget(self.problems_label)
        strip_layout.addWidget(self.status_label)
        strip_layout.addWidget(self.export_button)

        # Per-brand totals (a dozen rows at most: item widgets are fine here)
        self.brand_table = QTableWidget(0, 4, self)
        self.brand_table.setObjectName("historyBrandTotals")
        self.brand_table.setAccessibleName(self.tr("Totals per brand"))
        for column, title in enumerate(
            [self.tr("Brand"), self.tr("Cards"), self.tr("Face value"), self.tr("Cost")]
        ):
            item = QTableWidgetItem(title)
            item.setTextAlignment(
                (Qt.AlignmentFlag.AlignRight if column else Qt.AlignmentFlag.AlignLeft)
                | Qt.AlignmentFlag.AlignVCenter
            )
            self.brand_table.setHorizontalHeaderItem(column, item)
        self.brand_table.verticalHeader().hide()
        self.brand_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.brand_table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.brand_table.setShowGrid(False)
        self.brand_table.setAlternatingRowColors(True)
        self.brand_table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        brand_header = self.brand_table.horizontalHeader()
        brand_header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        metrics = self.fontMetrics()
        for column, sample in ((1, "000,000"), (2, "0,000,000 €"), (3, "0,000,000 €")):
            title = self.brand_table.horizontalHeaderItem(column).text()
            width = max(metrics.horizontalAdvance(sample), metrics.horizontalAdvance(title))
            brand_header.setSectionResizeMode(column, QHeaderView.ResizeMode.Fixed)
            brand_header.resizeSection(column, width + 12)
        self.brand_table.setMinimumWidth(300)  # narrower than its columns: it scrolls

        self.chart = ChartView(self)

        bottom = QSplitter(Qt.Orientation.Horizontal, self)
        bottom.setObjectName("historyBottomSplitter")
        bottom.setChildrenCollapsible(False)
        bottom.addWidget(self.brand_table)
        bottom.addWidget(self.chart)
        bottom.setStretchFactor(0, 1)
        bottom.setStretchFactor(1, 1)

        self.splitter = QSplitter(Qt.Orientation.Vertical, self)
        self.splitter.setObjectName("historySplitter")
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(self.table)
        self.splitter.addWidget(bottom)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(6)
        layout.addWidget(self.filters)
        layout.addWidget(strip)
        layout.addWidget(self.splitter, 1)

        self.filters.filter_changed.connect(self.model.set_filter)
        header.sectionClicked.connect(self._on_header_clicked)
        self.model.query_started.connect(self._on_query_started)
        self.model.query_finished.connect(self._on_query_finished)
        self.model.totals_ready.connect(self._show_totals)
        self.model.daily_ready.connect(self._show_daily)
        self.model.choices_ready.connect(self._on_choices)
        self.model.failed.connect(self._on_failed)
        self.model.modelReset.connect(self._restore_selection)
        self.table.selectionModel().currentRowChanged.connect(self._on_current_row_changed)
        self.export_button.clicked.connect(self.open_export_dialog)
        self._on_query_started()

    # -- public API ------------------------------------------------------------------------

    def refresh(self) -> None:
        """Read the history again now: count, first page, totals, chart and picker values.

        At 1M pulls that is about a second of work on the query thread (the GUI stays live);
        for engine events, use ``schedule_refresh()``, which coalesces them.
        """
        self._refresh_timer.stop()
        self._last_refresh = time.monotonic()
        self.model.refresh()
        self.model.refresh_choices()

    def schedule_refresh(self) -> None:
        """Refresh once, ``REFRESH_DELAY_MS`` after the first of a burst of calls and at least
        ``REFRESH_MIN_GAP_MS`` after the previous refresh (connect the engine's pull events
        here: a batch of 500 pulls costs a few refreshes, not 500)."""
        if self._refresh_timer.isActive():
            return
        since = (time.monotonic() - self._last_refresh) * 1000
        self._refresh_timer.start(int(max(REFRESH_DELAY_MS, REFRESH_MIN_GAP_MS - since)))

    def shutdown(self) -> None:
        """Stop the background threads (the window calls this when it closes)."""
        self._refresh_timer.stop()
        if self._dialog is not None:
            self._dialog.shutdown()
        self.model.shutdown()

    def open_export_dialog(self) -> ExportDialog:
        from walleo_desktop.engine.pulls import default_agent

        agent = self._agent or default_agent()
        # Opened with the history still counting (Ctrl+E builds the tab): the count follows.
        rows = None if self.model.busy else self.model.rowCount()
        dialog = ExportDialog(self._store, self.model.query, rows, agent=agent, parent=self)
        self.model.query_finished.connect(dialog.set_row_count)
        dialog.finished.connect(lambda _result: self._forget_dialog(dialog))
        self._dialog = dialog
        dialog.open()
        return dialog

    # -- events ------------------------------------------------------------------------------

    def closeEvent(self, event: QCloseEvent) -> None:
        self.shutdown()
        super().closeEvent(event)

    # -- internals ---------------------------------------------------------------------------

    def _size_columns(self) -> None:
        metrics = self.table.fontMetrics()
        header = self.table.horizontalHeader()
        for column, sample in _SAMPLES.items():
            title = str(self.model.headerData(column, Qt.Orientation.Horizontal))
            width = max(metrics.horizontalAdvance(sample), metrics.horizontalAdvance(title) + 16)
            if column == Columns.STATUS:
                width += 22
            header.resizeSection(column, width + 16)

    def _on_header_clicked(self, section: int) -> None:
        column = Columns(section)
        key = SORT_KEYS.get(column)
        header = self.table.horizontalHeader()
        query = self.model.query
        if key is None:  # not sortable: put the indicator back where the order really is
            current = next(c for c, k in SORT_KEYS.items() if k == query.sort)
            order = (
                Qt.SortOrder.DescendingOrder if query.descending else Qt.SortOrder.AscendingOrder
            )
            header.setSortIndicator(current, order)
            return
        if key == query.sort:
            descending = not query.descending
        else:  # dates and money read best biggest/newest first; text A→Z
            descending = column in (Columns.DATE, Columns.AMOUNT, Columns.COST, Columns.EXPIRY)
        header.setSortIndicator(
            section, Qt.SortOrder.DescendingOrder if descending else Qt.SortOrder.AscendingOrder
        )
        self.model.set_sort(key, descending)

    def _on_query_started(self) -> None:
        self.status_label.setText(self.tr("Loading…"))

    def _on_query_finished(self, count: int) -> None:
        if not count:
            text = self.tr("No pulls match")
        elif count == 1:
            text = self.tr("1 pull")
        else:
            text = self.tr("{count} pulls").format(count=_number(count))
        self.status_label.setText(text)
        self.export_button.setEnabled(count > 0)

    def _on_failed(self, message: str) -> None:
        self.status_label.setText(
            self.tr("Could not read the history: {reason}").format(reason=message)
        )

    def _on_choices(self, choices: dict[str, list[object]]) -> None:
        self._brand_names = {
            str(code): str(name)
            for code, name in (c for c in choices.get("gift_card_code", []) if isinstance(c, tuple))
        }
        self.filters.set_choices(choices)
        if self._daily:
            self._show_daily(self._daily)

    def _money(self, value: float, *, cents: bool = False) -> str:
        return format_amount(value, self._currency, cents=cents)

    def _show_totals(self, totals: Totals) -> None:
        template = (
            self.tr("<b>{count}</b> card issued · face value <b>{face}</b> · cost <b>{cost}</b>")
            if totals.count == 1
            else self.tr(
                "<b>{count}</b> cards issued · face value <b>{face}</b> · cost <b>{cost}</b>"
            )
        )
        self.totals_label.setText(
            template.format(
                count=_number(totals.count),
                face=self._money(totals.face_value),
                cost=self._money(totals.cost, cents=True),
            )
        )
        parts = []
        if totals.failed:
            parts.append(
                self.tr('<span style="color:#d93025">{n} failed</span>').format(
                    n=_number(totals.failed)
                )
            )
        if totals.in_doubt:
            parts.append(
                self.tr('<span style="color:#e37400">{n} in doubt</span>').format(
                    n=_number(totals.in_doubt)
                )
            )
        if totals.pending:
            parts.append(self.tr("{n} pending").format(n=_number(totals.pending)))
        self.problems_label.setText(" · ".join(parts))
        rows = sorted(totals.per_brand, key=lambda b: -b.face_value)
        self.brand_table.setRowCount(len(rows))
        right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        for r, brand in enumerate(rows):
            cells = [
                brand.gift_card_name or brand.gift_card_code,
                _number(brand.cards),
                self._money(brand.face_value),
                self._money(brand.cost, cents=True),
            ]
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if c:
                    item.setTextAlignment(right)
                self.brand_table.setItem(r, c, item)

    def _show_daily(self, daily: list[tuple[str, str, int]]) -> None:
        self._daily = daily
        self.chart.set_data(daily, self._brand_names, self._currency)

    def _on_current_row_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        record = self.model.row_at(current.row()) if current.isValid() else None
        if record is None:
            return
        self._emit_pull(record.pull.id)

    def _emit_pull(self, pull_id: int) -> None:
        self._selected_id = pull_id
        self._tasks.spawn(self._load_pull(pull_id))

    async def _load_pull(self, pull_id: int) -> None:
        """The selected pull and its card, read on the database thread, then shown (unless
        another row was selected meanwhile)."""
        try:
            pull: PullRecord = await self._store.get_pull(pull_id)
            card = await self._store.card_for_pull(pull_id) if pull.card_id else None
        except NotFoundError:
            return
        except StoreError as exc:
            log.warning("cannot read pull #%d: %s", pull_id, exc)
            self.model.failed.emit(str(exc))
            return
        if self._selected_id == pull_id and isValid(self):
            self.pull_selected.emit(pull, card)

    def _restore_selection(self) -> None:
        """After a new filter/sort, keep the selected pull selected if it is on the first page."""
        if self._selected_id is None:
            return
        for row in range(min(self.model.rowCount(), 200)):
            record = self.model.row_at(row)
            if record is not None and record.pull.id == self._selected_id:
                self.table.selectionModel().setCurrentIndex(
                    self.model.index(row, 0),
                    QItemSelectionModel.SelectionFlag.ClearAndSelect
                    | QItemSelectionModel.SelectionFlag.Rows,
                )
                return

    def _forget_dialog(self, dialog: ExportDialog) -> None:
        if self._dialog is dialog:
            self._dialog = None
        self.model.query_finished.disconnect(dialog.set_row_count)
        dialog.deleteLater()
