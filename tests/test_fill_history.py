"""scripts/fill_history.py, which the benchmarks measure with: the histories it fills on either
backend are the app's own (same schema, same full-text index, snapshots kept once, codes
encrypted), and the app goes on journaling into them."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from walleo_desktop.engine.datakey import open_history
from walleo_desktop.store import HistoryFilter, NewPull, StoreCore
from walleo_desktop.store.crypto import CardCipher

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
try:
    import fill_history
finally:
    sys.path.pop(0)

ROWS = 400
CIPHER = CardCipher(bytes(range(32)))


def check_filled(core: StoreCore, cipher: CardCipher | None = None) -> None:
    assert core.count_history(HistoryFilter()) == ROWS
    # Snapshots: one per brand, each pull reads its brand's.
    texts = fill_history.snapshot_texts()
    assert 1 < core.conn.value("SELECT count(*) FROM catalog_snapshots") <= len(texts)
    for row in core.history(HistoryFilter(), limit=20).rows:
        pull = core.get_pull(row.pull.id)
        assert pull.catalog_snapshot["code"] == pull.gift_card_code
    # The search finds a reference through the full-text index (SQLite) / trigram index.
    reference = next(
        r.pull.reference for r in core.history(HistoryFilter()).rows if r.pull.reference
    )
    found = core.history(HistoryFilter(search=reference)).rows
    assert reference in [r.pull.reference for r in found]
    # Cards decrypt with the history's key; their last 4 are searchable.
    with_card = next(r for r in core.history(HistoryFilter(), limit=50).rows if r.pull.card_id)
    card = core.card_for_pull(with_card.pull.id)
    assert card is not None and card.code.isdigit()
    assert core.count_history(HistoryFilter(search=card.code)) == 1
    # The app journals after the filled rows (ids, sequences and triggers as they should be).
    [pull] = core.add_pulls(
        [NewPull("wd-after-fill", "FNAC", 20, reference="TCK-AFTER", catalog_snapshot={"a": 1})]
    )
    assert pull.id == ROWS + 1
    assert [r.pull.id for r in core.history(HistoryFilter(search="tck-after")).rows] == [pull.id]


def test_a_filled_sqlite_history_is_the_apps_own(tmp_path: Path) -> None:
    history = tmp_path / "data" / "history.sqlite3"
    fill_history.fill(history, ROWS, seed=3)
    core, _key = open_history(history)
    with core:
        check_filled(core)
        names = {r[0] for r in core.conn.rows("SELECT name FROM sqlite_master")}
        assert {"pulls_fts_insert", "pulls_request_id_nocase", "pulls_brand_created"} <= names


@pytest.fixture
def team_core(pg_database: Any) -> Iterator[StoreCore]:
    from walleo_desktop.store.postgres.admin import create_team
    from walleo_desktop.store.postgres.backend import PostgresBackend

    with pg_database.server.admin_connect(pg_database.name) as admin:
        create_team(admin)
        fill_history.fill_postgres(admin, ROWS, CIPHER, seed=3)
    backend = PostgresBackend.open(pg_database.url, cipher=CIPHER)
    core = StoreCore(backend.main, CIPHER, on_close=backend.close)
    yield core
    core.close()


def test_a_filled_team_history_is_the_apps_own(team_core: StoreCore) -> None:
    check_filled(team_core)
    identity = team_core.conn.value(
        "SELECT is_identity || ':' || identity_generation FROM information_schema.columns "
        "WHERE table_schema = 'walleo' AND table_name = 'pulls' AND column_name = 'id'"
    )
    assert identity == "YES:ALWAYS"
    indexes = {
        r[0]
        for r in team_core.conn.rows("SELECT indexname FROM pg_indexes WHERE schemaname = 'walleo'")
    }
    assert {"pulls_search_trgm", "pulls_brand_created", "pulls_success_totals"} <= indexes
