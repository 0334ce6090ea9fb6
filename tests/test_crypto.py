"""Card codes and PINs encrypted at rest: the cipher, the store, the migration of a plaintext
history, the data key in the keyring (and its fallback file), and where the front ends say so."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import keyring
import keyring.backends.fail
import keyring.backends.null
import keyring.errors
import pytest
from conftest import wait_until
from PySide6.QtWidgets import QApplication

from walleo_desktop.engine import Connection, PollPolicy, Session, history_path
from walleo_desktop.engine import datakey as datakey_module
from walleo_desktop.engine.datakey import (
    FALLBACK_FILE,
    DataKey,
    fallback_path,
    keyring_entry,
    load_data_key,
    open_history,
)
from walleo_desktop.engine.profiles import KEYRING_SERVICE
from walleo_desktop.store import (
    CardRecord,
    HistoryFilter,
    NewerSchemaError,
    NewPull,
    PullState,
    Store,
    StoreCore,
    StoreError,
    cardcodes,
)
from walleo_desktop.store.crypto import (
    FORMAT_V1,
    HASH_BYTES,
    NONCE_BYTES,
    CardCipher,
    DecryptionError,
    KeyMismatchError,
    KeyUnavailableError,
    new_data_key,
    normalise_code,
)
from walleo_desktop.store.export import CODE_COLUMNS, COLUMNS, PRESETS, export_csv, export_rows
from walleo_desktop.store.sqlite import SqliteBackend
from walleo_desktop.store.sqlite import open_core as open_store
from walleo_desktop.store.sqlite.schema import MIGRATIONS, SCHEMA_VERSION

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
KEY = bytes(range(32))
DEMO = Connection(profile="demo", base_url="", credentials=None, demo=True)
FAST = PollPolicy(first_check=0.05, min_interval=0.1, max_interval=0.2, slow_interval=0.5)

# Codes and PINs long and distinctive enough that finding their bytes in a file means a leak.
CARDS = [
    ("card-a", "GIFT-7Q2X-K9LM-4PZR", "73914628"),
    ("card-b", "4929183746501928", "58203917"),
    ("card-c", "ZAL-W8ER-T5YU-1928", ""),  # same last 4 as card-b
]


def card(pull_id: int, card_id: str, code: str, pin: str) -> CardRecord:
    return CardRecord(
        card_id=card_id,
        pull_id=pull_id,
        code=code,
        pin_code=pin,
        expire_at=datetime(2027, 3, 1, tzinfo=UTC),
        amount=50,
        gift_card_code="AMZ",
        pdf_url="https://example.invalid/card.pdf",
        created_at=T0,
    )


def files_of(directory: Path) -> list[Path]:
    return [p for p in directory.rglob("*") if p.is_file()]


def leaks(directory: Path, secrets: list[str]) -> list[tuple[str, str]]:
    """(file name, secret) for every secret found in a file under ``directory``, as UTF-8 or
    UTF-16-LE bytes."""
    found = []
    for path in files_of(directory):
        data = path.read_bytes()
        for secret in secrets:
            if secret and any(secret.encode(enc) in data for enc in ("utf-8", "utf-16-le")):
                found.append((path.name, secret))
    return found


def raw(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "history.sqlite3"


@pytest.fixture
def cipher() -> CardCipher:
    return CardCipher(KEY)


@pytest.fixture
def store(path: Path, cipher: CardCipher) -> Iterator[StoreCore]:
    with open_store(path, cipher=cipher) as opened:
        yield opened


def record(store: StoreCore, cards: list[tuple[str, str, str]] = CARDS) -> dict[str, int]:
    """Journal one pull per card and record the card; card id -> pull id."""
    ids = {}
    for card_id, code, pin in cards:
        [pull] = store.add_pulls(
            [NewPull(request_id=f"r-{card_id}", gift_card_code="AMZ", amount=50)]
        )
        store.record_card(pull.id, card(pull.id, card_id, code, pin))
        ids[card_id] = pull.id
    return ids


# -- the cipher --------------------------------------------------------------------------------


def test_values_are_versioned_with_a_fresh_nonce_each(cipher: CardCipher) -> None:
    one = cipher.encrypt("card-a", "code", "GIFT-1234")
    two = cipher.encrypt("card-a", "code", "GIFT-1234")
    assert one[:2] == two[:2] == FORMAT_V1
    assert one[2 : 2 + NONCE_BYTES] != two[2 : 2 + NONCE_BYTES]
    assert one != two
    assert len(one) == 2 + NONCE_BYTES + len("GIFT-1234") + 16  # GCM tag
    assert b"GIFT" not in one
    assert cipher.decrypt("card-a", "code", one) == cipher.decrypt("card-a", "code", two)
    assert cipher.decrypt("card-a", "pin_code", cipher.encrypt("card-a", "pin_code", "")) == ""


def test_a_value_only_decrypts_for_its_card_its_column_and_its_key(cipher: CardCipher) -> None:
    sealed = cipher.encrypt("card-a", "code", "GIFT-1234")
    with pytest.raises(DecryptionError, match="card-b cannot be decrypted"):
        cipher.decrypt("card-b", "code", sealed)  # moved to another card
    with pytest.raises(DecryptionError, match="PIN of card card-a"):
        cipher.decrypt("card-a", "pin_code", sealed)  # a code passed off as a PIN
    with pytest.raises(DecryptionError):
        CardCipher(new_data_key()).decrypt("card-a", "code", sealed)
    tampered = bytearray(sealed)
    tampered[-1] ^= 1
    with pytest.raises(DecryptionError):
        cipher.decrypt("card-a", "code", bytes(tampered))
    with pytest.raises(DecryptionError, match="not in a format"):
        cipher.decrypt("card-a", "code", b"v9" + sealed[2:])
    with pytest.raises(DecryptionError, match="not in a format"):
        cipher.decrypt("card-a", "code", "GIFT-1234")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="no encrypted column"):
        cipher.encrypt("card-a", "note", "x")
    assert isinstance(DecryptionError("x"), StoreError)


def test_code_hash_is_keyed_and_ignores_formatting(cipher: CardCipher) -> None:
    assert normalise_code(" gift-7q2x k9lm\u2009-4pzr ") == "GIFT7Q2XK9LM4PZR"
    digest = cipher.code_hash("GIFT-7Q2X-K9LM-4PZR")
    assert len(digest) == HASH_BYTES
    assert cipher.code_hash("gift 7q2x k9lm 4pzr") == digest
    assert cipher.code_hash("GIFT-7Q2X-K9LM-4PZS") != digest
    assert CardCipher(new_data_key()).code_hash("GIFT-7Q2X-K9LM-4PZR") != digest
    import hashlib
    import hmac

    # A subkey, not the data key itself (nor a plain hash): the file alone tests no guess.
    assert digest != hmac.digest(KEY, b"GIFT7Q2XK9LM4PZR", "sha256")[:HASH_BYTES]
    assert digest != hashlib.sha256(b"GIFT7Q2XK9LM4PZR").digest()[:HASH_BYTES]


def test_the_key_never_shows(cipher: CardCipher) -> None:
    assert KEY.hex() not in repr(cipher) and str(KEY) not in repr(cipher)
    data_key = DataKey("abc", KEY, "keyring")
    assert KEY.hex() not in repr(data_key) and str(KEY) not in repr(data_key)
    with pytest.raises(ValueError, match="32 bytes"):
        CardCipher(b"short")
    assert CardCipher(KEY).key_check == cipher.key_check != CardCipher(new_data_key()).key_check


# -- the store ---------------------------------------------------------------------------------


def test_codes_and_pins_are_stored_encrypted_beside_hash_and_last4(
    store: StoreCore, path: Path, cipher: CardCipher
) -> None:
    ids = record(store)
    for card_id, code, pin in CARDS:
        assert store.get_card(card_id) == card(ids[card_id], card_id, code, pin)
    conn = raw(path)
    try:
        rows = conn.execute(
            "SELECT card_id, typeof(code), typeof(pin_code), code, pin_code, code_hash, "
            "code_last4 FROM cards ORDER BY card_id"
        ).fetchall()
    finally:
        conn.close()
    for (card_id, code, _pin), row in zip(CARDS, rows, strict=True):
        assert row[:3] == (card_id, "blob", "blob")
        assert row[3][:2] == row[4][:2] == FORMAT_V1
        assert row[5] == cipher.code_hash(code)
        assert row[6] == normalise_code(code)[-4:]
    store.close()
    secrets = [c for _id, c, _p in CARDS] + [p for _id, _c, p in CARDS if p]
    assert leaks(path.parent, secrets) == []


def test_without_the_key_codes_cannot_be_read_but_the_history_works(
    store: StoreCore, path: Path
) -> None:
    ids = record(store)
    store.close()
    with open_store(path) as keyless:
        assert not keyless.has_key
        with pytest.raises(KeyUnavailableError, match="The history's key is not available") as e:
            keyless.get_card("card-a")
        assert isinstance(e.value, StoreError)
        with pytest.raises(KeyUnavailableError):
            keyless.card_for_pull(ids["card-a"])
        with pytest.raises(KeyUnavailableError):  # refused at the call, before any row
            export_lines(keyless, with_codes=True)
        [pull] = keyless.add_pulls([NewPull(request_id="r-new", gift_card_code="AMZ", amount=5)])
        with pytest.raises(KeyUnavailableError):
            keyless.record_card(pull.id, card(pull.id, "card-new", "NEW-CODE-0001", ""))
        assert keyless.get_pull(pull.id).state is PullState.QUEUED  # nothing half-recorded
        # The rest of the history needs no key: lines, last 4, a 4-character code search.
        lines = export_lines(keyless)
        assert {line["code_last4"] for line in lines} == {"4PZR", "1928", ""}
        assert keyless.count_history(HistoryFilter(search="1928")) == 2
        assert keyless.count_history(HistoryFilter(search="501928")) == 0  # needs the key
        out = path.parent / "codes.csv"
        with pytest.raises(KeyUnavailableError):
            export_csv(keyless, HistoryFilter(), out, with_codes=True)
        assert not out.exists() and not list(path.parent.glob(".codes.csv*"))
        export_csv(keyless, HistoryFilter(), out)  # without codes: fine
        assert "4PZR" in out.read_text("utf-8")


def test_another_key_is_refused_at_open(store: StoreCore, path: Path) -> None:
    record(store)
    store.close()
    with pytest.raises(KeyMismatchError, match="not the key its card codes are encrypted with"):
        open_store(path, cipher=CardCipher(new_data_key()))
    history_id = SqliteBackend.key_info(path).history_id
    assert history_id
    with pytest.raises(KeyMismatchError, match="belongs to another history"):
        open_store(path, cipher=CardCipher(KEY, history_id="someone-else"))
    with open_store(path, cipher=CardCipher(KEY, history_id=history_id)) as again:
        assert again.get_card("card-a") is not None
        assert again.history_id == history_id


def test_a_ciphertext_moved_to_another_card_does_not_decrypt(store: StoreCore, path: Path) -> None:
    record(store)
    conn = raw(path)
    try:  # someone with write access swaps two cards' codes
        conn.execute(
            "UPDATE cards SET code = (SELECT code FROM cards WHERE card_id = 'card-b') "
            "WHERE card_id = 'card-a'"
        )
    finally:
        conn.close()
    with pytest.raises(DecryptionError, match="card-a"):
        store.get_card("card-a")
    assert store.get_card("card-b") is not None
    # A search that meets the altered card skips it rather than failing.
    assert store.count_history(HistoryFilter(search="K9LM-4PZR")) == 0
    assert store.count_history(HistoryFilter(search="83746501928")) == 1


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("GIFT-7Q2X-K9LM-4PZR", ["card-a"]),  # the whole code: keyed hash
        ("gift 7q2x k9lm 4pzr", ["card-a"]),  # typed differently
        ("GIFT7Q2XK9LM4PZR", ["card-a"]),
        ("4PZR", ["card-a"]),  # last 4: code_last4
        ("4pzr", ["card-a"]),
        ("K9LM-4PZR", ["card-a"]),  # a longer ending: decrypt the last-4 candidates
        ("1928", ["card-b", "card-c"]),
        ("501928", ["card-b"]),
        ("5019 28", ["card-b"]),
        ("T5YU-1928", ["card-c"]),
        ("4929183746501928", ["card-b"]),
        ("GIFT-7Q2X", []),  # a beginning is not an ending
        ("928", []),  # too short
        ("X4PZR", []),
    ],
)
def test_code_search(store: StoreCore, term: str, expected: list[str]) -> None:
    ids = record(store)
    by_pull = {pull_id: card_id for card_id, pull_id in ids.items()}
    page = store.history(HistoryFilter(search=term), descending=False)
    assert [by_pull[row.pull.id] for row in page.rows] == expected
    assert store.count_history(HistoryFilter(search=term)) == len(expected)


def test_a_longer_ending_decrypts_a_bounded_number_of_candidates(
    store: StoreCore, monkeypatch: pytest.MonkeyPatch
) -> None:
    same_end = [(f"card-{i}", f"{i:012d}99991234", "") for i in range(30)]
    record(store, same_end)
    decrypts = []
    real = CardCipher.decrypt

    def counting(self: CardCipher, card_id: str, column: str, value: bytes) -> str:
        decrypts.append(card_id)
        return real(self, card_id, column, value)

    monkeypatch.setattr(CardCipher, "decrypt", counting)
    assert store.count_history(HistoryFilter(search="99991234")) == 30
    assert len(decrypts) == 30  # the 30 cards ending in 1234, not the whole table
    monkeypatch.setattr(cardcodes, "MAX_SUFFIX_CANDIDATES", 10)
    decrypts.clear()
    assert store.count_history(HistoryFilter(search="99991234")) == 10  # bounded
    assert len(decrypts) == 10
    decrypts.clear()  # a whole code is still found, through its hash, past the bound
    assert store.count_history(HistoryFilter(search="00000000002999991234")) == 1
    assert len(decrypts) <= 10


async def test_the_database_threads_share_the_key(
    store: StoreCore, path: Path, cipher: CardCipher
) -> None:
    record(store)
    store.close()
    shared = await Store.open_sqlite(path, cipher=cipher)
    try:
        card_b = await shared.get_card("card-b")  # the writer thread
        found = await shared.count_history(HistoryFilter(search="501928"))  # a reader thread
    finally:
        await shared.close()
    assert card_b is not None and card_b.code == "4929183746501928" and found == 1


def export_lines(store: StoreCore, **options: Any) -> list[dict[str, Any]]:
    """The export's rows, by column key."""
    names = COLUMNS + (CODE_COLUMNS if options.get("with_codes") else ())
    rows = export_rows(store, HistoryFilter(), PRESETS["standard"], **options)
    return [dict(zip(names, row, strict=True)) for row in rows]


