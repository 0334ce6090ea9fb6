"""The seam between the history's rules and the database engines that keep it.

``Conn`` is everything the rules (``core.StoreCore``), the history reads (``history``) and the
exports need from a backend: one connection, used from one thread at a time, that runs the
store's plain SQL (``dialect``), groups writes in transactions and can be interrupted from
another thread. ``Backend`` opens a history and makes such connections. The SQLite backend
(``store.sqlite``) and the PostgreSQL one (``store.postgres``) each implement both; nothing
above this module imports ``sqlite3`` or ``psycopg`` (an import-linter contract says so).

Errors: a backend raises ``StoreError`` (``errors``) with a sentence a user can act on, never
a driver exception: "the disk is full", "the database server cannot be reached".
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import Any, Protocol

from walleo_desktop.store.crypto import Cipher
from walleo_desktop.store.dialect import Dialect

__all__ = ["Backend", "Conn", "Params"]

Params = Mapping[str, Any]


class Conn(Protocol):
    """One connection to a history. Not thread-safe: one thread uses it (``interrupt`` aside).

    Every ``sql`` is the store's neutral text (named ``:parameters``); the connection converts
    it for its driver (``Dialect.sql``).
    """

    @property
    def dialect(self) -> Dialect: ...

    @property
    def label(self) -> str:
        """Where the history is, for messages (a file path, a server and database name)."""
        ...

    def now(self) -> datetime:
        """The current time, UTC, as the history's clock has it (the server's for PostgreSQL,
        so that desktops with clocks a little apart agree on leases)."""
        ...

    def query(self, sql: str, params: Params | None = None) -> list[dict[str, Any]]: ...

    def rows(self, sql: str, params: Params | None = None) -> list[tuple[Any, ...]]: ...

    def one(self, sql: str, params: Params | None = None) -> dict[str, Any] | None: ...

    def value(self, sql: str, params: Params | None = None) -> Any: ...

    def execute(self, sql: str, params: Params | None = None) -> int:
        """Run a statement; the number of rows it changed."""
        ...

    def stream(self, sql: str, params: Params, batch: int) -> Iterator[tuple[Any, ...]]:
        """The rows of a large SELECT, fetched ``batch`` at a time (one snapshot)."""
        ...

    def list_param(self, values: list[int] | list[str]) -> Any:
        """``values`` as the value of a parameter that ``Dialect.in_list`` expands."""
        ...

    def write[T](self, body: Callable[[], T]) -> T:
        """``body()`` inside one write transaction (all of its writes or none), and its
        result. Retries the backend knows to be safe happen here (a full disk whose WAL gives
        its space back, a serialisation conflict)."""
        ...

    def read[T](self, body: Callable[[], T]) -> T:
        """``body()`` inside one read snapshot."""
        ...

    def interrupt(self) -> None:
        """Abort the statement running now (called from another thread)."""
        ...

    def close(self) -> None: ...


class Backend(Protocol):
    """A history kept by one database engine: opens connections to it."""

    @property
    def label(self) -> str: ...

    @property
    def cipher(self) -> Cipher | None: ...

    def connect(self) -> Conn:
        """A new connection, for the calling thread."""
        ...

    def check_integrity(self) -> str:
        """'' when the history is sound, else what is wrong (may take seconds)."""
        ...

    def needs_check(self) -> bool:
        """Whether the last use of this history ended without closing it (a crash): then
        ``check_integrity`` should run (in the background after the first paint)."""
        ...

    def close(self) -> None: ...
