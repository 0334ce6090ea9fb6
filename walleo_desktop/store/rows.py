"""Conversions between SQLite rows and the records of ``records.py``, and JSON columns."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import fields
from datetime import datetime
from enum import Enum
from typing import Any

from walleo_desktop.store.records import PullRecord, PullState, from_db_time, to_db_time

__all__ = [
    "PULL_COLUMNS",
    "dump_json",
    "load_json",
    "pull_from_row",
    "pull_select",
    "required_time",
]

# The ``pulls`` columns, named as PullRecord's fields (cost_cents is derived, not selected).
PULL_COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(PullRecord))


def pull_select(alias: str = "") -> str:
    """The SELECT list for pull_from_row(), optionally qualified (``p.id, p.request_id...``)."""
    prefix = f"{alias}." if alias else ""
    return ", ".join(prefix + name for name in PULL_COLUMNS)


def required_time(value: str | None) -> datetime:
    parsed = from_db_time(value)
    if parsed is None:
        raise ValueError("a NOT NULL timestamp column is empty")
    return parsed


def pull_from_row(row: Mapping[str, Any]) -> PullRecord:
    return PullRecord(
        id=row["id"],
        request_id=row["request_id"],
        gift_card_code=row["gift_card_code"],
        gift_card_name=row["gift_card_name"],
        amount=row["amount"],
        currency=row["currency"],
        state=PullState(row["state"]),
        created_at=required_time(row["created_at"]),
        updated_at=required_time(row["updated_at"]),
        discount=row["discount"],
        catalog_snapshot=load_json(row["catalog_snapshot"], {}),
        overdue=bool(row["overdue"]),
        sent_at=from_db_time(row["sent_at"]),
        finished_at=from_db_time(row["finished_at"]),
        next_check_at=from_db_time(row["next_check_at"]),
        attempts=row["attempts"],
        agent=row["agent"],
        reference=row["reference"],
        note=row["note"],
        profile=row["profile"],
        batch_id=row["batch_id"],
        retry_of=row["retry_of"],
        error_code=row["error_code"],
        error_message=row["error_message"],
        walleo_id=row["walleo_id"],
        walleo_status=row["walleo_status"],
        card_id=row["card_id"],
    )


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
