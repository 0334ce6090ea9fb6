"""The card pane: one pull's card, its code and PIN masked until asked, and its PDF.

Gift-card codes and PINs are cash. The code shows only its last characters
("•••• •••• •••• 1234") and the PIN none, until the user presses Reveal; Copy works while masked
(the real value goes to a ``SecureClipboard``, wiped after 30 s). Selecting another pull
re-masks everything and covers the PDF again.

Signals:
    revealed(str card_id): the user revealed the code, the PIN or the PDF of this card.
    copied(str card_id, str what): the user copied the ``"code"``, the ``"pin"`` or ``"all"``
        (code, PIN and expiry in one text).
    audit(str card_id, str action): every sensitive action, one of ``reveal_code``,
        ``reveal_pin``, ``show_pdf``, ``copy_code``, ``copy_pin``, ``copy_all``, ``save_pdf``,
        ``open_pdf``.
    message(str): a status sentence for the status bar.
    card_shown(): another card is on display (its delivery status is to be read).
    email_requested(), print_requested(), delivery_retry_requested(): the user pressed
        "E-mail to customer…", "Print…" or the delivery status's Retry (``ui.delivery``
        does the work).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

from PySide6.QtCore import QDate, QLocale, Qt, Signal
from PySide6.QtGui import QAction, QFont, QFontDatabase, QKeySequence
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from walleo_desktop.api.models import expiry_day
from walleo_desktop.store.records import CardRecord, PullRecord, PullState
from walleo_desktop.ui.clipboard import SecureClipboard
from walleo_desktop.ui.feedback import ERROR_COLOR, OK_COLOR
from walleo_desktop.ui.flow_layout import FlowLayout
from walleo_desktop.ui.formatting import format_amount
from walleo_desktop.ui.pdf_view import PdfPanel

__all__ = [
    "EXPIRY_WARNING_DAYS",
    "CardPane",
    "display_code",
    "expiry_status",
    "format_amount",
    "mask_code",
]

log = logging.getLogger("walleo.ui.card_pane")

EXPIRY_WARNING_DAYS = 30
BULLET = "•"
PIN_MASK = BULLET * 4  # always four: the mask does not tell the PIN's length
WARNING_COLOR = "#b45309"  # orange, readable on light and dark backgrounds

_PENDING_STATES = {
    PullState.QUEUED,
    PullState.SENDING,
    PullState.IN_DOUBT,
    PullState.WAITING,
    PullState.PROCESSING,
}


def _groupable(code: str) -> bool:
    """Long plain codes read better in groups of four; codes with their own separators do not."""
    return len(code) > 8 and code.isalnum()


def _group(text: str) -> str:
    """Groups of four counted from the end, so the last four always stand together."""
    head = len(text) % 4
    groups = [text[:head]] if head else []
    groups += [text[i : i + 4] for i in range(head, len(text), 4)]
    return " ".join(groups)


def display_code(code: str) -> str:
    """The code as shown when revealed: ``"4929123456783456"`` → ``"4929 1234 5678 3456"``."""
    code = code.strip()
    return _group(code) if _groupable(code) else code


def mask_code(code: str) -> str:
    """``"4929123456783456"`` → ``"•••• •••• •••• 3456"``; separators (``-``) are kept.

    At most the last 4 letters or digits stay visible, and never more than a third of them.
    """
    code = code.strip()
    significant = sum(1 for ch in code if ch.isalnum())
    to_hide = significant - min(4, significant // 3)
    out = []
    for ch in code:
        if ch.isalnum() and to_hide > 0:
            out.append(BULLET)
            to_hide -= 1
        else:
            out.append(ch)
    masked = "".join(out)
    return _group(masked) if _groupable(code) else masked


def expiry_status(
    expire_at: datetime | None, now: datetime | None = None
) -> tuple[str, int | None]:
    """``("none" | "ok" | "warning" | "expired", days_left)``; warning within 30 days."""
    if expire_at is None:
        return "none", None
    now = now or datetime.now(UTC)
    if expire_at.tzinfo is None:
        expire_at = expire_at.replace(tzinfo=UTC)
    if expire_at <= now:
        return "expired", 0
    local_today = now.astimezone().date()
    days = (expiry_day(expire_at) - local_today).days  # Walleo's day, as on the card's PDF
    if days <= EXPIRY_WARNING_DAYS:
        return "warning", days
    return "ok", days


def _keys(action: QAction) -> str:
    """The action's shortcut as the platform spells it (Ctrl+Shift+R, ⇧⌘R on a Mac)."""
    return action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)


