"""Settings > Team: join a team, create one, and (admins) invite, approve and remove members.

The same steps as ``walleo-desktop team ...`` (``engine.team``), each run on a thread: they
talk to the team's PostgreSQL server and to the keyring, which may both take their time. No
secret is ever shown but the invite code the admin asked for, and the fingerprint each member
reads to their admin.

Signals:
    team_changed(): this desktop joined, created or left a team (the window reconnects).
    finished_step(str): a step finished; the sentence shown (tests wait for it).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid

from walleo_desktop.api.errors import ConfigurationError
from walleo_desktop.engine import team
from walleo_desktop.engine.connection_test import DEFAULT_BASE_URL, Credentials
from walleo_desktop.engine.profiles import TEAM_PROFILE, Profiles
from walleo_desktop.ui.async_ops import BackgroundTasks, call_in_thread
from walleo_desktop.ui.feedback import ERROR_COLOR

__all__ = ["TeamDialog"]

log = logging.getLogger("walleo.ui.team")


def _password_edit(parent: QWidget) -> QLineEdit:
    edit = QLineEdit(parent)
    edit.setEchoMode(QLineEdit.EchoMode.Password)
    edit.setInputMethodHints(
        Qt.InputMethodHint.ImhHiddenText
        | Qt.InputMethodHint.ImhNoPredictiveText
        | Qt.InputMethodHint.ImhSensitiveData
    )
    return edit


class TeamDialog(QDialog):
    team_changed = Signal()
    finished_step = Signal(str)

    def __init__(self, profiles: Profiles, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Settings — Team"))
        self.setMinimumSize(640, 460)
        self._profiles = profiles
        self._tasks = BackgroundTasks(self, "team dialog task")
        self._busy = False
        self._config: team.TeamConfig | None = None
        self._refresh_after = False

        intro = QLabel(
            self.tr(
                "A team shares one history on a PostgreSQL server: every agent sees the "
                "team's pulls, a crashed desktop's pulls are finished by a teammate, and "
                "finance reviews and exports everything. Each member has their own login; "
                "its password and key stay in this computer's keyring."
            ),
            self,
        )
        intro.setWordWrap(True)

        # -- not in a team: join, or create
        self.code_edit = QPlainTextEdit(self)
        self.code_edit.setObjectName("inviteCode")
        self.code_edit.setPlaceholderText(self.tr("walleo-invite:… (from your team admin)"))
        self.code_edit.setFixedHeight(64)
        self.code_edit.setAccessibleName(self.tr("Invite code"))
        self.join_button = QPushButton(self.tr("&Join"), self)
        self.join_button.clicked.connect(self._on_join)
        join_box = QGroupBox(self.tr("Join a team"), self)
        join_layout = QVBoxLayout(join_box)
        join_layout.addWidget(
            QLabel(self.tr("Paste the invite code your team admin gave you:"), join_box)
        )
        join_layout.addWidget(self.code_edit)
        join_row = QHBoxLayout()
        join_row.addStretch(1)
        join_row.addWidget(self.join_button)
        join_layout.addLayout(join_row)

        self.url_edit = QLineEdit(self)
        self.url_edit.setPlaceholderText("postgresql://postgres@db.example:5432/walleo")
        self.superuser_password_edit = _password_edit(self)
        self.superuser_password_edit.setPlaceholderText(self.tr("Used only now, never kept"))
        self.admin_name_edit = QLineEdit(self)
        self.admin_name_edit.setPlaceholderText(self.tr("lower-case, e.g. lea"))
        self.simulator_check = QCheckBox(
            self.tr("Try it with a Walleo simulator on this computer (no real cards)"), self
        )
        self.base_url_edit = QLineEdit(self)
        self.base_url_edit.setPlaceholderText(DEFAULT_BASE_URL)
        self.identifier_edit = QLineEdit(self)
        self.api_key_edit = _password_edit(self)
        self.shared_key_edit = _password_edit(self)
        self.simulator_check.toggled.connect(self._on_simulator_toggled)
        self.create_button = QPushButton(self.tr("&Create the team"), self)
        self.create_button.clicked.connect(self._on_create)
        create_box = QGroupBox(self.tr("Create a team (its first admin)"), self)
        create_form = QFormLayout(create_box)
        create_form.addRow(self.tr("Empty database"), self.url_edit)
        create_form.addRow(self.tr("Superuser password"), self.superuser_password_edit)
        create_form.addRow(self.tr("Your member name"), self.admin_name_edit)
        create_form.addRow(self.simulator_check)
        create_form.addRow(self.tr("Walleo base URL"), self.base_url_edit)
        create_form.addRow(self.tr("Walleo identifier"), self.identifier_edit)
        create_form.addRow(self.tr("Walleo API key"), self.api_key_edit)
        create_form.addRow(self.tr("Walleo shared key"), self.shared_key_edit)
        create_row = QHBoxLayout()
        create_row.addStretch(1)
        create_row.addWidget(self.create_button)
        create_form.addRow(create_row)

        outside = QWidget(self)
        outside_layout = QVBoxLayout(outside)
        outside_layout.setContentsMargins(0, 0, 0, 0)
        outside_layout.addWidget(join_box)
        outside_layout.addWidget(create_box)
        outside_layout.addStretch(1)

        # -- in a team: who is in it, and (admins) managing them
        self.me_label = QLabel(self)
        self.me_label.setObjectName("teamMe")
        self.me_label.setWordWrap(True)
        self.members = QTableWidget(0, 4, self)
        self.members.setObjectName("teamMembers")
        self.members.setHorizontalHeaderLabels(
            [self.tr("Member"), self.tr("Role"), self.tr("State"), self.tr("Key fingerprint")]
        )
        self.members.verticalHeader().hide()
        self.members.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.members.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.members.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.members.horizontalHeader().setStretchLastSection(True)
        self.members.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents
        )
        self.members.itemSelectionChanged.connect(self._update_enabled)
        self.refresh_button = QPushButton(self.tr("Re&fresh"), self)
        self.refresh_button.clicked.connect(lambda: self.refresh())
        self.approve_button = QPushButton(self.tr("&Approve…"), self)
        self.approve_button.setToolTip(
            self.tr("Give the selected member the team's keys, after checking their fingerprint")
        )
        self.approve_button.clicked.connect(self._on_approve)
        self.remove_button = QPushButton(self.tr("&Remove…"), self)
        self.remove_button.clicked.connect(self._on_remove)
        self.leave_button = QPushButton(self.tr("&Leave on this desktop…"), self)
        self.leave_button.clicked.connect(self._on_leave)
        self.use_button = QPushButton(self.tr("&Use the team's history"), self)
        self.use_button.clicked.connect(self._on_use)
        member_buttons = QHBoxLayout()
        member_buttons.addWidget(self.refresh_button)
        member_buttons.addStretch(1)
        member_buttons.addWidget(self.approve_button)
        member_buttons.addWidget(self.remove_button)

        self.invite_name_edit = QLineEdit(self)
        self.invite_name_edit.setPlaceholderText(self.tr("member name, e.g. sam"))
        self.invite_role_combo = QComboBox(self)
        for role, label in (
            ("agent", self.tr("Agent")),
            ("finance", self.tr("Finance")),
            ("admin", self.tr("Admin")),
        ):
            self.invite_role_combo.addItem(label, role)
        self.invite_button = QPushButton(self.tr("&Invite"), self)
        self.invite_button.clicked.connect(self._on_invite)
        self.invite_code = QPlainTextEdit(self)
        self.invite_code.setObjectName("newInviteCode")
        self.invite_code.setReadOnly(True)
        self.invite_code.setFixedHeight(64)
        self.invite_code.hide()
        self.copy_code_button = QPushButton(self.tr("&Copy the code"), self)
        self.copy_code_button.clicked.connect(self._copy_code)
        self.copy_code_button.hide()
        self.invite_box = QGroupBox(self.tr("Invite a member"), self)
        invite_layout = QVBoxLayout(self.invite_box)
        invite_row = QHBoxLayout()
        invite_row.addWidget(self.invite_name_edit, 1)
        invite_row.addWidget(self.invite_role_combo)
        invite_row.addWidget(self.invite_button)
        invite_layout.addLayout(invite_row)
        invite_layout.addWidget(self.invite_code)
        copy_row = QHBoxLayout()
        copy_row.addStretch(1)
        copy_row.addWidget(self.copy_code_button)
        invite_layout.addLayout(copy_row)

        inside = QWidget(self)
        inside_layout = QVBoxLayout(inside)
        inside_layout.setContentsMargins(0, 0, 0, 0)
        inside_layout.addWidget(self.me_label)
        inside_layout.addWidget(self.members, 1)
        inside_layout.addLayout(member_buttons)
        inside_layout.addWidget(self.invite_box)
        leave_row = QHBoxLayout()
        leave_row.addWidget(self.use_button)
        leave_row.addStretch(1)
        leave_row.addWidget(self.leave_button)
        inside_layout.addLayout(leave_row)

        self.pages = QStackedWidget(self)
        self.pages.addWidget(outside)
        self.pages.addWidget(inside)

        self.message_label = QLabel(self)
        self.message_label.setObjectName("teamMessage")
        self.message_label.setWordWrap(True)
        self.message_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        close_box = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        close_box.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.pages, 1)
        layout.addWidget(self.message_label)
        layout.addWidget(close_box)

        self._load_config()

    # ------------------------------------------------------------------ state

    @property
    def config(self) -> team.TeamConfig | None:
        return self._config

    def _load_config(self) -> None:
        try:
            self._config = team.load_team_config(self._profiles.config_dir)
        except ConfigurationError as exc:
            self._config = None
            self._say(str(exc), error=True)
        if self._config is None:
            self.pages.setCurrentIndex(0)
        else:
            self.pages.setCurrentIndex(1)
            self.me_label.setText(
                self.tr("You are {member} ({role}) on the team at {server}.").format(
                    member=self._config.member,
                    role=self._role_label(self._config.role),
                    server=self._config.label.split(" @ ", 1)[-1],
                )
            )
            self.invite_box.setVisible(self._config.role == "admin")
            self.refresh()
        self._update_enabled()

    def _role_label(self, role: str) -> str:
        return {
            "agent": self.tr("agent"),
            "finance": self.tr("finance"),
            "admin": self.tr("admin"),
        }.get(role, role)

    def _update_enabled(self) -> None:
        admin = self._config is not None and self._config.role == "admin"
        row = self._selected()
        for widget in (self.join_button, self.create_button, self.refresh_button,
                       self.invite_button, self.leave_button):  # fmt: skip
            widget.setEnabled(not self._busy)
        self.approve_button.setVisible(admin)
        self.remove_button.setVisible(admin)
        self.approve_button.setEnabled(
            not self._busy and row is not None and row.joined and not row.removed
        )
        self.remove_button.setEnabled(
            not self._busy
            and row is not None
            and not row.removed
            and self._config is not None
            and row.name != self._config.member
        )
        in_use = self._profiles.active == TEAM_PROFILE
        self.use_button.setVisible(self._config is not None and not in_use)
        self.use_button.setEnabled(not self._busy)

    def _selected(self) -> team.MemberStatus | None:
        rows = self.members.selectionModel().selectedRows()
        if not rows:
            return None
        item = self.members.item(rows[0].row(), 0)
        data = item.data(Qt.ItemDataRole.UserRole) if item is not None else None
        return data if isinstance(data, team.MemberStatus) else None

    def _say(self, text: str, *, error: bool = False) -> None:
        self.message_label.setStyleSheet(f"color: {ERROR_COLOR};" if error else "")
        self.message_label.setText(text)

    # ------------------------------------------------------------------ running steps

    def _run(
        self,
        step: Callable[[], Any],
        done: Callable[[Any], str],
        *,
        changes_team: bool = False,
    ) -> None:
        """Run the blocking ``step`` on a thread; ``done(result)`` says what happened."""
        if self._busy:
            return
        self._busy = True
        self._update_enabled()
        self._say(self.tr("Working…"))
        self._spawn(self._step(step, done, changes_team))

    async def _step(
        self, step: Callable[[], Any], done: Callable[[Any], str], changes_team: bool
    ) -> None:
        text = ""
        error = False
        try:
            result = await call_in_thread(step)
        except ConfigurationError as exc:  # TeamError, KeyringUnavailable: sentences
            text, error = str(exc), True
        except Exception as exc:
            log.exception("a team step failed unexpectedly")
            text = self.tr("That did not work ({error}); see the log.").format(
                error=type(exc).__name__
            )
            error = True
        else:
            text = done(result)
        if not isValid(self):
            return
        self._busy = False
        self._say(text, error=error)
        if changes_team and not error:
            self._load_config()
            self.team_changed.emit()
        self._update_enabled()
        self.finished_step.emit(text)
        if self._refresh_after and not error:
            self._refresh_after = False
            self.refresh(keep_message=True)  # what the step said stays said

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        self._tasks.spawn(coro)

    # ------------------------------------------------------------------ joining and creating

    def _on_simulator_toggled(self, on: bool) -> None:
        for edit in (self.base_url_edit, self.identifier_edit, self.api_key_edit,
                     self.shared_key_edit):  # fmt: skip
            edit.setEnabled(not on)

    def _on_join(self) -> None:
        code = self.code_edit.toPlainText().strip()
        if not code:
            self._say(self.tr("Paste the invite code first."), error=True)
            self.code_edit.setFocus()
            return
        config_dir = self._profiles.config_dir

        def step() -> tuple[team.TeamConfig, str]:
            joined = team.join_team(code, config_dir=config_dir)
            self._profiles.set_active(TEAM_PROFILE)
            return joined

        def done(result: tuple[team.TeamConfig, str]) -> str:
            config, fingerprint = result
            self.code_edit.clear()
            return self.tr(
                "Joined as {member}. Your key's fingerprint is {fingerprint}: read it to your "
                "team admin, who approves it; then this desktop opens the team's history."
            ).format(member=config.member, fingerprint=fingerprint)

        self._run(step, done, changes_team=True)

    def _on_create(self) -> None:
        url = self.url_edit.text().strip()
        name = self.admin_name_edit.text().strip()
        if not url:
            self._say(self.tr("Give the empty database's address."), error=True)
            self.url_edit.setFocus()
            return
        if not name:
            self._say(self.tr("Give your member name."), error=True)
            self.admin_name_edit.setFocus()
            return
        if self.simulator_check.isChecked():
            credentials, base_url = team.simulator_credentials(), team.SIMULATOR_URL
        else:
            credentials = Credentials(
                api_key=self.api_key_edit.text().strip(),
                identifier=self.identifier_edit.text().strip(),
                shared_key=self.shared_key_edit.text().strip(),
            )
            try:
                credentials.validate()
            except ConfigurationError as exc:
                self._say(str(exc), error=True)
                return
            base_url = self.base_url_edit.text().strip() or DEFAULT_BASE_URL
        password = self.superuser_password_edit.text() or None
        config_dir = self._profiles.config_dir

        def step() -> team.TeamConfig:
            config = team.init_team(
                url,
                admin_password=password,
                first_admin=name,
                walleo_credentials=credentials,
                walleo_base_url=base_url,
                config_dir=config_dir,
            )
            self._profiles.set_active(TEAM_PROFILE)
            return config

        def done(config: team.TeamConfig) -> str:
            self.superuser_password_edit.clear()
            self.api_key_edit.clear()
            self.shared_key_edit.clear()
            return self.tr(
                "The team is created and you ({member}) are its admin. Invite its members below."
            ).format(member=config.member)

        self._run(step, done, changes_team=True)

    # ------------------------------------------------------------------ members

    def refresh(self, *, keep_message: bool = False) -> None:
        config = self._config
        if config is None:
            return
        said = self.message_label.text()

        def done(status: team.TeamStatus) -> str:
            summary = self._show_status(status)
            return said if keep_message and said else summary

        self._run(lambda: team.team_status(config), done)

    def _show_status(self, status: team.TeamStatus) -> str:
        self.members.setRowCount(0)
        for m in status.members:
            row = self.members.rowCount()
            self.members.insertRow(row)
            if m.removed:
                state = self.tr("removed")
            elif not m.joined:
                state = self.tr("invited, not joined")
            elif m.approved:
                state = self.tr("active")
            elif status.role == "admin":
                state = self.tr("joined: to approve")
            else:
                state = self.tr("joined")
            cells = [m.name, self._role_label(m.role), state, m.fingerprint]
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if column == 0:
                    item.setData(Qt.ItemDataRole.UserRole, m)
                self.members.setItem(row, column, item)
        waiting = [m.name for m in status.members if m.joined and not m.approved and not m.removed]
        if waiting and status.role == "admin":
            return self.tr("Waiting for your approval: {names}.").format(names=", ".join(waiting))
        return self.tr("{count} member(s); keys {keys}.").format(
            count=len(status.members), keys=", ".join(status.key_versions) or "—"
        )

    def _on_invite(self) -> None:
        config = self._config
        name = self.invite_name_edit.text().strip()
        role = self.invite_role_combo.currentData()
        if config is None or not name:
            self._say(self.tr("Give the new member's name."), error=True)
            self.invite_name_edit.setFocus()
            return

        def done(invite: team.Invite) -> str:
            self.invite_code.setPlainText(invite.code)
            self.invite_code.show()
            self.copy_code_button.show()
            self.invite_name_edit.clear()
            self.refresh_later()
            return self.tr(
                "Give {member} this code, in person or by phone (valid 48 hours, one use). It "
                "is worth nothing until you approve the key their desktop makes."
            ).format(member=invite.member)

        self._run(lambda: team.invite_member(config, name, role), done)

    def refresh_later(self) -> None:
        """Read the members again once the running step is done."""
        self._refresh_after = True

    def _copy_code(self) -> None:
        QGuiApplication.clipboard().setText(self.invite_code.toPlainText())
        self._say(self.tr("The invite code is on the clipboard."))

    def _on_approve(self) -> None:
        config, row = self._config, self._selected()
        if config is None or row is None:
            return

        def approve() -> None:
            def done(_fp: str) -> str:
                self.refresh_later()
                return self.tr("{member} is approved.").format(member=row.name)

            self._run(
                lambda: team.approve_member(config, row.name, expected_fingerprint=row.fingerprint),
                done,
            )

        self.approve_question = self._ask(
            QMessageBox.Icon.Question,
            self.tr("Approve {member}?").format(member=row.name),
            self.tr(
                "Ask {member} to read the fingerprint their desktop showed. Approve only if it "
                "is exactly:\n\n{fingerprint}"
            ).format(member=row.name, fingerprint=row.fingerprint),
            (self.tr("They match: approve"), QMessageBox.ButtonRole.AcceptRole),
            approve,
        )

    def _ask(
        self,
        icon: QMessageBox.Icon,
        title: str,
        text: str,
        yes: tuple[str, QMessageBox.ButtonRole],
        on_yes: Callable[[], None],
    ) -> QMessageBox:
        """A question without a nested event loop; ``on_yes`` when its first button is chosen
        (Cancel is the default)."""
        box = QMessageBox(self)
        box.setIcon(icon)
        box.setWindowTitle(title)
        box.setText(text)
        chosen = box.addButton(*yes)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)

        def answered(_result: int) -> None:
            if box.clickedButton() is chosen:
                on_yes()

        box.finished.connect(answered)
        box.open()
        return box

    def _on_remove(self) -> None:
        config, row = self._config, self._selected()
        if config is None or row is None:
            return

        def remove() -> None:
            def done(key_id: str) -> str:
                self.refresh_later()
                return self.tr("{member} is removed; new cards use the key {key}.").format(
                    member=row.name, key=key_id
                )

            self._run(lambda: team.remove_member(config, row.name), done)

        self.remove_question = self._ask(
            QMessageBox.Icon.Warning,
            self.tr("Remove {member}?").format(member=row.name),
            self.tr(
                "{member} will no longer be able to log in, and the team gets new keys they "
                "never have. Their pulls stay in the history, in their name."
            ).format(member=row.name),
            (self.tr("Remove"), QMessageBox.ButtonRole.DestructiveRole),
            remove,
        )

    def _on_use(self) -> None:
        def step() -> None:
            self._profiles.set_active(TEAM_PROFILE)

        self._run(step, lambda _r: self.tr("This desktop uses the team's history."),
                  changes_team=True)  # fmt: skip

    def _on_leave(self) -> None:
        config = self._config
        if config is None:
            return
        config_dir = self._profiles.config_dir

        def leave() -> None:
            def step() -> None:
                team.leave_team(config, config_dir)
                if self._profiles.active is None:
                    self._profiles.set_active(None)

            self._run(step, lambda _r: self.tr("This desktop left the team."), changes_team=True)

        self.leave_question = self._ask(
            QMessageBox.Icon.Warning,
            self.tr("Leave the team on this desktop?"),
            self.tr(
                "This desktop forgets its team login and key. The team keeps its history; "
                "to work in it again you need a new invite."
            ),
            (self.tr("Leave"), QMessageBox.ButtonRole.DestructiveRole),
            leave,
        )
