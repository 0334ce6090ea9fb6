"""Fill a history with realistic pulls, fast: ``python scripts/fill_history.py --rows 1000000
--data-dir DIR`` (writes ``DIR/history.sqlite3``; refuses a file that already has pulls unless
``--append``). ``fill_postgres`` fills a team history on PostgreSQL with the same rows
(bench/bench_history.py ``--backend postgresql``).

What the rows look like (deterministic for a given ``--seed``; ``generate`` makes them, for
either backend):

- the simulator's 12 brands, weighted (Carrefour and Decathlon often, Spotify rarely), each with
  amounts it really accepts and its partner discount; the catalog entry as the engine journals it
  (the catalog snapshot, about 1 KB of JSON, kept once per distinct text as the store does);
- 20 agents, references like ``TCK-123456`` (some ``CMD-…``, some empty), a few notes (with
  accents), request ids ``wd-<uuid4>`` as the engine makes them;
- spread over the last ~18 months, weekdays and office hours more than nights, in time order;
- 94 % success (with a card: 16–19 digit code, PIN for brands with one, expiry = validity
  period), 3 % error, 1.5 % rejected, 0.5 % in doubt, and a few still pending among the newest.

SQLite: rows are inserted with ``executemany`` in transactions of 50,000, with
``synchronous=OFF`` for the fill only (a crash mid-fill only loses a throw-away file); into a new
file, the indexes (the full-text one included) are dropped first and built once at the end.
PostgreSQL: ``COPY`` into a team schema made by ``admin.create_team``, as a superuser, with the
triggers and secondary indexes off during the copy and built once at the end.
Card codes and PINs go through ``walleo_desktop.store.cardcodes.card_to_row``, the one place that
writes those columns: they are encrypted with the history's key, which ``engine.datakey`` fetches
from (or makes in) the OS keyring, or the fallback key file ``DIR/history.key`` when there is no
keyring, exactly as the app would; the app then opens the filled history with that key. No events
are written: the history view, its totals and the export never read them.
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from walleo_desktop.engine.datakey import open_history  # noqa: E402
from walleo_desktop.store import CardRecord  # noqa: E402
from walleo_desktop.store.cardcodes import card_to_row  # noqa: E402
from walleo_desktop.store.crypto import CardCipher  # noqa: E402
from walleo_desktop.store.rows import snapshot_hash  # noqa: E402

BATCH = 50_000
_UUID_MASK = ~((0xF000 << 64) | (0xC000 << 48)) & ((1 << 128) - 1)
_UUID_V4 = (0x4000 << 64) | (0x8000 << 48)
SPAN_DAYS = 548  # ~18 months

# Relative frequency of each brand, and the amounts finance sees most for it.
_BRAND_WEIGHTS = {
    "CARREFOUR": 22,
    "DECATHLON": 16,
    "FNAC": 12,
    "IKEA": 9,
    "SEPHORA": 8,
    "ZALANDO": 8,
    "LEROY-MERLIN": 6,
    "CULTURA": 5,
    "BOULANGER": 5,
    "UBER-EATS": 4,
    "GOOGLE-PLAY": 3,
    "SPOTIFY": 2,
}
_FIRST = [
    "marie", "julien", "sophie", "thomas", "camille", "nicolas", "léa", "antoine", "chloé",
    "maxime", "emma", "hugo", "inès", "lucas", "sarah", "pierre", "manon", "louis", "zoé", "paul",
]  # fmt: skip
_LAST = [
    "martin", "bernard", "dubois", "thomas", "robert", "richard", "petit", "durand", "leroy",
    "moreau", "simon", "laurent", "lefèvre", "michel", "garcia", "david", "bertrand", "roux",
    "vincent", "fournier",
]  # fmt: skip
_NOTES = [
    "Geste commercial — retard de livraison",
    "Remboursement partiel, commande incomplète",
    "Jeu concours décembre",
    "Parrainage client",
    "Erreur de facturation corrigée",
    "Cadeau fidélité (5 ans)",
    "Réclamation traitée par téléphone",
    "Équipe support : compensation",
]
_ERRORS = [
    ("out_of_stock", "No stock available for this facial value"),
    ("not_enough_funds", "Your account balance is insufficient"),
    ("internal_error", "The card could not be generated, please retry"),
]
_REJECTIONS = [
    ("invalid_amount", "Amount must be a multiple of 5"),
    ("gift_card_not_found", "Gift card not found"),
    ("invalid_signature", "Signature mismatch"),
]

# The pulls columns ``generate`` gives values for, in this order (``catalog_snapshot`` is the
# JSON text: each writer turns it into a ``snapshot_id``).
PULL_FIELDS = (
    "id", "request_id", "gift_card_code", "gift_card_name", "catalog_snapshot", "discount",
    "amount", "currency", "state", "overdue", "created_at", "updated_at", "sent_at",
    "finished_at", "next_check_at", "attempts", "agent", "reference", "note", "profile",
    "batch_id", "retry_of", "error_code", "error_message", "walleo_id", "walleo_status",
    "card_id", "card_expire_day",
)  # fmt: skip
_STORED = tuple("snapshot_id" if f == "catalog_snapshot" else f for f in PULL_FIELDS)
_SNAPSHOT = PULL_FIELDS.index("catalog_snapshot")
_PULL_INSERT = (
    f"INSERT INTO pulls ({', '.join(_STORED)}) "  # noqa: S608
    f"VALUES ({', '.join('?' for _ in _STORED)})"
)


def _catalog() -> list[dict[str, Any]]:
    path = ROOT / "walleo_desktop" / "simulator" / "catalog.json"
    items = json.loads(path.read_text(encoding="utf-8"))["gift_cards"]
    return [{k: v for k, v in item.items() if k != "simulator"} for item in items]


def _amounts(item: dict[str, Any]) -> list[int]:
    values = item.get("facial_values") or {}
    if values.get("type") == "fixed" or "amounts" in values:
        amounts = [int(a) for a in values.get("amounts", [])]
        return amounts or [20, 50]
    low, high = int(values.get("min_amount", 10)), int(values.get("max_amount", 200))
    step = int(values.get("step_amount", 5)) or 5
    common = [a for a in (10, 15, 20, 25, 30, 40, 50, 75, 100, 150, 200) if low <= a <= high]
    common = [a for a in common if (a - low) % step == 0] or [low]
    return common


def _has_pin(item: dict[str, Any]) -> bool:
    return str(item.get("code_pin")).strip().lower() in ("true", "1")


def _uuid(rng: random.Random) -> str:
    """A random version-4 UUID, as text (uuid.UUID is 3x slower for a million of them)."""
    h = f"{rng.getrandbits(128) & _UUID_MASK | _UUID_V4:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _db_time(moment: datetime) -> str:
    """``records.to_db_time`` for an aware UTC datetime, without strftime (5x faster)."""
    return moment.isoformat(timespec="microseconds")[:26] + "Z"


def _times(rng: random.Random, rows: int, end: datetime) -> Iterator[datetime]:
    """``rows`` creation times over SPAN_DAYS before ``end``, ascending, busier on weekdays and
    office hours, growing over time (the business grows)."""
    start = end - timedelta(days=SPAN_DAYS)
    days = [start.date() + timedelta(days=d) for d in range(SPAN_DAYS + 1)]
    weights = [
        (0.35 if day.weekday() >= 5 else 1.0) * (0.6 + 0.8 * i / SPAN_DAYS)
        for i, day in enumerate(days)
    ]
    total = sum(weights)
    per_day = [int(rows * w / total) for w in weights]
    per_day[-1] += rows - sum(per_day)
    hours = list(range(24))
    hour_weights = [0.1 if h < 7 or h > 20 else (1.0 if 9 <= h <= 17 else 0.5) for h in hours]
    for day, count in zip(days, per_day, strict=True):
        base = datetime(day.year, day.month, day.day, tzinfo=UTC)
        # Today only up to now: its share of the rows falls in the hours already past.
        limit = min(86400.0, (end - base).total_seconds())
        seconds = sorted(
            (h * 3600 + rng.randrange(3600) + rng.random()) * limit / 86400
            for h in rng.choices(hours, hour_weights, k=count)
        )
        for s in seconds:
            yield base + timedelta(seconds=s)


def fill(
    path: Path, rows: int, *, seed: int = 1, append: bool = False, now: datetime | None = None
) -> float:
    """Add ``rows`` pulls to the SQLite history at ``path``; the seconds it took."""
    started = time.perf_counter()
    store, data_key = open_history(path)  # creates the file, its key; schema up to date
    store.close()
    if data_key.fallback:
        print(f"warning: {data_key.warning}", file=sys.stderr)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA synchronous=OFF")
        first_id = conn.execute("SELECT coalesce(max(id), 0) + 1 FROM pulls").fetchone()[0]
        if first_id > 1 and not append:
            raise SystemExit(f"{path} already has pulls; pass --append to add more")
        # Into an empty file, build the indexes once at the end (a sort each) rather than
        # maintaining them row by row: the same schema, in half the time.
        rebuilt = [] if append else _drop_indexes(conn)
        snapshots = _SqliteSnapshots(conn)
        pulls: list[tuple[Any, ...]] = []
        cards: list[dict[str, Any]] = []
        made = generate(rows, data_key.cipher(), first_id=first_id, seed=seed, now=now)
        for pull, card in made:
            pull[_SNAPSHOT] = snapshots.id_of(pull[_SNAPSHOT])
            pulls.append(tuple(pull))
            if card is not None:
                cards.append(card)
            if len(pulls) >= BATCH:
                _insert(conn, pulls, cards)
        _insert(conn, pulls, cards)
        for sql in rebuilt:
            conn.execute(sql)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    return time.perf_counter() - started


class _SqliteSnapshots:
    """Catalog snapshot text -> ``catalog_snapshots.id``, as ``StoreCore._snapshot_id``."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._ids: dict[str, int | None] = {"{}": None}

    def id_of(self, text: str) -> int | None:
        if text not in self._ids:
            digest = snapshot_hash(text)
            self._conn.execute(
                "INSERT INTO catalog_snapshots (hash, body) VALUES (?, ?) "
                "ON CONFLICT (hash) DO NOTHING",
                [digest, text],
            )
            found = self._conn.execute(
                "SELECT id FROM catalog_snapshots WHERE hash = ?", [digest]
            ).fetchone()
            self._ids[text] = found[0]
        return self._ids[text]


