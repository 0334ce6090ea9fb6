"""The local history store: real SQLite files under tmp_path, no Qt."""

from __future__ import annotations

import os
import sqlite3
import stat
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from walleo_desktop.store import (
    FINAL_STATES,
    AlreadyRetriedError,
    BrandTotal,
    CardRecord,
    CorruptStoreError,
    HistoryFilter,
    HistoryRow,
    NewerSchemaError,
    NewPull,
    NotFoundError,
    PullState,
    StoreCore,
    StoreError,
    default_data_dir,
)
from walleo_desktop.store import records as store_module
from walleo_desktop.store.crypto import CardCipher
from walleo_desktop.store.history import SORT_KEYS
from walleo_desktop.store.sqlite import SqliteBackend
from walleo_desktop.store.sqlite import backend as backend_module
from walleo_desktop.store.sqlite import open_core as open_store
from walleo_desktop.store.sqlite.schema import SCHEMA_VERSION, UNFINISHED_WHERE
from walleo_desktop.timezones import expiry_day

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
CIPHER = CardCipher(bytes(range(32)))  # the history's key (engine.datakey keeps it in the keyring)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "history.sqlite3"


@pytest.fixture
def store(path: Path) -> Iterator[StoreCore]:
    with open_store(path, cipher=CIPHER) as opened:
        yield opened


Clock = Callable[[datetime], None]


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """Set the store's notion of "now"."""
    now = [T0]
    monkeypatch.setattr(store_module, "utcnow", lambda: now[0])

    def set_now(value: datetime) -> None:
        now[0] = value

    return set_now


def new(request_id: str, code: str = "AMZ", amount: int = 50, **kw: Any) -> NewPull:
    return NewPull(request_id=request_id, gift_card_code=code, amount=amount, **kw)


def card_for(pull_id: int, card_id: str = "card-1", code: str = "CODE-0000-1234", **kw: Any):
    fields: dict[str, Any] = {
        "expire_at": datetime(2027, 1, 1, tzinfo=UTC),
        "amount": 50,
        "gift_card_code": "AMZ",
        "pdf_url": "https://example.invalid/card.pdf",
        "created_at": T0,
        "pin_code": "4321",
    }
    fields.update(kw)
    return CardRecord(card_id=card_id, pull_id=pull_id, code=code, **fields)


def raw(path: Path) -> sqlite3.Connection:
    """A plain connection beside the store's, as another tool or process would have."""
    return sqlite3.connect(path, isolation_level=None)


def snapshot(path: Path) -> tuple[bytes, int]:
    return path.read_bytes(), path.stat().st_mtime_ns


# -- opening, schema, file ---------------------------------------------------------------------


def test_open_creates_a_private_file_with_the_current_schema(path: Path) -> None:
    with open_store(path, cipher=CIPHER) as store:
        assert store.label == str(path)
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        conn = store.conn._raw  # the store's own connection: its per-connection settings
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        store.add_pulls([new("r1")])  # the WAL and shared-memory files exist now
        for suffix in ("-wal", "-shm"):
            sidecar = path.with_name(path.name + suffix)
            assert stat.S_IMODE(sidecar.stat().st_mode) == 0o600
    conn = raw(path)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert {"pulls", "cards", "events", "settings", "catalog_cache"} <= tables
    finally:
        conn.close()


def test_an_existing_file_readable_by_others_is_made_private(path: Path) -> None:
    open_store(path, cipher=CIPHER).close()
    os.chmod(path, 0o644)
    open_store(path, cipher=CIPHER).close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_close_and_reopen_keeps_everything(path: Path) -> None:
    with open_store(path, cipher=CIPHER) as store:
        [pull] = store.add_pulls([new("r1", reference="ref")])
        store.record_card(pull.id, card_for(pull.id))
        store.set_setting("theme", {"dark": True})
    store.close()  # closing twice is harmless
    with open_store(path, cipher=CIPHER) as store:
        assert store.get_pull(pull.id).state is PullState.SUCCESS
        assert store.card_for_pull(pull.id) == card_for(pull.id)
        assert [e.kind for e in store.events(pull.id)] == ["journaled", "success"]
        assert store.get_setting("theme") == {"dark": True}


def test_an_empty_file_is_refused_never_replaced(path: Path) -> None:
    """A 0-byte history is a damaged one (a new history is never an empty file: it is created
    whole and linked into place), so it is refused like one and left as it is."""
    path.parent.mkdir(parents=True)
    path.touch()
    with pytest.raises(CorruptStoreError, match="empty"):
        open_store(path, cipher=CIPHER)
    with pytest.raises(CorruptStoreError, match="empty"):
        SqliteBackend.key_info(path)
    assert path.stat().st_size == 0
    assert sorted(p.name for p in path.parent.iterdir()) == ["history.sqlite3"]


