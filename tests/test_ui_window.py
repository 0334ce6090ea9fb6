"""The desktop window: keyboard-only pulls, the live table, error and in-doubt paths, start-up.

Async tests drive the real engine against the in-process simulator (demo connection, fast poll
policy, short simulated delays). They wait with ``await`` (conftest ``wait_until`` /
``wait_signal``), never with ``qtbot.wait*`` (stack-notes §3); sync tests may use qtbot waits.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import confirm, wait_until
from PySide6.QtCore import QLocale, QModelIndex, QSettings, Qt
from PySide6.QtGui import QContextMenuEvent, QGuiApplication, QKeySequence
from PySide6.QtTest import QAbstractItemModelTester
from PySide6.QtWidgets import QApplication, QMessageBox, QPushButton, QWidget
from shiboken6 import isValid

from walleo_desktop.api.errors import NotSentError
from walleo_desktop.engine import (
    Connection,
    PollPolicy,
    Profile,
    Profiles,
    PullEvent,
    Session,
    history_path,
    new_request_id,
)
from walleo_desktop.store.records import NewPull, PullRecord, PullState
from walleo_desktop.store.sqlite import open_core
from walleo_desktop.ui.app import main as app_main
from walleo_desktop.ui.app import resolve_connection_safely
from walleo_desktop.ui.async_ops import AsyncOps
from walleo_desktop.ui.main_window import MainWindow
from walleo_desktop.ui.pull_table_model import (
    PULL_ROLE,
    TICK_BUSY_MS,
    TICK_IDLE_MS,
    Columns,
    PullTableModel,
    explain,
    format_amount,
    format_duration,
)
from walleo_desktop.ui.pull_table_view import PullTableView

FAST = PollPolicy(first_check=0.05, min_interval=0.1, max_interval=0.2, slow_interval=0.5)
DEMO = Connection(profile="demo", base_url="", credentials=None, demo=True)


# ---------------------------------------------------------------------------------- helpers


def make_pull(pull_id: int, state: PullState = PullState.WAITING, **kw: object) -> PullRecord:
    now = datetime.now(UTC)
    values: dict[str, object] = {
        "id": pull_id,
        "request_id": f"wd-test-{pull_id}",
        "gift_card_code": "FNAC",
        "gift_card_name": "Fnac",
        "amount": 50,
        "currency": "EUR",
        "state": state,
        "created_at": now - timedelta(seconds=pull_id),
        "updated_at": now,
    }
    values.update(kw)
    return PullRecord(**values)  # type: ignore[arg-type]


def focused() -> QWidget:
    widget = QApplication.focusWidget()
    assert widget is not None, "nothing has the keyboard focus"
    return widget


def type_text(qtbot, text: str) -> None:
    qtbot.keyClicks(focused(), text)


def press(qtbot, key: Qt.Key, modifier: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier):
    qtbot.keyClick(focused(), key, modifier)


def posts(session: Session) -> list:
    return [r for r in session.simulator.records if r.method == "POST"]


def choose(window: MainWindow, code: str, amount: int) -> None:
    """Pick a brand and amount through the widgets (for tests that are not about the keyboard)."""
    form = window.form
    form.brand.setCurrentIndex(form.brand.findData(code))
    if form.amount.currentWidget() is form.amount_choice:
        form.amount_choice.setCurrentIndex(form.amount_choice.findData(amount))
    else:
        form.amount_spin.setValue(amount)


async def retries_of(session: Session, pull_id: int, timeout: float = 5.0) -> list[PullRecord]:
    """The retries of ``pull_id``, once there is one (a retry is journaled on the database
    thread after the question is answered)."""
    found: list[PullRecord] = []

    async def look() -> None:
        found[:] = await session.store.retries_of(pull_id)

    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        await look()
        if found or asyncio.get_running_loop().time() > deadline:
            return found
        await asyncio.sleep(0.02)


async def wait_state(window: MainWindow, pull_id: int, state: PullState, timeout: float = 10):
    def reached() -> bool:
        pull = window.model.pull(pull_id)
        return pull is not None and pull.state is state

    await wait_until(reached, timeout)
    return window.model.pull(pull_id)


# ---------------------------------------------------------------------------------- fixtures


@pytest.fixture
async def session(tmp_path):
    s = await Session.open(DEMO, tmp_path / "data", simulator_delay_scale=0.01, policy=FAST)
    s.simulator.config.async_error_rate = 0.0  # some demo brands fail at random; tests choose
    yield s
    await s.close()


@pytest.fixture
def window_ini(tmp_path) -> QSettings:
    return QSettings(str(tmp_path / "window.ini"), QSettings.Format.IniFormat)


async def open_window(session: Session, qtbot, settings: QSettings) -> MainWindow:
    window = MainWindow(session, settings=settings, recent=await session.store.recent_pulls(500))
    qtbot.addWidget(window)
    window.show()
    window.activateWindow()
    await window.start()
    await wait_until(lambda: window.form.brand.count() > 0)
    return window


@pytest.fixture
async def window(session, qtbot, window_ini):
    w = await open_window(session, qtbot, window_ini)
    yield w
    # pytest-qt closes (and may already have deleted) the widgets it was given before this
    # teardown runs; closing stopped the window's work, shutdown() ends its tasks.
    if isValid(w):
        w.close()
    await w.shutdown()


# ---------------------------------------------------------------------------------- explain()


@pytest.mark.parametrize(
    ("state", "code", "message", "expected"),
    [
        (
            PullState.REJECTED,
            "out_of_stock",
            "Out of stock gift card 'FNAC'",
            "Try another amount or brand",
        ),
        (PullState.REJECTED, "not_enough_funds", "", "Top up your account, then retry"),
        (
            PullState.REJECTED,
            "unauthorized",
            "Not authorized",
            "Check the profile's credentials in Settings",
        ),
        (
            PullState.REJECTED,
            "invalid_signature",
            "Your request does not match your signature",
            "shared key",
        ),
        (
            PullState.REJECTED,
            "invalid_signature",
            "Your request does not match your signature. This computer's clock is 5 min behind "
            "Walleo's: set the clock right (automatic time) and try again.",
            "set the clock right",
        ),
        (
            PullState.REJECTED,
            "invalid_amount",
            "Amount must be one of 25, 50 or 100.",
            "25, 50 or 100",
        ),
        (PullState.REJECTED, "gift_card_not_found", "", "Refresh the catalog"),
        (PullState.REJECTED, "something_new", "Odd refusal", "Odd refusal"),
        (PullState.ERROR, "pull_error", "", "nothing was charged. Retry to send a new pull"),
        (PullState.IN_DOUBT, "ambiguous", "timed out", "Do not issue it again"),
        (PullState.QUEUED, "not_sent", "Walleo cannot be reached.", "sends it again by itself"),
        (PullState.WAITING, "transport", "Connection reset.", "keeps checking"),
    ],
)
def test_explain_gives_reason_and_next_step(state, code, message, expected):
    text = explain(make_pull(1, state, error_code=code, error_message=message))
    assert expected in text


def test_explain_is_silent_when_all_is_well():
    assert explain(make_pull(1, PullState.SUCCESS)) == ""
    assert explain(make_pull(1, PullState.WAITING)) == ""
    assert "30 minutes" in explain(make_pull(1, PullState.WAITING, overdue=True))


def test_formats():
    assert format_duration(12.7) == "12 s"
    assert format_duration(185) == "3 min"
    assert format_duration(7300) == "2 h"
    assert format_duration(3 * 86400) == "3 d"
    assert format_amount(50, "EUR") == "€50"  # the C locale reads as English (en_GB)
    assert format_amount(1234.5, "EUR", QLocale("fr_FR")) == "1\u202f234,50\u00a0€"
    assert "CHF" in format_amount(12.5, "CHF")


# ---------------------------------------------------------------------------------- model


def test_model_passes_the_item_model_tester_while_rows_change(qapp):
    model = PullTableModel([make_pull(1), make_pull(2, PullState.SUCCESS)])
    QAbstractItemModelTester(model, QAbstractItemModelTester.FailureReportingMode.Fatal)
    model.enqueue(PullEvent("added", make_pull(3, PullState.QUEUED)))
    model.enqueue(PullEvent("changed", make_pull(1, PullState.PROCESSING)))
    model.flush()
    queued = model.data(model.index(model.row_of(3), Columns.STATUS))  # its texts are kept
    model.enqueue(PullEvent("changed", make_pull(3, PullState.SUCCESS)))
    model.enqueue(PullEvent("added", make_pull(4, PullState.QUEUED)))
    model.enqueue(PullEvent("changed", make_pull(4, PullState.ERROR, error_code="pull_error")))
    model.flush()
    assert [model.pull_at(r).id for r in range(model.rowCount())] == [4, 3, 2, 1]
    assert model.pull_at(0).state is PullState.ERROR  # the last event of a batch wins
    status = model.index(0, Columns.STATUS)
    assert model.data(status) == "Error"
    assert "nothing was charged" in model.data(status, Qt.ItemDataRole.ToolTipRole)
    assert model.data(status, PULL_ROLE).id == 4
    assert model.data(model.index(0, Columns.AMOUNT)) == "€50"
    issued = model.data(model.index(model.row_of(3), Columns.STATUS))
    assert issued != queued and issued == model.data(model.index(2, Columns.STATUS))  # a change
    assert model.rowCount(model.index(0, 0)) == 0 and model.columnCount() == len(Columns)


def test_500_events_in_one_tick_make_one_insert_batch(qtbot):
    model = PullTableModel()
    inserts: list[tuple[int, int]] = []
    resets: list[int] = []
    model.rowsInserted.connect(lambda _parent, first, last: inserts.append((first, last)))
    model.modelReset.connect(lambda: resets.append(1))
    for i in range(1, 501):
        model.enqueue(PullEvent("added", make_pull(i, PullState.QUEUED)))
    assert model.rowCount() == 0 and model.pending == 500  # nothing applied yet
    with qtbot.waitSignal(model.batch_applied, timeout=2000) as blocker:
        pass
    assert len(blocker.args[0]) == 500
    assert inserts == [(0, 499)] and resets == []
    assert model.pull_at(0).id == 500  # newest first


def test_changes_are_one_datachanged_per_run_of_rows_with_roles(qtbot):
    model = PullTableModel([make_pull(i) for i in range(1, 11)])
    changes: list[tuple[int, int, int, int, list]] = []
    model.dataChanged.connect(
        lambda tl, br, roles: changes.append((tl.row(), br.row(), tl.column(), br.column(), roles))
    )
    for pid in (10, 9, 8, 2):  # rows 0, 1, 2 and 8
        model.enqueue(PullEvent("changed", make_pull(pid, PullState.PROCESSING)))
    model.flush()
    assert [(c[0], c[1]) for c in changes] == [(0, 2), (8, 8)]
    assert all(c[2] == 0 and c[3] == len(Columns) - 1 for c in changes)
    assert all(Qt.ItemDataRole.DisplayRole in c[4] for c in changes)


def test_age_timer_touches_only_the_time_columns_and_slows_down_when_idle(qtbot):
    model = PullTableModel([make_pull(1, PullState.WAITING), make_pull(2, PullState.SUCCESS)])
    timer = model._tick_timer
    assert timer.isActive() and timer.interval() == TICK_BUSY_MS
    changes: list[tuple[int, int]] = []
    model.dataChanged.connect(lambda tl, br, _roles: changes.append((tl.column(), br.column())))
    with qtbot.waitSignal(model.dataChanged, timeout=3000):
        pass
    assert changes[0] == (Columns.AGE, Columns.NEXT_CHECK)
    model.enqueue(PullEvent("changed", make_pull(1, PullState.SUCCESS)))
    model.flush()
    assert model.unfinished == 0 and timer.interval() == TICK_IDLE_MS
    model.stop()
    assert not timer.isActive()


def test_next_check_and_age_columns(qapp):
    now = datetime.now(UTC)
    pull = make_pull(
        1, created_at=now - timedelta(seconds=125), next_check_at=now + timedelta(seconds=4.5)
    )
    model = PullTableModel([pull], clock=lambda: now)
    assert model.data(model.index(0, Columns.AGE)) == "2 min"
    assert model.data(model.index(0, Columns.NEXT_CHECK)) == "in 4 s"
    model.stop()


def test_a_thousand_pulls_in_flight_stay_cheap(qtbot):
    pulls = [make_pull(i, PullState.WAITING) for i in range(1, 1001)]
    model = PullTableModel(pulls)
    view = PullTableView()
    qtbot.addWidget(view)
    view.setModel(model)
    view.resize(1000, 600)
    view.show()
    QApplication.processEvents()
    started = time.perf_counter()
    for _ in range(5):  # five batches in which every pull changed
        for p in pulls:
            model.enqueue(PullEvent("changed", replace(p, state=PullState.PROCESSING)))
        model.flush()
        model._tick()
        QApplication.processEvents()
    elapsed = time.perf_counter() - started
    model.stop()
    # Measured about 0.1 s on a 2-core machine; the bound only catches per-row work creeping in.
    assert elapsed < 2.0, f"5 × 1000 changes took {elapsed:.2f} s"


# ---------------------------------------------------------------------------------- the window


async def test_whole_pull_from_the_keyboard(window, session, qtbot):
    form = window.form
    press(qtbot, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)  # Pulls > New pull
    assert focused() is form.brand
    type_text(qtbot, "fnac")
    press(qtbot, Qt.Key.Key_Tab)
    assert form.gift_card() is not None and form.gift_card().code == "FNAC"
    assert focused() is form.amount_spin  # Fnac takes any amount in a range
    press(qtbot, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    type_text(qtbot, "50")
    press(qtbot, Qt.Key.Key_Tab)
    assert focused() is form.quantity
    press(qtbot, Qt.Key.Key_Tab)
    assert focused() is form.reference
    type_text(qtbot, "TICKET-42")
    press(qtbot, Qt.Key.Key_Return)
    assert form.confirming
    assert form.confirm_text.text().startswith("Issue 1 × Fnac €50 = €50?")
    assert focused() is form.confirm_button
    assert posts(session) == []  # nothing is sent before the confirmation
    press(qtbot, Qt.Key.Key_Return)
    assert not form.confirming
    # Journaled on the database thread; then the form keeps brand and amount, clears the
    # reference and waits for the next one.
    await wait_until(lambda: form.reference.text() == "")
    assert form.gift_card().code == "FNAC" and form.amount_value() == 50
    assert form.reference.text() == "" and focused() is form.reference

    (pull,) = await session.store.recent_pulls(10)
    assert pull.reference == "TICKET-42" and pull.amount == 50
    await wait_until(lambda: window.table.current_pull() is not None)
    assert window.table.current_pull().id == pull.id  # the new pull is selected...
    assert focused() is form.reference  # ... without taking the keyboard away
    done = await wait_state(window, pull.id, PullState.SUCCESS)
    await wait_until(lambda: window.card_pane.card is not None)
    assert window.card_pane.pull.id == pull.id and window.card_pane.card.card_id == done.card_id
    assert len(posts(session)) == 1
    assert window.status.environment.text() == "DEMO"
    assert window.status.connection.text() == "Connected"


async def test_mnemonics_reach_every_field_and_enter_works_from_any_of_them(window, qtbot):
    form = window.form
    choose(window, "FNAC", 20)
    for key, target in [
        (Qt.Key.Key_B, form.brand),
        (Qt.Key.Key_A, form.amount_spin),
        (Qt.Key.Key_Q, form.quantity),
        (Qt.Key.Key_R, form.reference),
        (Qt.Key.Key_N, form.note),
    ]:
        press(qtbot, key, Qt.KeyboardModifier.AltModifier)
        assert focused() is target, key
    for field in (form.amount_spin, form.quantity, form.note, form.brand):
        field.setFocus()
        press(qtbot, Qt.Key.Key_Return)
        assert form.confirming, field.objectName()
        press(qtbot, Qt.Key.Key_Escape)
        assert not form.confirming


async def test_escape_cancels_and_repeated_enter_never_issues_twice(window, session, qtbot):
    form = window.form
    choose(window, "SEPHORA", 50)
    form.reference.setFocus()
    press(qtbot, Qt.Key.Key_Return)
    assert form.confirming and not form.fields.isEnabled()
    press(qtbot, Qt.Key.Key_Escape)
    assert not form.confirming and form.fields.isEnabled()
    assert await session.store.recent_pulls(10) == []
    form.reference.setFocus()
    press(qtbot, Qt.Key.Key_Return)
    press(qtbot, Qt.Key.Key_Backtab)  # from "Yes, issue" to Cancel
    assert focused() is form.cancel_button
    press(qtbot, Qt.Key.Key_Return)  # Enter on Cancel cancels
    assert not form.confirming
    assert await session.store.recent_pulls(10) == []
    form.quantity.setValue(3)
    form.reference.setFocus()
    press(qtbot, Qt.Key.Key_Return)
    assert form.confirm_text.text().startswith("Issue 3 × Sephora €50 = €150?")
    press(qtbot, Qt.Key.Key_Return)  # confirm
    await wait_until(lambda: form.quantity.value() == 1)  # journaled: the form is reset
    assert len(await session.store.recent_pulls(10)) == 3
    press(qtbot, Qt.Key.Key_Return)  # the next Enter only asks again, for one card this time
    assert form.confirming
    assert form.confirm_text.text().startswith("Issue 1 × Sephora €50 = €50?")
    assert len(await session.store.recent_pulls(10)) == 3
    press(qtbot, Qt.Key.Key_Escape)
    assert not form.confirming


async def test_invalid_amount_is_refused_before_anything_is_sent(window, session, qtbot):
    form = window.form
    form.brand.setCurrentIndex(form.brand.findData("FNAC"))  # 10 to 500 in steps of 5
    form.amount_spin.setFocus()
    press(qtbot, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    type_text(qtbot, "12")
    assert form.amount_value() == 12
    assert form.amount_error.isVisible()
    assert "steps of €5" in form.amount_error.text()
    press(qtbot, Qt.Key.Key_Return)
    assert not form.confirming
    assert form.form_error.isVisible() and "steps of €5" in form.form_error.text()
    assert posts(session) == []
    assert await session.store.recent_pulls(10) == []
    assert window.model.rowCount() == 0 and window.model.pending == 0


async def test_error_explained_then_retry_creates_a_linked_pull(window, session, qtbot):
    session.simulator.config.async_error_rate = 1.0
    choose(window, "SEPHORA", 50)
    assert window.form.request_confirmation()
    (failed,) = await confirm(window.form)
    failed = await wait_state(window, failed.id, PullState.ERROR)
    await wait_until(lambda: window.table.current_pull() is not None)
    assert window.table.current_pull().id == failed.id
    assert window.explanation.isVisible()
    assert window.explanation.text() == explain(failed)
    assert "nothing was charged" in window.explanation.text()
    assert window.retry_action.isEnabled() and not window.check_now_action.isEnabled()
    status = window.model.index(window.model.row_of(failed.id), Columns.STATUS)
    assert window.model.data(status, Qt.ItemDataRole.ToolTipRole) == explain(failed)

    session.simulator.config.async_error_rate = 0.0
    box = window.retry_selected()
    assert isinstance(box, QMessageBox) and box.isVisible()
    assert posts(session) and len(posts(session)) == 1  # nothing sent before the answer
    box.button(QMessageBox.StandardButton.Yes).click()
    (retry,) = await retries_of(session, failed.id)
    assert retry.request_id != failed.request_id
    done = await wait_state(window, retry.id, PullState.SUCCESS)
    assert done.retry_of == failed.id
    await wait_until(lambda: window.table.current_pull().id == retry.id)
    assert not window.explanation.isVisible()

    # Retry on the failed pull again (the mouse, then Ctrl+R): its retry is shown, nothing
    # is asked and nothing is sent.
    window.table.select_pull(failed.id)
    await wait_until(lambda: window.table.current_pull().id == failed.id)
    assert window.retry_selected() is None
    assert window.table.current_pull().id == retry.id
    assert "already retried" in window.status.message.text()
    assert len(await retries_of(session, failed.id)) == 1
    assert len(posts(session)) == 2


async def test_out_of_stock_is_hinted_then_explained(window, session):
    form = window.form
    choose(window, "SPOTIFY", 60)  # no stock at 60, and no end-to-end issuing
    await wait_until(lambda: form.stock.text() == "Out of stock at €60")
    form.request_confirmation()  # a hint, not a block: Walleo has the last word
    (pull,) = await confirm(form)
    rejected = await wait_state(window, pull.id, PullState.REJECTED)
    assert rejected.error_code == "out_of_stock"
    await wait_until(lambda: window.explanation.isVisible())
    assert window.explanation.text() == (
        "Walleo has no stock of this card at this amount. Try another amount or brand."
    )
    assert window.retry_action.isEnabled()


async def test_in_doubt_row_recovers_once_walleo_answers_again(window, session, qtbot):
    faults = session.simulator.faults
    faults.drop = 1.0  # the create lands, its answer is lost; the checks are lost too
    faults.methods = {"POST", "GET"}
    faults.paths_prefix = "/pull_requests"
    choose(window, "GOOGLE-PLAY", 25)
    window.form.request_confirmation()
    (pull,) = await confirm(window.form)
    doubtful = await wait_state(window, pull.id, PullState.IN_DOUBT)
    await wait_until(lambda: window.explanation.isVisible())
    assert "Do not issue it again" in window.explanation.text()
    assert window.explanation.text() == explain(doubtful)
    assert window.check_now_action.isEnabled() and not window.retry_action.isEnabled()
    window.check_now()
    faults.drop = 0.0
    await wait_state(window, pull.id, PullState.SUCCESS)
    assert session.simulator.pull_request_creates == 1  # found, never issued twice
    await wait_until(lambda: window.card_pane.card is not None)


async def test_window_resumes_unfinished_pulls_from_the_journal(session, qtbot, window_ini):
    queued, sending = await session.store.add_pulls(
        [
            NewPull(request_id=new_request_id(), gift_card_code="SEPHORA", amount=50),
            NewPull(request_id=new_request_id(), gift_card_code="GOOGLE-PLAY", amount=15),
        ]
    )
    await session.store.update_pull(sending.id, state=PullState.SENDING, event="send")
    window = MainWindow(session, settings=window_ini, recent=await session.store.recent_pulls(500))
    qtbot.addWidget(window)
    window.show()
    assert window.model.rowCount() == 2  # painted from the journal before any request
    assert posts(session) == []
    try:
        await window.start()
        window.model.flush()
        # Stopped while sending: on restart that pull is in doubt, shown as such at once.
        assert window.model.pull(sending.id).state in (PullState.IN_DOUBT, PullState.SUCCESS)
        await wait_state(window, queued.id, PullState.SUCCESS)
        await wait_state(window, sending.id, PullState.SUCCESS)
        assert session.simulator.pull_request_creates == 2
    finally:
        window.close()
        await window.shutdown()


async def test_catalog_refresh_keeps_the_selection(window, session):
    form = window.form
    choose(window, "SEPHORA", 100)
    form.quantity.setValue(2)
    await window.ops.run("test-refresh", session.catalog.refresh)
    form.set_catalog(session.catalog.gift_cards())
    assert form.gift_card().code == "SEPHORA" and form.amount_value() == 100
    assert form.quantity.value() == 2


async def test_copy_request_id_and_actions_follow_selection(window, session):
    choose(window, "SEPHORA", 25)
    window.form.request_confirmation()
    (pull,) = await confirm(window.form)
    await wait_until(lambda: window.table.current_pull() is not None)
    window.copy_id_action.trigger()
    assert QGuiApplication.clipboard().text() == pull.request_id
    window.table.selectionModel().clearSelection()
    window.table.setCurrentIndex(QModelIndex())
    assert not window.copy_id_action.isEnabled()
    assert window.card_pane.pull is None


async def test_geometry_and_splitter_are_remembered(session, qtbot, window_ini):
    first = MainWindow(session, settings=window_ini)
    qtbot.addWidget(first)
    first.resize(780, 560)  # the offscreen screen is 800 × 600
    first.splitter.setSizes([270, 200, 300])
    first.show()
    sizes = first.splitter.sizes()
    first.close()
    await first.shutdown()
    second = MainWindow(session, settings=window_ini)
    qtbot.addWidget(second)
    second.show()
    try:
        assert (second.width(), second.height()) == (780, 560)
        assert second.splitter.sizes() == sizes
    finally:
        second.close()
        await second.shutdown()


async def test_async_ops_guard_the_trigger_and_report_failures_once(qtbot):
    ops = AsyncOps()
    button = QPushButton()
    qtbot.addWidget(button)
    gate = asyncio.Event()
    calls: list[int] = []
    results: list[int] = []

    async def work() -> int:
        calls.append(1)
        await gate.wait()
        return 42

    task = ops.run("job", work, trigger=button, on_success=results.append)
    assert task is not None and not button.isEnabled() and ops.busy("job")
    assert ops.run("job", work) is None  # a second click while busy: nothing starts
    gate.set()
    await task
    await asyncio.sleep(0)
    assert results == [42] and calls == [1]
    assert button.isEnabled() and not ops.busy("job")

    failures: list[str] = []
    ops.failed.connect(failures.append)

    async def unreachable() -> None:
        raise NotSentError("Walleo cannot be reached.")

    task = ops.run("job", unreachable, trigger=button)
    with contextlib.suppress(NotSentError):
        await task
    await asyncio.sleep(0)
    assert failures == ["Walleo cannot be reached."] and button.isEnabled()


# ---------------------------------------------------------------------------------- start-up


def visible_main_windows() -> list[MainWindow]:
    windows = QApplication.topLevelWidgets()
    return [w for w in windows if isinstance(w, MainWindow) and w.isVisible()]


async def test_app_shows_window_then_closes_the_session(tmp_path, isolated_dirs):
    args = argparse.Namespace(data_dir=tmp_path / "data", profile=None)
    task = asyncio.ensure_future(app_main(args, simulator_delay_scale=0.01, policy=FAST))
    try:
        await wait_until(lambda: bool(visible_main_windows()))
        (window,) = visible_main_windows()
        assert window.status.environment.text() == "DEMO"
        await wait_until(lambda: window.form.brand.count() > 0)
        window.close()
        assert await asyncio.wait_for(task, 5) == 0
    finally:
        if not task.done():
            task.cancel()
    ini = isolated_dirs / "config" / "walleo-desktop" / "window.ini"
    assert ini.is_file() and "geometry" in ini.read_text()
    # The session is closed: the history can be opened again and holds no pull.
    with open_core(history_path(tmp_path / "data", DEMO)) as store:
        assert store.recent_pulls() == []


async def test_app_falls_back_to_demo_and_says_why(tmp_path):
    profiles = Profiles()  # the isolated config dir
    profiles.save(Profile(name="shop"))
    profiles.set_active("shop")
    args = argparse.Namespace(data_dir=tmp_path / "data", profile=None)
    task = asyncio.ensure_future(app_main(args, simulator_delay_scale=0.01))
    try:
        await wait_until(lambda: bool(visible_main_windows()))
        (window,) = visible_main_windows()
        assert window.status.environment.text() == "DEMO"
        assert "No credentials are stored for profile 'shop'" in window.status.message.text()
        window.close()
        assert await asyncio.wait_for(task, 5) == 0
    finally:
        if not task.done():
            task.cancel()


async def test_unusable_history_is_explained_and_exits_2(tmp_path):
    data = tmp_path / "data"
    path = history_path(data, DEMO)
    open_core(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA user_version = 99")
    args = argparse.Namespace(data_dir=data, profile=None)
    task = asyncio.ensure_future(app_main(args))

    def box() -> QMessageBox | None:
        found = [w for w in QApplication.topLevelWidgets() if w.objectName() == "fatalError"]
        return found[0] if found and found[0].isVisible() else None  # type: ignore[return-value]

    try:
        await wait_until(lambda: box() is not None)
        assert "newer version" in box().text()
        assert visible_main_windows() == []
        box().button(QMessageBox.StandardButton.Close).click()
        assert await asyncio.wait_for(task, 5) == 2
    finally:
        if not task.done():
            task.cancel()


async def test_locked_keyring_falls_back_to_demo_without_freezing(tmp_path, memory_keyring):
    profiles = Profiles(tmp_path / "config")
    profiles.save(Profile(name="shop"))
    profiles.set_active("shop")
    release = threading.Event()
    memory_keyring.get_password = lambda service, username: release.wait(10) and None
    ticks = 0

    async def heartbeat() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.02)
            ticks += 1

    beat = asyncio.ensure_future(heartbeat())
    started = time.monotonic()
    try:
        connection, problem = await resolve_connection_safely(profiles, None, seconds=0.3)
    finally:
        release.set()
        beat.cancel()
    assert time.monotonic() - started < 2
    assert ticks >= 5  # the loop kept running while the keyring hung
    assert connection.demo
    assert "keyring did not answer" in problem and "DEMO" in problem


async def test_missing_credentials_fall_back_to_demo_and_say_why(tmp_path):
    profiles = Profiles(tmp_path / "config")
    profiles.save(Profile(name="shop"))
    profiles.set_active("shop")
    connection, problem = await resolve_connection_safely(profiles, None)
    assert connection.demo
    assert "No credentials are stored for profile 'shop'" in problem


def test_window_settings_live_in_the_app_config_dir(isolated_dirs):
    from walleo_desktop.ui.main_window import window_settings

    path = Path(window_settings().fileName())
    assert path == isolated_dirs / "config" / "walleo-desktop" / "window.ini"


async def test_history_tab_is_built_on_demand_and_feeds_the_card_pane(session, qtbot, window_ini):
    window = await open_window(session, qtbot, window_ini)
    g = session.catalog.find("FNAC") or (await session.catalog.refresh())[0]
    amount = g.facial_values.choices()[0]
    (pull,) = await session.engine.submit(g, amount, reference="HIST-1")
    await asyncio.wait_for(session.engine.wait([pull.id]), 10)
    assert window.history is None  # not built until asked
    view = window.show_history()
    await wait_until(lambda: view.model.rowCount() >= 1, timeout=10)
    hits: list = []
    view.pull_selected.connect(lambda p, c: hits.append((p, c)))
    view.table.selectRow(0)
    await wait_until(lambda: bool(hits), timeout=5)
    shown, card = hits[-1]
    assert shown.id == pull.id and card is not None
    assert window.card_pane.pull.id == pull.id
    await window.shutdown()


async def test_brand_logos_arrive_in_the_picker(window):
    """The simulator serves an SVG logo per brand; the picker shows it beside the name."""
    await wait_until(
        lambda: all(
            not window.form.brand.itemIcon(i).isNull() for i in range(window.form.brand.count())
        ),
        timeout=10,
    )
    assert window.form.brand.count() >= 10


async def test_view_menu_reaches_the_history_from_the_keyboard(window, qtbot):
    assert window.history is None
    window.search_history_action.trigger()  # Ctrl+F
    view = window.history
    assert view is not None and window.tabs.currentWidget() is view
    await wait_until(lambda: view.filters.search.hasFocus() or not window.isActiveWindow())
    window.live_action.trigger()  # Ctrl+1
    assert window.tabs.currentIndex() == 0
    shortcuts = {
        a.shortcut().toString()
        for a in (window.live_action, window.history_action, window.export_history_action)
    }
    assert shortcuts == {"Ctrl+1", "Ctrl+2", "Ctrl+E"}


async def test_clipboard_delay_is_a_preference_the_window_applies(session, qtbot, window_ini):
    from walleo_desktop.ui.clipboard import save_clear_after, saved_clear_after

    assert saved_clear_after() == 30  # the default
    save_clear_after(90)
    window = await open_window(session, qtbot, window_ini)
    assert window.card_pane.clipboard.clear_after == 90
    save_clear_after(1)  # below the minimum: clamped
    assert saved_clear_after() == 5
    window.close()
    await window.shutdown()


# ---------------------------------------------------------------------------------- issue 10


def row_center(window: MainWindow, pull_id: int, column: Columns = Columns.BRAND):
    row = window.model.row_of(pull_id)
    assert row is not None
    return window.table.visualRect(window.model.index(row, column)).center()


def find_message_box(name: str) -> QMessageBox | None:
    for widget in QApplication.topLevelWidgets():
        if isinstance(widget, QMessageBox) and widget.objectName() == name and widget.isVisible():
            return widget
    return None


async def failed_pull(window: MainWindow, session: Session) -> PullRecord:
    """A pull that ended in error, issued behind the window's back: nothing is selected."""
    session.simulator.config.async_error_rate = 1.0
    card = session.catalog.find("SEPHORA")
    assert card is not None
    (pull,) = await session.engine.submit(card, 50)
    failed = await wait_state(window, pull.id, PullState.ERROR)
    session.simulator.config.async_error_rate = 0.0
    return failed


