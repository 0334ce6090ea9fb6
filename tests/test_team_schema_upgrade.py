"""A team database made by the first released schema keeps every pull, card and catalog entry
through `team upgrade` (real PostgreSQL): the snapshots kept once, the expiry day beside its
pull, the history sorted by it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from walleo_desktop.store import CardRecord, HistoryFilter, StoreCore
from walleo_desktop.store.cardcodes import card_to_row
from walleo_desktop.store.crypto import CardCipher

CIPHER = CardCipher(bytes(range(32)))
IKEA = '{"code": "IKEA", "name": "IKEA", "values": [25, 50]}'


def test_a_version_1_team_history_upgrades_with_nothing_lost(
    team_db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from walleo_desktop.store.postgres import admin, schema
    from walleo_desktop.store.postgres.backend import PostgresBackend

    everything = list(schema._MIGRATIONS)
    assert len(everything) >= 2
    monkeypatch.setattr(schema, "_MIGRATIONS", everything[:1])
    monkeypatch.setattr(schema, "SCHEMA_VERSION", 1)
    with team_db.server.admin_connect(team_db.name) as conn:
        admin.create_team(conn)
        conn.execute("SET search_path = walleo, public")
        for n, snapshot in enumerate([IKEA, IKEA, "{}", IKEA.replace("50", "75")], start=1):
            conn.execute(
                "INSERT INTO pulls (request_id, gift_card_code, gift_card_name, catalog_snapshot,"
                " amount, state, created_at, updated_at, agent) VALUES (%s, 'IKEA', 'IKEA', %s,"
                " 50, 'processing', %s, %s, 'lea')",
                [f"wd-{n}", snapshot, *[f"2026-03-0{n}T09:00:00.000000Z"] * 2],
            )
        expiries = {
            1: datetime(2027, 5, 1, 22, 30, tzinfo=UTC),
            3: datetime(2027, 2, 1, tzinfo=UTC),
        }
        for pull_id, expire_at in expiries.items():
            row = card_to_row(
                CardRecord(
                    card_id=f"card-{pull_id}", pull_id=pull_id, code=f"5555-0000-000{pull_id}",
                    pin_code="", expire_at=expire_at, amount=50, gift_card_code="IKEA",
                    pdf_url="", created_at=datetime(2026, 3, 1, tzinfo=UTC),
                ),
                CIPHER,
            )  # fmt: skip
            conn.execute(
                f"INSERT INTO cards ({', '.join(row)}) VALUES ({', '.join('%s' for _ in row)})",  # noqa: S608
                list(row.values()),
            )
            conn.execute(
                "UPDATE pulls SET state = 'success', card_id = %s WHERE id = %s",
                [row["card_id"], pull_id],
            )
    monkeypatch.setattr(schema, "_MIGRATIONS", everything)
    monkeypatch.setattr(schema, "SCHEMA_VERSION", len(everything))
    with team_db.server.admin_connect(team_db.name) as conn:
        assert admin.upgrade_team(conn) == list(range(2, len(everything) + 1))
        assert conn.execute("SELECT count(*) FROM walleo.catalog_snapshots").fetchone() == (2,)

    backend = PostgresBackend.open(team_db.url, cipher=CIPHER)
    core = StoreCore(backend.main, CIPHER, on_close=backend.close)
    try:
        snapshots = [core.find_pull(f"wd-{n}").catalog_snapshot for n in range(1, 5)]  # type: ignore[union-attr]
        assert snapshots[0] == snapshots[1] == {"code": "IKEA", "name": "IKEA", "values": [25, 50]}
        assert snapshots[2] == {}
        assert snapshots[3]["values"] == [25, 75]
        rows = core.history(HistoryFilter(), sort="expire_at", descending=False).rows
        assert [r.pull.request_id for r in rows] == ["wd-3", "wd-1", "wd-2", "wd-4"]
        assert rows[1].card_expire_at == datetime(2027, 5, 1, 22, 30, tzinfo=UTC)
        card = core.card_for_pull(1)
        assert card is not None and card.code == "5555-0000-0001"
    finally:
        core.close()
