"""Shift close: the period, the report as PDF/CSV/text (engine/shift.py), the team database's
roles on shift reports, and ``walleo-desktop shift`` as a user runs it (subprocesses, a real
history file). The figures themselves are the store contract's (test_store_contract.py)."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import keyring
import keyring.backends.null
import pytest

from walleo_desktop.engine import shift
from walleo_desktop.engine.datakey import open_history
from walleo_desktop.store import CardRecord, NewPull, PullState, ShiftReport, StoreCore, records
from walleo_desktop.store.summary import BrandLine

PARIS = ZoneInfo("Europe/Paris")
T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # 09:00 in Paris


def pull(
    core: StoreCore, rid: str, agent: str, code: str, amount: int, state: PullState, **kw
) -> None:
    [p] = core.add_pulls(
        [NewPull(request_id=rid, gift_card_code=code, gift_card_name=kw.pop("name", code.title()),
                 amount=amount, discount=kw.pop("discount", 4), agent=agent, **kw)]
    )  # fmt: skip
    if state is PullState.SUCCESS:
        core.record_card(
            p.id,
            CardRecord(card_id=f"card-{rid}", pull_id=p.id, code=f"9{p.id:018d}", pin_code="0389",
                       expire_at=None, amount=amount, gift_card_code=code, pdf_url="",
                       created_at=T0),
        )  # fmt: skip
    elif state is not PullState.QUEUED:
        core.update_pull(p.id, state=state)


def fill_shift(core: StoreCore, monkeypatch: pytest.MonkeyPatch) -> None:
    """alice's morning: 3 FNAC cards, an IKEA error, a Sephora in doubt; bob's card."""
    now = [T0]
    monkeypatch.setattr(records, "utcnow", lambda: now[0])
    try:
        for n, (agent, code, amount, state) in enumerate(
            [
                ("alice", "FNAC", 50, PullState.SUCCESS),
                ("alice", "FNAC", 20, PullState.SUCCESS),
                ("alice", "FNAC", 15, PullState.SUCCESS),
                ("alice", "IKEA", 30, PullState.ERROR),
                ("alice", "SEPHORA", 40, PullState.IN_DOUBT),
                ("bob", "FNAC", 100, PullState.SUCCESS),
            ]
        ):
            now[0] = T0 + timedelta(minutes=30 * n)
            extra = {"name": '=HYPERLINK("x")'} if code == "SEPHORA" else {}
            pull(core, f"R-{n}", agent, code, amount, state, **extra)
    finally:
        monkeypatch.undo()


@pytest.fixture
def core(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[StoreCore]:
    from walleo_desktop.store.crypto import CardCipher, new_data_key
    from walleo_desktop.store.sqlite import open_core

    with open_core(tmp_path / "history.sqlite3", cipher=CardCipher(new_data_key())) as opened:
        fill_shift(opened, monkeypatch)
        yield opened


def report_of(core: StoreCore) -> ShiftReport:
    return core.shift_preview("alice", T0 - timedelta(hours=1), T0 + timedelta(hours=8))


# -- the period ---------------------------------------------------------------------------------


def test_the_default_period_starts_at_the_last_close_or_today(
    core: StoreCore, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = T0 + timedelta(hours=9)  # 18:00 in Paris
    monkeypatch.setattr(records, "utcnow", lambda: now)
    since, until = shift.default_period(core, "alice", tz=PARIS)
    assert (since, until) == (datetime(2026, 3, 2, 0, 0, tzinfo=PARIS), now)  # local midnight
    core.close_shift("alice", since, T0 + timedelta(hours=2), "alice")
    assert shift.default_period(core, "alice", tz=PARIS) == (T0 + timedelta(hours=2), now)
    assert shift.default_period(core, "bob", tz=PARIS)[0] == since  # bob never closed
    # An explicit start wins; one after now is refused, and so is a close just made.
    assert shift.default_period(core, "alice", since=T0, tz=PARIS) == (T0, now)
    with pytest.raises(ValueError, match="start before now"):
        shift.default_period(core, "alice", since=now, tz=PARIS)
    core.close_shift("alice", T0 + timedelta(hours=2), now, "alice")
    with pytest.raises(ValueError, match="nothing to close yet"):
        shift.default_period(core, "alice", tz=PARIS)


def test_start_of_day_follows_daylight_saving_time() -> None:
    summer = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
    assert shift.start_of_day(summer, PARIS) == datetime(2026, 6, 30, 22, 0, tzinfo=UTC)
    winter = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    assert shift.start_of_day(winter, PARIS) == datetime(2025, 12, 31, 23, 0, tzinfo=UTC)
    fixed = timezone(timedelta(hours=-5))
    assert shift.start_of_day(datetime(2026, 1, 1, 3, 0, tzinfo=UTC), fixed).day == 31


# -- the report on paper ------------------------------------------------------------------------


def test_the_csv_has_a_line_per_brand_then_the_totals(core: StoreCore) -> None:
    stored = core.close_shift(
        "alice", T0 - timedelta(hours=1), T0 + timedelta(hours=8), "finance.anne"
    )
    rows = list(csv.DictReader(io.StringIO(shift.report_csv(stored), newline="")))
    assert list(rows[0]) == list(shift.CSV_COLUMNS)
    assert [(r["line"], r["gift_card_code"]) for r in rows] == [
        ("brand", "FNAC"), ("brand", "IKEA"), ("brand", "SEPHORA"), ("total", ""),
    ]  # fmt: skip
    fnac, ikea, sephora, total = rows
    assert (fnac["cards"], fnac["face_value"], fnac["cost"]) == ("3", "85", "81.60")
    assert (ikea["errors"], ikea["cost"], sephora["in_doubt"]) == ("1", "0.00", "1")
    assert sephora["gift_card_name"] == '\'=HYPERLINK("x")'  # defused for spreadsheets
    assert (total["pulls"], total["cards"], total["cost"], total["currency"]) == (
        "5", "3", "81.60", "EUR",
    )  # fmt: skip
    assert {r["report_id"] for r in rows} == {str(stored.id)}
    assert fnac["period_start"] == "2026-03-02T07:00:00Z" and fnac["closed_by"] == "finance.anne"
    assert fnac["first_pull_at"] == "2026-03-02T08:00:00Z"
    assert fnac["last_pull_at"] == "2026-03-02T10:00:00Z"
    empty = ShiftReport("carol", T0, T0 + timedelta(hours=1))
    [line] = list(csv.DictReader(io.StringIO(shift.report_csv(empty), newline="")))
    assert (line["line"], line["pulls"], line["report_id"]) == ("total", "0", "")


def pdf_text(data: bytes, tmp_path: Path) -> str:
    """Every page's text, as a PDF reader extracts it (pypdfium through QtPdf)."""
    from PySide6.QtPdf import QPdfDocument

    path = tmp_path / "read.pdf"
    path.write_bytes(data)
    doc = QPdfDocument()
    assert doc.load(str(path)) == QPdfDocument.Error.None_
    text = "\n".join(doc.getAllText(p).text() for p in range(doc.pageCount()))
    doc.close()
    return " ".join(text.split())  # a cell's text may wrap: compare words, not line breaks


