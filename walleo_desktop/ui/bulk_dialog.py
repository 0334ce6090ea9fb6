"""Pulls → Bulk order from a file…: choose a CSV or XLSX order, preview it, confirm once, follow
the batch, pause and resume it, open the results file.

The file is read and checked off the GUI thread (``engine.bulk.preview_file``: a thread, then
the database threads), and counted there too (``Preview.summary``: problems, duplicates,
totals with or without them): nothing here walks the rows. The table is a
``QAbstractTableModel`` over the preview's rows that maps a row to its cells only in
``data()``, for the rows painted (``engine.bulk.OrderRows`` builds a row when first asked), so
50,000 rows cost nothing to show. Progress is read from the run every 100 ms
(``BulkRun.progress``, a snapshot), never per engine event. Dialogs are opened, never exec'd
(no nested event loop under qasync).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QCoreApplication,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    QTimer,
    QUrl,
    Signal,
)
from PySide6.QtGui import QColor, QDesktopServices
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from walleo_desktop.engine import Session, bulk
from walleo_desktop.store.records import PullRecord
from walleo_desktop.ui.async_ops import AsyncOps
from walleo_desktop.ui.formatting import format_amount

__all__ = ["BulkDialog", "BulkPreviewModel", "problem_text"]

log = logging.getLogger("walleo.ui.bulk")

AnyIndex = QModelIndex | QPersistentModelIndex
PROGRESS_MS = 100
_ERROR_BG = QColor("#fce8e6")
_WARN_BG = QColor("#fef7e0")


def _tr(text: str) -> str:
    return QCoreApplication.translate("BulkOrder", text)


def _texts() -> dict[str, str]:
    return {
        "not_found": _tr("There is no file {path}."),
        "unreadable": _tr("The file cannot be read: {error}."),
        "unsupported": _tr("Only .csv and .xlsx files can be read (not {suffix})."),
        "too_big": _tr("The file is {size} bytes; at most {max} bytes can be read."),
        "unpacked_too_big": _tr("The spreadsheet unpacks to {size} bytes; at most {max} are read."),
        "not_text": _tr("The file is neither UTF-8 nor Windows-1252 text."),
        "bad_csv": _tr("Row {row}: the file cannot be read as CSV ({error})."),
        "bad_xlsx": _tr("The file cannot be read as an XLSX spreadsheet ({error})."),
        "no_sheet": _tr("The spreadsheet has no visible worksheet."),
        "empty": _tr("The file holds no rows."),
        "no_header": _tr(
            "Row {row} names none of the columns brand, amount, quantity, reference, note."
        ),
        "delimiter_unclear": _tr(
            "The header can be split by {delimiters} alike; save the file again."
        ),
        "missing_columns": _tr("Row {row} has no {missing} column (found: {found})."),
        "duplicate_column": _tr("Two columns are the {column}: {headers}."),
        "too_many_rows": _tr("The file holds more than {max} rows; split it."),
        "too_many_cards": _tr(
            "The order is {cards} cards; at most {max} can be issued from one file."
        ),
        "encoding_cp1252": _tr(
            "The file is not UTF-8: it was read as Windows-1252; check the accents."
        ),
        "ignored_columns": _tr("Not used: {columns}."),
        "other_sheets": _tr("Only the worksheet {sheet} was read (also in the file: {others})."),
        "missing_brand": _tr("No brand."),
        "unknown_brand": _tr("No brand “{brand}” in the catalog."),
        "ambiguous_brand": _tr("“{brand}” names several brands ({codes}): use the code."),
        "missing_amount": _tr("No amount."),
        "amount_not_number": _tr("“{text}” is not an amount."),
        "amount_ambiguous": _tr(
            "“{text}” could be {first} or {second}: write it without separator."
        ),
        "amount_not_whole": _tr("“{text}” is not a whole amount."),
        "amount_formula": _tr(
            "“{text}” looks like a formula: formulas are not computed; type the amount."
        ),
        "amount_date": _tr("“{text}” is a date, not an amount."),
        "amount_out_of_range": _tr("The amount must be from 1 to {max}."),
        "amount_refused": _tr("{brand} does not take {amount}: {rule}"),
        "quantity_invalid": _tr("“{text}” is not a number of cards."),
        "quantity_out_of_range": _tr("The quantity must be from 1 to {max}."),
        "missing_reference": _tr("No reference."),
        "control_chars": _tr("The {column} holds a line break or another control character."),
        "too_long": _tr("The {column} is {length} characters long; at most {max}."),
        "reference_repeated": _tr("The reference is also on row(s) {rows}."),
        "formula_text": _tr("The {column} looks like a formula; it is kept as text."),
        "email_invalid": _tr("“{text}” does not look like an e-mail address."),
    }


def _columns() -> dict[str, str]:
    return {
        "brand": _tr("brand"),
        "amount": _tr("amount"),
        "quantity": _tr("quantity"),
        "reference": _tr("reference"),
        "note": _tr("note"),
        "email": _tr("e-mail"),
    }


def _describe_rule(problem: bulk.Problem, row: bulk.OrderRow | None) -> str:
    card = row.gift_card if row is not None else None
    if card is None:
        return str(problem.params.get("rule", ""))
    fv = card.facial_values
    if fv.type == "fixed":
        return _tr("its amounts are {amounts}.").format(amounts=", ".join(map(str, fv.amounts)))
    if fv.type == "free" and fv.min_amount is not None and fv.max_amount is not None:
        return _tr("from {low} to {high}, in steps of {step}.").format(
            low=fv.min_amount, high=fv.max_amount, step=fv.step_amount
        )
    return str(problem.params.get("rule", ""))


def problem_text(problem: bulk.Problem, row: bulk.OrderRow | None = None) -> str:
    """A problem of the file or of a row, in the window's language."""
    template = _texts().get(problem.kind)
    if template is None:
        return problem.text
    params: dict[str, Any] = {}
    for key, value in problem.params.items():
        if key == "column":
            value = _columns().get(str(value), value)
        params[key] = f"{value:,}" if isinstance(value, int) and key != "row" else value
    if problem.kind == "amount_refused":
        params["rule"] = _describe_rule(problem, row)
    try:
        return template.format(**params)
    except (KeyError, ValueError, IndexError):
        return problem.text


