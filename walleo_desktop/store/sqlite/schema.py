"""The SQLite history file's schema, as an ordered list of migrations.

``PRAGMA user_version`` holds how many migrations a file has had. ``Store.open`` applies the
missing ones in order, each in its own ``BEGIN IMMEDIATE`` transaction together with the new
``user_version``, so a file is always at exactly one version. A migration, once released, is
never edited: change the schema by appending a function to ``MIGRATIONS``. Each migration gets
the connection and the history's ``CardCipher`` (None when the store was opened without the key;
only the encryption of the cards, v3, needs it, and only when there are cards to encrypt).

Timestamps are fixed-width UTC text (``records.to_db_time``), so text order is time order and
``substr(created_at, 1, 10)`` is the UTC day.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from walleo_desktop.store import cardcodes
from walleo_desktop.store.core import HISTORY_ID_SETTING, KEY_CHECK_SETTING, UNFINISHED_WHERE
from walleo_desktop.store.crypto import Cipher, KeyUnavailableError, new_history_id
from walleo_desktop.store.records import from_db_time
from walleo_desktop.store.rows import snapshot_hash
from walleo_desktop.timezones import expiry_day

if TYPE_CHECKING:  # imported when a migration runs (backend.SqliteConn.db), not to open a file
    import sqlite_utils

__all__ = [
    "ENCRYPTED_SINCE",
    "HISTORY_ID_SETTING",
    "KEY_CHECK_SETTING",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "SHARED_SNAPSHOTS_SINCE",
    "UNFINISHED_WHERE",
]

# UNFINISHED_WHERE (core): the partial indexes below and the queries on unfinished pulls must
# spell this condition identically, or SQLite will not use the index. tests/test_store.py
# checks it against records.FINAL_STATES and checks the query plan.

_V1 = f"""
CREATE TABLE pulls (
    id               INTEGER PRIMARY KEY,
    request_id       TEXT    NOT NULL UNIQUE,
    gift_card_code   TEXT    NOT NULL,
    gift_card_name   TEXT    NOT NULL DEFAULT '',
    catalog_snapshot TEXT    NOT NULL DEFAULT '{{}}',   -- JSON: the catalog entry when journaled
    discount         INTEGER,                          -- partner discount %, NULL = unknown
    amount           INTEGER NOT NULL,                 -- face value, major units
    currency         TEXT    NOT NULL DEFAULT 'EUR',
    state            TEXT    NOT NULL,                 -- records.PullState
    overdue          INTEGER NOT NULL DEFAULT 0,
    created_at       TEXT    NOT NULL,
    updated_at       TEXT    NOT NULL,
    sent_at          TEXT,
    finished_at      TEXT,
    next_check_at    TEXT,
    attempts         INTEGER NOT NULL DEFAULT 0,
    agent            TEXT    NOT NULL DEFAULT '',
    reference        TEXT    NOT NULL DEFAULT '',
    note             TEXT    NOT NULL DEFAULT '',
    profile          TEXT    NOT NULL DEFAULT '',
    batch_id         TEXT    NOT NULL DEFAULT '',
    retry_of         INTEGER REFERENCES pulls (id),
    error_code       TEXT    NOT NULL DEFAULT '',
    error_message    TEXT    NOT NULL DEFAULT '',
    walleo_id        TEXT    NOT NULL DEFAULT '',
    walleo_status    TEXT    NOT NULL DEFAULT '',
    card_id          TEXT    NOT NULL DEFAULT '',
    -- what the partner pays, in cents: derived by SQLite itself, stored so that sorting and
    -- summing by cost need no arithmetic per row and can never disagree with amount/discount
    cost_cents       INTEGER GENERATED ALWAYS AS (amount * (100 - coalesce(discount, 0))) STORED
);

-- Every index on a rowid table ends with the rowid (= id), so (created_at) also orders by id:
-- the history's unique tiebreaker comes for free.
CREATE INDEX pulls_unfinished ON pulls (created_at) WHERE {UNFINISHED_WHERE};
CREATE INDEX pulls_created ON pulls (created_at);
CREATE INDEX pulls_state_created ON pulls (state, created_at);
CREATE INDEX pulls_brand_created ON pulls (gift_card_code, created_at);
CREATE INDEX pulls_agent_created ON pulls (agent, created_at);
CREATE INDEX pulls_retry_of ON pulls (retry_of) WHERE retry_of IS NOT NULL;