def test_the_pdf_says_who_when_and_every_figure(core: StoreCore, tmp_path: Path, qapp) -> None:
    stored = core.close_shift("alice", T0 - timedelta(hours=1), T0 + timedelta(hours=8), "anne")
    text = pdf_text(shift.report_pdf(stored, tz=PARIS), tmp_path)
    for expected in (
        f"Shift report: alice · Report #{stored.id}",
        "2026-03-02 08:00 to 2026-03-02 17:00",  # the period in Paris time
        "5: 3 issued, 1 failed (1 in error, 0 rejected), 1 in doubt, 0 pending",
        "Fnac (FNAC)",
        "85.00 EUR",
        "81.60 EUR",
        '=HYPERLINK("x") (SEPHORA)',  # a brand name is text on paper too
        "Closed by",
        "anne",
        "Europe/Paris",
    ):
        assert expected in text, (expected, text)
    preview = report_of(core)
    words = shift.ReportWords(title="Rapport de poste", preview="Aperçu : pas encore clôturé")
    text = pdf_text(
        shift.report_pdf(preview, words=words, money=lambda c, cur: f"{c / 100:.2f} €"), tmp_path
    )
    assert "Rapport de poste: alice · Aperçu : pas encore clôturé" in text
    assert "81.60 €" in text and "Closed by" not in text


def test_text_report_escapes_what_could_forge_a_line(core: StoreCore) -> None:
    report = report_of(core)
    odd = ShiftReport("eve\nFAKE LINE", report.period_start, report.period_end, report.brands)
    text = shift.report_text(odd, tz=PARIS)
    assert "eve\\nFAKE LINE" in text and "\nFAKE LINE" not in text
    assert "Fnac (FNAC)" in shift.report_text(report, tz=PARIS)


def test_a_report_file_is_written_whole(tmp_path: Path) -> None:
    folder = tmp_path / "reports"
    folder.mkdir()
    out = folder / "r.csv"
    out.write_text("previous")
    with pytest.raises(TypeError):
        shift.write_report(out, 42)  # type: ignore[arg-type]
    assert out.read_text() == "previous"
    assert [p.name for p in folder.iterdir()] == ["r.csv"]  # no temporary file left
    shift.write_report(out, "new")
    assert out.read_text() == "new"


def test_brand_lines_round_trip_through_json() -> None:
    line = BrandLine("FNAC", "Fnac", "EUR", 3, 85, 8160, 1, 2, 3, 4)
    assert BrandLine.from_json(line.to_json()) == line
    assert (line.failed, line.pulls) == (3, 13)


# -- the team database: who may close whose shift ------------------------------------------------