class BulkPreviewModel(QAbstractTableModel):
    """The preview's rows: row number, brand, amount, quantity, reference, note, status."""

    HEADERS = ("row", "brand", "amount", "quantity", "reference", "note", "check")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._rows: Sequence[bulk.OrderRow] = ()
        self._currency = "EUR"

    def set_preview(self, preview: bulk.Preview | None, currency: str) -> None:
        self.beginResetModel()
        self._rows = preview.rows if preview is not None else ()  # not copied: built lazily
        self._currency = currency
        self.endResetModel()

    def row_at(self, row: int) -> bulk.OrderRow | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role != Qt.ItemDataRole.DisplayRole or orientation != Qt.Orientation.Horizontal:
            return None
        return (
            _tr("Row"),
            _tr("Brand"),
            _tr("Amount"),
            _tr("Quantity"),
            _tr("Reference"),
            _tr("Note"),
            _tr("Check"),
        )[section]

    def status(self, row: bulk.OrderRow) -> str:
        if row.errors:
            return "; ".join(problem_text(p, row) for p in row.errors)
        parts = []
        if row.journaled:
            parts.append(_tr("Journaled earlier in this order"))
        elif row.duplicates:
            first: PullRecord = row.duplicates[0]
            parts.append(
                _tr("Already issued on {when} by {agent}").format(
                    when=first.created_at.astimezone().strftime("%Y-%m-%d %H:%M"),
                    agent=first.agent or _tr("someone"),
                )
            )
        parts += [problem_text(p, row) for p in row.warnings]
        return "; ".join(parts) or _tr("Ready")

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        row = self.row_at(index.row())
        if row is None:
            return None
        col = index.column()
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            if col == 0:
                return str(row.number)
            if col == 1:
                return row.gift_card.name if row.gift_card is not None else row.brand
            if col == 2:
                if row.amount is not None:
                    return format_amount(row.amount, self._currency)
                return row.amount_text
            if col == 3:
                return str(row.count) if row.count is not None else row.quantity_text
            if col == 4:
                return row.reference
            if col == 5:
                return row.note
            return self.status(row)
        if role == Qt.ItemDataRole.BackgroundRole:
            if row.errors:
                return _ERROR_BG
            if row.warnings or (row.duplicates and not row.journaled):
                return _WARN_BG
        if role == Qt.ItemDataRole.ForegroundRole and (row.errors or row.warnings):
            return QColor("#202124")  # readable on the light backgrounds, dark palette too
        return None


