"""Delivering a card from the window: e-mail it to the customer, print it.

``DeliveryController`` ties the card pane's "E-mail to customer…", "Print…" and Retry to the
engine's ``CardDelivery`` (``engine/delivery.py``) and to Qt's print dialog, and keeps the
pane's delivery line (sent / failed with the reason / never) in step with the audit log it is
read from. Dialogs are opened with ``open()``, never ``exec()`` (no nested event loop under
qasync); the work runs through the window's ``AsyncOps``; the SMTP password is read from the
keyring off the GUI thread, with a timeout.

``EmailCardDialog`` asks for the customer's address (prefilled with the address this card was
last sent to, else with the pull's reference when that is an e-mail address: agents often file
a pull under the customer's address) and shows the e-mail that will be sent, the code and PIN
masked unless the agent revealed them in the pane.

Signals of ``DeliveryController``:
    message(str): a status sentence; failed(str): a failure, said plainly.
    status_shown(int pull_id, DeliveryStatus): the pane's delivery line was updated.
    print_finished(bool printed, str sentence): a print ended (or was cancelled).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QCoreApplication, QDateTime, QLocale, QObject, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid

from walleo_desktop.api.errors import ConfigurationError, WalleoError
from walleo_desktop.engine.delivery import (
    CardContent,
    CardDelivery,
    DeliveryError,
    DeliveryStatus,
    InvalidAddress,
    SmtpNotConfigured,
    SmtpSettings,
    SmtpSettingsStore,
    html_body,
    subject_for,
    validate_address,
)
from walleo_desktop.engine.profiles import KeyringUnavailable
from walleo_desktop.store import StoreError
from walleo_desktop.store.records import CardRecord, PullRecord
from walleo_desktop.ui.async_ops import AsyncOps, keyring_call
from walleo_desktop.ui.card_pane import PIN_MASK, CardPane, mask_code
from walleo_desktop.ui.feedback import ERROR_COLOR

if TYPE_CHECKING:
    # Imported when a card is first printed: printing (QtPrintSupport, QtPdf) is not on the
    # window's first paint's path.
    from PySide6.QtPrintSupport import QPrinter

    from walleo_desktop.ui.card_print import PrintError

__all__ = [
    "KEYRING_TIMEOUT",
    "PRINT_EVENT",
    "DeliveryController",
    "EmailCardDialog",
    "SessionPasswords",
    "describe_error",
    "session_smtp_passwords",
    "status_text",
    "window_language",
]

log = logging.getLogger("walleo.ui.delivery")

PRINT_EVENT = "card_print"
KEYRING_TIMEOUT = 5.0  # seconds, as for the Walleo credentials (settings_dialog)


class SessionPasswords:
    """SMTP passwords kept in memory for this run only, when no keyring can hold them.

    Never written anywhere; ``repr`` names the profiles only.
    """

    def __init__(self) -> None:
        self._items: dict[str, str] = {}
        self._lock = threading.Lock()

    def get(self, profile: str) -> str | None:
        with self._lock:
            return self._items.get(profile)

    def set(self, profile: str, password: str) -> None:
        with self._lock:
            self._items[profile] = password

    def discard(self, profile: str) -> None:
        with self._lock:
            self._items.pop(profile, None)

    def rename(self, old: str, new: str) -> None:
        with self._lock:
            if old in self._items:
                self._items[new] = self._items.pop(old)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __repr__(self) -> str:
        with self._lock:
            return f"SessionPasswords(profiles={sorted(self._items)!r})"


session_smtp_passwords = SessionPasswords()


def _tr(text: str) -> str:
    return QCoreApplication.translate("Delivery", text)


def window_language() -> str:
    """The window's language as the e-mail's default: ``fr`` or ``en``."""
    return "fr" if QLocale().language() == QLocale.Language.French else "en"


def not_set_up() -> str:
    return _tr(
        "E-mail is not set up for this profile: enter the team's SMTP server in "
        "File → Settings… → E-mail."
    )


def describe_error(exc: BaseException) -> str:
    """A delivery failure in the window's words (the engine's are English)."""
    if isinstance(exc, InvalidAddress):
        return _tr("“{address}” is not a valid e-mail address.").format(address=exc.address)
    if isinstance(exc, SmtpNotConfigured):
        if exc.detail == "no password":
            return _tr(
                "No SMTP password is stored for this profile: enter it in "
                "File → Settings… → E-mail."
            )
        if exc.detail == "no settings":
            return not_set_up()
        return _tr("The e-mail settings are not complete: {problem}").format(problem=exc.message)
    if isinstance(exc, DeliveryError):
        values = {
            "server": f"{exc.host}:{exc.port}",
            "detail": exc.detail,
            "address": exc.address,
        }
        texts = {
            "auth": _tr(
                "The SMTP server refused the user name or password ({detail}). Check them in "
                "File → Settings… → E-mail."
            ),
            "unreachable": _tr("The SMTP server {server} cannot be reached ({detail})."),
            "timeout": _tr("The SMTP server {server} did not answer in time."),
            "tls": _tr(
                "No secure connection could be made to the SMTP server {server}: {detail}. If "
                "your team uses its own certificate authority, choose its file under “Trust "
                "this CA file” in File → Settings… → E-mail."
            ),
            "recipient_refused": _tr("The SMTP server refused the address {address} ({detail})."),
            "sender_refused": _tr(
                "The SMTP server refused the sender's address ({detail}): check it in "
                "File → Settings… → E-mail."
            ),
            "rejected": _tr("The SMTP server refused the message ({detail})."),
            "no_card": _tr("This pull has no card to send."),
        }
        text = texts.get(exc.reason, _tr("The e-mail could not be sent ({detail})."))
        return text.format(**values)
    if isinstance(exc, KeyringUnavailable):
        return _tr("The SMTP password cannot be read from the system keyring ({reason}).").format(
            reason=exc
        )
    if isinstance(exc, ConfigurationError | StoreError):
        return str(exc)
    return _tr("The e-mail could not be sent (unexpected error; see the log).")


def _short_reason(reason: str) -> str:
    texts = {
        "auth": _tr("user name or password refused"),
        "unreachable": _tr("server unreachable"),
        "timeout": _tr("no answer from the server"),
        "tls": _tr("no secure connection"),
        "recipient_refused": _tr("address refused"),
        "sender_refused": _tr("sender's address refused"),
        "rejected": _tr("message refused"),
    }
    return texts.get(reason, _tr("not sent"))


def _when(at: datetime | None) -> str:
    if at is None:
        return ""
    moment = QDateTime.fromSecsSinceEpoch(int(at.timestamp()))
    return QLocale().toString(moment, QLocale.FormatType.ShortFormat)


def status_text(status: DeliveryStatus) -> tuple[str, str, bool]:
    """``(text, severity, retry)`` for the pane's delivery line."""
    if status.state == "never":
        return _tr("Not e-mailed yet."), "", False
    values = {"address": status.to, "when": _when(status.at), "agent": status.agent or "?"}
    if status.state == "sent":
        return _tr("E-mailed to {address} on {when} by {agent}.").format(**values), "ok", False
    text = _tr("E-mail to {address} failed on {when}: {reason}.").format(
        reason=_short_reason(status.reason), **values
    )
    return text, "error", bool(status.to)


