"""The live pull table: a thin adapter over engine events, applied in batches.

Engine events (``PullEvent``) are queued by ``enqueue`` and applied by one timer about every
100 ms, and only while events are pending: the new pulls of a batch arrive in one
``beginInsertRows``, each run of changed rows in one ``dataChanged`` with its roles. A second
timer refreshes the Age and Next check columns (``dataChanged`` on those columns only) every
second while unfinished pulls are shown, and every 30 s otherwise, so a finished pull's age
never freezes either.

Rows are newest first. Internally the records are kept oldest first (new ones are appended),
so a pull's position never moves and row ``r`` is ``_pulls[-1 - r]``.

``explain(pull)`` turns Walleo's reasons into plain words plus what to do next.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime
from enum import IntEnum
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QCoreApplication,
    QDateTime,
    QLocale,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QColor

from walleo_desktop.engine import PullEvent
from walleo_desktop.store.records import PullRecord, PullState, utcnow
from walleo_desktop.ui.formatting import currency_symbol, format_amount
from walleo_desktop.ui.icons import OVERDUE_COLOR, state_color, status_icon

__all__ = [
    "PULL_ROLE",
    "Columns",
    "PullTableModel",
    "currency_symbol",
    "explain",
    "format_amount",
    "format_duration",
]

log = logging.getLogger("walleo.ui.table")

PULL_ROLE = Qt.ItemDataRole.UserRole + 1
_PULL = int(PULL_ROLE)
BATCH_INTERVAL_MS = 100
TICK_BUSY_MS = 1_000
TICK_IDLE_MS = 30_000


AnyIndex = QModelIndex | QPersistentModelIndex


class Columns(IntEnum):
    STATUS = 0
    BRAND = 1
    AMOUNT = 2
    REFERENCE = 3
    REQUEST_ID = 4
    AGE = 5
    NEXT_CHECK = 6


_RIGHT_ALIGNED = frozenset({Columns.AMOUNT, Columns.AGE, Columns.NEXT_CHECK})
_ALIGN_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
# The columns whose text depends on the pull only (Age and Next check follow the clock).
_CACHED_COLUMNS = tuple(c for c in Columns if c < Columns.AGE)
_DISPLAY = int(Qt.ItemDataRole.DisplayRole.value)
_DECORATION = int(Qt.ItemDataRole.DecorationRole.value)
_TOOLTIP = int(Qt.ItemDataRole.ToolTipRole.value)
_FOREGROUND = int(Qt.ItemDataRole.ForegroundRole.value)
_ALIGNMENT = int(Qt.ItemDataRole.TextAlignmentRole.value)
_ROW_FLAGS = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
_ROLES = frozenset({_DISPLAY, _DECORATION, _TOOLTIP, _FOREGROUND, _ALIGNMENT, _PULL})


def _tr(text: str) -> str:
    return QCoreApplication.translate("PullTable", text)


def column_headers() -> dict[Columns, str]:
    return {
        Columns.STATUS: _tr("Status"),
        Columns.BRAND: _tr("Brand"),
        Columns.AMOUNT: _tr("Amount"),
        Columns.REFERENCE: _tr("Reference"),
        Columns.REQUEST_ID: _tr("Request ID"),
        Columns.AGE: _tr("Age"),
        Columns.NEXT_CHECK: _tr("Next check"),
    }


def state_label(state: PullState) -> str:
    labels = {
        PullState.QUEUED: _tr("Queued"),
        PullState.SENDING: _tr("Sending"),
        PullState.IN_DOUBT: _tr("In doubt"),
        PullState.WAITING: _tr("Waiting"),
        PullState.PROCESSING: _tr("Processing"),
        PullState.SUCCESS: _tr("Success"),
        PullState.ERROR: _tr("Error"),
        PullState.REJECTED: _tr("Rejected"),
    }
    return labels[state]


def status_text(pull: PullRecord) -> str:
    text = state_label(pull.state)
    if pull.overdue and not pull.final:
        text = _tr("{state} · overdue").format(state=text)
    return text


def format_duration(seconds: float) -> str:
    """``12 s``, ``3 min``, ``2 h``, ``4 d``: short enough for a narrow column."""
    s = max(0, int(seconds))
    if s < 60:
        return _tr("{n} s").format(n=s)
    if s < 3600:
        return _tr("{n} min").format(n=s // 60)
    if s < 86400:
        return _tr("{n} h").format(n=s // 3600)
    return _tr("{n} d").format(n=s // 86400)


def explain(pull: PullRecord) -> str:
    """Why this pull is where it is, in plain words, and what to do next ('' when all is well)."""
    code = pull.error_code
    message = pull.error_message.strip()
    if pull.state in (PullState.ERROR, PullState.REJECTED):
        if code == "out_of_stock":
            return _tr(
                "Walleo has no stock of this card at this amount. Try another amount or brand."
            )
        if code == "not_enough_funds":
            return _tr("Your Walleo balance is too low. Top up your account, then retry.")
        if code == "invalid_signature":
            if "clock" in message.lower():
                return _tr("Walleo refused the request's signature. {reason}").format(
                    reason=message
                )
            return _tr(
                "Walleo refused the request's signature. Check the profile's shared key in "
                "Settings, then retry."
            )
        if code == "unauthorized":
            return _tr(
                "Walleo did not accept the credentials. Check the profile's credentials in "
                "Settings."
            )
        if code == "invalid_amount":
            return _tr("Walleo refused the amount: {reason} Pick an amount from the list.").format(
                reason=message or _tr("it is not one this card accepts.")
            )
        if code == "gift_card_not_found":
            return _tr(
                "Walleo no longer offers this gift card. Refresh the catalog and pick another "
                "brand."
            )
        if code == "configuration":
            return _tr("{reason} Check the profile in Settings.").format(reason=message)
        if pull.state is PullState.ERROR:
            return _tr(
                "Walleo could not issue this card; nothing was charged. Retry to send a new pull."
            )
        return _tr(
            "Walleo refused this pull ({reason}). Nothing was created; fix the cause, then retry."
        ).format(reason=message or code or _tr("no reason given"))
    if pull.final:
        return ""
    if pull.state is PullState.IN_DOUBT:
        return _tr(
            "Walleo's answer was lost; the app is checking whether the card was created. "
            "Do not issue it again."
        )
    if pull.overdue:
        return _tr(
            "Walleo has not finished this pull for over 30 minutes. The app keeps checking; do "
            "not issue it again. If it stays pending, give Walleo support the request ID."
        )
    if pull.state is PullState.QUEUED and code:
        return _tr("Not sent yet: {reason} The app sends it again by itself.").format(
            reason=message or code
        )
    if code:
        return _tr("The last check did not get through ({reason}). The app keeps checking.").format(
            reason=message or code
        )
    return ""


class PullTableModel(QAbstractTableModel):
    """Pulls, newest first, kept current by engine events applied in batches.

    Signals:
        batch_applied(list): the ids of the pulls inserted or changed by one batch.
    """

    batch_applied = Signal(list)

    def __init__(
        self,
        pulls: Iterable[PullRecord] = (),
        parent: QObject | None = None,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        super().__init__(parent)
        self._clock = clock
        self._pulls: list[PullRecord] = sorted(pulls, key=lambda p: p.id)
        self._position: dict[int, int] = {p.id: i for i, p in enumerate(self._pulls)}
        self._unfinished: set[int] = {p.id for p in self._pulls if not p.final}
        self._pending: dict[int, PullRecord] = {}
        # pull id -> (the record the texts were made from, its clock-free column texts)
        self._cells: dict[int, tuple[PullRecord, tuple[str, ...]]] = {}
        self._headers = column_headers()
        self._flush_timer = QTimer(self)
        self._flush_timer.setObjectName("pull-table-batch")
        self._flush_timer.setSingleShot(True)
        self._flush_timer.setInterval(BATCH_INTERVAL_MS)
        self._flush_timer.timeout.connect(self.flush)
        self._tick_timer = QTimer(self)
        self._tick_timer.setObjectName("pull-table-age")
        self._tick_timer.timeout.connect(self._tick)
        self._update_ticking()

    # ------------------------------------------------------------------ feeding

    def enqueue(self, event: PullEvent) -> None:
        """Engine subscriber: remember the newest record of each pull until the next batch."""
        self._pending.pop(event.pull.id, None)  # re-insert: keeps arrival order of the latest
        self._pending[event.pull.id] = event.pull
        if not self._flush_timer.isActive():
            self._flush_timer.start()

    def retry_of(self, pull_id: int) -> PullRecord | None:
        """The retry of the failed pull ``pull_id``, when the table holds it."""
        return next((p for p in self._pulls if p.retry_of == pull_id), None)

    def shows(self, pull_id: int) -> bool:
        """Whether the pull is in the table (or about to be, at the next batch)."""
        return pull_id in self._position or pull_id in self._pending

    @property
    def pending(self) -> int:
        return len(self._pending)

    def flush(self) -> None:
        """Apply every pending event now (the timer calls this; tests may too)."""
        self._flush_timer.stop()
        if not self._pending:
            return
        pending, self._pending = self._pending, {}
        new = sorted(
            (p for pid, p in pending.items() if pid not in self._position), key=lambda p: p.id
        )
        changed_rows: list[int] = []
        for pid, pull in pending.items():
            pos = self._position.get(pid)
            if pos is None:
                continue
            self._pulls[pos] = pull
            changed_rows.append(len(self._pulls) - 1 - pos)
        for pull in pending.values():
            if pull.final:
                self._unfinished.discard(pull.id)
            else:
                self._unfinished.add(pull.id)
        if new:
            # Newest first: the new pulls go on top, all in one insertion.
            self.beginInsertRows(QModelIndex(), 0, len(new) - 1)
            for pull in new:
                self._position[pull.id] = len(self._pulls)
                self._pulls.append(pull)
            self.endInsertRows()
            changed_rows = [r + len(new) for r in changed_rows]
        self._emit_changed(changed_rows)
        self._update_ticking()
        self.batch_applied.emit(list(pending))

    def _emit_changed(self, rows: list[int]) -> None:
        if not rows:
            return
        roles = [
            Qt.ItemDataRole.DisplayRole,
            Qt.ItemDataRole.DecorationRole,
            Qt.ItemDataRole.ToolTipRole,
            Qt.ItemDataRole.ForegroundRole,
            PULL_ROLE,
        ]
        last_col = len(Columns) - 1
        rows.sort()
        start = prev = rows[0]
        for row in [*rows[1:], None]:
            if row is not None and row == prev + 1:
                prev = row
                continue
            self.dataChanged.emit(self.index(start, 0), self.index(prev, last_col), roles)
            if row is not None:
                start = prev = row

    # ------------------------------------------------------------------ ticking

    @property
    def unfinished(self) -> int:
        return len(self._unfinished)

    def _update_ticking(self) -> None:
        if not self._pulls:
            self._tick_timer.stop()
            return
        interval = TICK_BUSY_MS if self._unfinished else TICK_IDLE_MS
        if self._tick_timer.interval() != interval or not self._tick_timer.isActive():
            self._tick_timer.start(interval)

    def _tick(self) -> None:
        if not self._pulls:
            self._tick_timer.stop()
            return
        self.dataChanged.emit(
            self.index(0, Columns.AGE),
            self.index(len(self._pulls) - 1, Columns.NEXT_CHECK),
            [Qt.ItemDataRole.DisplayRole],
        )
        self._update_ticking()

    def stop(self) -> None:
        """Stop both timers (window closing); pending events are dropped."""
        self._flush_timer.stop()
        self._tick_timer.stop()
        self._pending.clear()

    # ------------------------------------------------------------------ lookup

    def pull_at(self, row: int) -> PullRecord | None:
        if 0 <= row < len(self._pulls):
            return self._pulls[len(self._pulls) - 1 - row]
        return None

    def row_of(self, pull_id: int) -> int | None:
        pos = self._position.get(pull_id)
        return None if pos is None else len(self._pulls) - 1 - pos

    def pull(self, pull_id: int) -> PullRecord | None:
        pos = self._position.get(pull_id)
        return None if pos is None else self._pulls[pos]

    # ------------------------------------------------------------------ Qt model API

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._pulls)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(Columns)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(Columns):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self._headers[Columns(section)]
        if role == Qt.ItemDataRole.TextAlignmentRole and section in _RIGHT_ALIGNED:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return _ROW_FLAGS

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        # Called for every role of every visible cell at each paint (~1,400 calls for 30 rows):
        # roles compared as ints, the clock-free texts of a row made once per change of its
        # pull (a paint of the live table went from ~28 ms to ~8 ms, a bare table's ~6 ms).
        role = int(role)
        if role not in _ROLES:
            return None
        pull = self.pull_at(index.row())
        if pull is None:
            return None
        col = index.column()
        if role == _DISPLAY:
            if col >= Columns.AGE:
                return self._display(pull, col)
            cells = self._cells.get(pull.id)
            if cells is None or cells[0] is not pull:
                cells = (pull, tuple(self._display(pull, c) for c in _CACHED_COLUMNS))
                self._cells[pull.id] = cells
            return cells[1][col]
        if role == _PULL:
            return pull
        if role == _DECORATION:
            return status_icon(pull.state, pull.overdue) if col == Columns.STATUS else None
        if role == _TOOLTIP:
            return self._tooltip(pull, col)
        if role == _FOREGROUND:
            if col != Columns.STATUS:
                return None
            if pull.state in (PullState.ERROR, PullState.REJECTED, PullState.IN_DOUBT):
                return state_color(pull.state)
            if pull.overdue and not pull.final:
                return QColor(OVERDUE_COLOR)
            return None
        return _ALIGN_RIGHT if col in _RIGHT_ALIGNED else None

    def _display(self, pull: PullRecord, col: int) -> str:
        if col == Columns.STATUS:
            return status_text(pull)
        if col == Columns.BRAND:
            return pull.gift_card_name or pull.gift_card_code
        if col == Columns.AMOUNT:
            return format_amount(pull.amount, pull.currency)
        if col == Columns.REFERENCE:
            return pull.reference
        if col == Columns.REQUEST_ID:
            return pull.request_id
        if col == Columns.AGE:
            return format_duration((self._clock() - pull.created_at).total_seconds())
        if col == Columns.NEXT_CHECK:
            if pull.final or pull.next_check_at is None:
                return ""
            wait = (pull.next_check_at - self._clock()).total_seconds()
            if wait < 1:
                return _tr("now")
            return _tr("in {duration}").format(duration=format_duration(wait))
        return ""

    def _tooltip(self, pull: PullRecord, col: int) -> str | None:
        reason = explain(pull)
        if reason:
            return reason
        if col == Columns.REQUEST_ID:
            return pull.request_id
        if col == Columns.AGE:
            when = QDateTime.fromMSecsSinceEpoch(int(pull.created_at.timestamp() * 1000))
            return QLocale().toString(when, QLocale.FormatType.LongFormat)
        if col == Columns.REFERENCE and pull.note:
            return pull.note
        return None
