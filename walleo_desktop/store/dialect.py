"""The small dialect table: what differs between SQLite and PostgreSQL in the history's queries.

Every query of the store (``core``, ``history``, ``export``) is written once, in plain SQL that
both engines run, with named parameters (``:name``). ``Dialect.sql`` turns that text into what
the driver wants (``sqlite3`` takes ``:name`` as it is; psycopg wants ``%(name)s`` and ``%%`` for
a literal percent sign). The few places where the engines really differ are named here, once:

- case-insensitive order and comparison (``COLLATE NOCASE`` / ``lower()``), and NULLs last
  in either direction;
- the largest and smallest of two values (``max``/``min`` with two arguments / ``GREATEST``/
  ``LEAST``);
- "skip the rows another transaction holds" when claiming pulls (SQLite serialises writers
  with ``BEGIN IMMEDIATE``, so it needs nothing; PostgreSQL takes ``FOR UPDATE SKIP LOCKED``);
- the next value of the change sequence;
- a list of values as one parameter (``json_each`` / ``unnest``);
- the search box's text search: SQLite's FTS5 trigram index (``pulls_fts``, schema v7) and an
  index under NOCASE for request ids, PostgreSQL's trigram GIN index over ``lower()``;
- an index hint where SQLite's planner, without statistics, picks the wrong index;
- formatting a cost in cents as text with two decimals (for the export).

Why not SQLAlchemy Core: the store has about forty queries, all of them portable SQL but for
the handful of fragments above; a query builder would add an import of ~150 ms to the first
paint, a second transaction model beside sqlite-utils', and indirection in every query, to save
a table of six entries. The DDL is per backend anyway (``sqlite/schema.py``,
``postgres/schema.py``): triggers, FTS and roles do not translate.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["POSTGRES", "SQLITE", "Dialect", "like_escape"]

_NAMED = re.compile(r"(?<![:\w]):([A-Za-z_][A-Za-z0-9_]*)")


@dataclass(frozen=True, slots=True)
class Dialect:
    name: Literal["sqlite", "postgresql"]
    greatest_fn: str
    least_fn: str
    skip_locked: str  # appended to the claim's inner SELECT

    def sql(self, text: str) -> str:
        """``text`` (named ``:parameters``) as this engine's driver takes it."""
        return _convert(self.name, text)

    def nocase(self, expression: str) -> str:
        """``expression`` compared and ordered without regard to (ASCII) case."""
        if self.name == "sqlite":
            return f"{expression} COLLATE NOCASE"
        return f"lower({expression})"

    def nulls_last(self, expression: str, direction: str) -> str:
        """ORDER BY terms for ``expression`` in ``direction`` (ASC/DESC) with its NULLs last
        either way, spelled as the index that gives that order is (SQLite's NULLs sort first:
        ascending needs an index on ``(expression IS NULL, expression)``)."""
        if self.name == "postgresql":
            return f"{expression} {direction} NULLS LAST"
        if direction == "DESC":
            return f"{expression} DESC"
        return f"{expression} IS NULL, {expression} ASC"

    @property
    def ilike(self) -> str:
        """LIKE without regard to (ASCII) case: SQLite's own LIKE already is."""
        return "LIKE" if self.name == "sqlite" else "ILIKE"

    def folded_contains(
        self, column: str, like: str, folded: str, *, ascii_term: bool = False
    ) -> str:
        """``casefold(column)`` contains the casefolded term: parameter ``:like`` holds
        ``%term%`` (casefolded, LIKE-escaped), ``:folded`` the casefolded term.

        SQLite's LIKE folds ASCII only: it decides exactly for the usual pure-ASCII text (then
        casefold is ASCII lower, and a non-ASCII term cannot match), and only text holding
        non-ASCII characters (more characters than bytes) goes through the Python function
        ``wd_casefold`` the SQLite backend installs; a Python call for ~1 row in 10.
        PostgreSQL's ``lower`` folds Unicode (UTF-8 database), its ILIKE compares.

        ``ascii_term``: the term is pure ASCII, so LIKE alone decides (the letters of the text
        that could fold to ASCII letters are the few like ``ß`` or ``ﬁ``, which the full-text
        index does not fold either): a search's count at a million pulls then makes no Python
        call, which held the GIL for ~0.3 s and stalled the window's paint (bench_history).
        """
        if self.name == "sqlite":
            if ascii_term:  # LIKE decides it: no Python call per row, the GIL stays free
                return f"({column} LIKE :{like} ESCAPE '\\')"
            return (
                f"({column} LIKE :{like} ESCAPE '\\' OR (length({column}) != "
                f"length(CAST({column} AS BLOB)) AND instr(wd_casefold({column}), :{folded}) > 0))"
            )
        return f"(lower({column}) LIKE :{like} ESCAPE '\\')"

    def text_search(self, term: str) -> tuple[str, dict[str, Any]]:
        """A condition over ``pulls p`` matching the search box's ``term`` (stripped, not
        empty), and its parameters: a request id starting with it, or a reference, note or
        brand name containing it, without regard to case (accents count).

        SQLite: request ids through ``pulls_request_id_nocase`` (LIKE's own optimisation, an
        index range), the rest through the FTS5 trigram index ``pulls_fts``, which needs 3
        characters; a shorter term is looked for row by row (it matches so many rows that the
        first screen fills at once). The index folds case as SQLite's Unicode tables do; the
        short path as ``folded_contains``: the same for every letter but the few whose
        case-folded form is longer (``ß`` is ``ss`` only to the short path).

        PostgreSQL: ``lower(column) LIKE``, which the trigram GIN index ``pulls_search_trgm``
        serves for 3+ characters.
        """
        folded = term.casefold()
        like = "%" + like_escape(folded) + "%"
        params: dict[str, Any] = {"rid_": like_escape(term) + "%"}
        columns = ("p.reference", "p.note", "p.gift_card_name")
        if self.name == "postgresql":
            params["rid_"] = like_escape(term.lower()) + "%"
            params["like_"] = "%" + like_escape(term.lower()) + "%"
            alternatives = ["lower(p.request_id) LIKE :rid_ ESCAPE '\\'"] + [
                f"lower({c}) LIKE :like_ ESCAPE '\\'" for c in columns
            ]
        elif len(term) >= 3:
            params["fts_"] = '"' + term.replace('"', '""') + '"'
            alternatives = [
                "p.request_id LIKE :rid_ ESCAPE '\\'",
                "p.id IN (SELECT rowid FROM pulls_fts WHERE pulls_fts MATCH :fts_)",
            ]
        else:
            params.update(like_=like, folded_=folded)
            plain = term.isascii()
            alternatives = ["p.request_id LIKE :rid_ ESCAPE '\\'"] + [
                self.folded_contains(c, "like_", "folded_", ascii_term=plain) for c in columns
            ]
        return "(" + " OR ".join(alternatives) + ")", params

    def greatest(self, a: str, b: str) -> str:
        return f"{self.greatest_fn}({a}, {b})"

    def least(self, a: str, b: str) -> str:
        return f"{self.least_fn}({a}, {b})"

    def in_list(self, param: str, sql_type: Literal["bigint", "text"] = "bigint") -> str:
        """A sub-SELECT of the values of list parameter ``:param`` (``Conn.list_param``), for
        ``x IN (...)``: one parameter however many values."""
        if self.name == "sqlite":
            return f"SELECT value FROM json_each(:{param})"  # noqa: S608 - a parameter name
        return f"SELECT unnest(CAST(:{param} AS {sql_type}[]))"

    def in_values(self, column: str, param: str, sql_type: Literal["bigint", "text"]) -> str:
        """``column`` is one of the values of list parameter ``:param``. PostgreSQL: ``= ANY``
        of the array, which an index condition takes (``IN (SELECT unnest(...))`` is a join
        with the list, which the planner cannot push into an index scan)."""
        if self.name == "sqlite":
            return f"{column} IN ({self.in_list(param, sql_type)})"
        return f"{column} = ANY(CAST(:{param} AS {sql_type}[]))"

    def in_select(self, column: str, select: str) -> str:
        """``column`` is one of the values ``select`` returns. PostgreSQL: ``= ANY(ARRAY(...))``,
        read once before the query (an InitPlan), so that an OR of it with other conditions
        can still be a BitmapOr of index scans (an ``IN (subquery)`` in an OR cannot)."""
        if self.name == "sqlite":
            return f"{column} IN ({select})"
        return f"{column} = ANY(ARRAY({select}))"

    def lock_key(self, conn: Any, key: str) -> None:
        """Serialise, until the end of the transaction, the writers that name ``key``. SQLite's
        writers are serialised already (``BEGIN IMMEDIATE``); PostgreSQL takes an advisory
        transaction lock on the key's hash."""
        if self.name == "postgresql":
            conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))", {"key": key})

    def index_hint(self, index: str) -> str:
        """Make the planner use ``index`` where statistics would mislead it (SQLite only)."""
        return f"INDEXED BY {index}" if self.name == "sqlite" else ""

    @property
    def next_seq(self) -> str:
        """A SELECT of the next value of the history's change sequence."""
        if self.name == "sqlite":  # writers are serialised (BEGIN IMMEDIATE): max + 1 is exact
            return "SELECT coalesce(max(change_seq), 0) + 1 FROM pulls"
        return "SELECT nextval('pulls_change_seq')"

    def cents_text(self, expression: str, decimal: str) -> str:
        """``expression`` (an integer number of cents) as text with two decimals."""
        if self.name == "sqlite":
            text = f"printf('%d.%02d', ({expression}) / 100, ({expression}) % 100)"
        else:
            text = f"to_char(({expression}) / 100.0, 'FM999999999990.00')"
        return text if decimal == "." else f"replace({text}, '.', '{decimal}')"


def like_escape(text: str) -> str:
    """``text`` as a LIKE pattern matching itself (with ``ESCAPE '\\'``)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


SQLITE = Dialect("sqlite", greatest_fn="max", least_fn="min", skip_locked="")
POSTGRES = Dialect(
    "postgresql", greatest_fn="GREATEST", least_fn="LEAST", skip_locked=" FOR UPDATE SKIP LOCKED"
)


@functools.lru_cache(maxsize=512)
def _convert(name: str, text: str) -> str:
    if name == "sqlite":
        return text
    return _NAMED.sub(r"%(\1)s", text.replace("%", "%%"))
