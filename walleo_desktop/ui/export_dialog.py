"""Export… dialog: format, codes or not, where to save; the export runs off the GUI thread.

The file itself is written by ``walleo_desktop.store.export.export_csv`` (CSV, two presets) or
``walleo_desktop.store.export_xlsx.export_xlsx`` (an XLSX workbook), no Qt: this dialog only
asks the three questions and shows progress. The file name's extension follows the format.
The export runs in an ``ExportThread`` with its own connection to the same history
(``Store.open_reader``), so the window stays live, and Cancel stops it between two batches of
rows (the half-written temporary file is removed; the target is never touched).

Including full codes and PINs needs a second, explicit confirmation (a message box opened
with ``open()``, never ``exec()``: no nested event loop under qasync, stack-notes §3), and is
logged in the history's event log by the export.

Signals:
    export_finished(object): the ``ExportResult`` (cancelled or not).
    export_failed(str): the reason, for the user.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import date
from pathlib import Path

from PySide6.QtCore import QObject, QStandardPaths, QThread, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from walleo_desktop.store import Store, StoreCore
from walleo_desktop.store.export import ExportResult, export_csv
from walleo_desktop.ui.history_model import Query

__all__ = ["ExportDialog", "ExportThread"]

log = logging.getLogger("walleo.ui.export")

# The format choices' data: the CSV presets ("standard", "excel-fr"), and the workbook.
XLSX = "xlsx"
_SUFFIXES = (".csv", ".xlsx")


class ExportThread(QThread):
    """Runs one export on its own ``Store``.

    Signals:
        progress(int, int): rows written, rows in all.
        succeeded(object): the ``ExportResult``.
        failed(str): why it failed.
    """

    progress = Signal(int, int)
    succeeded = Signal(object)
    failed = Signal(str)

    def __init__(
        self,
        opener: Callable[[], StoreCore],
        query: Query,
        out: Path,
        *,
        preset: str,
        with_codes: bool,
        agent: str,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("exportThread")
        self._opener = opener
        self._query = query
        self._out = out
        self._preset = preset
        self._with_codes = with_codes
        self._agent = agent
        self._cancel = threading.Event()

    def cancel(self) -> None:
        self._cancel.set()

    def run(self) -> None:
        try:
            with self._opener() as store:
                if self._preset == XLSX:
                    from walleo_desktop.store.export_xlsx import export_xlsx  # its first use

                    result = export_xlsx(
                        store,
                        self._query.flt,
                        self._out,
                        with_codes=self._with_codes,
                        sort=self._query.sort,
                        descending=self._query.descending,
                        progress=self.progress.emit,
                        cancel=self._cancel.is_set,
                        agent=self._agent,
                    )
                    self.succeeded.emit(result)
                    return
                result = export_csv(
                    store,
                    self._query.flt,
                    self._out,
                    preset="excel-fr" if self._preset == "excel-fr" else "standard",
                    with_codes=self._with_codes,
                    sort=self._query.sort,
                    descending=self._query.descending,
                    progress=self.progress.emit,
                    cancel=self._cancel.is_set,
                    agent=self._agent,
                )
        except Exception as exc:
            log.exception("export to %s failed", self._out)
            self.failed.emit(str(exc))
        else:
            self.succeeded.emit(result)


def default_export_path(today: date | None = None) -> Path:
    folder = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    base = Path(folder) if folder and Path(folder).is_dir() else Path.home()
    return base / f"walleo-history-{(today or date.today()).isoformat()}.csv"


class ExportDialog(QDialog):
    """Signals:
    export_finished(object): the ``ExportResult`` of a finished or cancelled export.
    export_failed(str): an export failed; the text is for the user.
    """

    export_finished = Signal(object)
    export_failed = Signal(str)

    def __init__(
        self,
        store: Store,
        query: Query,
        rows: int | None,
        *,
        agent: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("exportDialog")
        self.setWindowTitle(self.tr("Export history"))
        self.setMinimumWidth(520)
        self._store = store
        self._query = query
        self._agent = agent
        self._thread: ExportThread | None = None
        self._confirm: QMessageBox | None = None

        self.summary = QLabel(self)
        self.summary.setObjectName("exportSummary")
        self.summary.setWordWrap(True)

        self.preset = QComboBox(self)
        self.preset.setObjectName("exportPreset")
        self.preset.addItem(self.tr("Standard (comma, ISO 8601 dates in UTC)"), "standard")
        self.preset.addItem(
            self.tr("Excel (France): semicolon, decimal comma, dd/mm/yyyy"), "excel-fr"
        )
        self.preset.addItem(
            self.tr("Excel workbook (.xlsx): typed numbers, dates and codes, with totals"), XLSX
        )

        self.with_codes = QCheckBox(self.tr("Include full codes and PINs"), self)
        self.with_codes.setObjectName("exportWithCodes")
        self.with_codes.setToolTip(
            self.tr("Anyone with the file can spend the cards. The export is logged.")
        )

        self.path_edit = QLineEdit(str(default_export_path()), self)
        self.path_edit.setObjectName("exportPath")
        browse = QPushButton(self.tr("Browse…"), self)
        browse.setObjectName("exportBrowse")
        path_row = QHBoxLayout()
        path_row.addWidget(self.path_edit, 1)
        path_row.addWidget(browse)

        self.progress = QProgressBar(self)
        self.progress.setObjectName("exportProgress")
        self.progress.setValue(0)
        self.progress.hide()
        self.set_row_count(rows)
        self.status = QLabel(self)
        self.status.setObjectName("exportStatus")
        self.status.setWordWrap(True)

        self.buttons = QDialogButtonBox(self)
        self.export_button = self.buttons.addButton(
            self.tr("Export"), QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.export_button.setObjectName("exportStart")
        self.cancel_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.cancel_button.setObjectName("exportCancel")

        form = QFormLayout()
        form.addRow(self.tr("Format:"), self.preset)
        form.addRow("", self.with_codes)
        form.addRow(self.tr("Save as:"), path_row)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addLayout(form)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)

        browse.clicked.connect(self._browse)
        self.preset.currentIndexChanged.connect(self._on_format_changed)
        self.with_codes.toggled.connect(self._on_codes_toggled)
        self.export_button.clicked.connect(self.start_export)
        self.cancel_button.clicked.connect(self._on_cancel)

    def set_row_count(self, rows: int | None) -> None:
        """How many pulls the export will write; None while the history is still counting
        them (the history view passes the count on when it is in)."""
        if rows is None:
            text = self.tr("Counting the pulls that match the current filters…")
        elif rows == 0:
            text = self.tr(
                "No pull matches the current filters: the file will only have its header row."
            )
        elif rows == 1:
            text = self.tr("1 pull matches the current filters.")
        else:
            text = self.tr(
                "{rows} pulls match the current filters; they are exported in the order shown."
            ).format(rows=f"{rows:,}".replace(",", "\u202f"))
        self.summary.setText(text)
        self.progress.setRange(0, max(rows or 0, 1))

    @property
    def running(self) -> bool:
        return self._thread is not None

    def start_export(self) -> None:
        if self._thread is not None:
            return
        text = self.path_edit.text().strip()
        if not text:
            self.status.setText(self.tr("Choose where to save the file."))
            return
        out = Path(text).expanduser()
        if not out.parent.is_dir():
            self.status.setText(
                self.tr("The folder {folder} does not exist.").format(folder=out.parent)
            )
            return
        for widget in (self.preset, self.with_codes, self.path_edit, self.export_button):
            widget.setEnabled(False)
        self.progress.setValue(0)
        self.progress.show()
        self.status.setText(self.tr("Exporting…"))
        thread = ExportThread(
            self._store.open_reader,
            self._query,
            out,
            preset=str(self.preset.currentData()),
            with_codes=self.with_codes.isChecked(),
            agent=self._agent,
            parent=self,
        )
        thread.progress.connect(self._on_progress)
        thread.succeeded.connect(self._on_succeeded)
        thread.failed.connect(self._on_failed)
        thread.finished.connect(self._on_thread_finished)
        self._thread = thread
        thread.start()

    def cancel_export(self) -> None:
        if self._thread is not None:
            self._thread.cancel()
            self.status.setText(self.tr("Cancelling…"))

    def shutdown(self) -> None:
        """Cancel a running export and wait for its thread (dialog closing, app quitting)."""
        thread = self._thread
        if thread is not None:
            thread.cancel()
            thread.wait(10_000)

    def done(self, result: int) -> None:
        self.shutdown()
        super().done(result)

    # -- internals ---------------------------------------------------------------------------

    @property
    def suffix(self) -> str:
        """The extension the chosen format writes: ``.xlsx`` or ``.csv``."""
        return ".xlsx" if self.preset.currentData() == XLSX else ".csv"

    def _on_format_changed(self, _index: int) -> None:
        """The file name's extension follows the format (a name without one gets it)."""
        text = self.path_edit.text().strip()
        if not text:
            return
        path = Path(text)
        if path.suffix.lower() in _SUFFIXES or not path.suffix:
            self.path_edit.setText(str(path.with_suffix(self.suffix)))

    def _browse(self) -> None:
        dialog = QFileDialog(self, self.tr("Export history"), self.path_edit.text())
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        if self.suffix == ".xlsx":
            dialog.setNameFilter(self.tr("Excel workbooks (*.xlsx)"))
        else:
            dialog.setNameFilter(self.tr("CSV files (*.csv)"))
        dialog.setDefaultSuffix(self.suffix.lstrip("."))
        dialog.fileSelected.connect(self.path_edit.setText)
        dialog.open()

    def _on_codes_toggled(self, checked: bool) -> None:
        if not checked:
            return
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            self.tr("Include full codes and PINs?"),
            self.tr(
                "The file will hold every card's full code and PIN: anyone who gets it can "
                "spend the cards. The export is recorded in the history's event log under your "
                "name.\n\nInclude the codes?"
            ),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            self,
        )
        box.setObjectName("exportCodesConfirm")
        box.setDefaultButton(QMessageBox.StandardButton.No)
        box.finished.connect(lambda answer: self._on_codes_answer(answer, box))
        self._confirm = box
        box.open()

    def _on_codes_answer(self, answer: int, box: QMessageBox) -> None:
        if answer != QMessageBox.StandardButton.Yes.value:
            self.with_codes.blockSignals(True)
            self.with_codes.setChecked(False)
            self.with_codes.blockSignals(False)
        self._confirm = None
        box.deleteLater()

    def _on_cancel(self) -> None:
        if self._thread is not None:
            self.cancel_export()
        else:
            self.reject()

    def _on_progress(self, done: int, total: int) -> None:
        self.progress.setMaximum(max(total, 1))
        self.progress.setValue(done)

    def _on_succeeded(self, result: ExportResult) -> None:
        if result.cancelled:
            self.status.setText(self.tr("Export cancelled; no file was written."))
        else:
            self.progress.setValue(self.progress.maximum())
            self.status.setText(
                self.tr("{rows} rows written to {path}").format(rows=result.rows, path=result.path)
            )
        self.export_finished.emit(result)

    def _on_failed(self, message: str) -> None:
        self.status.setText(self.tr("The export failed: {reason}").format(reason=message))
        self.export_failed.emit(message)

    def _on_thread_finished(self) -> None:
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.deleteLater()
        for widget in (self.preset, self.with_codes, self.path_edit, self.export_button):
            widget.setEnabled(True)
        self.cancel_button.setText(self.tr("Close"))