CREATE TABLE cards (
    card_id        TEXT    PRIMARY KEY NOT NULL,            -- Walleo's card uuid
    pull_id        INTEGER NOT NULL UNIQUE REFERENCES pulls (id),
    code           TEXT    NOT NULL,                        -- read/written only in cardcodes.py
    code_last4     TEXT    NOT NULL,
    pin_code       TEXT    NOT NULL DEFAULT '',             -- read/written only in cardcodes.py
    expire_at      TEXT,
    amount         INTEGER,
    gift_card_code TEXT    NOT NULL DEFAULT '',
    pdf_url        TEXT    NOT NULL DEFAULT '',
    pdf_path       TEXT    NOT NULL DEFAULT '',
    created_at     TEXT    NOT NULL
);
CREATE INDEX cards_code_last4 ON cards (code_last4);

CREATE TABLE events (
    id      INTEGER PRIMARY KEY,
    pull_id INTEGER REFERENCES pulls (id),                  -- NULL: an app-wide event
    at      TEXT    NOT NULL,
    kind    TEXT    NOT NULL,
    detail  TEXT    NOT NULL DEFAULT '{{}}'                 -- JSON; never codes, PINs, secrets
);
CREATE INDEX events_pull ON events (pull_id);

-- The journal only grows: events are never rewritten, pulls and cards never deleted.
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
CREATE TRIGGER pulls_no_delete BEFORE DELETE ON pulls
BEGIN SELECT RAISE(ABORT, 'pulls are never deleted'); END;
CREATE TRIGGER cards_no_delete BEFORE DELETE ON cards
BEGIN SELECT RAISE(ABORT, 'cards are never deleted'); END;

CREATE TABLE settings (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL                                     -- JSON
);

CREATE TABLE catalog_cache (
    profile    TEXT PRIMARY KEY NOT NULL,
    fetched_at TEXT NOT NULL,
    items      TEXT NOT NULL                                -- JSON array
);
"""


def _v1_initial(db: sqlite_utils.Database, cipher: Cipher | None) -> None:
    db.executescript(_V1)


# The history view sorts by any column and shows totals over the filter, at a million pulls.
# - One index per sort key, on the key alone: an index on a rowid table ends with the rowid,
#   so (amount) is ordered by (amount, id), exactly history.order_sql's ORDER BY; the NOCASE
#   ones match its COLLATE NOCASE keys. A page is then an index walk instead of a sort of every
#   row (first page sorted by amount at 1M pulls: 330 ms -> a few ms). Not indexed: request_id
#   (already UNIQUE), card_id and the card's expiry (rarely sorted; the sort runs off the GUI
#   thread anyway).
# - A partial covering index over successful pulls for Store.totals / daily_totals: the sums by
#   brand and by day read it instead of the table (a row carries ~1 KB of catalog snapshot, so a
#   table scan reads the whole file). Store.totals names it (INDEXED BY): without statistics
#   SQLite would pick the (state, created_at) index and read the table row of every success.
# - The columns the search box looks at, so that a search reads this index instead of the
#   table (count of a search at 1M pulls: ~570 ms -> ~100 ms).
_V2 = """
CREATE INDEX pulls_amount ON pulls (amount);
CREATE INDEX pulls_cost ON pulls (cost_cents);
CREATE INDEX pulls_agent_nocase ON pulls (agent COLLATE NOCASE);
CREATE INDEX pulls_reference_nocase ON pulls (reference COLLATE NOCASE);
CREATE INDEX pulls_name_nocase ON pulls (gift_card_name COLLATE NOCASE);
CREATE INDEX pulls_success_totals
    ON pulls (created_at, gift_card_code, agent, state, amount, cost_cents, gift_card_name)
    WHERE state = 'success';
