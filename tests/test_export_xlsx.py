"""XLSX export (store/export_xlsx.py) and ``walleo-desktop export OUT.xlsx``: real workbooks,
read back with openpyxl (types, formats, frozen header, filter, the Totals sheet), and opened
by a real LibreOffice where one is installed. No Qt."""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import keyring
import keyring.backends.null
import openpyxl
import pytest
from test_export import CIPHER, CODES, FIXTURE, PINS, T0, fill_fixture, run_export

from walleo_desktop.engine.datakey import open_history
from walleo_desktop.store import CardRecord, HistoryFilter, NewPull, PullState, StoreCore
from walleo_desktop.store import export_xlsx as export_xlsx_module
from walleo_desktop.store.columns import EXPORT_COLUMNS, SECRET_COLUMNS
from walleo_desktop.store.export_xlsx import export_xlsx
from walleo_desktop.store.sqlite import open_core as open_store
from walleo_desktop.store.summary import Tally

PARIS = ZoneInfo("Europe/Paris")
LABELS = [c.label for c in EXPORT_COLUMNS]
LONG_CODE, ZERO_PIN = "4070000000000000123", "0389"  # 19 digits; a PIN with a leading zero
INJECTION = (  # XlsxWriter's constant-memory mode once wrote this raw: a live formula cell
    '<r><t>x</t></r></is></c><c r="Z9" t="str"><f>HYPERLINK("http://evil","y")</f>'
    "<v>y</v></c><c><is><r><t>z</t></r>"
)


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[StoreCore]:
    """test_export's history: every figure is worked out by hand there."""
    with open_store(tmp_path / "data" / "history.sqlite3", cipher=CIPHER) as opened:
        fill_fixture(opened, monkeypatch)
        yield opened


