"""Plain records exchanged between the store, the engine and the front ends.

Timestamps are timezone-aware UTC ``datetime``s in Python, and fixed-width ISO-8601 text
(``2026-11-25T22:16:19.123456Z``) in SQLite so that text order is time order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

__all__ = [
    "CardRecord",
    "EventRecord",
    "NewPull",
    "PullRecord",
    "PullState",
    "from_db_time",
    "to_db_time",
    "utcnow",
]


class PullState(StrEnum):
    """Where one pull stands. ``overdue`` is a flag beside the state, not a state.

    queued ─► sending ─► waiting ─► processing ─► success
                 │  ▲        │           │
                 ▼  │        └───────────┴────► error     (final; retry = a new linked pull)
              in_doubt ──(GET finds it)──► waiting/processing/success/error
                 └──(GET: pull_request_not_found)──► queued (same request id, sent again)
    sending ─► rejected   (a definite 4xx on create: nothing was created)
    """

    QUEUED = "queued"
    SENDING = "sending"
    IN_DOUBT = "in_doubt"
    WAITING = "waiting"
    PROCESSING = "processing"
    SUCCESS = "success"
    ERROR = "error"
    REJECTED = "rejected"

    @property
    def final(self) -> bool:
        return self in FINAL_STATES

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


FINAL_STATES = frozenset({PullState.SUCCESS, PullState.ERROR, PullState.REJECTED})


def utcnow() -> datetime:
    return datetime.now(UTC)


def to_db_time(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("naive datetimes are not stored; use UTC")
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def from_db_time(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


@dataclass(frozen=True, slots=True)
class NewPull:
    """An intent to pull one card, before it is journaled."""

    request_id: str
    gift_card_code: str
    amount: int
    currency: str = "EUR"
    gift_card_name: str = ""
    discount: int | None = None
    catalog_snapshot: dict[str, Any] = field(default_factory=dict)
    agent: str = ""
    reference: str = ""
    note: str = ""
    profile: str = "demo"
    batch_id: str = ""
    retry_of: int | None = None


@dataclass(frozen=True, slots=True)
class PullRecord:
    id: int
    request_id: str
    gift_card_code: str
    gift_card_name: str
    amount: int
    currency: str
    state: PullState
    created_at: datetime
    updated_at: datetime
    discount: int | None = None
    catalog_snapshot: dict[str, Any] = field(default_factory=dict, compare=False)
    overdue: bool = False
    sent_at: datetime | None = None  # first time the create was sent
    finished_at: datetime | None = None
    next_check_at: datetime | None = None
    attempts: int = 0  # requests made for this pull (creates and checks)
    agent: str = ""
    reference: str = ""
    note: str = ""
    profile: str = "demo"
    batch_id: str = ""
    retry_of: int | None = None
    error_code: str = ""
    error_message: str = ""
    walleo_id: str = ""  # Walleo's pull request uuid
    walleo_status: str = ""  # the status text Walleo last sent, verbatim
    card_id: str = ""  # Walleo's card uuid once issued
    # Who drives it (rules.py): the owner's lease until ``lease_until``, claimed with epoch
    # ``lease_epoch``; every engine write names the epoch it holds.
    lease_owner: str = ""
    lease_until: datetime | None = None
    lease_epoch: int = 0
    last_check_at: datetime | None = None  # the last GET about it (by whoever drove it)
    change_seq: int = 0  # when it last changed, in the history's own order (live views)

    @property
    def final(self) -> bool:
        return self.state.final

    @property
    def cost(self) -> float:
        """What the partner pays for this card: face value less the partner discount."""
        return self.amount * (100 - (self.discount or 0)) / 100


@dataclass(frozen=True, slots=True)
class CardRecord:
    card_id: str
    pull_id: int
    code: str
    pin_code: str
    expire_at: datetime | None
    amount: int | None
    gift_card_code: str
    pdf_url: str
    created_at: datetime
    pdf_path: str = ""

    def __repr__(self) -> str:  # never print a code or PIN by accident
        return f"CardRecord(card_id={self.card_id!r}, pull_id={self.pull_id})"


@dataclass(frozen=True, slots=True)
class EventRecord:
    id: int
    pull_id: int | None
    at: datetime
    kind: str
    detail: dict[str, Any] = field(default_factory=dict)
