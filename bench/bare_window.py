"""A bare PySide6 window with one ``QTableView``: the baseline of ``bench_startup.py``.

Launched the way the app is (a fresh interpreter, offscreen), it prints "first paint at
<seconds since the epoch>" on stderr when the window's first paint begins, then quits: what
any Qt table window costs, without Walleo Desktop.
"""

from __future__ import annotations

import sys
import time

from PySide6.QtCore import QAbstractTableModel, QEvent, QModelIndex, QObject, Qt, QTimer
from PySide6.QtWidgets import QApplication, QMainWindow, QTableView


class Model(QAbstractTableModel):
    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else 20

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else 7

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{index.row()}, {index.column()}"
        return None


class FirstPaint(QObject):
    def __init__(self, window: QMainWindow) -> None:
        super().__init__(window)
        self._window = window

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            at = time.time()
            self._window.removeEventFilter(self)
            print(f"first paint at {at:.6f}", file=sys.stderr, flush=True)
            QTimer.singleShot(0, QApplication.quit)
        return False


def main() -> int:
    app = QApplication(sys.argv[:1])
    window = QMainWindow()
    window.setWindowTitle("Bare table")
    table = QTableView(window)
    model = Model(table)
    table.setModel(model)
    window.setCentralWidget(table)
    window.resize(1280, 800)
    window.installEventFilter(FirstPaint(window))
    window.show()
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
