"""The SQLite backend: one history file, opened with sqlite-utils, behind ``seam.Conn``.

Opening (``SqliteBackend.open``) checks the file without writing to it (a newer schema, a
foreign or damaged file, an empty one are refused and left exactly as they are), creates a new
history whole under a temporary name and links it into place, brings the schema up to date
(``schema.MIGRATIONS``, with sqlite-utils, each in one ``BEGIN IMMEDIATE`` transaction with its
``user_version``) and binds the history's key. sqlite-utils is imported only when the schema
changes: a history already up to date opens with ``sqlite3`` alone. The integrity check
(``PRAGMA quick_check``, over a second at a million pulls) is not part of opening: it runs when
the last use ended in a crash (``needs_check``), in the background, after the window has
painted.

Every write is one ``BEGIN IMMEDIATE`` transaction (``SqliteConn.write``): the write lock is
taken up front, where the busy timeout applies, so writers of several processes queue instead
of failing (stack-notes §5). WAL mode: readers never block the writer, nor the reverse.
``synchronous=FULL``: a committed intent survives a power cut before its POST goes out.

Only this package imports ``sqlite3`` and ``sqlite_utils`` (an import-linter contract).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from walleo_desktop.store import records
from walleo_desktop.store.core import HISTORY_ID_SETTING, KEY_CHECK_SETTING, StoreCore
from walleo_desktop.store.crypto import Cipher
from walleo_desktop.store.dialect import SQLITE, Dialect
from walleo_desktop.store.errors import (
    ConstraintError,
    CorruptStoreError,
    NewerSchemaError,
    StoreError,
)
from walleo_desktop.store.rows import load_json
from walleo_desktop.store.rules import Owner
from walleo_desktop.store.seam import Params
from walleo_desktop.store.sqlite.schema import (
    ENCRYPTED_SINCE,
    MIGRATIONS,
    SCHEMA_VERSION,
    SHARED_SNAPSHOTS_SINCE,
)

if TYPE_CHECKING:
    import sqlite_utils

__all__ = [
    "BUSY_TIMEOUT_S",
    "WAL_SIZE_LIMIT",
    "KeyInfo",
    "SqliteBackend",
    "SqliteConn",
    "open_core",
]

log = logging.getLogger("walleo_desktop.store.sqlite")

# How long a writer waits for another writer's lock before giving up (sqlite3 busy timeout).
BUSY_TIMEOUT_S = 30.0
# The WAL is kept at most this big after a checkpoint; a bigger leftover WAL (a disk that was
# full, a crash) is checkpointed and truncated when the history is opened.
WAL_SIZE_LIMIT = 4 * 1024 * 1024


class KeyInfo(NamedTuple):
    """What a history file says about its key, read without the key (``key_info``).

    ``history_id`` names the key (None: the file does not exist yet, or predates encryption);
    ``key_check`` is the fingerprint of the key its codes are encrypted with (None: no key was
    bound yet, so a new key may be made for it).
    """

    history_id: str | None
    key_check: str | None


# -- what went wrong, in words ------------------------------------------------------------------


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


def _database_error(exc: sqlite3.DatabaseError, path: Path) -> StoreError:
    if exc.sqlite_errorcode in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB):
        return CorruptStoreError(path, f"it is damaged or not a database ({exc})")
    return StoreError(f"Cannot read the history file {path}: {_why(exc, path)}.")


def _translate(exc: sqlite3.Error, path: Path, writing: bool) -> StoreError:
    if isinstance(exc, sqlite3.IntegrityError):
        return ConstraintError(
            f"The history refused the change ({exc}). Nothing was changed.", str(exc)
        )
    if isinstance(exc, sqlite3.DatabaseError) and exc.sqlite_errorcode in (
        sqlite3.SQLITE_CORRUPT,
        sqlite3.SQLITE_NOTADB,
    ):
        return CorruptStoreError(path, f"it is damaged ({exc})")
    if isinstance(exc, sqlite3.OperationalError) and "interrupted" in str(exc):
        return StoreError("The query was stopped.")
    if writing:
        return StoreError(
            f"Cannot write to the history file {path}: {_why(exc, path)}. Nothing was changed."
        )
    return StoreError(f"Cannot read the history file {path}: {_why(exc, path)}.")


# -- files -----------------------------------------------------------------------------------


def _create_private_file(path: Path) -> None:
    """Create an empty database file readable by its owner only (SQLite would use 0644)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    os.close(fd)