CREATE INDEX pulls_search ON pulls (request_id, reference, note);
"""


def _v2_history_indexes(db: sqlite_utils.Database, cipher: Cipher | None) -> None:
    db.executescript(_V2)


# Card codes and PINs encrypted at rest (cardcodes, crypto). The cards table is rebuilt: code and
# pin_code become BLOBs (b"v1" || nonce || AES-GCM ciphertext), code_hash (keyed hash of the
# normalised code) is added, and code_last4 is recomputed from the normalised code. Every card is
# encrypted in this one transaction, so a history is either all plaintext (v2) or all encrypted.
# The history also gets its random id (names its key in the OS keyring) and, with the key, the
# key's fingerprint (crypto.CardCipher.key_check). Store.open then VACUUMs and truncates the
# WAL: the pages that held plaintext are not left in the file.
_V3_CARDS = """
CREATE TABLE cards_v3 (
    card_id        TEXT    PRIMARY KEY NOT NULL,            -- Walleo's card uuid
    pull_id        INTEGER NOT NULL UNIQUE REFERENCES pulls (id),
    code           BLOB    NOT NULL,                        -- encrypted; only cardcodes.py
    code_hash      BLOB    NOT NULL,                        -- keyed hash; only cardcodes.py
    code_last4     TEXT    NOT NULL,                        -- shown; last-digits search
    pin_code       BLOB    NOT NULL,                        -- encrypted; only cardcodes.py
    expire_at      TEXT,
    amount         INTEGER,
    gift_card_code TEXT    NOT NULL DEFAULT '',
    pdf_url        TEXT    NOT NULL DEFAULT '',
    pdf_path       TEXT    NOT NULL DEFAULT '',
    created_at     TEXT    NOT NULL
);
"""

_V3_SWAP = """
DROP TABLE cards;
ALTER TABLE cards_v3 RENAME TO cards;
CREATE INDEX cards_code_last4 ON cards (code_last4);
CREATE INDEX cards_code_hash ON cards (code_hash);
CREATE TRIGGER cards_no_delete BEFORE DELETE ON cards
BEGIN SELECT RAISE(ABORT, 'cards are never deleted'); END;
"""


def _v3_encrypted_cards(db: sqlite_utils.Database, cipher: Cipher | None) -> None:
    has_cards = db.execute("SELECT EXISTS (SELECT 1 FROM cards)").fetchone()[0]
    if has_cards and cipher is None:
        raise KeyUnavailableError(
            "The history's key is not available: its card codes cannot be encrypted, so it "
            "was left as it was."
        )
    # Freed pages (the plaintext table) are zeroed as they are freed, in this transaction.
    db.execute("PRAGMA secure_delete = ON")
    db.executescript(_V3_CARDS)
    if cipher is not None:
        _encrypt_plaintext_cards(db, cipher, "cards_v3")
    db.executescript(_V3_SWAP)
    history_id = (cipher.history_id if cipher is not None else None) or new_history_id()
    settings = [(HISTORY_ID_SETTING, history_id)]
    if cipher is not None:
        settings.append((KEY_CHECK_SETTING, cipher.key_check))
    db.conn.executemany(
        "INSERT OR IGNORE INTO settings (key, value) VALUES (?, json_quote(?))", settings
    )


# The journal's rules, kept by SQLite itself whoever writes (another process, an older build):
# - a final state (success, error, rejected) is never left;
# - a failed intent (error, rejected) gets at most one retry, and only a failed one gets one.
# A trigger rather than a UNIQUE index on retry_of: a history written before this version may
# already hold two retries of one failure (the defect this guards against), and must still open.
_V4 = """
CREATE TRIGGER pulls_final_is_final BEFORE UPDATE OF state ON pulls
WHEN OLD.state IN ('error', 'rejected', 'success') AND NEW.state IS NOT OLD.state
BEGIN SELECT RAISE(ABORT, 'a finished pull never changes state'); END;

CREATE TRIGGER pulls_one_retry BEFORE INSERT ON pulls WHEN NEW.retry_of IS NOT NULL
BEGIN
    SELECT RAISE(ABORT, 'this pull was already retried')
    WHERE EXISTS (SELECT 1 FROM pulls WHERE retry_of = NEW.retry_of);
    SELECT RAISE(ABORT, 'only a pull that failed can be retried')
    WHERE (SELECT state FROM pulls WHERE id = NEW.retry_of) NOT IN ('error', 'rejected');
