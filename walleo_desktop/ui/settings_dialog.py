"""Settings: connection profiles, their credentials, and a connection test.

Names, URLs and currencies go to ``profiles.json`` (``engine.profiles.Profiles``); the three
credentials go to the OS keyring only, never to a file or QSettings. Keyring calls can block
for ever (a locked Secret Service waiting for an unlock prompt), so each one runs on a daemon
thread and is abandoned after ``KEYRING_TIMEOUT`` seconds. Without a usable keyring the dialog
says so and keeps the credentials in ``session_credentials`` (memory, this run only), which the
main window reads before giving up on a profile.

No "remember unencrypted" option is offered: see the module ``SessionCredentials`` docstring.

Signals:
    profiles_changed(): a profile was saved, deleted or made active.
    saved(str name): a save finished.
    failed(str message): a save or delete failed; the sentence shown.
    credentials_loaded(str name): the editor got the stored credentials of ``name``.
    test_finished(bool ok, str message): a connection test finished.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from PySide6.QtCore import QRegularExpression, Qt, Signal
from PySide6.QtGui import QFont, QRegularExpressionValidator
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QStackedWidget,
    QTabBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from walleo_desktop.api.errors import ConfigurationError
from walleo_desktop.engine import connection_test
from walleo_desktop.engine.connection_test import DEFAULT_BASE_URL, Credentials, base_url_problem
from walleo_desktop.engine.delivery import SmtpSettingsStore
from walleo_desktop.engine.profiles import KeyringUnavailable, Profile, Profiles, keyring_available
from walleo_desktop.ui.async_ops import BackgroundTasks, keyring_call
from walleo_desktop.ui.clipboard import CLEAR_AFTER_RANGE, save_clear_after, saved_clear_after
from walleo_desktop.ui.feedback import ERROR_COLOR, hide_error, show_error, show_outcome
from walleo_desktop.ui.session_credentials import SessionCredentials, session_credentials
from walleo_desktop.ui.smtp_settings import SmtpSettingsPanel

__all__ = ["KEYRING_TIMEOUT", "SessionCredentials", "SettingsDialog", "session_credentials"]

log = logging.getLogger("walleo.ui.settings")

KEYRING_TIMEOUT = 5.0  # seconds
_DEMO_ROLE = Qt.ItemDataRole.UserRole + 1
_NAME_ROLE = Qt.ItemDataRole.UserRole

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class _Form:
    name: str
    base_url: str
    currency: str
    credentials: Credentials | None


class SettingsDialog(QDialog):
    """Profiles on the left (plus the built-in demo), the selected one's editor on the right."""

    profiles_changed = Signal()
    saved = Signal(str)
    failed = Signal(str)
    credentials_loaded = Signal(str)
    test_finished = Signal(bool, str)

    def __init__(self, profiles: Profiles, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Settings — Connection profiles"))
        self.setMinimumSize(780, 480)
        self._profiles = profiles
        self._tasks = BackgroundTasks(self, "settings task")
        self._test_task: asyncio.Task[Any] | None = None
        self._current: str | None = None  # saved profile in the editor; None: new or demo
        self._demo = False
        self._busy = False
        self._generation = 0  # bumps when the editor shows something else
        self._keyring_ok: bool | None = None  # None: not known yet
        self._active: str | None = None  # as last read from the profiles file

        # -- left: the list
        self.profile_list = QListWidget(self)
        self.profile_list.setAccessibleName(self.tr("Profiles"))
        self.profile_list.setMinimumWidth(220)
        self.profile_list.currentItemChanged.connect(self._on_current_changed)
        self.add_button = QPushButton(self.tr("Add"), self)
        self.add_button.clicked.connect(self.start_new_profile)
        self.delete_button = QPushButton(self.tr("Delete"), self)
        self.delete_button.clicked.connect(self._on_delete_clicked)
        left_buttons = QHBoxLayout()
        left_buttons.addWidget(self.add_button)
        left_buttons.addWidget(self.delete_button)
        left = QVBoxLayout()
        left.addWidget(QLabel(self.tr("Profiles"), self))
        left.addWidget(self.profile_list, 1)
        left.addLayout(left_buttons)

        # -- right: the editor
        self.demo_label = QLabel(
            self.tr(
                "The demo talks to a Walleo simulator built into the app: no real card is "
                "issued and no credentials are needed. Its history is kept apart from real "
                "pulls."
            ),
            self,
        )
        self.demo_label.setWordWrap(True)
        self.name_edit = QLineEdit(self)
        self.name_edit.setMaxLength(60)
        self.base_url_edit = QLineEdit(self)
        self.base_url_edit.setPlaceholderText(DEFAULT_BASE_URL)
        self.currency_edit = QLineEdit(self)
        self.currency_edit.setMaxLength(3)
        self.currency_edit.setMaximumWidth(70)
        self.currency_edit.setValidator(
            QRegularExpressionValidator(QRegularExpression("[A-Za-z]{0,3}"), self.currency_edit)
        )
        self.currency_edit.textEdited.connect(self._on_currency_edited)
        self.identifier_edit = QLineEdit(self)
        self.identifier_edit.setPlaceholderText(self.tr("Given by Walleo (often a UUID)"))
        self.api_key_edit = QLineEdit(self)
        self.shared_key_edit = QLineEdit(self)
        self.shared_key_edit.setPlaceholderText(self.tr("Hexadecimal, given by Walleo"))
        secret_rows: list[QWidget] = []
        self.show_api_key_button = QToolButton(self)
        self.show_shared_key_button = QToolButton(self)
        for edit, button in (
            (self.api_key_edit, self.show_api_key_button),
            (self.shared_key_edit, self.show_shared_key_button),
        ):
            button.setAccessibleName(
                self.tr("Show the API key")
                if edit is self.api_key_edit
                else self.tr("Show the shared key")
            )
            edit.setEchoMode(QLineEdit.EchoMode.Password)
            edit.setInputMethodHints(
                Qt.InputMethodHint.ImhHiddenText
                | Qt.InputMethodHint.ImhNoPredictiveText
                | Qt.InputMethodHint.ImhSensitiveData
            )
            button.setText(self.tr("Show"))
            button.setCheckable(True)
            button.setToolTip(self.tr("Show or hide what is typed"))
            button.toggled.connect(lambda on, e=edit, b=button: self._on_show_secret(e, b, on))
            row = QWidget(self)
            row_layout = QHBoxLayout(row)
            row_layout.setContentsMargins(0, 0, 0, 0)
            row_layout.addWidget(edit, 1)
            row_layout.addWidget(button)
            secret_rows.append(row)

        self.form = QFormLayout()
        self.form.addRow(self.tr("Name"), self.name_edit)
        self.form.addRow(self.tr("Base URL"), self.base_url_edit)
        self.form.addRow(self.tr("Currency"), self.currency_edit)
        self.form.addRow(self.tr("Identifier"), self.identifier_edit)
        self.form.addRow(self.tr("API key"), secret_rows[0])
        self.form.addRow(self.tr("Shared key"), secret_rows[1])
        self._editor_widgets: list[QWidget] = [
            self.name_edit,
            self.base_url_edit,
            self.currency_edit,
            self.identifier_edit,
            self.api_key_edit,
            self.shared_key_edit,
            self.show_api_key_button,
            self.show_shared_key_button,
        ]

        self.keyring_label = QLabel(self)
        self.keyring_label.setObjectName("keyringNotice")
        self.keyring_label.setWordWrap(True)
        self.keyring_label.setText(
            self.tr("Credentials are kept in the system keyring, never in a file.")
        )
        self.error_label = QLabel(self)
        self.error_label.setObjectName("formError")
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet(f"color: {ERROR_COLOR};")
        self.error_label.hide()
        self.status_label = QLabel(self)
        self.status_label.setObjectName("formStatus")
        self.status_label.setWordWrap(True)
        self.test_result_label = QLabel(self)
        self.test_result_label.setObjectName("testResult")
        self.test_result_label.setWordWrap(True)
        self.test_result_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.test_result_label.hide()

        self.test_button = QPushButton(self.tr("Test connection"), self)
        self.test_button.clicked.connect(self._on_test_clicked)
        self.active_button = QPushButton(self.tr("Make active"), self)
        self.active_button.clicked.connect(self._on_make_active_clicked)
        self.save_button = QPushButton(self.tr("Save"), self)
        self.save_button.clicked.connect(self._on_save_clicked)
        self.save_button.setDefault(True)
        actions = QHBoxLayout()
        actions.addWidget(self.test_button)
        actions.addStretch(1)
        actions.addWidget(self.active_button)
        actions.addWidget(self.save_button)

        right = QVBoxLayout()
        right.addWidget(self.demo_label)
        right.addLayout(self.form)
        right.addWidget(self.keyring_label)
        right.addWidget(self.error_label)
        right.addWidget(self.test_result_label)
        right.addWidget(self.status_label)
        right.addStretch(1)
        right.addLayout(actions)

        # The selected profile's connection, and its e-mail (the SMTP server cards are sent
        # through: smtp_settings.py), in two tabs. A tab bar over a stacked widget rather than
        # a QTabWidget, which lays its pages out only once shown.
        connection_page = QWidget(self)
        connection_page.setLayout(right)
        self.smtp_panel = SmtpSettingsPanel(SmtpSettingsStore(profiles.config_dir), self)
        self.editor_pages = QStackedWidget(self)
        self.editor_pages.addWidget(connection_page)
        self.editor_pages.addWidget(self.smtp_panel)
        self.editor_tabs = QTabBar(self)
        self.editor_tabs.setObjectName("profileTabs")
        self.editor_tabs.setDocumentMode(True)
        self.editor_tabs.setExpanding(False)
        self.editor_tabs.addTab(self.tr("Connection"))
        self.editor_tabs.addTab(self.tr("E-mail"))
        self.editor_tabs.currentChanged.connect(self.editor_pages.setCurrentIndex)
        editor = QVBoxLayout()
        editor.setContentsMargins(0, 0, 0, 0)
        editor.addWidget(self.editor_tabs)
        editor.addWidget(self.editor_pages, 1)
        columns = QHBoxLayout()
        columns.addLayout(left, 2)
        columns.addLayout(editor, 5)
        # Not a profile setting: how long a copied code or PIN stays on the clipboard.
        self.clear_after_spin = QSpinBox(self)
        self.clear_after_spin.setObjectName("clipboardClearAfter")
        self.clear_after_spin.setRange(*CLEAR_AFTER_RANGE)
        self.clear_after_spin.setSuffix(self.tr(" s"))
        self.clear_after_spin.setValue(saved_clear_after())
        self.clear_after_spin.setAccessibleName(self.tr("Seconds before the clipboard is cleared"))
        self.clear_after_spin.valueChanged.connect(save_clear_after)
        clear_label = QLabel(self.tr("&Clear copied codes and PINs from the clipboard after"), self)
        clear_label.setBuddy(self.clear_after_spin)
        general = QHBoxLayout()
        general.addWidget(clear_label)
        general.addWidget(self.clear_after_spin)
        general.addStretch(1)
        close_box = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        close_box.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(columns, 1)
        layout.addLayout(general)
        layout.addWidget(close_box)

        # Lay the pages out now at the dialog's size: a page's own layout otherwise waits for
        # the first show, and until then its buttons are 0 px high (and cannot be clicked).
        layout.activate()
        for page in (connection_page, self.smtp_panel):
            page.setGeometry(self.editor_pages.rect())
            page.layout().setGeometry(page.rect())
        self._reload_list(select=self._safe_active())
        self._spawn(self._check_keyring())

    # ------------------------------------------------------------------ public helpers

    @property
    def busy(self) -> bool:
        """A save or delete is running."""
        return self._busy

    @property
    def keyring_usable(self) -> bool | None:
        return self._keyring_ok

    def select_profile(self, name: str | None) -> None:
        """Select a profile by name (None: the demo entry)."""
        for row in range(self.profile_list.count()):
            item = self.profile_list.item(row)
            if (name is None and item.data(_DEMO_ROLE)) or (
                name is not None and item.data(_NAME_ROLE) == name
            ):
                self.profile_list.setCurrentItem(item)
                return

    def start_new_profile(self) -> None:
        """Empty editor for a new profile."""
        self.profile_list.blockSignals(True)
        self.profile_list.setCurrentItem(None)
        self.profile_list.clearSelection()
        self.profile_list.blockSignals(False)
        self._show_editor(None, demo=False)
        self.name_edit.setFocus()

    # ------------------------------------------------------------------ list

    def _safe_active(self) -> str | None:
        try:
            return self._profiles.active
        except ConfigurationError as exc:
            self._show_error(str(exc))
            return None

    def _safe_list(self) -> list[Profile]:
        try:
            return self._profiles.list()
        except ConfigurationError as exc:
            self._show_error(str(exc))
            return []

    def _reload_list(self, select: str | None) -> None:
        active = self._active = self._safe_active()
        self.profile_list.blockSignals(True)
        self.profile_list.clear()
        demo = QListWidgetItem(self.tr("Demo (built-in simulator)"))
        demo.setData(_DEMO_ROLE, True)
        demo.setData(_NAME_ROLE, None)
        items = [demo]
        for profile in self._safe_list():
            item = QListWidgetItem(profile.name)
            item.setData(_DEMO_ROLE, False)
            item.setData(_NAME_ROLE, profile.name)
            items.append(item)
        for item in items:
            is_active = (item.data(_DEMO_ROLE) and active is None) or (
                active is not None and item.data(_NAME_ROLE) == active
            )
            if is_active:
                font = QFont(item.font())
                font.setBold(True)
                item.setFont(font)
                item.setText(self.tr("%s (active)") % item.text())
            self.profile_list.addItem(item)
        self.profile_list.blockSignals(False)
        target = next(
            (
                i
                for i in items
                if (select is None and i.data(_DEMO_ROLE))
                or (select is not None and i.data(_NAME_ROLE) == select)
            ),
            demo,
        )
        self.profile_list.setCurrentItem(target)
        if self.profile_list.currentItem() is target:
            # setCurrentItem does not signal when the item is already current.
            self._on_current_changed(target, None)

    def _on_current_changed(
        self, item: QListWidgetItem | None, _previous: QListWidgetItem | None
    ) -> None:
        if item is None:
            return
        if item.data(_DEMO_ROLE):
            self._show_editor(None, demo=True)
        else:
            self._show_editor(self._find(item.data(_NAME_ROLE)), demo=False)

    def _find(self, name: str) -> Profile | None:
        try:
            return self._profiles.get(name)
        except ConfigurationError:
            return None

    # ------------------------------------------------------------------ editor

    def _show_editor(self, profile: Profile | None, *, demo: bool) -> None:
        self._generation += 1
        self._demo = demo
        self._current = profile.name if profile is not None else None
        self._hide_error()
        self.status_label.clear()
        self.test_result_label.hide()
        self.test_result_label.clear()
        for button in (self.show_api_key_button, self.show_shared_key_button):
            button.setChecked(False)
        for edit in (self.identifier_edit, self.api_key_edit, self.shared_key_edit):
            edit.clear()
            edit.setPlaceholderText("")
        self.identifier_edit.setPlaceholderText(self.tr("Given by Walleo (often a UUID)"))
        self.shared_key_edit.setPlaceholderText(self.tr("Hexadecimal, given by Walleo"))
        self.demo_label.setVisible(demo)
        if demo:
            self.name_edit.setText(self.tr("Demo"))
            self.base_url_edit.clear()
            self.base_url_edit.setPlaceholderText(self.tr("built-in simulator"))
            self.currency_edit.setText("EUR")
        else:
            self.base_url_edit.setPlaceholderText(DEFAULT_BASE_URL)
            self.name_edit.setText(profile.name if profile else "")
            self.base_url_edit.setText(profile.base_url if profile else DEFAULT_BASE_URL)
            self.currency_edit.setText(profile.currency if profile else "EUR")
        self._update_enabled()
        # Demo mode sends e-mail too (the session's profile is then "demo").
        self.smtp_panel.set_profile(
            "demo" if demo else (profile.name if profile else None),
            self.tr("Demo") if demo else None,
        )
        if profile is not None:
            self._spawn(self._load_credentials(profile.name, self._generation))

    def _update_enabled(self) -> None:
        editable = not self._demo and not self._busy
        for widget in self._editor_widgets:
            widget.setEnabled(editable)
        self.save_button.setEnabled(editable)
        self.delete_button.setEnabled(
            not self._demo and self._current is not None and not self._busy
        )
        selected_active = (self._demo and self._active is None) or (
            self._current is not None and self._current == self._active
        )
        self.active_button.setEnabled(
            not self._busy and not selected_active and (self._demo or self._current is not None)
        )
        testing = self._test_task is not None and not self._test_task.done()
        self.test_button.setEnabled(not self._demo and not testing)
        self.add_button.setEnabled(not self._busy)
        self.profile_list.setEnabled(not self._busy)

    def _on_show_secret(self, edit: QLineEdit, button: QToolButton, shown: bool) -> None:
        edit.setEchoMode(QLineEdit.EchoMode.Normal if shown else QLineEdit.EchoMode.Password)
        button.setText(self.tr("Hide") if shown else self.tr("Show"))

    def _on_currency_edited(self, text: str) -> None:
        if text != text.upper():
            position = self.currency_edit.cursorPosition()
            self.currency_edit.setText(text.upper())
            self.currency_edit.setCursorPosition(position)

    def _show_error(self, text: str, widget: QWidget | None = None) -> None:
        show_error(self.error_label, text, widget)

    def _hide_error(self) -> None:
        hide_error(self.error_label)

    def _show_test_result(self, ok: bool | None, text: str) -> None:
        show_outcome(self.test_result_label, ok, text)
        self.test_result_label.show()

    # ------------------------------------------------------------------ validation

    def _credentials_from_fields(
        self, *, required: bool
    ) -> tuple[Credentials | None, str | None, QWidget | None]:
        identifier = self.identifier_edit.text().strip()
        api_key = self.api_key_edit.text().strip()
        shared_key = self.shared_key_edit.text().strip()
        if not (identifier or api_key or shared_key) and not required:
            return None, None, None
        for value, widget, message in (
            (identifier, self.identifier_edit, self.tr("Enter the identifier Walleo gave you.")),
            (api_key, self.api_key_edit, self.tr("Enter the API key Walleo gave you.")),
            (shared_key, self.shared_key_edit, self.tr("Enter the shared key Walleo gave you.")),
        ):
            if not value:
                return None, message, widget
        try:
            key = bytes.fromhex(shared_key)
        except ValueError:
            key = b""
        if not key:
            return (
                None,
                self.tr("The shared key must be hexadecimal (digits 0-9 and letters A-F)."),
                self.shared_key_edit,
            )
        return (
            Credentials(api_key=api_key, identifier=identifier, shared_key=shared_key),
            None,
            None,
        )

    def _base_url_error(self) -> str | None:
        url = self.base_url_edit.text().strip() or DEFAULT_BASE_URL
        problem = base_url_problem(url)
        if problem is None:
            return None
        return self.tr(
            "The base URL must start with https:// (plain http:// only for a simulator on "
            "this computer)."
        )

    def _read_form(self) -> tuple[_Form | None, str | None, QWidget | None]:
        name = " ".join(self.name_edit.text().split())
        if not name:
            return None, self.tr("Give the profile a name."), self.name_edit
        if name != self._current and self._find(name) is not None:
            return None, self.tr("A profile named “%s” already exists.") % name, self.name_edit
        url_error = self._base_url_error()
        if url_error:
            return None, url_error, self.base_url_edit
        currency = self.currency_edit.text().strip().upper()
        if len(currency) != 3 or not currency.isalpha():
            return None, self.tr("The currency is a 3-letter code such as EUR."), self.currency_edit
        credentials, error, widget = self._credentials_from_fields(required=False)
        if error:
            return None, error, widget
        base_url = (self.base_url_edit.text().strip() or DEFAULT_BASE_URL).rstrip("/")
        return _Form(name, base_url, currency, credentials), None, None

    # ------------------------------------------------------------------ tasks

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any] | None:
        return self._tasks.spawn(coro)

    async def _keyring_call(self, fn: Callable[[], T]) -> T:
        return await keyring_call(fn, KEYRING_TIMEOUT)

    def _set_keyring_unavailable(self, reason: str = "") -> None:
        if reason:
            log.warning("keyring unavailable: %s", reason)
        self._keyring_ok = False
        self.keyring_label.setText(
            self.tr(
                "No system keyring is available (no Secret Service running). Credentials will "
                "be kept for this session only."
            )
        )
        self.keyring_label.setStyleSheet(
            "background: #fff4e5; color: #7a4100; border: 1px solid #f0b060; padding: 6px;"
        )

    async def _check_keyring(self) -> None:
        try:
            ok = await self._keyring_call(keyring_available)
        except KeyringUnavailable as exc:
            ok = False
            reason = str(exc)
        else:
            reason = "no usable backend"
        if self._keyring_ok is None:
            self._keyring_ok = ok
        if not ok:
            self._set_keyring_unavailable(reason)

    async def _load_credentials(self, name: str, generation: int) -> None:
        credentials = session_credentials.get(name)
        if credentials is None and self._keyring_ok is not False:
            try:
                credentials = await self._keyring_call(
                    lambda: self._profiles.load_credentials(name)
                )
            except KeyringUnavailable as exc:
                self._set_keyring_unavailable(str(exc))
            except ConfigurationError as exc:
                if generation == self._generation:
                    self._show_error(str(exc))
                return
        if generation != self._generation:
            return
        if credentials is None:
            self.status_label.setText(self.tr("No credentials are stored for this profile yet."))
            return
        for edit, value in (
            (self.identifier_edit, credentials.identifier),
            (self.api_key_edit, credentials.api_key),
            (self.shared_key_edit, credentials.shared_key),
        ):
            if not edit.text():
                edit.setText(value)
        self.credentials_loaded.emit(name)

    # ------------------------------------------------------------------ save

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        self._update_enabled()

    def _on_save_clicked(self) -> None:
        if self._busy or self._demo:
            return
        self._hide_error()
        form, error, widget = self._read_form()
        if form is None:
            self._show_error(error or "", widget)
            return
        self._set_busy(True)
        if self._spawn(self._save(form, self._current)) is None:
            self._set_busy(False)

    async def _store_credentials(self, name: str, credentials: Credentials) -> bool:
        """Keyring first; memory for this session if there is none. True: in the keyring."""
        if self._keyring_ok is not False:
            try:
                await self._keyring_call(lambda: self._profiles.save_credentials(name, credentials))
            except KeyringUnavailable as exc:
                session_credentials.set(name, credentials)  # before touching any widget
                self._set_keyring_unavailable(str(exc))
                return False
            session_credentials.discard(name)
            return True
        session_credentials.set(name, credentials)
        return False

    async def _save(self, form: _Form, previous: str | None) -> None:
        try:
            renamed = previous is not None and previous != form.name
            existing = self._find(previous) if previous else None
            credentials = form.credentials
            if renamed and credentials is None and previous is not None:
                credentials = await self._existing_credentials(previous)
            profile = (
                replace(existing, name=form.name, base_url=form.base_url, currency=form.currency)
                if existing is not None
                else Profile(name=form.name, base_url=form.base_url, currency=form.currency)
            )
            was_active = renamed and self._safe_active() == previous
            self._profiles.save(profile)  # names and URLs only: no secret goes to this file
            in_keyring: bool | None = None
            if credentials is not None:
                in_keyring = await self._store_credentials(form.name, credentials)
            if renamed and previous is not None:
                session_credentials.discard(previous)
                await self.smtp_panel.rename_profile(previous, form.name)
                await self._delete_profile(previous)
                if was_active:
                    self._profiles.set_active(form.name)
        except (ConfigurationError, OSError) as exc:
            log.warning("saving profile %r failed: %s", form.name, exc)
            message = self.tr("The profile could not be saved: %s") % exc
            self._show_error(message)
            self.failed.emit(message)
            return
        finally:
            self._set_busy(False)
        log.info(
            "profile %r saved (credentials: %s)",
            form.name,
            {None: "unchanged", True: "keyring", False: "session only"}[in_keyring],
        )
        self._reload_list(select=form.name)
        if in_keyring is None:
            self.status_label.setText(self.tr("Saved."))
        elif in_keyring:
            self.status_label.setText(self.tr("Saved. The credentials are in the system keyring."))
        else:
            self.status_label.setText(
                self.tr("Saved. The credentials are kept for this session only.")
            )
        self.profiles_changed.emit()
        self.saved.emit(form.name)

    async def _existing_credentials(self, name: str) -> Credentials | None:
        credentials = session_credentials.get(name)
        if credentials is not None or self._keyring_ok is False:
            return credentials
        try:
            return await self._keyring_call(lambda: self._profiles.load_credentials(name))
        except KeyringUnavailable as exc:
            self._set_keyring_unavailable(str(exc))
            return None

    async def _delete_profile(self, name: str) -> None:
        # Profiles.delete rewrites the JSON file, then removes the keyring entry (blocking).
        try:
            await self._keyring_call(lambda: self._profiles.delete(name))
        except KeyringUnavailable as exc:
            # The JSON part is done before the keyring is touched; only the entry may remain.
            log.warning("profile %r deleted; its keyring entry may remain: %s", name, exc)

    # ------------------------------------------------------------------ delete

    def _on_delete_clicked(self) -> None:
        name = self._current
        if name is None or self._busy:
            return
        self._confirm(
            self.tr("Delete the profile “%s” and its stored credentials?") % name,
            lambda: self._start_delete(name),
        )

    def _confirm(self, text: str, on_yes: Callable[[], None]) -> None:
        """Ask a yes/no question without a nested event loop (tests replace this)."""
        box = QMessageBox(
            QMessageBox.Icon.Question,
            self.tr("Delete profile"),
            text,
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            self,
        )
        box.setDefaultButton(QMessageBox.StandardButton.No)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

        def finished(result: int) -> None:
            if result == QMessageBox.StandardButton.Yes.value:
                on_yes()

        box.finished.connect(finished)
        box.open()

    def _start_delete(self, name: str) -> None:
        if self._busy:
            return
        self._set_busy(True)
        if self._spawn(self._delete(name)) is None:
            self._set_busy(False)

    async def _delete(self, name: str) -> None:
        try:
            session_credentials.discard(name)
            await self._delete_profile(name)
            await self.smtp_panel.forget_profile(name)
        except (ConfigurationError, OSError) as exc:
            message = self.tr("The profile could not be deleted: %s") % exc
            self._show_error(message)
            self.failed.emit(message)
            return
        finally:
            self._set_busy(False)
        log.info("profile %r deleted", name)
        self._reload_list(select=self._safe_active())
        self.status_label.setText(self.tr("Profile “%s” deleted.") % name)
        self.profiles_changed.emit()

    # ------------------------------------------------------------------ make active

    def _on_make_active_clicked(self) -> None:
        if self._busy:
            return
        name = None if self._demo else self._current
        if not self._demo and name is None:
            return
        try:
            self._profiles.set_active(name)
        except (ConfigurationError, OSError) as exc:
            self._show_error(self.tr("The active profile could not be changed: %s") % exc)
            return
        log.info("active profile: %s", name or "demo")
        self._reload_list(select=name)
        self.status_label.setText(
            self.tr("The demo is now active.")
            if name is None
            else self.tr("“%s” is now the active profile.") % name
        )
        self.profiles_changed.emit()

    # ------------------------------------------------------------------ test connection

    def _on_test_clicked(self) -> None:
        if self._demo or (self._test_task is not None and not self._test_task.done()):
            return
        self._hide_error()
        url_error = self._base_url_error()
        if url_error:
            self._show_error(url_error, self.base_url_edit)
            return
        credentials, error, widget = self._credentials_from_fields(required=True)
        if credentials is None:
            self._show_error(error or "", widget)
            return
        base_url = self.base_url_edit.text().strip() or DEFAULT_BASE_URL
        self._show_test_result(None, self.tr("Testing the connection…"))
        self._test_task = self._spawn(self._test(base_url, credentials, self._generation))
        self._update_enabled()

    async def _test(self, base_url: str, credentials: Credentials, generation: int) -> None:
        try:
            report = await connection_test.test_connection(base_url, credentials)
            ok, text = report.ok, report.message
        except Exception:
            log.exception("the connection test failed unexpectedly")
            ok, text = False, self.tr("The connection test failed unexpectedly (see the log).")
        finally:
            self._test_task = None
            self._update_enabled()
        if generation == self._generation:
            self._show_test_result(ok, text)
        self.test_finished.emit(ok, text)

    # ------------------------------------------------------------------ closing

    def done(self, result: int) -> None:
        if self._test_task is not None and not self._test_task.done():
            self._test_task.cancel()
        super().done(result)