def _refuse_empty(path: Path) -> None:
    """A history file of 0 bytes is damaged, never "new": a new history is created whole under
    a temporary name and linked into place (``_create``), so an empty file means what it held
    is gone (a truncated copy, a failed disk). Opening it would silently start an empty history
    in its place and every unfinished pull it held would vanish."""
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
            tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
            if version == 0 and tables:
                raise CorruptStoreError(path, "it is an SQLite database, but not a Walleo history")
        finally:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
    except sqlite3.DatabaseError as exc:
        raise _database_error(exc, path) from exc
    return version


def _casefold(value: object) -> str | None:
    return value.casefold() if isinstance(value, str) else None


def _set_wal(conn: sqlite3.Connection) -> str:
    """Switch to WAL; the journal mode in force.

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


def _configure(conn: sqlite3.Connection, *, wal: bool = True) -> None:
    conn.setconfig(sqlite3.SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, False)
    if wal:
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
    # What sqlite-utils sets on every connection it wraps, set here for every connection:
    # sqlite-utils itself is imported only when the schema changes (``SqliteConn.db``).
    conn.execute("PRAGMA recursive_triggers=ON")
    conn.create_function("wd_casefold", 1, _casefold, deterministic=True)


# -- one connection --------------------------------------------------------------------------


class SqliteConn:
    """``seam.Conn`` over one ``sqlite3`` connection; sqlite-utils (plugins off) over it for
    the schema and its migrations (``db``)."""

    def __init__(self, raw: sqlite3.Connection, path: Path) -> None:
        self._raw = raw
        self._db: sqlite_utils.Database | None = None
        self.path = path
        self._depth = 0

    @property
    def db(self) -> sqlite_utils.Database:
        """sqlite-utils over this connection, made (and imported) when first asked: opening a
        history whose schema is up to date never needs it, and importing it costs the first
        paint a fifth of a second (it imports numpy when numpy is installed, as it is for the
        history's chart)."""
        if self._db is None:
            import sqlite_utils

            self._db = sqlite_utils.Database(self._raw, execute_plugins=False)
        return self._db

    @property
    def dialect(self) -> Dialect:
        return SQLITE

    @property
    def label(self) -> str:
        return str(self.path)

    def now(self) -> datetime:
        return records.utcnow()  # looked up each time: tests set the store's clock there

    def _run(self, sql: str, params: Params | None) -> sqlite3.Cursor:
        try:
            return self._raw.execute(sql, params or {})
        except sqlite3.Error as exc:
            raise _translate(exc, self.path, self._depth > 0) from exc

    def query(self, sql: str, params: Params | None = None) -> list[dict[str, Any]]:
        cursor = self._run(sql, params)
        try:
            names = [d[0] for d in cursor.description or ()]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        except sqlite3.Error as exc:
            raise _translate(exc, self.path, self._depth > 0) from exc

    def rows(self, sql: str, params: Params | None = None) -> list[tuple[Any, ...]]:
        cursor = self._run(sql, params)
        try:
            return cursor.fetchall()
        except sqlite3.Error as exc:
            raise _translate(exc, self.path, self._depth > 0) from exc

    def one(self, sql: str, params: Params | None = None) -> dict[str, Any] | None:
        found = self.query(sql, params)
        return found[0] if found else None

    def value(self, sql: str, params: Params | None = None) -> Any:
        found = self.rows(sql, params)
        return found[0][0] if found else None

    def execute(self, sql: str, params: Params | None = None) -> int:
        return self._run(sql, params).rowcount

    def stream(self, sql: str, params: Params, batch: int) -> Iterator[tuple[Any, ...]]:
        def rows() -> Iterator[tuple[Any, ...]]:
            cursor = self._run(sql, params)
            try:
                while chunk := cursor.fetchmany(batch):
                    yield from chunk
            except sqlite3.Error as exc:
                raise _translate(exc, self.path, False) from exc
            finally:
                cursor.close()

        return rows()

    def list_param(self, values: list[int] | list[str]) -> Any:
        return json.dumps(values)

    def write[T](self, body: Callable[[], T]) -> T:
        """``body()`` in one ``BEGIN IMMEDIATE`` transaction (nested calls join the outer one).

        A write refused because the disk is full is tried once more after giving back the
        space the WAL holds (a checkpoint that truncates it): on a nearly full disk the WAL
        cannot grow to its automatic checkpoint, and every later write would fail while the
        space it needs sits in the WAL."""
        if self._depth:
            return body()
        try:
            return self._transaction(body)
        except StoreError as exc:
            if not _disk_full(exc.__cause__, self.path) or not self.reclaim_wal():
                raise
        return self._transaction(body)

    def _transaction[T](self, body: Callable[[], T]) -> T:
        raw = self._raw
        try:
            raw.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise StoreError(
                f"Cannot write to the history file {self.path}: {_why(exc, self.path)}. "
                "Nothing was changed."
            ) from exc
        self._depth += 1
        try:
            result = body()
            raw.execute("COMMIT")
            return result
        except BaseException as exc:
            if raw.in_transaction:  # some errors end the transaction themselves
                try:
                    raw.execute("ROLLBACK")
                except sqlite3.Error:
                    log.exception("ROLLBACK failed after %r", exc)
            if isinstance(exc, sqlite3.Error):
                raise _translate(exc, self.path, True) from exc
            raise
        finally:
            self._depth -= 1

    def read[T](self, body: Callable[[], T]) -> T:
        if self._depth or self._raw.in_transaction:
            return body()
        try:
            self._raw.execute("BEGIN")
        except sqlite3.Error as exc:
            raise _translate(exc, self.path, False) from exc
        self._depth += 1
        try:
            return body()
        finally:
            self._depth -= 1
            with contextlib.suppress(sqlite3.Error):
                self._raw.execute("COMMIT")

    def interrupt(self) -> None:
        self._raw.interrupt()

    def reclaim_wal(self) -> bool:
        """Checkpoint the WAL into the file and truncate it; True if that happened in full."""
        try:
            busy: int = self._raw.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
        except sqlite3.Error as exc:
            log.info("history %s: reclaiming the WAL failed: %s", self.path, exc)
            return False
        log.info("history %s: WAL checkpointed and truncated (busy=%s)", self.path, busy)
        return busy == 0

    def close(self) -> None:
        self._raw.close()


def _connect(path: Path) -> sqlite3.Connection:
    try:
        return sqlite3.connect(
            path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
        )
    except sqlite3.Error as exc:
        raise StoreError(f"Cannot open the history file {path}: {_why(exc, path)}.") from exc


# -- the backend -----------------------------------------------------------------------------


class SqliteBackend:
    """A history file. ``open`` it (creating it when new); ``connect`` gives more connections
    for other threads; ``close`` ends this process's use of it."""

    def __init__(self, path: Path, main: SqliteConn, cipher: Cipher | None) -> None:
        self.path = path
        self.main = main
        self._cipher = cipher
        self._owner = Owner.new()
        self._needs_check = False
        self._closed = False
        self._core: StoreCore | None = None

    @property
    def label(self) -> str:
        return str(self.path)

    @property
    def cipher(self) -> Cipher | None:
        return self._cipher

    @property
    def core(self) -> StoreCore:
        """The rules over this backend's own connection (for the thread that opened it:
        scripts, the CLI's offline commands, tests)."""
        if self._core is None:
            self._core = StoreCore(self.main, self._cipher, on_close=self.close)
        return self._core

    def __enter__(self) -> SqliteBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

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
    def open(cls, path: Path, *, cipher: Cipher | None = None) -> SqliteBackend:
        """Open (or create) the history at ``path`` and bring its schema up to date.

        ``cipher`` is the history's key (``engine.datakey`` fetches it from the OS keyring).
        Without it, card codes can be neither read nor recorded, and a history written before
        encryption cannot be migrated (``KeyUnavailableError``, the file left as it was). A
        key that is not this history's is refused (``KeyMismatchError``).

        Raises ``NewerSchemaError`` for a file from a newer app version and
        ``CorruptStoreError`` for a damaged, foreign or empty file; neither file is modified.
        """
        path = Path(path)
        try:
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            if not path.exists():
                cls._create(path, cipher)
            _refuse_empty(path)
        except OSError as exc:
            raise StoreError(f"Cannot open the history file {path}: {_why(exc, path)}.") from exc
        raw = _connect(path)
        try:
            version = _inspect(raw, path)
            _make_private(path)
            _configure(raw)
            conn = SqliteConn(raw, path)
            backend = cls(path, conn, cipher)
            backend._reclaim_leftover_wal()
            rebuild = _migrate(conn, version, cipher)
            StoreCore(conn, cipher).bind_key()
            backend._register_opener()
            if rebuild:  # last: the WAL is left empty
                _rebuild_file(conn, rebuild)
        except sqlite3.Error as exc:
            raw.close()
            raise StoreError(f"Cannot open the history file {path}: {_why(exc, path)}.") from exc
        except BaseException:
            raw.close()
            raise
        return backend

    @classmethod
    def _create(cls, path: Path, cipher: Cipher | None) -> None:
        """Create a new history at ``path`` whole: schema, history id and key fingerprint are
        written to a private temporary file, which is then linked into place in one step.
        Another process creating the same history at the same moment keeps its own file (the
        link fails here, and the temporary one is discarded), so ``path`` is never an empty or
        half-made file and never two histories."""
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{time.monotonic_ns()}.new")
        _create_private_file(tmp)
        try:
            raw = _connect(tmp)
            try:
                _configure(raw, wal=False)
                conn = SqliteConn(raw, tmp)
                _migrate(conn, 0, cipher)
                StoreCore(conn, cipher).bind_key()
            finally:
                raw.close()
            with contextlib.suppress(FileExistsError):
                os.link(tmp, path)
            _sync_dir(path.parent)
        finally:
            tmp.unlink(missing_ok=True)
            for suffix in ("-journal", "-wal", "-shm"):
                tmp.with_name(tmp.name + suffix).unlink(missing_ok=True)

    def connect(self) -> SqliteConn:
        """Another connection to this history, for another thread. Skips what ``open``
        already did for this file (the checks, the migrations): it starts in milliseconds."""
        raw = _connect(self.path)
        try:
            _configure(raw)
        except sqlite3.Error as exc:
            raw.close()
            raise StoreError(
                f"Cannot open the history file {self.path}: {_why(exc, self.path)}."
            ) from exc
        return SqliteConn(raw, self.path)

    # -- crash detection and the integrity check ----------------------------------------------

    def _register_opener(self) -> None:
        """Note that this process has the file open; notice openers that died without closing
        it (a crash, a kill): then the last use ended uncleanly and ``needs_check`` is True."""
        conn = self.main
        try:
            owners = [row[0] for row in conn.rows("SELECT owner FROM openers")]
            dead = [o for o in owners if Owner.is_dead_here(o)]

            def body() -> None:
                for owner in dead:
                    conn.execute("DELETE FROM openers WHERE owner = :o", {"o": owner})
                conn.execute(
                    "INSERT INTO openers (owner, opened_at) VALUES (:o, :at) "
                    "ON CONFLICT (owner) DO NOTHING",
                    {"o": str(self._owner), "at": records.to_db_time(records.utcnow())},
                )

            conn.write(body)
        except StoreError as exc:  # a read-only file: it can be read, nothing to record
            log.info("history %s: cannot note this process as an opener: %s", self.path, exc)
            return
        self._needs_check = bool(dead)
        if dead:
            log.warning(
                "history %s was not closed by its last user (a crash?): it will be checked",
                self.path,
            )

    def needs_check(self) -> bool:
        return self._needs_check

    def check_integrity(self) -> str:
        """'' when ``PRAGMA quick_check`` finds the file sound, else what it found."""
        conn = self.connect()
        try:
            problems = [row[0] for row in conn.rows("PRAGMA quick_check(5)")]
        finally:
            conn.close()
        self._needs_check = False
        return "" if problems == ["ok"] else "; ".join(str(p) for p in problems)

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
        raw = self.main._raw
        raw.execute("PRAGMA busy_timeout=200")
        try:
            self.main.reclaim_wal()
        finally:
            raw.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000):d}")

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(StoreError):
            self.main.write(
                lambda: self.main.execute(
                    "DELETE FROM openers WHERE owner = :o", {"o": str(self._owner)}
                )
            )
        self.main.close()


