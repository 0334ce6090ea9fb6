"""Shift reports: one agent's pulls over a period, closed and kept for good. No Qt, no SQL.

A shift report covers the pulls an agent journaled (``pulls.agent``) from ``period_start``
(inclusive) to ``period_end`` (exclusive), counted as they stand when it is closed
(``summary.Tally``: per brand and currency, cards issued with their face value and cost,
failures apart, in-doubt and pending pulls apart), with the first and last pull's time. A
pull still pending at the close is counted as pending in that report; it does not move into
a later one (that one covers later pulls), so two reports never count the same pull unless
their periods overlap, which only an explicit ``since`` does.

Closing stores the report in ``shift_reports`` (``StoreCore.close_shift``): the figures are
frozen as JSON, and the table is append-only (triggers on SQLite, grants and a trigger on
PostgreSQL). Closing the same period again makes a new report with its own number; nothing
is ever edited. ``StoreCore.shift_preview`` works the same figures out without storing them
(the window shows them before the agent closes).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from walleo_desktop.store.records import from_db_time, to_db_time
from walleo_desktop.store.summary import BrandLine, totals_of

__all__ = ["FORMAT_VERSION", "ShiftReport", "report_from_row", "totals_json"]

FORMAT_VERSION = 1  # of the totals JSON


@dataclass(frozen=True, slots=True)
class ShiftReport:
    """One agent's shift. ``id`` and ``created_at`` are None for a preview (not stored)."""

    agent: str
    period_start: datetime
    period_end: datetime
    brands: tuple[BrandLine, ...] = ()
    first_pull_at: datetime | None = None
    last_pull_at: datetime | None = None
    created_at: datetime | None = None
    created_by: str = ""
    id: int | None = None
    totals: tuple[BrandLine, ...] = field(init=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "totals", tuple(totals_of(list(self.brands))))

    @property
    def stored(self) -> bool:
        return self.id is not None

    @property
    def pulls(self) -> int:
        return sum(b.pulls for b in self.brands)

    @property
    def cards(self) -> int:
        return sum(b.cards for b in self.brands)

    @property
    def failed(self) -> int:
        return sum(b.failed for b in self.brands)

    @property
    def errors(self) -> int:
        return sum(b.errors for b in self.brands)

    @property
    def rejected(self) -> int:
        return sum(b.rejected for b in self.brands)

    @property
    def in_doubt(self) -> int:
        return sum(b.in_doubt for b in self.brands)

    @property
    def pending(self) -> int:
        return sum(b.pending for b in self.brands)

    def to_json(self) -> dict[str, Any]:
        """Everything, as ``--json`` prints it (times in UTC, money in cents)."""
        return {
            "id": self.id,
            "agent": self.agent,
            "period_start": to_db_time(self.period_start),
            "period_end": to_db_time(self.period_end),
            "created_at": to_db_time(self.created_at),
            "created_by": self.created_by,
            **totals_json(self),
        }


def totals_json(report: ShiftReport) -> dict[str, Any]:
    """The figures as stored in ``shift_reports.totals``: the lines are the truth; the sums
    beside them are for a reader of the table (SQL, a spreadsheet), never read back."""
    return {
        "version": FORMAT_VERSION,
        "first_pull_at": to_db_time(report.first_pull_at),
        "last_pull_at": to_db_time(report.last_pull_at),
        "pulls": report.pulls,
        "cards": report.cards,
        "failed": report.failed,
        "errors": report.errors,
        "rejected": report.rejected,
        "in_doubt": report.in_doubt,
        "pending": report.pending,
        "brands": [b.to_json() for b in report.brands],
        "currencies": [t.to_json() for t in report.totals],
    }


def report_from_row(row: dict[str, Any]) -> ShiftReport:
    data = json.loads(row["totals"]) if row["totals"] else {}
    return ShiftReport(
        id=int(row["id"]),
        agent=row["agent"],
        period_start=_time(row["period_start"]),
        period_end=_time(row["period_end"]),
        created_at=_time(row["created_at"]),
        created_by=row["created_by"],
        brands=tuple(BrandLine.from_json(b) for b in data.get("brands", [])),
        first_pull_at=from_db_time(data.get("first_pull_at")),
        last_pull_at=from_db_time(data.get("last_pull_at")),
    )


def _time(value: str) -> datetime:
    moment = from_db_time(value)
    if moment is None:
        raise ValueError("a shift report without its times")
    return moment
