"""Histories written by schema 6 (before the full-text index and the shared catalog snapshots),
upgraded in place when this version opens them: real files, migrations as released."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
import sqlite_utils

from walleo_desktop.store import HistoryFilter
from walleo_desktop.store.crypto import CardCipher
from walleo_desktop.store.sqlite import open_core as open_store
from walleo_desktop.store.sqlite.schema import MIGRATIONS, SCHEMA_VERSION

CIPHER = CardCipher(bytes(range(32)))
NOW = "2026-03-01T09:00:00.000000Z"

# request_id, brand, reference, note, catalog snapshot (as schema 6 stored it: JSON text)
FNAC = json.dumps({"code": "FNAC", "name": "Fnac", "discount": 4}, separators=(",", ":"))
FNAC_LATER = json.dumps({"code": "FNAC", "name": "Fnac", "discount": 5}, separators=(",", ":"))
IKEA = json.dumps({"code": "IKEA", "name": "IKEA", "note": "é ü"}, ensure_ascii=False)
ROWS = [
    ("wd-1", "FNAC", "Fnac", "TCK-000101", "", FNAC),
    ("wd-2", "FNAC", "Fnac", "TCK-000102", "Geste commercial", FNAC),
    ("wd-3", "IKEA", "IKEA", "CMD-7", "", IKEA),
    ("wd-4", "FNAC", "Fnac", "", "Équipe support", FNAC_LATER),
    ("wd-5", "IKEA", "IKEA", "TCK-000105", "", "{}"),
]


def schema_6_history(path: Path, rows: list[tuple[str, ...]] = ROWS) -> None:
    """A history as schema 6 of the app left it: its migrations, then pulls written as that
    version wrote them (the catalog snapshot in each row)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    db = sqlite_utils.Database(conn)
    for migration in MIGRATIONS[:6]:
        migration(db, CIPHER)
    conn.execute("PRAGMA user_version = 6")
    conn.executemany(
        "INSERT INTO pulls (request_id, gift_card_code, gift_card_name, reference, note, "
        "catalog_snapshot, amount, state, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, 50, 'queued', ?, ?)",
        [(*row, NOW, NOW) for row in rows],
    )
    conn.close()


def rids(core: Any, term: str) -> list[str]:
    return [r.pull.request_id for r in core.history(HistoryFilter(search=term), limit=50).rows]


