"""The history tab: lazy model, SQL sorting, filters, totals, chart and the export dialog.

Sync tests: the model's queries run on its own thread, and ``qtbot.waitUntil``/``waitSignal``
spin the Qt loop that delivers their results (never used inside a coroutine here).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from conftest import wait_signal, wait_until
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtTest import QAbstractItemModelTester
from PySide6.QtWidgets import QMessageBox
from test_export import CODES, FIXTURE, fill_fixture, read_csv

from walleo_desktop.store import HistoryFilter, NewPull, PullState, Store, StoreCore
from walleo_desktop.store.crypto import CardCipher, new_data_key
from walleo_desktop.store.sqlite import SqliteBackend
from walleo_desktop.store.sqlite import open_core as open_store
from walleo_desktop.ui.chart_view import OTHER, TOP_BRANDS, ChartView, stack_series
from walleo_desktop.ui.history_filters import (
    SEARCH_DEBOUNCE_MS,
    HistoryFilters,
    Period,
    StatusChoice,
    period_range,
)
from walleo_desktop.ui.history_model import PAGE_SIZE, PULL_ROLE, Columns, HistoryModel
from walleo_desktop.ui.history_view import HistoryView

WAIT = 5000
CIPHER = CardCipher(new_data_key())  # the histories' key (engine.datakey keeps it in the keyring)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "history.sqlite3"


@pytest.fixture
def core(path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[StoreCore]:
    """The history filled with the export tests' fixture, for this thread (SQL checks)."""
    with open_store(path, cipher=CIPHER) as opened:
        fill_fixture(opened, monkeypatch)
        yield opened


@pytest.fixture
def store(core: StoreCore, path: Path) -> Iterator[Store]:
    """The same history as the window has it: every call on a database thread."""
    opened = Store.wrap(SqliteBackend.open(path, cipher=CIPHER))
    yield opened
    opened.close_blocking()


def big_store(path: Path, rows: int) -> Store:
    filled = open_store(path, cipher=CIPHER)
    brands = [("FNAC", "Fnac"), ("IKEA", "IKEA"), ("SEPHORA", "Sephora")]
    filled.add_pulls(
        [
            NewPull(
                request_id=f"R-{i:05d}",
                gift_card_code=brands[i % 3][0],
                gift_card_name=brands[i % 3][1],
                amount=10 + (i * 7) % 190,
                reference=f"TCK-{i:06d}",
                agent=f"agent{i % 5}",
            )
            for i in range(rows)
        ]
    )
    filled.close()
    return Store.wrap(SqliteBackend.open(path, cipher=CIPHER))


def settle(qtbot, model: HistoryModel) -> None:
    qtbot.waitUntil(lambda: not model.busy, timeout=WAIT)


@pytest.fixture
def view(qtbot, store: Store) -> Iterator[HistoryView]:
    v = HistoryView(store)
    qtbot.addWidget(v)
    v.resize(1200, 700)
    v.show()
    settle(qtbot, v.model)
    yield v
    v.shutdown()


def first_ids(model: HistoryModel, n: int | None = None) -> list[str]:
    count = model.rowCount() if n is None else n
    return [model.index(r, 0).data(PULL_ROLE).request_id for r in range(count)]


def cell(model: HistoryModel, row: int, column: Columns) -> str:
    return model.index(row, column).data()


# -- the model -----------------------------------------------------------------------------------


def test_model_passes_the_model_tester(qtbot, tmp_path: Path) -> None:
    with big_store(tmp_path / "h.sqlite3", 450) as store:
        model = HistoryModel(store)
        try:
            QAbstractItemModelTester(model, QAbstractItemModelTester.FailureReportingMode.Warning)
            settle(qtbot, model)
            assert model.rowCount() == 450
            for page in range(3):  # load every page through data(), as a view would
                model.index(page * PAGE_SIZE, 0).data()
            qtbot.waitUntil(lambda: len(model.cached_pages) == 3, timeout=WAIT)
            model.sort(Columns.AMOUNT, Qt.SortOrder.DescendingOrder)
            settle(qtbot, model)
            model.set_filter(HistoryFilter(gift_card_codes=("IKEA",)))
            settle(qtbot, model)
            assert model.rowCount() == 150
            model.set_filter(HistoryFilter(search="nothing matches this"))
            settle(qtbot, model)
            assert model.rowCount() == 0
        finally:
            model.shutdown()


