"""The history table's model: a lazy window on a million pulls, every query off the GUI thread.

Measured at 1M pulls (bench/bench_history.py, 2-core machine): a page sorted on an indexed key
takes 2–15 ms, but a search (count ~250 ms), the per-brand totals (~400 ms), the chart's daily
sums (~450 ms), a sort by card expiry (~1.2 s) or a filtered sort on a second key (~140 ms) do
not fit in a frame. So no history query runs on the GUI thread. Two ``HistoryQueries``
threads, each with its own connection (``Store.open_reader``; readers never block the
engine's writes), run them: one for the table (first page, count, pages), one for the totals,
the chart and the picker values, so a page never waits behind a slow sum. Each serves the
newest request first and drops requests whose filter or sort has since changed (a running one
is interrupted).

``HistoryModel`` keeps what the view needs and nothing else (style.md practice 6):

- ``rowCount()`` is the filtered count from SQL (``Store.count_history``); the first page is
  shown before the count is in (the count then adds the remaining rows);
- rows are read in pages of ``PAGE_SIZE`` through ``Store.history(offset, limit)`` when
  ``data()`` first asks for one of their cells, and kept in a small LRU of ``MAX_PAGES`` pages;
  a row not loaded yet shows empty cells for the few milliseconds its page takes;
- sorting is ``ORDER BY`` in SQL (``sort()``; no proxy model); a page past the middle is read
  from the other end in the reverse order, so the deepest OFFSET is half the table;
- a new filter or sort keeps showing the previous rows until the new first page is in, then
  resets once: typing in the search box never blanks the table.

Signals:
    query_started(): a new filter/sort (or refresh) is being read.
    query_finished(int): its count is in (the new row count).
    totals_ready(object): ``Totals`` of the current filter.
    daily_ready(object): ``Store.daily_totals`` rows of the current filter.
    choices_ready(object): ``{"gift_card_code": [(code, name)...], "agent": [...]}``.
    failed(str): a query failed (the text is for the user).
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import IntEnum
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QCoreApplication,
    QDate,
    QDateTime,
    QLocale,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QThread,
    QTimer,
    Signal,
)
from PySide6.QtGui import QColor

from walleo_desktop.api.models import expiry_day
from walleo_desktop.store import HistoryFilter, HistoryRow, Store, StoreCore, Totals
from walleo_desktop.store.records import PullRecord, PullState
from walleo_desktop.ui.icons import state_color, status_icon
from walleo_desktop.ui.pull_table_model import format_amount, status_text

__all__ = [
    "MAX_PAGES",
    "PAGE_SIZE",
    "PULL_ROLE",
    "SORT_KEYS",
    "Columns",
    "HistoryModel",
    "HistoryQueries",
    "Query",
]

log = logging.getLogger("walleo.ui.history")

PAGE_SIZE = 200
MAX_PAGES = 12
PULL_ROLE = Qt.ItemDataRole.UserRole + 1
ROW_ROLE = Qt.ItemDataRole.UserRole + 2

AnyIndex = QModelIndex | QPersistentModelIndex


class Columns(IntEnum):
    DATE = 0
    AGENT = 1
    REFERENCE = 2
    BRAND = 3
    AMOUNT = 4
    COST = 5
    STATUS = 6
    REQUEST_ID = 7
    CARD_ID = 8
    CODE = 9
    EXPIRY = 10


# Column -> Store.history sort key. The masked code has none: four digits carry no order.
SORT_KEYS: dict[Columns, str] = {
    Columns.DATE: "created_at",
    Columns.AGENT: "agent",
    Columns.REFERENCE: "reference",
    Columns.BRAND: "gift_card_name",
    Columns.AMOUNT: "amount",
    Columns.COST: "cost",
    Columns.STATUS: "state",
    Columns.REQUEST_ID: "request_id",
    Columns.CARD_ID: "card_id",
    Columns.EXPIRY: "expire_at",
}
_RIGHT = frozenset({Columns.AMOUNT, Columns.COST})
_FAILED = frozenset({PullState.ERROR, PullState.REJECTED, PullState.IN_DOUBT})
_RIGHT_ALIGN = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
_LEFT_ALIGN = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
_COLUMN_COUNT = len(Columns)
_ROW_FLAGS = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
_DISPLAY = int(Qt.ItemDataRole.DisplayRole.value)
_DECORATION = int(Qt.ItemDataRole.DecorationRole.value)
_TOOLTIP = int(Qt.ItemDataRole.ToolTipRole.value)
_FOREGROUND = int(Qt.ItemDataRole.ForegroundRole.value)
_ALIGNMENT = int(Qt.ItemDataRole.TextAlignmentRole.value)
_PULL = int(PULL_ROLE)
_ROLES = frozenset({_DISPLAY, _DECORATION, _TOOLTIP, _FOREGROUND, _ALIGNMENT, _PULL, int(ROW_ROLE)})


def _tr(text: str) -> str:
    return QCoreApplication.translate("HistoryModel", text)


def column_headers() -> dict[Columns, str]:
    return {
        Columns.DATE: _tr("Date"),
        Columns.AGENT: _tr("Agent"),
        Columns.REFERENCE: _tr("Reference"),
        Columns.BRAND: _tr("Brand"),
        Columns.AMOUNT: _tr("Amount"),
        Columns.COST: _tr("Cost"),
        Columns.STATUS: _tr("Status"),
        Columns.REQUEST_ID: _tr("Request ID"),
        Columns.CARD_ID: _tr("Walleo card ID"),
        Columns.CODE: _tr("Code"),
        Columns.EXPIRY: _tr("Expires"),
    }


def _four_digit_year(fmt: str) -> str:
    return fmt.replace("yyyy", "yy").replace("yy", "yyyy")


def mask_code(last4: str) -> str:
    return f"•••• {last4}" if last4 else ""


@dataclass(frozen=True, slots=True)
class Query:
    """What the table shows: a filter and an order."""

    flt: HistoryFilter = field(default_factory=HistoryFilter)
    sort: str = "created_at"
    descending: bool = True


# -- the query thread ---------------------------------------------------------------------------


@dataclass(slots=True)
class _Job:
    generation: int
    kind: str  # "reset" | "page" | "summary" | "choices"
    query: Query
    page: int = 0
    total: int = 0


# Sorts whose reverse is not the exact mirror (pulls without a card stay last both ways).
_NOT_REVERSIBLE = frozenset({"expire_at"})

_PRIORITY = {"reset": 0, "page": 1, "summary": 2, "choices": 3}


class HistoryQueries(QThread):
    """Runs history queries on its own ``Store`` (same file), one at a time, off the GUI thread.

    Requests carry a generation; ``start_generation`` makes every older request stale: those
    not started are dropped, the running one is interrupted. Pages are served newest request
    first (the screen the user looks at now, not the ones scrolled past).

    Signals (delivered in the GUI thread):
        reset_ready(int, int, object): generation, total (-1: still counting, count_ready
            follows), first page (its rows; their texts are made when first shown).
        count_ready(int, int): generation, total.
        page_ready(int, int, object): generation, page number, its rows.
        totals_ready(int, object), daily_ready(int, object): generation, result.
        choices_ready(object): distinct brands and agents.
        failed(int, str): generation, message.
    """

    reset_ready = Signal(int, int, object)
    count_ready = Signal(int, int)
    page_ready = Signal(int, int, object)
    totals_ready = Signal(int, object)
    daily_ready = Signal(int, object)
    choices_ready = Signal(object)
    failed = Signal(int, str)

    def __init__(
        self,
        opener: Callable[[], StoreCore],
        name: str,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self._opener = opener
        self._cond = threading.Condition()
        self._jobs: list[_Job] = []
        self._generation = 0
        self._running: _Job | None = None
        self._store: StoreCore | None = None
        self._stopping = False
        self.queries_run = 0

    # GUI thread -------------------------------------------------------------------------------

    def start_generation(self) -> int:
        """A new filter/sort: every earlier request is stale. Returns the new generation."""
        with self._cond:
            self._generation += 1
            self._jobs = [j for j in self._jobs if j.kind == "choices"]
            running = self._running
            if (
                running is not None
                and running.kind != "choices"
                and running.generation < self._generation
                and self._store is not None
            ):
                self._store.interrupt()
            return self._generation

    def submit(self, job: _Job) -> None:
        with self._cond:
            if job.generation < self._generation and job.kind != "choices":
                return
            self._jobs.append(job)
            self._cond.notify()

    def stop(self, timeout_ms: int = 5000) -> None:
        """Stop the thread (interrupting a running query) and wait for it."""
        with self._cond:
            self._stopping = True
            self._jobs.clear()
            if self._store is not None and self._running is not None:
                self._store.interrupt()
            self._cond.notify()
        if self.isRunning() and not self.wait(timeout_ms):
            log.warning("the history query thread did not stop within %d ms", timeout_ms)

    # query thread -----------------------------------------------------------------------------

    def _next(self) -> _Job | None:
        with self._cond:
            while not self._jobs and not self._stopping:
                self._cond.wait()
            if self._stopping:
                return None
            # Most urgent kind first; among pages, the newest request first.
            best = min(
                range(len(self._jobs)),
                key=lambda i: (_PRIORITY[self._jobs[i].kind], -i),
            )
            job = self._jobs.pop(best)
            self._running = job
            return job

    def _stale(self, job: _Job) -> bool:
        with self._cond:
            return self._stopping or (job.kind != "choices" and job.generation < self._generation)

    def run(self) -> None:
        try:
            store = self._opener()
        except Exception as exc:
            log.exception("cannot open the history for the history view")
            self.failed.emit(0, str(exc))
            return
        with self._cond:
            self._store = store
        try:
            while (job := self._next()) is not None:
                try:
                    self._run(store, job)
                except Exception as exc:
                    if not self._stale(job):
                        log.exception("history query %s failed", job.kind)
                        self.failed.emit(job.generation, str(exc))
                finally:
                    with self._cond:
                        self._running = None
        finally:
            with self._cond:
                self._store = None
            store.close()

    def _run(self, store: StoreCore, job: _Job) -> None:
        q = job.query
        self.queries_run += 1
        if job.kind == "reset":
            # The first screen before the count: a search's count reads every row (~250 ms
            # at 1M pulls), its first page only as many as it takes to find 200.
            page = store.history(q.flt, sort=q.sort, descending=q.descending, limit=PAGE_SIZE)
            full = len(page.rows) == PAGE_SIZE
            if self._stale(job):
                return
            shown = _Page(page.rows, [None] * len(page.rows))
            self.reset_ready.emit(job.generation, -1 if full else len(page.rows), shown)
            if full:
                total = store.count_history(q.flt)
                if not self._stale(job):
                    self.count_ready.emit(job.generation, total)
        elif job.kind == "page":
            rows = _read_page(store, q, job)
            if not self._stale(job):
                self.page_ready.emit(job.generation, job.page, _Page(rows, [None] * len(rows)))
        elif job.kind == "summary":
            totals = store.totals(q.flt)
            if self._stale(job):
                return
            self.totals_ready.emit(job.generation, totals)
            daily = store.daily_totals(q.flt)
            if not self._stale(job):
                self.daily_ready.emit(job.generation, daily)
        elif job.kind == "choices":
            self.choices_ready.emit(
                {
                    "gift_card_code": _brand_choices(store),
                    "agent": store.distinct_values("agent"),
                }
            )


def _read_page(store: StoreCore, q: Query, job: _Job) -> list[HistoryRow]:
    offset = job.page * PAGE_SIZE
    limit = min(PAGE_SIZE, max(job.total - offset, 0)) or PAGE_SIZE
    reversible = q.sort not in _NOT_REVERSIBLE
    if reversible and offset + limit > job.total // 2 and job.total > 2 * PAGE_SIZE:
        # Past the middle: read from the other end (reverse order), so OFFSET stays small.
        reverse_offset = max(job.total - offset - limit, 0)
        page = store.history(
            q.flt,
            sort=q.sort,
            descending=not q.descending,
            offset=reverse_offset,
            limit=limit,
        )
        return page.rows[::-1]
    return store.history(
        q.flt, sort=q.sort, descending=q.descending, offset=offset, limit=limit
    ).rows


def _brand_choices(store: StoreCore) -> list[tuple[str, str]]:
    """(code, name) of every brand in the history, by name."""
    choices = []
    for code in store.distinct_values("gift_card_code"):
        latest = store.history(HistoryFilter(gift_card_codes=(code,)), limit=1).rows
        name = latest[0].pull.gift_card_name if latest else ""
        choices.append((code, name or code))
    return sorted(choices, key=lambda choice: choice[1].casefold())


# -- the model ----------------------------------------------------------------------------------


@dataclass(slots=True)
class _Page:
    rows: list[HistoryRow]
    texts: list[tuple[str, ...] | None]  # each row's cell texts, made when first shown


class HistoryModel(QAbstractTableModel):
    """See the module docstring. ``store`` is only used for its path: the queries run on the
    model's own thread and connection. Call ``shutdown()`` before the application quits."""

    query_started = Signal()
    query_finished = Signal(int)
    totals_ready = Signal(object)
    daily_ready = Signal(object)
    choices_ready = Signal(object)
    failed = Signal(str)

    def __init__(self, store: Store, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._headers = column_headers()
        self._query = Query()
        self._generation = 0
        self._count = 0
        self._pages: OrderedDict[int, _Page] = OrderedDict()
        self._pending: set[int] = set()
        self._loading = False
        self._counting = False
        self.pages_fetched = 0  # pages read from SQL since the model was made (tests, bench)
        self._placeholder = QColor("#9aa0a6")
        self._locale = QLocale()
        if self._locale.language() == QLocale.Language.C:  # no user locale: ISO, unambiguous
            self._date_format = "yyyy-MM-dd"
            self._datetime_format = "yyyy-MM-dd HH:mm"
        else:  # the user's numeric dates, always with a 4-digit year and a 24 h clock
            self._date_format = _four_digit_year(
                self._locale.dateFormat(QLocale.FormatType.ShortFormat)
            )
            self._datetime_format = f"{self._date_format} HH:mm"
        # Two threads, two connections: the table's pages never wait behind the totals and
        # the chart (a second or so at 1M pulls with a search).
        self._rows = HistoryQueries(store.open_reader, "historyRowQueries", self)
        self._summary = HistoryQueries(store.open_reader, "historySummaryQueries", self)
        self._rows.reset_ready.connect(self._on_reset_ready)
        self._rows.count_ready.connect(self._on_count_ready)
        self._rows.page_ready.connect(self._on_page_ready)
        self._summary.totals_ready.connect(self._on_totals_ready)
        self._summary.daily_ready.connect(self._on_daily_ready)
        self._summary.choices_ready.connect(self.choices_ready)
        for thread in (self._rows, self._summary):
            thread.failed.connect(self._on_failed)
            thread.start()
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)
        self._start(self._query)
        self.refresh_choices()

    # -- public API ------------------------------------------------------------------------

    @property
    def query(self) -> Query:
        return self._query

    @property
    def loading(self) -> bool:
        """A new filter/sort is being read; the rows shown are still the previous ones."""
        return self._loading

    @property
    def busy(self) -> bool:
        """The first page or the count of the current filter/sort is not in yet."""
        return self._loading or self._counting

    @property
    def cached_pages(self) -> list[int]:
        return list(self._pages)

    def set_filter(self, flt: HistoryFilter) -> None:
        if flt != self._query.flt:
            self._start(replace(self._query, flt=flt))

    def set_sort(self, sort: str, descending: bool) -> None:
        if (sort, descending) != (self._query.sort, self._query.descending):
            self._start(replace(self._query, sort=sort, descending=descending))

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Header clicks: ORDER BY in SQL. Columns without a sort key are ignored."""
        key = SORT_KEYS.get(Columns(column)) if 0 <= column < len(Columns) else None
        if key is not None:
            self.set_sort(key, order == Qt.SortOrder.DescendingOrder)

    def refresh(self) -> None:
        """Read the current filter again (new pulls were recorded)."""
        self._start(self._query)

    def refresh_choices(self) -> None:
        self._summary.submit(_Job(self._generation, "choices", self._query))

    def row_at(self, row: int) -> HistoryRow | None:
        """The row's record if its page is loaded (it is, for any row the user can click)."""
        page = self._pages.get(row // PAGE_SIZE)
        if page is None or row % PAGE_SIZE >= len(page.rows):
            return None
        return page.rows[row % PAGE_SIZE]

    def shutdown(self) -> None:
        """Stop the query thread (idempotent)."""
        for thread in (self._rows, self._summary):
            if thread.isRunning():
                thread.stop()

    # -- Qt model API ------------------------------------------------------------------------

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self._count

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(Columns)

    def headerData(
        self,
        section: int,
        orientation: Qt.Orientation,
        role: int = Qt.ItemDataRole.DisplayRole,
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(Columns):
            return None
        column = Columns(section)
        if role == Qt.ItemDataRole.DisplayRole:
            return self._headers[column]
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return _RIGHT_ALIGN if column in _RIGHT else _LEFT_ALIGN
        return None

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return _ROW_FLAGS

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        # Asked for every role of every visible cell at each paint (~2,000 calls): roles
        # compared as ints, the roles the model never gives answered first.
        role = int(role)
        if role not in _ROLES:
            return None
        row, column = index.row(), index.column()
        if not 0 <= row < self._count or not 0 <= column < _COLUMN_COUNT:
            return None
        page_no = row // PAGE_SIZE
        page = self._pages.get(page_no)
        if page is None:
            self._request_page(page_no)
            if role == _DISPLAY:
                return "…" if column == Columns.DATE else ""
            if role == _FOREGROUND:
                return self._placeholder
            return None
        if page_no:  # the first page is the one shown most: no LRU bookkeeping for it
            self._pages.move_to_end(page_no)
        offset = row % PAGE_SIZE
        if offset >= len(page.rows):  # the history shrank under us: refresh() will fix it
            return None
        if role == _DISPLAY:
            texts = page.texts[offset]
            if texts is None:  # formatted when first shown: a first screen formats ~25 rows
                texts = page.texts[offset] = self._texts(page.rows[offset])
            return texts[column]
        if role == _ALIGNMENT:
            return _RIGHT_ALIGN if column in _RIGHT else _LEFT_ALIGN
        record = page.rows[offset]
        if role == _DECORATION:
            return (
                status_icon(record.pull.state, record.pull.overdue)
                if column == Columns.STATUS
                else None
            )
        if role == _FOREGROUND:
            if column == Columns.STATUS and record.pull.state in _FAILED:
                return state_color(record.pull.state)
            return None
        if role == _TOOLTIP:
            return self._tooltip(record, Columns(column))
        if role == _PULL:
            return record.pull
        return record  # ROW_ROLE

    # -- internals ---------------------------------------------------------------------------

    def _start(self, query: Query) -> None:
        self._query = query
        self._generation = self._rows.start_generation()
        self._summary.start_generation()
        self._pending.clear()
        self._loading = self._counting = True
        self.query_started.emit()
        self._rows.submit(_Job(self._generation, "reset", query))
        # The totals and the chart are asked for once the first screen is in (_on_reset_ready).

    def _request_page(self, page_no: int) -> None:
        if page_no in self._pending or self._loading:
            return
        self._pending.add(page_no)
        total = 0 if self._counting else self._count  # 0: no reverse read while counting
        self._rows.submit(_Job(self._generation, "page", self._query, page_no, total))

    def _store_page(self, page_no: int, page: _Page) -> None:
        self.pages_fetched += 1
        self._pages[page_no] = page
        self._pages.move_to_end(page_no)
        while len(self._pages) > MAX_PAGES:
            self._pages.popitem(last=False)

    def _on_reset_ready(self, generation: int, total: int, page: _Page) -> None:
        if generation != self._generation:
            return
        rows = page.rows
        self.beginResetModel()
        self._pages.clear()
        self._pending.clear()
        self._count = len(rows) if total < 0 else total
        self._loading = False
        self._counting = total < 0
        if rows:
            self._store_page(0, page)
        self.endResetModel()
        # The totals and the chart follow the first screen, after its paint: run alongside its
        # query, formatting and paint, they competed with them for the GIL and their results
        # for the GUI thread (bench/bench_history.py: a quarter of the first screen's time).
        query = self._query
        QTimer.singleShot(0, self, lambda: self._submit_summary(generation, query))
        if not self._counting:
            self.query_finished.emit(self._count)

    def _submit_summary(self, generation: int, query: Query) -> None:
        if generation == self._generation:
            self._summary.submit(_Job(generation, "summary", query))

    def _on_count_ready(self, generation: int, total: int) -> None:
        if generation != self._generation or self._loading:
            return
        self._counting = False
        if total > self._count:
            self.beginInsertRows(QModelIndex(), self._count, total - 1)
            self._count = total
            self.endInsertRows()
        self.query_finished.emit(self._count)

    def _on_page_ready(self, generation: int, page_no: int, page: _Page) -> None:
        self._pending.discard(page_no)
        if generation != self._generation or self._loading:
            return
        self._store_page(page_no, page)
        first = page_no * PAGE_SIZE
        last = min(first + PAGE_SIZE, self._count) - 1
        if last >= first:
            self.dataChanged.emit(self.index(first, 0), self.index(last, len(Columns) - 1))

    def _on_totals_ready(self, generation: int, totals: Totals) -> None:
        if generation == self._generation:
            self.totals_ready.emit(totals)

    def _on_daily_ready(self, generation: int, daily: list[tuple[str, str, int]]) -> None:
        if generation == self._generation:
            self.daily_ready.emit(daily)

    def _on_failed(self, generation: int, message: str) -> None:
        if generation in (0, self._generation):
            if generation == self._generation:
                self._loading = self._counting = False
            self.failed.emit(message)

    def _when(self, moment: datetime | None, with_time: bool = True) -> str:
        if moment is None:
            return ""
        local = QDateTime.fromMSecsSinceEpoch(int(moment.timestamp() * 1000))
        if with_time:
            return self._locale.toString(local, self._datetime_format)
        return self._locale.toString(local.date(), self._date_format)

    def _texts(self, row: HistoryRow) -> tuple[str, ...]:
        pull = row.pull
        return (
            self._when(pull.created_at),
            pull.agent,
            pull.reference,
            pull.gift_card_name or pull.gift_card_code,
            format_amount(pull.amount, pull.currency),
            # What was paid: only an issued card costs anything.
            format_amount(pull.cost, pull.currency, cents=True)
            if pull.state is PullState.SUCCESS
            else "—",
            status_text(pull),
            pull.request_id,
            pull.card_id,
            mask_code(row.card_code_last4),
            self._expiry(row.card_expire_at),
        )

    def _expiry(self, moment: datetime | None) -> str:
        """Walleo's expiry day (``expiry_day``), the one printed on the card's PDF."""
        if moment is None:
            return ""
        day = expiry_day(moment)
        return self._locale.toString(QDate(day.year, day.month, day.day), self._date_format)

    def _tooltip(self, row: HistoryRow, column: Columns) -> str | None:
        pull: PullRecord = row.pull
        if column == Columns.STATUS and (pull.error_message or pull.error_code):
            return ": ".join(part for part in (pull.error_code, pull.error_message) if part)
        if column == Columns.REFERENCE and pull.note:
            return _tr("Note: {note}").format(note=pull.note)
        if column == Columns.COST and pull.state is not PullState.SUCCESS:
            return _tr("No card was issued: nothing was charged")
        if column == Columns.COST and pull.discount:
            return _tr("Face value less the partner discount ({discount} %)").format(
                discount=pull.discount
            )
        return None