async def test_a_mouse_click_on_a_row_enables_its_actions_and_context_menu(window, session, qtbot):
    failed = await failed_pull(window, session)
    assert window.table.current_pull() is None
    assert not window.retry_action.isEnabled() and not window.copy_id_action.isEnabled()
    viewport = window.table.viewport()
    qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=row_center(window, failed.id))
    assert window.table.current_pull().id == failed.id
    # The Pulls menu and the context menu show the same actions: both usable now.
    assert window.retry_action.isEnabled()
    assert window.copy_id_action.isEnabled()
    assert not window.check_now_action.isEnabled()  # final: nothing to check
    assert window.card_pane.pull.id == failed.id

    # Right click on the row: the context menu pops up (without a nested event loop) ...
    pos = row_center(window, failed.id, Columns.REFERENCE)
    qtbot.mousePress(viewport, Qt.MouseButton.RightButton, pos=pos)
    QApplication.sendEvent(
        viewport,
        QContextMenuEvent(QContextMenuEvent.Reason.Mouse, pos, viewport.mapToGlobal(pos)),
    )
    qtbot.mouseRelease(viewport, Qt.MouseButton.RightButton, pos=pos)
    menu = window.table.context_menu
    await wait_until(menu.isVisible)
    (retry,) = [a for a in menu.actions() if a is window.retry_action]
    assert retry.isEnabled()
    # ... and its Retry, clicked, asks before sending a new pull.
    qtbot.mouseClick(menu, Qt.MouseButton.LeftButton, pos=menu.actionGeometry(retry).center())
    await wait_until(lambda: find_message_box("retryQuestion") is not None)
    box = find_message_box("retryQuestion")
    assert await session.store.retries_of(failed.id) == []
    qtbot.mouseClick(box.button(QMessageBox.StandardButton.Yes), Qt.MouseButton.LeftButton)
    (retry_pull,) = await retries_of(session, failed.id)
    assert retry_pull.request_id != failed.request_id


