"""Typed results of the Walleo API.

Every ``from_json`` tolerates extra fields (kept in ``raw``) and loosely typed values (``code_pin``
may be a string, an int or a bool; integers may arrive as strings). A field that is required to
make sense of an answer and is missing raises ``ValueError``; the client turns it into
``UnexpectedResponseError``.

What a server sends ends up in the history, the logs and on screen, so every field has a length
cap (the ``MAX_*`` constants below): an answer with a field over its cap is refused whole with
``FieldTooLarge`` (a ``ValueError``), never trimmed and never stored. The caps are far above
anything Walleo documents (UUIDs of 36 characters, statuses of 10, 16- to 20-character codes)
and far below what would bloat the history: a 50 MB status once left 315 MB on disk after two
polls (issue 10).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from walleo_desktop.timezones import WALLEO_TIMEZONE, expiry_day

__all__ = [
    "MAX_CODE_LENGTH",
    "MAX_GIFT_CARD_CODE_LENGTH",
    "MAX_GIFT_CARD_JSON",
    "MAX_ID_LENGTH",
    "MAX_INTEGER",
    "MAX_LIST_LENGTH",
    "MAX_NAME_LENGTH",
    "MAX_PIN_LENGTH",
    "MAX_REQUEST_ID_LENGTH",
    "MAX_SHORT_TEXT_LENGTH",
    "MAX_STATUS_LENGTH",
    "MAX_TEXT_LENGTH",
    "MAX_TIMESTAMP_LENGTH",
    "MAX_URL_LENGTH",
    "WALLEO_TIMEZONE",
    "Card",
    "FacialValues",
    "FieldTooLarge",
    "GiftCard",
    "Inventory",
    "PullRequest",
    "PullStatus",
    "Stock",
    "expiry_day",
    "parse_timestamp",
]

# Length caps, in characters, of what a server may send (see the module docstring).
MAX_ID_LENGTH = 128  # Walleo's pull-request and card ids: UUIDs, 36 characters
MAX_REQUEST_ID_LENGTH = 255  # ours, echoed back; the client never sends longer (client.py)
MAX_STATUS_LENGTH = 64  # documented statuses are at most 10; room for new ones, shown verbatim
MAX_CODE_LENGTH = 256  # card codes: 16 to 20 characters in practice; URLs-as-codes fit too
MAX_PIN_LENGTH = 64
MAX_URL_LENGTH = 2048  # pdf_url, logos: the de-facto limit of browsers and proxies
MAX_GIFT_CARD_CODE_LENGTH = 255  # brand codes ("IKEA", "E-ca"); same cap as request ids
MAX_NAME_LENGTH = 256  # brand names
MAX_TIMESTAMP_LENGTH = 64  # "2024-02-05T11:33:39.999+01:00" is 29
MAX_SHORT_TEXT_LENGTH = 64  # barcode_symbology, code_pin, facial_values.type, status words
MAX_TEXT_LENGTH = 32 * 1024  # how_to_use_online/offline, term_of_use: prose, a few KB in practice
MAX_LIST_LENGTH = 1000  # facial values' amounts, inventory stock lines
MAX_INTEGER = 10**12  # amounts, counts: far above any card, and SQLite's 64-bit integers hold it
#: A catalog entry as a whole (its ``raw`` JSON, unknown fields included) is kept in the catalog
#: cache and in every pull's snapshot: one entry over this is skipped like a malformed one.
MAX_GIFT_CARD_JSON = 128 * 1024


class FieldTooLarge(ValueError):
    """A field is longer (or an integer larger) than any sane answer would have.

    The message names the field and its size, never its value (it may be a card code).
    """


def _capped(key: str, text: str, cap: int) -> str:
    if len(text) > cap:
        raise FieldTooLarge(f"field {key!r} is {len(text)} characters long (at most {cap})")
    return text


def _str(d: dict[str, Any], key: str, default: str = "", *, cap: int) -> str:
    v = d.get(key)
    return default if v is None else _capped(key, str(v), cap)


def _req_str(d: dict[str, Any], key: str, *, cap: int) -> str:
    v = d.get(key)
    if v is None or str(v) == "":
        raise ValueError(f"missing field {key!r}")
    return _capped(key, str(v), cap)


def _int(v: Any, default: int | None = None, *, key: str = "integer") -> int | None:
    if v is None or isinstance(v, bool):
        return default
    if isinstance(v, int):
        return _bounded(key, v)
    if isinstance(v, float) and v.is_integer():
        return _bounded(key, int(v))
    if isinstance(v, str):
        if len(v) > MAX_SHORT_TEXT_LENGTH:
            raise FieldTooLarge(f"field {key!r} is {len(v)} characters long")
        try:
            f = float(v.strip())
        except ValueError:
            return default
        return _bounded(key, int(f)) if f.is_integer() else default
    return default


def _bounded(key: str, value: int) -> int:
    if abs(value) > MAX_INTEGER:
        raise FieldTooLarge(f"field {key!r} is out of range (at most {MAX_INTEGER} in size)")
    return value


def _timestamp(d: dict[str, Any], key: str) -> datetime | None:
    value = d.get(key)
    if isinstance(value, str):
        _capped(key, value, MAX_TIMESTAMP_LENGTH)
    return parse_timestamp(value)


def _bool(v: Any) -> bool:
    if isinstance(v, str):
        return v.strip().lower() in {"1", "true", "yes", "y", "t", "on"}
    return bool(v)


def parse_timestamp(value: Any) -> datetime | None:
    """Parse Walleo's ISO-8601 timestamps (``2024-02-05T11:33:39.999+01:00``); None if absent."""
    if not value or not isinstance(value, str):
        return None
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class FacialValues:
    """Which amounts a gift card accepts: ``fixed`` amounts, or a ``free`` stepped range."""

    type: str  # "fixed" | "free" | anything else Walleo may add
    amounts: tuple[int, ...] = ()
    min_amount: int | None = None
    max_amount: int | None = None
    step_amount: int = 1

    @classmethod
    def from_json(cls, data: Any) -> FacialValues:
        if not isinstance(data, dict):
            return cls(type="unknown")
        kind = _str(data, "type", cap=MAX_SHORT_TEXT_LENGTH).lower()
        if kind == "fixed" or (not kind and "amounts" in data):
            raw = data.get("amounts") or []
            if isinstance(raw, list) and len(raw) > MAX_LIST_LENGTH:
                raise FieldTooLarge(f"field 'amounts' lists {len(raw)} values")
            values = (_int(x, key="amounts") for x in raw if x is not None)
            amounts = sorted({a for a in values if a is not None and a > 0})
            return cls(type="fixed", amounts=tuple(amounts))
        if kind == "free" or (not kind and "min_amount" in data):
            step = _int(data.get("step_amount"), 1, key="step_amount") or 1
            return cls(
                type="free",
                min_amount=_int(data.get("min_amount"), key="min_amount"),
                max_amount=_int(data.get("max_amount"), key="max_amount"),
                step_amount=max(step, 1),
            )
        return cls(type=kind or "unknown")

    def validate(self, amount: int) -> str | None:
        """Return None when ``amount`` is accepted, else a sentence in Walleo's own words."""
        if self.type == "fixed":
            if amount in self.amounts:
                return None
            if not self.amounts:
                return "This gift card lists no amount that can be issued."
            listed = [str(a) for a in self.amounts]
            text = listed[0] if len(listed) == 1 else ", ".join(listed[:-1]) + " or " + listed[-1]
            return f"Amount must be one of {text}."
        if self.type == "free":
            lo, hi, step = self.min_amount, self.max_amount, self.step_amount
            if lo is None or hi is None:
                return None if amount > 0 else "Amount must be positive."
            if lo <= amount <= hi and (amount - lo) % step == 0:
                return None
            return f"Amount must be within range from {lo} to {hi} with steps of {step}."
        # Unknown kind: let Walleo decide, but never a non-positive amount.
        return None if amount > 0 else "Amount must be positive."

    def choices(self, limit: int = 500) -> list[int]:
        """Every acceptable amount, when there are at most ``limit`` of them."""
        if self.type == "fixed":
            return list(self.amounts)
        if self.type == "free" and self.min_amount is not None and self.max_amount is not None:
            count = (self.max_amount - self.min_amount) // self.step_amount + 1
            if 0 < count <= limit:
                return list(range(self.min_amount, self.max_amount + 1, self.step_amount))
        return []

    def describe(self) -> str:
        if self.type == "fixed":
            return ", ".join(str(a) for a in self.amounts)
        if self.type == "free":
            step = f" (steps of {self.step_amount})" if self.step_amount != 1 else ""
            return f"{self.min_amount} to {self.max_amount}{step}"
        return "any amount"

    def to_json(self) -> dict[str, Any]:
        if self.type == "fixed":
            return {"type": "fixed", "amounts": list(self.amounts)}
        if self.type == "free":
            return {
                "type": "free",
                "min_amount": self.min_amount,
                "max_amount": self.max_amount,
                "step_amount": self.step_amount,
            }
        return {"type": self.type}