def test_a_new_history_is_created_whole(path: Path) -> None:
    with open_store(path, cipher=CIPHER) as store:
        assert store.recent_pulls() == []
    conn = raw(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    conn.close()
    assert not [p.name for p in path.parent.iterdir() if p.name.endswith(".new")]


def test_migrations_run_in_order_each_in_one_transaction(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    open_store(path, cipher=CIPHER).close()
    ran: list[str] = []

    def v2(db: Any, cipher: Any) -> None:
        ran.append("v2")
        db.execute("CREATE TABLE extra (x)")

    def v3_broken(db: Any, cipher: Any) -> None:
        ran.append("v3")
        db.execute("CREATE TABLE half_done (x)")
        raise RuntimeError("migration bug")

    monkeypatch.setattr(backend_module, "MIGRATIONS", [*backend_module.MIGRATIONS, v2, v3_broken])
    monkeypatch.setattr(backend_module, "SCHEMA_VERSION", SCHEMA_VERSION + 2)
    with pytest.raises(RuntimeError, match="migration bug"):
        open_store(path, cipher=CIPHER)
    assert ran == ["v2", "v3"]
    conn = raw(path)
    try:  # v2 committed; v3 rolled back entirely, version included
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 1
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        assert "extra" in names
        assert "half_done" not in names
    finally:
        conn.close()


def test_a_newer_schema_is_refused_and_the_file_left_untouched(path: Path) -> None:
    open_store(path, cipher=CIPHER).close()
    conn = raw(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    conn.close()
    before = snapshot(path)
    with pytest.raises(NewerSchemaError) as caught:
        open_store(path, cipher=CIPHER)
    assert str(caught.value) == (
        "This history was written by a newer version of Walleo Desktop "
        f"(schema {SCHEMA_VERSION + 5}, this version knows up to {SCHEMA_VERSION}). "
        "Update the app; the file was left untouched."
    )
    assert isinstance(caught.value, StoreError)
    assert snapshot(path) == before


def test_a_newer_schema_with_a_pending_wal_is_not_checkpointed(path: Path) -> None:
    """Closing the last connection normally copies the WAL into the file: not for a refusal."""
    open_store(path, cipher=CIPHER).close()
    conn = raw(path)
    conn.setconfig(sqlite3.SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, True)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")  # lands in the WAL only
    conn.close()
    wal = path.with_name(path.name + "-wal")
    before, wal_before = snapshot(path), wal.read_bytes()
    assert wal_before
    with pytest.raises(NewerSchemaError):
        open_store(path, cipher=CIPHER)
    assert snapshot(path) == before
    assert wal.read_bytes() == wal_before


def test_a_garbage_file_is_reported_as_corrupt_and_left_untouched(path: Path) -> None:
    path.parent.mkdir(parents=True)
    path.write_bytes(os.urandom(8192))
    before = snapshot(path)
    with pytest.raises(CorruptStoreError) as caught:
        open_store(path, cipher=CIPHER)
    message = str(caught.value)
    assert str(path) in message
    assert "damaged or not a database" in message
    assert "left untouched" in message
    assert snapshot(path) == before


def test_damaged_pages_are_reported_as_corrupt(path: Path) -> None:
    with open_store(path, cipher=CIPHER) as store:
        store.add_pulls([new(f"r{i}", note="x" * 500) for i in range(200)])
    data = bytearray(path.read_bytes())
    assert len(data) > 8 * 4096
    data[4096 : len(data) - 4096] = os.urandom(len(data) - 8192)  # keep the header page
    path.write_bytes(bytes(data))
    before = snapshot(path)
    with pytest.raises(CorruptStoreError, match="damaged"):
        open_store(path, cipher=CIPHER)
    assert snapshot(path) == before


def test_a_foreign_sqlite_file_is_refused(path: Path) -> None:
    path.parent.mkdir(parents=True)
    conn = raw(path)
    conn.execute("CREATE TABLE photos (id INTEGER PRIMARY KEY)")
    conn.close()
    with pytest.raises(CorruptStoreError, match="not a Walleo history"):
        open_store(path, cipher=CIPHER)


def test_default_data_dir_follows_xdg(isolated_dirs: Path) -> None:
    assert default_data_dir() == isolated_dirs / "data" / "walleo-desktop"


# -- journal -----------------------------------------------------------------------------------


def test_add_pulls_journals_intents_with_one_event_each(store: StoreCore, clock: Clock) -> None:
    snapshot_ = {"code": "AMZ", "discount": 5, "facial_values": {"type": "fixed"}}
    pulls = store.add_pulls(
        [
            new("r1", amount=50, discount=5, gift_card_name="Amazon", catalog_snapshot=snapshot_),
            new("r2", code="FNAC", amount=20, agent="alice", batch_id="b1"),
        ]
    )
    assert [p.request_id for p in pulls] == ["r1", "r2"]
    first = pulls[0]
    assert first.state is PullState.QUEUED
    assert first.created_at == first.updated_at == T0
    assert first.catalog_snapshot == snapshot_
    assert first.gift_card_name == "Amazon"
    assert first.cost == 47.5
    assert pulls[1].agent == "alice"
    assert pulls[1].batch_id == "b1"
    events = store.events()
    assert [(e.pull_id, e.kind) for e in events] == [
        (first.id, "journaled"),
        (pulls[1].id, "journaled"),
    ]
    assert events[0].detail == {
        "request_id": "r1",
        "gift_card_code": "AMZ",
        "amount": 50,
        "currency": "EUR",
    }
    assert store.find_pull("r2") == pulls[1]
    assert store.find_pull("nope") is None
    assert store.add_pulls([]) == []


def test_add_pulls_is_all_or_nothing(store: StoreCore) -> None:
    [existing] = store.add_pulls([new("r0")])
    with pytest.raises(StoreError, match="'dup' is already in the history"):
        store.add_pulls([new("a"), new("dup"), new("b"), new("dup")])
    with pytest.raises(StoreError, match="'r0' is already in the history"):
        store.add_pulls([new("c"), new("r0")])
    with pytest.raises(StoreError, match="Nothing was journaled"):
        store.add_pulls([new("d"), new("e", retry_of=9999)])  # no such pull to retry
    assert store.recent_pulls() == [existing]
    assert len(store.events()) == 1
    with pytest.raises(ValueError, match="positive"):
        store.add_pulls([new("f", amount=0)])


def test_get_pull_of_a_missing_id(store: StoreCore) -> None:
    with pytest.raises(NotFoundError, match="no pull #42") as caught:
        store.get_pull(42)
    assert isinstance(caught.value, KeyError)
    assert isinstance(caught.value, StoreError)
    with pytest.raises(KeyError):
        store.update_pull(42, state=PullState.SENDING)


def test_update_pull_converts_fields_and_logs_the_event(store: StoreCore, clock: Clock) -> None:
    [pull] = store.add_pulls([new("r1")])
    later = T0 + timedelta(seconds=3)
    clock(later)
    updated = store.update_pull(
        pull.id,
        state=PullState.IN_DOUBT,
        overdue=True,
        sent_at=T0,
        next_check_at=later + timedelta(seconds=2),
        attempts=1,
        error_message="timeout",
        walleo_status="waiting",
        event="create_in_doubt",
        detail={"http": "timeout"},
    )
    assert updated.state is PullState.IN_DOUBT
    assert updated.overdue is True
    assert updated.sent_at == T0
    assert updated.next_check_at == later + timedelta(seconds=2)
    assert updated.attempts == 1
    assert updated.updated_at == later
    assert updated.created_at == T0
    assert store.get_pull(pull.id) == updated
    event = store.events(pull.id)[-1]
    assert event.kind == "create_in_doubt"
    assert event.at == later
    assert event.detail == {"http": "timeout", "from_state": "queued", "to_state": "in_doubt"}
    cleared = store.update_pull(pull.id, state="waiting", next_check_at=None, error_message=None)
    assert cleared.state is PullState.WAITING
    assert cleared.next_check_at is None
    assert cleared.error_message == ""
    assert len(store.events(pull.id)) == 2  # no event asked for: none logged


def test_update_pull_refuses_bad_fields_before_writing(store: StoreCore) -> None:
    [pull] = store.add_pulls([new("r1")])
    with pytest.raises(ValueError, match="unknown pull field"):
        store.update_pull(pull.id, state=PullState.SENDING, colour="red", event="sending")
    with pytest.raises(ValueError, match="amount cannot be changed"):
        store.update_pull(pull.id, amount=500)
    with pytest.raises(ValueError, match="not a valid PullState"):
        store.update_pull(pull.id, state="lost")
    with pytest.raises(TypeError, match="attempts"):
        store.update_pull(pull.id, attempts="3")
    with pytest.raises(ValueError, match="naive"):
        store.update_pull(pull.id, sent_at=datetime(2026, 1, 1))
    assert store.get_pull(pull.id) == pull
    assert len(store.events(pull.id)) == 1


def test_update_pull_and_its_event_commit_together(store: StoreCore, path: Path) -> None:
    [pull] = store.add_pulls([new("r1")])
    # The UPDATE runs, then the event INSERT fails: the UPDATE must be rolled back.
    conn = raw(path)
    conn.execute(
        "CREATE TRIGGER boom BEFORE INSERT ON events WHEN NEW.kind = 'boom' "
        "BEGIN SELECT RAISE(ABORT, 'disk says no'); END"
    )
    conn.close()
    with pytest.raises(StoreError, match=r"disk says no.*Nothing was changed"):
        store.update_pull(pull.id, state=PullState.SENDING, attempts=1, event="boom")
    # A failure outside SQLite (an event detail that is not JSON) rolls back the same way.
    with pytest.raises(TypeError, match="not JSON serialisable"):
        store.update_pull(pull.id, state=PullState.SENDING, event="x", detail={"o": object()})
    assert store.get_pull(pull.id) == pull
    assert [e.kind for e in store.events(pull.id)] == ["journaled"]
    # And the store is still usable afterwards.
    resumed = store.update_pull(pull.id, state=PullState.SENDING, event="ok")
    assert resumed.state is PullState.SENDING


def test_record_card_is_idempotent_and_keeps_secrets_out_of_events(
    store: StoreCore, clock: Clock
) -> None:
    [pull] = store.add_pulls([new("r1")])
    store.update_pull(pull.id, state=PullState.PROCESSING, error_code="slow", overdue=True)
    clock(T0 + timedelta(seconds=9))
    card = card_for(pull.id, "card-uuid-4321", code="SECRET-CODE-9876", pin_code="4321")
    slips = {"pin": "4321", "seen": "got SECRET-CODE-9876", "p": "4321", "id": "x-4321"}
    done = store.record_card(pull.id, card, detail=slips)
    assert done.state is PullState.SUCCESS
    assert done.card_id == card.card_id
    assert done.finished_at == T0 + timedelta(seconds=9)
    assert (done.error_code, done.overdue, done.next_check_at) == ("", False, None)
    assert store.get_card(card.card_id) == card
    assert store.card_for_pull(pull.id) == card
    assert "SECRET" not in repr(card)

    clock(T0 + timedelta(seconds=20))
    assert store.record_card(pull.id, card) == done  # again: nothing changes
    events = store.events(pull.id)
    assert [e.kind for e in events] == ["journaled", "success"]
    success = events[-1].detail
    assert success["card_id"] == card.card_id
    assert success["from_state"] == "processing"
    assert success["pin"] == success["seen"] == success["p"] == "[redacted]"
    assert success["id"] == "x-4321"  # a PIN's digits inside another value are left alone
    conn = raw(Path(store.label))
    try:
        log = " ".join(r[0] for r in conn.execute("SELECT detail FROM events"))
    finally:
        conn.close()
    assert "SECRET-CODE" not in log
    assert '"4321"' not in log


def test_record_card_refuses_a_card_that_does_not_fit(store: StoreCore) -> None:
    first, second = store.add_pulls([new("r1"), new("r2")])
    store.record_card(first.id, card_for(first.id, "card-1"))
    with pytest.raises(StoreError, match="already recorded for pull"):
        store.record_card(second.id, card_for(second.id, "card-1"))
    with pytest.raises(StoreError, match="already has another card"):
        store.record_card(first.id, card_for(first.id, "card-2"))
    with pytest.raises(ValueError, match="belongs to pull"):
        store.record_card(second.id, card_for(first.id, "card-3"))
    assert store.get_pull(second.id) == second
    assert store.get_card("card-2") is None


def test_set_card_pdf_path(store: StoreCore) -> None:
    [pull] = store.add_pulls([new("r1")])
    store.record_card(pull.id, card_for(pull.id))
    store.set_card_pdf_path("card-1", "/home/me/cards/card-1.pdf")
    card = store.card_for_pull(pull.id)
    assert card is not None
    assert card.pdf_path == "/home/me/cards/card-1.pdf"
    with pytest.raises(NotFoundError):
        store.set_card_pdf_path("nope", "/x.pdf")


def test_the_journal_only_grows(store: StoreCore) -> None:
    [pull] = store.add_pulls([new("r1")])
    store.record_card(pull.id, card_for(pull.id))
    conn = raw(Path(store.label))
    try:
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute("UPDATE events SET kind = 'edited'")
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute("DELETE FROM events")
        with pytest.raises(sqlite3.IntegrityError, match="never deleted"):
            conn.execute("DELETE FROM pulls")
        with pytest.raises(sqlite3.IntegrityError, match="never deleted"):
            conn.execute("DELETE FROM cards")
    finally:
        conn.close()
    assert len(store.events()) == 2


def test_events_app_wide_and_latest(store: StoreCore) -> None:
    [pull] = store.add_pulls([new("r1")])
    store.add_event(None, "catalog_refreshed", {"items": 12, "at": T0})
    for i in range(5):
        store.add_event(pull.id, "poll", {"n": i})
    everything = store.events()
    assert [e.kind for e in everything][:2] == ["journaled", "catalog_refreshed"]
    assert everything[1].pull_id is None
    assert everything[1].detail == {"items": 12, "at": "2026-03-01T09:00:00.000000Z"}
    latest = store.events(pull.id, limit=2)
    assert [e.detail["n"] for e in latest] == [3, 4]  # the 2 latest, oldest first
    with pytest.raises(StoreError):
        store.add_event(9999, "poll")  # no such pull
    store.add_event(pull.id, "odd", {"api_key": "k", "nested": [{"Shared_Key": "s"}]})
    assert store.events(pull.id, limit=1)[0].detail == {
        "api_key": "[redacted]",
        "nested": [{"Shared_Key": "[redacted]"}],
    }


def test_unfinished_pulls_oldest_first_via_the_partial_index(
    store: StoreCore, clock: Clock
) -> None:
    made = {}
    for i, state in enumerate(PullState):
        clock(T0 - timedelta(minutes=i))  # later states are older
        [pull] = store.add_pulls([new(f"r{i}")])
        made[state] = store.update_pull(pull.id, state=state)
    expected = sorted((p for s, p in made.items() if not s.final), key=lambda p: p.created_at)
    assert store.unfinished_pulls() == expected
    assert {p.state for p in expected} == set(PullState) - FINAL_STATES
    conn = raw(Path(store.label))
    try:
        query = f"SELECT id FROM pulls WHERE {UNFINISHED_WHERE} ORDER BY created_at, id"  # noqa: S608
        plan = conn.execute(f"EXPLAIN QUERY PLAN {query}").fetchall()
    finally:
        conn.close()
    assert "pulls_unfinished" in str(plan)
    assert "TEMP B-TREE" not in str(plan)


def test_the_unfinished_condition_matches_the_final_states() -> None:
    listed = UNFINISHED_WHERE.split("(")[1].rstrip(")")
    assert {s.strip(" '") for s in listed.split(",")} == {s.value for s in FINAL_STATES}


def test_pulls_by_ids_recent_and_retries(store: StoreCore, clock: Clock) -> None:
    made = []
    for i in range(4):
        clock(T0 + timedelta(minutes=i))
        made += store.add_pulls([new(f"r{i}")])
    made[0] = store.update_pull(made[0].id, state=PullState.ERROR)
    [retry] = store.add_pulls([new("r0-retry", retry_of=made[0].id)])
    assert store.pulls([made[2].id, 999, made[0].id]) == [made[2], made[0]]
    assert store.pulls(list(range(1, 1200))) == [*made, retry]  # more ids than one chunk
    assert [p.request_id for p in store.recent_pulls(limit=3)] == ["r0-retry", "r3", "r2"]
    assert store.retries_of(made[0].id) == [retry]
    assert store.retries_of(made[1].id) == []


def test_a_failure_gets_one_retry_and_only_a_failure_gets_one(store: StoreCore, path: Path) -> None:
    [failed, running] = store.add_pulls([new("f"), new("r")])
    with pytest.raises(StoreError, match="has not failed"):
        store.add_pulls([new("r-retry", retry_of=running.id)])
    store.update_pull(failed.id, state=PullState.REJECTED)
    [retry] = store.add_pulls([new("f-retry", retry_of=failed.id)])
    with pytest.raises(AlreadyRetriedError) as caught:
        store.add_pulls([new("f-retry-2", retry_of=failed.id)])
    assert caught.value.retry_id == retry.id
    assert store.retries_of(failed.id) == [retry]
    # The rule holds for any writer of the file, not only through Store (another process, an
    # older build): SQLite itself refuses.
    conn = raw(path)
    insert = (
        "INSERT INTO pulls (request_id, gift_card_code, amount, state, created_at, updated_at, "
        "retry_of) VALUES (?, 'AMZ', 5, 'queued', 'x', 'x', ?)"
    )
    with pytest.raises(sqlite3.IntegrityError, match="already retried"):
        conn.execute(insert, ["raw-retry", failed.id])
    with pytest.raises(sqlite3.IntegrityError, match="only a pull that failed"):
        conn.execute(insert, ["raw-retry-2", running.id])
    conn.close()


def test_a_final_state_is_never_left(store: StoreCore, path: Path) -> None:
    [pull] = store.add_pulls([new("f")])
    store.update_pull(pull.id, state=PullState.ERROR)
    with pytest.raises(StoreError, match="never changes state"):
        store.update_pull(pull.id, state=PullState.WAITING)
    conn = raw(path)
    with pytest.raises(sqlite3.IntegrityError, match="never changes state"):
        conn.execute("UPDATE pulls SET state = 'queued' WHERE id = ?", [pull.id])
    conn.close()
    assert store.get_pull(pull.id).state is PullState.ERROR


def test_two_stores_writing_from_two_threads(path: Path) -> None:
    """Two connections (as two app windows or processes would have) queue, never fail."""
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def writer(name: str) -> None:
        try:
            start.wait()
            # both open a fresh file at the same time
            with open_store(path, cipher=CIPHER) as store:
                for i in range(500):  # 2 transactions per turn: 1000 writes per thread
                    [pull] = store.add_pulls([new(f"{name}-{i}")])
                    store.update_pull(pull.id, attempts=1, event="poll", detail={"i": i})
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    with open_store(path, cipher=CIPHER) as store:
        assert store.count_history(HistoryFilter()) == 1000
        assert len(store.events()) == 2000


# -- settings and catalog ----------------------------------------------------------------------


def test_settings_roundtrip(store: StoreCore) -> None:
    assert store.get_setting("missing") is None
    assert store.get_setting("missing", 7) == 7
    store.set_setting("columns", ["state", "amount"])
    store.set_setting("columns", {"hidden": ["note"], "widths": {"state": 80}})
    store.set_setting("name", "Zoé")
    assert store.get_setting("columns") == {"hidden": ["note"], "widths": {"state": 80}}
    assert store.get_setting("name") == "Zoé"
    with pytest.raises(TypeError):
        store.set_setting("bad", object())


def test_catalog_cache_roundtrip(store: StoreCore) -> None:
    assert store.load_catalog("demo") is None
    items = [{"code": "AMZ", "name": "Amazon", "facial_values": {"type": "fixed", "amounts": [50]}}]
    store.save_catalog("demo", [{"code": "OLD"}], T0)
    store.save_catalog("demo", items, T0 + timedelta(hours=1))
    store.save_catalog("prod", [], T0)
    assert store.load_catalog("demo") == (T0 + timedelta(hours=1), items)
    assert store.load_catalog("prod") == (T0, [])


# -- history -----------------------------------------------------------------------------------

D1, D2, D3 = (datetime(2026, 3, day, tzinfo=UTC) for day in (1, 2, 3))

# request_id, code, name, amount, discount, agent, reference, note, created_at, state, card code
FIXTURE = [
    ("REQ-A1", "AMZ", "Amazon", 50, 5, "alice", "Équipe Nord", "", D1 + timedelta(hours=9),
     PullState.SUCCESS, "AMZ-0000-1111", datetime(2027, 3, 1, tzinfo=UTC)),
    ("REQ-A2", "AMZ", "Amazon", 100, 5, "bob", "client 42", "urgent", D1 + timedelta(hours=10),
     PullState.SUCCESS, "AMZ-0000-2222", datetime(2027, 1, 1, tzinfo=UTC)),
    ("REQ-F1", "FNAC", "Fnac", 20, None, "alice", "", "note équipe", D1 + timedelta(hours=23),
     PullState.ERROR, None, None),
    ("REQ-F2", "FNAC", "Fnac", 30, 10, "carol", "équipe sud", "", D2 + timedelta(hours=8),
     PullState.SUCCESS, "FN-9999-1111", datetime(2026, 12, 31, tzinfo=UTC)),
    ("XYZ-1", "DEC", "decathlon", 15, 3, "Bob", "", "", D2 + timedelta(hours=12),
     PullState.IN_DOUBT, None, None),
    ("XYZ-2", "DEC", "decathlon", 25, 3, "alice", "Ref_50%", "", D3,
     PullState.REJECTED, None, None),
    ("XYZ-3", "AMZ", "Amazon", 20, 5, "carol", "", "", D3 + timedelta(hours=5),
     PullState.WAITING, None, None),
    ("XYZ-4", "FNAC", "Fnac", 40, 10, "", "", "", D3 + timedelta(hours=6),
     PullState.QUEUED, None, None),
]  # fmt: skip


@pytest.fixture
def hist(store: StoreCore, clock: Clock) -> dict[str, int]:
    """The FIXTURE pulls; request id -> pull id."""
    ids = {}
    for row in FIXTURE:
        rid, code, name, amount, discount, agent, ref, note, at, state, card_code, expire = row
        clock(at)
        intent = new(rid, code, amount, gift_card_name=name, discount=discount, agent=agent)
        [pull] = store.add_pulls([replace(intent, reference=ref, note=note)])
        ids[rid] = pull.id
        if card_code:
            card = card_for(pull.id, f"card-{rid}", card_code, expire_at=expire)
            store.record_card(pull.id, card)
        elif state is not PullState.QUEUED:
            store.update_pull(pull.id, state=state)
    return ids


XYZ = ["XYZ-1", "XYZ-2", "XYZ-3", "XYZ-4"]


def request_ids(store: StoreCore, flt: HistoryFilter, **kw: Any) -> list[str]:
    return [row.pull.request_id for row in store.history(flt, limit=1000, **kw).rows]


@pytest.mark.parametrize(
    ("flt", "expected"),
    [
        (HistoryFilter(), ["REQ-A1", "REQ-A2", "REQ-F1", "REQ-F2", *XYZ]),
        (HistoryFilter(since=D2), ["REQ-F2", "XYZ-1", "XYZ-2", "XYZ-3", "XYZ-4"]),
        (HistoryFilter(until=D2), ["REQ-A1", "REQ-A2", "REQ-F1"]),
        (HistoryFilter(since=D1 + timedelta(hours=23), until=D3), ["REQ-F1", "REQ-F2", "XYZ-1"]),
        (HistoryFilter(states=(PullState.SUCCESS,)), ["REQ-A1", "REQ-A2", "REQ-F2"]),
        (HistoryFilter(states=(PullState.ERROR, PullState.REJECTED)), ["REQ-F1", "XYZ-2"]),
        (HistoryFilter(gift_card_codes=("FNAC",)), ["REQ-F1", "REQ-F2", "XYZ-4"]),
        (HistoryFilter(gift_card_codes=("DEC", "AMZ")), ["REQ-A1", "REQ-A2", *XYZ[:3]]),
        (HistoryFilter(agents=("alice",)), ["REQ-A1", "REQ-F1", "XYZ-2"]),
        (HistoryFilter(agents=("bob", "carol")), ["REQ-A2", "REQ-F2", "XYZ-3"]),  # "Bob" differs
        # search: request id, exactly or by prefix, any case
        (HistoryFilter(search="REQ-A1"), ["REQ-A1"]),
        (HistoryFilter(search=" req-a "), ["REQ-A1", "REQ-A2"]),
        (HistoryFilter(search="XYZ"), XYZ),
        (HistoryFilter(search="XYZ%"), []),  # LIKE wildcards are literal
        (HistoryFilter(search="-1"), []),  # not a prefix
        # reference or note substring, case-insensitive beyond ASCII
        (HistoryFilter(search="équipe"), ["REQ-A1", "REQ-F1", "REQ-F2"]),
        (HistoryFilter(search="ÉQUIPE"), ["REQ-A1", "REQ-F1", "REQ-F2"]),
        (HistoryFilter(search="ent 4"), ["REQ-A2"]),
        (HistoryFilter(search="URGENT"), ["REQ-A2"]),
        (HistoryFilter(search="_50%"), ["XYZ-2"]),
        # card code: whole, or its last 4+ characters
        (HistoryFilter(search="AMZ-0000-2222"), ["REQ-A2"]),
        (HistoryFilter(search="1111"), ["REQ-A1", "REQ-F2"]),
        (HistoryFilter(search="0000-1111"), ["REQ-A1"]),
        (HistoryFilter(search="111"), []),  # too short for a code search
        (HistoryFilter(search="AMZ-0000"), []),  # a code prefix is not a suffix
        # combined
        (
            HistoryFilter(
                since=D1, until=D3, agents=("alice",), states=(PullState.SUCCESS, PullState.ERROR)
            ),
            ["REQ-A1", "REQ-F1"],
        ),
        (HistoryFilter(agents=("alice", "carol"), search="équipe"), ["REQ-A1", "REQ-F1", "REQ-F2"]),
        (HistoryFilter(gift_card_codes=("AMZ",), search="équipe", until=D2), ["REQ-A1"]),
        (HistoryFilter(gift_card_codes=("AMZ",), states=(PullState.ERROR,)), []),
    ],
)  # fmt: skip
def test_history_filters(
    store: StoreCore, hist: dict[str, int], flt: HistoryFilter, expected: list[str]
) -> None:
    assert request_ids(store, flt, descending=False) == expected
    assert store.count_history(flt) == len(expected)


def test_history_rows_carry_card_fields_but_never_the_code(
    store: StoreCore, hist: dict[str, int]
) -> None:
    page = store.history(HistoryFilter(search="REQ-A"), descending=False, with_total=True)
    assert page.total == 2
    assert page.offset == 0
    first = page.rows[0]
    assert first == HistoryRow(
        pull=store.get_pull(hist["REQ-A1"]),
        card_code_last4="1111",
        card_expire_at=datetime(2027, 3, 1, tzinfo=UTC),
    )
    assert "AMZ-0000-1111" not in repr(page)
    no_card = store.history(HistoryFilter(search="XYZ-4")).rows[0]
    assert (no_card.card_code_last4, no_card.card_expire_at) == ("", None)
    assert store.history(HistoryFilter()).total is None


def _nocase(text: str) -> str:
    """SQLite's NOCASE: ASCII letters only."""
    return "".join(ch.lower() if ch.isascii() else ch for ch in text)


SORT_EXPECTATIONS: dict[str, Callable[[HistoryRow], Any]] = {
    "created_at": lambda r: r.pull.created_at,
    "agent": lambda r: _nocase(r.pull.agent),
    "reference": lambda r: _nocase(r.pull.reference),
    "gift_card_code": lambda r: r.pull.gift_card_code,
    "gift_card_name": lambda r: _nocase(r.pull.gift_card_name),
    "amount": lambda r: r.pull.amount,
    "cost": lambda r: r.pull.cost,
    "state": lambda r: r.pull.state.value,
    "request_id": lambda r: r.pull.request_id,
    "card_id": lambda r: r.pull.card_id,
    # The day Walleo means (the one shown), pulls without a card last either way.
    "expire_at": lambda r: r.card_expire_at and expiry_day(r.card_expire_at),
}


def test_every_sort_key_is_tested() -> None:
    assert set(SORT_EXPECTATIONS) == set(SORT_KEYS)


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("sort", sorted(SORT_EXPECTATIONS))
def test_history_sorts_and_pages_stably(
    store: StoreCore, hist: dict[str, int], sort: str, descending: bool
) -> None:
    key = SORT_EXPECTATIONS[sort]
    every = HistoryFilter()
    rows = store.history(every, sort=sort, descending=descending, limit=1000).rows
    assert len(rows) == len(FIXTURE)
    valued = [r for r in rows if key(r) is not None]
    empty = [r for r in rows if key(r) is None]
    valued.sort(key=lambda r: (key(r), r.pull.id), reverse=descending)
    empty.sort(key=lambda r: r.pull.id, reverse=descending)
    assert rows == valued + empty
    pages = []
    for offset in range(0, 9, 3):
        page = store.history(every, sort=sort, descending=descending, offset=offset, limit=3)
        assert page.offset == offset
        pages += page.rows
    assert pages == rows


@pytest.mark.parametrize("descending", [False, True])
def test_the_expiry_order_puts_pulls_without_one_last(
    store: StoreCore, hist: dict[str, int], clock: Clock, descending: bool
) -> None:
    """By the card's expiry day (copied to its pull by record_card), ties by id; pulls without
    a card, or whose card has no expiry, last either way, by id."""
    clock(D3 + timedelta(hours=7))
    [pull] = store.add_pulls([new("NO-EXPIRY", "AMZ", 10)])
    store.record_card(pull.id, card_for(pull.id, "card-no-expiry", "AMZ-5555", expire_at=None))
    [twin] = store.add_pulls([new("SAME-DAY", "AMZ", 10)])  # the same day as REQ-A2's card
    store.record_card(
        twin.id,
        card_for(twin.id, "card-twin", "AMZ-6666", expire_at=datetime(2027, 1, 1, 3, tzinfo=UTC)),
    )
    key = SORT_EXPECTATIONS["expire_at"]
    for flt in (HistoryFilter(), HistoryFilter(gift_card_codes=("AMZ",)), HistoryFilter(since=D2)):
        rows = store.history(flt, sort="expire_at", descending=descending, limit=1000).rows
        valued = sorted(
            (r for r in rows if key(r) is not None),
            key=lambda r: (key(r), r.pull.id),
            reverse=descending,
        )
        empty = sorted(
            (r for r in rows if key(r) is None), key=lambda r: r.pull.id, reverse=descending
        )
        assert rows == valued + empty
        assert len(rows) == store.count_history(flt)
        paged = [
            row
            for offset in range(0, len(rows), 2)
            for row in store.history(
                flt, sort="expire_at", descending=descending, offset=offset, limit=2
            ).rows
        ]
        assert paged == rows
    assert "NO-EXPIRY" in [r.pull.request_id for r in empty]


def test_history_refuses_unknown_sorts_and_bad_pages(store: StoreCore) -> None:
    with pytest.raises(ValueError, match="cannot sort the history by 'code'"):
        store.history(HistoryFilter(), sort="code")
    with pytest.raises(ValueError, match="cannot sort"):
        store.history(HistoryFilter(), sort="id; DROP TABLE pulls")
    with pytest.raises(ValueError):
        store.history(HistoryFilter(), limit=0)
    with pytest.raises(ValueError):
        store.history(HistoryFilter(), offset=-1)


def test_totals(store: StoreCore, hist: dict[str, int]) -> None:
    totals = store.totals(HistoryFilter())
    assert totals.count == 3  # REQ-A1, REQ-A2, REQ-F2
    assert totals.face_value == 50 + 100 + 30
    assert totals.cost == 47.5 + 95 + 27
    assert totals.per_brand == [
        BrandTotal("AMZ", "Amazon", 2, 150, 142.5),
        BrandTotal("FNAC", "Fnac", 1, 30, 27.0),
    ]
    assert (totals.failed, totals.in_doubt, totals.pending) == (2, 1, 2)

    day1 = store.totals(HistoryFilter(until=D2))
    assert (day1.count, day1.face_value, day1.cost) == (2, 150, 142.5)
    assert (day1.failed, day1.in_doubt, day1.pending) == (1, 0, 0)

    nothing = store.totals(HistoryFilter(agents=("nobody",)))
    assert (nothing.count, nothing.face_value, nothing.cost, nothing.per_brand) == (0, 0, 0, [])


def test_daily_totals(store: StoreCore, hist: dict[str, int]) -> None:
    assert store.daily_totals(HistoryFilter()) == [
        ("2026-03-01", "AMZ", 150),
        ("2026-03-02", "FNAC", 30),
    ]
    assert store.daily_totals(HistoryFilter(gift_card_codes=("FNAC",))) == [
        ("2026-03-02", "FNAC", 30)
    ]
    assert store.daily_totals(HistoryFilter(states=(PullState.ERROR,))) == []


def test_distinct_values(store: StoreCore, hist: dict[str, int]) -> None:
    assert store.distinct_values("gift_card_code") == ["AMZ", "DEC", "FNAC"]
    assert store.distinct_values("agent") == ["Bob", "alice", "bob", "carol"]
    assert store.distinct_values("state") == sorted(
        ["success", "error", "in_doubt", "rejected", "waiting", "queued"]
    )
    with pytest.raises(ValueError, match="no value list"):
        store.distinct_values("request_id")


def test_record_card_keeps_walleos_answer_in_the_same_transaction(path: Path) -> None:
    from walleo_desktop.store.records import utcnow

    with open_store(path, cipher=CIPHER) as store:
        (pull,) = store.add_pulls([NewPull(request_id="wd-rc-1", gift_card_code="X", amount=50)])
        card = CardRecord(
            card_id="c-1",
            pull_id=pull.id,
            code="1234567890123",
            pin_code="9876",
            expire_at=None,
            amount=50,
            gift_card_code="X",
            pdf_url="",
            created_at=utcnow(),
        )
        done = store.record_card(
            pull.id, card, walleo_id="3db15189", walleo_status="success", attempts=3
        )
        assert (done.state, done.walleo_id, done.walleo_status, done.attempts) == (
            PullState.SUCCESS,
            "3db15189",
            "success",
            3,
        )


def test_an_up_to_date_history_opens_without_sqlite_utils_with_its_pragmas(tmp_path):
    """sqlite-utils makes and migrates the schema; opening a history already up to date
    needs sqlite3 alone (``SqliteConn.db`` is made when first asked). What sqlite-utils sets
    on a connection it wraps (``recursive_triggers``) is set on every connection anyway, so
    the triggers behave the same whether or not a migration ran in this process."""
    path = tmp_path / "h.sqlite3"
    SqliteBackend.open(path).close()  # made: schema, migrations
    backend = SqliteBackend.open(path)
    try:
        assert backend.main._db is None
        other = backend.connect()
        try:
            for conn in (backend.main, other):
                assert conn.value("PRAGMA recursive_triggers") == 1
                assert conn.value("PRAGMA foreign_keys") == 1
        finally:
            other.close()
        assert backend.main.db.table_names()  # made (and imported) when first asked
        assert backend.main.value("PRAGMA recursive_triggers") == 1
    finally:
        backend.close()
