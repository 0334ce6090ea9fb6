"""The PostgreSQL backend (team mode): one team history on a PostgreSQL server, psycopg 3.

Each desktop logs in as its member's own role (never the owner: owners bypass row-level
security), over TLS that verifies the server (``sslmode=verify-full``) unless the server is this
computer. ``PostgresConn`` is ``seam.Conn`` over one psycopg connection:

- autocommit outside ``write``/``read``, which wrap their body in one transaction; a
  serialisation failure or deadlock runs the body again (it re-reads what it needs), a lost
  connection is reopened on the next call and the body is *not* repeated (a COMMIT whose answer
  was lost is in doubt: the engine re-reads the pull);
- ``now()`` is the server's clock (measured once per connection): leases must mean the same
  instant on every desktop;
- ``interrupt()`` is psycopg's ``cancel_safe()`` (a new filter stops the previous query);
- ``stream()`` reads through a server-side cursor, ``itersize`` rows at a time.

``changes`` LISTENs on ``walleo_changes``: the database sends one notification per transaction
that changed pulls (a statement trigger), a doorbell only; the truth is ``change_seq``.

Only this package imports ``psycopg`` (an import-linter contract).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import psycopg
import psycopg.errors
from psycopg import sql as pgsql

from walleo_desktop.store import records
from walleo_desktop.store.crypto import Cipher
from walleo_desktop.store.dialect import POSTGRES, Dialect
from walleo_desktop.store.errors import ConstraintError, StoreError
from walleo_desktop.store.postgres import schema as pg_schema
from walleo_desktop.store.postgres.schema import SCHEMA
from walleo_desktop.store.seam import Params

__all__ = [
    "CONNECT_TIMEOUT",
    "AuthenticationError",
    "ConnectionLostError",
    "PermissionRefusedError",
    "PostgresBackend",
    "PostgresConn",
    "SchemaMismatchError",
    "describe_server",
]

log = logging.getLogger("walleo_desktop.store.postgres")

CONNECT_TIMEOUT = 10  # seconds to reach the server
_RETRIES = 5  # serialisation failures / deadlocks run a transaction again at most this often


class ConnectionLostError(StoreError):
    """The team database cannot be reached (down, network, timeout). Nothing is lost: what was
    committed stays, and the pulls resume when it is back."""


class AuthenticationError(StoreError):
    """The server refused this login's password, or the login is closed (a removed member)."""


def login_problem(text: str, label: str, user: str) -> AuthenticationError | None:
    """The sentence for a refused login, from libpq's message (None: not a refused login)."""
    if "is not permitted to log in" in text:
        return AuthenticationError(
            f"The server {label} refused this login: {user} was closed by a team admin "
            "(removed from the team). Ask an admin for a new invite if you should still be in it."
        )
    if "password authentication failed" in text:
        return AuthenticationError(
            f"The server {label} refused this login ({user}): a wrong password, or an invite "
            "used already or older than 48 hours."
        )
    return None


def conn_user(url: str) -> str:
    """The login a connection URL names (``postgres`` when it names none)."""
    from urllib.parse import unquote

    return unquote(urlsplit(url).username or "") or "postgres"


class PermissionRefusedError(StoreError):
    """The database refused the change for this member's role (row-level security, grants)."""


class SchemaMismatchError(StoreError):
    """The team database has another schema version than this desktop knows."""


def describe_server(url: str) -> str:
    """``host:port/dbname`` of a connection URL, never its password."""
    parts = urlsplit(url)
    host = parts.hostname or "localhost"
    port = f":{parts.port}" if parts.port else ""
    return f"{host}{port}{parts.path or '/'}"