def _insert(
    conn: sqlite3.Connection, pulls: list[tuple[Any, ...]], cards: list[dict[str, Any]]
) -> None:
    conn.execute("BEGIN")
    conn.executemany(_PULL_INSERT, pulls)
    if cards:
        columns = list(cards[0])
        sql = (
            f"INSERT INTO cards ({', '.join(columns)}) "  # noqa: S608
            f"VALUES ({', '.join(':' + c for c in columns)})"
        )
        conn.executemany(sql, cards)
    conn.execute("COMMIT")
    pulls.clear()
    cards.clear()


def _drop_indexes(conn: sqlite3.Connection) -> list[str]:
    """Drop the explicit indexes of pulls and cards and the full-text index's insert trigger;
    the statements that rebuild them (the full-text index from the rows, once)."""
    found = conn.execute(
        "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL AND ("
        "(type = 'index' AND tbl_name IN ('pulls', 'cards')) "
        "OR (type = 'trigger' AND name = 'pulls_fts_insert'))"
    ).fetchall()
    for kind, name, _sql in found:
        conn.execute(f'DROP {kind.upper()} "{name}"')
    rebuild = [sql for _kind, _name, sql in found]
    if any(name == "pulls_fts_insert" for _kind, name, _sql in found):
        rebuild.append("INSERT INTO pulls_fts (pulls_fts) VALUES ('rebuild')")
    return rebuild


