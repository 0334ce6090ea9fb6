"""The live pull table's view: fixed row heights, columns sized once, a context menu of actions.

Nothing here measures every row: no ``ResizeToContents`` (style.md §5), uniform row heights and
``setResizeContentsPrecision(0)``, so a thousand pulls changing at once stay smooth.

"The selected pull" is the current row *and* selected. A mouse click makes the row current
before it selects it (arrow keys do the opposite), so the view follows both the current row and
the selection, and says which pull is selected once both have settled.
"""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, QModelIndex, QPoint, Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QMenu,
    QStyle,
    QTableView,
    QWidget,
)

from walleo_desktop.store.records import PullRecord
from walleo_desktop.ui.pull_table_model import Columns, PullTableModel

__all__ = ["PullTableView"]

# Column widths, decided once from sample texts in the table's font (never by measuring rows).
_SAMPLES = {
    Columns.STATUS: "Processing",
    Columns.BRAND: "Leroy Merlin",
    Columns.AMOUNT: "1,500 €",
    Columns.REFERENCE: "TCK-000000",
    Columns.REQUEST_ID: "wd-0000…0000",
    Columns.AGE: "59 min",
    Columns.NEXT_CHECK: "in 59 s",
}


class PullTableView(QTableView):
    """Signals:
    current_pull_changed(object): the selected ``PullRecord``, or None when nothing is selected.
    """

    current_pull_changed = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("pullTable")
        self.setAccessibleName(self.tr("Live pulls"))
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setAlternatingRowColors(True)
        self.setWordWrap(False)
        self.setShowGrid(False)
        self.setSortingEnabled(False)
        self.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        # Our own menu, opened with popup(): ActionsContextMenu would exec() a nested event loop.
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self._show_context_menu)
        self.context_menu = QMenu(self)
        self.context_menu.setObjectName("pullTableMenu")
        self._selected_id: int | None = None
        self._full_width = 0
        vertical = self.verticalHeader()
        vertical.hide()
        vertical.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vertical.setDefaultSectionSize(self.fontMetrics().height() + 10)
        header = self.horizontalHeader()
        header.setResizeContentsPrecision(0)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setHighlightSections(False)
        header.setStretchLastSection(False)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.setIconSize(self.iconSize().scaled(16, 16, Qt.AspectRatioMode.KeepAspectRatio))

    def setModel(self, model: PullTableModel) -> None:  # type: ignore[override]
        super().setModel(model)
        metrics = self.fontMetrics()
        header = self.horizontalHeader()
        for column, sample in _SAMPLES.items():
            title = str(model.headerData(column, Qt.Orientation.Horizontal))
            width = max(metrics.horizontalAdvance(sample), metrics.horizontalAdvance(title))
            if column == Columns.STATUS:
                width += self.iconSize().width() + 6
            header.resizeSection(column, width + 14)
        # The request id takes whatever width is left (it elides in the middle of nothing the
        # agent reads), so the other columns never push a horizontal scrollbar in.
        header.setSectionResizeMode(Columns.REQUEST_ID, QHeaderView.ResizeMode.Stretch)
        header.setMinimumSectionSize(40)
        # The width at which no title is cut: the other columns, and the request id's title.
        title = str(model.headerData(Columns.REQUEST_ID, Qt.Orientation.Horizontal))
        columns = sum(header.sectionSize(c) for c in _SAMPLES if c != Columns.REQUEST_ID)
        scroll_bar = self.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent)
        self._full_width = (
            columns + metrics.horizontalAdvance(title) + 24 + scroll_bar + 2 * self.frameWidth()
        )
        selection = self.selectionModel()
        selection.currentRowChanged.connect(self._on_selection_changed)
        selection.selectionChanged.connect(self._on_selection_changed)

    def full_width(self) -> int:
        """The width at which every column title shows whole (the window's default layout
        gives the table that much; narrower, it elides)."""
        return self._full_width

    def model(self) -> PullTableModel:
        model = super().model()
        assert isinstance(model, PullTableModel)
        return model

    def add_context_actions(self, actions: list[QAction | None]) -> None:
        """Show these actions on right click (None = a separator)."""
        for action in actions:
            if action is None:
                self.context_menu.addSeparator()
            else:
                self.context_menu.addAction(action)

    def current_pull(self) -> PullRecord | None:
        index = self.currentIndex()
        if not index.isValid() or not self.selectionModel().isRowSelected(
            index.row(), QModelIndex()
        ):
            return None
        return self.model().pull_at(index.row())

    def select_pull(self, pull_id: int) -> bool:
        row = self.model().row_of(pull_id)
        if row is None:
            return False
        index = self.model().index(row, 0)
        self.selectionModel().setCurrentIndex(
            index,
            QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows,
        )
        self.scrollTo(index)
        return True

    def _on_selection_changed(self, *_: object) -> None:
        pull = self.current_pull()
        pull_id = pull.id if pull is not None else None
        if pull_id != self._selected_id:
            self._selected_id = pull_id
            self.current_pull_changed.emit(pull)

    def _show_context_menu(self, pos: QPoint) -> None:
        """Right click (``pos`` in viewport coordinates): the row under the mouse becomes the
        selected pull, then the actions pop up for it. ``popup()``, never ``exec()``: a nested
        event loop would stall the qasync tasks (stack-notes §3)."""
        index = self.indexAt(pos)
        under = self.model().pull_at(index.row()) if index.isValid() else None
        current = self.current_pull()
        if under is not None and (current is None or current.id != under.id):
            self.selectionModel().setCurrentIndex(
                index,
                QItemSelectionModel.SelectionFlag.ClearAndSelect
                | QItemSelectionModel.SelectionFlag.Rows,
            )
        if not self.context_menu.isEmpty():
            self.context_menu.popup(self.viewport().mapToGlobal(pos))
