"""Bulk orders from a file (engine/bulk.py): reading real CSV and XLSX files, the preview's
checks and figures, issuing one batch against the simulator over real HTTP, a crash mid-batch,
the same file twice, pause and resume, the results file."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import random
import sys
import threading
import zipfile
from dataclasses import replace
from pathlib import Path

import openpyxl
import pytest

from walleo_desktop.api import WalleoClient
from walleo_desktop.api.models import GiftCard
from walleo_desktop.engine import PollPolicy, PullEngine, bulk
from walleo_desktop.engine.bulk import BulkFileError, BulkRun, parse_amount, read_order
from walleo_desktop.simulator import DEMO_CREDENTIALS, Simulator, SimulatorConfig, serve_in_thread
from walleo_desktop.simulator._catalog import load_catalog
from walleo_desktop.store import Owner, Store
from walleo_desktop.store.crypto import CardCipher, new_data_key
from walleo_desktop.store.records import PullState, utcnow

FAST = PollPolicy(
    first_check=0.05, min_interval=0.1, max_interval=0.2, slow_interval=0.4, create_retry_base=0.05
)
CATALOG = [GiftCard.from_json(b.to_api("http://127.0.0.1")) for b in load_catalog()]
HEADER = "brand,amount,quantity,reference,note\n"


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def problems(row: bulk.OrderRow) -> list[str]:
    return [p.kind for p in row.errors]


# ------------------------------------------------------------------------------ reading


@pytest.mark.parametrize(
    ("cell", "value", "kind"),
    [
        ("50", 50, None),
        ("50,00 €", 50, None),
        ("50.0", 50, None),
        ("€ 50", 50, None),
        ("EUR 30", 30, None),
        ("1 000", 1000, None),
        ("1\u202f000,00", 1000, None),
        ("1,000.00", 1000, None),
        ("1.000,00", 1000, None),
        ("1,000,000", 1000000, None),
        (50.0, 50, None),
        (50, 50, None),
        ("1,000", None, "amount_ambiguous"),  # 1000, or 1 with three decimals: never guessed
        ("1.500", None, "amount_ambiguous"),
        ("50,50", None, "amount_not_whole"),
        ("50.5", None, "amount_not_whole"),
        (50.5, None, "amount_not_whole"),
        ("=25*2", None, "amount_formula"),
        ("-5", None, "amount_not_number"),
        ("50 €7", None, "amount_not_number"),
        ("fifty", None, "amount_not_number"),
        (True, None, "amount_not_number"),
        (dt.date(2026, 11, 25), None, "amount_date"),
        ("0", None, "amount_out_of_range"),
        ("", None, "missing_amount"),
    ],
)
def test_amounts_are_read_exactly_or_refused_never_guessed(cell, value, kind):
    amount, problem = parse_amount(cell)
    assert amount == value
    assert (problem.kind if problem else None) == kind


def test_french_semicolon_csv_with_bom_accents_and_excel_quoting(tmp_path):
    text = (
        "\ufeffMarque;MONTANT;Quantité;Référence;Note;E-mail\r\n"
        'Fnac;"50,00 €";2;T-1;"a; b ""quoted""";x@example.fr\r\n'
        ";;;;;\r\n"
        "sephora;25;;T-2;;\r\n"
    )
    preview = read_order(write(tmp_path / "o.csv", text), CATALOG)
    assert preview.delimiter == ";" and preview.skipped_empty == 1 and preview.notes == []
    first, second = preview.rows
    assert (first.number, first.gift_card.code, first.amount, first.count) == (2, "FNAC", 50, 2)
    assert first.note == 'a; b "quoted"' and first.email == "x@example.fr"
    # a code in any case, or the exact name; quantity defaults to 1
    assert (second.number, second.gift_card.code, second.count) == (4, "SEPHORA", 1)
    assert preview.cards == 3 and preview.value == 125
    assert [(t.code, t.cards, t.value) for t in preview.totals] == [
        ("FNAC", 2, 100),
        ("SEPHORA", 1, 25),
    ]