def test_team_members_close_shifts_their_role_allows_and_never_change_one(pg_database) -> None:
    from walleo_desktop.store.postgres.admin import add_member, create_team
    from walleo_desktop.store.postgres.backend import PermissionRefusedError, PostgresBackend

    with pg_database.connect(autocommit=True) as admin:
        create_team(admin)
        add_member(admin, "alice", "agent", password="alice-pw-1")
        add_member(admin, "fiona", "finance", password="fiona-pw-1")

    def member(name: str) -> StoreCore:
        url = pg_database.server.url(pg_database.name, user=name, password=f"{name}-pw-1")
        backend = PostgresBackend.open(url)
        return StoreCore(backend.main, None, on_close=backend.close)

    since = datetime.now(UTC) - timedelta(hours=2)
    until = datetime.now(UTC) - timedelta(minutes=1)
    with member("alice") as alice:
        own = alice.close_shift("alice", since, until, "alice")
        assert own.id is not None
        with pytest.raises(PermissionRefusedError):  # another agent's shift
            alice.close_shift("bob", since, until, "alice")
        with pytest.raises(PermissionRefusedError):  # in someone else's name
            alice.close_shift("alice", since, until, "fiona")
        for sql in ("UPDATE shift_reports SET totals = '{}'", "DELETE FROM shift_reports"):
            with pytest.raises(PermissionRefusedError):  # no grant, whatever the trigger says
                alice.conn.write(lambda sql=sql: alice.conn.execute(sql))
    with member("fiona") as fiona:
        other = fiona.close_shift("alice", since, until, "fiona")  # finance: anyone's
        assert [r.id for r in fiona.shift_reports("alice")] == [other.id, own.id]


# -- the headless command -------------------------------------------------------------------------


def run_shift(args: list[str], data: Path, **env) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("WALLEO_")}
    environ.update(PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring", TZ="UTC", **env)
    return subprocess.run(
        [sys.executable, "-m", "walleo_desktop", "--data-dir", str(data), "shift", *args],
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


@pytest.fixture
def demo_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    data = tmp_path / "cli-data"
    keyring.set_keyring(keyring.backends.null.Keyring())  # as the commands: the key file
    opened, _key = open_history(data / "demo-history.sqlite3")
    with opened as s:
        fill_shift(s, monkeypatch)
    return data


def test_cli_closes_a_shift_prints_it_saves_it_and_lists_it(
    demo_data: Path, tmp_path: Path
) -> None:
    r = run_shift(["close", "--agent", "alice", "--since", "2026-03-02", "--json"], demo_data)
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert (report["agent"], report["pulls"], report["cards"]) == ("alice", 5, 3)
    assert (report["failed"], report["in_doubt"], report["pending"]) == (1, 1, 0)
    assert report["period_start"] == "2026-03-02T00:00:00.000000Z"  # TZ=UTC: local midnight
    assert report["currencies"] == [
        {"gift_card_code": "", "gift_card_name": "", "currency": "EUR", "cards": 3,
         "face_value": 85, "cost_cents": 8160, "errors": 1, "rejected": 0, "in_doubt": 1,
         "pending": 0}
    ]  # fmt: skip
    first_id = report["id"]
    # The next close starts where that one ended: no pull of alice's since.
    out = tmp_path / "shift.pdf"
    r = run_shift(["close", "--agent", "alice", "--out", str(out)], demo_data)
    assert r.returncode == 0, r.stderr
    assert f"Shift report: alice · Report #{first_id + 1}" in r.stdout
    assert "No pull in this period." in r.stdout
    assert out.read_bytes().startswith(b"%PDF-") and f"written to {out}" in r.stderr
    csv_out = tmp_path / "bob.csv"
    r = run_shift(["close", "--agent", "bob", "--since", "2026-03-01", "--out", str(csv_out)],
                  demo_data)  # fmt: skip
    assert r.returncode == 0, r.stderr
    rows = list(csv.DictReader(io.StringIO(csv_out.read_text("utf-8"), newline="")))
    assert [(r["line"], r["cards"], r["cost"]) for r in rows] == [
        ("brand", "1", "96.00"), ("total", "1", "96.00"),
    ]  # fmt: skip
    assert "Report #" in r.stdout and "FNAC" in r.stdout
    listed = run_shift(["list", "--json"], demo_data)
    assert listed.returncode == 0, listed.stderr
    reports = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [(x["agent"], x["pulls"]) for x in reports] == [("bob", 1), ("alice", 0), ("alice", 5)]
    text = run_shift(["list", "--agent", "alice"], demo_data)
    assert text.returncode == 0 and len(text.stdout.splitlines()) == 2
    assert "bob" not in text.stdout and "5 pulls, 3 issued, 85 EUR (cost 81.60)" in text.stdout


def test_cli_shift_refuses_what_it_cannot_do(demo_data: Path, tmp_path: Path) -> None:
    r = run_shift(["close", "--agent", "alice", "--out", str(tmp_path / "x.txt")], demo_data)
    assert r.returncode == 2 and ".pdf or .csv" in r.stderr
    r = run_shift(["close", "--agent", "alice", "--since", "2999-01-01"], demo_data)
    assert r.returncode == 2 and "start before now" in r.stderr
    r = run_shift(["close", "--out", str(tmp_path / "nowhere" / "x.pdf")], demo_data)
    assert r.returncode == 2 and "does not exist" in r.stderr
    listed = run_shift(["list", "--json"], demo_data)
    assert listed.stdout == ""  # nothing was stored by the refusals
