"""Typed results of the Walleo API.

Every ``from_json`` tolerates extra fields (kept in ``raw``) and loosely typed values (``code_pin``
may be a string, an int or a bool; integers may arrive as strings). A field that is required to
make sense of an answer and is missing raises ``ValueError``; the client turns it into
``UnexpectedResponseError``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

__all__ = [
    "Card",
    "FacialValues",
    "GiftCard",
    "Inventory",
    "PullRequest",
    "PullStatus",
    "Stock",
    "parse_timestamp",
]


def _str(d: dict[str, Any], key: str, default: str = "") -> str:
    v = d.get(key)
    return default if v is None else str(v)


def _req_str(d: dict[str, Any], key: str) -> str:
    v = d.get(key)
    if v is None or str(v) == "":
        raise ValueError(f"missing field {key!r}")
    return str(v)


def _int(v: Any, default: int | None = None) -> int | None:
    if v is None or isinstance(v, bool):
        return default
    if isinstance(v, int):
        return v
    if isinstance(v, float) and v.is_integer():
        return int(v)
    if isinstance(v, str):
        try:
            f = float(v.strip())
        except ValueError:
            return default
        return int(f) if f.is_integer() else default
    return default


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
        kind = _str(data, "type").lower()
        if kind == "fixed" or (not kind and "amounts" in data):
            raw = data.get("amounts") or []
            amounts = sorted(
                {a for a in (_int(x) for x in raw if x is not None) if a is not None and a > 0}
            )
            return cls(type="fixed", amounts=tuple(amounts))
        if kind == "free" or (not kind and "min_amount" in data):
            step = _int(data.get("step_amount"), 1) or 1
            return cls(
                type="free",
                min_amount=_int(data.get("min_amount")),
                max_amount=_int(data.get("max_amount")),
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
        code = _req_str(data, "code")
        pin = data.get("code_pin")
        return cls(
            code=code,
            name=_str(data, "name") or code,
            facial_values=FacialValues.from_json(data.get("facial_values")),
            discount=_int(data.get("discount")),
            validity_period=_int(data.get("validity_period")),
            barcode_symbology=_str(data, "barcode_symbology"),
            logo_url=_str(data, "logo_url"),
            logo_square_url=_str(data, "logo_square_url"),
            online_usable=_bool(data.get("online_usable")),
            offline_usable=_bool(data.get("offline_usable")),
            code_pin="" if pin is None else str(pin).lower() if isinstance(pin, bool) else str(pin),
            how_to_use_online=_str(data, "how_to_use_online"),
            how_to_use_offline=_str(data, "how_to_use_offline"),
            term_of_use=_str(data, "term_of_use"),
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
            id=_req_str(data, "id"),
            code=_req_str(data, "code"),
            pin_code=_str(data, "pin_code"),
            expire_at=parse_timestamp(data.get("expire_at")),
            amount=_int(data.get("amount")),
            gift_card_code=_str(data, "gift_card_code"),
            pdf_url=_str(data, "pdf_url"),
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
        status_text = _str(data, "status")
        status = PullStatus.parse(status_text)
        card_data = data.get("card")
        card = Card.from_json(card_data) if isinstance(card_data, dict) else None
        if status is PullStatus.SUCCESS and card is None:
            raise ValueError("a successful pull request came without its card")
        return cls(
            id=_str(data, "id"),
            request_id=_req_str(data, "request_id"),
            status=status,
            status_text=status_text,
            amount_cents=_int(data.get("amount_cents")),
            created_at=parse_timestamp(data.get("created_at")),
            updated_at=parse_timestamp(data.get("updated_at")),
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
        stocks = []
        for s in data.get("stocks") or []:
            if not isinstance(s, dict):
                continue
            fv = _int(s.get("facial_value"))
            if fv is None:
                continue
            stocks.append(
                Stock(
                    fv,
                    _int(s.get("owned_quantity"), 0) or 0,
                    _int(s.get("shared_quantity"), 0) or 0,
                )
            )
        return cls(
            gift_card_code=_str(gc, "code"),
            gift_card_name=_str(gc, "name"),
            end_to_end_enabled=_bool(e2e.get("enabled")),
            available_amount=None if str(available).lower() == "unlimited" else _int(available),
            stocks=tuple(stocks),
            raw=dict(data),
        )

    def stock_for(self, amount: int) -> int | None:
        for s in self.stocks:
            if s.facial_value == amount:
                return s.total
        return None