def test_windows_1252_file_is_read_and_said(tmp_path):
    text = HEADER + "FNAC,50,1,Réf-é,café\n"
    preview = read_order(write(tmp_path / "o.csv", text, "cp1252"), CATALOG)
    assert [n.kind for n in preview.notes] == ["encoding_cp1252"]
    assert preview.rows[0].reference == "Réf-é" and preview.rows[0].note == "café"


def test_every_bad_row_is_named_with_its_row_number_and_reason(tmp_path):
    text = HEADER + (
        "NOPE,50,1,R-1,\n"  # 2 unknown brand
        "FNAC,12,1,R-2,\n"  # 3 off Fnac's steps of 5
        "SEPHORA,30,1,R-3,\n"  # 4 not one of Sephora's amounts
        "FNAC,50,0,R-4,\n"  # 5 quantity
        "FNAC,50,2.5,R-5,\n"  # 6 quantity
        "FNAC,50,1,,\n"  # 7 no reference
        ",50,1,R-7,\n"  # 8 no brand
        "FNAC,50,1,R-8,\n"  # 9 fine, but its reference is repeated on row 10
        "FNAC,100,1,R-8,\n"  # 10
        'FNAC,50,1,=HYPERLINK("x"),\n'  # 11 kept as text, with a warning
        "\n"  # empty
        'FNAC,50,1,"two\nlines",\n'  # 13 a line break in a reference
    )
    preview = read_order(write(tmp_path / "o.csv", text), CATALOG)
    by = {r.number: r for r in preview.rows}
    assert problems(by[2]) == ["unknown_brand"]
    assert problems(by[3]) == ["amount_refused"] and "steps of 5" in by[3].errors[0].text
    assert problems(by[4]) == ["amount_refused"]
    assert problems(by[5]) == ["quantity_out_of_range"]
    assert problems(by[6]) == ["quantity_invalid"]
    assert problems(by[7]) == ["missing_reference"]
    assert problems(by[8]) == ["missing_brand"]
    assert by[9].ok and [w.kind for w in by[9].warnings] == ["reference_repeated"]
    assert "10" in by[9].warnings[0].text and "9" in by[10].warnings[0].text
    assert by[11].ok and by[11].reference == '=HYPERLINK("x")'
    assert [w.kind for w in by[11].warnings] == ["formula_text"]
    assert problems(by[13]) == ["control_chars"]
    assert preview.skipped_empty == 1
    assert preview.cards == 3 and preview.value == 200
    assert sorted(r.number for r in preview.error_rows) == [2, 3, 4, 5, 6, 7, 8, 13]


def test_rows_are_built_when_asked_for_and_the_summary_counts_every_one(tmp_path):
    # The preview stores rows compactly (issue 13's 2x budget) and builds a row object only
    # when asked; what a window shows without walking 50,000 rows is counted in ``summary``.
    text = HEADER + "".join(
        f"{brand},{amount},{quantity},R-{i},\n"
        for i, (brand, amount, quantity) in enumerate(
            [("FNAC", 50, 2), ("NOPE", 50, 1), ("IKEA", 20, 1), ("FNAC", 12, 1)] * 3
        )
    )
    text += "FNAC,50,1,,\nIKEA,20,3,R-0,\n"  # a row's own error; a repeated reference
    preview = read_order(write(tmp_path / "o.csv", text), CATALOG)
    rows = preview.rows
    assert list(rows.built()) == []  # reading built nothing
    summary = preview.summary
    assert (summary.rows, summary.error_rows, summary.duplicate_rows) == (14, 7, 0)
    issue = summary.to_issue(include_duplicates=False)
    assert issue == summary.to_issue(include_duplicates=True)
    assert (issue.rows, issue.cards, issue.value) == (7, 12, 420)
    assert [(t.code, t.cards, t.value) for t in issue.brands] == [
        ("FNAC", 6, 300),
        ("IKEA", 6, 120),
    ]
    assert (preview.cards, preview.value) == (issue.cards, issue.value)
    # the same figures as the rows themselves give
    assert len(preview.error_rows) == 7 and len(preview.to_issue(include_duplicates=True)) == 7
    assert sum(r.cards for r in rows) == 12 and sum(r.cards * (r.amount or 0) for r in rows) == 420
    assert [r.number for r in preview.warning_rows] == [2, 15]
    assert problems(rows[12]) == ["missing_reference"] and rows[12].number == 14
    # one object per row, kept (what check_history sets on it stays); negative and slices
    assert rows[3] is rows[3] and rows[-1] is rows[13] and rows[-1].number == 15
    assert [r.number for r in rows[1:4]] == [3, 4, 5]
    with pytest.raises(IndexError):
        rows[14]
    assert rows.by_number(15) is rows[13] and rows.by_number(1) is None


