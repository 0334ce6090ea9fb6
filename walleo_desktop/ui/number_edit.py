"""A whole number typed as text, kept exactly as typed: amounts and quantities of the pull form.

``QSpinBox`` is wrong for money: it clamps what is typed into its range and, when the focus
leaves, silently puts back its previous value over text it cannot read. "7" then Enter offered
the previous €50, 1000000 became the maximum, a quantity of 9999 became 99, without a word. A
``NumberEdit`` never changes the text behind the user's back: ``value()`` reads it (``None``
when it is not a whole number, however large: Python integers do not overflow), and the form
says why a value cannot be used. Up and Down step by ``singleStep()`` within the range, as a
spin box would, because the user asked for it; the mouse wheel does nothing (no amount changes
under a scrolling hand).

Signals:
    value_changed(object): the value read from the text (an ``int`` or ``None``), at each edit.
"""

from __future__ import annotations

import re

from PySide6.QtCore import QLocale, QSize, Qt, Signal
from PySide6.QtGui import QKeyEvent, QResizeEvent, QWheelEvent
from PySide6.QtWidgets import QLabel, QLineEdit, QWidget

__all__ = ["NumberEdit", "parse_whole_number"]

_SPACES = re.compile(r"[\s\u00a0\u202f]+")


def parse_whole_number(text: str, *, symbols: tuple[str, ...] = ()) -> int | None:
    """``"1 500 €"`` → 1500. None unless the text is a whole number of plain digits.

    One of the currency ``symbols`` may stand before or after the number, spaces (no-break ones
    too) around it, and a space or the locale's group separator between groups of three digits
    ("1 500", "1,500" in English). Nothing else: a sign, decimals, a symbol inside the number
    ("50 €7") make it not a number, rather than a number the agent did not type.
    """
    text = _SPACES.sub(" ", text).strip()
    for symbol in sorted((s for s in symbols if s), key=len, reverse=True):
        if text.startswith(symbol):
            text = text[len(symbol) :].strip()
            break
    for symbol in sorted((s for s in symbols if s), key=len, reverse=True):
        if text.endswith(symbol):
            text = text[: -len(symbol)].strip()
            break
    if re.fullmatch(r"[0-9]+", text):
        return int(text)
    separators = {" ", QLocale().groupSeparator().strip() or " "}
    for separator in separators:
        if re.fullmatch(rf"[0-9]{{1,3}}(?:{re.escape(separator)}[0-9]{{3}})+", text):
            return int(text.replace(separator, ""))
    return None


class NumberEdit(QLineEdit):
    """A line edit for a whole number; see the module docstring."""

    value_changed = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._minimum = 0
        self._maximum = 0
        self._step = 1
        self._symbols: tuple[str, ...] = ()
        self._suffix = QLabel(self)
        self._suffix.setObjectName("suffix")
        self._suffix.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self._suffix.setEnabled(False)  # drawn in the placeholder's muted colour
        self._suffix.hide()
        self.setInputMethodHints(Qt.InputMethodHint.ImhDigitsOnly)
        self.textChanged.connect(lambda _text: self.value_changed.emit(self.value()))

    # -- spin-box-like API -------------------------------------------------------------------

    def value(self) -> int | None:
        return parse_whole_number(self.text(), symbols=self._symbols)

    def setValue(self, value: int) -> None:
        """Show ``value`` (the program's own choice, never a correction of what was typed)."""
        self.setText(str(int(value)))

    def setRange(self, minimum: int, maximum: int) -> None:
        """The range Up and Down step within; typed text outside it is kept as typed."""
        self._minimum, self._maximum = minimum, max(minimum, maximum)

    def minimum(self) -> int:
        return self._minimum

    def maximum(self) -> int:
        return self._maximum

    def setSingleStep(self, step: int) -> None:
        self._step = max(1, step)

    def singleStep(self) -> int:
        return self._step

    def setSuffix(self, suffix: str, *, ignored: tuple[str, ...] = ()) -> None:
        """A unit shown inside the field, after the text (``€``); ``ignored`` are other
        spellings of it that may be typed and are not part of the number."""
        self._suffix.setText(suffix)
        self._suffix.setVisible(bool(suffix))
        self._symbols = tuple(s for s in (suffix.strip(), *ignored) if s)
        self._place_suffix()

    # -- events ----------------------------------------------------------------------------

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key in (Qt.Key.Key_Up, Qt.Key.Key_Down) and not event.modifiers():
            self._step_by(1 if key == Qt.Key.Key_Up else -1)
            event.accept()
            return
        super().keyPressEvent(event)

    def wheelEvent(self, event: QWheelEvent) -> None:
        event.ignore()  # let the form scroll; an amount never changes under the wheel

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._place_suffix()

    def minimumSizeHint(self) -> QSize:
        hint = super().minimumSizeHint()
        if self._suffix.isVisibleTo(self):
            hint.setWidth(hint.width() + self._suffix.sizeHint().width())
        return hint

    # -- internals -------------------------------------------------------------------------

    def _step_by(self, direction: int) -> None:
        low, high, step = self._minimum, self._maximum, self._step
        current = self.value()
        if current is None:
            target = low
        else:  # the next point of the grid low + k × step, up or down
            steps = (current - low) // step if direction > 0 else -((low - current) // step)
            target = low + (steps + direction) * step
        target = min(max(target, low), high)
        if target != current:
            self.setValue(target)
            self.selectAll()

    def _place_suffix(self) -> None:
        if not self._suffix.isVisibleTo(self):
            self.setTextMargins(0, 0, 0, 0)
            return
        hint = self._suffix.sizeHint()
        margin = 6
        self._suffix.setGeometry(
            self.width() - hint.width() - margin,
            (self.height() - hint.height()) // 2,
            hint.width(),
            hint.height(),
        )
        self.setTextMargins(0, 0, hint.width() + margin, 0)
