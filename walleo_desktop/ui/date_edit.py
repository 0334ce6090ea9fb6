"""A date that can be typed whole, or picked in a calendar: the history's custom period.

``QDateEdit`` edits a date section by section: typing "01/11/2026" over its selected text, or
with the cursor inside it, is refused key by key, so a typed date never reached the filter and
only the calendar worked. Here the field is plain text, read when the agent is done with it
(Enter, Tab, leaving the field, or a pause in typing): the locale's order (day/month/year in
French and British English, month/day/year in American English, year first in ISO), any of
``/ . -`` or spaces between the numbers, two-digit years in this century. A date that was read
is written back in full (``1/11/26`` → ``01/11/2026``) so the agent sees how it was understood;
text that is not a date is kept as typed, marked invalid, and the date stays what it was
(``invalid`` says so). The calendar button (or Alt+Down, F4) picks a date with the mouse.

Signals:
    dateChanged(QDate): a new date was typed or picked.
    invalid(str): the text typed is not a date (an empty string: it is one again).
"""

from __future__ import annotations

import re
from datetime import date

from PySide6.QtCore import QDate, QLocale, QPoint, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QColor,
    QIcon,
    QKeyEvent,
    QKeySequence,
    QPainter,
    QPen,
    QPixmap,
)
from PySide6.QtWidgets import QCalendarWidget, QFrame, QLineEdit, QVBoxLayout, QWidget

__all__ = ["TYPING_PAUSE_MS", "DateEdit", "date_format", "parse_date"]

TYPING_PAUSE_MS = 700
_SEPARATORS = re.compile(r"[\s/.\-\u00a0\u202f]+")


def _locale(locale: QLocale | None) -> QLocale:
    loc = locale or QLocale()
    # The C locale writes "1 11 2026"; read it as British English, as amounts are (formatting).
    return QLocale("en_GB") if loc.language() == QLocale.Language.C else loc


def date_format(locale: QLocale | None = None) -> str:
    """The locale's short date format with a four-digit year (``dd/MM/yyyy``, ``M/d/yyyy``)."""
    fmt = _locale(locale).dateFormat(QLocale.FormatType.ShortFormat)
    if "yyyy" not in fmt:
        fmt = re.sub(r"y+", "yyyy", fmt)
    return fmt


def _order(fmt: str) -> str:
    """``"dd/MM/yyyy"`` → ``"dMy"``: the order of day, month and year in a format."""
    positions = {part: fmt.find(part) for part in "dMy"}
    if min(positions.values()) < 0:
        return "dMy"
    return "".join(sorted(positions, key=positions.__getitem__))


def parse_date(text: str, locale: QLocale | None = None) -> date | None:
    """The date ``text`` writes in the locale's order, or None. See the module docstring."""
    text = text.strip()
    if not text:
        return None
    parts = _SEPARATORS.split(text)
    if len(parts) == 1 and parts[0].isdigit() and len(parts[0]) in (6, 8):
        digits = parts[0]  # "01112026" / "011126": day, month and year run together
        order = _order(date_format(locale))
        sizes = {"d": 2, "M": 2, "y": len(digits) - 4}
        parts, at = [], 0
        for part in order:
            parts.append(digits[at : at + sizes[part]])
            at += sizes[part]
    if len(parts) != 3 or not all(p.isdigit() and p.isascii() for p in parts):
        return None
    # A four-digit first number is ISO (2026-11-01), whatever the locale.
    order = "yMd" if len(parts[0]) == 4 else _order(date_format(locale))
    values = dict(zip(order, parts, strict=True))
    year_text = values["y"]
    if len(year_text) not in (2, 4) or len(values["d"]) > 2 or len(values["M"]) > 2:
        return None
    year = int(year_text) + (2000 if len(year_text) == 2 else 0)
    try:
        return date(year, int(values["M"]), int(values["d"]))
    except ValueError:  # 31/02, month 13…
        return None


def _calendar_icon(color: QColor) -> QIcon:
    pixmap = QPixmap(16, 16)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    try:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(color, 1.2))
        painter.drawRoundedRect(QRectF(1.5, 2.5, 13, 12), 1.5, 1.5)
        painter.fillRect(QRectF(1.5, 2.5, 13, 3.5), color)
        for x in (4.5, 8, 11.5):
            for y in (8.5, 11.5):
                painter.fillRect(QRectF(x - 1, y - 1, 2, 2), color)
    finally:
        painter.end()
    return QIcon(pixmap)