def test_a_row_asked_for_by_two_threads_at_once_is_built_once(tmp_path):
    # A window paints rows while a run lists the rows to issue in a thread: both must get
    # the same object (what check_history set on it must not be lost to a second copy).
    path = write(tmp_path / "o.csv", HEADER + "".join(f"IKEA,20,1,R-{i},\n" for i in range(20_000)))
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as the interpreter can
    try:
        for _ in range(3):
            rows = read_order(path, CATALOG).rows
            seen: list[list[bulk.OrderRow]] = [[], []]
            threads = [threading.Thread(target=seen[k].extend, args=(rows,)) for k in (0, 1)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert sum(a is not b for a, b in zip(*seen, strict=True)) == 0
    finally:
        sys.setswitchinterval(interval)


def test_a_ten_megabyte_cell_refuses_its_row_only(tmp_path):
    huge = "x" * (10 * 1024 * 1024)
    text = HEADER + "FNAC,50,1,R-1,\n" + f"FNAC,50,1,R-2,{huge}\n" + "FNAC,50,1,R-3,\n"
    preview = read_order(write(tmp_path / "o.csv", text), CATALOG)
    by = {r.number: r for r in preview.rows}
    assert problems(by[3]) == ["too_long"] and by[3].errors[0].params["column"] == "note"
    assert len(by[3].note) <= 200  # the preview does not keep ten megabytes around
    assert by[2].ok and by[4].ok and preview.cards == 2


def test_file_level_refusals(tmp_path):
    with pytest.raises(BulkFileError) as e:
        read_order(write(tmp_path / "o.csv", "brand,quantity\nFNAC,1\n"), CATALOG)
    assert e.value.problem.kind == "missing_columns" and "amount, reference" in str(e.value)
    with pytest.raises(BulkFileError) as e:
        read_order(write(tmp_path / "o.csv", "name,price\nFNAC,1\n"), CATALOG)
    assert e.value.problem.kind == "no_header"
    with pytest.raises(BulkFileError) as e:  # both delimiters give the same known columns
        read_order(write(tmp_path / "o.csv", "brand,amount;reference\n"), CATALOG)
    assert e.value.problem.kind in ("delimiter_unclear", "missing_columns")
    with pytest.raises(BulkFileError) as e:
        read_order(write(tmp_path / "o.csv", "\n\n"), CATALOG)
    assert e.value.problem.kind == "empty"
    with pytest.raises(BulkFileError) as e:
        read_order(write(tmp_path / "o.csv", HEADER + 'FNAC,50,1,"R-1\n'), CATALOG)
    assert e.value.problem.kind == "bad_csv" and "Row 2" in str(e.value)
    with pytest.raises(BulkFileError) as e:
        read_order(write(tmp_path / "o.csv", "brand,amount,reference,Montant\n"), CATALOG)
    assert e.value.problem.kind == "duplicate_column"
    big = tmp_path / "big.csv"
    with big.open("wb") as f:
        f.truncate(bulk.MAX_FILE_BYTES + 1)
    with pytest.raises(BulkFileError) as e:
        read_order(big, CATALOG)
    assert e.value.problem.kind == "too_big"
    with pytest.raises(BulkFileError) as e:
        read_order(write(tmp_path / "o.pdf", "x"), CATALOG)
    assert e.value.problem.kind == "unsupported"


def test_more_rows_than_a_batch_holds_is_refused(tmp_path):
    lines = [f"FNAC,50,1,R-{i}\n" for i in range(bulk.MAX_ROWS + 1)]
    path = write(tmp_path / "o.csv", "brand,amount,quantity,reference\n" + "".join(lines))
    with pytest.raises(BulkFileError) as e:
        read_order(path, CATALOG)
    assert e.value.problem.kind == "too_many_rows"


def test_more_cards_than_a_batch_holds_blocks_the_order(tmp_path):
    lines = [f"FNAC,50,1000,R-{i}\n" for i in range(51)]
    preview = read_order(write(tmp_path / "o.csv", HEADER + "".join(lines)), CATALOG)
    assert preview.cards == 51_000 and [p.kind for p in preview.blocking] == ["too_many_cards"]


def test_xlsx_numbers_dates_formulas_and_row_numbers(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Commande"
    ws["B3"] = "Marque"  # a title row and a column left empty: row numbers as Excel shows them
    ws["C3"] = "Montant"
    ws["D3"] = "Qté"
    ws["E3"] = "Réf"
    ws["F3"] = "Note"
    ws.append([None, "FNAC", 50.0, 2.0, 12345.0, dt.date(2026, 11, 25)])  # row 4
    ws.append([None, "Sephora", "=25*2", 1, "R-5", None])  # 5: a formula without a value
    ws.append([None, "IKEA", dt.datetime(2026, 1, 1), 1, "R-6", None])  # 6: a date amount
    ws.append([None, "IKEA", 20.5, 1, "R-7", None])  # 7
    ws.append([])
    ws.append([None, "IKEA", 20, 1, "=A1", "+note"])  # 9: a formula-looking text?
    ws["E9"].value = "=A1"
    ws["E9"].data_type = "s"  # text that looks like a formula, as typed after a quote
    hidden = wb.create_sheet("Hidden")
    hidden.sheet_state = "hidden"
    path = tmp_path / "o.xlsx"
    wb.save(path)
    preview = read_order(path, CATALOG)
    by = {r.number: r for r in preview.rows}
    assert sorted(by) == [4, 5, 6, 7, 9] and preview.skipped_empty == 1
    assert (by[4].amount, by[4].count, by[4].reference, by[4].note) == (
        50,
        2,
        "12345",
        "2026-11-25",
    )
    assert problems(by[5]) == ["missing_amount"]  # never computed here
    assert problems(by[6]) == ["amount_date"]
    assert problems(by[7]) == ["amount_not_whole"]
    assert by[9].ok and by[9].reference == "=A1" and by[9].note == "+note"
    assert {w.kind for w in by[9].warnings} == {"formula_text"}


def test_an_xlsx_that_unpacks_to_too_much_is_refused_before_it_is_read(tmp_path):
    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/worksheets/sheet1.xml", b"\0" * (bulk.MAX_UNPACKED_BYTES + 1))
    assert path.stat().st_size < 1_000_000
    with pytest.raises(BulkFileError) as e:
        read_order(path, CATALOG)
    assert e.value.problem.kind == "unpacked_too_big"
    with pytest.raises(BulkFileError) as e:
        read_order(write(tmp_path / "not.xlsx", "brand,amount\n"), CATALOG)
    assert e.value.problem.kind == "bad_xlsx"


# ------------------------------------------------------------------------------ issuing


class Desk:
    """One desktop: a history, an engine over real HTTP to the simulator, the catalog."""

    def __init__(
        self, sim_server, store: Store, agent: str = "tester", owner: Owner | None = None
    ) -> None:
        self.client = WalleoClient(sim_server.base_url, DEMO_CREDENTIALS, timeout=5.0)
        self.store = store
        self.engine = PullEngine(
            self.client,
            store,
            policy=FAST,
            rng=random.Random(1),
            agent=agent,
            profile="p",
            owner=owner,
        )

    async def preview(self, path: Path) -> bulk.Preview:
        return await bulk.preview_file(path, CATALOG, self.store, profile="p")

    async def close(self) -> None:
        await self.engine.close()
        await self.client.aclose()


@pytest.fixture
def server():
    sim = Simulator(
        SimulatorConfig(credentials=DEMO_CREDENTIALS, delay_scale=0.01, seed=3, async_error_rate=0)
    )
    with serve_in_thread(sim, host="127.0.0.1", port=0) as srv:
        yield sim, srv


@pytest.fixture
async def history(tmp_path):
    key = CardCipher(new_data_key())
    stores: list[Store] = []

    async def open_store() -> Store:
        s = await Store.open_sqlite(tmp_path / "history.sqlite3", cipher=key)
        stores.append(s)
        return s

    yield open_store
    for s in stores:
        await s.close()


def order(tmp_path: Path, rows: int, *, name: str = "order.csv", start: int = 0) -> Path:
    brands = [("FNAC", 50), ("SEPHORA", 25), ("IKEA", 20)]
    lines = [
        f"{brands[i % 3][0]},{brands[i % 3][1]},{1 + i % 2},R-{i}\n" for i in range(start, rows)
    ]
    return write(tmp_path / name, "brand,amount,quantity,reference\n" + "".join(lines))


def dead_owner() -> Owner:
    """The owner of a process of this computer that no longer runs (a crashed one)."""
    parts = Owner.new().text.split(":")
    parts[1] = "999999999"
    return Owner(":".join(parts))


async def until(predicate, timeout: float = 20.0, interval: float = 0.01) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():  # noqa: ASYNC110 (a plain condition: nothing to wait on)
            await asyncio.sleep(interval)


def read_results(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))


async def test_one_batch_in_chunks_one_create_per_card_and_a_results_file(
    server, history, tmp_path, monkeypatch
):
    sim, srv = server
    desk = Desk(srv, await history())
    path = order(tmp_path, 40)  # 40 rows, 60 cards
    path.write_text(path.read_text() + "NOPE,50,1,R-x\n")
    preview = await desk.preview(path)
    assert preview.cards == 60 and len(preview.error_rows) == 1 and preview.earlier == []
    assert [r.number for r in preview.rows.built()] == [42]  # error_rows built it; the history none
    transactions: list[int] = []
    add_pulls = desk.store.add_pulls

    async def counting(pulls, **kw):
        transactions.append(len(pulls))
        return await add_pulls(pulls, **kw)

    monkeypatch.setattr(desk.store, "add_pulls", counting)
    run = BulkRun(desk.engine, preview, chunk_cards=20)
    try:
        final = await asyncio.wait_for(run.run(), 60)
    finally:
        await desk.close()
    # each chunk is one transaction, a row never split; 60 cards, one request id each
    assert sum(transactions) == 60 and len(transactions) == 3
    assert len(final) == 60 and {p.state for p in final} == {PullState.SUCCESS}
    assert {p.batch_id for p in final} == {run.batch_id}
    assert len({p.request_id for p in final}) == 60
    assert sim.pull_request_creates == 60  # exactly one create per card
    progress = run.progress
    assert (progress.planned, progress.journaled, progress.sent, progress.issued) == (
        60,
        60,
        60,
        60,
    )
    assert progress.finished and not progress.failed
    results_file, _ = await bulk.write_results(
        desk.store, preview, run.batch_id, since=run.started_at
    )
    assert results_file == tmp_path / f"order-results-{run.batch_id}.csv"
    rows = read_results(results_file)
    assert len(rows) == 41
    assert rows[-1]["status"] == "problem" and "NOPE" in rows[-1]["detail"]
    issued = [r for r in rows if r["status"] == "issued"]
    assert len(issued) == 40
    assert sum(len(r["request_ids"].split()) for r in issued) == 60
    for r in issued:
        last4 = r["card_last4"].split()
        assert len(last4) == len(r["request_ids"].split()) and all(len(x) == 4 for x in last4)
    # never a full code
    text = results_file.read_text(encoding="utf-8-sig")
    for p in final[:5]:
        card = await desk.store.card_for_pull(p.id)
        assert card.code not in text and card.code[-4:] in text
    assert await bulk.open_imports(desk.store) == []  # the import ended


async def test_the_same_file_twice_is_asked_and_issued_again_only_when_confirmed(
    server, history, tmp_path
):
    sim, srv = server
    desk = Desk(srv, await history())
    path = order(tmp_path, 4)
    try:
        first = await desk.preview(path)
        await asyncio.wait_for(BulkRun(desk.engine, first).run(), 30)
        assert sim.pull_request_creates == 6
        again = await desk.preview(path)
        (earlier,) = again.earlier
        assert earlier.file_sha256 == first.file_sha256 and earlier.state == "done"
        assert earlier.agent == "tester" and earlier.cards == 6
        assert len(again.duplicate_rows) == 4  # each row: "already issued on … by …"
        assert again.duplicate_rows[0].duplicates[0].agent == "tester"
        assert again.to_issue(include_duplicates=False) == []
        summary = again.summary  # counted in check_history's thread, for the window
        assert summary.duplicate_rows == 4 and summary.to_issue(include_duplicates=False).rows == 0
        assert summary.to_issue(include_duplicates=True).cards == 6
        with pytest.raises(ValueError, match="no row"):
            await BulkRun(desk.engine, again).run()
        assert sim.pull_request_creates == 6
        # the same rows in another file (reordered, saved as XLSX) are the same order
        wb = openpyxl.Workbook()
        ws = wb.active
        ws.append(["Brand", "Amount", "Quantity", "Reference"])
        for line in reversed(path.read_text().splitlines()[1:]):
            brand, amount, quantity, reference = line.split(",")
            ws.append([brand, int(amount), int(quantity), reference])
        wb.save(tmp_path / "same.xlsx")
        other = await desk.preview(tmp_path / "same.xlsx")
        assert [e.batch_id for e in other.earlier] == [earlier.batch_id]
        # confirmed: issued again, the confirmation journaled with the pulls it overrode
        run = BulkRun(desk.engine, again, include_duplicates=True)
        final = await asyncio.wait_for(run.run(), 30)
        assert len(final) == 6 and sim.pull_request_creates == 12
        journaled = (await desk.store.events(final[0].id))[0]
        assert journaled.detail["confirmed_duplicate_of"]
    finally:
        await desk.close()


async def test_rows_repeating_one_another_across_chunks_need_no_second_question(
    server, history, tmp_path
):
    sim, srv = server
    desk = Desk(srv, await history())
    path = write(tmp_path / "o.csv", HEADER + "FNAC,50,1,SAME,\n" * 3)
    try:
        preview = await desk.preview(path)
        asked: list = []

        async def ask(rows, pulls):
            asked.append(rows)
            return False

        run = BulkRun(desk.engine, preview, chunk_cards=1, on_duplicates=ask)
        final = await asyncio.wait_for(run.run(), 30)
    finally:
        await desk.close()
    assert asked == [] and len(final) == 3 and sim.pull_request_creates == 3


async def test_someone_else_issuing_the_same_row_meanwhile_is_asked(server, history, tmp_path):
    _, srv = server
    store = await history()
    desk, other = Desk(srv, store), Desk(srv, store, agent="colleague")
    path = write(tmp_path / "o.csv", HEADER + "FNAC,50,1,A,\nFNAC,50,1,B,\n")
    try:
        preview = await desk.preview(path)
        assert preview.duplicate_rows == []
        # after the preview, a colleague issues B from the form
        (fnac,) = [g for g in CATALOG if g.code == "FNAC"]
        await other.engine.submit(fnac, 50, reference="B")
        asked = []

        async def ask(rows, pulls):
            asked.append(([r.reference for r in rows], [p.agent for p in pulls]))
            return False

        run = BulkRun(desk.engine, preview, on_duplicates=ask)
        final = await asyncio.wait_for(run.run(), 30)
        assert asked == [(["B"], ["colleague"])]
        assert [p.reference for p in final] == ["A"] and list(run.skipped) == [3]
        _, results = await bulk.write_results(
            store, preview, run.batch_id, since=run.started_at, skipped=run.skipped
        )
        assert [r.status for r in results] == ["issued", "skipped_duplicate"]
    finally:
        await other.close()
        await desk.close()


async def test_pause_holds_the_next_chunk_and_resume_finishes(server, history, tmp_path):
    sim, srv = server
    desk = Desk(srv, await history())
    try:
        preview = await desk.preview(order(tmp_path, 20))  # 30 cards
        run = BulkRun(desk.engine, preview, chunk_cards=5)
        run.pause()
        task = asyncio.ensure_future(run.run())
        await asyncio.sleep(0.5)
        assert run.progress.journaled == 0 and run.progress.paused
        assert sim.pull_request_creates == 0  # paused before anything: nothing sent
        run.resume()
        await until(lambda: run.progress.journaled > 0)
        run.pause()
        await asyncio.sleep(1.0)  # what is journaled is finished; nothing more is journaled
        held = run.progress
        assert 0 < held.journaled < 30 and held.issued == held.journaled and held.waiting > 0
        assert sim.pull_request_creates == held.journaled
        run.resume()
        final = await asyncio.wait_for(task, 30)
    finally:
        await desk.close()
    assert len(final) == 30 and sim.pull_request_creates == 30


async def test_a_crash_mid_batch_loses_nothing_and_the_rest_is_reported_then_continued(
    server, history, tmp_path
):
    sim, srv = server
    path = order(tmp_path, 30)  # 45 cards
    desk = Desk(srv, await history(), owner=dead_owner())
    preview = await desk.preview(path)
    run = BulkRun(desk.engine, preview, chunk_cards=10)
    task = asyncio.ensure_future(run.run())
    await until(lambda: run.progress.journaled >= 10, interval=0.002)
    # the crash: the run and the engine stop at once, mid-batch (the import stays "open")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    journaled_before = run.progress.journaled
    await desk.close()
    assert 10 <= journaled_before < 45

    # next start: the journaled cards resume like any pull
    desk = Desk(srv, await history())
    try:
        resumed = await desk.engine.start()
        finals = await asyncio.wait_for(desk.engine.wait([p.id for p in resumed]), 30)
        assert all(p.state is PullState.SUCCESS for p in finals)
        # the same file again: the interrupted import is found, every row accounted for
        again = await desk.preview(path)
        assert again.continuing is not None and again.continuing.batch_id == run.batch_id
        journaled_rows = [r for r in again.rows if r.journaled]
        assert sum(len(r.journaled) for r in journaled_rows) == journaled_before
        assert again.duplicate_rows == []  # its own cards are not "already issued"
        assert again.summary.journaled_cards == journaled_before
        rest_cards = again.summary.to_issue(include_duplicates=False).cards
        assert rest_cards == 45 - journaled_before
        _, results = await bulk.write_results(
            desk.store, again, run.batch_id, since=again.continuing.at
        )
        statuses = {r.status for r in results}
        assert statuses == {"issued", "not_journaled"}
        assert sum(1 for r in results if r.status == "issued") == len(journaled_rows)
        # continue it: the same batch id, only the rows not journaled
        more = BulkRun(desk.engine, again, chunk_cards=10)
        assert more.batch_id == run.batch_id
        rest = await asyncio.wait_for(more.run(), 30)
        assert len(rest) == 45 - journaled_before
        assert sim.pull_request_creates == 45  # nothing lost, nothing twice
        _, results = await bulk.write_results(
            desk.store, again, run.batch_id, since=again.continuing.at
        )
        assert {r.status for r in results} == {"issued"}
        assert await bulk.open_imports(desk.store) == []
    finally:
        await desk.close()


async def test_a_declined_row_issued_by_a_later_run_of_the_import_is_still_its_own(
    server, history, tmp_path
):
    # align() makes one pass per run of an import: a run journals rows in file order, so one
    # pass is enough until a row left out of one run (already issued in the last 24 hours) is
    # issued by a later run of the same import, after the rows below it in the file. Then
    # its pull comes last, and only a second pass gives it to its row: a single pass would
    # call the row "skipped", and the next continuation would offer it, and issue it, again.
    sim, srv = server
    store = await history()
    desk, other = Desk(srv, store), Desk(srv, store, agent="colleague")
    text = HEADER + "".join(f"FNAC,50,1,{ref},\n" for ref in "ABCD")
    path = write(tmp_path / "o.csv", text)
    try:
        (fnac,) = [g for g in CATALOG if g.code == "FNAC"]
        (issued,) = await other.engine.submit(fnac, 50, reference="B")
        await asyncio.wait_for(other.engine.wait([issued.id]), 30)
        first = await desk.preview(path)
        assert [r.number for r in first.duplicate_rows] == [3]
        run = BulkRun(desk.engine, first)  # B is left out
        assert [p.reference for p in await asyncio.wait_for(run.run(), 30)] == ["A", "C", "D"]

        async def crash_before_done() -> None:
            # a crash after the last chunk, before the import was marked done: it stays open
            assert run.record is not None
            crashed = replace(run.record, state="open", owner=dead_owner().text)
            await bulk.record_import(store, crashed)

        await crash_before_done()
        again = await desk.preview(path)
        assert again.continuing is not None and again.continuing.batch_id == run.batch_id
        assert [r.number for r in again.rows if r.journaled] == [2, 4, 5]
        assert [r.number for r in again.duplicate_rows] == [3]
        later = BulkRun(desk.engine, again, include_duplicates=True)  # now B, same batch
        (late,) = await asyncio.wait_for(later.run(), 30)
        assert (late.reference, late.batch_id) == ("B", run.batch_id)
        # the journal now holds A, C, D, B in that order: every row still gets its own pull
        _, results = await bulk.write_results(
            store, again, run.batch_id, since=again.continuing.at, include_duplicates=True
        )
        assert [r.status for r in results] == ["issued"] * 4
        assert [[h.pull.reference for h in r.pulls] for r in results] == [
            ["A"],
            ["B"],
            ["C"],
            ["D"],
        ]
        assert [h.pull.id for h in results[1].pulls] == [late.id]
        await crash_before_done()  # interrupted once more: nothing is left to issue
        last = await desk.preview(path)
        assert [r.number for r in last.rows if r.journaled] == [2, 3, 4, 5]
        assert last.to_issue(include_duplicates=True) == []
        assert sim.pull_request_creates == 5  # B twice: the colleague's, and the one confirmed
    finally:
        await other.close()
        await desk.close()


async def test_an_import_running_elsewhere_is_not_continued(server, history, tmp_path):
    sim, srv = server
    desk = Desk(srv, await history())
    path = order(tmp_path, 3)
    try:
        preview = await desk.preview(path)
        record = bulk.ImportRecord(
            batch_id="elsewhere",
            file_sha256=preview.file_sha256,
            rows_sha256="",
            file_name=path.name,
            at=utcnow(),
            agent="colleague",
            cards=3,
            state="open",
            profile="p",
            owner="other-host:1:2:abcd",  # alive, as far as this computer can tell
            heartbeat=utcnow(),
        )
        await bulk.record_import(desk.store, record)
        again = await desk.preview(path)
        assert again.continuing is not None and again.continuing.batch_id == "elsewhere"
        with pytest.raises(bulk.ImportTakenError, match="colleague"):
            await BulkRun(desk.engine, again).run()
        assert sim.pull_request_creates == 0
        # a run of a process of this computer that is gone may be continued
        gone = replace(record, owner=dead_owner().text)
        await desk.store.set_setting(bulk.IMPORTS_SETTING, [gone.to_json()])
        again = await desk.preview(path)
        final = await asyncio.wait_for(BulkRun(desk.engine, again).run(), 30)
        assert len(final) == 4 and sim.pull_request_creates == 4
    finally:
        await desk.close()


async def test_the_batch_query_reads_only_recent_rows_of_a_big_history(history):
    store = await history()

    def plan(core):
        since = (utcnow() - dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        return core.conn.query(
            "EXPLAIN QUERY PLAN SELECT p.id FROM pulls p LEFT JOIN cards c ON c.pull_id = p.id "
            "WHERE p.batch_id = :b AND p.created_at >= :since",
            {"b": "x", "since": since},
        )

    rows = await store.run_read(plan)
    assert any("USING INDEX" in str(r.get("detail", r)) for r in rows), rows