class BulkDialog(QDialog):
    """Signals: results_written(str): the results file's path."""

    results_written = Signal(str)

    def __init__(self, session: Session, ops: AsyncOps, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("bulkDialog")
        self.setWindowTitle(self.tr("Bulk order from a file"))
        self._session = session
        self._ops = ops
        self._currency = session.connection.currency
        self.preview: bulk.Preview | None = None
        self.run: bulk.BulkRun | None = None
        self.results_path: Path | None = None
        self.question: QMessageBox | None = None  # open while it asks
        self.chunk_cards = bulk.CHUNK_CARDS

        self.path = QLineEdit(self)
        self.path.setObjectName("bulkPath")
        self.path.setReadOnly(True)
        self.path.setPlaceholderText(self.tr("A CSV or XLSX file: brand, amount, quantity…"))
        self.choose_button = QPushButton(self.tr("&Choose a file…"), self)
        self.choose_button.setObjectName("bulkChoose")
        self.message = QLabel(self)
        self.message.setObjectName("bulkMessage")
        self.message.setWordWrap(True)
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        self.model = BulkPreviewModel(self)
        self.table = QTableView(self)
        self.table.setObjectName("bulkTable")
        self.table.setModel(self.model)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.totals = QLabel(self)
        self.totals.setObjectName("bulkTotals")
        self.totals.setWordWrap(True)
        self.totals.setTextFormat(Qt.TextFormat.PlainText)
        self.include_duplicates = QCheckBox(self)
        self.include_duplicates.setObjectName("bulkIncludeDuplicates")
        self.include_duplicates.hide()
        self.progress_bar = QProgressBar(self)
        self.progress_bar.setObjectName("bulkProgress")
        self.progress_bar.hide()
        self.progress_text = QLabel(self)
        self.progress_text.setObjectName("bulkProgressText")
        self.progress_text.setTextFormat(Qt.TextFormat.PlainText)
        self.confirm_button = QPushButton(self.tr("&Issue…"), self)
        self.confirm_button.setObjectName("bulkConfirm")
        self.confirm_button.setEnabled(False)
        self.pause_button = QPushButton(self.tr("&Pause"), self)
        self.pause_button.setObjectName("bulkPause")
        self.pause_button.hide()
        self.stop_button = QPushButton(self.tr("&Stop"), self)
        self.stop_button.setObjectName("bulkStop")
        self.stop_button.setToolTip(
            self.tr("Journal no more cards; the cards journaled are still finished")
        )
        self.stop_button.hide()
        self.open_results_button = QPushButton(self.tr("&Open results"), self)
        self.open_results_button.setObjectName("bulkOpenResults")
        self.open_results_button.hide()
        self.close_button = QPushButton(self.tr("Close"), self)
        self.close_button.setObjectName("bulkClose")

        top = QHBoxLayout()
        top.addWidget(self.path, 1)
        top.addWidget(self.choose_button)
        buttons = QHBoxLayout()
        buttons.addWidget(self.progress_text, 1)
        for b in (
            self.open_results_button,
            self.pause_button,
            self.stop_button,
            self.confirm_button,
            self.close_button,
        ):
            buttons.addWidget(b)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.message)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.totals)
        layout.addWidget(self.include_duplicates)
        layout.addWidget(self.progress_bar)
        layout.addLayout(buttons)
        self.resize(900, 560)

        self._timer = QTimer(self)
        self._timer.setInterval(PROGRESS_MS)
        self._timer.timeout.connect(self._show_progress)
        self.choose_button.clicked.connect(self.choose_file)
        self.confirm_button.clicked.connect(self.ask_confirmation)
        self.pause_button.clicked.connect(self.toggle_pause)
        self.stop_button.clicked.connect(self.stop)
        self.open_results_button.clicked.connect(self.open_results)
        self.close_button.clicked.connect(self.reject)
        self.include_duplicates.toggled.connect(self._show_totals)

    # ------------------------------------------------------------------ loading

    def choose_file(self) -> None:
        dialog = QFileDialog(self, self.tr("Choose an order file"))
        dialog.setNameFilter(self.tr("Orders (*.csv *.xlsx);;All files (*)"))
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.fileSelected.connect(lambda path: self.load(Path(path)))
        dialog.open()

    def load(self, path: Path) -> None:
        """Read and check ``path`` off the GUI thread; the preview replaces the last one."""
        if self.running:
            return
        self.path.setText(str(path))
        self.message.setText(self.tr("Reading and checking the file…"))
        self.confirm_button.setEnabled(False)
        self.model.set_preview(None, self._currency)
        self.totals.clear()
        session = self._session

        def shown(preview: bulk.Preview) -> None:
            self.preview = preview
            self.model.set_preview(preview, self._currency)
            self._show_preview(preview)

        def failed(exc: BaseException) -> None:
            self.preview = None
            if isinstance(exc, bulk.BulkFileError):
                self.message.setText(problem_text(exc.problem) + " " + self.tr("Nothing was sent."))
            else:
                log.error("the order file could not be previewed", exc_info=exc)
                self.message.setText(self.tr("The file could not be read. See the log."))

        self._ops.run(
            "bulk:preview",
            lambda: bulk.preview_file(
                path, session.catalog.cached(), session.store, profile=session.engine.profile
            ),
            trigger=self.choose_button,
            on_success=shown,
            on_error=failed,
        )

    def _show_preview(self, preview: bulk.Preview) -> None:
        summary = preview.summary
        lines = [problem_text(n) for n in preview.notes]
        lines += [problem_text(b) for b in preview.blocking]
        bad = summary.error_rows
        lines.append(
            self.tr(
                "{rows} row(s): {ok} ready, {bad} with problems, {empty} empty skipped."
            ).format(
                rows=summary.rows,
                ok=summary.rows - bad,
                bad=bad,
                empty=preview.skipped_empty,
            )
        )
        others = [e for e in preview.earlier if e is not preview.continuing]
        if preview.continuing is not None:
            done = summary.journaled_cards
            lines.append(
                self.tr(
                    "This file's import of {when} was interrupted: {done} card(s) were journaled "
                    "(they are finished like any pull); the rows not journaled can be issued now."
                ).format(when=self._when(preview.continuing.at), done=done)
            )
        if others:
            lines.append(
                self.tr("This file (or these rows) was imported on {when} by {agent}.").format(
                    when=self._when(others[0].at), agent=others[0].agent or self.tr("someone")
                )
            )
        self.message.setText("\n".join(lines))
        duplicates = summary.duplicate_rows
        self.include_duplicates.setText(
            self.tr("Also issue the {count} row(s) already issued in the last 24 hours").format(
                count=duplicates
            )
        )
        self.include_duplicates.setChecked(False)
        self.include_duplicates.setVisible(duplicates > 0)
        self._show_totals()

    @staticmethod
    def _when(at: Any) -> str:
        return str(at.astimezone().strftime("%Y-%m-%d %H:%M"))

    def _show_totals(self, *_: object) -> None:
        preview = self.preview
        if preview is None:
            return
        totals = preview.summary.to_issue(include_duplicates=self.include_duplicates.isChecked())
        brands = "  ·  ".join(
            self.tr("{brand}: {cards} × = {value}").format(
                brand=t.name, cards=t.cards, value=format_amount(t.value, self._currency)
            )
            for t in totals.brands
        )
        self.totals.setText(
            (brands + "\n" if brands else "")
            + self.tr("Total: {cards} card(s), {value}").format(
                cards=totals.cards, value=format_amount(totals.value, self._currency)
            )
        )
        ready = bool(totals.rows) and not preview.blocking and not self.running
        self.confirm_button.setEnabled(ready)
        self.confirm_button.setText(self.tr("&Issue {cards} card(s)…").format(cards=totals.cards))

    # ------------------------------------------------------------------ issuing

    @property
    def running(self) -> bool:
        return self._ops.busy("bulk:run")

    def ask_confirmation(self) -> QMessageBox | None:
        """The one confirmation; its Yes starts the batch."""
        preview = self.preview
        if preview is None or self.running:
            return None
        include = self.include_duplicates.isChecked()
        totals = preview.summary.to_issue(include_duplicates=include)
        if not totals.rows:
            return None
        cards, value = totals.cards, totals.value
        box = QMessageBox(
            QMessageBox.Icon.Question,
            self.tr("Issue this order?"),
            self.tr("Issue {cards} card(s), {value} in all, from {file}?").format(
                cards=cards, value=format_amount(value, self._currency), file=preview.path.name
            ),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            self,
        )
        box.setObjectName("bulkConfirmQuestion")
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        if include and preview.summary.duplicate_rows:
            box.setInformativeText(
                self.tr(
                    "{count} row(s) were already issued in the last 24 hours: issued again."
                ).format(count=preview.summary.duplicate_rows)
            )

        def answered(result: int) -> None:
            self.question = None
            box.deleteLater()
            if result == QMessageBox.StandardButton.Yes:
                self.start(include_duplicates=include)

        box.finished.connect(answered)
        self.question = box
        box.open()
        return box

    def start(self, *, include_duplicates: bool) -> None:
        preview = self.preview
        if preview is None or self.running:
            return
        run = bulk.BulkRun(
            self._session.engine,
            preview,
            include_duplicates=include_duplicates,
            on_duplicates=self._ask_duplicates,
            chunk_cards=self.chunk_cards,
        )
        self.run = run
        self.confirm_button.setEnabled(False)
        self.choose_button.setEnabled(False)
        self.include_duplicates.setEnabled(False)
        self.close_button.setEnabled(False)
        self.pause_button.setText(self.tr("&Pause"))
        for w in (self.progress_bar, self.pause_button, self.stop_button):
            w.show()
        self.progress_bar.setRange(0, max(1, run.planned))
        self._timer.start()

        def ended(_final: object) -> None:
            self._finished(None)

        self._ops.run("bulk:run", run.run, on_success=ended, on_error=self._finished)

    def toggle_pause(self) -> None:
        run = self.run
        if run is None or not self.running:
            return
        if run.paused:
            run.resume()
            self.pause_button.setText(self.tr("&Pause"))
        else:
            run.pause()
            self.pause_button.setText(self.tr("&Resume"))
        self._show_progress()

    def stop(self) -> None:
        if self.run is not None:
            self.run.resume()
            self.run.stop()
            self._show_progress()

    def _show_progress(self) -> None:
        run = self.run
        if run is None:
            return
        p = run.progress
        self.progress_bar.setValue(p.issued + p.failed)
        text = self.tr(
            "{journaled} of {planned} journaled, {sent} sent, {issued} issued, {failed} failed"
        ).format(
            journaled=p.journaled, planned=p.planned, sent=p.sent, issued=p.issued, failed=p.failed
        )
        if p.in_doubt:
            text += self.tr(", {count} in doubt (being checked)").format(count=p.in_doubt)
        if p.paused:
            text += " — " + self.tr(
                "paused: the cards journaled are finished, {waiting} wait"
            ).format(waiting=p.waiting)
        elif p.stopped and not p.finished:
            text += " — " + self.tr("stopping: the cards journaled are finished")
        self.progress_text.setText(text)

    def _finished(self, exc: BaseException | None) -> None:
        self._timer.stop()
        self._show_progress()
        for w in (self.pause_button, self.stop_button):
            w.hide()
        self.close_button.setEnabled(True)
        self.choose_button.setEnabled(True)
        if exc is not None:
            if isinstance(exc, bulk.ImportTakenError | ValueError):
                self.message.setText(str(exc))
            else:
                log.error("the bulk order stopped", exc_info=exc)
                self.message.setText(
                    self.tr(
                        "The order stopped: {error}. Journaled cards are finished anyway."
                    ).format(error=str(exc) or type(exc).__name__)
                )
        self._write_results()

    def _write_results(self) -> None:
        run, preview = self.run, self.preview
        if run is None or preview is None:
            return
        since = run.record.at if run.record is not None else run.started_at
        if since is None:
            return

        async def write() -> tuple[Path, int, int]:
            path, results = await bulk.write_results(
                self._session.store,
                preview,
                run.batch_id,
                since=since,
                skipped=run.skipped,
                include_duplicates=run.include_duplicates,
            )
            # counted in a thread too: a row per line of the file, 50,000 of them
            issued = await asyncio.to_thread(sum, (r.status == "issued" for r in results))
            return path, issued, len(results)

        def written(result: tuple[Path, int, int]) -> None:
            path, issued, rows = result
            self.results_path = path
            self.open_results_button.show()
            self.message.setText(
                self.tr("{issued} of {rows} row(s) issued. Results: {path}").format(
                    issued=issued, rows=rows, path=str(path)
                )
            )
            self.results_written.emit(str(path))

        def failed(exc: BaseException) -> None:
            log.error("the results file could not be written", exc_info=exc)
            self.message.setText(
                self.tr("The results file could not be written: {error}").format(error=str(exc))
            )

        self._ops.run(
            "bulk:results",
            write,
            on_success=written,
            on_error=failed,
        )

    async def _ask_duplicates(self, rows: list[bulk.OrderRow], pulls: list[PullRecord]) -> bool:
        """Someone issued the same row meanwhile: ask, and wait for the answer (open())."""
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        first = pulls[0]
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            self.tr("Issue these rows again?"),
            self.tr("Row(s) {rows} were issued meanwhile by {agent}.").format(
                rows=", ".join(str(r.number) for r in rows[:10]),
                agent=first.agent or self.tr("someone"),
            ),
            QMessageBox.StandardButton.Cancel,
            self,
        )
        box.setObjectName("bulkDuplicateQuestion")
        again = box.addButton(self.tr("Issue again"), QMessageBox.ButtonRole.AcceptRole)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.setInformativeText(self.tr("Cancel leaves them out; the rest of the order goes on."))

        def answered(_result: int) -> None:
            self.question = None
            if not future.done():
                future.set_result(box.clickedButton() is again)
            box.deleteLater()

        box.finished.connect(answered)
        self.question = box
        box.open()
        return await future

    def open_results(self) -> bool:
        if self.results_path is None:
            return False
        return QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.results_path)))

    def reject(self) -> None:
        if self.running:  # the order goes on: Stop first, then Close once it has ended
            self.message.setText(
                self.tr("The order is running: Stop it first (the cards journaled are finished).")
            )
            return
        super().reject()