def test_totals_and_chart_follow_the_first_screen(qtbot, tmp_path: Path) -> None:
    """The totals and the chart are asked for once the first page is shown, never alongside
    it: they would compete with its query, formatting and paint (bench_history)."""
    with big_store(tmp_path / "h.sqlite3", 450) as store:
        model = HistoryModel(store)
        order: list[str] = []
        model.modelReset.connect(lambda: order.append("reset"))
        model.totals_ready.connect(lambda _totals: order.append("totals"))
        model.daily_ready.connect(lambda _daily: order.append("daily"))
        try:
            qtbot.waitUntil(lambda: "daily" in order, timeout=WAIT)
            assert order == ["reset", "totals", "daily"]
            for flt in (
                HistoryFilter(gift_card_codes=("IKEA",)),
                HistoryFilter(search="TCK-0001"),
                HistoryFilter(),
            ):
                order.clear()
                model.set_filter(flt)
                qtbot.waitUntil(lambda: "daily" in order, timeout=WAIT)
                assert order == ["reset", "totals", "daily"], flt
        finally:
            model.shutdown()


def test_rows_show_what_the_store_has(view: HistoryView, store: Store) -> None:
    model = view.model
    assert model.rowCount() == len(FIXTURE)
    assert first_ids(model) == [f"REQ-{i}" for i in range(8, 0, -1)]
    row = first_ids(model).index("REQ-1")
    assert cell(model, row, Columns.AGENT) == "alice"
    assert cell(model, row, Columns.REFERENCE) == "TCK-000001"
    assert cell(model, row, Columns.BRAND) == "Fnac"
    assert cell(model, row, Columns.REQUEST_ID) == "REQ-1"
    assert cell(model, row, Columns.CARD_ID) == "card-REQ-1"
    assert cell(model, row, Columns.CODE) == "•••• 4444"
    assert "50" in cell(model, row, Columns.AMOUNT)
    assert "48" in cell(model, row, Columns.COST)
    local = datetime(2026, 3, 1, 9, 0, tzinfo=UTC).astimezone()
    assert local.strftime("%H:%M") in cell(model, row, Columns.DATE)
    assert "2027" in cell(model, row, Columns.EXPIRY)
    failed = first_ids(model).index("REQ-4")
    assert cell(model, failed, Columns.COST) == "—"  # nothing was charged
    assert cell(model, failed, Columns.CODE) == ""
    tip = model.index(failed, Columns.STATUS).data(Qt.ItemDataRole.ToolTipRole)
    assert tip == "out_of_stock: No stock"
    # no full code anywhere in what the table can show
    shown = [
        str(model.index(r, c).data(role))
        for r in range(model.rowCount())
        for c in range(model.columnCount())
        for role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole)
    ]
    assert not any(code in text for code in CODES for text in shown)


def test_lazy_loading_fetches_only_what_is_shown(qtbot, tmp_path: Path) -> None:
    with big_store(tmp_path / "h.sqlite3", 5000) as store:
        v = HistoryView(store)
        qtbot.addWidget(v)
        try:
            v.resize(1200, 700)
            v.show()
            settle(qtbot, v.model)
            model = v.model
            assert model.rowCount() == 5000
            qtbot.wait(50)
            assert model.pages_fetched <= 2
            assert model.cached_pages == [0]
            assert first_ids(model, 1) == ["R-04999"]
            v.table.scrollToBottom()
            last = 4999
            qtbot.waitUntil(lambda: model.index(last, 0).data(PULL_ROLE) is not None, timeout=WAIT)
            assert model.index(last, 0).data(PULL_ROLE).request_id == "R-00000"
            assert model.pages_fetched <= 4  # page 0, the last page (maybe the one before)
            assert len(model.cached_pages) <= 3
        finally:
            v.shutdown()


