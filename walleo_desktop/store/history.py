"""History queries: filters, sort keys and result shapes. SQL filters, sorts and pages.

Only SQL text built here from fixed fragments reaches SQLite; every value is a parameter, and
sort keys and column names go through whitelists.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from walleo_desktop.store import cardcodes
from walleo_desktop.store.crypto import CardCipher
from walleo_desktop.store.records import CardRecord, PullRecord, PullState, to_db_time

__all__ = [
    "DISTINCT_COLUMNS",
    "SORT_KEYS",
    "BrandTotal",
    "HistoryFilter",
    "HistoryLine",
    "HistoryPage",
    "HistoryRow",
    "Totals",
    "filter_sql",
    "order_sql",
]


@dataclass(frozen=True, slots=True)
class HistoryFilter:
    """Which pulls to show. Empty tuples and strings mean "any".

    ``since`` is inclusive, ``until`` exclusive; both apply to ``created_at``. ``search``
    matches a request id (exactly or by prefix, case-insensitive), a substring of the reference
    or the note (case-insensitive, accents included), or a card code (the whole code, or its
    last characters, at least 4; spaces, dashes and case are ignored; more than 4 needs the
    history's key).
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


class HistoryLine(NamedTuple):
    """One pull as ``Store.iter_history`` streams it for an export: the fields a report needs,
    in a tuple that is cheap to build by the million (no catalog snapshot, no JSON).

    ``cost_cents`` is exact (face value less the partner discount, in cents). ``card`` is the
    card with its code and PIN, only when asked for (``with_codes``) and the pull has one.
    """

    pull_id: int
    created_at: datetime
    agent: str
    reference: str
    note: str
    gift_card_code: str
    gift_card_name: str
    amount: int
    currency: str
    cost_cents: int
    state: PullState
    request_id: str
    card_id: str
    code_last4: str
    expire_at: datetime | None
    error_code: str
    error_message: str
    card: CardRecord | None = None


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


# Sort key -> SQL expression over ``pulls p LEFT JOIN cards c``. Text sorts ignore ASCII case.
SORT_KEYS: dict[str, str] = {
    "created_at": "p.created_at",
    "agent": "p.agent COLLATE NOCASE",
    "reference": "p.reference COLLATE NOCASE",
    "gift_card_code": "p.gift_card_code",
    "gift_card_name": "p.gift_card_name COLLATE NOCASE",
    "amount": "p.amount",
    "cost": "p.cost_cents",
    "state": "p.state",
    "request_id": "p.request_id",
    "card_id": "p.card_id",
    "expire_at": "c.expire_at",
}

DISTINCT_COLUMNS = frozenset({"gift_card_code", "agent", "state"})


def order_sql(sort: str, descending: bool) -> str:
    """ORDER BY clause for ``sort``, always ending with the unique ``p.id`` tiebreaker."""
    try:
        expression = SORT_KEYS[sort]
    except KeyError:
        raise ValueError(
            f"cannot sort the history by {sort!r}; choose one of {', '.join(SORT_KEYS)}"
        ) from None
    direction = "DESC" if descending else "ASC"
    nulls = " NULLS LAST" if sort == "expire_at" else ""  # pulls without a card go last
    return f"ORDER BY {expression} {direction}{nulls}, p.id {direction}"


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _in(column: str, values: tuple[str, ...], where: list[str], params: list[Any]) -> None:
    if values:
        where.append(f"{column} IN ({', '.join('?' for _ in values)})")
        params.extend(values)


# "casefold(column) contains the casefolded term", fast: SQLite's LIKE (C code, ASCII case
# folding) decides exactly for the usual pure-ASCII text (then casefold == ASCII lower, and a
# non-ASCII term cannot match), and only text holding non-ASCII characters (more characters
# than bytes is false for it: length() counts characters, the BLOB cast bytes) goes through
# the Python function. Same answers as the function alone, a Python call for ~1 row in 10.
_FOLDED_CONTAINS = (
    "({column} LIKE ? ESCAPE '\\' OR (length({column}) != length(CAST({column} AS BLOB)) "
    "AND instr(wd_casefold({column}), ?) > 0))"
)


def filter_sql(flt: HistoryFilter, cipher: CardCipher | None = None) -> tuple[str, list[Any]]:
    """WHERE clause (``"WHERE …"`` or ``""``) over ``pulls p``, and its parameters.

    ``cipher`` (the history's key) lets the search match card codes by more than their last 4
    characters (``cardcodes.code_search``).

    Searching reference and note uses the connection function ``wd_casefold`` (Python's
    ``str.casefold``), which ``Store.open`` registers: SQLite's own case folding is ASCII-only
    and would not find "Équipe" when searching "équipe".
    """
    where: list[str] = []
    params: list[Any] = []
    if flt.since is not None:
        where.append("p.created_at >= ?")
        params.append(to_db_time(flt.since))
    if flt.until is not None:
        where.append("p.created_at < ?")
        params.append(to_db_time(flt.until))
    _in("p.state", tuple(PullState(s).value for s in flt.states), where, params)
    _in("p.gift_card_code", flt.gift_card_codes, where, params)
    _in("p.agent", flt.agents, where, params)
    term = flt.search.strip()
    if term:
        folded = term.casefold()
        contains = "%" + _like_escape(folded) + "%"
        alternatives = [
            "p.request_id LIKE ? ESCAPE '\\'",
            _FOLDED_CONTAINS.format(column="p.reference"),
            _FOLDED_CONTAINS.format(column="p.note"),
        ]
        params.extend([_like_escape(term) + "%", contains, folded, contains, folded])
        card = cardcodes.code_search(term, cipher)
        if card is not None:
            card_sql, card_params = card
            in_cards = f"p.id IN ({card_sql})"
            alternatives.append(in_cards)
            params.extend(card_params)
        where.append("(" + " OR ".join(alternatives) + ")")
    return ("WHERE " + " AND ".join(where) if where else ""), params