def _safe_file_part(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.") or "card"


class _SecretRow(QWidget):
    """A masked value with Reveal and Copy buttons."""

    def __init__(self, title: str, font: QFont, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel(title, self)
        self.value = QLabel(self)
        self.value.setFont(font)
        self.value.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
        self.value.setWordWrap(True)  # a narrow pane wraps between groups of four
        self.reveal = QToolButton(self)
        self.reveal.setCheckable(True)
        self.reveal.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        # As wide as its widest caption, so that toggling it does not move the row.
        widths = []
        for caption in (self.tr("Reveal"), self.tr("Hide")):
            self.reveal.setText(caption)
            widths.append(self.reveal.sizeHint().width())
        self.reveal.setMinimumWidth(max(widths))
        self.copy = QToolButton(self)
        self.copy.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        # Two rows have a Reveal and a Copy: screen readers need to hear which one.
        self.reveal.setAccessibleName(self.tr("Reveal {what}").format(what=title))
        self.copy.setAccessibleName(self.tr("Copy {what}").format(what=title))
        self.value.setAccessibleName(title)
        value_box = QFrame(self)
        value_box.setFrameShape(QFrame.Shape.StyledPanel)
        value_box.setObjectName("secretBox")
        box_layout = QHBoxLayout(value_box)
        box_layout.setContentsMargins(10, 6, 10, 6)
        box_layout.addWidget(self.value, 1)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(value_box, 1)
        row.addWidget(self.reveal)
        row.addWidget(self.copy)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.title)
        layout.addLayout(row)


class CardPane(QWidget):
    """Shows the card of the selected pull (see module docstring)."""

    revealed = Signal(str)
    copied = Signal(str, str)
    audit = Signal(str, str)
    message = Signal(str)
    card_shown = Signal()
    email_requested = Signal()
    print_requested = Signal()
    delivery_retry_requested = Signal()

    _EMPTY, _PENDING, _CARD = range(3)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._pull: PullRecord | None = None
        self._card: CardRecord | None = None
        self._clipboard = SecureClipboard(self)
        self._clipboard.message.connect(self.message)
        self._now: Callable[[], datetime] = lambda: datetime.now(UTC)

        self.stack = QStackedWidget(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.stack)

        # -- empty
        empty = QWidget(self)
        self.empty_label = QLabel(self.tr("Select a pull to see its card."), empty)
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setWordWrap(True)
        self.empty_label.setEnabled(False)
        empty_layout = QVBoxLayout(empty)
        empty_layout.addWidget(self.empty_label)
        self.stack.addWidget(empty)

        # -- pending / failed
        pending = QWidget(self)
        self.pending_title = QLabel(pending)
        self.pending_title.setFont(self._scaled_font(1.3, bold=True))
        self.pending_title.setWordWrap(True)
        self.pending_label = QLabel(pending)
        self.pending_label.setObjectName("pendingMessage")
        self.pending_label.setWordWrap(True)
        self.pending_label.setFont(self._scaled_font(1.1))
        self.reason_label = QLabel(pending)
        self.reason_label.setObjectName("pendingReason")
        self.reason_label.setWordWrap(True)
        self.reason_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        pending_layout = QVBoxLayout(pending)
        pending_layout.setContentsMargins(16, 16, 16, 16)
        pending_layout.addWidget(self.pending_title)
        pending_layout.addSpacing(8)
        pending_layout.addWidget(self.pending_label)
        pending_layout.addWidget(self.reason_label)
        pending_layout.addStretch(1)
        self.stack.addWidget(pending)

        # -- card
        card = QWidget(self)
        self.brand_label = QLabel(card)
        self.brand_label.setObjectName("brand")
        self.brand_label.setFont(self._scaled_font(1.5, bold=True))
        self.brand_label.setWordWrap(True)
        self.amount_label = QLabel(card)
        self.amount_label.setObjectName("amount")
        self.amount_label.setFont(self._scaled_font(1.5, bold=True))
        self.amount_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.expiry_label = QLabel(card)
        self.expiry_label.setObjectName("expiry")
        self.expiry_label.setWordWrap(True)
        self.details_label = QLabel(card)
        self.details_label.setObjectName("details")
        self.details_label.setEnabled(False)
        self.details_label.setWordWrap(True)

        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        mono.setPointSizeF(max(mono.pointSizeF(), self.font().pointSizeF()) * 1.6)
        mono.setLetterSpacing(QFont.SpacingType.PercentageSpacing, 105)
        self.code_row = _SecretRow(self.tr("Code"), mono, card)
        self.code_label = self.code_row.value
        self.code_label.setObjectName("code")
        self.reveal_code_button = self.code_row.reveal
        self.reveal_code_button.toggled.connect(self._on_reveal_code)
        self.copy_code_button = self.code_row.copy
        self.copy_code_button.setText(self.tr("Copy"))
        self.copy_code_button.clicked.connect(self._on_copy_code)

        self.pin_row = _SecretRow(self.tr("PIN"), mono, card)
        self.pin_label = self.pin_row.value
        self.pin_label.setObjectName("pin")
        self.reveal_pin_button = self.pin_row.reveal
        self.reveal_pin_button.toggled.connect(self._on_reveal_pin)
        self.copy_pin_button = self.pin_row.copy
        self.copy_pin_button.setText(self.tr("Copy"))
        self.copy_pin_button.setToolTip(
            self.tr("Copy the PIN; the clipboard is cleared after a while")
        )
        self.copy_pin_button.clicked.connect(self._on_copy_pin)

        # Keyboard shortcuts are actions of the pane, not of the buttons: a button's setText()
        # replaces its shortcut with the caption's mnemonic, and Reveal/Hide is re-captioned
        # at every toggle. Window-wide, so they work with the focus in the table too.
        self.reveal_code_action = self._shortcut(
            "revealCode", QKeySequence("Ctrl+Shift+R"), self.reveal_code_button
        )
        self.copy_code_action = self._shortcut(
            "copyCode", QKeySequence("Ctrl+Shift+C"), self.copy_code_button
        )
        self.reveal_pin_action = self._shortcut(
            "revealPin", QKeySequence("Ctrl+Shift+P"), self.reveal_pin_button
        )
        self.reveal_code_button.setToolTip(
            self.tr("Show or hide the code ({keys})").format(keys=_keys(self.reveal_code_action))
        )
        self.copy_code_button.setToolTip(
            self.tr("Copy the code; the clipboard is cleared after a while ({keys})").format(
                keys=_keys(self.copy_code_action)
            )
        )
        self.reveal_pin_button.setToolTip(
            self.tr("Show or hide the PIN ({keys})").format(keys=_keys(self.reveal_pin_action))
        )

        # Delivering the card: e-mail, print, everything on the clipboard at once.
        self.email_button = QPushButton(self.tr("&E-mail to customer…"), card)
        self.email_button.setObjectName("emailCard")
        self.email_button.setToolTip(
            self.tr("Send the card (code, PIN, expiry, its PDF) to the customer's address")
        )
        self.email_button.clicked.connect(self.email_requested)
        self.print_button = QPushButton(self.tr("Prin&t…"), card)
        self.print_button.setObjectName("printCard")
        self.print_button.setToolTip(self.tr("Print the card (its PDF, or a card page)"))
        self.print_button.clicked.connect(self.print_requested)
        self.copy_all_button = QPushButton(self.tr("Cop&y all"), card)
        self.copy_all_button.setObjectName("copyAll")
        self.copy_all_button.setToolTip(
            self.tr(
                "Copy the code, the PIN and the expiry day; the clipboard is cleared after a while"
            )
        )
        self.copy_all_button.clicked.connect(self._on_copy_all)
        deliver = FlowLayout(spacing=6)
        for button in (self.email_button, self.print_button, self.copy_all_button):
            deliver.addWidget(button)
        self.delivery_label = QLabel(card)
        self.delivery_label.setObjectName("deliveryStatus")
        self.delivery_label.setWordWrap(True)
        self.delivery_label.setTextFormat(Qt.TextFormat.PlainText)
        self.delivery_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.delivery_retry_button = QToolButton(card)
        self.delivery_retry_button.setObjectName("deliveryRetry")
        self.delivery_retry_button.setText(self.tr("Retry"))
        self.delivery_retry_button.setToolTip(self.tr("Send the e-mail again to the same address"))
        self.delivery_retry_button.clicked.connect(self.delivery_retry_requested)
        self.delivery_retry_button.hide()
        delivery_row = QHBoxLayout()
        delivery_row.setContentsMargins(0, 0, 0, 0)
        delivery_row.addWidget(self.delivery_label, 1)
        delivery_row.addWidget(self.delivery_retry_button, 0, Qt.AlignmentFlag.AlignTop)

        self.pdf = PdfPanel(card)
        self.pdf.message.connect(self.message)
        self.pdf.shown.connect(self._on_pdf_shown)
        self.pdf.saved.connect(self._on_pdf_saved)
        self.pdf.opened.connect(self._on_pdf_opened)

        header = QGridLayout()
        header.setContentsMargins(0, 0, 0, 0)
        header.addWidget(self.brand_label, 0, 0)
        header.addWidget(self.amount_label, 0, 1)
        header.addWidget(self.expiry_label, 1, 0, 1, 2)
        header.addWidget(self.details_label, 2, 0, 1, 2)
        header.setColumnStretch(0, 1)

        line = QFrame(card)
        line.setFrameShape(QFrame.Shape.HLine)
        line.setFrameShadow(QFrame.Shadow.Sunken)

        card_layout = QVBoxLayout(card)
        card_layout.setContentsMargins(12, 12, 12, 12)
        card_layout.setSpacing(10)
        card_layout.addLayout(header)
        card_layout.addWidget(self.code_row)
        card_layout.addWidget(self.pin_row)
        card_layout.addLayout(deliver)
        card_layout.addLayout(delivery_row)
        card_layout.addWidget(line)
        card_layout.addWidget(self.pdf, 1)
        # Scrolls only on a screen too short for it all (the delivery actions made the card
        # taller): the window keeps fitting an 800 × 600 screen; at usual sizes no bar shows.
        self.card_scroll = QScrollArea(self)
        self.card_scroll.setObjectName("cardScroll")
        self.card_scroll.setWidget(card)
        self.card_scroll.setWidgetResizable(True)
        self.card_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.card_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.stack.addWidget(self.card_scroll)

        self.clear()

    def _shortcut(self, name: str, keys: QKeySequence, button: QToolButton) -> QAction:
        """A window-wide shortcut that presses ``button`` while it is shown and enabled."""
        action = QAction(self)
        action.setObjectName(f"{name}Action")
        action.setShortcut(keys)
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)

        def press() -> None:
            if button.isVisible():  # the card is shown (and its PIN row, for the PIN)
                button.click()  # nothing while the button is disabled

        action.triggered.connect(press)
        self.addAction(action)
        return action

    # ------------------------------------------------------------------ API

    def set_pdf_loader(self, loader: Callable[[CardRecord], Awaitable[Path]]) -> None:
        """Where PDFs come from (the main window passes ``session.cards.pdf``)."""
        self.pdf.set_loader(loader)

    @property
    def clipboard(self) -> SecureClipboard:
        return self._clipboard

    def set_clipboard(self, clipboard: SecureClipboard) -> None:
        """Share the application's clipboard helper (its messages go to the status bar)."""
        if clipboard is self._clipboard:
            return
        self._clipboard.message.disconnect(self.message)
        self._clipboard = clipboard
        clipboard.message.connect(self.message)

    @property
    def pull(self) -> PullRecord | None:
        return self._pull

    @property
    def code_revealed(self) -> bool:
        return self.reveal_code_button.isChecked()

    @property
    def pin_revealed(self) -> bool:
        return self.reveal_pin_button.isChecked()

    def set_delivery_status(self, text: str, *, severity: str = "", retry: bool = False) -> None:
        """The card's delivery line (``severity``: "", ``ok``, ``error``); Retry when asked."""
        self.delivery_label.setText(text)
        self.delivery_label.setVisible(bool(text))
        self.delivery_label.setProperty("severity", severity)
        color = {"ok": OK_COLOR, "error": ERROR_COLOR}.get(severity)
        self.delivery_label.setStyleSheet(f"color: {color};" if color else "")
        self.delivery_retry_button.setVisible(retry)

    @property
    def card(self) -> CardRecord | None:
        return self._card

    def show_pull(self, pull: PullRecord, card: CardRecord | None) -> None:
        """Show ``pull`` and its card. Another pull than before starts masked and covered."""
        same = (
            self._pull is not None
            and self._pull.id == pull.id
            and (self._card.card_id if self._card else None) == (card.card_id if card else None)
        )
        if not same:
            self._mask_all()
        self._pull = pull
        self._card = card
        if card is not None:
            self._show_card(pull, card, same=same)
            if not same:
                self.set_delivery_status("")
                self.card_shown.emit()
        else:
            self.pdf.clear()
            self._show_pending(pull)

    def clear(self) -> None:
        """Nothing selected."""
        self._mask_all()
        self._pull = None
        self._card = None
        self.code_label.clear()
        self.pin_label.clear()
        self.pdf.clear()
        self.stack.setCurrentIndex(self._EMPTY)

    # ------------------------------------------------------------------ rendering

    def _scaled_font(self, factor: float, *, bold: bool = False) -> QFont:
        font = QFont(self.font())
        font.setPointSizeF(font.pointSizeF() * factor)
        font.setBold(bold)
        return font

    def _brand(self, pull: PullRecord) -> str:
        return pull.gift_card_name or pull.gift_card_code or self.tr("Gift card")

    def _mask_all(self) -> None:
        for button in (self.reveal_code_button, self.reveal_pin_button):
            button.blockSignals(True)
            button.setChecked(False)
            button.blockSignals(False)
        self._render_secrets()

    def _show_card(self, pull: PullRecord, card: CardRecord, *, same: bool) -> None:
        self.brand_label.setText(self._brand(pull))
        amount = card.amount if card.amount is not None else pull.amount
        self.amount_label.setText(format_amount(amount, pull.currency))
        self._render_expiry(card.expire_at)
        details = [self.tr("Pull #%s") % pull.id]
        if pull.reference:
            details.append(self.tr("Reference %s") % pull.reference)
        if pull.agent:
            details.append(self.tr("by %s") % pull.agent)
        self.details_label.setText(" · ".join(details))
        has_pin = bool(card.pin_code.strip())
        has_code = bool(card.code.strip())
        for button in (self.email_button, self.print_button, self.copy_all_button):
            button.setEnabled(has_code)
        self.pin_row.setVisible(has_pin)
        self.reveal_pin_button.setEnabled(has_pin)
        self.copy_pin_button.setEnabled(has_pin)
        self._render_secrets()
        self.stack.setCurrentIndex(self._CARD)
        name = _safe_file_part(f"{self._brand(pull)}-{amount}-{card.card_id[:8]}")
        self.pdf.show_card(card, suggested_name=f"{name}.pdf")

    def _render_expiry(self, expire_at: datetime | None) -> None:
        severity, days = expiry_status(expire_at, self._now())
        if expire_at is None:
            text = self.tr("No expiry date")
        else:
            day = expiry_day(expire_at)
            date = QLocale().toString(
                QDate(day.year, day.month, day.day), QLocale.FormatType.LongFormat
            )
            if severity == "expired":
                text = self.tr("Expired on %s") % date
            elif severity == "warning" and days == 0:
                text = self.tr("Expires today (%s)") % date
            elif severity == "warning" and days == 1:
                text = self.tr("Expires tomorrow (%s)") % date
            elif severity == "warning":
                text = self.tr("Expires in %s days (%s)") % (days, date)
            else:
                text = self.tr("Expires on %s") % date
        self.expiry_label.setText(text)
        self.expiry_label.setProperty("severity", severity)
        color = {"warning": WARNING_COLOR, "expired": ERROR_COLOR}.get(severity)
        self.expiry_label.setStyleSheet(f"color: {color}; font-weight: bold;" if color else "")

    def _render_secrets(self) -> None:
        card = self._card
        code_shown = self.reveal_code_button.isChecked()
        pin_shown = self.reveal_pin_button.isChecked()
        self.reveal_code_button.setText(self.tr("Hide") if code_shown else self.tr("Reveal"))
        self.reveal_pin_button.setText(self.tr("Hide") if pin_shown else self.tr("Reveal"))
        if card is None:
            self.code_label.clear()
            self.pin_label.clear()
            return
        if code_shown:
            self.code_label.setText(display_code(card.code))
            self.code_label.setAccessibleName(self.tr("Code"))
        else:
            self.code_label.setText(mask_code(card.code))
            self.code_label.setAccessibleName(self.tr("Code, hidden"))
        if not card.pin_code.strip():
            self.pin_label.clear()
        elif pin_shown:
            self.pin_label.setText(card.pin_code)
            self.pin_label.setAccessibleName(self.tr("PIN"))
        else:
            self.pin_label.setText(PIN_MASK)
            self.pin_label.setAccessibleName(self.tr("PIN, hidden"))

    def _show_pending(self, pull: PullRecord) -> None:
        title = f"{self._brand(pull)} · {format_amount(pull.amount, pull.currency)}"
        self.pending_title.setText(title)
        reason = ""
        color = ""
        if pull.state in _PENDING_STATES:
            text = self.tr("Waiting for Walleo… the card appears here as soon as it is issued.")
            if pull.state is PullState.IN_DOUBT:
                reason = self.tr(
                    "The last answer from Walleo was lost; the app is checking whether the "
                    "card was issued. Nothing needs to be done."
                )
            elif pull.overdue:
                reason = self.tr("This is taking longer than usual; the app keeps checking.")
        elif pull.state is PullState.SUCCESS:
            text = self.tr("The card was issued; its details are being fetched.")
        elif pull.state is PullState.REJECTED:
            text = self.tr("Walleo refused this pull: no card was issued.")
            reason = self._reason(pull)
            color = ERROR_COLOR
        else:  # ERROR
            text = self.tr("Walleo could not issue this card.")
            reason = self._reason(pull)
            color = ERROR_COLOR
        self.pending_label.setText(text)
        self.pending_label.setStyleSheet(f"color: {color};" if color else "")
        self.reason_label.setText(reason)
        self.reason_label.setVisible(bool(reason))
        self.stack.setCurrentIndex(self._PENDING)

    def _reason(self, pull: PullRecord) -> str:
        message = pull.error_message.strip()
        code = pull.error_code.strip()
        if message and code:
            return self.tr("Reason: %s (%s)") % (message, code)
        if message or code:
            return self.tr("Reason: %s") % (message or code)
        return self.tr("Walleo gave no reason.")

    # ------------------------------------------------------------------ actions

    def _card_id(self) -> str:
        return self._card.card_id if self._card is not None else ""

    def _on_reveal_code(self, checked: bool) -> None:
        self._render_secrets()
        if checked and self._card is not None:
            self.revealed.emit(self._card_id())
            self.audit.emit(self._card_id(), "reveal_code")

    def _on_reveal_pin(self, checked: bool) -> None:
        self._render_secrets()
        if checked and self._card is not None:
            self.revealed.emit(self._card_id())
            self.audit.emit(self._card_id(), "reveal_pin")

    def _on_copy_code(self) -> None:
        card = self._card
        if card is None or not card.code:
            return
        self._clipboard.copy(card.code, secret=True, label=self.tr("Code"))
        self.copied.emit(card.card_id, "code")
        self.audit.emit(card.card_id, "copy_code")

    def _on_copy_pin(self) -> None:
        card = self._card
        if card is None or not card.pin_code.strip():
            return
        self._clipboard.copy(card.pin_code, secret=True, label=self.tr("PIN"))
        self.copied.emit(card.card_id, "pin")
        self.audit.emit(card.card_id, "copy_pin")

    def _on_copy_all(self) -> None:
        card = self._card
        if card is None or not card.code.strip():
            return
        lines = [self.tr("Code: %s") % card.code.strip()]
        if card.pin_code.strip():
            lines.append(self.tr("PIN: %s") % card.pin_code.strip())
        if card.expire_at is None:
            lines.append(self.tr("No expiry date"))
        else:
            day = expiry_day(card.expire_at)
            date = QLocale().toString(
                QDate(day.year, day.month, day.day), QLocale.FormatType.LongFormat
            )
            lines.append(self.tr("Valid until %s") % date)
        self._clipboard.copy("\n".join(lines), secret=True, label=self.tr("Code, PIN and expiry"))
        self.copied.emit(card.card_id, "all")
        self.audit.emit(card.card_id, "copy_all")

    def _on_pdf_shown(self) -> None:
        if self._card is not None:
            self.revealed.emit(self._card_id())
            self.audit.emit(self._card_id(), "show_pdf")

    def _on_pdf_saved(self, path: str) -> None:
        if self._card is not None:
            self.audit.emit(self._card_id(), "save_pdf")

    def _on_pdf_opened(self) -> None:
        if self._card is not None:
            self.audit.emit(self._card_id(), "open_pdf")
