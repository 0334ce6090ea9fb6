"""Close shift… dialog: an agent's shift report, shown before it is stored, then saved or printed.

1. When it opens, the period is fixed (from where the agent's last closed shift ended, else
   the start of today, until now: ``engine.shift.period_for``) and the figures are worked out
   without storing anything (a preview).
2. "Close shift" stores the report for good (``Store.close_shift``: the figures are worked out
   again in that transaction, so a pending pull that ended meanwhile counts as it ended) and
   shows its number. Closing again later makes a new report; nothing is ever edited.
3. Save PDF… / Save CSV… / Print… work on the stored report only, so what is on paper is
   what the history keeps. Files are written off the GUI thread, whole or not at all.

Printing goes through Qt's print dialog (opened with ``open()``, never ``exec()``: no nested
event loop under qasync). Each page of the report's PDF is rendered by QtPdf (at most 300 dpi)
and drawn on the printer, so the paper is the PDF. A cancelled print dialog, or a printer that
cannot be opened, is said in the dialog: the report stays stored, and can be printed or saved
again.

Signals:
    preview_ready(object): the ``ShiftReport`` preview (not stored).
    shift_closed(object): the stored ``ShiftReport``.
    saved(str): a report file was written at this path.
    printed(int): the report went to the printer (the number of pages).
    failed(str): something went wrong; the text is for the user.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import (
    QDate,
    QDateTime,
    QLocale,
    QRectF,
    QSize,
    QStandardPaths,
    Qt,
    QTime,
    Signal,
)
from PySide6.QtGui import QFont, QPainter
from PySide6.QtPdf import QPdfDocument
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid

from walleo_desktop.engine import shift
from walleo_desktop.store import ShiftReport, Store, StoreError
from walleo_desktop.store.summary import BrandLine
from walleo_desktop.ui.async_ops import AsyncOps, call_in_thread
from walleo_desktop.ui.formatting import format_amount

__all__ = ["ShiftDialog"]

log = logging.getLogger("walleo.ui.shift")

PRINT_DPI = 300  # pages are rendered at most this fine for the printer (memory: ~35 MB a page)


def _when(moment: datetime) -> str:
    local = moment.astimezone()
    stamp = QDateTime(
        QDate(local.year, local.month, local.day), QTime(local.hour, local.minute, local.second)
    )
    return QLocale().toString(stamp, QLocale.FormatType.ShortFormat)


def _money(cents: int, currency: str) -> str:
    return format_amount(cents / 100, currency, cents=True)


class ShiftDialog(QDialog):
    """Signals: see the module docstring."""

    preview_ready = Signal(object)
    shift_closed = Signal(object)
    saved = Signal(str)
    printed = Signal(int)
    failed = Signal(str)

    def __init__(
        self, store: Store, ops: AsyncOps, agent: str, *, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("shiftDialog")
        self.setWindowTitle(self.tr("Close shift"))
        self.setMinimumWidth(640)
        self._store = store
        self._ops = ops
        self._me = agent
        self.report: ShiftReport | None = None  # the preview, then the stored report
        self._print_dialog: QPrintDialog | None = None
        self._file_dialog: QFileDialog | None = None

        self.agent = QComboBox(self)
        self.agent.setObjectName("shiftAgent")
        self.agent.addItem(agent)
        self.agent.setToolTip(self.tr("Whose shift to close"))
        self.period = QLabel(self)
        self.period.setObjectName("shiftPeriod")
        self.summary = QLabel(self)
        self.summary.setObjectName("shiftSummary")
        self.summary.setWordWrap(True)
        self.times = QLabel(self)
        self.times.setObjectName("shiftTimes")
        self.times.setWordWrap(True)

        self.table = QTableWidget(0, 7, self)
        self.table.setObjectName("shiftTable")
        self.table.setHorizontalHeaderLabels(
            [
                self.tr("Brand"),
                self.tr("Cards"),
                self.tr("Face value"),
                self.tr("Cost"),
                self.tr("Failed"),
                self.tr("In doubt"),
                self.tr("Pending"),
            ]
        )
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in range(1, 7):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)

        self.status = QLabel(self)
        self.status.setObjectName("shiftStatus")
        self.status.setWordWrap(True)

        self.buttons = QDialogButtonBox(self)
        self.close_button = self.buttons.addButton(
            self.tr("Close shift"), QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.close_button.setObjectName("shiftClose")
        self.close_button.setToolTip(
            self.tr("Store this report in the history for good (it is never edited)")
        )
        self.pdf_button = QPushButton(self.tr("Save &PDF…"), self)
        self.pdf_button.setObjectName("shiftSavePdf")
        self.csv_button = QPushButton(self.tr("Save &CSV…"), self)
        self.csv_button.setObjectName("shiftSaveCsv")
        self.print_button = QPushButton(self.tr("P&rint…"), self)
        self.print_button.setObjectName("shiftPrint")
        for button in (self.pdf_button, self.csv_button, self.print_button):
            self.buttons.addButton(button, QDialogButtonBox.ButtonRole.ActionRole)
            button.setEnabled(False)
            button.setToolTip(self.tr("Available once the shift is closed"))
        self.done_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.done_button.setObjectName("shiftDone")
        self.close_button.setEnabled(False)

        form = QFormLayout()
        form.addRow(self.tr("&Agent:"), self.agent)
        form.addRow(self.tr("Period:"), self.period)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.times)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)

        self.agent.currentIndexChanged.connect(lambda _i: self.refresh())
        self.close_button.clicked.connect(self.close_shift)
        self.pdf_button.clicked.connect(lambda: self.save_pdf())
        self.csv_button.clicked.connect(lambda: self.save_csv())
        self.print_button.clicked.connect(self.print_report)
        self.done_button.clicked.connect(self.reject)
        self.resize(720, 460)

    # -- the words of the report on paper, in the window's language --------------------------

    def words(self) -> shift.ReportWords:
        return shift.ReportWords(
            title=self.tr("Shift report"),
            number=self.tr("Report #{id}"),
            preview=self.tr("Preview: not closed yet"),
            agent=self.tr("Agent"),
            period=self.tr("Period"),
            period_value=self.tr("{start} to {end}"),
            first_pull=self.tr("First pull"),
            last_pull=self.tr("Last pull"),
            none=self.tr("none"),
            pulls=self.tr("Pulls"),
            pulls_value=self.tr(
                "{pulls}: {cards} issued, {failed} failed ({errors} in error, {rejected} "
                "rejected), {in_doubt} in doubt, {pending} pending"
            ),
            closed_at=self.tr("Closed at"),
            closed_by=self.tr("Closed by"),
            brand=self.tr("Brand"),
            cards=self.tr("Cards"),
            face_value=self.tr("Face value"),
            cost=self.tr("Cost"),
            failed=self.tr("Failed"),
            in_doubt=self.tr("In doubt"),
            pending=self.tr("Pending"),
            total=self.tr("Total"),
            no_pulls=self.tr("No pull in this period."),
            times_note=self.tr("Times are local time ({zone})."),
            money_note=self.tr(
                "Face value and cost count issued cards only: a failed, in-doubt or pending "
                "pull issued nothing (yet). An in-doubt pull must be checked before anything "
                "is issued again."
            ),
        )

    # -- the steps ---------------------------------------------------------------------------

    def start(self) -> None:
        """Fill the agent list and work the preview out (both on database threads)."""
        self.refresh()
        self._ops.run(
            "shift:agents",
            lambda: self._store.distinct_values("agent"),
            on_success=self._on_agents,
            on_error=lambda exc: log.info("agent list unavailable: %s", exc),
        )

    @property
    def selected_agent(self) -> str:
        return self.agent.currentText().strip()

    def refresh(self) -> None:
        """Fix the period for the chosen agent and show the figures, not stored yet."""
        if self.report is not None and self.report.stored:
            return
        agent = self.selected_agent
        self.close_button.setEnabled(False)
        self.status.setText(self.tr("Counting {agent}'s pulls…").format(agent=agent))
        self._ops.run(
            f"shift:preview:{agent}",
            lambda: shift.preview_shift(self._store, agent),
            on_success=lambda report: self._on_preview(agent, report),
            on_error=self._on_error,
        )

    def close_shift(self) -> None:
        report = self.report
        if report is None or report.stored:
            return
        self.agent.setEnabled(False)
        self.status.setText(self.tr("Closing the shift…"))
        self._ops.run(
            "shift:close",
            lambda: self._store.close_shift(
                report.agent, report.period_start, report.period_end, self._me
            ),
            trigger=self.close_button,
            on_success=self._on_closed,
            on_error=self._on_error,
        )

    def save_pdf(self, path: Path | None = None) -> None:
        """Save the stored report as PDF at ``path`` (None: ask where, with a file dialog)."""
        report, words, zone = self.report, self.words(), self._zone()
        if report is None or not report.stored:
            return
        if path is None:
            self._ask_path(self.tr("PDF files (*.pdf)"), "pdf", self.save_pdf)
            return
        self._save(path, lambda: shift.report_pdf(report, words=words, money=_money,
                                                   when=_when, zone=zone))  # fmt: skip

    def save_csv(self, path: Path | None = None) -> None:
        """Save the stored report as CSV at ``path`` (None: ask where)."""
        report = self.report
        if report is None or not report.stored:
            return
        if path is None:
            self._ask_path(self.tr("CSV files (*.csv)"), "csv", self.save_csv)
            return
        self._save(path, lambda: shift.report_csv(report))

    def print_report(self) -> QPrintDialog | None:
        """Ask which printer (Qt's print dialog), then print. Returns the dialog."""
        if self.report is None or not self.report.stored:
            return None
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        printer.setDocName(self._title())
        dialog = QPrintDialog(printer, self)
        dialog.setObjectName("shiftPrintDialog")

        def answered(result: int) -> None:
            self._print_dialog = None
            dialog.deleteLater()
            if result == QDialog.DialogCode.Accepted.value:
                self.print_to(printer)
            else:
                self._say(
                    self.tr(
                        "Printing cancelled. The report #{id} is stored: print it or save it "
                        "whenever you like."
                    ).format(id=self.report.id if self.report else "")
                )

        dialog.finished.connect(answered)
        self._print_dialog = dialog
        # QPrintDialog.open() is only its (receiver, member) overload in PySide6: QDialog's,
        # window-modal and without a nested event loop.
        QDialog.open(dialog)
        return dialog

    def print_to(self, printer: QPrinter) -> None:
        """Print the stored report on ``printer`` (its PDF, page by page)."""
        report, words, zone = self.report, self.words(), self._zone()
        if report is None or not report.stored:
            return
        self.status.setText(self.tr("Printing…"))
        self._ops.run(
            "shift:print",
            lambda: call_in_thread(
                lambda: shift.report_pdf(report, words=words, money=_money, when=_when, zone=zone)
            ),
            trigger=self.print_button,
            on_success=lambda data: self._paint(printer, data),
            on_error=self._on_error,
        )

    # -- internals ---------------------------------------------------------------------------

    def _zone(self) -> str:
        from walleo_desktop.store.export_xlsx import zone_name

        return zone_name(None)

    def _title(self) -> str:
        report = self.report
        number = f" #{report.id}" if report is not None and report.id is not None else ""
        agent = report.agent if report is not None else self.selected_agent
        return self.tr("Shift report{number} — {agent}").format(number=number, agent=agent)

    def _say(self, text: str, *, error: bool = False) -> None:
        if not isValid(self):
            return
        self.status.setText(text)
        if error:
            self.failed.emit(text)

    def _on_agents(self, agents: list[str]) -> None:
        if not isValid(self):
            return
        known = {self.agent.itemText(i) for i in range(self.agent.count())}
        self.agent.blockSignals(True)
        for name in agents:
            if name not in known:
                self.agent.addItem(name)
        self.agent.blockSignals(False)

    def _on_preview(self, agent: str, report: ShiftReport) -> None:
        if not isValid(self) or agent != self.selected_agent:
            return  # another agent was chosen meanwhile: its own preview follows
        if self.report is not None and self.report.stored:
            return
        self.report = report
        self._show(report)
        self.close_button.setEnabled(True)
        self.status.setText(
            self.tr(
                "Nothing is stored yet. Check the figures, then close the shift: the report is "
                "kept in the history for good."
            )
        )
        self.preview_ready.emit(report)

    def _on_closed(self, report: ShiftReport) -> None:
        if not isValid(self):
            return
        self.report = report
        self._show(report)
        self.close_button.setEnabled(False)
        self.close_button.hide()
        for button in (self.pdf_button, self.csv_button, self.print_button):
            button.setEnabled(True)
            button.setToolTip("")
        self.done_button.setText(self.tr("Close"))
        self.status.setText(
            self.tr("Shift closed: report #{id} is stored in the history.").format(id=report.id)
        )
        self.shift_closed.emit(report)

    def _on_error(self, exc: BaseException) -> None:
        if isinstance(exc, ValueError | StoreError | OSError):
            text = str(exc)
        else:
            log.error("shift report failed", exc_info=exc)
            text = self.tr("Something went wrong ({error}). The details are in the log.").format(
                error=type(exc).__name__
            )
        if isValid(self) and (self.report is None or not self.report.stored):
            self.agent.setEnabled(True)
        self._say(text, error=True)

    def _show(self, report: ShiftReport) -> None:
        words = self.words()
        start, end = _when(report.period_start), _when(report.period_end)
        self.period.setText(words.period_value.format(start=start, end=end))
        self.summary.setText(
            words.pulls_value.format(
                pulls=report.pulls,
                cards=report.cards,
                failed=report.failed,
                errors=report.errors,
                rejected=report.rejected,
                in_doubt=report.in_doubt,
                pending=report.pending,
            )
        )
        lines: list[BrandLine] = [*report.brands, *report.totals]
        self.table.setRowCount(len(lines))
        bold = QFont(self.table.font())
        bold.setBold(True)
        for row, line in enumerate(lines):
            label = words.total if line.is_total else (line.gift_card_name or line.gift_card_code)
            cells = [
                label,
                QLocale().toString(line.cards),
                format_amount(line.face_value, line.currency),
                _money(line.cost_cents, line.currency),
                QLocale().toString(line.failed),
                QLocale().toString(line.in_doubt),
                QLocale().toString(line.pending),
            ]
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if column:
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                if line.is_total:
                    item.setFont(bold)
                self.table.setItem(row, column, item)
        first = _when(report.first_pull_at) if report.first_pull_at else words.none
        last = _when(report.last_pull_at) if report.last_pull_at else words.none
        self.times.setText(
            self.tr("First pull: {first} · Last pull: {last}").format(first=first, last=last)
        )

    def _ask_path(self, name_filter: str, suffix: str, then: Callable[[Path | None], None]) -> None:
        folder = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
        base = Path(folder) if folder and Path(folder).is_dir() else Path.home()
        report = self.report
        stem = f"shift-{report.agent}-{report.id}" if report is not None else "shift"
        dialog = QFileDialog(self, self._title(), str(base / f"{stem}.{suffix}"))
        dialog.setObjectName("shiftFileDialog")
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setNameFilter(name_filter)
        dialog.setDefaultSuffix(suffix)
        dialog.fileSelected.connect(lambda chosen: then(Path(chosen)))
        dialog.finished.connect(lambda _r: setattr(self, "_file_dialog", None))
        self._file_dialog = dialog
        dialog.open()

    def _save(self, path: Path, render: Callable[[], bytes | str]) -> None:
        if not path.parent.is_dir():
            self._say(
                self.tr("The folder {folder} does not exist.").format(folder=path.parent),
                error=True,
            )
            return
        self.status.setText(self.tr("Saving…"))

        def write() -> Path:
            return shift.write_report(path, render())

        def done(written: Path) -> None:
            self._say(self.tr("Report saved to {path}").format(path=written))
            if isValid(self):
                self.saved.emit(str(written))

        self._ops.run(
            f"shift:save:{path}",
            lambda: call_in_thread(write),
            on_success=done,
            on_error=self._on_save_failed,
        )

    def _on_save_failed(self, exc: BaseException) -> None:
        report = self.report
        self._say(
            self.tr(
                "The file could not be written ({reason}). Nothing is lost: report #{id} is "
                "stored; save it somewhere else."
            ).format(reason=exc, id=report.id if report else ""),
            error=True,
        )

    def _paint(self, printer: QPrinter, data: bytes) -> None:
        """Draw each page of the PDF ``data`` on ``printer`` (GUI thread: QPainter, QtPdf)."""
        if not isValid(self):
            return
        report_id = self.report.id if self.report else ""
        with tempfile.TemporaryDirectory(prefix="walleo-print-") as tmp:
            path = Path(tmp) / "report.pdf"
            path.write_bytes(data)
            doc = QPdfDocument(self)
            try:
                if doc.load(str(path)) != QPdfDocument.Error.None_:
                    raise RuntimeError("the report's PDF could not be read back")
                pages = self._draw(printer, doc)
            except (RuntimeError, OSError) as exc:
                name = printer.printerName() or printer.outputFileName() or self.tr("the printer")
                self._say(
                    self.tr(
                        "The report could not be printed on {printer} ({reason}). Nothing is "
                        "lost: report #{id} is stored; print it again, or save it as PDF."
                    ).format(printer=name, reason=exc, id=report_id),
                    error=True,
                )
                return
            finally:
                doc.close()
                doc.deleteLater()
        self._say(self.tr("Report #{id} sent to the printer.").format(id=report_id))
        self.printed.emit(pages)

    @staticmethod
    def _draw(printer: QPrinter, doc: QPdfDocument) -> int:
        painter = QPainter()
        if not painter.begin(printer):
            raise RuntimeError("it cannot be reached or opened")
        try:
            target = printer.pageLayout().paintRectPixels(printer.resolution())
            dpi = min(printer.resolution(), PRINT_DPI)
            for page in range(doc.pageCount()):
                if page and not printer.newPage():
                    raise RuntimeError("it refused a new page")
                points = doc.pagePointSize(page)
                image = doc.render(
                    page, QSize(round(points.width() / 72 * dpi), round(points.height() / 72 * dpi))
                )
                scale = min(target.width() / image.width(), target.height() / image.height())
                width, height = image.width() * scale, image.height() * scale
                painter.drawImage(QRectF(0, 0, width, height), image)
        finally:
            ended = painter.end()
        if not ended or printer.printerState() == QPrinter.PrinterState.Error:
            raise RuntimeError("it reported an error")
        return doc.pageCount()
