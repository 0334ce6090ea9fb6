"""The history's columns, each defined once: the history table, its sort keys, the CSV and XLSX
exports and the CLI's ``--json`` read them from here.

A column is an SQL expression over ``pulls p LEFT JOIN cards c`` (plain SQL that both
backends run; a case-insensitive sort is the dialect's own form), a label (in
English: the window translates it), how its values are formatted (``kind``), whether the
history is sortable by it, and where it appears. Adding a column is one entry here plus, when
its data is new, a migration.

``secret`` columns (the full code and PIN) are never selected by a query: they are decrypted
from the card, only for an export that asked for them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from walleo_desktop.store.dialect import Dialect

__all__ = [
    "COLUMNS",
    "EXPORT_COLUMNS",
    "SECRET_COLUMNS",
    "SORT_KEYS",
    "VIEW_COLUMNS",
    "Column",
    "Kind",
    "column",
    "order_sql",
    "sort_column",
]

Kind = Literal["time", "date", "text", "amount", "cost", "state", "code"]


@dataclass(frozen=True, slots=True)
class Column:
    key: str  # stable: CSV header, --json key, sort key, the view's column identity
    label: str  # English; the window shows QCoreApplication.translate("Columns", label)
    sql: str  # over "pulls p LEFT JOIN cards c", plain SQL both backends run
    kind: Kind
    sort: str | None = None  # ORDER BY expression; None: not sortable
    view: bool = False  # a column of the history table
    export: bool = True  # a column of the exports
    secret: bool = False  # a card code or PIN: only from the decrypted card
    user_text: bool = False  # typed by a person or sent by Walleo: defused in spreadsheets
    nulls_last: bool = False  # rows without a value sort last either way
    nocase: bool = False  # sorted without regard to case (the dialect's own way)
    then: str = ""  # ORDER BY expression for ties, before the pull id (its index's 2nd column)
    width: int = 0  # characters a spreadsheet column gets (XLSX); 0: what its kind needs

    def sort_sql(self, dialect: Dialect) -> str:
        if self.sort is None:
            raise ValueError(f"the history cannot be sorted by {self.key!r}")
        return dialect.nocase(self.sort) if self.nocase else self.sort


COLUMNS: tuple[Column, ...] = (
    Column("created_at", "Date", "p.created_at", "time", sort="p.created_at", view=True),
    Column(
        "agent",
        "Agent",
        "p.agent",
        "text",
        sort="p.agent",
        nocase=True,
        view=True,
        user_text=True,
        width=18,
    ),
    Column(
        "reference",
        "Reference",
        "p.reference",
        "text",
        sort="p.reference",
        nocase=True,
        view=True,
        user_text=True,
    ),
    Column("note", "Note", "p.note", "text", user_text=True, width=30),
    # Ties by date, then id: the (gift_card_code, created_at) index filters a brand by period
    # and gives this order, with no index of its own.
    Column(
        "gift_card_code",
        "Brand code",
        "p.gift_card_code",
        "text",
        sort="p.gift_card_code",
        then="p.created_at",
        user_text=True,
    ),
    Column(
        "gift_card_name",
        "Brand",
        "p.gift_card_name",
        "text",
        sort="p.gift_card_name",
        nocase=True,
        view=True,
        user_text=True,
        width=18,
    ),
    Column("amount", "Amount", "p.amount", "amount", sort="p.amount", view=True),
    Column("currency", "Currency", "p.currency", "text", user_text=True),
    # What was paid, in cents: only where a card was issued (empty otherwise, in every view).
    Column("cost", "Cost", "p.cost_cents", "cost", sort="p.cost_cents", view=True),
    Column("state", "Status", "p.state", "state", sort="p.state", then="p.created_at", view=True),
    Column(
        "request_id",
        "Request ID",
        "p.request_id",
        "text",
        sort="p.request_id",
        view=True,
        user_text=True,
        width=40,
    ),
    Column(
        "card_id",
        "Walleo card ID",
        "p.card_id",
        "text",
        sort="p.card_id",
        view=True,
        user_text=True,
        width=38,
    ),
    Column("code_last4", "Code", "coalesce(c.code_last4, '')", "code", view=True, user_text=True),
    # The day Walleo means (its time zone), stored with the card and copied to its pull (the
    # order is the day shown, then the pull id: an index of pulls gives it).
    Column(
        "expire_at",
        "Expires",
        "c.expire_day",
        "date",
        sort="p.card_expire_day",
        view=True,
        nulls_last=True,
    ),
    Column("error_code", "Error code", "p.error_code", "text", user_text=True, width=18),
    Column("error_message", "Error", "p.error_message", "text", user_text=True, width=40),
    Column("code", "Full code", "", "text", export=False, secret=True, user_text=True, width=24),
    Column("pin_code", "PIN", "", "text", export=False, secret=True, user_text=True),
)

_BY_KEY = {c.key: c for c in COLUMNS}
# The history table's columns, left to right.
VIEW_COLUMNS: tuple[Column, ...] = tuple(
    _BY_KEY[k]
    for k in (
        "created_at",
        "agent",
        "reference",
        "gift_card_name",
        "amount",
        "cost",
        "state",
        "request_id",
        "card_id",
        "code_last4",
        "expire_at",
    )
)
# The exports' columns, left to right (without codes); the codes come last when asked for.
EXPORT_COLUMNS: tuple[Column, ...] = tuple(c for c in COLUMNS if c.export)
SECRET_COLUMNS: tuple[Column, ...] = tuple(c for c in COLUMNS if c.secret)
SORT_KEYS: tuple[str, ...] = tuple(c.key for c in COLUMNS if c.sort is not None)


def column(key: str) -> Column:
    try:
        return _BY_KEY[key]
    except KeyError:
        raise ValueError(f"no history column {key!r}") from None


def sort_column(sort: str) -> Column:
    """The column of sort key ``sort``; ``ValueError`` for a key that is not one."""
    found = _BY_KEY.get(sort)
    if found is None or found.sort is None:
        raise ValueError(
            f"cannot sort the history by {sort!r}; choose one of {', '.join(SORT_KEYS)}"
        )
    return found


def order_sql(sort: str, descending: bool, dialect: Dialect) -> str:
    """ORDER BY clause for sort key ``sort``, always ending with the unique ``p.id``
    tiebreaker (so pages never skip nor repeat a row)."""
    found = sort_column(sort)
    direction = "DESC" if descending else "ASC"
    key = found.sort_sql(dialect)
    first = dialect.nulls_last(key, direction) if found.nulls_last else f"{key} {direction}"
    then = f", {found.then} {direction}" if found.then else ""
    return f"ORDER BY {first}{then}, p.id {direction}"
