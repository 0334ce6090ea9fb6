"""Counts and sums per brand over a set of pulls, worked out one way for every report: the XLSX
export's Totals sheet and the shift reports (``shifts``). No Qt, no SQL.

A pull counts once, by its state: issued (``success``: its face value and its cost are added),
failed (``error`` and ``rejected``, each counted apart too), in doubt, or pending (queued,
sending, waiting, processing). Only issued cards have a face value and a cost in the sums: a
failed or unfinished pull issued nothing (yet). Money is exact: face values in whole units of
the currency, costs in cents, both integers, per brand *and currency* (a brand sold in two
currencies is two lines; currencies are never added together).

``history.Totals`` (the history view's strip) counts the same pulls the same way, in SQL;
tests/test_export_xlsx.py checks that the two agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from walleo_desktop.store.records import PullState

__all__ = ["BrandLine", "Tally", "cents_text", "totals_of"]

_PENDING = frozenset({PullState.QUEUED, PullState.SENDING, PullState.WAITING, PullState.PROCESSING})


def cents_text(cents: int) -> str:
    """``4850`` → ``"48.50"`` (exact: integer arithmetic, never a float)."""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}{whole}.{part:02d}"


@dataclass(frozen=True, slots=True)
class BrandLine:
    """The pulls of one brand in one currency (or, with an empty code, of every brand: a
    currency's total line)."""

    gift_card_code: str
    gift_card_name: str
    currency: str
    cards: int = 0  # issued (success)
    face_value: int = 0  # of the issued cards, whole units
    cost_cents: int = 0  # of the issued cards, after the partner discount
    errors: int = 0
    rejected: int = 0
    in_doubt: int = 0
    pending: int = 0

    @property
    def failed(self) -> int:
        """Error + rejected: nothing was issued, nothing is owed."""
        return self.errors + self.rejected

    @property
    def pulls(self) -> int:
        return self.cards + self.failed + self.in_doubt + self.pending

    @property
    def is_total(self) -> bool:
        return not self.gift_card_code

    def to_json(self) -> dict[str, Any]:
        return {
            "gift_card_code": self.gift_card_code,
            "gift_card_name": self.gift_card_name,
            "currency": self.currency,
            "cards": self.cards,
            "face_value": self.face_value,
            "cost_cents": self.cost_cents,
            "errors": self.errors,
            "rejected": self.rejected,
            "in_doubt": self.in_doubt,
            "pending": self.pending,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> BrandLine:
        return cls(
            gift_card_code=str(data.get("gift_card_code", "")),
            gift_card_name=str(data.get("gift_card_name", "")),
            currency=str(data.get("currency", "")),
            **{
                name: int(data.get(name, 0))
                for name in (
                    "cards",
                    "face_value",
                    "cost_cents",
                    "errors",
                    "rejected",
                    "in_doubt",
                    "pending",
                )
            },
        )


# Slots of a running line (a list: one add per pull, a million times for a big export).
_CARDS, _FACE, _COST, _ERRORS, _REJECTED, _IN_DOUBT, _PENDING_N = range(7)


class Tally:
    """Adds pulls up as they stream past (``add``), then gives the lines (``lines``) and the
    per-currency totals (``totals``). Memory: one small list per brand and currency."""

    def __init__(self) -> None:
        self._lines: dict[tuple[str, str], list[int]] = {}
        self._names: dict[tuple[str, str], str] = {}

    def add(
        self,
        gift_card_code: str,
        gift_card_name: str,
        currency: str,
        state: str,
        amount: int,
        cost_cents: int | None,
    ) -> None:
        key = (gift_card_code, currency)
        line = self._lines.get(key)
        if line is None:
            line = self._lines[key] = [0] * 7
            self._names[key] = gift_card_name
        elif gift_card_name > self._names[key]:  # as SQL's max(): one name per brand
            self._names[key] = gift_card_name
        if state == "success":
            line[_CARDS] += 1
            line[_FACE] += amount
            line[_COST] += cost_cents or 0
        elif state == "error":
            line[_ERRORS] += 1
        elif state == "rejected":
            line[_REJECTED] += 1
        elif state == "in_doubt":
            line[_IN_DOUBT] += 1
        elif PullState(state) in _PENDING:  # ValueError for a state the journal does not know
            line[_PENDING_N] += 1

    def lines(self) -> list[BrandLine]:
        """One line per brand and currency, by brand code then currency."""
        return [
            BrandLine(code, self._names[(code, currency)], currency, *values)
            for (code, currency), values in sorted(self._lines.items())
        ]

    def totals(self) -> list[BrandLine]:
        """One line per currency (empty brand code): the sums of its brands."""
        return totals_of(self.lines())


def totals_of(lines: list[BrandLine]) -> list[BrandLine]:
    """One line per currency of ``lines`` (empty brand code): their sums, by currency."""
    sums: dict[str, list[int]] = {}
    for line in lines:
        values = sums.setdefault(line.currency, [0] * 7)
        for i, value in enumerate(
            (
                line.cards,
                line.face_value,
                line.cost_cents,
                line.errors,
                line.rejected,
                line.in_doubt,
                line.pending,
            )
        ):
            values[i] += value
    return [BrandLine("", "", currency, *values) for currency, values in sorted(sums.items())]