def fill_postgres(
    conn: Any, rows: int, cipher: CardCipher, *, seed: int = 1, now: datetime | None = None
) -> float:
    """Fill the team history in the database of ``conn`` (a psycopg connection as a superuser,
    the schema made by ``admin.create_team``, no pulls yet) with ``rows`` pulls; the seconds it
    took. COPY, with the triggers and the secondary indexes of pulls and cards off meanwhile;
    ``pulls.id`` takes the generator's ids (identity BY DEFAULT for the copy, then ALWAYS again
    and its sequence moved past them). ANALYZEs at the end, as autovacuum would."""
    from psycopg import sql

    started = time.perf_counter()
    schema = "walleo"
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f"SET search_path = {schema}, public")
        cur.execute("SELECT count(*) FROM pulls")
        if cur.fetchone()[0]:
            raise SystemExit("the team history already has pulls")
        cur.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = %s "
            "AND tablename IN ('pulls', 'cards') AND indexname NOT IN ("
            "SELECT conname FROM pg_constraint WHERE conrelid IN "
            "('walleo.pulls'::regclass, 'walleo.cards'::regclass))",
            [schema],
        )
        indexes = cur.fetchall()
        for name, _definition in indexes:
            cur.execute(
                sql.SQL("DROP INDEX {}.{}").format(sql.Identifier(schema), sql.Identifier(name))
            )
        cur.execute("ALTER TABLE pulls ALTER COLUMN id SET GENERATED BY DEFAULT")
        snapshots: dict[str, int | None] = {"{}": None}
        for text in snapshot_texts().values():  # before the COPY, which holds the connection
            snapshots[text] = _pg_snapshot(conn, text)
        with conn.transaction():
            cur.execute("SET LOCAL session_replication_role = replica")  # no triggers, no FK checks
            card_columns: list[str] | None = None
            with cur.copy(
                sql.SQL("COPY pulls ({}) FROM STDIN").format(
                    sql.SQL(", ").join(map(sql.Identifier, _STORED))
                )
            ) as copy:
                cards: list[dict[str, Any]] = []
                for pull, card in generate(rows, cipher, seed=seed, now=now):
                    pull[_SNAPSHOT] = snapshots[pull[_SNAPSHOT]]
                    copy.write_row(pull)
                    if card is not None:
                        cards.append(card)
            if cards:
                card_columns = list(cards[0])
                with cur.copy(
                    sql.SQL("COPY cards ({}) FROM STDIN").format(
                        sql.SQL(", ").join(map(sql.Identifier, card_columns))
                    )
                ) as copy:
                    for card in cards:
                        copy.write_row([card[c] for c in card_columns])
        for _name, definition in indexes:
            cur.execute(definition)
        cur.execute("ALTER TABLE pulls ALTER COLUMN id SET GENERATED ALWAYS")
        cur.execute(
            "SELECT setval(pg_get_serial_sequence('walleo.pulls', 'id'), "
            "(SELECT coalesce(max(id), 0) + 1 FROM pulls), false)"
        )
        cur.execute("ANALYZE pulls")
        cur.execute("ANALYZE cards")
        cur.execute("ANALYZE catalog_snapshots")
    return time.perf_counter() - started


