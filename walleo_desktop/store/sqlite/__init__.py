"""The SQLite backend (the embedded default): sqlite-utils over one history file."""

from walleo_desktop.store.sqlite.backend import (
    BUSY_TIMEOUT_S,
    WAL_SIZE_LIMIT,
    KeyInfo,
    SqliteBackend,
    SqliteConn,
    open_core,
)
from walleo_desktop.store.sqlite.schema import SCHEMA_VERSION

__all__ = [
    "BUSY_TIMEOUT_S",
    "SCHEMA_VERSION",
    "WAL_SIZE_LIMIT",
    "KeyInfo",
    "SqliteBackend",
    "SqliteConn",
    "open_core",
]