def test_export_rows_with_codes_decrypt_every_card(store: StoreCore) -> None:
    record(store)
    lines = export_lines(store, descending=False, with_codes=True)
    assert [(line["code"], line["pin_code"]) for line in lines if line["card_id"]] == [
        (code, pin) for _id, code, pin in CARDS
    ]


def test_card_audit_events_name_the_card_and_never_its_code(store: StoreCore) -> None:
    """What the window writes for a reveal or a copy (main_window._on_card_audit) and the
    export writes for codes taken out: kind, time, card id; never a code or PIN."""
    ids = record(store)
    before = datetime.now(UTC)
    for action in ("reveal_code", "reveal_pin", "copy_code", "copy_pin", "show_pdf"):
        store.add_event(ids["card-a"], f"card_{action}", {"card_id": "card-a", "agent": "alice"})
    events = [e for e in store.events(ids["card-a"]) if e.kind.startswith("card_")]
    assert [e.kind for e in events] == [
        "card_reveal_code",
        "card_reveal_pin",
        "card_copy_code",
        "card_copy_pin",
        "card_show_pdf",
    ]
    assert all(e.detail == {"card_id": "card-a", "agent": "alice"} for e in events)
    assert all(e.at >= before - timedelta(seconds=1) for e in events)
    out = Path(store.label).parent / "codes.csv"
    export_csv(store, HistoryFilter(), out, with_codes=True, agent="bob")
    [exported] = [e for e in store.events() if e.kind == "codes_exported"]
    assert exported.detail["agent"] == "bob" and exported.detail["rows"] == 3
    text = json.dumps([e.detail for e in store.events()])
    assert not [c for _i, c, p in CARDS for s in (c, p) if s and s in text]


