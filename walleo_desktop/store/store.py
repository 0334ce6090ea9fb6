"""The local history: the journal that guarantees no card is issued twice and none is lost.

The engine journals an intent (``add_pulls``) and commits it *before* the create request goes
out, then records every step (``update_pull``) and the card (``record_card``). Each of those is
one ``BEGIN IMMEDIATE`` transaction (``Store._write``): either all of its rows are on disk or
none is. With ``synchronous=FULL`` a committed transaction survives a power cut.

One ``Store`` = one SQLite connection, used from the thread that opened it. Several processes
(or threads, each with its own ``Store``) may write to the same file: ``BEGIN IMMEDIATE`` takes
the write lock up front and the busy timeout waits for it, so writers queue instead of failing
(stack-notes §5).

Card codes and PINs are encrypted in the file (``crypto``, ``cardcodes``, schema v3): a ``Store``
opened with the history's ``CardCipher`` reads and records cards; without it, everything but
the codes works. ``Store.key_info`` tells which key a file needs before opening it.

SQL text is assembled only from this package's constants and whitelisted names (sort keys,
columns, field names); every value is a bound parameter. Hence the ``noqa: S608`` below.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import time
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any, NamedTuple, Self

import platformdirs
import sqlite_utils

from walleo_desktop.store import cardcodes
from walleo_desktop.store.crypto import CardCipher, KeyMismatchError, KeyUnavailableError
from walleo_desktop.store.errors import (
    AlreadyRetriedError,
    CardConflictError,
    CorruptStoreError,
    NewerSchemaError,
    NotFoundError,
    StoreError,
)
from walleo_desktop.store.history import (
    DISTINCT_COLUMNS,
    BrandTotal,
    HistoryFilter,
    HistoryLine,
    HistoryPage,
    HistoryRow,
    Totals,
    filter_sql,
    order_sql,
)
from walleo_desktop.store.records import (
    CardRecord,
    EventRecord,
    NewPull,
    PullRecord,
    PullState,
    from_db_time,
    to_db_time,
    utcnow,
)
from walleo_desktop.store.rows import (
    PULL_COLUMNS,
    dump_json,
    load_json,
    pull_from_row,
    pull_select,
    required_time,
)
from walleo_desktop.store.schema import (
    ENCRYPTED_SINCE,
    HISTORY_ID_SETTING,
    KEY_CHECK_SETTING,
    MIGRATIONS,
    SCHEMA_VERSION,
    UNFINISHED_WHERE,
)

__all__ = ["BUSY_TIMEOUT_S", "KeyInfo", "Store", "default_data_dir"]

log = logging.getLogger(__name__)

# How long a writer waits for another writer's lock before giving up (sqlite3 busy timeout).
BUSY_TIMEOUT_S = 30.0
# The WAL is kept at most this big after a checkpoint; a bigger leftover WAL (a disk that was
# full, a crash) is checkpointed and truncated when the history is opened.
WAL_SIZE_LIMIT = 4 * 1024 * 1024


def default_data_dir() -> Path:
    """Where the history lives by default (``~/.local/share/walleo-desktop`` on Linux)."""
    return Path(platformdirs.user_data_dir("walleo-desktop", appauthor=False))


# ---------------------------------------------------------------------------------------------
# Field conversions for update_pull: PullRecord field -> SQL value (raises on a bad value).


def _text(value: object) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise TypeError(f"expected text, got {type(value).__name__}")
    return value


def _time(value: object) -> str | None:
    if value is not None and not isinstance(value, datetime):
        raise TypeError(f"expected a datetime or None, got {type(value).__name__}")
    return to_db_time(value)


def _count(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise TypeError(f"expected a count (int >= 0), got {value!r}")
    return value


def _flag(value: object) -> int:
    if not isinstance(value, bool):
        raise TypeError(f"expected a bool, got {type(value).__name__}")
    return int(value)


def _state(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a PullState, got {type(value).__name__}")
    return PullState(value).value  # ValueError on an unknown state


_UPDATABLE: dict[str, Callable[[object], object]] = {
    "state": _state,
    "overdue": _flag,
    "sent_at": _time,
    "finished_at": _time,
    "next_check_at": _time,
    "attempts": _count,
    "error_code": _text,
    "error_message": _text,
    "walleo_id": _text,
    "walleo_status": _text,
    "card_id": _text,
    "note": _text,
    "reference": _text,
}


def _pull_updates(fields: Mapping[str, object]) -> dict[str, object]:
    unknown = sorted(set(fields) - set(PULL_COLUMNS))
    if unknown:
        raise ValueError(f"unknown pull field(s): {', '.join(unknown)}")
    fixed = sorted(set(fields) - set(_UPDATABLE))
    if fixed:
        raise ValueError(
            f"pull field(s) {', '.join(fixed)} cannot be changed: a journaled intent is fixed"
        )
    values: dict[str, object] = {}
    for name, value in fields.items():
        try:
            values[name] = _UPDATABLE[name](value)
        except TypeError as exc:
            raise TypeError(f"pull field {name}: {exc}") from None
    return values


# ---------------------------------------------------------------------------------------------
# Event details: never secrets. This catches the obvious slips before they reach the disk.

REDACTED = "[redacted]"
_SECRET_KEYS = frozenset(
    {
        "pin",
        "pin_code",
        "card_code",
        "api_key",
        "shared_key",
        "secret",
        "password",
        "authorization",
        "signature",
    }
)


def _scrub(value: Any, secrets: tuple[str, ...] = ()) -> Any:
    """``value`` with secret-named keys redacted, and strings holding one of ``secrets``.

    A long secret (a card code) is found inside a string; a short one (a PIN) only as the whole
    string, so that a PIN's digits inside an id do not hide that id.
    """
    if isinstance(value, Mapping):
        clean: dict[str, Any] = {}
        for key, item in value.items():
            name = str(key)
            if name.lower() in _SECRET_KEYS:
                log.warning("event detail key %r redacted: event details never hold secrets", name)
                clean[name] = REDACTED
            else:
                clean[name] = _scrub(item, secrets)
        return clean
    if isinstance(value, (list, tuple)):
        return [_scrub(item, secrets) for item in value]
    if isinstance(value, str) and any(
        secret in value if len(secret) >= 8 else secret == value for secret in secrets
    ):
        return REDACTED
    return value


# ---------------------------------------------------------------------------------------------
# Opening a file.


def _create_private_file(path: Path) -> None:
    """Create an empty database file readable by its owner only (SQLite would use 0644)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    os.close(fd)