def test_the_search_index_is_built_for_the_pulls_already_there(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    schema_6_history(path)
    with open_store(path, cipher=CIPHER) as core:
        assert core.conn.value("PRAGMA user_version") == SCHEMA_VERSION
        assert rids(core, "TCK-0001") == ["wd-5", "wd-2", "wd-1"]
        assert rids(core, "équipe") == ["wd-4"]
        assert rids(core, "ikea") == ["wd-5", "wd-3"]  # the brand name
        # The index holds them (the plain LIKE path would find them too: ask it directly).
        found = core.conn.rows(
            "SELECT rowid FROM pulls_fts WHERE pulls_fts MATCH :q", {"q": '"commercial"'}
        )
        assert found == [(2,)]


@pytest.mark.parametrize("term", ["TCK-000102", "geste"])
def test_the_index_follows_new_pulls_after_the_upgrade(tmp_path: Path, term: str) -> None:
    path = tmp_path / "history.sqlite3"
    schema_6_history(path, ROWS[:1])
    with open_store(path, cipher=CIPHER) as core:
        assert rids(core, term) == []
    conn = sqlite3.connect(path, isolation_level=None)  # another writer, plain SQL
    conn.execute(
        "INSERT INTO pulls (request_id, gift_card_code, reference, note, amount, state, "
        "created_at, updated_at) VALUES ('wd-9', 'FNAC', 'TCK-000102', 'Geste', 5, 'queued', "
        "?, ?)",
        [NOW, NOW],
    )
    conn.close()
    with open_store(path, cipher=CIPHER) as core:
        assert rids(core, term) == ["wd-9"]


def test_each_catalog_snapshot_is_kept_once_and_read_back_exactly(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    schema_6_history(path)
    with open_store(path, cipher=CIPHER) as core:
        conn = core.conn
        columns = {row[1] for row in conn.rows("PRAGMA table_info(pulls)")}
        assert "catalog_snapshot" not in columns and "snapshot_id" in columns
        kept = conn.rows("SELECT body FROM catalog_snapshots ORDER BY id")
        assert sorted(body for (body,) in kept) == sorted({FNAC, FNAC_LATER, IKEA})
        for request_id, _code, _name, _ref, _note, text in ROWS:
            pull = core.find_pull(request_id)
            assert pull is not None
            assert pull.catalog_snapshot == json.loads(text)
            stored = conn.value(
                "SELECT s.body FROM pulls p LEFT JOIN catalog_snapshots s ON s.id = p.snapshot_id "
                "WHERE p.request_id = :rid",
                {"rid": request_id},
            )
            assert stored == (None if text == "{}" else text)  # the very text journaled
        # The copies' space went back to the disk: the file was rebuilt after the upgrade.
        assert conn.value("PRAGMA freelist_count") == 0
    # New pulls with a known snapshot share its row (the fixture's FNAC, written by json.dumps
    # exactly as the store writes JSON).
    with open_store(path, cipher=CIPHER) as core:
        from walleo_desktop.store import NewPull

        [pull] = core.add_pulls([NewPull("wd-6", "FNAC", 20, catalog_snapshot=json.loads(FNAC))])
        assert core.conn.value("SELECT count(*) FROM catalog_snapshots") == 3
        assert core.get_pull(pull.id).catalog_snapshot == json.loads(FNAC)


def test_the_upgrade_is_one_transaction(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A failure in the middle of the snapshots' upgrade leaves the history at schema 7, each
    pull with its snapshot, and it opens (and upgrades) again once the cause is gone."""
    from walleo_desktop.store.sqlite import schema

    path = tmp_path / "history.sqlite3"
    schema_6_history(path)

    def broken(text: str) -> str:
        raise RuntimeError("disk trouble")

    monkeypatch.setattr(schema, "snapshot_hash", broken)
    with pytest.raises(RuntimeError, match="disk trouble"):
        open_store(path, cipher=CIPHER)
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 7
        assert (
            conn.execute(
                "SELECT count(*) FROM pulls WHERE catalog_snapshot = ?", [FNAC]
            ).fetchone()[0]
            == 2
        )
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        assert "catalog_snapshots" not in names
    finally:
        conn.close()
    monkeypatch.undo()
    with open_store(path, cipher=CIPHER) as core:
        assert core.find_pull("wd-3").catalog_snapshot == json.loads(IKEA)  # type: ignore[union-attr]


def test_the_cards_expiry_day_is_copied_to_their_pulls(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from walleo_desktop.store import CardRecord
    from walleo_desktop.store.cardcodes import card_to_row

    path = tmp_path / "history.sqlite3"
    schema_6_history(path)
    conn = sqlite3.connect(path, isolation_level=None)
    expiries = {1: datetime(2027, 5, 1, 22, 30, tzinfo=UTC), 3: datetime(2027, 2, 1, tzinfo=UTC)}
    for pull_id, expire_at in expiries.items():
        row = card_to_row(
            CardRecord(
                card_id=f"card-{pull_id}",
                pull_id=pull_id,
                code=f"5555-0000-000{pull_id}",
                pin_code="",
                expire_at=expire_at,
                amount=50,
                gift_card_code="FNAC",
                pdf_url="",
                created_at=datetime(2026, 3, 1, tzinfo=UTC),
            ),
            CIPHER,
        )
        conn.execute(
            f"INSERT INTO cards ({', '.join(row)}) VALUES ({', '.join('?' for _ in row)})",  # noqa: S608
            list(row.values()),
        )
        conn.execute(
            "UPDATE pulls SET state = 'success', card_id = ? WHERE id = ?",
            [row["card_id"], pull_id],
        )
    conn.close()
    with open_store(path, cipher=CIPHER) as core:
        days = dict(core.conn.rows("SELECT id, card_expire_day FROM pulls ORDER BY id"))
        assert days == {1: "2027-05-02", 2: None, 3: "2027-02-01", 4: None, 5: None}  # Paris
        rows = core.history(HistoryFilter(), sort="expire_at", descending=False).rows
        assert [r.pull.request_id for r in rows] == ["wd-3", "wd-1", "wd-2", "wd-4", "wd-5"]
