"""History queries: filters and result shapes (the columns and sort keys are ``columns``).

Only SQL text built here from fixed fragments reaches the database; every value is a
parameter, and column names go through whitelists.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from walleo_desktop.store import cardcodes
from walleo_desktop.store.columns import SORT_KEYS
from walleo_desktop.store.crypto import Cipher
from walleo_desktop.store.records import PullRecord, PullState, to_db_time
from walleo_desktop.store.seam import Conn

__all__ = [
    "DISTINCT_COLUMNS",
    "SORT_KEYS",
    "BrandTotal",
    "HistoryFilter",
    "HistoryPage",
    "HistoryRow",
    "Totals",
    "filter_sql",
]


@dataclass(frozen=True, slots=True)
class HistoryFilter:
    """Which pulls to show. Empty tuples and strings mean "any".

    ``since`` is inclusive, ``until`` exclusive; both apply to ``created_at``. ``search``
    matches a request id (exactly or by prefix), a substring of the reference, the note or the
    brand name (accents count), all without regard to case, or a card code (the whole code, or
    its last characters, at least 4; spaces, dashes and case are ignored; more than 4 needs
    the history's key). ``Dialect.text_search`` has the indexes behind it.
    """

    since: datetime | None = None
    until: datetime | None = None
    states: tuple[PullState, ...] = ()
    gift_card_codes: tuple[str, ...] = ()
    agents: tuple[str, ...] = ()
    search: str = ""


@dataclass(frozen=True, slots=True)
class HistoryRow:
    """One history line: the pull, and its card's non-secret fields (never the full code)."""

    pull: PullRecord
    card_code_last4: str = ""
    card_expire_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class HistoryPage:
    rows: list[HistoryRow]
    offset: int
    total: int | None = None  # all rows matching the filter; None when not asked for


class BrandTotal(NamedTuple):
    """Successful pulls of one gift card. (``cards``, not ``count``: tuples have a count().)"""

    gift_card_code: str
    gift_card_name: str
    cards: int
    face_value: int
    cost: float


@dataclass(frozen=True, slots=True)
class Totals:
    """Sums over the pulls matching a filter.

    ``count``, ``face_value``, ``cost`` and ``per_brand`` cover successful pulls only (cards
    actually issued); ``cost`` is after the partner discount, in major units. ``failed`` counts
    error + rejected, ``in_doubt`` in-doubt pulls, ``pending`` queued/sending/waiting/processing.
    Amounts of different currencies are added together: filter by profile/currency first if
    the history mixes them.
    """

    count: int
    face_value: int
    cost: float
    per_brand: list[BrandTotal]
    failed: int
    in_doubt: int
    pending: int


DISTINCT_COLUMNS = frozenset({"gift_card_code", "agent", "state"})


def filter_sql(
    flt: HistoryFilter, conn: Conn, cipher: Cipher | None = None
) -> tuple[str, dict[str, Any]]:
    """WHERE clause (``"WHERE …"`` or ``""``) over ``pulls p``, and its named parameters, in
    the store's plain SQL for ``conn``'s dialect.

    ``cipher`` (the history's key) lets the search match card codes by more than their last 4
    characters (``cardcodes.code_search``, which may read the candidates through ``conn``).
    """
    d = conn.dialect
    where: list[str] = []
    params: dict[str, Any] = {}
    if flt.since is not None:
        where.append("p.created_at >= :since_")
        params["since_"] = to_db_time(flt.since)
    if flt.until is not None:
        where.append("p.created_at < :until_")
        params["until_"] = to_db_time(flt.until)
    for name, column, values in (
        ("states_", "p.state", [PullState(s).value for s in flt.states]),
        ("codes_", "p.gift_card_code", list(flt.gift_card_codes)),
        ("agents_", "p.agent", list(flt.agents)),
    ):
        if len(values) == 1:
            # An equality, not a one-value list: the (column, created_at) index then gives the
            # page in date order (IN over a list parameter hides the value from the planner).
            where.append(f"{column} = :{name}")
            params[name] = values[0]
        elif values:
            where.append(d.in_values(column, name, "text"))
            params[name] = conn.list_param(values)
    term = flt.search.strip()
    if term:
        text_sql, text_params = d.text_search(term)
        alternatives = [text_sql]
        params.update(text_params)
        card = cardcodes.code_search(term, conn, cipher)
        if card is not None:
            card_sql, card_params = card
            alternatives.append(d.in_select("p.id", card_sql))
            params.update(card_params)
        where.append("(" + " OR ".join(alternatives) + ")")
    return ("WHERE " + " AND ".join(where) if where else ""), params