def _refuse_empty(path: Path) -> None:
    """A history file of 0 bytes is damaged, never "new": a new history is created whole under
    a temporary name and linked into place (``Store._create``), so an empty file means what it
    held is gone (a truncated copy, a failed disk). Opening it would silently start an empty
    history in its place and every unfinished pull it held would vanish."""
    if path.stat().st_size == 0:
        raise CorruptStoreError(
            path, "it is empty (0 bytes): the history it held is missing or was cut short"
        )


def _make_private(path: Path) -> None:
    if os.name == "posix" and path.stat().st_mode & 0o077:
        os.chmod(path, 0o600)


def _sync_dir(directory: Path) -> None:
    """Make a new name in ``directory`` durable (POSIX: fsync the directory)."""
    if os.name != "posix":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _why(exc: BaseException, path: Path) -> str:
    """What went wrong with the history file at ``path``, in words a user can act on.

    SQLite says "disk I/O error" for a full disk as often as "database or disk is full", and
    "unable to open database file" or "attempt to write a readonly database" for a read-only
    folder: the file system itself is asked what the matter is.
    """
    code = getattr(exc, "sqlite_errorcode", None)
    errno_ = getattr(exc, "errno", None)
    primary = code & 0xFF if isinstance(code, int) else None
    folder = path.parent
    try:
        fs = os.statvfs(folder)
        read_only = bool(fs.f_flag & os.ST_RDONLY) or not os.access(folder, os.W_OK)
    except (OSError, AttributeError):
        read_only = False
    if _disk_full(exc, path):
        return f"the disk holding {folder} is full. Free some space on it, then try again"
    if read_only:
        return f"the folder {folder} is read-only (or cannot be written by you)"
    if primary == sqlite3.SQLITE_READONLY or errno_ in (13, 30):
        return f"it cannot be written ({exc}): check that {folder} is writable"
    return str(exc)


def _disk_full(exc: BaseException | None, path: Path) -> bool:
    if exc is None:
        return False
    code = getattr(exc, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    if primary == sqlite3.SQLITE_FULL or getattr(exc, "errno", None) == 28:
        return True
    if primary != sqlite3.SQLITE_IOERR:
        return False
    try:
        fs = os.statvfs(path.parent)
    except OSError:
        return False
    return fs.f_bavail * fs.f_frsize < 64 * 1024


def _database_error(exc: sqlite3.DatabaseError, path: Path) -> StoreError:
    if exc.sqlite_errorcode in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB):
        return CorruptStoreError(path, f"it is damaged or not a database ({exc})")
    return StoreError(f"Cannot read the history file {path}: {_why(exc, path)}.")


def _inspect(conn: sqlite3.Connection, path: Path) -> int:
    """The file's schema version, after checking it without writing a byte to it.

    Until ``_configure`` runs, closing the connection does not checkpoint a leftover WAL into
    the file either, so a refused file is left exactly as it was.
    """
    conn.setconfig(sqlite3.SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, True)
    try:
        conn.execute("BEGIN")  # one read snapshot, even if another process migrates meanwhile
        try:
            version: int = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise NewerSchemaError(path, version, SCHEMA_VERSION)
            problems = [row[0] for row in conn.execute("PRAGMA quick_check(5)")]
            if problems != ["ok"]:
                raise CorruptStoreError(path, "it is damaged (" + "; ".join(problems) + ")")
            tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
            if version == 0 and tables:
                raise CorruptStoreError(path, "it is an SQLite database, but not a Walleo history")
        finally:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
    except sqlite3.DatabaseError as exc:
        raise _database_error(exc, path) from exc
    return version


class KeyInfo(NamedTuple):
    """What a history file says about its key, read without the key (``Store.key_info``).

    ``history_id`` names the key (None: the file does not exist yet, or predates encryption);
    ``key_check`` is the fingerprint of the key its codes are encrypted with (None: no key was
    bound yet, so a new key may be made for it).
    """

    history_id: str | None
    key_check: str | None


def _casefold(value: object) -> str | None:
    return value.casefold() if isinstance(value, str) else None