def open_core(path: Path, *, cipher: Cipher | None = None) -> StoreCore:
    """The history at ``path`` for the calling thread (scripts, tests): ``close()`` it (or use
    ``with``), which closes the file too."""
    return SqliteBackend.open(path, cipher=cipher).core


# -- schema ----------------------------------------------------------------------------------


def _migrate(conn: SqliteConn, version: int, cipher: Cipher | None) -> str:
    """Apply the missing migrations, each in its own transaction with its ``user_version``.
    Why the file should be rebuilt now ('' for no reason): this run encrypted existing cards
    (no page may keep a plaintext code), or moved the pulls' catalog snapshots out of their
    rows (most of the file is free pages)."""
    rebuild = ""
    for target in range(version + 1, SCHEMA_VERSION + 1):

        def step(target: int = target) -> str:
            current: int = conn.value("PRAGMA user_version")
            if current > SCHEMA_VERSION:
                raise NewerSchemaError(conn.path, current, SCHEMA_VERSION)
            if current >= target:  # another process migrated meanwhile
                return ""
            why = ""
            if target == ENCRYPTED_SINCE and conn.value("SELECT EXISTS (SELECT 1 FROM cards)"):
                why = "card codes encrypted"
            elif target == SHARED_SNAPSHOTS_SINCE and conn.value(
                "SELECT EXISTS (SELECT 1 FROM pulls)"
            ):
                why = "catalog snapshots shared"
            MIGRATIONS[target - 1](conn.db, cipher)
            conn.execute(f"PRAGMA user_version = {target:d}")
            return why

        started = time.monotonic()
        why = conn.write(step)
        log.info(
            "history %s migrated to schema %d in %.1f s",
            conn.path,
            target,
            time.monotonic() - started,
        )
        rebuild = "; ".join(r for r in (rebuild, why) if r)
    return rebuild


def _rebuild_file(conn: SqliteConn, why: str) -> None:
    """After a migration that rewrote most rows: rebuild the file (VACUUM) and empty the WAL,
    so that the space freed goes back to the disk and no freed page keeps what it held (a
    plaintext code before encryption)."""
    raw = conn._raw
    started = time.monotonic()
    try:
        raw.execute("VACUUM")
        busy = raw.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
    except sqlite3.Error as exc:
        log.warning("history %s: VACUUM after the upgrade (%s) failed: %s", conn.path, why, exc)
        return
    if busy:
        log.warning(
            "history %s: the WAL could not be truncated now (another reader); SQLite "
            "checkpoints it later",
            conn.path,
        )
    log.info(
        "history %s: %s; file rebuilt in %.1f s, WAL truncated",
        conn.path,
        why,
        time.monotonic() - started,
    )