def is_local(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return host in ("", "localhost", "127.0.0.1", "::1") or host.startswith("/")


def translate(exc: psycopg.Error, label: str, user: str = "this login") -> StoreError:
    if isinstance(exc, psycopg.IntegrityError):
        return ConstraintError(
            f"The team database refused the change ({exc.diag.message_primary}). Nothing was "
            "changed.",
            f"{exc.diag.constraint_name or ''} {exc.diag.message_primary or exc}",
        )
    if isinstance(exc, psycopg.errors.RaiseException | psycopg.errors.CheckViolation):
        return ConstraintError(f"The team database refused the change ({exc}).", str(exc))
    if isinstance(exc, psycopg.errors.InsufficientPrivilege):
        return PermissionRefusedError(
            f"The team database refused this for your role: {exc.diag.message_primary}. "
            "Ask a team admin if you should be allowed to."
        )
    if isinstance(exc, psycopg.errors.QueryCanceled):
        return StoreError("The query was stopped.")
    if isinstance(exc, psycopg.OperationalError):
        refused = login_problem(_first_line(exc), label, user)
        if refused is not None:
            return refused
        return ConnectionLostError(
            f"The team database {label} cannot be reached ({_first_line(exc)}). Nothing is "
            "lost: pulls already sent keep their state and resume when it is back."
        )
    return StoreError(f"The team database {label} answered with an error: {_first_line(exc)}")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


class PostgresConn:
    """``seam.Conn`` over one psycopg connection (reopened after it was lost)."""

    def __init__(
        self, connect: Callable[[], psycopg.Connection[Any]], label: str, user: str = "this login"
    ) -> None:
        self._connect = connect
        self._user = user
        self._label = label
        self._raw: psycopg.Connection[Any] | None = None
        self._offset = timedelta(0)
        self._depth = 0
        self._lock = threading.Lock()
        self._ensure()

    @property
    def dialect(self) -> Dialect:
        return POSTGRES

    @property
    def label(self) -> str:
        return self._label

    @property
    def raw(self) -> psycopg.Connection[Any]:
        return self._ensure()

    def _ensure(self) -> psycopg.Connection[Any]:
        raw = self._raw
        if raw is not None and not raw.closed and not raw.broken:
            return raw
        try:
            raw = self._connect()
            raw.autocommit = True
            with raw.cursor() as cur:
                cur.execute(
                    pgsql.SQL("SET search_path = {}, public").format(pgsql.Identifier(SCHEMA))
                )
                before = time.time()
                cur.execute("SELECT extract(epoch FROM clock_timestamp())")
                server = float(cur.fetchone()[0])  # type: ignore[index]
                after = time.time()
        except psycopg.Error as exc:
            raise translate(exc, self._label, self._user) from exc
        offset = server - (before + after) / 2
        # Clocks within a second of the server's are taken as agreeing: the measurement itself
        # is that noisy, and a lease is 60 s.
        self._offset = timedelta(seconds=offset if abs(offset) > 1.0 else 0.0)
        with self._lock:
            self._raw = raw
        return raw

    def now(self) -> datetime:
        return records.utcnow() + self._offset

    def _run(self, sql: str, params: Params | None) -> psycopg.Cursor[Any]:
        raw = self._ensure()
        cur = raw.cursor()
        try:
            cur.execute(POSTGRES.sql(sql), dict(params) if params else None)
        except psycopg.Error as exc:
            cur.close()
            raise translate(exc, self._label, self._user) from exc
        return cur

    def query(self, sql: str, params: Params | None = None) -> list[dict[str, Any]]:
        with self._run(sql, params) as cur:
            if cur.description is None:
                return []
            names = [d.name for d in cur.description]
            return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def rows(self, sql: str, params: Params | None = None) -> list[tuple[Any, ...]]:
        with self._run(sql, params) as cur:
            return list(cur.fetchall()) if cur.description is not None else []

    def one(self, sql: str, params: Params | None = None) -> dict[str, Any] | None:
        found = self.query(sql, params)
        return found[0] if found else None

    def value(self, sql: str, params: Params | None = None) -> Any:
        found = self.rows(sql, params)
        return found[0][0] if found else None

    def execute(self, sql: str, params: Params | None = None) -> int:
        with self._run(sql, params) as cur:
            return cur.rowcount

    def stream(self, sql: str, params: Params, batch: int) -> Iterator[tuple[Any, ...]]:
        def rows() -> Iterator[tuple[Any, ...]]:
            raw = self._ensure()
            name = f"walleo_{uuid.uuid4().hex[:12]}"
            own = raw.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
            try:
                if own:  # a named cursor lives in a transaction
                    raw.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                with raw.cursor(name=name) as cur:
                    cur.itersize = batch
                    cur.execute(POSTGRES.sql(sql), dict(params))
                    yield from cur
                if own:
                    raw.execute("COMMIT")
            except psycopg.Error as exc:
                raise translate(exc, self._label, self._user) from exc
            finally:
                if (
                    own
                    and not raw.closed
                    and raw.info.transaction_status != (psycopg.pq.TransactionStatus.IDLE)
                ):
                    with contextlib.suppress(psycopg.Error):
                        raw.execute("ROLLBACK")

        return rows()

    def list_param(self, values: list[int] | list[str]) -> Any:
        return list(values)

    def write[T](self, body: Callable[[], T]) -> T:
        if self._depth:
            return body()
        for attempt in range(1, _RETRIES + 1):
            raw = self._ensure()
            try:
                self._depth += 1
                try:
                    with raw.transaction():
                        return body()
                finally:
                    self._depth -= 1
            except (
                psycopg.errors.SerializationFailure,
                psycopg.errors.DeadlockDetected,
            ) as exc:
                if attempt == _RETRIES:
                    raise translate(exc, self._label, self._user) from exc
                time.sleep(0.01 * attempt)
            except psycopg.Error as exc:
                raise translate(exc, self._label, self._user) from exc
            except StoreError as exc:
                cause = exc.__cause__
                if (
                    isinstance(
                        cause, psycopg.errors.SerializationFailure | psycopg.errors.DeadlockDetected
                    )
                    and attempt < _RETRIES
                ):
                    time.sleep(0.01 * attempt)
                    continue
                raise
        raise AssertionError("unreachable")  # pragma: no cover

    def read[T](self, body: Callable[[], T]) -> T:
        if self._depth:
            return body()
        raw = self._ensure()
        try:
            self._depth += 1
            try:
                raw.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                result = body()
                raw.execute("COMMIT")
                return result
            finally:
                self._depth -= 1
                if not raw.closed and raw.info.transaction_status != (
                    psycopg.pq.TransactionStatus.IDLE
                ):
                    with contextlib.suppress(psycopg.Error):
                        raw.execute("ROLLBACK")
        except psycopg.Error as exc:
            raise translate(exc, self._label, self._user) from exc

    def interrupt(self) -> None:
        with self._lock:
            raw = self._raw
        if raw is not None and not raw.closed:
            with contextlib.suppress(psycopg.Error):
                raw.cancel_safe(timeout=5.0)

    def close(self) -> None:
        with self._lock:
            raw, self._raw = self._raw, None
        if raw is not None:
            with contextlib.suppress(psycopg.Error):
                raw.close()


class PostgresBackend:
    """A team history on a PostgreSQL server, for one member (``url`` names their login)."""

    def __init__(self, url: str, password: str | None, cipher: Cipher | None) -> None:
        self.url = url
        self._password = password
        self._cipher = cipher
        self._label = describe_server(url)
        self._user = conn_user(url)
        self.main = self.connect()
        try:
            self._check_schema()
        except BaseException:
            self.main.close()
            raise
        self._listener: psycopg.Connection[Any] | None = None

    @classmethod
    def open(
        cls, url: str, *, password: str | None = None, cipher: Cipher | None = None
    ) -> PostgresBackend:
        return cls(url, password, cipher)

    @property
    def label(self) -> str:
        return self._label

    @property
    def cipher(self) -> Cipher | None:
        return self._cipher

    def _raw_connect(self) -> psycopg.Connection[Any]:
        options: dict[str, Any] = {
            "connect_timeout": CONNECT_TIMEOUT,
            "keepalives": 1,
            "keepalives_idle": 30,
            "keepalives_interval": 10,
            "keepalives_count": 3,
            "application_name": "walleo-desktop",
        }
        if self._password is not None:
            options["password"] = self._password
        if not is_local(self.url) and "sslmode=" not in self.url:
            options["sslmode"] = "verify-full"  # never a server we cannot authenticate
        return psycopg.connect(self.url, **options)

    def connect(self) -> PostgresConn:
        return PostgresConn(self._raw_connect, self._label, self._user)

    def _check_schema(self) -> None:
        try:
            version = self.main.value("SELECT max(version) FROM schema_version")
        except StoreError as exc:
            raise SchemaMismatchError(
                f"The database {self._label} is not a Walleo Desktop team history (or your role "
                f"cannot read it): {exc}. Create it with `walleo-desktop team init`."
            ) from exc
        known = pg_schema.SCHEMA_VERSION  # read now: a test may add a migration
        if version != known:
            raise SchemaMismatchError(
                f"The team database {self._label} is at schema version {version}, this Walleo "
                f"Desktop knows version {known}. "
                + (
                    "Update Walleo Desktop."
                    if (version or 0) > known
                    else "Ask a team admin to run `walleo-desktop team upgrade URL`."
                )
            )

    def needs_check(self) -> bool:
        return False  # the server keeps its own integrity

    def check_integrity(self) -> str:
        return ""

    def wait_for_change(self, timeout: float) -> bool:
        """Block until the database says pulls changed, or ``timeout`` seconds (a thread of its
        own calls this). True when a notification came."""
        try:
            if self._listener is None or self._listener.closed or self._listener.broken:
                self._listener = self._raw_connect()
                self._listener.autocommit = True
                self._listener.execute("LISTEN walleo_changes")
            for _ in self._listener.notifies(timeout=timeout, stop_after=1):
                return True
            return False
        except psycopg.Error as exc:
            if self._listener is not None:
                with contextlib.suppress(psycopg.Error):
                    self._listener.close()
            self._listener = None
            raise translate(exc, self._label, self._user) from exc

    def close(self) -> None:
        self.main.close()
        if self._listener is not None:
            with contextlib.suppress(psycopg.Error):
                self._listener.close()