def _address_in(reference: str) -> str:
    try:
        validate_address(reference)
    except InvalidAddress:
        return ""
    return reference.strip()


class EmailCardDialog(QDialog):
    """Asks for the customer's address and shows what will be sent.

    Signals:
        send_requested(str address, str language): the user pressed Send with a valid address.
    """

    send_requested = Signal(str, str)

    def __init__(
        self,
        content: CardContent,
        settings: SmtpSettings,
        *,
        address: str = "",
        code_shown: bool = False,
        pin_shown: bool = False,
        pdf_available: bool = True,
        language: str = "fr",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("emailCardDialog")
        self.setWindowTitle(self.tr("E-mail the card to the customer"))
        self.setMinimumSize(560, 560)
        self._content = content
        self._settings = settings
        self._masked = replace(
            content,
            code=content.code if code_shown else mask_code(content.code),
            pin=content.pin if pin_shown or not content.pin else PIN_MASK,
        )
        self._pdf = pdf_available

        self.address_edit = QLineEdit(address, self)
        self.address_edit.setObjectName("customerAddress")
        self.address_edit.setMaxLength(254)
        self.address_edit.setPlaceholderText(self.tr("customer@example.com"))
        self.address_edit.selectAll()
        self.address_edit.textEdited.connect(self._hide_error)
        self.language_combo = QComboBox(self)
        self.language_combo.setObjectName("emailLanguage")
        self.language_combo.addItem(self.tr("French"), "fr")
        self.language_combo.addItem(self.tr("English"), "en")
        self.language_combo.setCurrentIndex(max(0, self.language_combo.findData(language)))
        self.language_combo.currentIndexChanged.connect(self._render)
        address_label = QLabel(self.tr("Customer's &e-mail address"), self)
        address_label.setBuddy(self.address_edit)
        language_label = QLabel(self.tr("&Language of the e-mail"), self)
        language_label.setBuddy(self.language_combo)
        form = QFormLayout()
        form.addRow(address_label, self.address_edit)
        form.addRow(language_label, self.language_combo)

        sender = settings.sender_address
        if settings.sender_name.strip():
            sender = f"{settings.sender_name.strip()} <{sender}>"
        self.from_label = QLabel(
            self.tr("From {sender}, through {server}").format(
                sender=sender, server=f"{settings.host}:{settings.port}"
            ),
            self,
        )
        self.from_label.setWordWrap(True)
        self.subject_label = QLabel(self)
        self.subject_label.setObjectName("emailSubject")
        self.subject_label.setWordWrap(True)
        self.preview = QTextBrowser(self)
        self.preview.setObjectName("emailPreview")
        self.preview.setAccessibleName(self.tr("The e-mail the customer will receive"))
        self.preview.setOpenLinks(False)
        self.preview.setMinimumHeight(240)
        self.masked_label = QLabel(
            self.tr(
                "The code and the PIN are hidden here, as in the card pane; the customer "
                "receives them in full."
            ),
            self,
        )
        self.masked_label.setWordWrap(True)
        self.masked_label.setVisible(self._masked != content)
        self.attachment_label = QLabel(
            self.tr("Attached: the card's PDF (it shows the code too).")
            if pdf_available
            else self.tr("No PDF is attached: the e-mail carries the code and the PIN."),
            self,
        )
        self.attachment_label.setWordWrap(True)
        self.error_label = QLabel(self)
        self.error_label.setObjectName("emailError")
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet(f"color: {ERROR_COLOR};")
        self.error_label.hide()

        buttons = QDialogButtonBox(self)
        self.send_button = buttons.addButton(
            self.tr("&Send"), QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.send_button.setDefault(True)
        buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self._on_send)
        buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.from_label)
        layout.addWidget(self.subject_label)
        layout.addWidget(self.preview, 1)
        layout.addWidget(self.masked_label)
        layout.addWidget(self.attachment_label)
        layout.addWidget(self.error_label)
        layout.addWidget(buttons)
        self._render()
        self.address_edit.setFocus(Qt.FocusReason.OtherFocusReason)

    def language(self) -> str:
        return str(self.language_combo.currentData() or "fr")

    def _render(self) -> None:
        language = self.language()
        self.subject_label.setText(self.tr("Subject: %s") % subject_for(self._content, language))
        self.preview.setHtml(
            html_body(
                self._masked,
                language,
                sender_name=self._settings.sender_name.strip(),
                pdf_attached=self._pdf,
            )
        )

    def _hide_error(self) -> None:
        self.error_label.hide()

    def _on_send(self) -> None:
        try:
            address = validate_address(self.address_edit.text())
        except InvalidAddress as exc:
            self.error_label.setText(describe_error(exc))
            self.error_label.show()
            self.address_edit.setFocus(Qt.FocusReason.OtherFocusReason)
            return
        self.send_requested.emit(address, self.language())
        self.accept()