# -- migrating a history written before encryption (schema 2) ----------------------------------


def old_history(path: Path, version: int, request_ids: list[str]) -> list[int]:
    """A history file as schema ``version`` of the app left it, with queued intents: its own
    migrations applied by plain SQL, and rows written the way that version wrote them."""
    import sqlite_utils

    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    db = sqlite_utils.Database(conn)
    for migration in MIGRATIONS[:version]:
        migration(db, None)
    conn.execute(f"PRAGMA user_version = {version:d}")
    now = "2026-03-01T09:00:00.000000Z"
    ids = [
        conn.execute(
            "INSERT INTO pulls (request_id, gift_card_code, amount, state, created_at, "
            "updated_at) VALUES (?, 'AMZ', 50, 'queued', ?, ?)",
            [rid, now, now],
        ).lastrowid
        for rid in request_ids
    ]
    conn.close()
    return [int(i) for i in ids if i is not None]


def write_v2_history(path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """A history as version 2 of the app wrote it: codes and PINs in clear text columns.

    The last card is left in the WAL only (not checkpointed), as a crash would leave it.
    """
    pulls = old_history(path, 2, [f"r-{card_id}" for card_id, _code, _pin in CARDS])
    ids = {card_id: pull_id for (card_id, _c, _p), pull_id in zip(CARDS, pulls, strict=True)}
    for n, (card_id, code, pin) in enumerate(CARDS):
        conn = raw(path)
        if n == len(CARDS) - 1:
            conn.setconfig(sqlite3.SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, True)
        try:
            conn.execute("BEGIN IMMEDIATE")
            # v2's cardcodes.card_to_row: code, code_last4 = code[-4:], pin_code, all TEXT
            conn.execute(
                "INSERT INTO cards (card_id, pull_id, code, code_last4, pin_code, expire_at, "
                "amount, gift_card_code, pdf_url, pdf_path, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, 50, 'AMZ', 'https://example.invalid/card.pdf', '', ?)",
                [card_id, ids[card_id], code, code[-4:], pin, "2027-03-01T00:00:00.000000Z",
                 "2026-03-01T09:00:00.000000Z"],
            )  # fmt: skip
            conn.execute(
                "UPDATE pulls SET state = 'success', card_id = ? WHERE id = ?",
                [card_id, ids[card_id]],
            )
            conn.execute("COMMIT")
        finally:
            conn.close()
    return ids


def test_a_plaintext_history_is_encrypted_in_place(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = write_v2_history(path, monkeypatch)
    secrets = [c for _id, c, _p in CARDS] + [p for _id, _c, p in CARDS if p]
    wal = path.with_name(path.name + "-wal")
    assert {secret for _f, secret in leaks(path.parent, secrets)} == set(secrets)
    assert any(name.endswith("-wal") for name, _s in leaks(path.parent, secrets))
    assert SqliteBackend.key_info(path) == (None, None)  # v2: no id, no key yet

    cipher = CardCipher(KEY)
    with open_store(path, cipher=cipher) as store:
        for card_id, code, pin in CARDS:
            assert store.get_card(card_id) == card(ids[card_id], card_id, code, pin)
        assert store.count_history(HistoryFilter(search="GIFT 7Q2X K9LM 4PZR")) == 1
        assert store.count_history(HistoryFilter(search="1928")) == 2
        assert store.count_history(HistoryFilter(search="46501928")) == 1
        conn = store.conn._raw
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert (
            conn.execute("SELECT count(*) FROM cards WHERE typeof(code) != 'blob'").fetchone()[0]
            == 0
        )
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        assert {"cards_code_last4", "cards_code_hash", "cards_no_delete"} <= names
        assert "cards_v3" not in names
        with pytest.raises(sqlite3.IntegrityError, match="never deleted"):
            conn.execute("DELETE FROM cards")
        # No page of the file, nor of the WAL, still holds a plaintext code or PIN.
        assert not wal.exists() or wal.stat().st_size == 0
        assert leaks(path.parent, secrets) == []
    assert leaks(path.parent, secrets) == []
    info = SqliteBackend.key_info(path)
    assert info.history_id and info.key_check == cipher.key_check


def test_the_migration_is_one_transaction(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_v2_history(path, monkeypatch)
    calls = []
    real = CardCipher.encrypt

    def failing(self: CardCipher, card_id: str, column: str, text: str) -> bytes:
        calls.append(card_id)
        if len(calls) == 4:  # the second card
            raise RuntimeError("power cut")
        return real(self, card_id, column, text)

    monkeypatch.setattr(CardCipher, "encrypt", failing)
    with pytest.raises(RuntimeError, match="power cut"):
        open_store(path, cipher=CardCipher(KEY))
    conn = raw(path)
    try:  # nothing of the migration is left: still schema 2, still the same plaintext
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 2
        assert conn.execute("SELECT code, pin_code FROM cards ORDER BY rowid").fetchall() == [
            (code, pin) for _id, code, pin in CARDS
        ]
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        assert "cards_v3" not in names
        assert conn.execute("SELECT count(*) FROM settings").fetchone()[0] == 0
    finally:
        conn.close()
    monkeypatch.undo()
    with open_store(path, cipher=CardCipher(KEY)) as store:
        assert store.get_card("card-b").code == "4929183746501928"


def test_a_plaintext_history_needs_the_key_to_migrate(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_v2_history(path, monkeypatch)
    with pytest.raises(KeyUnavailableError, match="left as it was"):
        open_store(path)
    conn = raw(path)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 2
        assert conn.execute("SELECT count(*) FROM cards").fetchone()[0] == len(CARDS)
    finally:
        conn.close()


def test_a_history_without_cards_migrates_without_the_key(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old_history(path, 2, ["r1"])
    with open_store(path) as store:
        assert store.history_id and store.get_pull(1).request_id == "r1"
    assert SqliteBackend.key_info(path).key_check is None  # the first key given will be bound
    with open_store(path, cipher=CardCipher(KEY)):
        pass
    assert SqliteBackend.key_info(path).key_check == CardCipher(KEY).key_check


def test_key_info_never_creates_nor_writes(tmp_path: Path, path: Path) -> None:
    assert SqliteBackend.key_info(tmp_path / "nothing.sqlite3") == (None, None)
    assert not (tmp_path / "nothing.sqlite3").exists()
    with open_store(path, cipher=CardCipher(KEY)):
        pass
    before = path.read_bytes()
    info = SqliteBackend.key_info(path)
    assert info.history_id and info.key_check
    assert path.read_bytes() == before
    conn = raw(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(NewerSchemaError):
        SqliteBackend.key_info(path)


# -- the data key ------------------------------------------------------------------------------


def test_a_new_history_gets_its_own_key_in_the_keyring(tmp_path: Path, memory_keyring) -> None:
    data = tmp_path / "data"
    real, demo = data / "history.sqlite3", data / "demo-history.sqlite3"
    store, key = open_history(real)
    store.close()
    assert key.location == "keyring" and key.created and not key.fallback and key.warning == ""
    assert SqliteBackend.key_info(real).history_id == key.history_id
    entry = memory_keyring.entries[(KEYRING_SERVICE, keyring_entry(key.history_id))]
    assert entry == key.key.hex()  # in the keyring only: no file holds it
    again = load_data_key(real)
    assert (again.key, again.history_id, again.created) == (key.key, key.history_id, False)
    other_store, other = open_history(demo)
    other_store.close()
    assert other.history_id != key.history_id and other.key != key.key
    assert not (data / FALLBACK_FILE).exists()
    assert leaks(tmp_path, [entry]) == []


def test_without_a_keyring_the_key_goes_to_an_owner_only_file(
    tmp_path: Path, memory_keyring
) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    os.chmod(data, 0o755)  # noqa: S103 - what a user's umask may give; the key file fixes it
    history = data / "history.sqlite3"
    keyring.set_keyring(keyring.backends.fail.Keyring())  # conftest restores the memory one
    store, key = open_history(history)
    with store:
        [pull] = store.add_pulls([NewPull(request_id="r1", gift_card_code="AMZ", amount=5)])
        store.record_card(pull.id, card(pull.id, "card-a", "GIFT-7Q2X-K9LM-4PZR", "73914628"))
    file = fallback_path(history)
    assert key.location == "file" and key.fallback and key.file == file
    assert str(file) in key.warning and "No system keyring is available" in key.warning
    assert stat.S_IMODE(file.stat().st_mode) == 0o600
    assert stat.S_IMODE(data.stat().st_mode) == 0o700  # made owner-only
    assert json.loads(file.read_text())["keys"].keys() == {key.history_id}
    assert load_data_key(history).key == key.key  # read back from the file
    os.chmod(file, 0o644)
    assert load_data_key(history).key == key.key
    assert stat.S_IMODE(file.stat().st_mode) == 0o600  # made owner-only again

    keyring.set_keyring(memory_keyring)  # a keyring appears: the key moves into it
    moved = load_data_key(history)
    assert moved.location == "keyring" and moved.key == key.key
    assert (KEYRING_SERVICE, keyring_entry(key.history_id)) in memory_keyring.entries
    assert not file.exists()
    with open_store(history, cipher=moved.cipher()) as store:
        assert store.get_card("card-a").pin_code == "73914628"


def test_a_keyring_that_forgets_is_not_trusted(tmp_path: Path) -> None:
    keyring.set_keyring(keyring.backends.null.Keyring())  # set_password accepted, then lost
    history = tmp_path / "data" / "history.sqlite3"
    store, key = open_history(history)
    store.close()
    assert key.location == "file"
    assert load_data_key(history).key == key.key


def test_a_lost_key_is_reported_never_replaced(tmp_path: Path, memory_keyring) -> None:
    history = tmp_path / "data" / "history.sqlite3"
    store, key = open_history(history)
    store.close()
    memory_keyring.entries.clear()  # the keyring was reset, the history copied elsewhere...
    with pytest.raises(KeyUnavailableError, match="neither in the system keyring") as caught:
        load_data_key(history)
    assert keyring_entry(key.history_id) in str(caught.value)
    assert memory_keyring.entries == {}  # no new key was made
    assert not fallback_path(history).exists()

    memory_keyring.entries[(KEYRING_SERVICE, keyring_entry(key.history_id))] = "not a key"
    with pytest.raises(KeyUnavailableError, match="damaged"):
        load_data_key(history)
    keyring.set_keyring(keyring.backends.fail.Keyring())
    with pytest.raises(KeyUnavailableError, match="keyring cannot be read"):
        load_data_key(history)
    assert not fallback_path(history).exists()


def test_no_key_is_made_for_a_history_the_store_would_refuse(tmp_path: Path, memory_keyring):
    history = tmp_path / "data" / "history.sqlite3"
    open_store(history).close()
    conn = raw(history)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(NewerSchemaError):
        load_data_key(history)
    assert memory_keyring.entries == {}


def test_the_key_is_never_logged(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    import logging

    from walleo_desktop.logs import REDACTOR

    keyring.set_keyring(keyring.backends.null.Keyring())
    with caplog.at_level(logging.DEBUG):
        key = load_data_key(tmp_path / "data" / "history.sqlite3")
    text = key.key.hex()
    assert text not in caplog.text
    assert text not in REDACTOR.redact(f"key {text}, key='{text}'.")
    assert datakey_module.FALLBACK_FILE == "history.key"


# -- the front ends ----------------------------------------------------------------------------


async def test_a_session_always_has_a_key_and_says_where_it_is(tmp_path: Path) -> None:
    keyring.set_keyring(keyring.backends.fail.Keyring())
    session = await Session.open(DEMO, tmp_path / "data", simulator_delay_scale=0.01, policy=FAST)
    try:
        session.simulator.config.async_error_rate = 0.0
        assert session.store.has_key
        assert session.data_key is not None and session.data_key.fallback
        assert "history.key" in session.key_warning
        await session.catalog.refresh()
        gift_card = session.catalog.find("FNAC")
        assert gift_card is not None
        [pull] = await session.engine.submit(gift_card, 50)
        [done] = await asyncio.wait_for(session.engine.wait([pull.id]), 10)
        assert done.state is PullState.SUCCESS
        card_read = await session.store.card_for_pull(done.id)
        assert card_read is not None and card_read.code
    finally:
        await session.close()


def cli(args: list[str], data: Path, backend: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WALLEO_")}
    env["PYTHON_KEYRING_BACKEND"] = backend
    env["PYTHONPATH"] = str(Path(__file__).resolve().parent)  # conftest.MemoryKeyring
    return subprocess.run(
        [sys.executable, "-m", "walleo_desktop", "--data-dir", str(data), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


def test_the_cli_warns_once_when_the_key_is_in_a_file(tmp_path: Path) -> None:
    data = tmp_path / "data"
    r = cli(["catalog", "--json"], data, "keyring.backends.fail.Keyring")
    assert r.returncode == 0, r.stderr
    assert r.stderr.count("warning: No system keyring is available") == 1
    assert str(data / "history.key") in r.stderr
    assert stat.S_IMODE((data / "history.key").stat().st_mode) == 0o600
    out = tmp_path / "report.csv"
    r = cli(["export", str(out)], data, "keyring.backends.fail.Keyring")
    assert r.returncode == 0, r.stderr
    assert r.stderr.count("warning: No system keyring is available") == 1


def test_the_cli_says_nothing_when_the_keyring_works(tmp_path: Path) -> None:
    # A keyring the subprocess can use: conftest's in-memory one lives only in this process,
    # so the key is put where the subprocess finds it only if it falls back; here it must not.
    data = tmp_path / "data"
    r = cli(["catalog", "--json"], data, "conftest.MemoryKeyring")
    assert r.returncode == 0, r.stderr
    assert "warning: No system keyring" not in r.stderr
    assert not (data / "history.key").exists()


def visible_main_windows() -> list[Any]:
    from walleo_desktop.ui.main_window import MainWindow

    return [
        w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()
    ]


async def test_the_window_says_where_the_key_is(tmp_path: Path) -> None:
    from walleo_desktop.ui.app import main as app_main

    keyring.set_keyring(keyring.backends.fail.Keyring())
    args = argparse.Namespace(data_dir=tmp_path / "data", profile=None)
    task = asyncio.ensure_future(app_main(args, simulator_delay_scale=0.01, policy=FAST))
    try:
        await wait_until(lambda: bool(visible_main_windows()))
        (window,) = visible_main_windows()
        text = window.status.message.text()
        assert "No system keyring is available" in text
        assert str(tmp_path / "data" / "history.key") in text
        window.close()
        assert await asyncio.wait_for(task, 5) == 0
    finally:
        if not task.done():
            task.cancel()


async def test_a_keyring_that_hangs_cannot_freeze_the_window(memory_keyring, tmp_path):
    from walleo_desktop.ui.app import load_data_key_safely

    release = threading.Event()

    def hang(service: str, username: str) -> str | None:
        release.wait(10)
        raise keyring.errors.KeyringLocked("locked")

    memory_keyring.get_password = hang
    history = history_path(tmp_path / "data", DEMO)
    try:
        with pytest.raises(KeyUnavailableError, match="did not answer within 0 s"):
            await load_data_key_safely(history, seconds=0.3)
    finally:
        release.set()
    await wait_until(lambda: fallback_path(history).exists())  # the thread is done


def test_fill_history_encrypts_with_the_historys_key(tmp_path: Path) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
    try:
        from fill_history import fill
    finally:
        sys.path.pop(0)
    history = tmp_path / "data" / "history.sqlite3"
    fill(history, 300, seed=4)
    store, _key = open_history(history)
    with store:
        lines = [line for line in export_lines(store, with_codes=True) if line["card_id"]]
        assert len(lines) > 200
        some = lines[7]["code"]
        assert some.isdigit()
        assert store.count_history(HistoryFilter(search=some)) == 1
        assert store.count_history(HistoryFilter(search=some[-9:])) >= 1
    assert leaks(history.parent, [line["code"] for line in lines]) == []
