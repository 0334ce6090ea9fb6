"""A card's expiry day: the same on its PDF, in the app and in the CSV export (issue 10, D).

Walleo sends ``expire_at`` at midnight Paris time with its offset (``2027-06-24T00:00:00+02:00``)
and that day, the 24th, is the truth: the PDF prints it. The history keeps the instant in UTC
(22:00 on the 23rd), and read as a UTC or local date it was a day early west of Paris. Each test
runs with the computer's zone set west of Paris (where the defect showed), at UTC and east of it.

The card goes the real way: the simulator over HTTP on 127.0.0.1, the client, the pull engine,
the encrypted history; its PDF is downloaded and its text read with QtPdf.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from conftest import wait_until
from PySide6.QtCore import QDate, QLocale
from PySide6.QtPdf import QPdfDocument

from walleo_desktop.api import WalleoClient
from walleo_desktop.api.models import expiry_day
from walleo_desktop.engine import PollPolicy, PullEngine
from walleo_desktop.simulator import DEMO_CREDENTIALS, Simulator, SimulatorConfig, serve_in_thread
from walleo_desktop.store import HistoryFilter, Store
from walleo_desktop.store.crypto import CardCipher, new_data_key
from walleo_desktop.store.export import export_csv
from walleo_desktop.store.records import CardRecord, PullRecord
from walleo_desktop.store.sqlite import open_core
from walleo_desktop.ui.card_pane import CardPane
from walleo_desktop.ui.history_model import Columns, HistoryModel

FAST = PollPolicy(first_check=0.05, min_interval=0.1, max_interval=0.2, slow_interval=0.4)
ZONES = ["America/New_York", "UTC", "Asia/Tokyo"]


@pytest.fixture(params=ZONES)
def local_zone(request: pytest.FixtureRequest) -> Iterator[str]:
    """This computer's time zone for the test (TZ, as the C library and Python read it)."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = request.param
    time.tzset()
    try:
        yield request.param
    finally:
        if before is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = before
        time.tzset()


class Issued:
    """One card issued end to end, and what Walleo said about it."""

    def __init__(self, pull: PullRecord, card: CardRecord, walleo_day: date, pdf: bytes) -> None:
        self.pull, self.card, self.walleo_day, self.pdf = pull, card, walleo_day, pdf


@pytest.fixture
async def issued(tmp_path: Path) -> Any:
    sim = Simulator(SimulatorConfig(delay_scale=0.01, seed=5, async_error_rate=0.0))
    store = await Store.open_sqlite(tmp_path / "history.sqlite3", cipher=CardCipher(new_data_key()))
    with serve_in_thread(sim) as server:
        client = WalleoClient(server.base_url, DEMO_CREDENTIALS)
        engine = PullEngine(client, store, policy=FAST, agent="tester")
        try:
            gift_card = await client.get_gift_card("FNAC")
            [pull] = await engine.submit(gift_card, 50)
            [done] = await engine.wait([pull.id])
            card = await store.card_for_pull(done.id)
            assert card is not None and card.expire_at is not None
            as_sent = await client.get_card(card.card_id)  # Walleo's answer, with its offset
            assert as_sent.expire_at is not None and as_sent.expire_at.utcoffset()
            assert as_sent.expire_at.time().isoformat() == "00:00:00"  # midnight, Paris time
            pdf = await client.download_pdf(card.pdf_url)
            yield Issued(done, card, as_sent.expire_at.date(), pdf)
        finally:
            await engine.close()
            await client.aclose()
            await store.close()


def pdf_expiry(pdf: bytes, tmp_path: Path) -> date:
    path = tmp_path / "card.pdf"
    path.write_bytes(pdf)
    document = QPdfDocument()
    assert document.load(str(path)) == QPdfDocument.Error.None_
    text = document.getAllText(0).text()
    document.close()
    [(day, month, year)] = re.findall(r"Expires\s+(\d\d)/(\d\d)/(\d{4})", text)
    return date(int(year), int(month), int(day))


def long_date(day: date) -> str:
    return QLocale().toString(QDate(day.year, day.month, day.day), QLocale.FormatType.LongFormat)


async def test_the_pdf_and_the_app_show_the_day_walleo_sent(
    issued: Issued, local_zone: str, tmp_path: Path, qtbot: Any
) -> None:
    assert pdf_expiry(issued.pdf, tmp_path) == issued.walleo_day
    assert expiry_day(issued.card.expire_at) == issued.walleo_day  # what the app formats

    pane = CardPane()
    qtbot.addWidget(pane)
    pane.show_pull(issued.pull, issued.card)
    text = pane.expiry_label.text()
    assert text.startswith("Expires") and text.endswith(long_date(issued.walleo_day))

    store = await Store.open_sqlite(tmp_path / "history.sqlite3")  # the history tab, from disk
    model = HistoryModel(store)
    try:
        await wait_until(lambda: not model.busy and model.rowCount() == 1)
        expected = QLocale().toString(
            QDate(issued.walleo_day.year, issued.walleo_day.month, issued.walleo_day.day),
            model._date_format,
        )
        assert model.index(0, Columns.EXPIRY).data() == expected
    finally:
        model.shutdown()
        await store.close()


@pytest.mark.parametrize("local_zone", ["America/New_York"], indirect=True)
async def test_the_csv_export_writes_the_day_walleo_sent(
    issued: Issued, local_zone: str, tmp_path: Path
) -> None:
    store = open_core(tmp_path / "history.sqlite3")
    try:
        days = {}
        for preset, pattern in (
            ("standard", r"^(\d{4})-(\d\d)-(\d\d)"),
            ("excel-fr", r"^(\d\d)/(\d\d)/(\d{4})"),
        ):
            out = tmp_path / f"{preset}.csv"
            export_csv(store, HistoryFilter(), out, preset=preset)  # type: ignore[arg-type]
            header, row = out.read_text(encoding="utf-8-sig").splitlines()
            cells = row.split("," if preset == "standard" else ";")
            cell = cells[header.split("," if preset == "standard" else ";").index("expire_at")]
            [parts] = re.findall(pattern, cell)
            numbers = [int(p) for p in parts]
            days[preset] = date(*numbers) if preset == "standard" else date(*numbers[::-1])
    finally:
        store.close()
    assert days == {"standard": issued.walleo_day, "excel-fr": issued.walleo_day}