class DeliveryController(QObject):
    """E-mail and print for the card on display in ``pane`` (see the module docstring)."""

    message = Signal(str)
    failed = Signal(str)
    status_shown = Signal(int, object)
    print_finished = Signal(bool, str)

    def __init__(
        self,
        session: Any,
        pane: CardPane,
        ops: AsyncOps,
        window: QWidget,
        *,
        settings_store: SmtpSettingsStore | None = None,
    ) -> None:
        super().__init__(window)
        self._session = session
        self._pane = pane
        self._ops = ops
        self._window = window
        self.delivery = CardDelivery.for_session(session, settings_store)
        self._statuses: dict[int, DeliveryStatus] = {}
        self._dialogs: list[QDialog] = []
        self._audits = 0
        pane.card_shown.connect(self.refresh_status)
        pane.email_requested.connect(self.open_email_dialog)
        pane.print_requested.connect(self.open_print_dialog)
        pane.delivery_retry_requested.connect(self.retry)

    # ------------------------------------------------------------------ helpers

    def _current(self) -> tuple[PullRecord, CardRecord] | None:
        pull, card = self._pane.pull, self._pane.card
        if pull is None or card is None or not card.code.strip():
            return None
        return pull, card

    def _keep(self, dialog: QDialog) -> None:
        self._dialogs.append(dialog)
        dialog.finished.connect(lambda _result: self._forget(dialog))

    def _forget(self, dialog: QDialog) -> None:
        if dialog in self._dialogs:
            self._dialogs.remove(dialog)
            if isValid(dialog):
                dialog.deleteLater()

    def _fail(self, text: str) -> None:
        self.failed.emit(text)

    # ------------------------------------------------------------------ status

    def refresh_status(self) -> None:
        """Read the shown card's delivery status back from the audit log."""
        current = self._current()
        if current is None:
            return
        pull, _card = current
        if self._ops.busy(f"deliver:{pull.id}"):
            return
        self._pane.set_delivery_status(_tr("E-mail: looking up…"))
        self._ops.run(
            f"delivery-status:{pull.id}",
            lambda: self.delivery.status(pull.id),
            on_success=lambda status: self._show_status(pull.id, status),
            on_error=lambda exc: log.warning("delivery status of pull %s: %s", pull.id, exc),
        )

    def _show_status(self, pull_id: int, status: DeliveryStatus) -> None:
        self._statuses[pull_id] = status
        pull = self._pane.pull
        if pull is None or pull.id != pull_id or self._pane.card is None:
            return
        if self._ops.busy(f"deliver:{pull_id}"):
            return
        text, severity, retry = status_text(status)
        self._pane.set_delivery_status(text, severity=severity, retry=retry)
        self.status_shown.emit(pull_id, status)

    # ------------------------------------------------------------------ e-mail

    def open_email_dialog(self) -> EmailCardDialog | None:
        """Ask for the address and show what will be sent; Send starts the delivery."""
        current = self._current()
        if current is None:
            return None
        pull, card = current
        try:
            settings = self.delivery.settings()
        except ConfigurationError as exc:
            self._fail(str(exc))
            return None
        if settings is None or settings.problem() is not None:
            text = not_set_up()
            self._pane.set_delivery_status(text, severity="error")
            self._fail(text)
            return None
        status = self._statuses.get(pull.id)
        address = status.to if status is not None and status.to else _address_in(pull.reference)
        dialog = EmailCardDialog(
            self.delivery.content(pull, card),
            settings,
            address=address,
            code_shown=self._pane.code_revealed,
            pin_shown=self._pane.pin_revealed,
            pdf_available=bool(card.pdf_url or card.pdf_path),
            language=(status.language if status and status.language else window_language()),
            parent=self._window,
        )
        pull_id = pull.id
        dialog.send_requested.connect(lambda to, language: self.send(pull_id, to, language))
        self._keep(dialog)
        dialog.open()
        return dialog

    def retry(self) -> asyncio.Task[Any] | None:
        """Send the shown card again to the address its last, failed attempt went to."""
        current = self._current()
        if current is None:
            return None
        pull, _card = current
        status = self._statuses.get(pull.id)
        if status is None or status.state != "failed" or not status.to:
            return None
        return self.send(pull.id, status.to, status.language or window_language())

    def send(self, pull_id: int, address: str, language: str) -> asyncio.Task[Any] | None:
        key = f"deliver:{pull_id}"
        if self._ops.busy(key):
            self.message.emit(_tr("This card is being e-mailed already."))
            return None
        pull = self._pane.pull
        if pull is not None and pull.id == pull_id:
            self._pane.set_delivery_status(
                _tr("Sending the card to {address}…").format(address=address)
            )

        async def work() -> DeliveryStatus:
            password = await self._password()
            return await self.delivery.send(pull_id, address, password=password, language=language)

        return self._ops.run(
            key,
            work,
            on_success=lambda status: self._sent(pull_id, status),
            on_error=lambda exc: self._send_failed(pull_id, exc),
        )

    async def _password(self) -> str | None:
        settings = self.delivery.settings()
        if settings is None or not settings.username:
            return None
        kept = session_smtp_passwords.get(self.delivery.profile)
        if kept:
            return kept
        return await keyring_call(self.delivery.load_password, KEYRING_TIMEOUT)

    def _sent(self, pull_id: int, status: DeliveryStatus) -> None:
        self._show_status(pull_id, status)
        if status.state == "sent":
            self.message.emit(_tr("The card was e-mailed to {address}.").format(address=status.to))
        else:
            self._fail(describe_error(status.error) if status.error else status.message)

    def _send_failed(self, pull_id: int, exc: BaseException) -> None:
        if not isinstance(
            exc, DeliveryError | KeyringUnavailable | ConfigurationError | StoreError
        ):
            log.error("e-mailing the card of pull %s failed unexpectedly", pull_id, exc_info=exc)
        text = describe_error(exc)
        pull = self._pane.pull
        if pull is not None and pull.id == pull_id:
            self._pane.set_delivery_status(text, severity="error")
        self._fail(text)

    # ------------------------------------------------------------------ printing

    def open_print_dialog(self) -> QDialog | None:
        """Qt's print dialog for the shown card; printing starts when it is accepted."""
        from PySide6.QtPrintSupport import QPrinter

        current = self._current()
        if current is None:
            return None
        pull, card = current

        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        printer.setDocName(self.tr("Gift card {request_id}").format(request_id=pull.request_id))
        return self._choose_printer(
            printer, lambda: self._print(pull, card, printer), self._print_cancelled
        )

    def _choose_printer(self, printer: QPrinter, accepted: Any, rejected: Any) -> QDialog:
        """Show the print dialog without a nested event loop (tests replace this)."""
        from PySide6.QtPrintSupport import QPrintDialog

        dialog = QPrintDialog(printer, self._window)
        dialog.setObjectName("printDialog")
        dialog.setWindowTitle(self.tr("Print the card"))
        dialog.accepted.connect(accepted)
        dialog.rejected.connect(rejected)
        self._keep(dialog)
        # QPrintDialog.open() in PySide6 asks for a receiver and a slot; the base class's
        # open() is the plain one: window-modal, no nested event loop (unlike exec()).
        QDialog.open(dialog)
        return dialog

    def _print_cancelled(self) -> None:
        text = self.tr("Printing cancelled: nothing was printed.")
        self.message.emit(text)
        self.print_finished.emit(False, text)

    def _print(self, pull: PullRecord, card: CardRecord, printer: QPrinter) -> None:
        from walleo_desktop.ui.card_print import PrintError

        async def pdf_path() -> Path | None:
            shown = self._pane.card
            loaded = self._pane.pdf.pdf_path
            if shown is not None and shown.card_id == card.card_id and loaded is not None:
                return loaded
            try:
                return Path(await self._session.cards.pdf(card))
            except (WalleoError, OSError) as exc:
                log.info("card %s printed without its PDF: %s", card.card_id, exc)
                return None

        self.message.emit(self.tr("Preparing the card for the printer…"))
        self._ops.run(
            f"print:{pull.id}",
            pdf_path,
            on_success=lambda path: self._paint(pull, card, printer, path),
            on_error=lambda exc: self._print_failed(pull, card, printer, PrintError(str(exc))),
        )

    def _paint(
        self, pull: PullRecord, card: CardRecord, printer: QPrinter, path: Path | None
    ) -> None:
        from walleo_desktop.ui.card_print import (
            PdfUnreadable,
            PrintError,
            print_card_page,
            print_pdf,
        )

        source = "pdf" if path is not None else "page"
        try:
            try:
                if path is None:
                    raise PdfUnreadable("no PDF")
                pages = print_pdf(printer, path)
            except PdfUnreadable:
                source = "page"
                pages = print_card_page(printer, self.delivery.content(pull, card))
        except PrintError as exc:
            self._print_failed(pull, card, printer, exc, source=source)
            return
        self._audit_print(pull, card, printer, outcome="printed", pages=pages, source=source)
        text = self.tr("The card was sent to the printer (%n page(s)).", "", pages)
        self.message.emit(text)
        self.print_finished.emit(True, text)

    def _print_failed(
        self,
        pull: PullRecord,
        card: CardRecord,
        printer: QPrinter,
        exc: PrintError,
        *,
        source: str = "",
    ) -> None:
        self._audit_print(
            pull, card, printer, outcome="failed", pages=0, source=source, reason=str(exc)
        )
        text = self.tr("The card was not printed: {reason}").format(reason=exc)
        self._fail(text)
        self.print_finished.emit(False, text)

    def _audit_print(
        self,
        pull: PullRecord,
        card: CardRecord,
        printer: QPrinter,
        *,
        outcome: str,
        pages: int,
        source: str,
        reason: str = "",
    ) -> None:
        from PySide6.QtPrintSupport import QPrinter

        to_file = printer.outputFormat() == QPrinter.OutputFormat.PdfFormat
        detail = {
            "card_id": card.card_id,
            "agent": self.delivery.agent,
            "outcome": outcome,
            "pages": pages,
            "source": source,  # the card's own PDF, or the page drawn here
            "printer": "PDF file" if to_file else printer.printerName(),
            "reason": reason,
        }
        self._audits += 1
        self._ops.run(
            f"audit-print:{self._audits}",
            lambda: self._session.store.add_event(pull.id, PRINT_EVENT, detail),
        )