def _set_wal(conn: sqlite3.Connection) -> str:
    """Switch to WAL; the journal mode in force. Readers (the history view) then never block
    the writer (the engine), nor the reverse.

    Switching a new file to WAL while another connection opens it too (two app instances at
    first start) fails at once with "database is locked": the busy timeout does not apply to
    this pragma, so wait for the other connection here.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    while True:
        try:
            mode: str = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        except sqlite3.OperationalError as exc:
            busy = exc.sqlite_errorcode & 0xFF == sqlite3.SQLITE_BUSY
            if not busy or time.monotonic() > deadline:
                raise
            time.sleep(0.02)
        else:
            return mode


def _configure(conn: sqlite3.Connection, cipher: CardCipher | None) -> None:
    conn.setconfig(sqlite3.SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, False)
    mode = _set_wal(conn)
    if mode != "wal":
        log.warning("SQLite refused WAL mode (journal_mode=%s); continuing without it", mode)
    # FULL: in WAL mode, NORMAL may lose the last commits on power loss. A journaled intent
    # must be on disk before its POST goes out, so every commit is synced (one fsync each).
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    # Freed space is zeroed, not left holding what was deleted (cards are never deleted, but a
    # migration rewrites tables).
    conn.execute("PRAGMA secure_delete=ON")
    # After a checkpoint, the WAL file is cut back to this size instead of keeping its largest
    # size forever (SQLite's default): the space goes back to the disk.
    conn.execute(f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT:d}")
    conn.create_function("wd_casefold", 1, _casefold, deterministic=True)
    cardcodes.register_functions(conn, cipher)


def _chunks(values: Sequence[int], size: int = 500) -> Iterator[Sequence[int]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _where_and(where: str, condition: str) -> str:
    return f"{where} AND {condition}" if where else f"WHERE {condition}"


def _intent_row(pull: NewPull, now: str | None) -> dict[str, Any]:
    if not pull.request_id:
        raise ValueError("a pull needs a request id")
    if isinstance(pull.amount, bool) or not isinstance(pull.amount, int) or pull.amount <= 0:
        raise ValueError(f"pull {pull.request_id}: amount must be a positive int")
    return {
        "request_id": pull.request_id,
        "gift_card_code": pull.gift_card_code,
        "gift_card_name": pull.gift_card_name,
        "catalog_snapshot": dump_json(pull.catalog_snapshot),
        "discount": pull.discount,
        "amount": pull.amount,
        "currency": pull.currency,
        "state": PullState.QUEUED.value,
        "created_at": now,
        "updated_at": now,
        "agent": pull.agent,
        "reference": pull.reference,
        "note": pull.note,
        "profile": pull.profile,
        "batch_id": pull.batch_id,
        "retry_of": pull.retry_of,
    }


# cardcodes.CARD_COLUMNS as names, for selecting a card beside its pull (``c.code AS card_code``).
_CARD_FIELDS = tuple(name.strip() for name in cardcodes.CARD_COLUMNS.split(","))

# Sums over successful pulls read the partial covering index made for them (schema v2): without
# statistics, SQLite would otherwise pick (state, created_at) and read each row from the table.
_SUCCESS_INDEX = "INDEXED BY pulls_success_totals"

_PENDING = frozenset({PullState.QUEUED, PullState.SENDING, PullState.WAITING, PullState.PROCESSING})
_FAILED = frozenset({PullState.ERROR, PullState.REJECTED})


class Store:
    """The history file. Open with ``Store.open(path, cipher=...)``; close with ``close()`` (or
    ``with``).

    Card codes and PINs are encrypted in the file (``cardcodes``): reading or recording a card
    needs the history's ``CardCipher``. Without it, everything else works (the journal, the
    history, totals, last 4 digits) and a card raises ``KeyUnavailableError``.

    Not thread-safe: use a ``Store`` from the thread that opened it (open another ``Store`` on
    the same file for another thread or process).
    """

    def __init__(
        self, db: sqlite_utils.Database, path: Path, cipher: CardCipher | None = None
    ) -> None:
        """Use ``Store.open``."""
        self._db = db
        self._closed = False
        self._cipher = cipher
        self.path = path

    @property
    def has_key(self) -> bool:
        """Whether this store can read and record card codes."""
        return self._cipher is not None

    @staticmethod
    def key_info(path: Path) -> KeyInfo:
        """The history id and key fingerprint recorded in the file at ``path``, read without
        writing to it (nor creating it), so that the right key can be fetched before ``open``.

        Raises ``NewerSchemaError`` / ``CorruptStoreError`` as ``open`` would.
        """
        path = Path(path)
        try:
            if not path.is_file():
                return KeyInfo(None, None)
            _refuse_empty(path)
            conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"Cannot open the history file {path}: {_why(exc, path)}.") from exc
        try:
            conn.setconfig(sqlite3.SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, True)  # never write
            conn.execute("BEGIN")
            version: int = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise NewerSchemaError(path, version, SCHEMA_VERSION)
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
            if version == 0:
                if tables:
                    raise CorruptStoreError(
                        path, "it is an SQLite database, but not a Walleo history"
                    )
                return KeyInfo(None, None)
            found = dict(
                conn.execute(
                    "SELECT key, value FROM settings WHERE key IN (?, ?)",
                    [HISTORY_ID_SETTING, KEY_CHECK_SETTING],
                ).fetchall()
            )
        except sqlite3.DatabaseError as exc:
            raise _database_error(exc, path) from exc
        finally:
            conn.close()  # ends the read transaction; nothing was written
        history_id = load_json(found.get(HISTORY_ID_SETTING), None)
        key_check = load_json(found.get(KEY_CHECK_SETTING), None)
        return KeyInfo(
            history_id if isinstance(history_id, str) else None,
            key_check if isinstance(key_check, str) else None,
        )

    @classmethod
    def open(cls, path: Path, *, cipher: CardCipher | None = None) -> Store:
        """Open (or create) the history at ``path`` and bring its schema up to date.

        ``cipher`` is the history's key (``engine.datakey`` fetches it from the OS keyring).
        Without it, card codes can be neither read nor recorded, and a history written before
        encryption cannot be migrated (``KeyUnavailableError``, the file left as it was). A
        key that is not this history's is refused (``KeyMismatchError``).

        Raises ``NewerSchemaError`` for a file from a newer app version and
        ``CorruptStoreError`` for a damaged or foreign file; neither file is modified.
        """
        path = Path(path)
        try:
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            if not path.exists():
                cls._create(path, cipher)
            _refuse_empty(path)
            conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"Cannot open the history file {path}: {_why(exc, path)}.") from exc
        try:
            version = _inspect(conn, path)
            _make_private(path)
            _configure(conn, cipher)
            # Plugins could hook our connection: the journal runs with none.
            store = cls(sqlite_utils.Database(conn, execute_plugins=False), path, cipher)
            store._reclaim_leftover_wal()
            store._migrate(version)
            store._bind_key()
        except sqlite3.Error as exc:
            conn.close()
            raise StoreError(f"Cannot open the history file {path}: {_why(exc, path)}.") from exc
        except BaseException:
            conn.close()
            raise
        return store

    @classmethod
    def _create(cls, path: Path, cipher: CardCipher | None) -> None:
        """Create a new history at ``path`` whole: schema, history id and key fingerprint are
        written to a private temporary file, which is then linked into place in one step.
        Another process creating the same history at the same moment keeps its own file (the
        link fails here, and the temporary one is discarded), so ``path`` is never an empty or
        half-made file and never two histories."""
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{time.monotonic_ns()}.new")
        _create_private_file(tmp)
        try:
            conn = sqlite3.connect(tmp, timeout=BUSY_TIMEOUT_S, isolation_level=None)
            try:
                conn.execute("PRAGMA synchronous=FULL")
                conn.execute("PRAGMA foreign_keys=ON")
                conn.create_function("wd_casefold", 1, _casefold, deterministic=True)
                cardcodes.register_functions(conn, cipher)
                store = cls(sqlite_utils.Database(conn, execute_plugins=False), tmp, cipher)
                store._migrate(0)
                store._bind_key()
            finally:
                conn.close()
            with contextlib.suppress(FileExistsError):
                os.link(tmp, path)
            _sync_dir(path.parent)
        finally:
            tmp.unlink(missing_ok=True)
            for suffix in ("-journal", "-wal", "-shm"):
                tmp.with_name(tmp.name + suffix).unlink(missing_ok=True)

    def reopen(self) -> Store:
        """Another connection to this history, for another thread (``Store`` is per-thread).

        Skips what ``open`` already did for this file (the integrity check reads every page:
        over a second for a million pulls; the migrations), so a history view's query thread
        starts in milliseconds. Safe to call from any thread: it only reads ``path``; the new
        ``Store`` belongs to the calling thread.
        """
        try:
            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        except sqlite3.Error as exc:
            raise StoreError(
                f"Cannot open the history file {self.path}: {_why(exc, self.path)}."
            ) from exc
        try:
            _configure(conn, self._cipher)
        except sqlite3.Error as exc:
            conn.close()
            raise StoreError(
                f"Cannot open the history file {self.path}: {_why(exc, self.path)}."
            ) from exc
        return type(self)(
            sqlite_utils.Database(conn, execute_plugins=False), self.path, self._cipher
        )

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({str(self.path)!r})"

    # -- transactions and schema --------------------------------------------------------------

    @contextmanager
    def _write(self) -> Iterator[None]:
        """One write transaction: ``BEGIN IMMEDIATE`` … ``COMMIT``, or ``ROLLBACK`` on any error.

        IMMEDIATE takes the write lock up front, where the busy timeout applies; a deferred
        ``BEGIN`` would fail at once with "database is locked" when a read lock has to be
        upgraded while another connection writes (stack-notes §5). SQLite errors come out as
        ``StoreError``; nothing of the transaction is left behind.
        """
        conn = self._db.conn
        if conn.in_transaction:
            raise RuntimeError("Store._write() does not nest")
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise StoreError(
                f"Cannot write to the history file {self.path}: {_why(exc, self.path)}. "
                "Nothing was changed."
            ) from exc
        try:
            yield
            conn.execute("COMMIT")
        except BaseException as exc:
            if conn.in_transaction:  # some errors end the transaction themselves
                try:
                    conn.execute("ROLLBACK")
                except sqlite3.Error:
                    log.exception("ROLLBACK failed after %r", exc)
            if isinstance(exc, sqlite3.Error):
                raise StoreError(
                    f"Cannot write to the history file {self.path}: {_why(exc, self.path)}. "
                    "Nothing was changed."
                ) from exc
            raise

    def _transaction[T](self, body: Callable[[], T]) -> T:
        """``body()`` in one write transaction (``_write``), and its result.

        A write refused because the disk is full is tried once more after giving back the space
        the WAL holds (a checkpoint that truncates it): on a nearly full disk the WAL cannot
        grow to its automatic checkpoint (4 MB), and every later write would fail while the
        space it needs sits in the WAL.
        """
        try:
            with self._write():
                return body()
        except StoreError as exc:
            if not _disk_full(exc.__cause__, self.path) or not self._reclaim_wal():
                raise
        with self._write():
            return body()

    def _reclaim_leftover_wal(self) -> None:
        """A WAL left bigger than ``WAL_SIZE_LIMIT`` (a full disk stopped the checkpoints, a
        crash) is checkpointed and truncated now, before new writes need that space. Another
        process busy with the history is not waited for: then it stays for a later checkpoint."""
        wal = self.path.with_name(self.path.name + "-wal")
        try:
            if wal.stat().st_size <= WAL_SIZE_LIMIT:
                return
        except OSError:
            return
        conn = self._db.conn
        conn.execute("PRAGMA busy_timeout=200")
        try:
            self._reclaim_wal()
        finally:
            conn.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000):d}")

    def _reclaim_wal(self) -> bool:
        """Checkpoint the WAL into the file and truncate it; True if that happened in full."""
        try:
            busy: int = self._db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
        except sqlite3.Error as exc:
            log.info("history %s: reclaiming the WAL failed: %s", self.path, exc)
            return False
        log.info("history %s: disk full; WAL checkpointed and truncated (busy=%s)", self.path, busy)
        return busy == 0

    def _user_version(self) -> int:
        version: int = self._db.execute("PRAGMA user_version").fetchone()[0]
        return version

    def _migrate(self, version: int) -> None:
        encrypted_here = False
        for target in range(version + 1, SCHEMA_VERSION + 1):
            with self._write():
                current = self._user_version()  # another process may have migrated meanwhile
                if current > SCHEMA_VERSION:
                    raise NewerSchemaError(self.path, current, SCHEMA_VERSION)
                if current >= target:
                    continue
                if target == ENCRYPTED_SINCE:
                    encrypted_here = self._count("SELECT count(*) FROM cards") > 0
                MIGRATIONS[target - 1](self._db, self._cipher)
                self._db.execute(f"PRAGMA user_version = {target:d}")
            log.info("history %s migrated to schema %d", self.path, target)
        if encrypted_here:
            self._scrub_freed_pages()

    def _count(self, sql: str) -> int:
        count: int = self._db.execute(sql).fetchone()[0]
        return count

    def _scrub_freed_pages(self) -> None:
        """After encrypting the codes: rebuild the file (VACUUM) and empty the WAL, so that no
        page that held a plaintext code is left in the history's files.

        The migration already zeroed the freed pages (``secure_delete``); this also shrinks the
        file. Another connection reading at this moment can delay the WAL truncation (it then
        happens at a later checkpoint): said in the log, not an error.
        """
        conn = self._db.conn
        try:
            conn.execute("VACUUM")
            busy = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
        except sqlite3.Error as exc:
            log.warning("history %s: VACUUM after encrypting the codes failed: %s", self.path, exc)
            return
        if busy:
            log.warning(
                "history %s: the WAL could not be truncated now (another reader); SQLite "
                "checkpoints it later",
                self.path,
            )
        log.info("history %s: card codes encrypted; file rebuilt, WAL truncated", self.path)

    def _bind_key(self) -> None:
        """Check that the cipher is this history's key, recording its fingerprint the first
        time (in its own transaction, before any card can be written with it)."""
        cipher = self._cipher
        if cipher is None:
            return
        stored_id = self.get_setting(HISTORY_ID_SETTING)
        if cipher.history_id is not None and stored_id != cipher.history_id:
            raise KeyMismatchError(
                f"The key given for the history {self.path} belongs to another history "
                f"(key for {cipher.history_id}, file is {stored_id}). If another Walleo "
                "Desktop created or upgraded this history at the same moment, start again."
            )
        check = self.get_setting(KEY_CHECK_SETTING)
        if check is None:

            def body() -> None:
                self._db.execute(
                    "INSERT OR IGNORE INTO settings (key, value) VALUES (?, ?)",
                    [KEY_CHECK_SETTING, dump_json(cipher.key_check)],
                )

            self._transaction(body)
            check = self.get_setting(KEY_CHECK_SETTING)
        if check != cipher.key_check:
            raise KeyMismatchError(
                f"The key given for the history {self.path} is not the key its card codes are "
                "encrypted with, so they cannot be read. Nothing was changed."
            )

    @property
    def history_id(self) -> str | None:
        """The random id of this history file (names its key in the OS keyring)."""
        value = self.get_setting(HISTORY_ID_SETTING)
        return value if isinstance(value, str) else None

    # -- reading helpers ----------------------------------------------------------------------

    def _select_pulls(self, where: str, params: Sequence[Any] = ()) -> list[PullRecord]:
        sql = f"SELECT {pull_select()} FROM pulls {where}"  # noqa: S608
        return [pull_from_row(row) for row in self._db.query(sql, list(params))]

    def _get_pull(self, pull_id: int) -> PullRecord:
        found = self._select_pulls("WHERE id = ?", [pull_id])
        if not found:
            raise NotFoundError(f"There is no pull #{pull_id} in the history.")
        return found[0]

    def _insert(self, table: str, row: dict[str, Any]) -> int | None:
        """INSERT one row (``table`` and the keys are this module's constants); its rowid."""
        columns = ", ".join(row)
        marks = ", ".join(":" + column for column in row)
        sql = f"INSERT INTO {table} ({columns}) VALUES ({marks})"  # noqa: S608
        return self._db.execute(sql, row).lastrowid

    def _insert_event(
        self,
        pull_id: int | None,
        kind: str,
        detail: Mapping[str, Any] | None,
        at: datetime,
    ) -> None:
        if not kind:
            raise ValueError("an event needs a kind")
        clean = _scrub(dict(detail or {}))
        row = {"pull_id": pull_id, "at": to_db_time(at), "kind": kind, "detail": dump_json(clean)}
        self._insert("events", row)

    # -- journal ------------------------------------------------------------------------------

    def add_pulls(self, pulls: Sequence[NewPull]) -> list[PullRecord]:
        """Journal ``pulls`` (state ``queued``), each with a ``journaled`` event: all or none.

        Raises ``StoreError`` (nothing journaled) if a request id is already in the history,
        twice in ``pulls``, or ``retry_of`` names no pull.
        """
        if not pulls:
            return []
        now = utcnow()
        rows = [_intent_row(pull, to_db_time(now)) for pull in pulls]

        def body() -> list[PullRecord]:
            ids: list[int] = []
            for pull, row in zip(pulls, rows, strict=True):
                if pull.retry_of is not None:
                    self._check_retry(pull.retry_of)
                try:
                    pull_id = self._insert("pulls", row)
                except sqlite3.IntegrityError as exc:
                    if "request_id" in str(exc):
                        reason = f"request id {pull.request_id!r} is already in the history"
                    else:
                        reason = f"pull {pull.request_id!r} is invalid ({exc})"
                    raise StoreError(
                        f"Cannot journal the pulls: {reason}. Nothing was journaled."
                    ) from exc
                if pull_id is None:  # pragma: no cover - an INSERT always sets lastrowid
                    raise StoreError("SQLite did not return the new pull's id")
                detail = {
                    "request_id": pull.request_id,
                    "gift_card_code": pull.gift_card_code,
                    "amount": pull.amount,
                    "currency": pull.currency,
                }
                if pull.retry_of is not None:
                    detail["retry_of"] = pull.retry_of
                self._insert_event(pull_id, "journaled", detail, now)
                ids.append(pull_id)
            return self.pulls(ids)

        return self._transaction(body)

    def _check_retry(self, failed_id: int) -> None:
        """A retry is journaled only for a pull that failed and has no retry yet (the same rule
        as the ``pulls_one_retry`` trigger, said here with the retry's id)."""
        found = self._select_pulls("WHERE id = ?", [failed_id])
        if not found:
            raise StoreError(
                f"Cannot journal a retry of pull #{failed_id}: there is no such pull. "
                "Nothing was journaled."
            )
        failed = found[0]
        if failed.state not in _FAILED:
            raise StoreError(
                f"Pull #{failed_id} has not failed ({failed.state.label}): only a pull that "
                "ended in error or was rejected can be retried. Nothing was journaled."
            )
        row = self._db.execute(
            "SELECT id FROM pulls WHERE retry_of = ? ORDER BY id LIMIT 1", [failed_id]
        ).fetchone()
        if row is not None:
            raise AlreadyRetriedError(failed_id, row[0])

    def get_pull(self, pull_id: int) -> PullRecord:
        """The pull ``pull_id``; ``NotFoundError`` (a ``StoreError`` and ``KeyError``) if none."""
        return self._get_pull(pull_id)

    def find_pull(self, request_id: str) -> PullRecord | None:
        found = self._select_pulls("WHERE request_id = ?", [request_id])
        return found[0] if found else None

    def update_pull(
        self,
        pull_id: int,
        *,
        event: str | None = None,
        detail: Mapping[str, Any] | None = None,
        **fields: Any,
    ) -> PullRecord:
        """Change a pull's progress fields and, when ``event`` is given, log it: one transaction.

        ``fields`` are PullRecord field names: state, overdue, sent_at, finished_at,
        next_check_at, attempts, error_code, error_message, walleo_id, walleo_status, card_id,
        note, reference. Enums, datetimes and bools are converted; ``None`` clears a text or
        time field. The intent (amount, gift card, request id, ...) cannot change:
        ``ValueError``, like an unknown field. ``updated_at`` is set to now. When the state
        changes, the event detail also gets ``from_state`` and ``to_state``.
        """
        values = _pull_updates(fields)
        now = utcnow()
        values["updated_at"] = to_db_time(now)
        assignments = ", ".join(f"{column} = :{column}" for column in values)

        def body() -> PullRecord:
            before = self._get_pull(pull_id)
            self._db.execute(
                f"UPDATE pulls SET {assignments} WHERE id = :pull_id_",  # noqa: S608
                {**values, "pull_id_": pull_id},
            )
            if event is not None:
                event_detail = dict(detail or {})
                if "state" in values and values["state"] != before.state.value:
                    event_detail.setdefault("from_state", before.state.value)
                    event_detail.setdefault("to_state", values["state"])
                self._insert_event(pull_id, event, event_detail, now)
            return self._get_pull(pull_id)

        return self._transaction(body)

    def record_card(
        self,
        pull_id: int,
        card: CardRecord,
        *,
        detail: Mapping[str, Any] | None = None,
        walleo_id: str | None = None,
        walleo_status: str | None = None,
        attempts: int | None = None,
    ) -> PullRecord:
        """Store the issued card and mark its pull ``success``, with a ``success`` event.

        One transaction, which also records Walleo's pull id and status text and the attempt
        count when given (the answer that carried the card). Idempotent: recording the same card
        again changes nothing and logs no second event. A card already stored for another pull,
        or a second card for this pull, is refused (``StoreError``). The event names the card by
        id; neither its code nor its PIN ever reaches the event log (they are redacted from
        ``detail`` too).
        """
        if card.pull_id != pull_id:
            raise ValueError(f"card {card.card_id} belongs to pull #{card.pull_id}, not #{pull_id}")
        row = cardcodes.card_to_row(card, self._cipher)  # encrypted; KeyUnavailableError
        now = utcnow()

        def body() -> PullRecord:
            before = self._get_pull(pull_id)
            existing = self._db.execute(
                "SELECT pull_id FROM cards WHERE card_id = ?", [card.card_id]
            ).fetchone()
            if existing is not None:
                if existing[0] != pull_id:
                    raise CardConflictError(
                        f"Card {card.card_id} is already recorded for pull #{existing[0]}."
                    )
                if before.state is PullState.SUCCESS and before.card_id == card.card_id:
                    return before
            else:
                try:
                    self._insert("cards", row)
                except sqlite3.IntegrityError as exc:
                    raise CardConflictError(
                        f"Cannot record card {card.card_id} for pull #{pull_id}: the pull "
                        f"already has another card ({exc})."
                    ) from exc
            self._db.execute(
                "UPDATE pulls SET state = ?, card_id = ?, finished_at = ?, error_code = '', "
                "error_message = '', overdue = 0, next_check_at = NULL, updated_at = ?, "
                "walleo_id = COALESCE(?, walleo_id), walleo_status = COALESCE(?, walleo_status), "
                "attempts = COALESCE(?, attempts) WHERE id = ?",
                [
                    PullState.SUCCESS.value,
                    card.card_id,
                    to_db_time(now),
                    to_db_time(now),
                    walleo_id or None,
                    walleo_status,
                    attempts,
                    pull_id,
                ],
            )
            secrets = tuple(s for s in (card.code, card.pin_code) if s)
            event_detail = {
                **_scrub(dict(detail or {}), secrets),
                "card_id": card.card_id,
                "amount": card.amount,
                "expire_at": card.expire_at,
                "from_state": before.state.value,
            }
            self._insert_event(pull_id, "success", event_detail, now)
            return self._get_pull(pull_id)

        return self._transaction(body)

    def add_event(
        self, pull_id: int | None, kind: str, detail: Mapping[str, Any] | None = None
    ) -> None:
        """Append an event (``pull_id`` None: an app-wide one). Events are never changed.

        ``detail`` is JSON (datetimes become UTC text). It must NEVER hold a card code, a PIN
        or a credential (API key, shared key, signature, Authorization header): the event log
        is shown, exported and attached to bug reports. Keys named like a secret (``pin``,
        ``pin_code``, ``api_key``, ``shared_key``, ``signature``, ...) are redacted as a last
        line of defence, with a warning in the log.
        """

        def body() -> None:
            self._insert_event(pull_id, kind, detail, utcnow())

        self._transaction(body)

    def events(self, pull_id: int | None = None, *, limit: int | None = None) -> list[EventRecord]:
        """Events of one pull (or of the whole history), oldest first; with ``limit``, the
        ``limit`` most recent ones, still oldest first."""
        where, params = ("WHERE pull_id = ?", [pull_id]) if pull_id is not None else ("", [])
        columns = "id, pull_id, at, kind, detail"
        sql = f"SELECT {columns} FROM events {where} ORDER BY id DESC LIMIT ?"  # noqa: S608
        rows = list(self._db.query(sql, [*params, -1 if limit is None else limit]))
        return [
            EventRecord(
                id=row["id"],
                pull_id=row["pull_id"],
                at=required_time(row["at"]),
                kind=row["kind"],
                detail=load_json(row["detail"], {}),
            )
            for row in reversed(rows)
        ]

    def unfinished_pulls(self) -> list[PullRecord]:
        """Pulls not in a final state, oldest first (what the engine resumes at start-up)."""
        return self._select_pulls(f"WHERE {UNFINISHED_WHERE} ORDER BY created_at, id")

    def pulls(self, ids: Sequence[int]) -> list[PullRecord]:
        """The pulls with these ids, in the order given; unknown ids are skipped."""
        found: dict[int, PullRecord] = {}
        for chunk in _chunks(ids):
            marks = ", ".join("?" for _ in chunk)
            for pull in self._select_pulls(f"WHERE id IN ({marks})", chunk):
                found[pull.id] = pull
        return [found[i] for i in ids if i in found]

    def recent_pulls(self, limit: int = 500) -> list[PullRecord]:
        """The ``limit`` newest pulls, newest first."""
        return self._select_pulls("ORDER BY created_at DESC, id DESC LIMIT ?", [limit])

    def retries_of(self, pull_id: int) -> list[PullRecord]:
        """Pulls made as retries of ``pull_id``, oldest first."""
        return self._select_pulls("WHERE retry_of = ? ORDER BY created_at, id", [pull_id])

    # -- cards --------------------------------------------------------------------------------

    def _card_where(self, where: str, params: Sequence[Any]) -> CardRecord | None:
        sql = f"SELECT {cardcodes.CARD_COLUMNS} FROM cards WHERE {where}"  # noqa: S608
        for row in self._db.query(sql, list(params)):
            return cardcodes.card_from_row(row, self._cipher)
        return None

    def pull_of_card(self, card_id: str) -> int | None:
        """The pull a card is recorded for (None: no such card), read without the key."""
        row = self._db.execute("SELECT pull_id FROM cards WHERE card_id = ?", [card_id]).fetchone()
        return None if row is None else int(row[0])

    def get_card(self, card_id: str) -> CardRecord | None:
        return self._card_where("card_id = ?", [card_id])

    def card_for_pull(self, pull_id: int) -> CardRecord | None:
        return self._card_where("pull_id = ?", [pull_id])

    def set_card_pdf_path(self, card_id: str, path: str) -> None:
        """Remember where the card's PDF was saved."""

        def body() -> None:
            cursor = self._db.execute(
                "UPDATE cards SET pdf_path = ? WHERE card_id = ?", [path, card_id]
            )
            if cursor.rowcount != 1:
                raise NotFoundError(f"There is no card {card_id} in the history.")

        self._transaction(body)

    # -- settings and catalog cache -----------------------------------------------------------

    def get_setting(self, key: str, default: Any = None) -> Any:
        """A small app setting (JSON value). Never a credential: those live in the keyring."""
        for row in self._db.query("SELECT value FROM settings WHERE key = ?", [key]):
            return load_json(row["value"], None)
        return default

    def set_setting(self, key: str, value: Any) -> None:
        text = dump_json(value)

        def body() -> None:
            self._db.execute(
                "INSERT INTO settings (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [key, text],
            )

        self._transaction(body)

    def save_catalog(self, profile: str, items: list[dict[str, Any]], fetched_at: datetime) -> None:
        """Cache a profile's gift-card catalog (the raw JSON objects), replacing the previous."""
        text = dump_json(items)

        def body() -> None:
            self._db.execute(
                "INSERT INTO catalog_cache (profile, fetched_at, items) VALUES (?, ?, ?) "
                "ON CONFLICT (profile) DO UPDATE SET fetched_at = excluded.fetched_at, "
                "items = excluded.items",
                [profile, to_db_time(fetched_at), text],
            )

        self._transaction(body)

    def load_catalog(self, profile: str) -> tuple[datetime, list[dict[str, Any]]] | None:
        sql = "SELECT fetched_at, items FROM catalog_cache WHERE profile = ?"
        for row in self._db.query(sql, [profile]):
            return required_time(row["fetched_at"]), load_json(row["items"], [])
        return None

    # -- history ------------------------------------------------------------------------------

    def history(
        self,
        flt: HistoryFilter,
        *,
        sort: str = "created_at",
        descending: bool = True,
        offset: int = 0,
        limit: int = 200,
        with_total: bool = False,
    ) -> HistoryPage:
        """One page of the pulls matching ``flt``, sorted by ``sort`` (see ``SORT_KEYS``).

        Ties are broken by pull id, so consecutive pages never skip nor repeat a row while the
        history does not change. ``with_total`` also counts every matching row.
        """
        if offset < 0 or limit < 1:
            raise ValueError("offset must be >= 0 and limit >= 1")
        order = order_sql(sort, descending)
        where, params = filter_sql(flt, self._cipher)
        # Pick the page's ids first, then fetch those rows: the sort then moves (key, id) pairs
        # instead of whole rows, 4x faster on 100k pulls for keys without an index.
        joined = "FROM pulls p LEFT JOIN cards c ON c.pull_id = p.id"
        page_ids = f"SELECT p.id {joined} {where} {order} LIMIT ? OFFSET ?"
        sql = (
            f"SELECT {pull_select('p')}, c.code_last4 AS card_code_last4, "
            f"c.expire_at AS card_expire_at {joined} WHERE p.id IN ({page_ids}) {order}"
        )
        rows = [
            HistoryRow(
                pull=pull_from_row(row),
                card_code_last4=row["card_code_last4"] or "",
                card_expire_at=from_db_time(row["card_expire_at"]),
            )
            for row in self._db.query(sql, [*params, limit, offset])
        ]
        total = self.count_history(flt) if with_total else None
        return HistoryPage(rows=rows, offset=offset, total=total)

    def iter_history(
        self,
        flt: HistoryFilter,
        *,
        sort: str = "created_at",
        descending: bool = True,
        with_codes: bool = False,
        batch: int = 2000,
    ) -> Generator[HistoryLine]:
        """Every pull matching ``flt``, in the order ``history()`` pages them, streamed.

        One SELECT read in batches of ``batch`` rows, so memory stays flat however long the
        history is, and the whole stream is one consistent snapshot. With ``with_codes``, each
        line with a card carries it (code and PIN, read through ``cardcodes``); otherwise no
        code ever leaves the database. Do not write through this ``Store`` until the iterator
        is exhausted or closed.

        Checked at the call, before anything is read: ``with_codes`` needs the history's key
        (``KeyUnavailableError``); a bad sort key is a ``ValueError``.
        """
        if with_codes and self._cipher is None:
            raise KeyUnavailableError()
        cipher = self._cipher
        order = order_sql(sort, descending)
        where, params = filter_sql(flt, cipher)
        card_select = ""
        if with_codes:
            card_select = ", " + ", ".join(f"c.{name} AS card_{name}" for name in _CARD_FIELDS)
        sql = (
            "SELECT p.id, p.created_at, p.agent, p.reference, p.note, p.gift_card_code, "  # noqa: S608
            "p.gift_card_name, p.amount, p.currency, p.cost_cents, p.state, p.request_id, "
            "p.card_id, coalesce(c.code_last4, ''), c.expire_at, p.error_code, p.error_message"
            f"{card_select} FROM pulls p LEFT JOIN cards c ON c.pull_id = p.id {where} {order}"
        )
        return self._stream_history(sql, params, cipher if with_codes else None, batch)

    def _stream_history(
        self, sql: str, params: list[Any], cipher: CardCipher | None, batch: int
    ) -> Generator[HistoryLine]:
        with_codes = cipher is not None
        cursor = self._db.execute(sql, params)
        try:
            while rows := cursor.fetchmany(batch):
                for row in rows:
                    card = None
                    if with_codes and row[17] is not None:
                        card = cardcodes.card_from_row(
                            dict(zip(_CARD_FIELDS, row[17:], strict=True)), cipher
                        )
                    yield HistoryLine(  # positional: a million keyword calls cost ~1 s
                        row[0],
                        required_time(row[1]),
                        row[2],
                        row[3],
                        row[4],
                        row[5],
                        row[6],
                        row[7],
                        row[8],
                        row[9],
                        PullState(row[10]),
                        row[11],
                        row[12],
                        row[13],
                        from_db_time(row[14]),
                        row[15],
                        row[16],
                        card,
                    )
        finally:
            cursor.close()

    def interrupt(self) -> None:
        """Abort the query this ``Store`` is running, if any (it raises ``sqlite3`` "interrupted"
        in the thread running it). The one method that may be called from another thread: a
        history view cancels a query whose filter the user has already changed."""
        self._db.conn.interrupt()

    def count_history(self, flt: HistoryFilter) -> int:
        where, params = filter_sql(flt, self._cipher)
        sql = f"SELECT count(*) FROM pulls p {where}"  # noqa: S608
        count: int = self._db.execute(sql, params).fetchone()[0]
        return count

    def totals(self, flt: HistoryFilter) -> Totals:
        """Counts and sums over the pulls matching ``flt`` (see ``Totals``)."""
        where, params = filter_sql(flt, self._cipher)
        sql = f"SELECT p.state, count(*) FROM pulls p {where} GROUP BY p.state"  # noqa: S608
        by_state = {PullState(state): n for state, n in self._db.execute(sql, params)}
        success = _where_and(where, "p.state = 'success'")
        sql = (
            "SELECT p.gift_card_code, max(p.gift_card_name), count(*), sum(p.amount), "  # noqa: S608
            f"sum(p.cost_cents) FROM pulls p {_SUCCESS_INDEX} {success} "
            "GROUP BY p.gift_card_code ORDER BY p.gift_card_code"
        )
        brands = self._db.execute(sql, params).fetchall()
        return Totals(
            count=sum(row[2] for row in brands),
            face_value=sum(row[3] for row in brands),
            cost=sum(row[4] for row in brands) / 100,
            per_brand=[
                BrandTotal(code, name, n, face, cents / 100)
                for code, name, n, face, cents in brands
            ],
            failed=sum(n for state, n in by_state.items() if state in _FAILED),
            in_doubt=by_state.get(PullState.IN_DOUBT, 0),
            pending=sum(n for state, n in by_state.items() if state in _PENDING),
        )

    def daily_totals(self, flt: HistoryFilter) -> list[tuple[str, str, int]]:
        """(UTC day ``YYYY-MM-DD`` of creation, gift card code, face value issued), by day then
        code, over the successful pulls matching ``flt``."""
        where, params = filter_sql(flt, self._cipher)
        success = _where_and(where, "p.state = 'success'")
        sql = (
            "SELECT substr(p.created_at, 1, 10) AS day, p.gift_card_code, sum(p.amount) "  # noqa: S608
            f"FROM pulls p {_SUCCESS_INDEX} {success} "
            "GROUP BY day, p.gift_card_code ORDER BY day, p.gift_card_code"
        )
        rows = self._db.execute(sql, params).fetchall()
        return [(day, code, face) for day, code, face in rows]

    def distinct_values(self, column: str) -> list[str]:
        """The values present in ``column`` (gift_card_code, agent or state), sorted, for filter
        pickers. Empty values are left out."""
        if column not in DISTINCT_COLUMNS:
            raise ValueError(
                f"no value list for {column!r}; choose one of {sorted(DISTINCT_COLUMNS)}"
            )
        # A skip scan: one index seek per distinct value (each column leads an index), instead
        # of reading a million index entries for a dozen values.
        sql = (
            f"WITH RECURSIVE v(x) AS (SELECT min({column}) FROM pulls WHERE {column} > '' "  # noqa: S608
            f"UNION ALL SELECT (SELECT min({column}) FROM pulls WHERE {column} > v.x) "
            "FROM v WHERE v.x IS NOT NULL) SELECT x FROM v WHERE x IS NOT NULL"
        )
        return [row[0] for row in self._db.execute(sql)]