def _pg_snapshot(conn: Any, text: str) -> int:
    """The id of catalog snapshot ``text``, added when new (as ``StoreCore._snapshot_id``)."""
    with conn.cursor() as cur:
        cur.execute(
            "INSERT INTO catalog_snapshots (hash, body) VALUES (%s, %s) "
            "ON CONFLICT (hash) DO UPDATE SET hash = excluded.hash RETURNING id",
            [snapshot_hash(text), text],
        )
        found = cur.fetchone()
    assert found is not None
    return int(found[0])


def snapshot_texts() -> dict[str, str]:
    """Brand code -> the catalog snapshot text ``generate`` journals its pulls with."""
    return {
        item["code"]: json.dumps(item, ensure_ascii=False, separators=(",", ":"))
        for item in _catalog()
        if item["code"] in _BRAND_WEIGHTS
    }


def generate(
    rows: int,
    cipher: CardCipher,
    *,
    first_id: int = 1,
    seed: int = 1,
    now: datetime | None = None,
) -> Iterator[tuple[list[Any], dict[str, Any] | None]]:
    """``rows`` pulls in time order, ids from ``first_id``: each the values of ``PULL_FIELDS``
    (a list: writers replace the snapshot text by its id) and its card's ``cards`` row (code
    and PIN encrypted with ``cipher``), or None."""
    rng = random.Random(seed)
    catalog = {item["code"]: item for item in _catalog()}
    codes = [c for c in _BRAND_WEIGHTS if c in catalog]
    brand_weights = [_BRAND_WEIGHTS[c] for c in codes]
    snapshots = snapshot_texts()
    amounts = {c: _amounts(catalog[c]) for c in codes}
    agents = [f"{f}.{last}" for f, last in zip(_FIRST, _LAST, strict=True)]
    agent_weights = [rng.uniform(0.3, 3.0) for _ in agents]
    now = now or datetime.now(UTC).replace(microsecond=0)
    states = ["success", "error", "rejected", "in_doubt"]
    state_weights = [94.0, 3.0, 1.5, 0.5]
    for n, created in enumerate(_times(rng, rows, now)):
        pull_id = first_id + n
        code = rng.choices(codes, brand_weights)[0]
        item = catalog[code]
        amount = rng.choice(amounts[code])
        recent = now - created < timedelta(minutes=30)
        state = rng.choices(states, state_weights)[0]
        if recent and rng.random() < 0.3:
            state = rng.choice(["queued", "waiting", "processing"])
        r = rng.random()
        if r < 0.7:
            reference = f"TCK-{rng.randrange(1_000_000):06d}"
        elif r < 0.9:
            reference = f"CMD-{rng.randrange(10_000_000):07d}"
        else:
            reference = ""
        note = rng.choice(_NOTES) if rng.random() < 0.08 else ""
        sent = created + timedelta(seconds=rng.uniform(0.05, 2.0))
        finished = sent + timedelta(seconds=rng.uniform(1.0, 90.0))
        error_code = error_message = walleo_id = card_id = ""
        walleo_status = ""
        finished_at: str | None = _db_time(finished)
        card: dict[str, Any] | None = None
        if state == "success":
            walleo_id, card_id, walleo_status = _uuid(rng), _uuid(rng), "success"
            digits = rng.choice((16, 16, 19))
            card_code = f"{rng.getrandbits(64) % 10**digits:0{digits}d}"
            pin = f"{rng.randrange(10_000):04d}" if _has_pin(item) else ""
            validity = int(item.get("validity_period") or 365)
            card = card_to_row(
                CardRecord(
                    card_id=card_id,
                    pull_id=pull_id,
                    code=card_code,
                    pin_code=pin,
                    expire_at=finished + timedelta(days=validity),
                    amount=amount,
                    gift_card_code=code,
                    pdf_url=f"https://api.walleo.example/cards/{card_id}.pdf",
                    created_at=finished,
                ),
                cipher,
            )
        elif state == "error":
            walleo_id, walleo_status = _uuid(rng), "error"
            error_code, error_message = rng.choice(_ERRORS)
        elif state == "rejected":
            error_code, error_message = rng.choice(_REJECTIONS)
        elif state == "in_doubt":
            error_code, error_message = "transport", "The connection was reset"
            finished_at = None
        else:
            finished_at = None
        created_text = _db_time(created)
        pull = [
            pull_id, f"wd-{_uuid(rng)}", code, item["name"], snapshots[code],
            item.get("discount"), amount, "EUR", state, 0, created_text,
            finished_at or created_text, _db_time(sent), finished_at, None,
            rng.choice((2, 2, 2, 3, 4)), rng.choices(agents, agent_weights)[0], reference, note,
            "main", "", None, error_code, error_message, walleo_id, walleo_status, card_id,
            None if card is None else card["expire_day"],
        ]  # fmt: skip
        yield pull, card


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--append", action="store_true", help="add to a history that has pulls")
    parser.add_argument(
        "--now", type=datetime.fromisoformat, help="the fill's present (ISO 8601; default: now)"
    )
    args = parser.parse_args(argv)
    path = args.data_dir / "history.sqlite3"
    seconds = fill(path, args.rows, seed=args.seed, append=args.append, now=args.now)
    size = path.stat().st_size / 2**20
    print(f"{args.rows:,} pulls written to {path} in {seconds:.1f} s ({size:,.0f} MiB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
