"""CSV export (store/export.py) and the headless ``export`` command: real files, read back with
the csv module. No Qt."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import keyring
import keyring.backends.null
import pytest

from walleo_desktop.engine.datakey import open_history
from walleo_desktop.store import CardRecord, HistoryFilter, NewPull, PullState, StoreCore
from walleo_desktop.store import records as store_module
from walleo_desktop.store.crypto import CardCipher, new_data_key
from walleo_desktop.store.export import CODE_COLUMNS, COLUMNS, defuse, export_csv
from walleo_desktop.store.sqlite import open_core as open_store

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
CIPHER = CardCipher(new_data_key())  # the history's key (engine.datakey keeps it in the keyring)


@dataclass(frozen=True)
class Spec:
    rid: str
    hours: int  # after T0
    code: str
    name: str
    amount: int
    discount: int | None
    agent: str
    reference: str
    state: PullState
    note: str = ""
    card: str = ""
    pin: str = ""
    error: tuple[str, str] = ("", "")


# A small history whose every figure is worked out by hand in the tests.
FIXTURE = [
    Spec("REQ-1", 0, "FNAC", "Fnac", 50, 4, "alice", "TCK-000001", PullState.SUCCESS,
         card="1111222233334444", pin="7391"),
    Spec("REQ-2", 1, "FNAC", "Fnac", 20, 4, "bob", '=HYPERLINK("http://evil","x")',
         PullState.SUCCESS, card="5555666677778888", pin="8042"),
    Spec("REQ-3", 26, "IKEA", "IKEA", 100, 3, "alice", "+1", PullState.SUCCESS,
         note="Équipe support", card="9999000011112222"),
    Spec("REQ-4", 27, "IKEA", "IKEA", 30, 3, "bob", "-2", PullState.ERROR,
         error=("out_of_stock", "No stock")),
    Spec("REQ-5", 52, "SEPHORA", "Sephora", 25, 6, "carol", "@x", PullState.REJECTED,
         error=("invalid_amount", "-Amount must be 50")),
    Spec("REQ-6", 53, "SEPHORA", "Sephora", 50, 6, "carol", "\tx", PullState.IN_DOUBT),
    Spec("REQ-7", 78, "FNAC", "Fnac", 15, 4, "alice", "\rx", PullState.SUCCESS,
         card="4321432143214321", pin="5163"),
    Spec("REQ-8", 79, "DECATHLON", "Decathlon", 40, None, "bob", "TCK-000008",
         PullState.QUEUED),
]  # fmt: skip
CODES = [s.card for s in FIXTURE if s.card]
PINS = [s.pin for s in FIXTURE if s.pin]


def fill_fixture(store: StoreCore, monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Journal FIXTURE at its times; request id -> pull id."""
    now = [T0]
    monkeypatch.setattr(store_module, "utcnow", lambda: now[0])
    ids: dict[str, int] = {}
    try:
        for spec in FIXTURE:
            now[0] = T0 + timedelta(hours=spec.hours)
            [pull] = store.add_pulls(
                [
                    NewPull(
                        request_id=spec.rid,
                        gift_card_code=spec.code,
                        gift_card_name=spec.name,
                        amount=spec.amount,
                        discount=spec.discount,
                        agent=spec.agent,
                        reference=spec.reference,
                        note=spec.note,
                    )
                ]
            )
            ids[spec.rid] = pull.id
            if spec.card:
                card = CardRecord(
                    card_id=f"card-{spec.rid}",
                    pull_id=pull.id,
                    code=spec.card,
                    pin_code=spec.pin,
                    expire_at=now[0] + timedelta(days=365),
                    amount=spec.amount,
                    gift_card_code=spec.code,
                    pdf_url="https://example.invalid/card.pdf",
                    created_at=now[0],
                )
                store.record_card(pull.id, card)
            elif spec.state is not PullState.QUEUED:
                code, message = spec.error
                store.update_pull(pull.id, state=spec.state, error_code=code, error_message=message)
    finally:
        monkeypatch.undo()
    return ids


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[StoreCore]:
    with open_store(tmp_path / "data" / "history.sqlite3", cipher=CIPHER) as opened:
        fill_fixture(opened, monkeypatch)
        yield opened


