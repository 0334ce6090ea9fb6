"""The simulator's catalog: the documented gift-card fields plus internal behaviour per brand.

The data lives in ``catalog.json`` (package data). ``Brand.to_api`` renders the public gift-card
object in the documented field order; the ``simulator`` block of each entry never leaves the
simulator.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

__all__ = ["Brand", "StockLine", "amount_error", "load_catalog"]

#: Documented gift-card fields, in the documented order (logos are inserted per request).
_FIELDS_BEFORE_LOGOS = ("name", "code", "barcode_symbology", "discount")
_FIELDS_AFTER_LOGOS = (
    "online_usable",
    "offline_usable",
    "validity_period",
    "splittable_online",
    "splittable_offline",
    "cumulative_online",
    "cumulative_online_limit",
    "cumulative_offline",
    "cumulative_offline_limit",
    "code_pin",
    "how_to_use_online",
    "how_to_use_offline",
    "term_of_use",
    "facial_values",
)
_ALNUM = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: what printed codes avoid


@dataclass(frozen=True, slots=True)
class StockLine:
    facial_value: int
    owned_quantity: int
    shared_quantity: int


@dataclass(frozen=True, slots=True)
class Brand:
    code: str
    name: str
    public: dict[str, Any]  # the documented fields as stored (without logos)
    delay_seconds: float
    async_error_rate: float
    end_to_end: bool
    available_amount: int | None  # None = "unlimited"
    stocks: tuple[StockLine, ...]
    code_format: dict[str, Any]
    pin_digits: int
    color: str

    @property
    def discount(self) -> int:
        return int(self.public.get("discount") or 0)

    @property
    def validity_days(self) -> int:
        return int(self.public.get("validity_period") or 365)

    @property
    def facial_values(self) -> dict[str, Any]:
        value: dict[str, Any] = self.public["facial_values"]
        return value

    def to_api(self, base_url: str) -> dict[str, Any]:
        """The catalog element exactly as the API sends it."""
        out: dict[str, Any] = {k: self.public[k] for k in _FIELDS_BEFORE_LOGOS}
        out["logo_url"] = f"{base_url}/simulator/logos/wide/{self.code}.svg"
        out["logo_square_url"] = f"{base_url}/simulator/logos/{self.code}.svg"
        out.update({k: self.public[k] for k in _FIELDS_AFTER_LOGOS})
        return out

    def new_card_code(self, rng: random.Random) -> str:
        fmt = self.code_format
        if fmt.get("style") == "alnum":
            groups = ["".join(rng.choice(_ALNUM) for _ in range(n)) for n in fmt["groups"]]
            prefix = fmt.get("prefix") or ""
            return "-".join([prefix, *groups] if prefix else groups)
        length = int(fmt.get("length", 16))
        return str(rng.randint(1, 9)) + "".join(str(rng.randint(0, 9)) for _ in range(length - 1))

    def new_pin(self, rng: random.Random) -> str:
        return "".join(str(rng.randint(0, 9)) for _ in range(self.pin_digits))


def amount_error(facial_values: dict[str, Any], amount: object) -> str | None:
    """Walleo's ``invalid_amount`` message for ``amount``, or None when it is accepted."""
    kind = facial_values.get("type")
    valid_int = isinstance(amount, int) and not isinstance(amount, bool)
    if kind == "fixed":
        amounts = [int(a) for a in facial_values.get("amounts", [])]
        if valid_int and amount in amounts:
            return None
        listed = [str(a) for a in amounts]
        text = listed[-1] if len(listed) <= 1 else ", ".join(listed[:-1]) + " or " + listed[-1]
        return f"Amount must be one of {text}."
    lo = int(facial_values["min_amount"])
    hi = int(facial_values["max_amount"])
    step = int(facial_values.get("step_amount") or 1)
    if valid_int and lo <= amount <= hi and (amount - lo) % step == 0:  # type: ignore[operator]
        return None
    return f"Amount must be within range from {lo} to {hi} with steps of {step}."


def _brand(entry: dict[str, Any]) -> Brand:
    internal = entry["simulator"]
    public = {k: v for k, v in entry.items() if k != "simulator"}
    available = internal.get("available_amount", "unlimited")
    return Brand(
        code=entry["code"],
        name=entry["name"],
        public=public,
        delay_seconds=float(internal["delay_seconds"]),
        async_error_rate=float(internal.get("async_error_rate", 0.0)),
        end_to_end=bool(internal.get("end_to_end", True)),
        available_amount=None if available == "unlimited" else int(available),
        stocks=tuple(
            StockLine(int(s["facial_value"]), int(s["owned_quantity"]), int(s["shared_quantity"]))
            for s in internal.get("stocks", [])
        ),
        code_format=dict(internal.get("code", {"style": "digits", "length": 16})),
        pin_digits=int(internal.get("pin_digits", 0)),
        color=str(internal.get("color", "#555555")),
    )


@cache
def load_catalog() -> tuple[Brand, ...]:
    """The packaged catalog (read once)."""
    text = (
        resources.files("walleo_desktop.simulator")
        .joinpath("catalog.json")
        .read_text(encoding="utf-8")
    )
    return tuple(_brand(e) for e in json.loads(text)["gift_cards"])