END;
"""


def _v4_journal_rules(db: sqlite_utils.Database, cipher: Cipher | None) -> None:
    db.executescript(_V4)


# The cards columns of schema v2, as v3 read them (frozen: a released migration never changes).
_V2_CARD_COLUMNS = (
    "card_id, pull_id, code, pin_code, expire_at, amount, gift_card_code, pdf_url, pdf_path, "
    "created_at"
)


def _encrypt_plaintext_cards(db: sqlite_utils.Database, cipher: Cipher, into: str) -> int:
    """Copy every card of the plaintext ``cards`` table (schema v2) into table ``into``, code
    and PIN encrypted; the number of cards. Runs inside the migration's transaction."""
    columns = [name.strip() for name in _V2_CARD_COLUMNS.split(",")]
    select = f"SELECT {_V2_CARD_COLUMNS} FROM cards ORDER BY rowid"  # noqa: S608
    cursor = db.execute(select)
    count = 0
    insert: str | None = None
    while rows := cursor.fetchmany(5000):
        batch = []
        for values in rows:
            old = dict(zip(columns, values, strict=True))
            card_id = old["card_id"]
            code, pin = str(old["code"] or ""), str(old["pin_code"] or "")
            batch.append(
                {
                    **old,
                    "code": cipher.encrypt(card_id, "code", code),
                    "code_hash": cipher.code_hash(code),
                    "code_last4": cardcodes.last4(code),
                    "pin_code": cipher.encrypt(card_id, "pin_code", pin),
                }
            )
        if insert is None:
            names = list(batch[0])
            insert = (
                f"INSERT INTO {into} ({', '.join(names)}) "  # noqa: S608
                f"VALUES ({', '.join(':' + n for n in names)})"
            )
        db.conn.executemany(insert, batch)
        count += len(batch)
    return count


# Leases, the change sequence and the cadence across processes (store/rules.py):
# - lease_owner / lease_until / lease_epoch: who drives an unfinished pull, until when, and the
#   epoch every engine write is fenced by; claimed through the partial index on unfinished
#   pulls by profile;
# - last_check_at: the last GET about the pull, whoever made it (Walleo's cadence holds across
#   a takeover);
# - change_seq: the order of changes, indexed, so that a window follows what another process
#   does (``changes_since``);
# - openers: who has the file open now; a row left by a process that no longer runs means the
#   last use ended in a crash, and the integrity check runs (in the background) after it;
# - cards.expire_day: the day a card expires, in Walleo's time zone (``timezones``);
# - cards.key_id: which version of the key sealed its code (a team rotates its key when a member
#   leaves; one history file has one key: '').
# Adding columns with constant defaults is instant in SQLite, even at a million pulls.
_V5 = f"""
ALTER TABLE pulls ADD COLUMN lease_owner TEXT NOT NULL DEFAULT '';
ALTER TABLE pulls ADD COLUMN lease_until TEXT;
ALTER TABLE pulls ADD COLUMN lease_epoch INTEGER NOT NULL DEFAULT 0;
ALTER TABLE pulls ADD COLUMN last_check_at TEXT;
ALTER TABLE pulls ADD COLUMN change_seq INTEGER NOT NULL DEFAULT 0;
CREATE INDEX pulls_change_seq ON pulls (change_seq);
CREATE INDEX pulls_claimable ON pulls (profile, lease_until) WHERE {UNFINISHED_WHERE};
CREATE TABLE openers (
    owner     TEXT PRIMARY KEY NOT NULL,
    opened_at TEXT NOT NULL
);
ALTER TABLE cards ADD COLUMN expire_day TEXT;
ALTER TABLE cards ADD COLUMN key_id TEXT NOT NULL DEFAULT '';
"""


def _walleo_day(value: object) -> str | None:
    moment = from_db_time(value) if isinstance(value, str) else None
    return None if moment is None else expiry_day(moment).isoformat()


def _v5_leases(db: sqlite_utils.Database, cipher: Cipher | None) -> None:
    db.executescript(_V5)
    # cards.expire_day: the day a card expires as Walleo means it (its time zone), for the
    # cards recorded before it was stored (one Python call per card, once).
    db.conn.create_function("wd_walleo_day", 1, _walleo_day, deterministic=True)
    db.execute("UPDATE cards SET expire_day = wd_walleo_day(expire_at) WHERE expire_at IS NOT NULL")