@dataclass(frozen=True, slots=True)
class GiftCard:
    """One element of the catalog (``GET /gift_cards``)."""

    code: str
    name: str
    facial_values: FacialValues
    discount: int | None = None
    validity_period: int | None = None
    barcode_symbology: str = ""
    logo_url: str = ""
    logo_square_url: str = ""
    online_usable: bool = False
    offline_usable: bool = False
    code_pin: str = ""  # the docs do not say what this is; kept as text
    how_to_use_online: str = ""
    how_to_use_offline: str = ""
    term_of_use: str = ""
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_json(cls, data: Any) -> GiftCard:
        if not isinstance(data, dict):
            raise ValueError("a gift card must be a JSON object")
        size = len(json.dumps(data, ensure_ascii=False, separators=(",", ":")))
        if size > MAX_GIFT_CARD_JSON:
            raise FieldTooLarge(f"the gift card is {size} characters long as JSON")
        code = _req_str(data, "code", cap=MAX_GIFT_CARD_CODE_LENGTH)
        pin = data.get("code_pin")
        code_pin = "" if pin is None else str(pin).lower() if isinstance(pin, bool) else str(pin)
        text = MAX_TEXT_LENGTH
        return cls(
            code=code,
            name=_str(data, "name", cap=MAX_NAME_LENGTH) or code,
            facial_values=FacialValues.from_json(data.get("facial_values")),
            discount=_int(data.get("discount"), key="discount"),
            validity_period=_int(data.get("validity_period"), key="validity_period"),
            barcode_symbology=_str(data, "barcode_symbology", cap=MAX_SHORT_TEXT_LENGTH),
            logo_url=_str(data, "logo_url", cap=MAX_URL_LENGTH),
            logo_square_url=_str(data, "logo_square_url", cap=MAX_URL_LENGTH),
            online_usable=_bool(data.get("online_usable")),
            offline_usable=_bool(data.get("offline_usable")),
            code_pin=_capped("code_pin", code_pin, MAX_SHORT_TEXT_LENGTH),
            how_to_use_online=_str(data, "how_to_use_online", cap=text),
            how_to_use_offline=_str(data, "how_to_use_offline", cap=text),
            term_of_use=_str(data, "term_of_use", cap=text),
            raw=dict(data),
        )

    @property
    def has_pin(self) -> bool:
        return self.code_pin.strip().lower() not in {"", "false", "0", "none", "no"}


