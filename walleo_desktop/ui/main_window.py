"""The main window: pull form | live pull table | card pane, menus and status bar.

The window is a view on one ``Session``. It paints at once from what is local (the journal's
recent pulls, the cached catalog); ``start()`` then resumes unfinished pulls and refreshes the
catalog in the background. Closing it emits ``closed``; whoever opened the session closes it
(``app.run``), after ``shutdown()`` has ended the window's own background work.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QEvent, QObject, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QGuiApplication, QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QLabel,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from walleo_desktop import APP_NAME
from walleo_desktop.api.errors import RateLimitedError, TransportError
from walleo_desktop.api.models import GiftCard
from walleo_desktop.engine import Profiles, PullEvent, Session
from walleo_desktop.engine.delivery import SmtpSettingsStore
from walleo_desktop.engine.profiles import default_config_dir
from walleo_desktop.engine.pulls import AlreadyRetried
from walleo_desktop.store import StoreError
from walleo_desktop.store.records import CardRecord, PullRecord, PullState
from walleo_desktop.ui.async_ops import AsyncOps
from walleo_desktop.ui.card_pane import CardPane
from walleo_desktop.ui.clipboard import saved_clear_after
from walleo_desktop.ui.delivery import DeliveryController
from walleo_desktop.ui.pull_form import PullForm
from walleo_desktop.ui.pull_table_model import PullTableModel, explain, format_amount
from walleo_desktop.ui.pull_table_view import PullTableView
from walleo_desktop.ui.status_bar import ConnectionState, StatusBar

if TYPE_CHECKING:
    from walleo_desktop.ui.history_view import HistoryView
    from walleo_desktop.ui.shift_dialog import ShiftDialog

__all__ = ["RECENT_PULLS", "MainWindow", "window_settings"]

log = logging.getLogger("walleo.ui.window")

RECENT_PULLS = 500
CATALOG_RETRY_MS = 30_000
DEFAULT_SIZE = (1280, 800)
_FRAME_ROOM = (16, 48)  # what a window manager's frame and title bar may take, roughly
_CHECKABLE = frozenset({PullState.IN_DOUBT, PullState.WAITING, PullState.PROCESSING})
_RETRYABLE = frozenset({PullState.ERROR, PullState.REJECTED})
_UNREACHABLE_CODES = frozenset({"not_sent", "transport"})
_STRIP_STYLES = {
    "warning": "background:#fef7e0;color:#7a4a00;border:1px solid #f9ab00;",
    "error": "background:#fce8e6;color:#a50e0e;border:1px solid #ea4335;",
    "info": "background:#e8f0fe;color:#174ea6;border:1px solid #8ab4f8;",
}


class _MenuKeysWin(QObject):
    """The window's shortcuts work from any field, text fields included.

    A text field claims the keys it edits with (``ShortcutOverride``), and some of those are
    menu shortcuts: on X11, Ctrl+E is "end of line" in a line edit, so Export did nothing from
    the search box or the reference field. The widget that has the focus in this window is
    watched (only that one is asked about shortcuts), and a key that is one of the window's
    shortcuts is kept from it: the shortcut fires. Editing keys that are nobody's shortcut
    (Ctrl+C, Ctrl+A, Home, End…) stay with the field.
    """

    def __init__(self, window: QMainWindow) -> None:
        super().__init__(window)
        self._window = window
        app = QApplication.instance()
        if isinstance(app, QApplication):
            app.focusChanged.connect(self._on_focus_changed)

    def _on_focus_changed(self, _old: QWidget | None, new: QWidget | None) -> None:
        if new is not None and new.window() is self._window:
            new.installEventFilter(self)  # once: installing again only moves it first

    def _shortcuts(self) -> set[QKeySequence]:
        keys: set[QKeySequence] = set()
        for action in self._window.findChildren(QAction):
            if action.shortcutContext() != Qt.ShortcutContext.WidgetShortcut:
                keys.update(k for k in action.shortcuts() if not k.isEmpty())
        return keys

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            event.type() == QEvent.Type.ShortcutOverride
            and isinstance(event, QKeyEvent)
            and self._may_be_shortcut(event)
            and QKeySequence(event.keyCombination()) in self._shortcuts()
        ):
            event.ignore()  # not the field's: the shortcut map goes on to the action
            return True
        return False

    @staticmethod
    def _may_be_shortcut(event: QKeyEvent) -> bool:
        """Every key typed is asked about; only these can be one of the window's shortcuts."""
        chords = (
            Qt.KeyboardModifier.ControlModifier
            | Qt.KeyboardModifier.AltModifier
            | Qt.KeyboardModifier.MetaModifier
        )
        function_key = Qt.Key.Key_F1.value <= event.key() <= Qt.Key.Key_F35.value
        return bool(event.modifiers() & chords) or function_key