async def test_a_mouse_click_on_an_in_doubt_row_enables_check_now(window, session, qtbot):
    faults = session.simulator.faults
    faults.drop = 1.0  # the create lands, its answer is lost; the checks are lost too
    faults.methods = {"POST", "GET"}
    faults.paths_prefix = "/pull_requests"
    card = session.catalog.find("GOOGLE-PLAY")
    assert card is not None
    (pull,) = await session.engine.submit(card, 25)
    await wait_state(window, pull.id, PullState.IN_DOUBT)
    assert not window.check_now_action.isEnabled()
    qtbot.mouseClick(
        window.table.viewport(), Qt.MouseButton.LeftButton, pos=row_center(window, pull.id)
    )
    assert window.check_now_action.isEnabled() and window.copy_id_action.isEnabled()
    assert not window.retry_action.isEnabled()  # in doubt: never issue it again
    faults.drop = 0.0


async def issued_card_selected(window: MainWindow, session: Session, qtbot) -> PullRecord:
    card = session.catalog.find("SEPHORA")
    assert card is not None
    (pull,) = await session.engine.submit(card, 50)
    done = await wait_state(window, pull.id, PullState.SUCCESS)
    qtbot.mouseClick(
        window.table.viewport(), Qt.MouseButton.LeftButton, pos=row_center(window, pull.id)
    )
    await wait_until(lambda: window.card_pane.card is not None)
    return done


