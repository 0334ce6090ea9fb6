"""The card's PDF inside the card pane: lazy download, QtPdf view, save and open.

A card's PDF prints the code in clear, so the rendered pages stay covered until the user asks
("Show PDF"), exactly like the code itself. The file is fetched as soon as a card is shown (so
"Show PDF" is instant), through a loader the main window provides (``session.cards.pdf``: it
downloads once into the data dir and returns the local path).

Signals:
    message(str): a status sentence for the status bar.
    loaded(str): the PDF at this local path is open (pages ready).
    failed(str): loading failed; the sentence shown to the user.
    shown(): the user uncovered the pages.
    saved(str): the PDF was copied to this path.
    opened(): the PDF was handed to the system viewer.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QStandardPaths, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from walleo_desktop.api.errors import WalleoError
from walleo_desktop.store.records import CardRecord
from walleo_desktop.ui.flow_layout import FlowLayout

if TYPE_CHECKING:  # QtPdf loads when a card's PDF is first opened, not for the first paint
    from PySide6.QtPdf import QPdfDocument
    from PySide6.QtPdfWidgets import QPdfView

__all__ = ["PdfLoader", "PdfPanel"]

log = logging.getLogger("walleo.ui.pdf")

PdfLoader = Callable[[CardRecord], Awaitable[Path]]


class PdfPanel(QWidget):
    """Shows one card's PDF. States: ``empty``, ``loading``, ``ready``, ``error``."""

    message = Signal(str)
    loaded = Signal(str)
    failed = Signal(str)
    shown = Signal()
    saved = Signal(str)
    opened = Signal()

    # Pages of the stacked area.
    _COVER, _LOADING, _ERROR, _VIEW = range(4)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._loader: PdfLoader | None = None
        self._card: CardRecord | None = None
        self._path: Path | None = None
        self._task: asyncio.Task[None] | None = None
        self._generation = 0
        self._suggested_name = "card.pdf"
        self.state = "empty"

        # Header: what we have, and the actions.
        self.status_label = QLabel(self)
        self.status_label.setObjectName("pdfStatus")
        self.show_button = QPushButton(self.tr("Show PDF"), self)
        self.show_button.setCheckable(True)
        self.show_button.setToolTip(self.tr("The PDF shows the card's code in clear."))
        self.show_button.toggled.connect(self._on_show_toggled)
        self.save_button = QPushButton(self.tr("Save PDF as…"), self)
        self.save_button.clicked.connect(self._on_save_clicked)
        self.open_button = QPushButton(self.tr("Open in system viewer"), self)
        self.open_button.clicked.connect(self._on_open_clicked)
        # Two short rows rather than one long one: the pane must fit a narrow splitter.
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.status_label, 1)
        top.addWidget(self.show_button)
        # The two buttons wrap onto two lines when the pane is narrower than both (French).
        actions = FlowLayout(spacing=6)
        actions.addWidget(self.save_button)
        actions.addWidget(self.open_button)
        header = QVBoxLayout()
        header.setContentsMargins(0, 0, 0, 0)
        header.setSpacing(4)
        header.addLayout(top)
        header.addLayout(actions)

        # Cover (pages hidden until asked).
        cover = QWidget(self)
        self.cover_label = QLabel(
            self.tr("The PDF shows the card's code. Press “Show PDF” to see it."), cover
        )
        self.cover_label.setWordWrap(True)
        self.cover_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.cover_label.setEnabled(False)
        cover_layout = QVBoxLayout(cover)
        cover_layout.addStretch(1)
        cover_layout.addWidget(self.cover_label)
        cover_layout.addStretch(1)

        # Loading.
        loading = QWidget(self)
        self.progress = QProgressBar(loading)
        self.progress.setAccessibleName(self.tr("Loading the card's PDF"))
        self.progress.setRange(0, 0)  # busy indicator
        self.progress.setTextVisible(False)
        self.progress.setMaximumWidth(160)
        self.loading_label = QLabel(self.tr("Loading PDF…"), loading)
        loading_layout = QVBoxLayout(loading)
        loading_layout.addStretch(1)
        loading_layout.addWidget(self.loading_label, 0, Qt.AlignmentFlag.AlignHCenter)
        loading_layout.addWidget(self.progress, 0, Qt.AlignmentFlag.AlignHCenter)
        loading_layout.addStretch(1)

        # Error.
        error = QWidget(self)
        self.error_label = QLabel(error)
        self.error_label.setObjectName("pdfError")
        self.error_label.setWordWrap(True)
        self.error_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.retry_button = QPushButton(self.tr("Try again"), error)
        self.retry_button.clicked.connect(self.retry)
        error_layout = QVBoxLayout(error)
        error_layout.addStretch(1)
        error_layout.addWidget(self.error_label)
        error_layout.addWidget(self.retry_button, 0, Qt.AlignmentFlag.AlignHCenter)
        error_layout.addStretch(1)

        self.stack = QStackedWidget(self)
        self._document: QPdfDocument | None = None
        self._view: QPdfView | None = None
        self._view_slot = QWidget(self)  # where the view goes once a PDF is first opened
        self._view_slot.setMinimumHeight(220)  # as the view: the layout is the same before
        for page in (cover, loading, error, self._view_slot):
            self.stack.addWidget(page)
        self.stack.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

        # Notices (saved to…, no viewer…).
        self.notice_label = QLabel(self)
        self.notice_label.setObjectName("pdfNotice")
        self.notice_label.setWordWrap(True)
        self.notice_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.notice_label.hide()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(header)
        layout.addWidget(self.stack, 1)
        layout.addWidget(self.notice_label)
        self.clear()

    # ------------------------------------------------------------------ API

    def set_loader(self, loader: PdfLoader | None) -> None:
        self._loader = loader

    @property
    def pdf_path(self) -> Path | None:
        """The local file of the PDF on display, once loaded."""
        return self._path

    @property
    def revealed(self) -> bool:
        return self.show_button.isChecked()

    def show_card(self, card: CardRecord, *, suggested_name: str = "card.pdf") -> None:
        """Show ``card``'s PDF (covered) and start loading it unless it is already loaded."""
        same = self._card is not None and self._card.card_id == card.card_id
        self._card = card
        self._suggested_name = suggested_name
        if same and self.state != "empty":
            # A refresh of the same card: keep what is there (an error keeps its Try again).
            return
        self._set_covered()
        self.retry()

    @property
    def document(self) -> QPdfDocument:
        """The PDF document (QtPdf loaded and the view made at the first use)."""
        if self._document is None:
            self._make_view()
        assert self._document is not None
        return self._document

    @property
    def view(self) -> QPdfView:
        if self._view is None:
            self._make_view()
        assert self._view is not None
        return self._view

    def _make_view(self) -> None:
        from PySide6.QtPdf import QPdfDocument
        from PySide6.QtPdfWidgets import QPdfView

        self._document = QPdfDocument(self)
        view = QPdfView(self)
        view.setAccessibleName(self.tr("Card PDF"))
        view.setObjectName("cardPdfView")
        view.setDocument(self._document)
        view.setPageMode(QPdfView.PageMode.MultiPage)
        view.setZoomMode(QPdfView.ZoomMode.FitToWidth)
        # Fit-to-width with a scroll bar "as needed" never settles when the page, fitted to
        # the width, is about as tall as the view: the bar shows, the page narrows and fits,
        # the bar hides, the page widens again... and the GUI thread spins at 100 % for good.
        # A bar that is always there leaves the width, hence the zoom, fixed.
        view.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOn)
        view.setMinimumHeight(220)
        current = self.stack.currentIndex()
        self.stack.removeWidget(self._view_slot)
        self._view_slot.deleteLater()
        self.stack.insertWidget(self._VIEW, view)
        self.stack.setCurrentIndex(current)
        self._view = view

    def _close_document(self) -> None:
        if self._document is not None:
            self._document.close()

    def clear(self) -> None:
        """Forget the card: stop loading, close the document, cover the area."""
        self._cancel()
        self._card = None
        self._path = None
        self._close_document()
        self.state = "empty"
        self.status_label.setText("")
        self._hide_notice()
        self._set_covered()
        self.stack.setCurrentIndex(self._COVER)
        self.cover_label.setText(self.tr("No card selected."))
        self._update_buttons()

    def retry(self) -> None:
        """(Re)load the current card's PDF."""
        card = self._card
        if card is None:
            return
        self._cancel()
        self._path = None
        self._close_document()
        self._hide_notice()
        if self._loader is None and not card.pdf_path:
            self._set_error(self.tr("No PDF is available for this card."), retry=False)
            return
        self._generation += 1
        generation = self._generation
        self.state = "loading"
        self.status_label.setText(self.tr("Loading PDF…"))
        self.stack.setCurrentIndex(self._LOADING)
        self._update_buttons()
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            log.warning("no running event loop: the card's PDF cannot be loaded")
            self._set_error(self.tr("The PDF cannot be loaded right now."), retry=True)
            return
        self._task = loop.create_task(self._load(card, generation))

    # ------------------------------------------------------------------ loading

    def _cancel(self) -> None:
        self._generation += 1
        if self._task is not None and not self._task.done():
            self._task.cancel()
        self._task = None

    async def _load(self, card: CardRecord, generation: int) -> None:
        message: str
        try:
            if self._loader is not None:
                path = Path(await self._loader(card))
            else:
                path = Path(card.pdf_path)
        except asyncio.CancelledError:
            raise
        except WalleoError as exc:
            message = self.tr("The PDF could not be downloaded: %s") % exc
        except FileNotFoundError as exc:
            detail = exc.strerror if exc.filename else str(exc)
            message = self.tr("The card's PDF is not available: %s") % (detail or exc)
        except OSError as exc:
            message = self.tr("The card's PDF could not be read: %s") % (exc.strerror or exc)
        except Exception:
            log.exception("loading the PDF of card %s failed", card.card_id)
            message = self.tr("The PDF could not be loaded (unexpected error; see the log).")
        else:
            if generation == self._generation:
                self._task = None
                self._open_file(path)
            return
        if generation == self._generation:
            self._task = None
            log.info("PDF of card %s not loaded: %s", card.card_id, message)
            self._set_error(message, retry=True)

    def _open_file(self, path: Path) -> None:
        from PySide6.QtPdf import QPdfDocument

        self.document.close()
        error = self.document.load(str(path))
        if error != QPdfDocument.Error.None_:
            reasons = {
                QPdfDocument.Error.FileNotFound: self.tr("the file is missing"),
                QPdfDocument.Error.InvalidFileFormat: self.tr("the file is not a valid PDF"),
                QPdfDocument.Error.IncorrectPassword: self.tr("the file is password-protected"),
                QPdfDocument.Error.UnsupportedSecurityScheme: self.tr(
                    "the file is password-protected"
                ),
            }
            reason = reasons.get(error, self.tr("unknown error"))
            self._set_error(self.tr("The PDF could not be opened: %s.") % reason, retry=True)
            return
        self._path = path
        self.state = "ready"
        pages = self.document.pageCount()
        self.status_label.setText(
            self.tr("Card PDF · %n page(s)", "", pages)
            if pages != 1
            else self.tr("Card PDF · 1 page")
        )
        self.stack.setCurrentIndex(self._VIEW if self.revealed else self._COVER)
        self.cover_label.setText(
            self.tr("The PDF shows the card's code. Press “Show PDF” to see it.")
        )
        self.view.verticalScrollBar().setValue(0)
        self._update_buttons()
        self.loaded.emit(str(path))

    def _set_error(self, message: str, *, retry: bool) -> None:
        self.state = "error"
        self.status_label.setText(self.tr("Card PDF"))
        self.error_label.setText(message)
        self.retry_button.setVisible(retry)
        self.stack.setCurrentIndex(self._ERROR)
        self._update_buttons()
        self.failed.emit(message)

    def _set_covered(self) -> None:
        if self.show_button.isChecked():
            self.show_button.blockSignals(True)
            self.show_button.setChecked(False)
            self.show_button.blockSignals(False)
        self.show_button.setText(self.tr("Show PDF"))
        if self.state == "ready":
            self.stack.setCurrentIndex(self._COVER)

    def _update_buttons(self) -> None:
        ready = self.state == "ready"
        self.show_button.setEnabled(ready)
        self.save_button.setEnabled(ready)
        self.open_button.setEnabled(ready)

    # ------------------------------------------------------------------ actions

    def _on_show_toggled(self, checked: bool) -> None:
        self.show_button.setText(self.tr("Hide PDF") if checked else self.tr("Show PDF"))
        if self.state == "ready":
            self.stack.setCurrentIndex(self._VIEW if checked else self._COVER)
        if checked:
            self.shown.emit()

    def _on_open_clicked(self) -> None:
        path = self._path
        if path is None:
            return
        self._hide_notice()
        if QDesktopServices.openUrl(QUrl.fromLocalFile(str(path))):
            self.opened.emit()
            self.message.emit(self.tr("The PDF was handed to the system's PDF viewer."))
            return
        self._show_notice(
            self.tr("No PDF viewer could be opened on this computer; use Save PDF as… instead."),
            error=True,
        )

    def _on_save_clicked(self) -> None:
        source = self._path
        if source is None:
            return
        folder = QStandardPaths.writableLocation(
            QStandardPaths.StandardLocation.DocumentsLocation
        ) or str(Path.home())
        suggested = str(Path(folder) / self._suggested_name)
        self._choose_save_path(suggested, lambda target: self._save_to(source, target))

    def _choose_save_path(self, suggested: str, accept: Callable[[str], None]) -> None:
        """Ask where to save, without a nested event loop; call ``accept(path)`` if chosen.

        Tests replace this method to answer at once.
        """
        dialog = QFileDialog(self, self.tr("Save the card's PDF"), suggested)
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setFileMode(QFileDialog.FileMode.AnyFile)
        dialog.setNameFilter(self.tr("PDF files (*.pdf)"))
        dialog.setDefaultSuffix("pdf")
        dialog.selectFile(suggested)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.fileSelected.connect(accept)
        dialog.open()

    def _save_to(self, source: Path, target: str) -> None:
        if not target:
            return
        destination = Path(target)
        try:
            shutil.copyfile(source, destination)
        except shutil.SameFileError:
            self._show_notice(
                self.tr("That is the app's own copy of the PDF: choose another place."), error=True
            )
            return
        except OSError as exc:
            log.info("saving a card PDF failed: %s", exc.strerror or type(exc).__name__)
            self._show_notice(
                self.tr("The PDF could not be saved: %s") % (exc.strerror or exc), error=True
            )
            return
        self._show_notice(self.tr("PDF saved to %s") % destination, error=False)
        self.saved.emit(str(destination))
        self.message.emit(self.tr("PDF saved to %s") % destination)

    def _show_notice(self, text: str, *, error: bool) -> None:
        self.notice_label.setText(text)
        self.notice_label.setProperty("severity", "error" if error else "info")
        self.notice_label.setStyleSheet("color: #c62828;" if error else "")
        self.notice_label.show()

    def _hide_notice(self) -> None:
        self.notice_label.clear()
        self.notice_label.hide()
