"""JSON columns and timestamp conversions shared by the store's modules."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from enum import Enum
from typing import Any

from walleo_desktop.store.records import from_db_time, to_db_time

__all__ = ["dump_json", "load_json", "required_time", "snapshot_hash"]


def required_time(value: str | None) -> datetime:
    parsed = from_db_time(value)
    if parsed is None:
        raise ValueError("a NOT NULL timestamp column is empty")
    return parsed


def _json_default(value: object) -> object:
    if isinstance(value, datetime):
        return to_db_time(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def dump_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=_json_default)


def load_json(text: str | None, empty: Any) -> Any:
    return json.loads(text) if text else empty


def snapshot_hash(text: str) -> str:
    """The key of a catalog snapshot in ``catalog_snapshots``: SHA-256 of its JSON text, hex.
    Equal keys mean equal text (a pull reads back exactly the text journaled)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
