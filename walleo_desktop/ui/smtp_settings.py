"""Settings → E-mail: the team's SMTP server for e-mailing cards, per connection profile.

Host, port, security, sender, user name and the CA file to trust go to ``smtp.json`` (the
engine's ``SmtpSettingsStore``); the password goes to the OS keyring only (entry
``smtp:<profile>``), each keyring call on a daemon thread abandoned after ``KEYRING_TIMEOUT``.
Without a keyring the password is kept in ``session_smtp_passwords`` (memory, this run only)
and the panel says so. "Send a test e-mail" sends through what is typed, saved or not.

Signals:
    loaded(str profile): the panel shows that profile's settings (and its stored password).
    saved(str profile): a save finished.
    failed(str message): a save failed; the sentence shown.
    test_finished(bool ok, str message): a test e-mail was sent, or could not be.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid

from walleo_desktop.api.errors import ConfigurationError
from walleo_desktop.engine.delivery import (
    DEFAULT_PORTS,
    DeliveryError,
    InvalidAddress,
    SmtpSecurity,
    SmtpSettings,
    SmtpSettingsStore,
    is_local_host,
    send_test_email,
    valid_host,
    validate_address,
)
from walleo_desktop.engine.profiles import KeyringUnavailable, keyring_available
from walleo_desktop.ui.async_ops import BackgroundTasks, keyring_call
from walleo_desktop.ui.delivery import (
    KEYRING_TIMEOUT,
    describe_error,
    session_smtp_passwords,
    window_language,
)
from walleo_desktop.ui.feedback import ERROR_COLOR, hide_error, show_error, show_outcome

__all__ = ["SmtpSettingsPanel"]

log = logging.getLogger("walleo.ui.smtp_settings")

T = TypeVar("T")


class SmtpSettingsPanel(QWidget):
    """The E-mail tab of the settings dialog (see the module docstring)."""

    loaded = Signal(str)
    saved = Signal(str)
    failed = Signal(str)
    test_finished = Signal(bool, str)

    def __init__(self, store: SmtpSettingsStore, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("smtpSettings")
        self._store = store
        self._profile: str | None = None
        self._generation = 0
        self._tasks = BackgroundTasks(self, "e-mail settings task")
        self._busy = False
        self._testing = False
        self._keyring_ok: bool | None = None
        self._password_dirty = False

        self.intro_label = QLabel(
            self.tr(
                "The team's SMTP server, used to e-mail cards to customers. These settings "
                "belong to the profile selected on the left."
            ),
            self,
        )
        self.intro_label.setWordWrap(True)
        self.profile_label = QLabel(self)
        self.profile_label.setObjectName("smtpProfile")
        self.profile_label.setWordWrap(True)

        self.host_edit = QLineEdit(self)
        self.host_edit.setPlaceholderText(self.tr("smtp.example.com"))
        self.port_spin = QSpinBox(self)
        self.port_spin.setRange(1, 65535)
        self.port_spin.setValue(DEFAULT_PORTS[SmtpSecurity.STARTTLS])
        self.security_combo = QComboBox(self)
        self.security_combo.addItem(self.tr("STARTTLS (recommended)"), SmtpSecurity.STARTTLS.value)
        self.security_combo.addItem(self.tr("TLS from the start (SMTPS)"), SmtpSecurity.TLS.value)
        self.security_combo.addItem(
            self.tr("None (a server on this computer only)"), SmtpSecurity.NONE.value
        )
        self._security = SmtpSecurity.STARTTLS
        self.security_combo.currentIndexChanged.connect(self._on_security_changed)
        self.sender_address_edit = QLineEdit(self)
        self.sender_address_edit.setPlaceholderText(self.tr("cards@your-company.example"))
        self.sender_name_edit = QLineEdit(self)
        self.sender_name_edit.setPlaceholderText(self.tr("Your company's name"))
        self.username_edit = QLineEdit(self)
        self.username_edit.setPlaceholderText(self.tr("Empty when the server needs none"))
        self.password_edit = QLineEdit(self)
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.password_edit.setInputMethodHints(
            Qt.InputMethodHint.ImhHiddenText
            | Qt.InputMethodHint.ImhNoPredictiveText
            | Qt.InputMethodHint.ImhSensitiveData
        )
        self.password_edit.textEdited.connect(self._on_password_edited)
        self.show_password_button = QToolButton(self)
        self.show_password_button.setText(self.tr("Show"))
        self.show_password_button.setCheckable(True)
        self.show_password_button.setAccessibleName(self.tr("Show the SMTP password"))
        self.show_password_button.toggled.connect(self._on_show_password)
        password_row = self._field_with_button(self.password_edit, self.show_password_button)
        self.ca_file_edit = QLineEdit(self)
        self.ca_file_edit.setPlaceholderText(self.tr("Only for a company's own certificates"))
        self.ca_file_edit.setToolTip(
            self.tr(
                "A PEM file of certificate authorities to trust besides the system's. The "
                "server's certificate is always checked."
            )
        )
        self.browse_button = QPushButton(self.tr("Browse…"), self)
        self.browse_button.clicked.connect(self._on_browse_clicked)
        ca_row = self._field_with_button(self.ca_file_edit, self.browse_button)
        self.test_address_edit = QLineEdit(self)
        self.test_address_edit.setPlaceholderText(self.tr("The sender's address"))

        form = QFormLayout()
        rows: list[tuple[str, QWidget, QWidget]] = [
            (self.tr("SMTP &server"), self.host_edit, self.host_edit),
            (self.tr("P&ort"), self.port_spin, self.port_spin),
            (self.tr("Securit&y"), self.security_combo, self.security_combo),
            (self.tr("Sender's a&ddress"), self.sender_address_edit, self.sender_address_edit),
            (self.tr("Sender's &name"), self.sender_name_edit, self.sender_name_edit),
            (self.tr("&User name"), self.username_edit, self.username_edit),
            (self.tr("Pass&word"), password_row, self.password_edit),
            (self.tr("Trust this C&A file"), ca_row, self.ca_file_edit),
            (self.tr("Send the test &to"), self.test_address_edit, self.test_address_edit),
        ]
        for text, field, buddy in rows:
            label = QLabel(text, self)
            label.setBuddy(buddy)
            form.addRow(label, field)
        self._fields: list[QWidget] = [
            self.host_edit,
            self.port_spin,
            self.security_combo,
            self.sender_address_edit,
            self.sender_name_edit,
            self.username_edit,
            self.password_edit,
            self.show_password_button,
            self.ca_file_edit,
            self.browse_button,
            self.test_address_edit,
        ]

        self.keyring_label = QLabel(
            self.tr("The password is kept in the system keyring, never in a file."), self
        )
        self.keyring_label.setObjectName("smtpKeyringNotice")
        self.keyring_label.setWordWrap(True)
        self.error_label = QLabel(self)
        self.error_label.setObjectName("smtpError")
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet(f"color: {ERROR_COLOR};")
        self.error_label.hide()
        self.status_label = QLabel(self)
        self.status_label.setObjectName("smtpStatus")
        self.status_label.setWordWrap(True)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.test_button = QPushButton(self.tr("Send a test e-&mail"), self)
        self.test_button.clicked.connect(self._on_test_clicked)
        self.save_button = QPushButton(self.tr("Sa&ve e-mail settings"), self)
        self.save_button.clicked.connect(self._on_save_clicked)
        buttons = QHBoxLayout()
        buttons.addWidget(self.test_button)
        buttons.addStretch(1)
        buttons.addWidget(self.save_button)

        layout = QVBoxLayout(self)
        layout.addWidget(self.intro_label)
        layout.addWidget(self.profile_label)
        layout.addLayout(form)
        layout.addWidget(self.keyring_label)
        layout.addWidget(self.error_label)
        layout.addWidget(self.status_label)
        layout.addStretch(1)
        layout.addLayout(buttons)

        self.set_profile(None)
        self._spawn(self._check_keyring())

    # ------------------------------------------------------------------ API

    @property
    def profile(self) -> str | None:
        return self._profile

    @property
    def busy(self) -> bool:
        return self._busy or self._testing

    def set_profile(self, profile: str | None, label: str | None = None) -> None:
        """Show the settings of ``profile`` (None: a profile not saved yet)."""
        self._generation += 1
        self._profile = profile
        self._hide_error()
        self.status_label.clear()
        self._password_dirty = False
        self.show_password_button.setChecked(False)
        for edit in (
            self.host_edit,
            self.sender_address_edit,
            self.sender_name_edit,
            self.username_edit,
            self.password_edit,
            self.ca_file_edit,
            self.test_address_edit,
        ):
            edit.clear()
        settings: SmtpSettings | None = None
        if profile is None:
            self.profile_label.setText(
                self.tr("Save the profile first; then set up its e-mail here.")
            )
        else:
            self.profile_label.setText(self.tr("Profile: %s") % (label or profile))
            try:
                settings = self._store.get(profile)
            except ConfigurationError as exc:
                self._show_error(str(exc))
        self._fill(settings)
        self._update_enabled()
        if profile is not None and settings is not None and settings.username:
            self._spawn(self._load_password(profile, self._generation))

    def _fill(self, settings: SmtpSettings | None) -> None:
        security = settings.security if settings is not None else SmtpSecurity.STARTTLS
        self._security = security
        self.security_combo.blockSignals(True)
        self.security_combo.setCurrentIndex(self.security_combo.findData(security.value))
        self.security_combo.blockSignals(False)
        self.port_spin.setValue(settings.port if settings is not None else DEFAULT_PORTS[security])
        if settings is not None:
            self.host_edit.setText(settings.host)
            self.sender_address_edit.setText(settings.sender_address)
            self.sender_name_edit.setText(settings.sender_name)
            self.username_edit.setText(settings.username)
            self.ca_file_edit.setText(settings.ca_file)

    def _update_enabled(self) -> None:
        editable = self._profile is not None and not self._busy
        for widget in self._fields:
            widget.setEnabled(editable)
        self.save_button.setEnabled(editable)
        self.test_button.setEnabled(editable and not self._testing)

    # ------------------------------------------------------------------ form

    def _on_security_changed(self, _index: int) -> None:
        security = SmtpSecurity(str(self.security_combo.currentData()))
        if self.port_spin.value() == DEFAULT_PORTS[self._security]:
            self.port_spin.setValue(DEFAULT_PORTS[security])  # the usual port goes along
        self._security = security

    def _on_password_edited(self, _text: str) -> None:
        self._password_dirty = True

    def _on_show_password(self, shown: bool) -> None:
        self.password_edit.setEchoMode(
            QLineEdit.EchoMode.Normal if shown else QLineEdit.EchoMode.Password
        )
        self.show_password_button.setText(self.tr("Hide") if shown else self.tr("Show"))

    def _on_browse_clicked(self) -> None:
        self._choose_ca_file(self.ca_file_edit.setText)

    def _choose_ca_file(self, accept: Callable[[str], None]) -> None:
        """Ask for the CA file without a nested event loop (tests replace this)."""
        dialog = QFileDialog(self, self.tr("Certificate authorities to trust"))
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.setNameFilters(
            [self.tr("Certificates (*.pem *.crt *.cer)"), self.tr("All files (*)")]
        )
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.fileSelected.connect(accept)
        dialog.open()

    def _show_error(self, text: str, widget: QWidget | None = None) -> None:
        show_error(self.error_label, text, widget)

    def _hide_error(self) -> None:
        hide_error(self.error_label)

    def _show_status(self, ok: bool | None, text: str) -> None:
        show_outcome(self.status_label, ok, text)

    def read_form(self) -> tuple[SmtpSettings | None, str | None, QWidget | None]:
        """The settings typed in, or what is wrong with them and where."""
        host = self.host_edit.text().strip()
        if not host:
            return (
                None,
                self.tr("Enter the SMTP server's host name, for example smtp.example.com."),
                self.host_edit,
            )
        if not valid_host(host):
            return (
                None,
                self.tr("Write the host name alone, without smtp:// or a port."),
                self.host_edit,
            )
        security = SmtpSecurity(str(self.security_combo.currentData()))
        if security is SmtpSecurity.NONE and not is_local_host(host):
            return (
                None,
                self.tr(
                    "Without encryption only a server on this computer is allowed: choose "
                    "STARTTLS or TLS."
                ),
                self.security_combo,
            )
        sender = self.sender_address_edit.text().strip()
        try:
            validate_address(sender)
        except InvalidAddress:
            return (
                None,
                self.tr("Enter the sender's address, a valid e-mail address."),
                self.sender_address_edit,
            )
        settings = SmtpSettings(
            host=host,
            port=self.port_spin.value(),
            security=security,
            sender_address=sender,
            sender_name=" ".join(self.sender_name_edit.text().split()),
            username=self.username_edit.text().strip(),
            ca_file=self.ca_file_edit.text().strip(),
        )
        if settings.ca_file and settings.problem() is not None:
            return (
                None,
                self.tr("The CA file does not exist: %s") % settings.ca_file,
                self.ca_file_edit,
            )
        problem = settings.problem()
        if problem is not None:  # the engine's last word (English), should the above miss one
            return None, problem, None
        return settings, None, None

    def _field_with_button(self, field: QWidget, button: QWidget) -> QWidget:
        """One form row: ``field`` taking the width, ``button`` beside it."""
        row = QWidget(self)
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(field, 1)
        layout.addWidget(button)
        return row

    # ------------------------------------------------------------------ tasks

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any] | None:
        return self._tasks.spawn(coro)

    async def _keyring_call(self, fn: Callable[[], T]) -> T:
        return await keyring_call(fn, KEYRING_TIMEOUT)

    def _set_keyring_unavailable(self, reason: str = "") -> None:
        if reason:
            log.warning("keyring unavailable for the SMTP password: %s", reason)
        self._keyring_ok = False
        if isValid(self):
            self.keyring_label.setText(
                self.tr(
                    "No system keyring is available: the SMTP password will be kept for this "
                    "session only."
                )
            )

    async def _check_keyring(self) -> None:
        try:
            ok = await self._keyring_call(keyring_available)
        except KeyringUnavailable as exc:
            self._set_keyring_unavailable(str(exc))
            return
        if self._keyring_ok is None:
            self._keyring_ok = ok
        if not ok:
            self._set_keyring_unavailable("no usable backend")

    async def _load_password(self, profile: str, generation: int) -> None:
        password = session_smtp_passwords.get(profile)
        if password is None and self._keyring_ok is not False:
            try:
                password = await self._keyring_call(lambda: self._store.load_password(profile))
            except KeyringUnavailable as exc:
                self._set_keyring_unavailable(str(exc))
        if generation != self._generation or not isValid(self):
            return
        if password and not self._password_dirty:
            self.password_edit.setText(password)
        self.loaded.emit(profile)

    # ------------------------------------------------------------------ save

    def _on_save_clicked(self) -> None:
        if self._busy or self._profile is None:
            return
        self._hide_error()
        settings, error, widget = self.read_form()
        if settings is None:
            self._show_error(error or "", widget)
            return
        password = self.password_edit.text() if self._password_dirty else None
        self._busy = True
        self._update_enabled()
        if self._spawn(self._save(self._profile, settings, password, self._generation)) is None:
            self._busy = False
            self._update_enabled()

    async def _store_password(self, profile: str, password: str) -> bool:
        """Keyring first; memory for this session if there is none. True: in the keyring."""
        if self._keyring_ok is not False:
            try:
                await self._keyring_call(lambda: self._store.save_password(profile, password))
            except KeyringUnavailable as exc:
                self._keep_in_memory(profile, password)
                self._set_keyring_unavailable(str(exc))
                return False
            session_smtp_passwords.discard(profile)
            return True
        self._keep_in_memory(profile, password)
        return False

    @staticmethod
    def _keep_in_memory(profile: str, password: str) -> None:
        if password:
            session_smtp_passwords.set(profile, password)
        else:
            session_smtp_passwords.discard(profile)

    async def _save(
        self, profile: str, settings: SmtpSettings, password: str | None, generation: int
    ) -> None:
        in_keyring: bool | None = None
        try:
            self._store.save(profile, settings)  # never the password: that goes to the keyring
            if password is not None:
                in_keyring = await self._store_password(profile, password)
        except (ConfigurationError, OSError) as exc:
            log.warning("saving the e-mail settings of %r failed: %s", profile, exc)
            message = self.tr("The e-mail settings could not be saved: %s") % exc
            if isValid(self):
                self._show_error(message)
            self.failed.emit(message)
            return
        finally:
            self._busy = False
            if isValid(self):
                self._update_enabled()
        if not isValid(self):
            return
        self.saved.emit(profile)
        if generation != self._generation:  # another profile is shown by now
            return
        self._password_dirty = False
        if in_keyring is None or not password:
            self._show_status(None, self.tr("E-mail settings saved."))
        elif in_keyring:
            self._show_status(
                None, self.tr("E-mail settings saved. The password is in the system keyring.")
            )
        else:
            self._show_status(
                None,
                self.tr("E-mail settings saved. The password is kept for this session only."),
            )

    # ------------------------------------------------------------------ profile changes

    async def forget_profile(self, profile: str) -> None:
        """A profile was deleted: its e-mail settings and password go too."""
        session_smtp_passwords.discard(profile)
        try:
            await self._keyring_call(lambda: self._store.delete(profile))
        except (KeyringUnavailable, ConfigurationError, OSError) as exc:
            log.warning("the e-mail settings of deleted profile %r may remain: %s", profile, exc)

    async def rename_profile(self, old: str, new: str) -> None:
        """A profile was renamed: its e-mail settings and password follow it."""
        session_smtp_passwords.rename(old, new)
        try:
            await self._keyring_call(lambda: self._store.rename(old, new))
        except (KeyringUnavailable, ConfigurationError, OSError) as exc:
            log.warning("the e-mail settings of %r did not follow its new name: %s", old, exc)

    # ------------------------------------------------------------------ test e-mail

    def _on_test_clicked(self) -> None:
        if self._testing or self._profile is None:
            return
        self._hide_error()
        settings, error, widget = self.read_form()
        if settings is None:
            self._show_error(error or "", widget)
            return
        to = self.test_address_edit.text().strip() or settings.sender_address
        try:
            to = validate_address(to)
        except InvalidAddress as exc:
            self._show_error(describe_error(exc), self.test_address_edit)
            return
        password = self.password_edit.text() or None
        self._testing = True
        self._update_enabled()
        self._show_status(None, self.tr("Sending a test e-mail to %s…") % to)
        if self._spawn(self._test(settings, password, to, self._generation)) is None:
            self._testing = False
            self._update_enabled()

    async def _test(
        self, settings: SmtpSettings, password: str | None, to: str, generation: int
    ) -> None:
        try:
            await send_test_email(settings, password, to, language=window_language())
            ok, text = True, self.tr("Test e-mail sent to %s: check that it arrived.") % to
        except DeliveryError as exc:
            ok, text = False, describe_error(exc)
        except Exception:
            log.exception("the test e-mail failed unexpectedly")
            ok, text = False, self.tr("The test e-mail failed unexpectedly (see the log).")
        finally:
            self._testing = False
            if isValid(self):
                self._update_enabled()
        if not isValid(self):
            return
        if generation == self._generation:
            self._show_status(ok, text)
        self.test_finished.emit(ok, text)
