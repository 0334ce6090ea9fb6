"""The history behind one seam: the pull journal, cards, events, leases, settings, the catalog
cache and the history queries. No Qt, no HTTP.

Layout (one line each):

- ``records``: the records exchanged with the engine and the front ends;
- ``rules``: legal transitions, leases and their owners, the errors they raise;
- ``columns``: every history column defined once (view, sort, exports, ``--json``);
- ``dialect``: what differs between SQLite and PostgreSQL in the store's plain SQL;
- ``seam``: the ``Conn``/``Backend`` protocols a backend implements;
- ``core``: ``StoreCore``, the rules and queries over one connection (synchronous);
- ``history``: filters and result shapes of the history view;
- ``export``, ``export_xlsx``: the CSV and XLSX exports, streamed from the seam;
- ``summary``: counts and sums per brand (the XLSX Totals sheet, shift reports);
- ``shifts``: shift reports, closed per agent and kept append-only;
- ``crypto``, ``cardcodes``: codes and PINs encrypted at rest;
- ``thread``, ``facade``: ``Store``, the async surface: every call on a database thread;
- ``sqlite/``: the embedded backend (sqlite-utils); ``postgres/``: the team backend.
"""

from pathlib import Path

import platformdirs

from walleo_desktop.store.core import StoreCore
from walleo_desktop.store.errors import (
    AlreadyRetriedError,
    CardConflictError,
    ConstraintError,
    CorruptStoreError,
    DuplicateIntentError,
    NewerSchemaError,
    NotFoundError,
    StoreError,
)
from walleo_desktop.store.facade import Store
from walleo_desktop.store.history import BrandTotal, HistoryFilter, HistoryPage, HistoryRow, Totals
from walleo_desktop.store.records import *  # noqa: F403
from walleo_desktop.store.records import FINAL_STATES
from walleo_desktop.store.records import __all__ as _records_all
from walleo_desktop.store.rules import LeaseLostError, Owner, StaleWriteError
from walleo_desktop.store.shifts import ShiftReport
from walleo_desktop.store.summary import BrandLine

__all__ = [
    "FINAL_STATES",
    "AlreadyRetriedError",
    "BrandLine",
    "BrandTotal",
    "CardConflictError",
    "ConstraintError",
    "CorruptStoreError",
    "DuplicateIntentError",
    "HistoryFilter",
    "HistoryPage",
    "HistoryRow",
    "LeaseLostError",
    "NewerSchemaError",
    "NotFoundError",
    "Owner",
    "ShiftReport",
    "StaleWriteError",
    "Store",
    "StoreCore",
    "StoreError",
    "Totals",
    "default_data_dir",
    *_records_all,
]


def default_data_dir() -> Path:
    """Where the history lives by default (``~/.local/share/walleo-desktop`` on Linux)."""
    return Path(platformdirs.user_data_dir("walleo-desktop", appauthor=False))