def window_settings() -> QSettings:
    """Window geometry lives in the app's own config dir, never in Qt's default location."""
    path = default_config_dir() / "window.ini"
    return QSettings(str(path), QSettings.Format.IniFormat)


class MainWindow(QMainWindow):
    """Signals:
    closed(): the user closed the window; the session may now be closed.
    """

    closed = Signal()
    reconnect_requested = Signal()

    def __init__(
        self,
        session: Session,
        *,
        recent: list[PullRecord] | None = None,
        profiles: Profiles | None = None,
        settings: QSettings | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("mainWindow")
        self._session = session
        self._profiles = profiles
        self._settings = settings if settings is not None else window_settings()
        self._select_when_shown: int | None = None
        self._shown_state: tuple[int, PullState, str] | None = None
        self._dialogs: list[QWidget] = []
        self._closing = False
        self._audits = 0
        self._favourite_saves = 0  # each star toggle is its own write (its own op key)
        self._quit_question: QMessageBox | None = None
        self._quit_confirmed = False
        self.bulk_dialog: QWidget | None = None

        connection = session.connection
        self.setWindowTitle(
            self.tr("{app} — {environment}").format(
                app=APP_NAME, environment=self.tr("DEMO") if connection.demo else connection.label
            )
        )
        self.ops = AsyncOps(self)
        self.ops.failed.connect(self.show_error)

        self.form = PullForm(session.catalog, session.engine, connection.currency, self.ops, self)
        # ``recent``: the journal's newest pulls, read before the window was built (app.main).
        self.model = PullTableModel(recent or [], self)
        self._unsubscribe = session.engine.subscribe(self._on_pull_event)
        self.table = PullTableView(self)
        self.table.setModel(self.model)
        self.explanation = QLabel(self)
        self.explanation.setObjectName("pullExplanation")
        self.explanation.setWordWrap(True)
        self.explanation.setTextFormat(Qt.TextFormat.PlainText)
        self.explanation.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.explanation.hide()
        self.card_pane = CardPane(self)
        self.card_pane.setObjectName("cardPane")
        self.card_pane.set_pdf_loader(session.cards.pdf)
        self.card_pane.clipboard.clear_after = saved_clear_after()
        # E-mail and print for the card on display (ui/delivery.py).
        self.delivery = DeliveryController(
            session,
            self.card_pane,
            self.ops,
            self,
            settings_store=SmtpSettingsStore(profiles.config_dir) if profiles else None,
        )

        live = QWidget(self)
        live_layout = QVBoxLayout(live)
        live_layout.setContentsMargins(0, 0, 0, 0)
        live_layout.setSpacing(4)
        live_layout.addWidget(self.table, 1)
        live_layout.addWidget(self.explanation)

        # Live pulls and the whole history side by side in tabs, one card pane for both. The
        # history view is built the first time its tab is opened: a big history costs
        # background queries that the agents' first paint should not wait for.
        self.tabs = QTabWidget(self)
        self.tabs.setObjectName("mainTabs")
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(live, self.tr("&Live pulls"))
        self._history_placeholder = QWidget(self)
        self.tabs.addTab(self._history_placeholder, self.tr("H&istory"))
        self.history: HistoryView | None = None  # built when its tab is first opened
        self.tabs.currentChanged.connect(self._on_tab_changed)

        # Said plainly while the history cannot be used (the team database went away, a full
        # disk): pulls keep their journaled state and resume by themselves when it can again.
        self.health_banner = QLabel(self)
        self.health_banner.setObjectName("healthBanner")
        self.health_banner.setWordWrap(True)
        self.health_banner.setStyleSheet(
            "background: #fff4e5; color: #7a4100; border: 1px solid #f0b060; padding: 6px;"
        )
        self.health_banner.hide()
        self._unsubscribe_health = session.engine.subscribe_health(self._on_health)

        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.setObjectName("mainSplitter")
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(self.form)
        self.splitter.addWidget(self.tabs)
        self.splitter.addWidget(self.card_pane)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setStretchFactor(2, 0)
        self.form.setMinimumWidth(260)
        self.bulk_button = QPushButton(self.tr("Bulk order from a file…"), self.form)
        self.bulk_button.setObjectName("bulkButton")
        form_layout = self.form.layout()
        assert isinstance(form_layout, QVBoxLayout)
        form_layout.insertWidget(form_layout.count() - 1, self.bulk_button)  # above the stretch
        self.bulk_button.clicked.connect(self.open_bulk_order)
        self.card_pane.setMinimumWidth(300)
        central = QWidget(self)
        central_layout = QVBoxLayout(central)
        central_layout.setContentsMargins(0, 0, 0, 0)
        central_layout.setSpacing(0)
        central_layout.addWidget(self.health_banner)
        central_layout.addWidget(self.splitter, 1)
        self.setCentralWidget(central)
        if not session.can_issue:
            # Finance in a team: reviews and exports; the database would refuse a pull anyway.
            self.form.hide()

        self.status = StatusBar(self)
        self.setStatusBar(self.status)
        self.status.set_environment(connection.label, demo=connection.demo)

        self._catalog_retry = QTimer(self)
        self._catalog_retry.setObjectName("catalog-retry")
        self._catalog_retry.setSingleShot(True)
        self._catalog_retry.setInterval(CATALOG_RETRY_MS)
        self._catalog_retry.timeout.connect(self.refresh_catalog)

        self._build_actions()
        self._connect()
        self._menu_keys = _MenuKeysWin(self)

        cached = session.catalog.cached()  # local: the form works before Walleo answers
        self.form.set_catalog(cached)
        self.status.set_connection(
            self.tr("Catalog from cache — refreshing…") if cached else self.tr("Connecting…"),
            ConnectionState.BUSY,
        )
        self.status.set_in_flight(session.engine.in_flight)
        self._restore_geometry()
        self._update_actions()
        self._load_brand_preferences()
        if not session.can_issue:
            self.new_pull_action.setEnabled(False)
            self.bulk_action.setEnabled(False)
            self.tabs.setCurrentIndex(1)  # the whole history is what finance came for

    # ------------------------------------------------------------------ construction

    def _build_actions(self) -> None:
        menu = self.menuBar()
        file_menu = menu.addMenu(self.tr("&File"))
        self.settings_action = QAction(self.tr("&Settings…"), self)
        self.settings_action.setShortcut(QKeySequence("Ctrl+,"))
        self.settings_action.setMenuRole(QAction.MenuRole.PreferencesRole)
        self.quit_action = QAction(self.tr("&Quit"), self)
        # The platform's Quit key, and Ctrl+Q where the platform has none (Windows, offscreen).
        quit_keys = QKeySequence.keyBindings(QKeySequence.StandardKey.Quit)
        self.quit_action.setShortcuts(quit_keys or [QKeySequence("Ctrl+Q")])
        self.quit_action.setMenuRole(QAction.MenuRole.QuitRole)
        self.team_action = QAction(self.tr("&Team…"), self)
        self.team_action.setToolTip(
            self.tr("Share one history with a team: join, create, invite, approve")
        )
        file_menu.addAction(self.settings_action)
        file_menu.addAction(self.team_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)

        pulls_menu = menu.addMenu(self.tr("&Pulls"))
        self.new_pull_action = QAction(self.tr("&New pull"), self)
        self.new_pull_action.setShortcut(QKeySequence("Ctrl+N"))
        self.check_now_action = QAction(self.tr("&Check now"), self)
        self.check_now_action.setShortcut(QKeySequence("F5"))
        self.check_now_action.setToolTip(self.tr("Ask Walleo about the selected pull now"))
        self.retry_action = QAction(self.tr("&Retry as new pull…"), self)
        self.retry_action.setShortcut(QKeySequence("Ctrl+R"))
        self.retry_action.setToolTip(
            self.tr("Send a new pull for a pull that ended in error or was rejected")
        )
        self.copy_id_action = QAction(self.tr("Copy request &ID"), self)
        self.copy_id_action.setShortcut(QKeySequence("Ctrl+Alt+C"))
        self.bulk_action = QAction(self.tr("&Bulk order from a file…"), self)
        self.bulk_action.setShortcut(QKeySequence("Ctrl+Shift+B"))
        self.close_shift_action = QAction(self.tr("Close &shift…"), self)
        self.close_shift_action.setToolTip(
            self.tr("Count this shift's pulls per brand, store the report, save or print it")
        )
        for action in (
            self.new_pull_action,
            self.bulk_action,
            self.check_now_action,
            self.retry_action,
        ):
            pulls_menu.addAction(action)
        pulls_menu.addSeparator()
        pulls_menu.addAction(self.copy_id_action)
        pulls_menu.addSeparator()
        pulls_menu.addAction(self.close_shift_action)

        view_menu = menu.addMenu(self.tr("&View"))
        self.live_action = QAction(self.tr("&Live pulls"), self)
        self.live_action.setShortcut(QKeySequence("Ctrl+1"))
        self.history_action = QAction(self.tr("&History"), self)
        self.history_action.setShortcut(QKeySequence("Ctrl+2"))
        self.search_history_action = QAction(self.tr("&Search the history"), self)
        self.search_history_action.setShortcut(QKeySequence(QKeySequence.StandardKey.Find))
        if self.search_history_action.shortcut().isEmpty():
            self.search_history_action.setShortcut(QKeySequence("Ctrl+F"))
        self.export_history_action = QAction(self.tr("&Export the history…"), self)
        self.export_history_action.setShortcut(QKeySequence("Ctrl+E"))
        for action in (self.live_action, self.history_action):
            view_menu.addAction(action)
        view_menu.addSeparator()
        view_menu.addAction(self.search_history_action)
        view_menu.addAction(self.export_history_action)

        help_menu = menu.addMenu(self.tr("&Help"))
        self.about_action = QAction(self.tr("&About {app}…").format(app=APP_NAME), self)
        self.about_action.setMenuRole(QAction.MenuRole.AboutRole)
        help_menu.addAction(self.about_action)

        self.table.add_context_actions(
            [self.check_now_action, self.retry_action, None, self.copy_id_action]
        )

    def _connect(self) -> None:
        self.settings_action.triggered.connect(self._open_settings)
        self.team_action.triggered.connect(self.open_team)
        self.quit_action.triggered.connect(self.request_quit)
        self.new_pull_action.triggered.connect(self.form.focus_brand)
        self.bulk_action.triggered.connect(self.open_bulk_order)
        self.check_now_action.triggered.connect(self.check_now)
        self.retry_action.triggered.connect(self.retry_selected)
        self.copy_id_action.triggered.connect(self.copy_request_id)
        self.close_shift_action.triggered.connect(self.open_shift_dialog)
        self.about_action.triggered.connect(self._about)
        self.live_action.triggered.connect(lambda: self.tabs.setCurrentIndex(0))
        self.history_action.triggered.connect(self.show_history)
        self.search_history_action.triggered.connect(
            lambda: self.show_history().filters.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        )
        self.export_history_action.triggered.connect(
            lambda: self.show_history().open_export_dialog()
        )
        self.form.submitted.connect(self._on_submitted)
        self.form.submitted.connect(self._remember_brand)
        self.form.favourites_changed.connect(self._save_favourites)
        self.model.batch_applied.connect(self._on_batch)
        self.table.current_pull_changed.connect(self._on_current_pull)
        self.card_pane.message.connect(self.show_message)
        self.card_pane.audit.connect(self._on_card_audit)
        self.delivery.message.connect(self.show_message)
        self.delivery.failed.connect(self.show_error)

    def _restore_geometry(self) -> None:
        s = self._settings
        geometry = s.value("window/geometry")
        # restoreGeometry() brings a saved window back onto the screen it opens on.
        if not (isinstance(geometry, QByteArray) and self.restoreGeometry(geometry)):
            # The default size, on a small screen no bigger than the room it has (a window
            # frame and a panel take some of what the screen calls available).
            room = self.screen().availableGeometry()
            width = min(DEFAULT_SIZE[0], room.width() - _FRAME_ROOM[0])
            height = min(DEFAULT_SIZE[1], room.height() - _FRAME_ROOM[1])
            self.resize(width, height)
            # The table gets the width that shows every column title (French's are longer),
            # the card pane what is left, up to 440 px.
            form, handles = 260, 2 * self.splitter.handleWidth()
            table = max(self.table.full_width(), 400)
            card = min(440, max(self.width() - form - table - handles, 300))
            self.splitter.setSizes([form, max(self.width() - form - card - handles, 400), card])
        for key, restore in (
            ("window/state", self.restoreState),
            ("window/splitter", self.splitter.restoreState),
            ("window/table_header", self.table.horizontalHeader().restoreState),
        ):
            value = s.value(key)
            if isinstance(value, QByteArray):
                restore(value)

    def _save_geometry(self) -> None:
        s = self._settings
        s.setValue("window/geometry", self.saveGeometry())
        s.setValue("window/state", self.saveState())
        s.setValue("window/splitter", self.splitter.saveState())
        s.setValue("window/table_header", self.table.horizontalHeader().saveState())
        s.sync()

    # ------------------------------------------------------------------ start and stop

    async def start(self) -> None:
        """Resume the journal's unfinished pulls, then refresh the catalog in the background."""
        resumed = await self._session.engine.start()
        if resumed:
            self.show_message(
                self.tr("Resuming %n unfinished pull(s) from the last session.", "", len(resumed))
            )
        self.status.set_in_flight(self._session.engine.in_flight)
        if not self._session.can_issue:  # finance: no form, no catalog, nothing to ask Walleo
            self.status.set_connection(
                self.tr("Team history: review and export; no card is issued here"),
                ConnectionState.OK,
            )
            return
        self.refresh_catalog()

    def check_history_if_needed(self) -> None:
        """After the last use of the history ended without closing it (a crash, a kill), check
        it for damage in the background, after the first paint, and say what was found."""
        if not self._session.store.backend.needs_check():
            return
        self.show_message(self.tr("Checking the history after an unexpected stop…"))

        def checked(problems: str) -> None:
            if problems:
                self.show_error(
                    self.tr(
                        "The history file is damaged ({problems}). Nothing was changed; restore "
                        "it from a backup, or ask for help before issuing more cards."
                    ).format(problems=problems),
                    sticky=True,
                )
            else:
                self.show_message(self.tr("History checked after an unexpected stop: no damage."))

        self.ops.run("integrity", self._session.store.check_integrity, on_success=checked)

    def refresh_catalog(self) -> None:
        self._catalog_retry.stop()
        self.ops.run(
            "catalog",
            self._session.catalog.refresh,
            on_success=self._on_catalog,
            on_error=self._on_catalog_failed,
        )

    def _on_catalog(self, cards: list[GiftCard]) -> None:
        self.form.set_catalog(cards)
        self.status.set_connection(self.tr("Connected"), ConnectionState.OK)

    def _on_catalog_failed(self, exc: BaseException) -> None:
        log.warning("catalog refresh failed: %s", exc)
        reason = str(exc) or type(exc).__name__
        if isinstance(exc, TransportError | RateLimitedError):
            self._set_unreachable(reason)
        else:
            self.status.set_connection(
                self.tr("Walleo refused: {reason}").format(reason=reason), ConnectionState.ERROR
            )
        if not self._closing:
            self._catalog_retry.start()

    def _set_unreachable(self, reason: str) -> None:
        self.status.set_connection(
            self.tr("Walleo unreachable: {reason}").format(reason=reason), ConnectionState.ERROR
        )

    async def shutdown(self) -> None:
        """End the window's background work (the session itself is closed by its owner)."""
        self._stop()
        await self.ops.cancel_all()

    def _stop(self) -> None:
        if self._closing:
            return
        self._closing = True
        self._unsubscribe()
        self._unsubscribe_health()
        self.model.stop()
        self.form.shutdown()
        self._catalog_retry.stop()
        if self.history is not None:
            self._history_unsubscribe()
            self.history.shutdown()

    # ------------------------------------------------------------------ history tab

    def show_history(self) -> HistoryView:
        """Open the History tab (building the view the first time) and return the view."""
        self.tabs.setCurrentIndex(1)
        assert self.history is not None
        return self.history

    def _on_tab_changed(self, index: int) -> None:
        if index != 1 or self.history is not None or self._closing:
            return
        # Imported here: the chart library costs ~150 ms that the first paint should not pay.
        from walleo_desktop.ui.history_view import HistoryView

        view = HistoryView(
            self._session.store,
            self,
            currency=self._session.connection.currency,
            agent=self._session.engine.agent,
        )
        view.setObjectName("historyView")
        view.pull_selected.connect(self._on_history_pull)
        self.history = view
        placeholder = self._history_placeholder
        self.tabs.blockSignals(True)
        self.tabs.removeTab(1)
        self.tabs.insertTab(1, view, self.tr("H&istory"))
        self.tabs.setCurrentIndex(1)
        self.tabs.blockSignals(False)
        placeholder.deleteLater()
        # New and changed pulls reach the history too (coalesced: a refresh re-runs queries).
        self._history_unsubscribe = self._session.engine.subscribe(
            lambda _event: view.schedule_refresh()
        )

    def _on_history_pull(self, pull: PullRecord, card: CardRecord | None) -> None:
        self._shown_state = (pull.id, pull.state, pull.card_id)
        self.card_pane.show_pull(pull, card)
        self.explanation.hide()

    def request_quit(self) -> QMessageBox | None:
        """Quit; with pulls in flight, first say they are safe and ask (File → Quit, the
        title bar's close button). Returns the question when one is shown."""
        count = self._session.engine.in_flight
        if count == 0 or self._closing:
            self._quit_confirmed = True
            self.close()
            return None
        if self._quit_question is not None:  # already asking
            self._quit_question.raise_()
            self._quit_question.activateWindow()
            return self._quit_question
        if count == 1:
            text = self.tr("1 pull is still in progress.")
        else:
            text = self.tr("{count} pulls are still in progress.").format(count=count)
        box = QMessageBox(
            QMessageBox.Icon.Question,
            self.tr("Quit {app}").format(app=APP_NAME),
            text,
            QMessageBox.StandardButton.NoButton,
            self,
        )
        box.setObjectName("quitQuestion")
        box.setInformativeText(
            self.tr(
                "They are safe: they stay in the journal and resume the next time you start "
                "{app}. Quit now?"
            ).format(app=APP_NAME)
        )
        quit_button = box.addButton(self.tr("&Quit"), QMessageBox.ButtonRole.AcceptRole)
        quit_button.setObjectName("quitButton")
        cancel = box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(cancel)
        box.setEscapeButton(cancel)

        def answered(_result: int) -> None:
            self._quit_question = None
            self._forget_dialog(box)
            if box.clickedButton() is quit_button:
                self._quit_confirmed = True
                self.close()

        box.finished.connect(answered)
        self._quit_question = box
        self._keep_dialog(box)
        box.open()  # never exec(): no nested event loop under qasync
        return box

    def closeEvent(self, event: QCloseEvent) -> None:
        # The user closing the window (title bar, window manager) is a quit: ask first when
        # pulls are in flight. A close from the code (tests, reconnect) closes at once.
        if (
            event.spontaneous()
            and not self._quit_confirmed
            and not self._closing
            and self._session.engine.in_flight > 0
        ):
            event.ignore()
            self.request_quit()  # opens the question; its Quit closes the window again
            return
        if self._quit_question is not None:
            self._quit_question.reject()
        self._save_geometry()
        self._stop()
        event.accept()
        super().closeEvent(event)
        self.closed.emit()

    # ------------------------------------------------------------------ reacting to pulls

    def _on_submitted(self, pulls: list[PullRecord]) -> None:
        if not pulls:
            return
        first = pulls[0]
        self._select_when_shown = first.id
        self.show_message(
            self.tr("Issuing {count} × {brand} {amount}…").format(
                count=len(pulls),
                brand=first.gift_card_name or first.gift_card_code,
                amount=format_amount(first.amount, first.currency),
            )
        )

    def _on_batch(self, ids: list[int]) -> None:
        self.status.set_in_flight(self._session.engine.in_flight)
        if self._select_when_shown is not None and self._select_when_shown in ids:
            pull_id, self._select_when_shown = self._select_when_shown, None
            self.table.select_pull(pull_id)
        current = self.table.current_pull()
        if current is not None and current.id in ids:
            self._on_current_pull(current)
        self._update_connection_from(ids)

    def _update_connection_from(self, ids: list[int]) -> None:
        """Pull traffic says as much about the connection as the catalog does."""
        latest = [p for p in (self.model.pull(i) for i in ids) if p is not None]
        if not latest:
            return
        last = max(latest, key=lambda p: p.updated_at)
        if last.error_code in _UNREACHABLE_CODES and last.error_message:
            self._set_unreachable(last.error_message)
        elif (
            not last.error_code
            and last.state not in (PullState.QUEUED, PullState.SENDING)
            and self.status.connection.property("state") == ConnectionState.ERROR.value
        ):
            self.status.set_connection(self.tr("Connected"), ConnectionState.OK)

    def _on_current_pull(self, pull: PullRecord | None) -> None:
        self._update_actions()
        if pull is None:
            self._shown_state = None
            self.card_pane.clear()
            self.explanation.hide()
            return
        shown = (pull.id, pull.state, pull.card_id)
        if shown != self._shown_state:
            self._shown_state = shown
            if pull.card_id:  # the card comes from the database thread
                self.card_pane.show_pull(pull, None)  # "being fetched" until it is in
                self._load_card(pull)
            else:
                self.card_pane.show_pull(pull, None)
        self._show_explanation(pull)

    def _load_card(self, pull: PullRecord) -> None:
        def show(card: CardRecord | None) -> None:
            current = self.table.current_pull()
            if current is not None and current.id == pull.id and not self._closing:
                self.card_pane.show_pull(current, card)

        self.ops.run(
            f"card:{pull.id}", lambda: self._session.store.card_for_pull(pull.id), on_success=show
        )

    def _show_explanation(self, pull: PullRecord) -> None:
        text = explain(pull)
        if not text:
            self.explanation.hide()
            return
        if pull.state in _RETRYABLE:
            kind = "error"
        elif pull.state is PullState.IN_DOUBT or pull.overdue:
            kind = "warning"
        else:
            kind = "info"
        self.explanation.setStyleSheet(
            f"QLabel#pullExplanation{{{_STRIP_STYLES[kind]}border-radius:3px;padding:6px 8px;}}"
        )
        self.explanation.setProperty("kind", kind)
        self.explanation.setText(text)
        self.explanation.show()

    def _on_pull_event(self, event: PullEvent) -> None:
        """The live table: in a team, this member's pulls and those this desktop drives (a
        teammate's it took over); the whole team's are in History."""
        pull, engine = event.pull, self._session.engine
        if (
            self._session.connection.team is not None
            and pull.agent != engine.agent
            and pull.lease_owner != str(engine.owner)
            and not self.model.shows(pull.id)
        ):
            return
        self.model.enqueue(event)

    def _on_health(self, problem: str | None) -> None:
        if problem is None:
            self.health_banner.hide()
            self.show_message(self.tr("The history can be used again; pulls go on."))
            return
        self.health_banner.setText(
            self.tr(
                "{problem}\nNew pulls cannot be journaled meanwhile, so none is sent; pulls "
                "already sent keep their state and go on by themselves when it is back."
            ).format(problem=problem)
        )
        self.health_banner.show()

    def _update_actions(self) -> None:
        pull = self.table.current_pull()
        self.copy_id_action.setEnabled(pull is not None)
        self.retry_action.setEnabled(
            pull is not None and pull.state in _RETRYABLE and self._session.can_issue
        )
        self.check_now_action.setEnabled(
            pull is not None and not pull.final and (pull.state in _CHECKABLE or pull.overdue)
        )

    # ------------------------------------------------------------------ actions

    def check_now(self) -> None:
        pull = self.table.current_pull()
        if pull is None or pull.final:
            return
        if self._session.engine.check_now(pull.id):
            self.show_message(
                self.tr("Checking {request_id} now…").format(request_id=pull.request_id)
            )
        else:
            self.show_message(self.tr("This pull is not being checked right now."))

    def retry_selected(self) -> QMessageBox | None:
        """Ask, then send a new pull for the selected failed one. Returns the question box;
        None when there is nothing to ask (a pull already retried: its retry is shown)."""
        pull = self.table.current_pull()
        if pull is None or pull.state not in _RETRYABLE:
            return None
        known = self.model.retry_of(pull.id)
        if known is not None:  # one failure, one retry: never offer a second card
            self._show_retry_of(known)
            return None
        box = QMessageBox(
            QMessageBox.Icon.Question,
            self.tr("Retry as a new pull"),
            self.tr("Send a new pull for {brand} {amount}?").format(
                brand=pull.gift_card_name or pull.gift_card_code,
                amount=format_amount(pull.amount, pull.currency),
            ),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            self,
        )
        box.setObjectName("retryQuestion")
        box.setInformativeText(
            self.tr("The failed pull stays in the history; the new one gets a new request ID.")
        )
        box.setDefaultButton(QMessageBox.StandardButton.Yes)
        box.setEscapeButton(QMessageBox.StandardButton.Cancel)
        pull_id = pull.id

        def answered(result: int) -> None:
            self._forget_dialog(box)
            if result == QMessageBox.StandardButton.Yes:
                self._retry(pull_id)

        box.finished.connect(answered)
        self._keep_dialog(box)
        box.open()
        return box

    def _retry(self, pull_id: int) -> None:
        def done(new: PullRecord) -> None:
            self._select_when_shown = new.id
            self.show_message(
                self.tr("Retrying as a new pull ({request_id}).").format(request_id=new.request_id)
            )

        def failed(exc: BaseException) -> None:
            if isinstance(exc, AlreadyRetried):  # another window or process retried it first
                self._show_retry_of(exc.retry)
            elif isinstance(exc, ValueError | RuntimeError | KeyError | StoreError):
                self.show_error(str(exc))
            else:
                log.error("retry failed", exc_info=exc)
                self.show_error(self.tr("The retry could not be sent. The details are in the log."))

        self.ops.run(
            f"retry:{pull_id}",
            lambda: self._session.engine.retry(pull_id),
            trigger=self.retry_action,
            on_success=done,
            on_error=failed,
        )

    def _show_retry_of(self, retry: PullRecord) -> None:
        """A failed pull has one retry: show it (select it in the table) instead of another."""
        self.model.enqueue(PullEvent("changed", retry))
        self._select_when_shown = retry.id
        self.table.select_pull(retry.id)
        self.show_message(
            self.tr("This pull was already retried as {request_id}: showing the retry.").format(
                request_id=retry.request_id
            )
        )

    def open_shift_dialog(self) -> ShiftDialog:
        """Pulls → Close shift…: the agent's report, shown before it is stored."""
        from walleo_desktop.ui.shift_dialog import ShiftDialog  # reportlab and QtPrintSupport

        dialog = ShiftDialog(self._session.store, self.ops, self._session.engine.agent, parent=self)
        dialog.finished.connect(lambda _result: self._forget_dialog(dialog))
        self._keep_dialog(dialog)
        dialog.open()
        dialog.start()
        return dialog

    def copy_request_id(self) -> None:
        pull = self.table.current_pull()
        if pull is None:
            return
        QGuiApplication.clipboard().setText(pull.request_id)
        self.show_message(self.tr("Request ID copied."))

    def _about(self) -> None:
        from walleo_desktop.ui.about_dialog import AboutDialog

        connection = self._session.connection
        dialog = AboutDialog(
            self,
            data_dir=self._session.data_dir,
            environment=self.tr("DEMO") if connection.demo else connection.label,
        )
        dialog.finished.connect(lambda _result: self._forget_dialog(dialog))
        self._keep_dialog(dialog)
        dialog.open()

    # Favourite brands are the profile's, in the history's settings; recent brands and the
    # last amount per brand are this desktop's, in its window settings.
    RECENT_BRANDS = 5

    def _brand_key(self, name: str) -> str:
        return f"brands/{self._session.connection.profile}/{name}"

    def _load_brand_preferences(self) -> None:
        import json

        def local(name: str, default: object) -> object:
            try:
                return json.loads(str(self._settings.value(self._brand_key(name), "")))
            except ValueError:
                return default

        recents = local("recent", [])
        amounts = local("last_amounts", {})
        self._recent_brands = [str(c) for c in recents] if isinstance(recents, list) else []
        self._last_amounts = (
            {str(k): int(v) for k, v in amounts.items() if isinstance(v, int)}
            if isinstance(amounts, dict)
            else {}
        )

        def loaded(value: object) -> None:
            favourites = [str(c) for c in value] if isinstance(value, list) else []
            self.form.set_brand_preferences(favourites, self._recent_brands, self._last_amounts)

        self.form.set_brand_preferences([], self._recent_brands, self._last_amounts)
        self.ops.run(
            "favourites:load",
            lambda: self._session.store.get_setting(
                f"favourite_brands:{self._session.connection.profile}", []
            ),
            on_success=loaded,
        )

    def _remember_brand(self, pulls: list[PullRecord]) -> None:
        import json

        if not pulls:
            return
        code, amount = pulls[0].gift_card_code, pulls[0].amount
        self._recent_brands = [code, *(c for c in self._recent_brands if c != code)][
            : self.RECENT_BRANDS
        ]
        self._last_amounts[code] = amount
        self._settings.setValue(self._brand_key("recent"), json.dumps(self._recent_brands))
        self._settings.setValue(self._brand_key("last_amounts"), json.dumps(self._last_amounts))
        self.form.set_brand_preferences(
            self.form.favourites, self._recent_brands, self._last_amounts
        )

    def _save_favourites(self, favourites: list[str]) -> None:
        key = f"favourite_brands:{self._session.connection.profile}"
        self.form.set_brand_preferences(favourites, self._recent_brands, self._last_amounts)
        self._favourite_saves += 1
        self.ops.run(
            f"favourites:save:{self._favourite_saves}",
            lambda: self._session.store.set_setting(key, favourites),
        )

    def open_bulk_order(self) -> QWidget:
        """Pulls → Bulk order from a file… (one dialog at a time: shown again if open)."""
        from walleo_desktop.ui.bulk_dialog import BulkDialog

        if self.bulk_dialog is not None:
            self.bulk_dialog.raise_()
            self.bulk_dialog.activateWindow()
            return self.bulk_dialog
        dialog = BulkDialog(self._session, self.ops, self)

        def finished(_result: int) -> None:
            self.bulk_dialog = None
            self._forget_dialog(dialog)

        dialog.finished.connect(finished)
        self.bulk_dialog = dialog
        self._keep_dialog(dialog)
        dialog.open()
        return dialog

    def _open_settings(self) -> None:
        from walleo_desktop.ui.settings_dialog import SettingsDialog

        profiles = self._profiles if self._profiles is not None else Profiles()
        dialog = SettingsDialog(profiles, self)
        changed = {"profiles": False}
        dialog.profiles_changed.connect(lambda: changed.update(profiles=True))

        def finished(_result: int) -> None:
            self._forget_dialog(dialog)
            self.card_pane.clipboard.clear_after = saved_clear_after()
            if changed["profiles"]:
                # Reconnect on the profile now active. Pulls in flight stay in the journal and
                # resume whenever their own profile is in use again.
                self.reconnect_requested.emit()

        dialog.finished.connect(finished)
        self._keep_dialog(dialog)
        dialog.open()

    def open_team(self) -> QWidget:
        """Settings > Team: join, create, and (admins) manage members. Returns the dialog."""
        from walleo_desktop.ui.team_dialog import TeamDialog

        profiles = self._profiles if self._profiles is not None else Profiles()
        dialog = TeamDialog(profiles, self)
        changed = {"team": False}
        dialog.team_changed.connect(lambda: changed.update(team=True))

        def finished(_result: int) -> None:
            self._forget_dialog(dialog)
            if changed["team"]:
                self.reconnect_requested.emit()  # open the team's history (or leave it)

        dialog.finished.connect(finished)
        self._keep_dialog(dialog)
        dialog.open()
        return dialog

    def _keep_dialog(self, dialog: QWidget) -> None:
        self._dialogs.append(dialog)

    def _forget_dialog(self, dialog: QWidget) -> None:
        if dialog in self._dialogs:
            self._dialogs.remove(dialog)
            dialog.deleteLater()

    def _on_card_audit(self, card_id: str, action: str) -> None:
        pull = self.card_pane.pull
        # Who, when (the event's time) and which card: the audit trail of reveals and copies.
        self._audits += 1
        self.ops.run(
            f"audit:{self._audits}",
            lambda: self._session.store.add_event(
                pull.id if pull is not None else None,
                f"card_{action}",
                {"card_id": card_id, "agent": self._session.engine.agent},
            ),
        )

    # ------------------------------------------------------------------ messages

    def show_message(self, text: str) -> None:
        self.status.show_message(text)

    def show_error(self, text: str, *, sticky: bool = False) -> None:
        """The one place failures of background work are shown."""
        log.info("shown to the user: %s", text)
        self.status.show_message(text, error=True, sticky=sticky)