def test_deep_pages_read_from_the_other_end_match_sql(qtbot, tmp_path: Path) -> None:
    with big_store(tmp_path / "h.sqlite3", 1000) as store:
        model = HistoryModel(store)
        try:
            model.sort(Columns.AMOUNT, Qt.SortOrder.AscendingOrder)
            settle(qtbot, model)
            with store.open_reader() as reader:
                expected = [
                    r.pull.request_id
                    for r in reader.history(
                        HistoryFilter(), sort="amount", descending=False, offset=600, limit=200
                    ).rows
                ]
            model.index(700, 0).data()  # page 3, past the middle
            qtbot.waitUntil(lambda: model.index(700, 0).data(PULL_ROLE) is not None, timeout=WAIT)
            got = [model.index(r, 0).data(PULL_ROLE).request_id for r in range(600, 800)]
            assert got == expected
        finally:
            model.shutdown()


# -- sorting and selection -----------------------------------------------------------------------


def test_header_click_sorts_in_sql(qtbot, view: HistoryView, core: StoreCore) -> None:
    header = view.table.horizontalHeader()
    header.sectionClicked.emit(Columns.AMOUNT)  # money: biggest first
    settle(qtbot, view.model)
    by_sql = [r.pull.request_id for r in core.history(HistoryFilter(), sort="amount").rows]
    assert first_ids(view.model) == by_sql
    assert first_ids(view.model, 1) == ["REQ-3"]  # 100 €
    assert header.sortIndicatorSection() == Columns.AMOUNT
    header.sectionClicked.emit(Columns.AMOUNT)  # again: smallest first
    settle(qtbot, view.model)
    assert first_ids(view.model, 1) == ["REQ-7"]  # 15 €
    assert header.sortIndicatorOrder() == Qt.SortOrder.AscendingOrder
    header.sectionClicked.emit(Columns.AGENT)  # text: A -> Z, ties by id
    settle(qtbot, view.model)
    assert first_ids(view.model, 3) == ["REQ-1", "REQ-3", "REQ-7"]
    header.sectionClicked.emit(Columns.CODE)  # four digits carry no order: nothing changes
    assert not view.model.loading
    assert header.sortIndicatorSection() == Columns.AGENT


async def test_selecting_a_row_emits_the_pull_and_its_card(view: HistoryView) -> None:
    """The pull and its card are read on the database thread, then shown."""
    await wait_until(lambda: not view.model.busy)
    row = first_ids(view.model).index("REQ-2")
    view.table.selectRow(row)
    pull, card = await wait_signal(view.pull_selected)
    assert pull.request_id == "REQ-2" and pull.state is PullState.SUCCESS
    assert card is not None and card.code == CODES[1] and card.pull_id == pull.id
    row = first_ids(view.model).index("REQ-4")
    view.table.selectRow(row)
    pull, card = await wait_signal(view.pull_selected)
    assert (pull.request_id, pull.error_code, card) == ("REQ-4", "out_of_stock", None)


# -- filters and totals ------------------------------------------------------------------------


def test_totals_of_the_whole_history(qtbot, view: HistoryView) -> None:
    with qtbot.waitSignal(view.model.totals_ready, timeout=WAIT) as blocker:
        view.refresh()
    totals = blocker.args[0]
    # success: 50 + 20 + 100 + 15 face; 48 + 19.20 + 97 + 14.40 cost
    assert (totals.count, totals.face_value, totals.cost) == (4, 185, pytest.approx(178.6))
    assert (totals.failed, totals.in_doubt, totals.pending) == (2, 1, 1)
    brands = {b.gift_card_code: (b.cards, b.face_value, b.cost) for b in totals.per_brand}
    assert brands == {"FNAC": (3, 85, pytest.approx(81.6)), "IKEA": (1, 100, pytest.approx(97.0))}
    text = view.totals_label.text()
    assert "<b>4</b>" in text and "185" in text and "178" in text
    assert "2 failed" in view.problems_label.text() and "1 in doubt" in view.problems_label.text()
    assert view.brand_table.rowCount() == 2
    assert view.brand_table.item(0, 0).text() == "IKEA"  # biggest face value first