# Shift reports (store/shifts.py): one agent's shift closed, its figures frozen as JSON when it
# was closed. Append-only like the events, whoever writes: a second close of the same period is
# a new report, never an edit, and no report is ever deleted.
_V6 = """
CREATE TABLE shift_reports (
    id           INTEGER PRIMARY KEY,
    agent        TEXT NOT NULL,
    period_start TEXT NOT NULL,                             -- inclusive, UTC
    period_end   TEXT NOT NULL,                             -- exclusive, UTC
    created_at   TEXT NOT NULL,
    created_by   TEXT NOT NULL,
    totals       TEXT NOT NULL,                             -- JSON: shifts.ShiftReport
    CHECK (period_start < period_end)
);
CREATE INDEX shift_reports_agent ON shift_reports (agent, period_end);
CREATE TRIGGER shift_reports_no_update BEFORE UPDATE ON shift_reports
BEGIN SELECT RAISE(ABORT, 'shift reports are append-only'); END;
CREATE TRIGGER shift_reports_no_delete BEFORE DELETE ON shift_reports
BEGIN SELECT RAISE(ABORT, 'shift reports are append-only'); END;
"""


def _v6_shift_reports(db: sqlite_utils.Database, cipher: Cipher | None) -> None:
    db.executescript(_V6)


# The search box through SQLite's full-text index (history.filter_sql, dialect.text_search):
# - pulls_fts: an FTS5 index over the reference, the note and the brand name, external content
#   (the text stays in pulls: the index holds only trigrams), the trigram tokenizer so that any
#   3+ characters of a reference match, case-insensitively, as LIKE '%...%' did; kept by triggers
#   on insert and on a change of those three columns only (a state change, a lease renewal,
#   every other write, leaves it alone). No column sizes: nothing ranks the matches;
# - request ids are matched by prefix through an index under NOCASE, the collation SQLite's
#   LIKE optimisation needs (a range of that index instead of reading every row);
# - pulls_search (v2), the covering index the LIKE search read, goes: nothing reads it now.
# At a million pulls the index is ~75 MiB and building it takes ~8 s, once.
_V7 = """
CREATE VIRTUAL TABLE pulls_fts USING fts5(
    reference, note, gift_card_name,
    content = 'pulls', content_rowid = 'id', tokenize = 'trigram', columnsize = 0
);
INSERT INTO pulls_fts (pulls_fts) VALUES ('rebuild');
CREATE TRIGGER pulls_fts_insert AFTER INSERT ON pulls BEGIN
    INSERT INTO pulls_fts (rowid, reference, note, gift_card_name)
    VALUES (new.id, new.reference, new.note, new.gift_card_name);
END;
CREATE TRIGGER pulls_fts_update AFTER UPDATE OF reference, note, gift_card_name ON pulls BEGIN
    INSERT INTO pulls_fts (pulls_fts, rowid, reference, note, gift_card_name)
    VALUES ('delete', old.id, old.reference, old.note, old.gift_card_name);
    INSERT INTO pulls_fts (rowid, reference, note, gift_card_name)
    VALUES (new.id, new.reference, new.note, new.gift_card_name);
END;
CREATE INDEX pulls_request_id_nocase ON pulls (request_id COLLATE NOCASE);
DROP INDEX pulls_search;
"""


def _v7_full_text_search(db: sqlite_utils.Database, cipher: Cipher | None) -> None:
    db.executescript(_V7)