@pytest.fixture
def demo_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A data dir whose demo history (no profile, no WALLEO_* variables) is the fixture."""
    data = tmp_path / "cli-data"
    keyring.set_keyring(keyring.backends.null.Keyring())  # the key goes to the key file
    opened, _key = open_history(data / "demo-history.sqlite3")
    with opened as s:
        fill_fixture(s, monkeypatch)
    return data


def add_card_pull(store: StoreCore, rid: str, code: str, pin: str, reference: str = "") -> None:
    [pull] = store.add_pulls(
        [NewPull(request_id=rid, gift_card_code="FNAC", gift_card_name="Fnac", amount=10,
                 discount=4, reference=reference)]
    )  # fmt: skip
    store.record_card(
        pull.id,
        CardRecord(
            card_id=f"card-{rid}",
            pull_id=pull.id,
            code=code,
            pin_code=pin,
            expire_at=datetime(2027, 6, 23, 22, 0, tzinfo=UTC),  # 24 June in Paris
            amount=10,
            gift_card_code="FNAC",
            pdf_url="",
            created_at=T0,
        ),
    )


def ooxml(text: object) -> object:
    """A cell's text as Excel reads it: ``_x000D_`` is OOXML's escape for a carriage return
    (XlsxWriter escapes control characters so; openpyxl leaves inline strings escaped)."""
    if not isinstance(text, str):
        return text
    return re.sub(r"_x([0-9A-Fa-f]{4})_", lambda m: chr(int(m.group(1), 16)), text)


def formulas_and_cells(path: Path) -> tuple[list[str], set[str]]:
    """The formulas of the History sheet, and the references of its cells."""
    ns = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    with zipfile.ZipFile(path) as z:
        root = ET.fromstring(z.read("xl/worksheets/sheet1.xml"))  # noqa: S314 (ours)
    return [f.text or "" for f in root.iter(f"{ns}f")], {
        c.get("r", "") for c in root.iter(f"{ns}c")
    }


def all_xml(path: Path) -> str:
    with zipfile.ZipFile(path) as z:
        return "".join(z.read(n).decode("utf-8", "replace") for n in z.namelist())


def rows_by_rid(ws) -> dict[str, dict[str, object]]:
    header = [c.value for c in ws[1]]
    rid = header.index("Request ID")
    return {
        row[rid].value: {h: c for h, c in zip(header, row, strict=False)}
        for row in ws.iter_rows(min_row=2)
    }


# -- types -------------------------------------------------------------------------------------


def test_cells_are_typed_numbers_dates_and_text(store: StoreCore, tmp_path: Path) -> None:
    out = tmp_path / "history.xlsx"
    result = export_xlsx(store, HistoryFilter(), out, tz=PARIS, descending=False)
    assert (result.rows, result.cancelled, result.path) == (len(FIXTURE), False, out)
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["History", "Totals"]
    ws = book["History"]
    assert [c.value for c in ws[1]] == LABELS
    assert ws.freeze_panes == "A2"
    last = openpyxl.utils.get_column_letter(len(LABELS))
    assert ws.auto_filter.ref == f"A1:{last}{len(FIXTURE) + 1}"
    assert ws.column_dimensions["A"].width >= 17  # a date-time fits
    assert ws.column_dimensions[openpyxl.utils.get_column_letter(LABELS.index("Request ID") + 1)
                                ].width >= 40  # fmt: skip
    rows = rows_by_rid(ws)
    assert list(rows) == [s.rid for s in FIXTURE]  # the view's order (oldest first here)
    one = rows["REQ-1"]
    # A real date-time, in Paris time (09:00 UTC is 10:00 there on 1 March), no zone.
    assert one["Date"].value == datetime(2026, 3, 1, 10, 0) and one["Date"].is_date
    assert one["Amount"].value == 50 and one["Amount"].data_type == "n"
    assert "€" in one["Amount"].number_format
    assert one["Cost"].value == pytest.approx(48.0) and "0.00" in one["Cost"].number_format
    # The expiry is a day: a real date (openpyxl reads it as midnight of that day).
    expected_day = (T0 + timedelta(days=365)).astimezone(PARIS).date()
    assert one["Expires"].is_date and one["Expires"].value.date() == expected_day
    assert one["Status"].value == "success" and one["Request ID"].data_type == "s"
    assert one["Code"].value == "4444" and one["Code"].data_type == "s"
    # No cost where nothing was issued; no expiry without a card.
    for rid in ("REQ-4", "REQ-5", "REQ-6", "REQ-8"):
        assert rows[rid]["Cost"].value is None
        assert rows[rid]["Expires"].value is None
    assert rows["REQ-4"]["Error"].value == "No stock"
    # Whatever a person typed stays exactly the text it is, never a formula.
    for spec in FIXTURE:
        cell = rows[spec.rid]["Reference"]
        assert ooxml(cell.value) == spec.reference
        assert cell.data_type == "s" or not spec.reference
    assert formulas_and_cells(out)[0] == []


def test_times_follow_the_time_zone_asked_for(store: StoreCore, tmp_path: Path) -> None:
    out = tmp_path / "ny.xlsx"
    export_xlsx(store, HistoryFilter(), out, tz=timezone(timedelta(hours=-5)), descending=False)
    ws = openpyxl.load_workbook(out)["History"]
    assert ws["A2"].value == datetime(2026, 3, 1, 4, 0)
    comment = ws["A1"].comment
    assert comment is not None and "UTC-05:00" in comment.text and "no time zone" in comment.text


def test_a_text_shaped_like_xlsxwriters_rich_text_stays_text(
    store: StoreCore, tmp_path: Path
) -> None:
    add_card_pull(store, "REQ-RICH", "1234123412341234", "1111", reference=INJECTION)
    out = tmp_path / "rich.xlsx"
    export_xlsx(store, HistoryFilter(search="REQ-RICH"), out)
    cell = rows_by_rid(openpyxl.load_workbook(out)["History"])["REQ-RICH"]["Reference"]
    assert cell.value == INJECTION and cell.data_type == "s"
    formulas, cells = formulas_and_cells(out)
    assert formulas == [] and "Z9" not in cells  # no formula, no cell smuggled in


# -- codes ------------------------------------------------------------------------------------


def test_codes_only_when_asked_as_text_with_their_zeros(store: StoreCore, tmp_path: Path) -> None:
    add_card_pull(store, "REQ-LONG", LONG_CODE, ZERO_PIN)
    plain = tmp_path / "plain.xlsx"
    export_xlsx(store, HistoryFilter(), plain)
    text = all_xml(plain)
    for secret in [*CODES, LONG_CODE]:
        assert secret not in text
    assert [c.value for c in openpyxl.load_workbook(plain)["History"][1]] == LABELS
    assert [e for e in store.events() if e.kind == "codes_exported"] == []

    out = tmp_path / "codes.xlsx"
    flt = HistoryFilter(states=(PullState.SUCCESS,))
    result = export_xlsx(store, flt, out, with_codes=True, agent="finance.anne")
    assert out.stat().st_mode & 0o777 == 0o600  # codes: owner only
    ws = openpyxl.load_workbook(out)["History"]
    assert [c.value for c in ws[1]] == LABELS + [c.label for c in SECRET_COLUMNS]
    rows = rows_by_rid(ws)
    long = rows["REQ-LONG"]
    assert long["Full code"].value == LONG_CODE and long["Full code"].data_type == "s"
    assert long["PIN"].value == ZERO_PIN and long["PIN"].data_type == "s"
    assert {r["Full code"].value for r in rows.values()} == {*CODES, LONG_CODE}
    assert rows["REQ-3"]["PIN"].value is None  # a card without a PIN
    [event] = [e for e in store.events() if e.kind == "codes_exported"]
    assert event.detail == {
        "agent": "finance.anne",
        "rows": result.rows,
        "path": "codes.xlsx",
        "format": "xlsx",
        "filter": {"states": ["success"]},
    }
    # What an event says (its kind and detail; not its time, whose microseconds can spell a
    # 4-digit PIN by chance) holds no code and no PIN.
    said = repr([(e.kind, e.detail) for e in store.events()])
    assert not any(secret in said for secret in [*CODES, *PINS, LONG_CODE])


# -- the Totals sheet -------------------------------------------------------------------------


def totals_table(ws) -> dict[tuple[str, str], dict[str, object]]:
    cells = [[c.value for c in row] for row in ws.iter_rows()]
    start = next(i for i, row in enumerate(cells) if row[0] == "Brand code")
    header = cells[start]
    return {
        (row[0], row[2]): dict(zip(header, row, strict=False))
        for row in cells[start + 1 :]
        if row[0]
    }


def test_the_totals_sheet_sums_what_was_exported(store: StoreCore, tmp_path: Path) -> None:
    out = tmp_path / "totals.xlsx"
    flt = HistoryFilter(since=T0 - timedelta(days=1))
    export_xlsx(store, flt, out, agent="finance.anne", tz=PARIS)
    ws = openpyxl.load_workbook(out)["Totals"]
    facts = {row[0].value: row[1] for row in ws.iter_rows(min_row=3, max_row=9)}
    assert facts["Generated by"].value == "finance.anne"
    assert facts["Generated at"].is_date
    assert facts["Rows"].value == len(FIXTURE)
    assert facts["Filter"].value == "from 2026-02-28 10:00"  # local (Paris) time
    assert facts["Order"].value == "Date, descending"
    assert "Europe/Paris" in facts["Times"].value and "no time zone" in facts["Times"].value
    table = totals_table(ws)
    fnac = table[("FNAC", "EUR")]
    assert (fnac["Cards issued"], fnac["Face value"], fnac["Cost"]) == (3, 85, pytest.approx(81.6))
    ikea = table[("IKEA", "EUR")]
    assert (ikea["Cards issued"], ikea["Failed"], ikea["of which error"]) == (1, 1, 1)
    assert table[("SEPHORA", "EUR")]["In doubt"] == 1
    assert table[("SEPHORA", "EUR")]["of which rejected"] == 1
    assert table[("DECATHLON", "EUR")]["Pending"] == 1
    total = table[("Total", "EUR")]
    # The same figures as the history view's totals for the same filter.
    view = store.totals(flt)
    assert total["Cards issued"] == view.count and total["Face value"] == view.face_value
    assert total["Cost"] == pytest.approx(view.cost)
    assert (total["Failed"], total["In doubt"], total["Pending"]) == (
        view.failed,
        view.in_doubt,
        view.pending,
    )
    assert total["Pulls"] == len(FIXTURE)
    assert "€" in ws.cell(row=ws.max_row, column=5).number_format


def test_the_filter_is_described_without_the_search_text(store: StoreCore, tmp_path: Path) -> None:
    out = tmp_path / "search.xlsx"
    export_xlsx(store, HistoryFilter(search=CODES[0], states=(PullState.SUCCESS,)), out)
    ws = openpyxl.load_workbook(out)["Totals"]
    described = next(r[1].value for r in ws.iter_rows() if r[0].value == "Filter")
    assert described.startswith("status success; a search")
    assert CODES[0] not in all_xml(out)


def test_tally_counts_each_state_once() -> None:
    tally = Tally()
    for state in ("success", "success", "error", "rejected", "in_doubt", "queued", "sending"):
        tally.add("FNAC", "Fnac", "EUR", state, 20, 1920 if state == "success" else None)
    tally.add("FNAC", "Fnac", "USD", "waiting", 10, None)
    eur, usd = tally.lines()
    assert (eur.cards, eur.face_value, eur.cost_cents) == (2, 40, 3840)
    assert (eur.errors, eur.rejected, eur.failed, eur.in_doubt, eur.pending) == (1, 1, 2, 1, 2)
    assert (usd.currency, usd.pending, usd.face_value) == ("USD", 1, 0)
    assert [(t.currency, t.pulls) for t in tally.totals()] == [("EUR", 7), ("USD", 1)]
    with pytest.raises(ValueError):
        tally.add("FNAC", "Fnac", "EUR", "lost", 20, None)


# -- big exports, cancel, failure ---------------------------------------------------------------


def test_a_sheet_full_continues_on_the_next(
    store: StoreCore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(export_xlsx_module, "SHEET_ROWS", 3)
    out = tmp_path / "split.xlsx"
    export_xlsx(store, HistoryFilter(), out, descending=False)
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["History", "History 2", "History 3", "Totals"]
    seen = []
    for name in book.sheetnames[:-1]:
        ws = book[name]
        assert [c.value for c in ws[1]] == LABELS and ws.freeze_panes == "A2"
        assert ws.auto_filter.ref is not None
        seen += list(rows_by_rid(ws))
    assert seen == [s.rid for s in FIXTURE]


def big_history(path: Path, rows: int) -> StoreCore:
    big = open_store(path)
    big.add_pulls(
        [NewPull(request_id=f"R-{i:05d}", gift_card_code="FNAC", amount=10) for i in range(rows)]
    )
    return big


def test_cancel_leaves_nothing_behind(store: StoreCore, tmp_path: Path) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    result = export_xlsx(
        store, HistoryFilter(), folder / "x.xlsx", with_codes=True, cancel=lambda: True
    )
    assert result.cancelled
    assert list(folder.iterdir()) == []  # no file, no temporary folder either
    assert [e for e in store.events() if e.kind == "codes_exported"] == []


def test_cancel_midway_keeps_the_previous_file(tmp_path: Path) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    out = folder / "report.xlsx"
    out.write_bytes(b"previous report")
    calls: list[int] = []
    progress: list[tuple[int, int]] = []

    def cancel() -> bool:
        calls.append(1)
        return len(calls) >= 2

    with big_history(tmp_path / "big.sqlite3", 5000) as big:
        result = export_xlsx(
            big, HistoryFilter(), out, cancel=cancel, progress=lambda d, t: progress.append((d, t))
        )
    assert result.cancelled and 0 < result.rows < 5000
    assert progress == [(2000, 5000)]
    assert out.read_bytes() == b"previous report"
    assert [p.name for p in folder.iterdir()] == ["report.xlsx"]


def test_a_failed_export_leaves_nothing(store: StoreCore, tmp_path: Path) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    with pytest.raises(ValueError, match="cannot sort"):
        export_xlsx(store, HistoryFilter(), folder / "bad.xlsx", sort="nope")

    def broken(done: int, total: int) -> None:
        raise OSError("disk full")

    with big_history(tmp_path / "big.sqlite3", 3000) as big, pytest.raises(OSError):
        export_xlsx(big, HistoryFilter(), folder / "bad.xlsx", progress=broken)
    assert list(folder.iterdir()) == []


def test_nothing_of_xlsxwriter_on_the_first_paints_path() -> None:
    """The workbook, the shift report's PDF and the print dialog load when first used."""
    code = (
        "import sys\n"
        "import walleo_desktop.store.export_xlsx, walleo_desktop.ui.main_window\n"
        "import walleo_desktop.ui.export_dialog, walleo_desktop.cli\n"
        "late = ('xlsxwriter', 'openpyxl', 'reportlab', 'PySide6.QtPrintSupport')\n"
        "print(sorted(m for m in sys.modules if m.startswith(late)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


# -- a real spreadsheet program ----------------------------------------------------------------


def test_libreoffice_opens_it_without_a_question(store: StoreCore, tmp_path: Path) -> None:
    # scripts/bootstrap.sh --test installs it: never a silent skip.
    assert shutil.which("libreoffice"), "LibreOffice missing: run scripts/bootstrap.sh --test"
    add_card_pull(store, "REQ-LONG", LONG_CODE, ZERO_PIN, reference=INJECTION)
    out = tmp_path / "history.xlsx"
    export_xlsx(store, HistoryFilter(), out, with_codes=True, descending=False)
    profile = tmp_path / "lo-profile"
    done = subprocess.run(
        [
            "libreoffice",
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--norestore",
            "--convert-to",
            "csv:Text - txt - csv (StarCalc):44,34,76",  # comma, quote, UTF-8
            "--outdir",
            str(tmp_path / "csv"),
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=100,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stderr
    assert "Error" not in done.stderr, done.stderr  # "source file could not be loaded"...
    text = (tmp_path / "csv" / "history.csv").read_text("utf-8")
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert len(rows) == len(FIXTURE) + 1  # every row (and the one added here)
    long = next(row for row in rows if row["Request ID"] == "REQ-LONG")
    assert (long["Full code"], long["PIN"]) == (LONG_CODE, ZERO_PIN)  # not 4.07E+18, not 389
    assert long["Reference"] == INJECTION  # the text, not a formula it ran
    # Every reference as the text it is (LibreOffice writes a carriage return as a line feed).
    assert {r["Reference"] for r in rows} >= {s.reference.replace("\r", "\n") for s in FIXTURE}


# -- the headless command ----------------------------------------------------------------------


def test_cli_exports_xlsx_by_extension_or_format(demo_data: Path, tmp_path: Path) -> None:
    out = tmp_path / "fnac.xlsx"
    r = run_export([str(out), "--gift-card", "FNAC", "--status", "success"], demo_data)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == f"3 rows written to {out}"
    ws = openpyxl.load_workbook(out)["History"]
    assert [row["Amount"].value for row in rows_by_rid(ws).values()] == [15, 20, 50]
    assert ws["A2"].is_date  # TZ=UTC in run_export: 78 h after T0
    assert ws["A2"].value == datetime(2026, 3, 4, 15, 0)
    named = tmp_path / "report.data"
    r = run_export([str(named), "--format", "xlsx", "--status", "error"], demo_data)
    assert r.returncode == 0, r.stderr
    assert zipfile.is_zipfile(named)
    book = openpyxl.load_workbook(io.BytesIO(named.read_bytes()))  # any name
    assert [c.value for c in book["History"][1]] == LABELS
    r = run_export([str(tmp_path / "x.xlsx"), "--preset", "excel-fr"], demo_data)
    assert r.returncode == 2 and "--preset" in r.stderr
    r = run_export([str(tmp_path / "x.csv"), "--format", "xlsx"], demo_data)
    assert r.returncode == 2 and ".csv" in r.stderr


def test_day_in_paris_is_the_expiry_written(store: StoreCore, tmp_path: Path) -> None:
    add_card_pull(store, "REQ-DAY", "9999888877776666", "")
    out = tmp_path / "day.xlsx"
    export_xlsx(store, HistoryFilter(search="REQ-DAY"), out, tz=timezone(timedelta(hours=-8)))
    row = rows_by_rid(openpyxl.load_workbook(out)["History"])["REQ-DAY"]
    assert row["Expires"].value.date() == date(2027, 6, 24)  # Walleo's day, wherever one is