def test_filters_combine(qtbot, view: HistoryView) -> None:
    filters = view.filters
    qtbot.waitUntil(lambda: filters.brand.count() > 1, timeout=WAIT)
    assert [filters.brand.itemText(i) for i in range(filters.brand.count())][1:] == [
        "Decathlon",
        "Fnac",
        "IKEA",
        "Sephora",
    ]
    assert [filters.agent.itemText(i) for i in range(filters.agent.count())][1:] == [
        "alice",
        "bob",
        "carol",
    ]
    with qtbot.waitSignal(view.model.totals_ready, timeout=WAIT) as blocker:
        filters.brand.setCurrentIndex(filters.brand.findData("FNAC"))
    settle(qtbot, view.model)
    assert first_ids(view.model) == ["REQ-7", "REQ-2", "REQ-1"]
    totals = blocker.args[0]
    assert (totals.count, totals.face_value, totals.cost) == (3, 85, pytest.approx(81.6))

    filters.agent.setCurrentIndex(filters.agent.findData("alice"))
    settle(qtbot, view.model)
    assert first_ids(view.model) == ["REQ-7", "REQ-1"]

    filters.brand.setCurrentIndex(0)
    filters.agent.setCurrentIndex(0)
    with qtbot.waitSignal(view.model.totals_ready, timeout=WAIT) as blocker:
        filters.set_status(StatusChoice.FAILED)
    settle(qtbot, view.model)
    assert first_ids(view.model) == ["REQ-5", "REQ-4"]
    assert (blocker.args[0].count, blocker.args[0].failed) == (0, 2)

    filters.set_status(StatusChoice.ALL)
    settle(qtbot, view.model)
    with qtbot.waitSignal(view.model.query_finished, timeout=WAIT):
        filters.search.setText("équipe")  # accents and case, through the debounce
    assert first_ids(view.model) == ["REQ-3"]
    with qtbot.waitSignal(view.model.query_finished, timeout=WAIT):
        filters.search.setText(CODES[3][-6:])  # the last digits of a card code
    assert first_ids(view.model) == ["REQ-7"]
    with qtbot.waitSignal(view.model.query_finished, timeout=WAIT):
        filters.clear()
    assert view.model.rowCount() == len(FIXTURE)


def test_search_is_debounced(qtbot) -> None:
    filters = HistoryFilters()
    qtbot.addWidget(filters)
    seen: list[HistoryFilter] = []
    filters.filter_changed.connect(seen.append)
    for prefix in ("T", "TC", "TCK", "TCK-"):
        filters.search.setText(prefix)
    assert seen == []
    qtbot.waitUntil(lambda: len(seen) == 1, timeout=SEARCH_DEBOUNCE_MS * 8)
    assert seen[0].search == "TCK-"
    qtbot.wait(SEARCH_DEBOUNCE_MS + 50)
    assert len(seen) == 1


def test_period_presets(qtbot) -> None:
    today = date(2026, 3, 18)  # a Wednesday

    def local(y: int, m: int, d: int) -> datetime:
        return datetime(y, m, d).astimezone()

    assert period_range(Period.ALL, today) == (None, None)
    assert period_range(Period.TODAY, today) == (local(2026, 3, 18), local(2026, 3, 19))
    assert period_range(Period.THIS_WEEK, today, 1) == (local(2026, 3, 16), local(2026, 3, 23))
    assert period_range(Period.THIS_WEEK, today, 7) == (local(2026, 3, 15), local(2026, 3, 22))
    assert period_range(Period.THIS_MONTH, today) == (local(2026, 3, 1), local(2026, 4, 1))
    assert period_range(Period.LAST_MONTH, today) == (local(2026, 2, 1), local(2026, 3, 1))
    assert period_range(Period.LAST_MONTH, date(2026, 1, 9)) == (
        local(2025, 12, 1),
        local(2026, 1, 1),
    )
    custom = (date(2026, 3, 2), date(2026, 3, 1))  # either order, both days included
    assert period_range(Period.CUSTOM, today, custom=custom) == (
        local(2026, 3, 1),
        local(2026, 3, 3),
    )
    filters = HistoryFilters(today=lambda: today)
    qtbot.addWidget(filters)
    filters.set_period(Period.CUSTOM, (date(2026, 3, 2), date(2026, 3, 3)))
    assert filters.date_from.isVisibleTo(filters)
    flt = filters.current_filter()
    assert (flt.since, flt.until) == (local(2026, 3, 2), local(2026, 3, 4))