@dataclass(frozen=True, slots=True)
class Card:
    """An issued card (``GET /cards/:id``, or attached to a successful pull request)."""

    id: str
    code: str
    pin_code: str = ""
    expire_at: datetime | None = None
    amount: int | None = None
    gift_card_code: str = ""
    pdf_url: str = ""
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def __repr__(self) -> str:  # never print a code or PIN by accident
        return f"Card(id={self.id!r}, gift_card_code={self.gift_card_code!r}, amount={self.amount})"

    @classmethod
    def from_json(cls, data: Any) -> Card:
        if not isinstance(data, dict):
            raise ValueError("a card must be a JSON object")
        return cls(
            id=_req_str(data, "id", cap=MAX_ID_LENGTH),
            code=_req_str(data, "code", cap=MAX_CODE_LENGTH),
            pin_code=_str(data, "pin_code", cap=MAX_PIN_LENGTH),
            expire_at=_timestamp(data, "expire_at"),
            amount=_int(data.get("amount"), key="amount"),
            gift_card_code=_str(data, "gift_card_code", cap=MAX_GIFT_CARD_CODE_LENGTH),
            pdf_url=_str(data, "pdf_url", cap=MAX_URL_LENGTH),
            raw=dict(data),
        )


class PullStatus(StrEnum):
    WAITING = "waiting"
    PROCESSING = "processing"
    SUCCESS = "success"
    ERROR = "error"
    UNKNOWN = "unknown"

    @classmethod
    def parse(cls, value: Any) -> PullStatus:
        try:
            return cls(str(value).strip().lower())
        except ValueError:
            return cls.UNKNOWN

    @property
    def done(self) -> bool:
        return self in (PullStatus.SUCCESS, PullStatus.ERROR)