async def test_reveal_shortcuts_work_from_the_table_and_the_card_pane(window, session, qtbot):
    from walleo_desktop.ui.card_pane import PIN_MASK, display_code

    await issued_card_selected(window, session, qtbot)
    pane = window.card_pane
    card = pane.card
    assert card is not None and card.pin_code.strip()
    ctrl_shift = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    window.table.setFocus()
    assert pane.code_label.text() != display_code(card.code)  # masked
    qtbot.keyClick(window.table, Qt.Key.Key_R, ctrl_shift)
    assert pane.reveal_code_button.isChecked()
    assert pane.code_label.text() == display_code(card.code)
    qtbot.keyClick(window.table, Qt.Key.Key_P, ctrl_shift)
    assert pane.pin_label.text() == card.pin_code
    # Again, with the focus in the card pane: both hide (the buttons' captions changed twice).
    pane.reveal_pin_button.setFocus()
    qtbot.keyClick(pane.reveal_pin_button, Qt.Key.Key_R, ctrl_shift)
    qtbot.keyClick(pane.reveal_pin_button, Qt.Key.Key_P, ctrl_shift)
    assert not pane.reveal_code_button.isChecked() and pane.pin_label.text() == PIN_MASK
    # The tooltips name the keys as the platform spells them.
    native = QKeySequence.SequenceFormat.NativeText
    assert QKeySequence("Ctrl+Shift+R").toString(native) in pane.reveal_code_button.toolTip()
    assert QKeySequence("Ctrl+Shift+P").toString(native) in pane.reveal_pin_button.toolTip()
    assert QKeySequence("Ctrl+Shift+C").toString(native) in pane.copy_code_button.toolTip()