def test_period_filter_in_the_view(qtbot, view: HistoryView) -> None:
    day2 = (T0_LOCAL + timedelta(days=1)).date()
    with qtbot.waitSignal(view.model.query_finished, timeout=WAIT):
        view.filters.set_period(Period.CUSTOM, (day2, day2))
    expected = {
        s.rid
        for s in FIXTURE
        if (datetime(2026, 3, 1, 9, tzinfo=UTC) + timedelta(hours=s.hours)).astimezone().date()
        == day2
    }
    assert set(first_ids(view.model)) == expected


T0_LOCAL = datetime(2026, 3, 1, 9, tzinfo=UTC).astimezone()


# -- chart -------------------------------------------------------------------------------------


def test_chart_series_top_brands_and_other() -> None:
    daily = [("2026-03-01", f"B{i:02d}", 10 * (i + 1)) for i in range(9)]
    daily += [("2026-03-04", "B00", 5)]
    days, keys, values = stack_series(daily)
    assert days == [date(2026, 3, 1) + timedelta(days=i) for i in range(4)]  # gaps kept
    assert keys == ["B08", "B07", "B06", "B05", "B04", "B03", OTHER]
    assert len(keys) == TOP_BRANDS + 1
    assert values[-1].tolist() == [30 + 20 + 10, 0, 0, 5]  # B02 + B01 + B00, then B00 again
    assert values.sum() == sum(v for _d, _c, v in daily)


def test_chart_handles_empty_one_day_and_many_brands(qtbot) -> None:
    chart = ChartView()
    qtbot.addWidget(chart)
    chart.resize(600, 300)
    chart.show()
    chart.set_data([])
    assert chart.is_empty
    chart.set_data([("2026-03-01", "FNAC", 50), ("2026-03-01", "IKEA", 100)], {"FNAC": "Fnac"})
    assert not chart.is_empty
    assert chart.days == [date(2026, 3, 1)]
    assert chart.series == ["IKEA", "Fnac"]
    many = [("2026-03-01", f"B{i}", 10 + i) for i in range(20)]
    chart.set_data(many)
    assert len(chart.series) == TOP_BRANDS + 1 and chart.series[-1] == "Other"
    assert "Other" in chart.legend.text()
    assert not chart.grab().isNull()
    chart.set_data([])
    assert chart.is_empty


def test_chart_follows_the_filter(qtbot, view: HistoryView) -> None:
    with qtbot.waitSignal(view.model.daily_ready, timeout=WAIT):
        view.refresh()
    assert not view.chart.is_empty
    assert view.chart.series == ["IKEA", "Fnac"]
    with qtbot.waitSignal(view.model.daily_ready, timeout=WAIT):
        view.filters.set_status(StatusChoice.FAILED)
    assert view.chart.is_empty


# -- export dialog -------------------------------------------------------------------------------


