"""Pulls → Close shift… in the window (offscreen): the report shown before it is stored, then
stored, saved as PDF (its text read back through QtPdf) and CSV, printed, and what a cancelled
print dialog or a printer that cannot be opened says. Async tests: ``await`` only."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import wait_signal, wait_until
from PySide6.QtCore import QSettings
from PySide6.QtPdf import QPdfDocument
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from shiboken6 import isValid

from walleo_desktop.engine import Connection, PollPolicy, Session
from walleo_desktop.store import CardRecord, NewPull, PullState
from walleo_desktop.ui.main_window import MainWindow

FAST = PollPolicy(first_check=0.05, min_interval=0.1, max_interval=0.2, slow_interval=0.5)
DEMO = Connection(profile="demo", base_url="", credentials=None, demo=True)


@pytest.fixture
async def session(tmp_path: Path) -> AsyncIterator[Session]:
    s = await Session.open(DEMO, tmp_path / "data", simulator_delay_scale=0.01, policy=FAST)
    yield s
    await s.close()


@pytest.fixture
async def window(session: Session, qtbot, tmp_path: Path) -> AsyncIterator[MainWindow]:
    settings = QSettings(str(tmp_path / "window.ini"), QSettings.Format.IniFormat)
    w = MainWindow(session, settings=settings, recent=[])
    qtbot.addWidget(w)
    w.show()
    yield w
    if isValid(w):
        w.close()
    await w.shutdown()


async def fill(session: Session, agent: str) -> None:
    """This agent's shift so far: two Fnac cards, an IKEA error, a Sephora in doubt; and a
    card of someone else's."""
    store = session.store
    for n, (who, code, name, amount, state) in enumerate(
        [
            (agent, "FNAC", "Fnac", 50, PullState.SUCCESS),
            (agent, "FNAC", "Fnac", 20, PullState.SUCCESS),
            (agent, "IKEA", "IKEA", 30, PullState.ERROR),
            (agent, "SEPHORA", "Sephora", 40, PullState.IN_DOUBT),
            ("someone.else", "FNAC", "Fnac", 100, PullState.SUCCESS),
        ]
    ):
        [pull] = await store.add_pulls(
            [NewPull(request_id=f"SHIFT-{n}", gift_card_code=code, gift_card_name=name,
                     amount=amount, discount=4, agent=who, profile="demo")]
        )  # fmt: skip
        if state is PullState.SUCCESS:
            card = CardRecord(card_id=f"card-{n}", pull_id=pull.id, code=f"40{n:017d}",
                              pin_code="0389", expire_at=None, amount=amount, pdf_url="",
                              gift_card_code=code, created_at=datetime.now(UTC))  # fmt: skip
            await store.record_card(pull.id, card)
        else:
            await store.update_pull(pull.id, state=state)


def pdf_text(path: Path) -> tuple[int, str]:
    doc = QPdfDocument()
    assert doc.load(str(path)) == QPdfDocument.Error.None_
    try:
        pages = doc.pageCount()
        text = "\n".join(doc.getAllText(p).text() for p in range(pages))
        return pages, " ".join(text.split())  # wrapped cells: words, not line breaks
    finally:
        doc.close()


