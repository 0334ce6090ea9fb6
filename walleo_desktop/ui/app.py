"""Start-up and shutdown of the window: ``walleo-desktop`` with no command.

Order matters, and each step is bounded:

1. one ``QApplication`` and one qasync loop for the whole run (stack-notes §3);
2. the connection is resolved *off the GUI thread*, with a timeout: a locked or hung keyring
   cannot freeze the app; on any failure the app falls back to the built-in simulator (DEMO)
   and says why in the status bar;
3. the session is opened (the local history); a history the app cannot use (newer schema,
   damaged file) is explained in a message box and the app exits with code 2;
4. the window is shown before any network call, then the journal's unfinished pulls resume and
   the catalog refreshes in the background;
5. closing the window closes the session (engine, HTTP client, history). Pulls still in flight
   stay in the journal and resume at the next start.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import logging
import os
import sys
from pathlib import Path

import qasync
from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QApplication, QMessageBox

from walleo_desktop import APP_ID, APP_NAME, __version__
from walleo_desktop.api.errors import ConfigurationError
from walleo_desktop.engine import Connection, Profiles, Session, history_path, resolve_connection
from walleo_desktop.engine.datakey import DataKey, keyring_timeout, load_data_key
from walleo_desktop.store import StoreError, default_data_dir
from walleo_desktop.ui.async_ops import call_in_thread
from walleo_desktop.ui.i18n import install_translator
from walleo_desktop.ui.icons import app_icon
from walleo_desktop.ui.main_window import RECENT_PULLS, MainWindow
from walleo_desktop.ui.session_credentials import session_credentials

__all__ = [
    "EXIT_CONFIG",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "KEYRING_TIMEOUT",
    "configure_application",
    "key_warning",
    "main",
    "run",
]

log = logging.getLogger("walleo.ui.app")

EXIT_OK, EXIT_CONFIG, EXIT_INTERRUPTED = 0, 2, 3
KEYRING_TIMEOUT = 20.0  # seconds: long enough to type an unlock password, short enough to notice


def _tr(text: str) -> str:
    return QCoreApplication.translate("App", text)


def run(args: argparse.Namespace) -> int:
    """Run the window until it is closed. Returns the process exit code."""
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv[:1])
    configure_application(app, getattr(args, "language", None))
    # The window's `closed` signal ends the run, after the session is closed: Qt must not quit
    # the loop under our feet when the last window goes.
    app.setQuitOnLastWindowClosed(False)
    try:
        return asyncio.run(main(args), loop_factory=lambda: qasync.QEventLoop(app))
    except KeyboardInterrupt:
        log.warning("interrupted; unfinished pulls stay in the journal and resume next start")
        return EXIT_INTERRUPTED


def configure_application(app: QApplication, language: str | None = None) -> None:
    """Name, icon and language of the application; before any widget is built.

    No ``applicationDisplayName``: on X11 and Windows, Qt appends it to every window title
    that does not already end with it, and the main window's title starts with the app's name
    ("Walleo Desktop — DEMO", not "Walleo Desktop — DEMO — Walleo Desktop").
    """
    app.setApplicationName(APP_NAME)
    app.setOrganizationName("Walleo")
    app.setApplicationVersion(__version__)
    app.setDesktopFileName(APP_ID)
    app.setWindowIcon(app_icon())
    install_translator(app, language)  # texts are translated when widgets are built


async def main(args: argparse.Namespace, **session_options: object) -> int:
    """The app's life on a running qasync loop. ``session_options`` go to ``Session.open``.

    After Settings changed the profiles, the window asks to reconnect: the session is closed
    (unfinished pulls stay journaled) and a new one opens on the now active profile.
    """
    profiles = Profiles()
    profile_name = getattr(args, "profile", None)
    data_dir = getattr(args, "data_dir", None) or default_data_dir()
    while True:
        connection, problem = await resolve_connection_safely(profiles, profile_name)
        try:
            data_key = (
                None  # a team's keys come with its member's login (Session.open)
                if connection.team is not None
                else await load_data_key_safely(history_path(data_dir, connection))
            )
            session = await Session.open(
                connection,
                data_dir,
                profiles=profiles,
                data_key=data_key,
                **session_options,  # type: ignore[arg-type]
            )
        except (StoreError, ConfigurationError) as exc:
            if connection.team is None:
                log.error("cannot open the session: %s", exc)
                await show_fatal(_tr("Walleo Desktop cannot start"), str(exc))
                return EXIT_CONFIG
            # Not approved yet, server away, login removed: the window still opens (on the
            # demo, said plainly) so that Settings > Team can say more and the user can act.
            log.error("cannot open the team's history: %s", exc)
            problem = _tr(
                "The team's history cannot be opened: {reason} Running on the built-in "
                "simulator (DEMO) meanwhile: no real cards are issued. File > Team… shows "
                "your membership."
            ).format(reason=str(exc))
            connection = Connection(
                profile="demo", base_url="", credentials=None, demo=True, source="demo"
            )
            try:
                session = await Session.open(
                    connection,
                    data_dir,
                    profiles=profiles,
                    data_key=await load_data_key_safely(history_path(data_dir, connection)),
                    **session_options,  # type: ignore[arg-type]
                )
            except (StoreError, ConfigurationError) as again:
                await show_fatal(_tr("Walleo Desktop cannot start"), str(again))
                return EXIT_CONFIG
        try:
            # A team's live table is this member's pulls (the team's are in History).
            mine = session.engine.agent if session.connection.team is not None else None
            recent = await session.store.recent_pulls(RECENT_PULLS, agent=mine)
        except StoreError as exc:
            await session.close()
            log.error("cannot read the history: %s", exc)
            await show_fatal(_tr("Walleo Desktop cannot start"), str(exc))
            return EXIT_CONFIG

        window = MainWindow(session, recent=recent, profiles=profiles)
        outcome: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        window.closed.connect(functools.partial(_settle, outcome, "closed"))
        window.reconnect_requested.connect(functools.partial(_settle, outcome, "reconnect"))
        try:
            window.show()
            settle_garbage_collector()
            smoke = os.environ.get("WALLEO_SMOKE_TEST")
            if smoke in ("1", "first-paint"):
                _smoke_test(window, close_after_ms=1000 if smoke == "1" else 0)
            if problem:  # the fallback to demo mode: say why, until something else is said
                window.show_error(problem, sticky=True)
                window.status.environment.setToolTip(problem)
            warning = key_warning(session.data_key)
            if warning:  # the history's key is in a file: never silently
                window.show_error(" ".join(t for t in (problem, warning) if t), sticky=True)
            window.check_history_if_needed()  # after a crash: in the background, said
            try:
                await window.start()
            except StoreError as exc:  # the pulls stay journaled; the next start tries again
                log.error("resuming unfinished pulls failed: %s", exc)
                window.show_error(str(exc))
            result = await outcome
        finally:
            await window.shutdown()
            await session.close()
            window.deleteLater()
        if result != "reconnect":
            return EXIT_OK
        profile_name = None  # from now on, follow the profile made active in Settings
        log.info("reconnecting after a profile change")


def settle_garbage_collector() -> None:
    """Once the window is up: what start-up made (modules, Qt wrappers, the catalog, the
    window) lives as long as the app, so it moves to the collector's permanent generation
    (``gc.freeze``). A full collection, which stops every thread and the GUI with them, then
    reads only what was made since: while the window drives 1,000 pulls, it took 80 ms
    (bench/bench_gui_lag.py)."""
    import gc

    gc.collect()
    gc.freeze()


def key_warning(data_key: DataKey | None) -> str:
    """What the window says when the history's key is in its fallback file ('' otherwise):
    ``DataKey.warning`` in the window's own, translated words (the engine's are English)."""
    if data_key is None or not data_key.fallback:
        return ""
    return _tr(
        "No system keyring is available: the key that encrypts the card codes in your history "
        "is stored in the file {file} (readable by your user only). Anyone who can read your "
        "files can read the codes. Set up a keyring (GNOME Keyring, KWallet) and restart: the "
        "key moves there by itself."
    ).format(file=data_key.file)


async def resolve_connection_safely(
    profiles: Profiles, profile_name: str | None, *, seconds: float = KEYRING_TIMEOUT
) -> tuple[Connection, str]:
    """The connection to use, and a sentence when it is not the one asked for ('' otherwise).

    Reading credentials may block on the OS keyring (locked collection, prompt nobody answers):
    it runs in a daemon thread, bounded by ``seconds``. Any failure falls back to demo mode.
    """
    try:
        async with asyncio.timeout(seconds):
            connection = await call_in_thread(
                functools.partial(resolve_connection, session_credentials=session_credentials.get),
                profiles,
                profile_name,
            )
        return connection, ""
    except TimeoutError:
        reason = _tr("the system keyring did not answer within {seconds} s").format(
            seconds=int(seconds)
        )
    except ConfigurationError as exc:
        reason = str(exc)
    except Exception as exc:  # a broken keyring backend must not stop the app
        log.exception("resolving the connection failed")
        reason = type(exc).__name__
    log.warning("falling back to demo mode: %s", reason)
    demo = Connection(profile="demo", base_url="", credentials=None, demo=True, source="demo")
    return demo, _tr(
        "Could not use your Walleo profile ({reason}). Running on the built-in simulator "
        "(DEMO): no real cards are issued."
    ).format(reason=reason.rstrip("."))


async def load_data_key_safely(history: Path, *, seconds: float = KEYRING_TIMEOUT) -> DataKey:
    """The key of the history at ``history`` (``engine.datakey``), read in a daemon thread and
    bounded by ``seconds``: the keyring may block. ``KeyUnavailableError`` (a ``StoreError``)
    when it does not answer in time."""
    try:
        async with asyncio.timeout(seconds):
            return await call_in_thread(load_data_key, history)
    except TimeoutError:
        raise keyring_timeout(seconds) from None


async def show_fatal(title: str, text: str) -> None:
    """A critical message box, opened (never exec'd inside a coroutine) and awaited."""
    box = QMessageBox(QMessageBox.Icon.Critical, title, text, QMessageBox.StandardButton.Close)
    box.setObjectName("fatalError")
    done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    box.finished.connect(lambda _result: _settle(done))
    box.open()
    try:
        await done
    finally:
        box.deleteLater()


def _settle[T](future: asyncio.Future[T], value: T = None) -> None:  # type: ignore[assignment]
    if not future.done():
        future.set_result(value)


def _smoke_test(window: MainWindow, *, close_after_ms: int = 1000) -> None:
    """``WALLEO_SMOKE_TEST=1`` (packaging tests, not for users): print "window shown: <title>" on
    stderr at the first paint, then close the window a second later (the run ends with 0).
    ``WALLEO_SMOKE_TEST=first-paint`` (bench/bench_startup.py) closes it at once. Both also print
    "first paint at <seconds since the epoch>", taken when the window's first paint begins."""
    import time

    from PySide6.QtCore import QEvent, QObject, QTimer

    class FirstPaint(QObject):
        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint:
                at = time.time()
                window.removeEventFilter(self)
                print(f"window shown: {window.windowTitle()}", file=sys.stderr, flush=True)
                print(f"first paint at {at:.6f}", file=sys.stderr, flush=True)
                QTimer.singleShot(close_after_ms, window.close)
            return False

    window.installEventFilter(FirstPaint(window))