def test_export_dialog_exports_the_view(qtbot, view: HistoryView, tmp_path: Path) -> None:
    view.filters.brand.setCurrentIndex(view.filters.brand.findData("FNAC"))
    qtbot.waitUntil(lambda: view.model.rowCount() == 3, timeout=WAIT)
    dialog = view.open_export_dialog()
    out = tmp_path / "fnac.csv"
    dialog.path_edit.setText(str(out))
    dialog.preset.setCurrentIndex(dialog.preset.findData("excel-fr"))
    with qtbot.waitSignal(dialog.export_finished, timeout=WAIT) as blocker:
        dialog.export_button.click()
    result = blocker.args[0]
    assert (result.rows, result.cancelled) == (3, False)
    qtbot.waitUntil(lambda: not dialog.running, timeout=WAIT)
    rows = read_csv(out, delimiter=";", bom=True)
    assert [r["request_id"] for r in rows] == ["REQ-7", "REQ-2", "REQ-1"]
    assert "code" not in rows[0]
    assert "3 rows written" in dialog.status.text()
    dialog.reject()


def test_export_dialog_writes_an_xlsx_and_the_name_follows_the_format(
    qtbot, view: HistoryView, tmp_path: Path
) -> None:
    import openpyxl

    view.filters.brand.setCurrentIndex(view.filters.brand.findData("FNAC"))
    qtbot.waitUntil(lambda: view.model.rowCount() == 3, timeout=WAIT)
    dialog = view.open_export_dialog()
    dialog.path_edit.setText(str(tmp_path / "fnac.csv"))
    dialog.preset.setCurrentIndex(dialog.preset.findData("xlsx"))
    assert dialog.path_edit.text() == str(tmp_path / "fnac.xlsx")
    dialog.preset.setCurrentIndex(dialog.preset.findData("standard"))
    assert dialog.path_edit.text() == str(tmp_path / "fnac.csv")
    dialog.preset.setCurrentIndex(dialog.preset.findData("xlsx"))
    with qtbot.waitSignal(dialog.export_finished, timeout=WAIT) as blocker:
        dialog.export_button.click()
    assert (blocker.args[0].rows, blocker.args[0].cancelled) == (3, False)
    qtbot.waitUntil(lambda: not dialog.running, timeout=WAIT)
    ws = openpyxl.load_workbook(tmp_path / "fnac.xlsx")["History"]
    rids = [row[10].value for row in ws.iter_rows(min_row=2)]
    assert ws[1][10].value == "Request ID" and rids == ["REQ-7", "REQ-2", "REQ-1"]
    assert ws["G2"].value == 15 and ws["A2"].is_date  # typed: a number, a date
    assert not (tmp_path / "fnac.csv").exists()
    dialog.reject()


def test_export_dialog_confirms_codes(qtbot, view: HistoryView, tmp_path: Path) -> None:
    dialog = view.open_export_dialog()
    dialog.with_codes.setChecked(True)
    box = dialog.findChild(QMessageBox, "exportCodesConfirm")
    assert box is not None and box.isVisible()
    box.button(QMessageBox.StandardButton.No).click()
    qtbot.waitUntil(lambda: not dialog.with_codes.isChecked(), timeout=WAIT)
    dialog.with_codes.setChecked(True)
    box = dialog.findChild(QMessageBox, "exportCodesConfirm")
    box.button(QMessageBox.StandardButton.Yes).click()
    qtbot.wait(20)
    assert dialog.with_codes.isChecked()
    out = tmp_path / "codes.csv"
    dialog.path_edit.setText(str(out))
    with qtbot.waitSignal(dialog.export_finished, timeout=WAIT):
        dialog.export_button.click()
    assert {r["code"] for r in read_csv(out)} >= set(CODES)
    dialog.reject()


def test_export_dialog_cancel_leaves_no_file(qtbot, tmp_path: Path) -> None:
    with big_store(tmp_path / "h.sqlite3", 20000) as store:
        v = HistoryView(store)
        qtbot.addWidget(v)
        try:
            settle(qtbot, v.model)
            dialog = v.open_export_dialog()
            folder = tmp_path / "exports"
            folder.mkdir()
            dialog.path_edit.setText(str(folder / "all.csv"))
            dialog.start_export()
            dialog.cancel_export()  # before the first batch is through
            with qtbot.waitSignal(dialog.export_finished, timeout=WAIT) as blocker:
                pass
            assert blocker.args[0].cancelled
            qtbot.waitUntil(lambda: not dialog.running, timeout=WAIT)
            assert list(folder.iterdir()) == []
            assert "cancelled" in dialog.status.text()
            dialog.reject()
        finally:
            v.shutdown()