@dataclass(frozen=True, slots=True)
class PullRequest:
    """An asynchronous pull (``POST /pull_requests``, ``GET /pull_requests/:request_id``)."""

    id: str
    request_id: str
    status: PullStatus
    status_text: str  # as Walleo sent it, to show an unknown status verbatim
    amount_cents: int | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    card: Card | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_json(cls, data: Any) -> PullRequest:
        if not isinstance(data, dict):
            raise ValueError("a pull request must be a JSON object")
        status_text = _str(data, "status", cap=MAX_STATUS_LENGTH)
        status = PullStatus.parse(status_text)
        card_data = data.get("card")
        card = Card.from_json(card_data) if isinstance(card_data, dict) else None
        if status is PullStatus.SUCCESS and card is None:
            raise ValueError("a successful pull request came without its card")
        return cls(
            id=_str(data, "id", cap=MAX_ID_LENGTH),
            request_id=_req_str(data, "request_id", cap=MAX_REQUEST_ID_LENGTH),
            status=status,
            status_text=status_text,
            amount_cents=_int(data.get("amount_cents"), key="amount_cents"),
            created_at=_timestamp(data, "created_at"),
            updated_at=_timestamp(data, "updated_at"),
            card=card,
            raw=dict(data),
        )


@dataclass(frozen=True, slots=True)
class Stock:
    facial_value: int
    owned_quantity: int
    shared_quantity: int

    @property
    def total(self) -> int:
        return self.owned_quantity + self.shared_quantity


@dataclass(frozen=True, slots=True)
class Inventory:
    """Stock for one gift card (``GET /inventories/:code``)."""

    gift_card_code: str
    gift_card_name: str
    end_to_end_enabled: bool
    available_amount: int | None  # None = "unlimited"
    stocks: tuple[Stock, ...]
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_json(cls, data: Any) -> Inventory:
        if not isinstance(data, dict):
            raise ValueError("an inventory must be a JSON object")
        gc_raw = data.get("gift_card")
        gc: dict[str, Any] = gc_raw if isinstance(gc_raw, dict) else {}
        e2e_raw = data.get("end_to_end_api")
        e2e: dict[str, Any] = e2e_raw if isinstance(e2e_raw, dict) else {}
        available = e2e.get("available_amount")
        lines = data.get("stocks") or []
        if isinstance(lines, list) and len(lines) > MAX_LIST_LENGTH:
            raise FieldTooLarge(f"field 'stocks' lists {len(lines)} lines")
        stocks = []
        for s in lines:
            if not isinstance(s, dict):
                continue
            fv = _int(s.get("facial_value"), key="facial_value")
            if fv is None:
                continue
            stocks.append(
                Stock(
                    fv,
                    _int(s.get("owned_quantity"), 0, key="owned_quantity") or 0,
                    _int(s.get("shared_quantity"), 0, key="shared_quantity") or 0,
                )
            )
        unlimited = isinstance(available, str) and available.strip().lower() == "unlimited"
        return cls(
            gift_card_code=_str(gc, "code", cap=MAX_GIFT_CARD_CODE_LENGTH),
            gift_card_name=_str(gc, "name", cap=MAX_NAME_LENGTH),
            end_to_end_enabled=_bool(e2e.get("enabled")),
            available_amount=None if unlimited else _int(available, key="available_amount"),
            stocks=tuple(stocks),
            raw=dict(data),
        )

    def stock_for(self, amount: int) -> int | None:
        for s in self.stocks:
            if s.facial_value == amount:
                return s.total
        return None