async def test_close_a_shift_from_the_window_then_save_it_as_pdf_and_csv(
    window: MainWindow, session: Session, tmp_path: Path
) -> None:
    agent = session.engine.agent
    await fill(session, agent)
    window.close_shift_action.trigger()
    [dialog] = [d for d in window._dialogs if d.objectName() == "shiftDialog"]
    assert dialog.isVisible() and not dialog.pdf_button.isEnabled()
    await wait_until(lambda: dialog.report is not None and dialog.close_button.isEnabled())
    # Shown before anything is stored.
    assert await session.store.shift_reports() == []
    assert dialog.report is not None and not dialog.report.stored
    assert dialog.selected_agent == agent
    assert "4: 2 issued, 1 failed (1 in error, 0 rejected), 1 in doubt" in dialog.summary.text()
    cells = [
        [dialog.table.item(r, c).text() for c in range(dialog.table.columnCount())]
        for r in range(dialog.table.rowCount())
    ]
    assert [row[0] for row in cells] == ["Fnac", "IKEA", "Sephora", "Total"]
    assert cells[0][1] == "2" and cells[3][1] == "2" and cells[2][5] == "1"

    dialog.close_button.click()
    report = (await wait_signal(dialog.shift_closed))[0]
    [stored] = await session.store.shift_reports(agent)
    assert stored == report and report.id is not None and report.created_by == agent
    assert f"report #{report.id} is stored" in dialog.status.text()
    assert dialog.pdf_button.isEnabled() and dialog.print_button.isEnabled()
    assert not dialog.close_button.isVisible()

    out = tmp_path / "shift.pdf"
    saving = wait_signal(dialog.saved)
    dialog.save_pdf(out)
    assert (await saving)[0] == str(out)
    pages, text = pdf_text(out)
    assert pages == 1
    for expected in (
        f"Shift report: {agent} · Report #{report.id}",
        "4: 2 issued, 1 failed (1 in error, 0 rejected), 1 in doubt, 0 pending",
        "Fnac (FNAC)",
        "Closed by",
        agent,
    ):
        assert expected in text, (expected, text)
    assert "67.20" in text  # 48.00 + 19.20, the cost of the two cards issued
    assert "someone.else" not in text and "100" not in text.split("Total")[0].split("Fnac")[1]

    csv_out = tmp_path / "shift.csv"
    saving = wait_signal(dialog.saved)
    dialog.save_csv(csv_out)
    await saving
    rows = list(csv.DictReader(io.StringIO(csv_out.read_text("utf-8"), newline="")))
    assert [(r["line"], r["gift_card_code"], r["cost"]) for r in rows] == [
        ("brand", "FNAC", "67.20"), ("brand", "IKEA", "0.00"), ("brand", "SEPHORA", "0.00"),
        ("total", "", "67.20"),
    ]  # fmt: skip
    dialog.reject()


# Qt's own words when a printer cannot be opened: that case is provoked below, on purpose.
@pytest.mark.qt_log_ignore(r"QPainter::begin\(\): Returned false")
async def test_printing_is_said_plainly_and_loses_nothing(
    window: MainWindow, session: Session, tmp_path: Path
) -> None:
    agent = session.engine.agent
    await fill(session, agent)
    dialog = window.open_shift_dialog()
    await wait_until(lambda: dialog.close_button.isEnabled())
    assert dialog.print_report() is None  # nothing to print before the shift is closed
    dialog.close_button.click()
    report = (await wait_signal(dialog.shift_closed))[0]

    # A print dialog the user cancels.
    box = dialog.print_report()
    assert isinstance(box, QPrintDialog) and box.isVisible()
    box.reject()
    await wait_until(lambda: "Printing cancelled" in dialog.status.text())
    assert f"#{report.id} is stored" in dialog.status.text()

    # A printer that cannot be opened (here: a file in a folder that does not exist).
    broken = QPrinter()
    broken.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    broken.setOutputFileName(str(tmp_path / "no-such-folder" / "out.pdf"))
    failing = wait_signal(dialog.failed, timeout=10)
    dialog.print_to(broken)
    message = (await failing)[0]
    assert "could not be printed" in message and f"report #{report.id} is stored" in message
    assert dialog.print_button.isEnabled()  # try again whenever

    # A printer that works: the pages it got are the report's PDF pages.
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(tmp_path / "printed.pdf"))
    printing = wait_signal(dialog.printed, timeout=20)
    dialog.print_to(printer)
    assert (await printing)[0] == 1
    assert pdf_text(tmp_path / "printed.pdf")[0] == 1
    assert f"Report #{report.id} sent to the printer" in dialog.status.text()
    assert [r.id for r in await session.store.shift_reports(agent)] == [report.id]
    dialog.reject()


async def test_the_next_close_starts_where_the_last_ended(
    window: MainWindow, session: Session
) -> None:
    agent = session.engine.agent
    await fill(session, agent)
    dialog = window.open_shift_dialog()
    await wait_until(lambda: dialog.close_button.isEnabled())
    dialog.close_button.click()
    first = (await wait_signal(dialog.shift_closed))[0]
    dialog.reject()
    again = window.open_shift_dialog()
    await wait_until(lambda: again.close_button.isEnabled())
    assert again.report is not None
    assert again.report.period_start == first.period_end and again.report.pulls == 0
    assert "0: 0 issued" in again.summary.text()
    again.reject()
    assert first.period_end - first.period_start < timedelta(days=1)  # since today's start