def test_unused_index_is_invalid(view: HistoryView) -> None:
    assert view.model.data(QModelIndex()) is None
    assert view.model.index(10_000, 0).data() is None


def test_schedule_refresh_coalesces_bursts(
    qtbot, view: HistoryView, core: StoreCore, monkeypatch
) -> None:
    from walleo_desktop.ui import history_view

    monkeypatch.setattr(history_view, "REFRESH_DELAY_MS", 30)
    monkeypatch.setattr(history_view, "REFRESH_MIN_GAP_MS", 30)
    started: list[int] = []
    view.model.query_started.connect(lambda: started.append(1))
    core.add_pulls([NewPull(request_id="REQ-NEW", gift_card_code="FNAC", amount=10)])
    for _ in range(5):
        view.schedule_refresh()
    qtbot.waitUntil(lambda: view.model.rowCount() == len(FIXTURE) + 1, timeout=WAIT)
    qtbot.wait(100)
    assert started == [1]
    assert first_ids(view.model, 1) == ["REQ-NEW"]


# -- typed dates (issue 10) ----------------------------------------------------------------------


def type_over(qtbot, edit, text: str) -> None:
    """Select what the field shows and type over it, as an agent does."""
    edit.setFocus()
    qtbot.keyClick(edit, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(edit, text)


def test_typed_dates_set_the_custom_period(qtbot, view: HistoryView) -> None:
    filters = view.filters
    day2 = (T0_LOCAL + timedelta(days=1)).date()
    with qtbot.waitSignal(view.model.query_finished, timeout=WAIT):
        filters.period.setCurrentIndex(filters.period.findData(Period.CUSTOM.value))
    typed = day2.strftime("%d/%m/%Y")  # the C locale reads as British English: dd/MM/yyyy
    type_over(qtbot, filters.date_from, typed)
    qtbot.keyClick(filters.date_from, Qt.Key.Key_Return)
    type_over(qtbot, filters.date_to, day2.strftime("%d.%m.%y"))  # dots, a two-digit year
    with qtbot.waitSignal(view.model.query_finished, timeout=WAIT):
        qtbot.keyClick(filters.date_to, Qt.Key.Key_Return)
    flt = view.model.query.flt
    midnight = datetime.combine(day2, datetime.min.time()).astimezone()
    assert (flt.since, flt.until) == (midnight, midnight + timedelta(days=1))
    assert filters.date_to.text() == typed  # written back in full: how it was understood
    expected = {
        s.rid
        for s in FIXTURE
        if (datetime(2026, 3, 1, 9, tzinfo=UTC) + timedelta(hours=s.hours)).astimezone().date()
        == day2
    }
    assert set(first_ids(view.model)) == expected


def test_a_typed_text_that_is_no_date_is_said_and_changes_nothing(qtbot, view: HistoryView):
    filters = view.filters
    filters.set_period(Period.CUSTOM, (date(2026, 3, 1), date(2026, 3, 2)))
    settle(qtbot, view.model)
    before = view.model.query.flt
    type_over(qtbot, filters.date_to, "31/02/2026")
    qtbot.keyClick(filters.date_to, Qt.Key.Key_Return)
    assert filters.date_to.text() == "31/02/2026"  # kept as typed, marked
    assert filters.date_problem.isVisible()
    assert "“31/02/2026” is not a date" in filters.date_problem.text()
    assert view.model.query.flt == before
    type_over(qtbot, filters.date_to, "2026-03-03")  # ISO is understood in any language
    with qtbot.waitSignal(view.model.query_finished, timeout=WAIT):
        qtbot.keyClick(filters.date_to, Qt.Key.Key_Return)
    assert not filters.date_problem.isVisible()
    assert view.model.query.flt.until == datetime(2026, 3, 4).astimezone()
