"""The local history (SQLite through sqlite-utils): the pull journal, cards, events, settings,
the catalog cache and the history queries. No Qt, no HTTP."""

from walleo_desktop.store.errors import (
    AlreadyRetriedError,
    CardConflictError,
    CorruptStoreError,
    NewerSchemaError,
    NotFoundError,
    StoreError,
)
from walleo_desktop.store.history import BrandTotal, HistoryFilter, HistoryPage, HistoryRow, Totals
from walleo_desktop.store.records import *  # noqa: F403
from walleo_desktop.store.records import FINAL_STATES
from walleo_desktop.store.records import __all__ as _records_all
from walleo_desktop.store.store import Store, default_data_dir

__all__ = [
    "AlreadyRetriedError",
    "BrandTotal",
    "CardConflictError",
    "FINAL_STATES",
    "CorruptStoreError",
    "HistoryFilter",
    "HistoryPage",
    "HistoryRow",
    "NewerSchemaError",
    "NotFoundError",
    "Store",
    "StoreError",
    "Totals",
    "default_data_dir",
    *_records_all,
]