def read_csv(path: Path, delimiter: str = ",", bom: bool = False) -> list[dict[str, str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") == bom
    text = raw.decode("utf-8-sig" if bom else "utf-8")
    return list(csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter))


def by_rid(rows: list[dict[str, str]]) -> dict[str, dict[str, str]]:
    return {row["request_id"]: row for row in rows}


# -- presets ------------------------------------------------------------------------------------


def test_standard_preset_reads_back(store: StoreCore, tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    result = export_csv(store, HistoryFilter(), out)
    assert (result.rows, result.path, result.cancelled) == (8, out, False)
    raw = out.read_bytes()
    assert raw.splitlines()[0].decode() == ",".join(COLUMNS)
    rows = read_csv(out)
    # Exactly the history view's order: newest first.
    assert [r["request_id"] for r in rows] == [f"REQ-{i}" for i in range(8, 0, -1)]
    one = by_rid(rows)["REQ-1"]
    assert one["created_at"] == "2026-03-01T09:00:00Z"
    assert one["expire_at"] == "2027-03-01"  # the day Walleo means (Paris): a day, no time
    assert (one["amount"], one["cost"], one["currency"]) == ("50", "48.00", "EUR")
    assert (one["gift_card_code"], one["gift_card_name"], one["agent"]) == ("FNAC", "Fnac", "alice")
    assert (one["state"], one["card_id"], one["code_last4"]) == ("success", "card-REQ-1", "4444")
    seven = by_rid(rows)["REQ-7"]
    assert seven["cost"] == "14.40"  # 15 € less 4 %
    three = by_rid(rows)["REQ-3"]
    assert three["note"] == "Équipe support"
    assert three["cost"] == "97.00"
    four = by_rid(rows)["REQ-4"]
    assert (four["state"], four["error_code"], four["error_message"]) == (
        "error",
        "out_of_stock",
        "No stock",
    )
    assert four["card_id"] == four["code_last4"] == four["expire_at"] == ""
    # Cost exists only where a card was issued: failed, rejected, in doubt and pending cost 0.
    assert [by_rid(rows)[f"REQ-{i}"]["cost"] for i in (4, 5, 6, 8)] == ["", "", "", ""]
    paid = sum(float(r["cost"]) for r in rows if r["cost"])
    assert round(paid, 2) == round(store.totals(HistoryFilter()).cost, 2) == 48 + 19.2 + 97 + 14.4


def test_excel_fr_preset_reads_back(store: StoreCore, tmp_path: Path) -> None:
    out = tmp_path / "excel.csv"
    paris_winter = timezone(timedelta(hours=1))
    export_csv(store, HistoryFilter(), out, preset="excel-fr", tz=paris_winter)
    assert out.read_bytes().startswith(b"\xef\xbb\xbf" + b"created_at;agent;")
    rows = read_csv(out, delimiter=";", bom=True)
    assert len(rows) == 8
    one = by_rid(rows)["REQ-1"]
    assert one["created_at"] == "01/03/2026 10:00"  # local time, dd/mm/yyyy hh:mm
    assert one["expire_at"] == "01/03/2027"
    assert (one["amount"], one["cost"]) == ("50", "48,00")
    assert by_rid(rows)["REQ-7"]["cost"] == "14,40"
    assert by_rid(rows)["REQ-2"]["cost"] == "19,20"
    assert by_rid(rows)["REQ-3"]["note"] == "Équipe support"


def test_unknown_preset_is_refused(store: StoreCore, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown CSV preset"):
        export_csv(store, HistoryFilter(), tmp_path / "x.csv", preset="tsv")  # type: ignore[arg-type]
    assert list(tmp_path.glob("*x.csv*")) == []


# -- the filtered, sorted view ------------------------------------------------------------------


def test_export_is_exactly_the_filtered_sorted_view(store: StoreCore, tmp_path: Path) -> None:
    flt = HistoryFilter(gift_card_codes=("FNAC", "IKEA"), agents=("alice",))
    out = tmp_path / "f.csv"
    result = export_csv(store, flt, out, sort="amount", descending=False)
    rows = read_csv(out)
    expected = [r.pull.request_id for r in store.history(flt, sort="amount", descending=False).rows]
    assert [r["request_id"] for r in rows] == expected == ["REQ-7", "REQ-1", "REQ-3"]
    assert result.rows == 3
    export_csv(store, HistoryFilter(since=T0 + timedelta(days=1)), out)
    rows = read_csv(out)
    assert {r["request_id"] for r in rows} == {"REQ-3", "REQ-4", "REQ-5", "REQ-6", "REQ-7", "REQ-8"}
    export_csv(store, HistoryFilter(search="équipe"), out)
    assert [r["request_id"] for r in read_csv(out)] == ["REQ-3"]


def test_progress_is_reported_and_memory_stays_streamed(tmp_path: Path) -> None:
    with open_store(tmp_path / "big.sqlite3") as big:
        big.add_pulls(
            [
                NewPull(request_id=f"R-{i:05d}", gift_card_code="FNAC", amount=10)
                for i in range(5000)
            ]
        )
        seen: list[tuple[int, int]] = []
        result = export_csv(
            big, HistoryFilter(), tmp_path / "big.csv", progress=lambda d, t: seen.append((d, t))
        )
    assert result.rows == 5000
    assert seen[-1] == (5000, 5000)
    assert len(seen) >= 3  # every few thousand rows, not once at the end
    assert all(total == 5000 for _done, total in seen)


# -- formula injection -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rid", "expected"),
    [
        ("REQ-2", '\'=HYPERLINK("http://evil","x")'),
        ("REQ-3", "'+1"),
        ("REQ-4", "'-2"),
        ("REQ-5", "'@x"),
        ("REQ-6", "'\tx"),
        ("REQ-7", "'\rx"),
        ("REQ-1", "TCK-000001"),
    ],
)
@pytest.mark.parametrize("preset", ["standard", "excel-fr"])
def test_formula_injection_is_defused(
    store: StoreCore, tmp_path: Path, rid: str, expected: str, preset: str
) -> None:
    out = tmp_path / "inj.csv"
    export_csv(store, HistoryFilter(), out, preset=preset)  # type: ignore[arg-type]
    excel = preset == "excel-fr"
    rows = by_rid(read_csv(out, delimiter=";" if excel else ",", bom=excel))
    assert rows[rid]["reference"] == expected
    # Text from Walleo gets the same treatment; numbers and dates we format are left alone.
    assert rows["REQ-5"]["error_message"] == "'-Amount must be 50"
    assert rows["REQ-1"]["amount"] == "50"


def test_defuse_rule() -> None:
    for dangerous in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"):
        assert defuse(dangerous) == "'" + dangerous
    for harmless in ("", "TCK-1", "1-2", " =x", "'quoted"):
        assert defuse(harmless) == harmless


# -- codes ---------------------------------------------------------------------------------------


def test_codes_are_left_out_unless_asked(store: StoreCore, tmp_path: Path) -> None:
    out = tmp_path / "nocodes.csv"
    export_csv(store, HistoryFilter(), out)
    text = out.read_text("utf-8")
    for code in CODES:
        assert code not in text
    header = text.splitlines()[0].split(",")
    assert "code" not in header and "pin_code" not in header
    assert [e for e in store.events() if e.kind == "codes_exported"] == []


def test_codes_when_asked_and_the_export_is_logged(store: StoreCore, tmp_path: Path) -> None:
    out = tmp_path / "codes.csv"
    flt = HistoryFilter(states=(PullState.SUCCESS,))
    result = export_csv(store, flt, out, with_codes=True, agent="finance.anne")
    rows = read_csv(out)
    assert list(rows[0]) == [*COLUMNS, *CODE_COLUMNS]
    assert {r["code"] for r in rows} == set(CODES)
    assert by_rid(rows)["REQ-1"]["pin_code"] == "7391"
    assert by_rid(rows)["REQ-3"]["pin_code"] == ""
    assert out.stat().st_mode & 0o777 == 0o600  # codes: owner only
    [event] = [e for e in store.events() if e.kind == "codes_exported"]
    assert event.pull_id is None
    assert event.detail == {
        "agent": "finance.anne",
        "rows": result.rows,
        "path": "codes.csv",
        "preset": "standard",
        "filter": {"states": ["success"]},
    }
    # What the events say (not their times, whose microseconds can spell a 4-digit PIN).
    logged = repr([(e.kind, e.detail) for e in store.events()])
    for secret in CODES + PINS:
        assert secret not in logged


def test_search_text_is_not_logged(store: StoreCore, tmp_path: Path) -> None:
    out = tmp_path / "one.csv"
    export_csv(store, HistoryFilter(search=CODES[0]), out, with_codes=True, agent="a")
    assert [r["request_id"] for r in read_csv(out)] == ["REQ-1"]
    [event] = [e for e in store.events() if e.kind == "codes_exported"]
    assert event.detail["filter"] == {"search": True}
    assert CODES[0] not in repr(event.detail)


# -- atomicity -----------------------------------------------------------------------------------


def test_cancel_leaves_no_file(store: StoreCore, tmp_path: Path) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    out = folder / "cancelled.csv"
    result = export_csv(store, HistoryFilter(), out, with_codes=True, cancel=lambda: True)
    assert result.cancelled
    assert list(folder.iterdir()) == []  # no file, no temporary file either
    assert [e for e in store.events() if e.kind == "codes_exported"] == []


def test_cancel_midway_keeps_the_previous_file(tmp_path: Path) -> None:
    out = tmp_path / "report.csv"
    out.write_text("previous report\n", "utf-8")
    with open_store(tmp_path / "big.sqlite3") as big:
        big.add_pulls(
            [
                NewPull(request_id=f"R-{i:05d}", gift_card_code="FNAC", amount=10)
                for i in range(5000)
            ]
        )
        calls = []

        def cancel() -> bool:
            calls.append(1)
            return len(calls) >= 2

        result = export_csv(big, HistoryFilter(), out, cancel=cancel)
    assert result.cancelled and 0 < result.rows < 5000
    assert out.read_text("utf-8") == "previous report\n"
    assert not any(p.name.endswith(".part") for p in tmp_path.iterdir())


def test_a_failed_export_leaves_nothing(store: StoreCore, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="cannot sort"):
        export_csv(store, HistoryFilter(), tmp_path / "bad.csv", sort="nope")
    assert not any(p.name.startswith(".bad.csv") or p.name == "bad.csv" for p in tmp_path.iterdir())


# -- the headless command ------------------------------------------------------------------------


def run_export(args: list[str], data: Path, **kw) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WALLEO_")}
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"
    env["TZ"] = "UTC"
    return subprocess.run(
        [sys.executable, "-m", "walleo_desktop", "--data-dir", str(data), "export", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        **kw,
    )


@pytest.fixture
def demo_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A data dir whose demo history (no profile, no WALLEO_* variables) is the fixture."""
    data = tmp_path / "cli-data"
    # No keyring, as for the commands below: the history's key goes to the fallback key file.
    keyring.set_keyring(keyring.backends.null.Keyring())
    store, _key = open_history(data / "demo-history.sqlite3")
    with store as s:
        fill_fixture(s, monkeypatch)
    return data


def test_cli_export_end_to_end(demo_data: Path, tmp_path: Path) -> None:
    out = tmp_path / "fnac.csv"
    r = run_export(
        [str(out), "--gift-card", "FNAC", "--status", "success", "--preset", "excel-fr"],
        demo_data,
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == f"3 rows written to {out}"
    rows = read_csv(out, delimiter=";", bom=True)
    assert [row["request_id"] for row in rows] == ["REQ-7", "REQ-2", "REQ-1"]
    assert rows[0]["cost"] == "14,40"
    for code in CODES:
        assert code not in out.read_text("utf-8-sig")

    r = run_export([str(out), "--since", "2026-03-02", "--until", "2026-03-03"], demo_data)
    assert r.returncode == 0, r.stderr
    assert [row["request_id"] for row in read_csv(out)] == ["REQ-6", "REQ-5", "REQ-4", "REQ-3"]


def test_cli_with_codes_needs_yes_without_a_terminal(demo_data: Path, tmp_path: Path) -> None:
    out = tmp_path / "codes.csv"
    r = run_export([str(out), "--with-codes"], demo_data)
    assert r.returncode == 2
    assert "--yes" in r.stderr
    assert not out.exists()
    r = run_export([str(out), "--with-codes", "--yes", "--status", "success"], demo_data)
    assert r.returncode == 0, r.stderr
    assert {row["code"] for row in read_csv(out)} == set(CODES)
    with open_store(demo_data / "demo-history.sqlite3") as s:
        [event] = [e for e in s.events() if e.kind == "codes_exported"]
    assert event.detail["rows"] == 4 and event.detail["path"] == "codes.csv"


def test_cli_export_refuses_bad_input(demo_data: Path, tmp_path: Path) -> None:
    r = run_export([str(tmp_path / "x.csv"), "--status", "lost"], demo_data)
    assert r.returncode == 2 and "--status must be one of" in r.stderr
    r = run_export([str(tmp_path / "nowhere" / "x.csv")], demo_data)
    assert r.returncode == 2 and "does not exist" in r.stderr
    r = run_export([str(tmp_path / "x.csv")], tmp_path / "empty-data")
    assert r.returncode == 2 and "there is no history" in r.stderr