class DateEdit(QLineEdit):
    """A typed or picked date; see the module docstring."""

    dateChanged = Signal(QDate)  # QDateEdit's name, which this replaces
    invalid = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._date = QDate.currentDate()
        self._problem = ""
        self._tooltip = ""
        self._format = date_format()
        self.setPlaceholderText(self._example())
        self._pause = QTimer(self)
        self._pause.setObjectName("dateTypingPause")
        self._pause.setSingleShot(True)
        self._pause.setInterval(TYPING_PAUSE_MS)
        self._pause.timeout.connect(self._apply_while_typing)
        self.calendar_action = QAction(self)
        self.calendar_action.setIcon(_calendar_icon(self.palette().text().color()))
        keys = QKeySequence("Alt+Down").toString(QKeySequence.SequenceFormat.NativeText)
        self.calendar_action.setToolTip(
            self.tr("Pick the date in a calendar ({keys})").format(keys=keys)
        )
        self.addAction(self.calendar_action, QLineEdit.ActionPosition.TrailingPosition)
        self.calendar_action.triggered.connect(self.show_calendar)
        self._popup: QFrame | None = None
        self.calendar: QCalendarWidget | None = None
        self.textEdited.connect(lambda _text: self._pause.start())
        self.editingFinished.connect(self._apply)
        self._show_date()
        # As wide as a date and the calendar button, whatever the line it sits on.
        self.setFixedWidth(self.fontMetrics().horizontalAdvance(self._example() + "00") + 40)

    # -- QDateEdit-like API ----------------------------------------------------------------

    def date(self) -> QDate:
        """The date in effect (the last one read or set; not invalid text being typed)."""
        return QDate(self._date)

    def setDate(self, value: QDate) -> None:
        """Show ``value``; ``dateChanged`` when it differs from the date in effect."""
        changed = value != self._date
        self._date = QDate(value)
        self._show_date()
        self._set_problem("")
        if changed:
            self.dateChanged.emit(QDate(value))

    def problem(self) -> str:
        """Why the text typed is not a date ('' when it is one)."""
        return self._problem

    # -- calendar --------------------------------------------------------------------------

    def show_calendar(self) -> None:
        """Open the calendar under the field (a popup: a click elsewhere closes it)."""
        if self._popup is None:
            popup = QFrame(self, Qt.WindowType.Popup)
            popup.setObjectName("dateCalendarPopup")
            popup.setFrameShape(QFrame.Shape.StyledPanel)
            calendar = QCalendarWidget(popup)
            calendar.setObjectName("dateCalendar")
            calendar.setGridVisible(True)
            layout = QVBoxLayout(popup)
            layout.setContentsMargins(2, 2, 2, 2)
            layout.addWidget(calendar)
            calendar.clicked.connect(self._picked)
            calendar.activated.connect(self._picked)
            self._popup, self.calendar = popup, calendar
        assert self.calendar is not None
        self.calendar.setSelectedDate(self._date)
        popup = self._popup
        popup.adjustSize()
        below = self.mapToGlobal(QPoint(0, self.height()))
        screen = self.screen().availableGeometry()
        x = min(below.x(), screen.right() - popup.width())
        y = below.y()
        if y + popup.height() > screen.bottom():  # no room below: above the field
            y -= popup.height() + self.height()
        popup.move(max(x, screen.left()), max(y, screen.top()))
        popup.show()
        self.calendar.setFocus(Qt.FocusReason.PopupFocusReason)

    def _picked(self, value: QDate) -> None:
        if self._popup is not None:
            self._popup.hide()
        self.setDate(value)
        self.setFocus(Qt.FocusReason.PopupFocusReason)

    # -- events ----------------------------------------------------------------------------

    def keyPressEvent(self, event: QKeyEvent) -> None:
        alt_down = (
            event.key() == Qt.Key.Key_Down and event.modifiers() == Qt.KeyboardModifier.AltModifier
        )
        if alt_down or (event.key() == Qt.Key.Key_F4 and not event.modifiers()):
            self.show_calendar()
            event.accept()
            return
        super().keyPressEvent(event)

    # -- internals -------------------------------------------------------------------------

    def _example(self) -> str:
        return _locale(None).toString(QDate(2026, 11, 25), self._format)

    def _show_date(self) -> None:
        self.setText(_locale(None).toString(self._date, self._format))

    def _apply_while_typing(self) -> None:
        """A pause in typing: take the date if the text is one with its full year."""
        year_typed = re.search(r"\d{4}", self.text()) is not None
        value = parse_date(self.text())
        if value is not None and year_typed:
            self._take(value, rewrite=False)

    def _apply(self) -> None:
        self._pause.stop()
        value = parse_date(self.text())
        if value is None:
            self._set_problem(
                self.tr("“{text}” is not a date: type it like {example}.").format(
                    text=self.text().strip(), example=self._example()
                )
            )
            return
        self._take(value, rewrite=True)

    def _take(self, value: date, *, rewrite: bool) -> None:
        self._set_problem("")
        qdate = QDate(value)
        changed = qdate != self._date
        self._date = qdate
        if rewrite:
            self._show_date()
        if changed:
            self.dateChanged.emit(QDate(qdate))

    def _set_problem(self, problem: str) -> None:
        if problem == self._problem:
            return
        self._problem = problem
        self.setProperty("invalid", bool(problem))
        self.setStyleSheet("QLineEdit{border:1px solid #d93025;}" if problem else "")
        self.setToolTip(problem or self._tooltip)
        self.invalid.emit(problem)

    def setToolTip(self, text: str) -> None:
        """The field's own tooltip; while the text is not a date, the problem shows instead."""
        if not self._problem:
            self._tooltip = text
        super().setToolTip(text)
