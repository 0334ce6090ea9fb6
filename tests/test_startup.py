"""The window's first paint waits for nothing it does not need (issue 11, start-up).

A real ``walleo-desktop`` process (offscreen, ``WALLEO_SMOKE_TEST=first-paint``) notes which
modules are loaded at the moment its window first paints, then closes. What only later work
needs (team mode and PostgreSQL, sqlite-utils and the numpy it drags in, the simulator's web
stack outside demo mode, e-mail, printing, the settings and About dialogs, the history tab's
chart, exports and bulk orders, httpx itself before the first request) must not be among them.
``bench/bench_startup.py`` measures what this buys.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from walleo_desktop.simulator import DEMO_CREDENTIALS

# Runs the app's own entry point; at the window's first paint (the smoke hook's), writes the
# names of the modules loaded then to the file named by argv[1].
DRIVER = """
import json, sys
from walleo_desktop import cli
from walleo_desktop.ui import app

out = sys.argv[1]
hook = app._smoke_test

def smoke(window, **options):
    from PySide6.QtCore import QEvent, QObject

    class Snapshot(QObject):
        def eventFilter(self, watched, event):
            if event.type() == QEvent.Type.Paint:
                window.removeEventFilter(self)
                with open(out, "w") as fh:
                    json.dump(sorted(sys.modules), fh)
            return False

    window.installEventFilter(Snapshot(window))
    hook(window, **options)

app._smoke_test = smoke
sys.exit(cli.main(sys.argv[2:]))
"""

# Never on the first paint's path, whatever the connection.
LATE = (
    "walleo_desktop.cli_team",
    "walleo_desktop.engine.team",
    "walleo_desktop.store.postgres",
    "psycopg",
    "psycopg_pool",
    "sqlite_utils",  # the schema is up to date: opening needs sqlite3 alone
    "numpy",
    "pyqtgraph",
    "walleo_desktop.ui.history_view",
    "walleo_desktop.ui.chart_view",
    "walleo_desktop.ui.settings_dialog",
    "walleo_desktop.ui.about_dialog",
    "walleo_desktop.ui.team_dialog",
    "walleo_desktop.ui.bulk_dialog",
    "walleo_desktop.ui.shift_dialog",
    "walleo_desktop.ui.export_dialog",
    "walleo_desktop.ui.card_print",
    "PySide6.QtPrintSupport",
    "PySide6.QtPdf",  # the card's PDF view is made when a PDF is first opened
    "PySide6.QtPdfWidgets",
    "walleo_desktop.engine.connection_test",
    "walleo_desktop.engine.bulk",
    "walleo_desktop.store.export",
    "walleo_desktop.store.export_xlsx",
    "xlsxwriter",
    "python_calamine",
    "reportlab",
    "aiosmtplib",
    "walleo_desktop.simulator._app",  # outside demo mode
    "walleo_desktop.simulator._server",
    "starlette",
    "uvicorn",
)


def _first_paint_modules(tmp_path: Path, env: dict[str, str], data: Path) -> set[str]:
    out = tmp_path / "modules.json"
    out.unlink(missing_ok=True)
    done = subprocess.run(
        [sys.executable, "-c", DRIVER, str(out), "--data-dir", str(data)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "first paint at" in done.stderr, done.stderr
    return set(json.loads(out.read_text()))


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WALLEO_")}
    env.update(
        QT_QPA_PLATFORM="offscreen",
        PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring",
        WALLEO_SMOKE_TEST="first-paint",
        **extra,
    )
    return env


def _loaded(modules: set[str], names: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if m in names or m.startswith(tuple(n + "." for n in names)))


@pytest.mark.slow
def test_an_account_over_https_paints_before_anything_it_does_not_need(tmp_path: Path) -> None:
    """A real account (credentials in the environment, https): not even httpx yet."""
    env = _env(
        # Nothing listens there: the catalog refresh fails after the first paint.
        WALLEO_BASE_URL="https://127.0.0.1:9/partners/v1",
        WALLEO_API_KEY=DEMO_CREDENTIALS.api_key,
        WALLEO_IDENTIFIER=DEMO_CREDENTIALS.identifier,
        WALLEO_SHARED_KEY=DEMO_CREDENTIALS.shared_key,
    )
    data = tmp_path / "data"
    created = _first_paint_modules(tmp_path, env, data)  # a new history: its schema is made
    assert "sqlite_utils" in created
    modules = _first_paint_modules(tmp_path, env, data)
    assert (data / "history.sqlite3").exists()
    assert _loaded(modules, (*LATE, "walleo_desktop.simulator", "httpx", "httpcore")) == []
    # What the first paint does need is there (the check above would pass on a broken run).
    assert {"walleo_desktop.ui.main_window", "walleo_desktop.store.sqlite.backend"} <= modules


@pytest.mark.slow
def test_a_simulator_on_this_machine_paints_without_the_simulators_web_stack(
    tmp_path: Path,
) -> None:
    """``WALLEO_BASE_URL`` on 127.0.0.1 without credentials: the demo credentials come from
    ``simulator._demo``; Starlette, uvicorn and the card renderer stay unloaded."""
    env = _env(WALLEO_BASE_URL="http://127.0.0.1:9/partners/v1")
    data = tmp_path / "data"
    _first_paint_modules(tmp_path, env, data)
    modules = _first_paint_modules(tmp_path, env, data)
    assert _loaded(modules, LATE) == []
    assert "walleo_desktop.simulator._demo" in modules
