"""The bulk-order dialog, offscreen, on the real engine and the in-process simulator: open it
from the Pulls menu, load a file, see its problems, confirm once, follow it to the end, pause,
and the results file. Async tests wait with ``await`` only (stack-notes §3)."""

from __future__ import annotations

import csv
import io

import pytest
from conftest import wait_until
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QMessageBox
from shiboken6 import isValid

from walleo_desktop.engine import Connection, PollPolicy, Session
from walleo_desktop.ui.bulk_dialog import BulkDialog
from walleo_desktop.ui.main_window import MainWindow

FAST = PollPolicy(first_check=0.05, min_interval=0.1, max_interval=0.2, slow_interval=0.5)
DEMO = Connection(profile="demo", base_url="", credentials=None, demo=True)


@pytest.fixture
async def window(tmp_path, qtbot):
    session = await Session.open(DEMO, tmp_path / "data", simulator_delay_scale=0.01, policy=FAST)
    session.simulator.config.async_error_rate = 0.0
    settings = QSettings(str(tmp_path / "window.ini"), QSettings.Format.IniFormat)
    w = MainWindow(session, settings=settings, recent=[])
    qtbot.addWidget(w)
    w.show()
    await w.start()
    await wait_until(lambda: w.form.brand.count() > 0)
    yield w
    if isValid(w):
        w.close()
    await w.shutdown()
    await session.close()


def creates(window: MainWindow) -> int:
    return window._session.simulator.pull_request_creates


async def loaded(dialog: BulkDialog, path) -> None:
    dialog.load(path)
    await wait_until(lambda: dialog.preview is not None and dialog.model.rowCount() > 0, 20)


async def test_open_load_problems_confirm_progress_and_results(window, tmp_path, monkeypatch):
    path = tmp_path / "commande.csv"
    rows = "".join(f"IKEA;20;1;K-{i}\n" for i in range(30))
    path.write_text("Marque;Montant;Quantité;Référence\n" + rows + "NOPE;50;1;X\nFNAC;12;1;Y\n")
    window.bulk_action.trigger()  # Pulls → Bulk order from a file…
    dialog = window.bulk_dialog
    assert isinstance(dialog, BulkDialog) and dialog.isVisible()
    window.bulk_button.click()  # the button near the form shows the same dialog
    assert window.bulk_dialog is dialog
    await loaded(dialog, path)
    model = dialog.model
    assert model.rowCount() == 32
    bad = model.index(30, 6)
    assert "NOPE" in model.data(bad) and model.data(bad, Qt.ItemDataRole.BackgroundRole)
    assert "steps of" in model.data(model.index(31, 6)) or "from 10" in model.data(
        model.index(31, 6)
    )
    assert model.data(model.index(0, 6)) == "Ready"
    assert "30 card(s)" in dialog.totals.text() and "600" in dialog.totals.text()
    assert "2 with problems" in dialog.message.text()
    assert creates(window) == 0  # nothing before the confirmation
    assert dialog.confirm_button.isEnabled()

    box = dialog.ask_confirmation()
    assert isinstance(box, QMessageBox) and "30 card(s)" in box.text()
    assert creates(window) == 0
    box.button(QMessageBox.StandardButton.Yes).click()
    await wait_until(lambda: dialog.results_path is not None, 30)
    assert creates(window) == 30
    assert "30 of 30 journaled" in dialog.progress_text.text()
    assert "30 issued" in dialog.progress_text.text()
    assert dialog.progress_bar.value() == 30
    text = dialog.results_path.read_text("utf-8-sig")
    written = list(csv.DictReader(io.StringIO(text), delimiter=";"))
    assert [w["status"] for w in written].count("issued") == 30
    assert [w["status"] for w in written[-2:]] == ["problem", "problem"]
    opened = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url) or True)
    dialog.open_results_button.click()
    assert opened and opened[0].toLocalFile() == str(dialog.results_path)

    # the same file again: said, and its rows are only issued again when ticked
    await loaded(dialog, path)
    assert "was imported on" in dialog.message.text()
    assert dialog.include_duplicates.isVisible() and not dialog.include_duplicates.isChecked()
    assert not dialog.confirm_button.isEnabled()
    assert "Already issued on" in model.data(model.index(0, 6))
    dialog.include_duplicates.setChecked(True)
    assert dialog.confirm_button.isEnabled() and "30 card(s)" in dialog.totals.text()


async def test_pause_holds_the_order_and_resume_finishes_it(window, tmp_path):
    path = tmp_path / "order.csv"
    path.write_text("brand,amount,reference\n" + "".join(f"IKEA,20,P-{i}\n" for i in range(60)))
    dialog = window.open_bulk_order()
    dialog.chunk_cards = 10
    await loaded(dialog, path)
    dialog.start(include_duplicates=False)
    dialog.toggle_pause()
    assert dialog.run.paused and dialog.pause_button.text() == "&Resume"
    await wait_until(lambda: dialog.run.progress.issued == dialog.run.progress.journaled, 30)
    held = dialog.run.progress
    assert held.journaled < 60 and held.waiting > 0
    assert "paused" in dialog.progress_text.text()
    dialog.reject()  # cannot be closed while the order runs
    assert dialog.isVisible()
    dialog.toggle_pause()
    await wait_until(lambda: dialog.results_path is not None, 120)
    assert creates(window) == 60


async def test_a_big_preview_is_counted_off_the_window_and_only_painted_rows_are_built(
    window, tmp_path
):
    # Nothing on the GUI thread walks the rows: the counts come from the preview's summary
    # (made in the preview's thread) and the model builds a row only in data().
    path = tmp_path / "big.csv"
    lines = "".join(f"IKEA;20;1;B-{i}\n" for i in range(5000)) + "NOPE;5;1;X\n"
    path.write_text("Marque;Montant;Quantité;Référence\n" + lines)
    dialog = window.open_bulk_order()
    await loaded(dialog, path)
    assert "5001 row(s): 5000 ready, 1 with problems" in dialog.message.text()
    assert "Total: 5000 card(s)" in dialog.totals.text()
    built = [r.number for r in dialog.preview.rows.built()]
    assert len(built) < 200, len(built)  # at most what a view paints, never the 5,001
    model = dialog.model
    assert model.data(model.index(5000, 6)).startswith("No brand")
    assert 5002 in [r.number for r in dialog.preview.rows.built()]