# Catalog snapshots kept once each (core._snapshot_id): every pull carried the catalog entry it
# was journaled with, ~1 KB of JSON, so that a retry and a delivery use what the customer was
# sold; a dozen brands repeated it a million times (2 GiB per million pulls, 60 % of it that).
# - catalog_snapshots: one row per distinct text, keyed by its SHA-256, never changed;
# - pulls.snapshot_id names it (NULL: the empty snapshot {}); pulls.catalog_snapshot goes.
# Each pull reads back exactly the text it was journaled with. Store.open then VACUUMs: the
# space the copies held goes back to the disk (at a million pulls: 2.1 GiB -> 1.2 GiB).
# The same rewrite of every row copies its card's expiry day into pulls.card_expire_day
# (record_card keeps it since): the history sorts by it through an index of pulls (v9), where
# the card's own column, across the LEFT JOIN, meant sorting every pull.
_V8 = """
CREATE TABLE catalog_snapshots (
    id   INTEGER PRIMARY KEY,
    hash TEXT NOT NULL UNIQUE,                              -- rows.snapshot_hash(body)
    body TEXT NOT NULL                                      -- JSON, as journaled
);
CREATE TRIGGER catalog_snapshots_no_update BEFORE UPDATE ON catalog_snapshots
BEGIN SELECT RAISE(ABORT, 'catalog snapshots never change'); END;
CREATE TRIGGER catalog_snapshots_no_delete BEFORE DELETE ON catalog_snapshots
BEGIN SELECT RAISE(ABORT, 'catalog snapshots never change'); END;
ALTER TABLE pulls ADD COLUMN snapshot_id INTEGER REFERENCES catalog_snapshots (id);
ALTER TABLE pulls ADD COLUMN card_expire_day TEXT;          -- cards.expire_day, or NULL
CREATE TEMP TABLE v8_snapshots (body TEXT PRIMARY KEY, id INTEGER NOT NULL);
"""
_V8_SWAP = """
UPDATE pulls SET
    snapshot_id = (SELECT id FROM temp.v8_snapshots s WHERE s.body = pulls.catalog_snapshot),
    card_expire_day = (SELECT c.expire_day FROM cards c WHERE c.pull_id = pulls.id);
ALTER TABLE pulls DROP COLUMN catalog_snapshot;
DROP TABLE temp.v8_snapshots;
"""


def _v8_shared_snapshots(db: sqlite_utils.Database, cipher: Cipher | None) -> None:
    db.executescript(_V8)
    texts = [
        row[0]
        for row in db.execute(
            "SELECT DISTINCT catalog_snapshot FROM pulls WHERE catalog_snapshot != '{}'"
        )
    ]
    for text in texts:
        snapshot_id = db.execute(
            "INSERT INTO catalog_snapshots (hash, body) VALUES (?, ?) RETURNING id",
            [snapshot_hash(text), text],
        ).fetchone()[0]
        db.execute("INSERT INTO temp.v8_snapshots (body, id) VALUES (?, ?)", [text, snapshot_id])
    db.executescript(_V8_SWAP)


# Every sort key of the history an index walk (tests/test_query_plans.py checks each plan):
# - pulls_card_id: the Walleo card id's order;
# - the card's expiry day, pulls without one last either way: walked backwards, an index
#   (card_expire_day) gives the newest first and the NULLs after them; the other way, SQLite's
#   NULLs come first, so the ascending order reads one on (card_expire_day IS NULL, ...)
#   (columns.order_sql spells each as its index does).
# The brand code and the status sort ties by date (columns.Column.then): the (code, created_at)
# and (state, created_at) indexes give that order already.
# (The duplicate guard's index was first written into v5 after files had passed it: made here,
# for those files, and left as it is where that edited v5 made it.)
_V9 = """
CREATE INDEX IF NOT EXISTS pulls_duplicates
    ON pulls (reference, gift_card_code, amount, created_at);
CREATE INDEX pulls_card_id ON pulls (card_id);
CREATE INDEX pulls_expire_day ON pulls (card_expire_day);
CREATE INDEX pulls_expire_day_last ON pulls (card_expire_day IS NULL, card_expire_day);
"""


def _v9_sort_indexes(db: sqlite_utils.Database, cipher: Cipher | None) -> None:
    db.executescript(_V9)


# A migration gets the connection (inside its transaction) and the history's cipher (None when
# the store was opened without the key: a migration that needs it raises KeyUnavailableError).
Migration = Callable[["sqlite_utils.Database", Cipher | None], None]

MIGRATIONS: list[Migration] = [
    _v1_initial,
    _v2_history_indexes,
    _v3_encrypted_cards,
    _v4_journal_rules,
    _v5_leases,
    _v6_shift_reports,
    _v7_full_text_search,
    _v8_shared_snapshots,
    _v9_sort_indexes,
]
# The first schema version whose cards are encrypted.
ENCRYPTED_SINCE = 3
# The first schema version that keeps each catalog snapshot once (the file is rebuilt after it).
SHARED_SNAPSHOTS_SINCE = 8
SCHEMA_VERSION = len(MIGRATIONS)
