"""A layout that puts its widgets on one line while they fit, and wraps onto more lines when not.

For bars of controls (the history's filters) whose one-line width, in French and with the
custom period's dates shown, is wider than the room a 1366 px screen leaves them: a row of
``QHBoxLayout`` would instead make the window wider than the screen. Widgets keep their size
hint (never less than their minimum); on each line, the widgets that expand horizontally share
the width left. Hidden widgets take no room.
"""

from __future__ import annotations

from PySide6.QtCore import QMargins, QPoint, QRect, QSize, Qt
from PySide6.QtWidgets import QLayout, QLayoutItem, QSizePolicy, QWidget, QWidgetItem

__all__ = ["FlowLayout"]


class FlowLayout(QLayout):
    def __init__(self, parent: QWidget | None = None, *, spacing: int = 6) -> None:
        super().__init__(parent)
        self._items: list[QLayoutItem] = []
        self._spacing = spacing
        self.setContentsMargins(QMargins(0, 0, 0, 0))

    # -- QLayout ---------------------------------------------------------------------------

    def addItem(self, item: QLayoutItem) -> None:
        self._items.append(item)

    def addWidget(self, widget: QWidget) -> None:  # type: ignore[override]
        self.addChildWidget(widget)
        self.addItem(QWidgetItem(widget))
        self.invalidate()

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int) -> QLayoutItem | None:  # type: ignore[override]
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> QLayoutItem | None:  # type: ignore[override]
        return self._items.pop(index) if 0 <= index < len(self._items) else None

    def spacing(self) -> int:
        return self._spacing

    def setSpacing(self, spacing: int) -> None:
        self._spacing = spacing
        self.invalidate()

    def expandingDirections(self) -> Qt.Orientation:
        return Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return self._arrange(QRect(0, 0, width, 0), apply=False)

    def setGeometry(self, rect: QRect) -> None:
        super().setGeometry(rect)
        self._arrange(rect, apply=True)

    def sizeHint(self) -> QSize:
        """Everything on one line."""
        items = self._visible()
        margins = self.contentsMargins()
        width = sum(i.sizeHint().width() for i in items) + self._spacing * max(len(items) - 1, 0)
        height = max((i.sizeHint().height() for i in items), default=0)
        return QSize(
            width + margins.left() + margins.right(), height + margins.top() + margins.bottom()
        )

    def minimumSize(self) -> QSize:
        """As narrow as the widest widget: one per line if need be."""
        size = QSize()
        for item in self._visible():
            size = size.expandedTo(item.minimumSize())
        margins = self.contentsMargins()
        return size + QSize(margins.left() + margins.right(), margins.top() + margins.bottom())

    # -- internals -------------------------------------------------------------------------

    def _visible(self) -> list[QLayoutItem]:
        return [item for item in self._items if not item.isEmpty()]

    @staticmethod
    def _width(item: QLayoutItem, room: int) -> int:
        hint = max(item.sizeHint().width(), item.minimumSize().width())
        return min(hint, max(room, item.minimumSize().width()))

    @staticmethod
    def _expands(item: QLayoutItem) -> bool:
        widget = item.widget()
        if widget is None:
            return False
        policy = widget.sizePolicy().horizontalPolicy()
        return bool(policy.value & QSizePolicy.PolicyFlag.ExpandFlag.value)

    def _arrange(self, rect: QRect, *, apply: bool) -> int:
        """Place the items in ``rect`` (when ``apply``); the height they take."""
        margins = self.contentsMargins()
        if not self._visible():
            return margins.top() + margins.bottom()
        area = rect.marginsRemoved(margins)
        room = max(area.width(), 1)
        lines: list[list[tuple[QLayoutItem, int]]] = [[]]
        used = 0
        for item in self._visible():
            width = self._width(item, room)
            needed = width if not lines[-1] else used + self._spacing + width
            if lines[-1] and needed > room:
                lines.append([])
                needed = width
            lines[-1].append((item, width))
            used = needed
        y = area.y()
        for line in lines:
            if not line:
                continue
            height = max(item.sizeHint().height() for item, _w in line)
            taken = sum(w for _i, w in line) + self._spacing * (len(line) - 1)
            growing = [index for index, (item, _w) in enumerate(line) if self._expands(item)]
            extra = max(room - taken, 0)
            x = area.x()
            for index, (item, width) in enumerate(line):
                if index in growing:
                    share = extra // len(growing)
                    width += share + (extra - share * len(growing) if index == growing[-1] else 0)
                if apply:
                    item.setGeometry(QRect(QPoint(x, y), QSize(width, height)))
                x += width + self._spacing
            y += height + self._spacing
        return y - self._spacing - area.y() + margins.top() + margins.bottom()