# X11 only: xcb's key bindings and the title the window manager gets (tests/x11_checks.py).


@pytest.fixture(scope="module")
def x_display():
    """A private Xvfb for this module's X11 checks. The test command installs Xvfb: without it
    these checks fail and say so, never skip silently (as PostgreSQL's)."""
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        pytest.fail("Xvfb is not installed: run scripts/bootstrap.sh --test", pytrace=False)
    read_end, write_end = os.pipe()
    proc = subprocess.Popen(
        [xvfb, "-displayfd", str(write_end), "-screen", "0", "1366x768x24", "-nolisten", "tcp"],
        pass_fds=(write_end,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_end)
    with os.fdopen(read_end) as announced:
        number = announced.readline().strip()  # Xvfb writes it once it accepts clients
    if not number:
        proc.kill()
        pytest.fail("Xvfb did not start")
    yield f":{number}"
    proc.terminate()
    proc.wait(10)


def run_x11_check(
    check: str, display: str, tmp_path: Path, language: str = "en"
) -> dict[str, object]:
    env = dict(os.environ)
    env.update(
        DISPLAY=display,
        QT_QPA_PLATFORM="xcb",
        PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",  # never a real keyring
        HOME=str(tmp_path),
    )
    script = Path(__file__).with_name("x11_checks.py")
    done = subprocess.run(
        [sys.executable, str(script), check, language],
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["active"], "the window never became active under Xvfb"
    return result


def test_export_shortcut_works_while_a_text_field_has_the_focus(x_display, tmp_path):
    """Ctrl+E is "end of line" for a line edit on X11: the field must not swallow Export."""
    result = run_x11_check("export", x_display, tmp_path)
    assert result["search_focused"] and result["reference_focused"]
    assert result["search"], "Ctrl+E in the history's search box did not open Export"
    assert result["reference"], "Ctrl+E in the pull form's reference field did not open Export"
    assert result["search_text"] == result["reference_text"] == "ABC-1"  # the text is intact


def test_title_names_the_app_once(window, x_display, tmp_path):
    """Qt appends the application's display name to window titles on X11 and Windows."""
    assert window.windowTitle() == "Walleo Desktop — DEMO"
    result = run_x11_check("title", x_display, tmp_path)
    assert result["title"] == "Walleo Desktop — DEMO"
    assert result["x11_title"] == "Walleo Desktop — DEMO"  # what the window manager shows


async def test_quit_with_pulls_in_flight_says_they_are_safe_first(tmp_path, qtbot, window_ini):
    slow = await Session.open(DEMO, tmp_path / "slow", simulator_delay_scale=100, policy=FAST)
    window = await open_window(slow, qtbot, window_ini)
    closed: list[int] = []
    window.closed.connect(lambda: closed.append(1))
    try:
        card = slow.catalog.find("FNAC")
        assert card is not None
        (pull,) = await slow.engine.submit(card, 50)
        await wait_until(lambda: slow.engine.in_flight == 1)
        qtbot.keyClick(window, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
        box = find_message_box("quitQuestion")
        assert box is not None, "Ctrl+Q quit without a word"
        assert box.text() == "1 pull is still in progress."
        assert box.informativeText() == (
            "They are safe: they stay in the journal and resume the next time you start "
            "Walleo Desktop. Quit now?"
        )
        assert window.isVisible() and not closed
        qtbot.mouseClick(box.button(QMessageBox.StandardButton.Cancel), Qt.MouseButton.LeftButton)
        assert window.isVisible() and not closed and find_message_box("quitQuestion") is None
        assert slow.engine.in_flight == 1  # nothing happened to the pull

        qtbot.keyClick(window, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
        box = find_message_box("quitQuestion")
        assert box is not None
        quit_button = box.findChild(QPushButton, "quitButton")
        assert quit_button.text() == "&Quit"
        qtbot.mouseClick(quit_button, Qt.MouseButton.LeftButton)
        assert closed == [1] and not window.isVisible()
        assert not (await slow.store.get_pull(pull.id)).final  # still in the journal, to resume
    finally:
        await window.shutdown()
        await slow.close()


async def test_quit_with_nothing_in_flight_quits_at_once(window, session, qtbot):
    closed: list[int] = []
    window.closed.connect(lambda: closed.append(1))
    assert session.engine.in_flight == 0
    qtbot.keyClick(window, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    assert closed == [1] and not window.isVisible()
    assert find_message_box("quitQuestion") is None


def type_into(qtbot, widget: QWidget, text: str) -> None:
    """Select what the field holds and type over it, as an agent does."""
    widget.setFocus(Qt.FocusReason.OtherFocusReason)
    assert focused() in (widget, widget.focusProxy())
    press(qtbot, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    type_text(qtbot, text)


async def refused(window: MainWindow, session: Session, reason: str) -> None:
    form = window.form
    assert not form.confirming, form.confirm_text.text()
    assert form.form_error.isVisible() and form.form_error.text() == reason
    assert await session.store.recent_pulls(10) == []  # nothing journaled, nothing sent
    assert posts(session) == []


async def test_typed_amounts_are_issued_as_typed_or_refused_never_replaced(window, session, qtbot):
    form = window.form
    form.brand.setCurrentIndex(form.brand.findData("FNAC"))  # 10 to 500 in steps of 5
    type_into(qtbot, form.amount_spin, "50")
    press(qtbot, Qt.Key.Key_Return)
    assert form.confirm_text.text().startswith("Issue 1 × Fnac €50 = €50?")
    press(qtbot, Qt.Key.Key_Escape)

    type_into(qtbot, form.amount_spin, "7")  # the €50 before must not come back
    press(qtbot, Qt.Key.Key_Return)
    await refused(window, session, "The smallest amount for Fnac is €10.")
    assert form.amount_spin.text() == "7" and form.amount_value() == 7
    assert form.amount_error.isVisible() and form.amount_error.text() == form.form_error.text()
    assert not form.total.isVisible()
    form.amount_spin.clearFocus()  # leaving the field does not put €50 back either
    assert form.amount_spin.text() == "7"

    type_into(qtbot, form.amount_spin, "1000000")
    press(qtbot, Qt.Key.Key_Return)
    await refused(window, session, "The largest amount for Fnac is €500.")
    assert form.amount_spin.text() == "1000000"

    type_into(qtbot, form.amount_spin, "52")
    press(qtbot, Qt.Key.Key_Return)
    await refused(window, session, "Fnac is issued in steps of €5: €50 or €55, for instance.")

    type_into(qtbot, form.amount_spin, "99999999999999999999")  # ≥ 2^63: no OverflowError
    press(qtbot, Qt.Key.Key_Return)
    await refused(window, session, "The largest amount for Fnac is €500.")

    type_into(qtbot, form.amount_spin, "5O")  # a letter O
    press(qtbot, Qt.Key.Key_Return)
    await refused(window, session, "Type the amount in whole €, in digits: 50, for instance.")


async def test_typed_fixed_amount_must_be_one_of_the_list(window, session, qtbot):
    form = window.form
    form.brand.setCurrentIndex(form.brand.findData("SEPHORA"))  # €25, €50, €100 or €150
    assert form.amount.currentWidget() is form.amount_choice
    assert form.amount_value() is None  # no amount chosen for the agent
    press_enter_refuses = "Choose an amount."
    form.reference.setFocus()
    press(qtbot, Qt.Key.Key_Return)
    await refused(window, session, press_enter_refuses)

    type_into(qtbot, form.amount_choice, "50")
    press(qtbot, Qt.Key.Key_Return)
    assert form.confirm_text.text().startswith("Issue 1 × Sephora €50 = €50?")
    press(qtbot, Qt.Key.Key_Escape)

    type_into(qtbot, form.amount_choice, "7")
    press(qtbot, Qt.Key.Key_Return)
    await refused(window, session, "Sephora is issued in €25, €50, €100 or €150 only.")
    assert form.amount_choice.currentText() == "7"


async def test_typed_quantity_is_issued_as_typed_or_refused(window, session, qtbot):
    form = window.form
    form.brand.setCurrentIndex(form.brand.findData("FNAC"))
    type_into(qtbot, form.amount_spin, "50")
    type_into(qtbot, form.quantity, "9999")
    press(qtbot, Qt.Key.Key_Return)
    await refused(window, session, "At most 100 cards in one pull.")
    assert form.quantity.text() == "9999"
    assert form.quantity_error.isVisible()

    type_into(qtbot, form.quantity, "99999999999999999999")
    press(qtbot, Qt.Key.Key_Return)
    await refused(window, session, "At most 100 cards in one pull.")

    type_into(qtbot, form.quantity, "0")
    press(qtbot, Qt.Key.Key_Return)
    await refused(window, session, "Issue at least 1 card.")

    type_into(qtbot, form.quantity, "3")
    assert not form.quantity_error.isVisible()
    press(qtbot, Qt.Key.Key_Return)
    assert form.confirm_text.text().startswith("Issue 3 × Fnac €50 = €150?")
    press(qtbot, Qt.Key.Key_Return)
    await wait_until(lambda: form.quantity.value() == 1)  # journaled: the form is reset
    pulls = await session.store.recent_pulls(10)
    assert len(pulls) == 3 and {p.amount for p in pulls} == {50}


async def test_arrow_keys_step_the_amount_on_the_brand_grid(window, qtbot):
    form = window.form
    form.brand.setCurrentIndex(form.brand.findData("FNAC"))  # 10 to 500 in steps of 5
    type_into(qtbot, form.amount_spin, "12")
    press(qtbot, Qt.Key.Key_Up)
    assert form.amount_spin.text() == "15"
    press(qtbot, Qt.Key.Key_Down)
    press(qtbot, Qt.Key.Key_Down)
    assert form.amount_spin.text() == "10"
    press(qtbot, Qt.Key.Key_Down)  # the minimum: stays
    assert form.amount_spin.text() == "10"


LONG_WARNING = (
    "Aucun trousseau système n’est disponible : la clé qui chiffre les codes des cartes de "
    "votre historique est enregistrée dans le fichier /home/agent/.local/share/walleo-desktop/"
    "history.key (lisible par votre seul utilisateur). Quiconque peut lire vos fichiers peut "
    "lire les codes. Installez un trousseau (GNOME Keyring, KWallet) et redémarrez : la clé "
    "s’y déplacera d’elle-même."
)


@pytest.fixture
def french(qapp, tmp_path):
    from walleo_desktop.ui import i18n

    default = QLocale()
    prefs = QSettings(str(tmp_path / "preferences.ini"), QSettings.Format.IniFormat)
    assert i18n.install_translator(qapp, "fr", settings=prefs, system=QLocale("en_US")) == "fr"
    yield
    i18n.install_translator(qapp, "en", system=QLocale("en_US"))
    QLocale.setDefault(default)


SCREEN = (1366, 768)


async def test_window_fits_a_1366_screen_in_french_with_everything_shown(
    french, session, qtbot, window_ini
):
    from walleo_desktop.ui.history_filters import Period

    window = await open_window(session, qtbot, window_ini)
    try:
        window.show_error(LONG_WARNING, sticky=True)  # the no-keyring warning
        view = window.show_history()
        view.filters.set_period(Period.CUSTOM)  # the custom range's two dates shown
        await wait_until(lambda: view.filters.date_from.isVisible())
        assert window.minimumSizeHint().width() <= SCREEN[0], window.minimumSizeHint()
        assert window.minimumSizeHint().height() <= SCREEN[1], window.minimumSizeHint()
        window.resize(*SCREEN)
        await asyncio.sleep(0.05)
        assert window.width() <= SCREEN[0] and window.height() <= SCREEN[1]
        # The card pane is on screen, whole, beside the tabs.
        pane = window.card_pane
        assert pane.isVisible() and pane.width() >= pane.minimumWidth() > 0
        top_left = pane.mapTo(window, pane.rect().topLeft())
        bottom_right = pane.mapTo(window, pane.rect().bottomRight())
        assert window.rect().contains(top_left) and window.rect().contains(bottom_right)
        # The long message is cut with an ellipsis; all of it is in the tooltip.
        message = window.status.message
        assert message.toolTip() == LONG_WARNING
        assert message.width() < message.fontMetrics().horizontalAdvance(LONG_WARNING)
        # Nothing in the filters is cut or pushed out of the history view.
        filters = view.filters
        for widget in (filters.period, filters.date_to, filters.agent, filters.clear_button):
            corner = widget.mapTo(view, widget.rect().bottomRight())
            assert view.rect().contains(corner), widget.objectName()
    finally:
        window.close()
        await window.shutdown()


async def test_default_size_fits_the_screen(session, qtbot, window_ini):
    window = MainWindow(session, settings=window_ini)  # nothing saved: the default size
    qtbot.addWidget(window)
    available = window.screen().availableGeometry()
    try:
        assert window.width() <= available.width() and window.height() <= available.height()
    finally:
        window.close()
        await window.shutdown()


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("50", 50),
        ("50 €", 50),
        ("€50", 50),
        ("1 500", 1500),
        ("1\u202f500\u00a0€", 1500),
        ("1,500", 1500),  # the English group separator
        ("99999999999999999999", 99999999999999999999),  # read, then refused as too large
        ("1,5", None),
        ("50.00", None),
        ("-5", None),
        ("5O", None),
        ("50 €7", None),  # never 507
        ("", None),
    ],
)
def test_whole_numbers_are_read_as_typed_or_not_at_all(qapp, text, value):
    from walleo_desktop.ui.number_edit import parse_whole_number

    assert parse_whole_number(text, symbols=("€", "EUR")) == value


async def test_an_amount_carried_to_another_brand_is_replaced_by_typing(window, session, qtbot):
    form = window.form
    press(qtbot, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    type_text(qtbot, "fnac")
    press(qtbot, Qt.Key.Key_Tab)
    type_text(qtbot, "50")
    press(qtbot, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    type_text(qtbot, "sephora")
    press(qtbot, Qt.Key.Key_Tab)  # Sephora has fixed amounts, €50 among them: carried over
    assert focused() is form.amount_choice and form.amount_value() == 50
    type_text(qtbot, "7")  # replaces the €50 shown, is not appended to it
    assert form.amount_choice.currentText() == "7"
    press(qtbot, Qt.Key.Key_Return)
    await refused(window, session, "Sephora is issued in €25, €50, €100 or €150 only.")


async def test_the_no_keyring_warning_speaks_french(french, tmp_path, memory_keyring):
    import keyring.errors

    def no_keyring(service: str, username: str, password: str) -> None:
        raise keyring.errors.NoKeyringError("no recommended backend")

    memory_keyring.set_password = no_keyring  # the key goes to its fallback file
    args = argparse.Namespace(data_dir=tmp_path / "data", profile=None)
    task = asyncio.ensure_future(app_main(args, simulator_delay_scale=0.01, policy=FAST))
    try:
        await wait_until(lambda: bool(visible_main_windows()))
        (window,) = visible_main_windows()
        message = window.status.message
        await wait_until(lambda: bool(message.text()))
        assert message.text().startswith("Aucun trousseau système n’est disponible")
        assert "history.key" in message.text() and message.toolTip() == message.text()
        assert "keyring is available" not in message.text()
        window.close()
        assert await asyncio.wait_for(task, 5) == 0
    finally:
        if not task.done():
            task.cancel()


async def test_amount_refusals_speak_french(french, session, qtbot, window_ini):
    window = await open_window(session, qtbot, window_ini)
    try:
        form = window.form
        form.brand.setCurrentIndex(form.brand.findData("FNAC"))
        type_into(qtbot, form.amount_spin, "7")
        press(qtbot, Qt.Key.Key_Return)
        nbsp = "\u00a0"
        expected = f"Le plus petit montant pour Fnac est 10{nbsp}€."
        assert form.amount_error.text() == expected
        assert form.form_error.text() == expected
        type_into(qtbot, form.amount_spin, "52")
        assert form.amount_error.text() == (
            f"Fnac s’émet par paliers de 5{nbsp}€{nbsp}: 50{nbsp}€ ou 55{nbsp}€, par exemple."
        )
        assert await session.store.recent_pulls(10) == []
    finally:
        window.close()
        await window.shutdown()


async def test_export_opened_before_the_history_counted_gives_the_right_count(
    window, session, qtbot
):
    card = session.catalog.find("FNAC")
    assert card is not None
    pulls = await session.engine.submit(card, 50, count=3)
    await asyncio.wait_for(session.engine.wait([p.id for p in pulls]), 10)
    assert window.history is None
    qtbot.keyClick(window.form.reference, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    view = window.history
    assert view is not None and view._dialog is not None  # the tab and the export, at once
    summary = view._dialog.summary
    await wait_until(lambda: summary.text().startswith("3 pulls match"))
    view._dialog.reject()


def test_default_layout_in_french_cuts_nothing_on_a_1366_screen(x_display, tmp_path):
    """At the default size on a 1366×768 screen, in French, with a card shown."""
    result = run_x11_check("default_layout", x_display, tmp_path, "fr")
    assert result["width"] <= result["screen_width"]
    assert result["cut_titles"] == [], "live table column titles cut"
    assert result["placeholder"] == "Rechercher parmi 12 enseignes"
    assert result["placeholder_fits"], "the brand field's placeholder is cut"
    assert result["pdf_buttons_inside"], "the PDF's buttons stick out of the card pane"
    assert result["card_pane_inside"]


async def test_the_same_customer_card_twice_asks_before_issuing_again(window, session, qtbot):
    form = window.form
    choose(window, "SEPHORA", 50)
    form.reference.setText("TCK-DUP")
    assert form.request_confirmation()
    (first,) = await confirm(form)
    form.reference.setText("TCK-DUP")
    assert form.request_confirmation()
    form.confirm()
    await wait_until(lambda: form.duplicate_question is not None)
    box = form.duplicate_question
    assert "TCK-DUP" in box.text() and "24 hours" in box.text()
    assert len(await session.store.recent_pulls(10)) == 1  # nothing journaled while it asks
    box.button(QMessageBox.StandardButton.Cancel).click()
    await wait_until(lambda: form.form_error.isVisible())
    assert len(await session.store.recent_pulls(10)) == 1
    form.reference.setText("TCK-DUP")
    assert form.request_confirmation()
    form.confirm()
    await wait_until(lambda: form.duplicate_question is not None)
    again = next(b for b in form.duplicate_question.buttons() if b.text() == "Issue again")
    qtbot.mouseClick(again, Qt.MouseButton.LeftButton)
    for _ in range(250):  # journaled on the database thread
        pulls = await session.store.recent_pulls(10)
        if len(pulls) == 2:
            break
        await asyncio.sleep(0.02)
    assert len(pulls) == 2 and {p.reference for p in pulls} == {"TCK-DUP"}
    journaled = (await session.store.events(pulls[0].id))[0]
    assert journaled.detail["confirmed_duplicate_of"] == [first.id]


async def test_no_database_call_runs_on_the_gui_thread(session, qtbot, window_ini, monkeypatch):
    """Every statement the window's work sends (open, resume, journal from the form, record
    the card, the History tab's count, pages, totals and chart) runs on a database thread."""
    from walleo_desktop.store.sqlite.backend import SqliteConn

    threads: list[int] = []
    original = SqliteConn._run

    def recording(self, sql, params):
        threads.append(threading.get_ident())
        return original(self, sql, params)

    monkeypatch.setattr(SqliteConn, "_run", recording)
    window = await open_window(session, qtbot, window_ini)
    choose(window, "SEPHORA", 50)
    window.form.reference.setText("THREADS-1")
    assert window.form.request_confirmation()
    (pull,) = await confirm(window.form)
    await wait_state(window, pull.id, PullState.SUCCESS)
    view = window.show_history()
    got: list = []
    view.model.totals_ready.connect(got.append)
    await wait_until(lambda: view.model.rowCount() >= 1 and bool(got), timeout=10)
    await window.shutdown()
    assert len(threads) > 20
    assert threading.main_thread().ident not in threads
