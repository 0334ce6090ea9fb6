"""Bulk orders from a file: read a CSV or XLSX order, preview it against the catalog, issue it
as one journaled batch, follow it, and account for every row afterwards. No Qt.

Reading (``read_order``) never sends anything. The columns are found by their header, in
English or French, case and accents ignored: brand (``marque``: a code or an exact name),
amount (``montant``), quantity (``quantité``, default 1), reference (``référence``), note, and
an optional e-mail (kept in the results file only: Walleo's pull has no recipient).

- CSV: UTF-8 with or without a BOM (UTF-16 with a BOM too), else Windows-1252 (said in the
  preview's notes); the delimiter (``,`` ``;`` or tab, or Excel's ``sep=`` first line) is the
  one that splits the header into known column names, never a guess (two that do as well are
  refused); Excel's quoting ("" inside quotes, line breaks in a quoted cell).
- XLSX: python-calamine (see ``_read_xlsx`` for why), first visible worksheet. Numbers are
  numbers (``50.0`` is 50); a date where an amount is expected is a problem, a date in a text
  column is written ``2026-11-25``. A formula cell is read as the value the spreadsheet saved
  with it (what its author saw); nothing is ever evaluated here.
- Amounts are read exactly or not at all: ``50``, ``50,00 €``, ``50.0``, ``1 000``,
  ``1,000.00`` and ``1.000,00`` are read; ``1,000`` or ``1.500`` (thousands, or a decimal
  with three places?) and ``50,50`` (not a whole amount) are problems, as is text that looks
  like a formula (``=25*2``: kept as text, never evaluated).

Caps, each refused with a sentence (and the row number where there is one): a file above
``MAX_FILE_BYTES`` (20 MiB), an XLSX whose parts unpack to more than ``MAX_UNPACKED_BYTES``
(200 MiB: a zip bomb is refused before it is read), more than ``MAX_ROWS`` (50,000) rows or
``MAX_BATCH`` cards, a cell above ``MAX_CELL_CHARS`` (1,000 characters: that row is refused,
the others are still previewed), a reference above 200 or a note above 500 characters (as the
pull form).

The preview (``Preview``) checks every row before anything is sent: unknown or ambiguous
brand, an amount the brand does not take (``validate_amount``), a quantity that is not a
positive whole number, a missing reference, control characters; it warns about a reference
found on several rows and about text that looks like a formula; it counts and skips empty
rows; it totals cards and money per brand and overall. ``check_history`` then adds what the
history knows: rows identical (reference, brand, amount) to pulls of the last 24 hours
(``OrderRow.duplicates``: "already issued on … by …", issued again only when the user says so)
and earlier imports of the same file, or of the same rows in another file (``earlier``:
asked before issuing a second time).

Issuing (``BulkRun``), and what a crash can and cannot lose:

- The rows to issue are journaled under ONE batch id, one request id per card, in chunks of
  about ``CHUNK_CARDS`` cards, each chunk one ``PullEngine.submit_batch`` (one transaction: a
  row's cards are never split). Journal before send holds for every card as for any pull.
- Why chunks: the engine sends what is journaled as fast as its concurrency allows, and an
  intent in the journal is a promise to send it. So *pause* means "journal no further chunk":
  the cards already journaled (at most about two chunks) are still sent and finished, the
  rows after them wait, in memory, unsent and unjournaled, until *resume*. The next chunk is
  also held back while the previous ones are not yet acknowledged by Walleo (a low-water mark
  on queued/sending/in-doubt cards), so an unreachable Walleo stops the journaling instead of
  piling 50,000 queued intents up, and short transactions keep the journal's writer free for
  the other pulls.
- Before its first chunk, the import is recorded in the history's settings (``ImportRecord``:
  file hash, rows hash, batch id, who, when, state ``open``); a run that ends marks it
  ``done`` (or ``stopped`` when the user stopped it).
- A crash mid-batch: every journaled card resumes at the next start like any pull (the
  journal holds it; nothing here is needed for that). What was not journaled yet is found by
  comparing the file with the journal: ``reconcile`` reads the pulls of that batch id and
  aligns them with the file's rows in file order (each chunk, hence each run, journals rows in
  file order; a row's cards are consecutive), so every row is *journaled* (with its pulls) or
  *not journaled*. Opening the same file again finds the ``open`` import by its hash and
  offers to continue it: the same batch id, only the rows not journaled.
- The results file (``write_results``), next to the input, lists every row of the file: its
  status, the request ids and last 4 characters of each card (never a full code). It is
  built from the journal, not from memory, so it says the same after a crash.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import csv
import hashlib
import io
import itertools
import logging
import math
import os
import re
import tempfile
import threading
import unicodedata
import uuid
import zipfile
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, overload

from walleo_desktop.api.models import GiftCard
from walleo_desktop.engine.pulls import (
    MAX_AMOUNT,
    MAX_BATCH,
    MAX_QUANTITY,
    BatchLine,
    PullEngine,
    PullEvent,
    validate_amount,
)
from walleo_desktop.store import DuplicateIntentError, HistoryRow, Owner, Store, StoreCore
from walleo_desktop.store.records import PullRecord, PullState, from_db_time, to_db_time, utcnow

__all__ = [
    "CHUNK_CARDS",
    "MAX_CELL_CHARS",
    "MAX_FILE_BYTES",
    "MAX_NOTE",
    "MAX_REFERENCE",
    "MAX_ROWS",
    "MAX_UNPACKED_BYTES",
    "BrandTotal",
    "BulkFileError",
    "BulkRun",
    "ImportRecord",
    "ImportTakenError",
    "IssueTotals",
    "OrderRow",
    "OrderRows",
    "Preview",
    "Problem",
    "Progress",
    "RowResult",
    "Summary",
    "align",
    "check_history",
    "earlier_imports",
    "open_imports",
    "parse_amount",
    "preview_file",
    "read_order",
    "reconcile",
    "record_import",
    "results_path",
    "row_results",
    "rows_hash",
    "summarize",
    "write_results",
]

log = logging.getLogger("walleo.engine.bulk")

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_UNPACKED_BYTES = 200 * 1024 * 1024
MAX_ROWS = MAX_BATCH
MAX_CELL_CHARS = 1_000
MAX_REFERENCE = 200
MAX_NOTE = 500
CHUNK_CARDS = 500
# Imports remembered in the history's settings (same-file detection), newest first.
IMPORTS_SETTING = "bulk_imports"
MAX_IMPORTS_KEPT = 200
# How far before an import's recorded start its pulls are looked for (clock differences
# between this computer and a team's database server).
_CLOCK_MARGIN = timedelta(hours=1)
# An open import whose run has not journaled for this long (and whose process is not known to
# be alive on this computer) may be continued by another run.
STALE_AFTER = timedelta(minutes=10)
_DISPLAY_CHARS = 120  # what a preview keeps of a cell for display

FIELDS = ("brand", "amount", "quantity", "reference", "note", "email")
REQUIRED = ("brand", "amount", "reference")
_HEADERS: dict[str, str] = {
    name: column
    for column, names in {
        "brand": ("brand", "marque", "giftcard", "giftcardcode", "cartecadeau", "enseigne"),
        "amount": ("amount", "montant", "value", "valeur"),
        "quantity": ("quantity", "quantite", "qty", "qte", "count", "nombre"),
        "reference": ("reference", "ref", "customerreference", "referenceclient"),
        "note": ("note", "notes", "comment", "commentaire"),
        "email": ("email", "mail", "courriel", "emailaddress", "adresseemail"),
    }.items()
    for name in names
}


# ------------------------------------------------------------------------------ problems


_TEXTS: dict[str, str] = {
    # file
    "not_found": "There is no file {path}.",
    "unreadable": "The file cannot be read: {error}.",
    "unsupported": "Only .csv and .xlsx files can be read (not {suffix}).",
    "too_big": "The file is {size:,} bytes; at most {max:,} bytes can be read.",
    "unpacked_too_big": "The spreadsheet unpacks to {size:,} bytes; at most {max:,} are read.",
    "not_text": "The file is neither UTF-8 nor Windows-1252 text.",
    "bad_csv": "Row {row}: the file cannot be read as CSV ({error}).",
    "bad_xlsx": "The file cannot be read as an XLSX spreadsheet ({error}).",
    "no_sheet": "The spreadsheet has no visible worksheet.",
    "empty": "The file holds no rows.",
    "no_header": "Row {row} names none of the columns brand, amount, quantity, reference, note.",
    "delimiter_unclear": "The header can be split by {delimiters} alike; save the file again.",
    "missing_columns": "Row {row} has no {missing} column (found: {found}).",
    "duplicate_column": "Two columns are the {column}: {headers}.",
    "too_many_rows": "The file holds more than {max:,} rows; split it.",
    "too_many_cards": "The order is {cards:,} cards; at most {max:,} can be issued from one file.",
    # notes
    "encoding_cp1252": "The file is not UTF-8: it was read as Windows-1252; check the accents.",
    "ignored_columns": "Not used: {columns}.",
    "other_sheets": "Only the worksheet {sheet!r} was read (also in the file: {others}).",
    # rows
    "missing_brand": "No brand.",
    "unknown_brand": "No brand {brand!r} in the catalog.",
    "ambiguous_brand": "{brand!r} names several brands ({codes}): use the code.",
    "missing_amount": "No amount.",
    "amount_not_number": "{text!r} is not an amount.",
    "amount_ambiguous": "{text!r} could be {first} or {second}: write it without separator.",
    "amount_not_whole": "{text!r} is not a whole amount.",
    "amount_formula": "{text!r} looks like a formula: formulas are not computed; type the amount.",
    "amount_date": "{text!r} is a date, not an amount.",
    "amount_out_of_range": "The amount must be from 1 to {max:,}.",
    "amount_refused": "{brand} does not take {amount}: {rule}",
    "quantity_invalid": "{text!r} is not a number of cards.",
    "quantity_out_of_range": "The quantity must be from 1 to {max:,}.",
    "missing_reference": "No reference.",
    "control_chars": "The {column} holds a line break or another control character.",
    "too_long": "The {column} is {length:,} characters long; at most {max:,}.",
    "reference_repeated": "The reference is also on row(s) {rows}.",
    "formula_text": "The {column} looks like a formula; it is kept as text.",
    "email_invalid": "{text!r} does not look like an e-mail address.",
}


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong (or worth a look) in a file or a row. ``kind`` names it for the front
    ends (each says it in its own language), ``text`` is the English sentence."""

    kind: str
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        template = _TEXTS.get(self.kind, self.kind)
        try:
            return template.format(**self.params)
        except (KeyError, ValueError, IndexError):
            return template


class BulkFileError(ValueError):
    """The file cannot be previewed at all (nothing was sent): ``problem`` says why."""

    def __init__(self, kind: str, **params: Any) -> None:
        self.problem = Problem(kind, params)
        super().__init__(self.problem.text)


# ------------------------------------------------------------------------------ reading


Cell = str | int | float | bool | date | datetime | time | timedelta | None


@dataclass(slots=True)
class _Table:
    kind: str  # "csv" | "xlsx"
    rows: Iterator[tuple[int, list[Cell]]]  # (row number as the spreadsheet shows it, cells)
    notes: list[Problem]
    delimiter: str = ","


def _read_bytes(path: Path) -> bytes:
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise BulkFileError("not_found", path=str(path)) from None
    except OSError as exc:
        raise BulkFileError("unreadable", error=exc.strerror or str(exc)) from None
    if size > MAX_FILE_BYTES:
        raise BulkFileError("too_big", size=size, max=MAX_FILE_BYTES)
    try:
        with path.open("rb") as f:
            data = f.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise BulkFileError("unreadable", error=exc.strerror or str(exc)) from None
    if len(data) > MAX_FILE_BYTES:  # it grew meanwhile
        raise BulkFileError("too_big", size=len(data), max=MAX_FILE_BYTES)
    return data


def _decode(data: bytes, notes: list[Problem]) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # Excel's "Unicode text"
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise BulkFileError("not_text") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        raise BulkFileError("not_text") from None
    notes.append(Problem("encoding_cp1252"))
    return text


def _header_key(text: object) -> str:
    """A header as compared: accents, case, spaces and punctuation ignored."""
    folded = unicodedata.normalize("NFKD", str(text)).casefold()
    return "".join(c for c in folded if c.isalnum() and not unicodedata.combining(c))


def _known(cells: Iterable[object]) -> int:
    return len({_HEADERS[k] for k in map(_header_key, cells) if k in _HEADERS})


def _read_csv(data: bytes) -> _Table:
    notes: list[Problem] = []
    text = _decode(data, notes)
    # Refuse a huge cell with its row number instead of the csv module's own limit
    # (131,072 characters): the file's cap bounds what a cell can be.
    csv.field_size_limit(max(csv.field_size_limit(), MAX_FILE_BYTES + 1))
    delimiter = ""
    first_line, _, rest = text.partition("\n")
    sep = re.fullmatch(r"\s*sep=(.)\s*", first_line)
    if sep:  # Excel's own hint line: it hides it, and so do we
        delimiter, text = sep.group(1), rest
    if not delimiter:
        delimiter = _sniff(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    # csv.Error (a stray quote, a NUL byte) is turned into BulkFileError with the row number
    # by whoever iterates (``_check_rows``, ``_preview``): no generator in the hot loop.
    return _Table("csv", enumerate(reader, start=1), notes, delimiter)  # type: ignore[arg-type]


def _sniff(text: str) -> str:
    """The delimiter that splits the first non-empty line into the most known column names."""
    head = ""
    for line in io.StringIO(text, newline=""):
        if line.strip():
            head = line
            break
    best: list[tuple[int, str]] = []
    for delimiter in (",", ";", "\t"):
        try:
            cells = next(csv.reader([head], delimiter=delimiter), [])
        except csv.Error:
            continue
        best.append((_known(cells), delimiter))
    best.sort(reverse=True)
    if not best or best[0][0] == 0:
        return ","  # no header at all: said later, with the row
    if len(best) > 1 and best[1][0] == best[0][0]:
        names = " or ".join(repr(d) for n, d in best if n == best[0][0])
        raise BulkFileError("delimiter_unclear", delimiters=names)
    return best[0][1]


def _read_xlsx(path: Path, data: bytes) -> _Table:
    """The first visible worksheet, through python-calamine.

    Why python-calamine rather than openpyxl: on a 50,000-row order it reads the sheet in
    0.3 s against 6.4 s for openpyxl's read-only mode (measured on this project's 2-core
    machine), it parses in Rust with the GIL released (another thread, such as the window's,
    was never held up more than 4 ms while it parsed, against 69 ms for openpyxl), it has no
    dependency of its own, and it is maintained (MIT, releases through 2026). What it does not
    do, and we do not need: write files, or give the text of formulas (a formula cell is read
    as the value saved with it).
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise BulkFileError("bad_xlsx", error=str(exc) or type(exc).__name__) from None
    if unpacked > MAX_UNPACKED_BYTES:
        raise BulkFileError("unpacked_too_big", size=unpacked, max=MAX_UNPACKED_BYTES)
    import python_calamine as calamine

    notes: list[Problem] = []
    try:
        workbook = calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
        visible = [
            m.name
            for m in workbook.sheets_metadata
            if m.typ == calamine.SheetTypeEnum.WorkSheet
            and m.visible == calamine.SheetVisibleEnum.Visible
        ]
        if not visible:
            raise BulkFileError("no_sheet")
        sheet = workbook.get_sheet_by_name(visible[0])
        if sheet.height > 2 * MAX_ROWS + 1000:  # empty rows aside, far too many anyway
            raise BulkFileError("too_many_rows", max=MAX_ROWS)
        # iter_rows() starts at the sheet's first row (empty ones included) and at its first
        # used column: row numbers are as the spreadsheet shows them, columns are relative.
        rows: list[tuple[int, list[Cell]]] = [
            (i + 1, list(cells)) for i, cells in enumerate(sheet.iter_rows())
        ]
    except BulkFileError:
        raise
    except Exception as exc:  # calamine's own errors, and anything a broken file triggers
        raise BulkFileError("bad_xlsx", error=str(exc)[:200] or type(exc).__name__) from None
    finally:
        with contextlib.suppress(Exception):
            workbook.close()
    if len(visible) > 1:
        notes.append(
            Problem("other_sheets", {"sheet": visible[0], "others": ", ".join(visible[1:])})
        )
    return _Table("xlsx", iter(rows), notes)


def _blank(cells: Sequence[Cell]) -> bool:
    for cell in cells:
        if cell is None:
            continue
        if isinstance(cell, str):
            if cell.strip():
                return False
            continue
        return False
    return True


# ------------------------------------------------------------------------------ cells


_SPACES = str.maketrans({"\u00a0": " ", "\u202f": " ", "\u2009": " ", "\t": " "})
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_FORMULA_FIRST = frozenset("=+@")
_DIGITS = re.compile(r"[0-9]+")
# 50 | 1 000 | 50,00 | 1 000.5 ; the separator and decimals are checked below
_PLAIN = re.compile(r"([0-9]{1,3}(?: [0-9]{3})+|[0-9]+)(?:([.,])([0-9]+))?")
_GROUPED_EN = re.compile(r"([0-9]{1,3}(?:,[0-9]{3})+)(?:\.([0-9]+))?")
_GROUPED_FR = re.compile(r"([0-9]{1,3}(?:\.[0-9]{3})+)(?:,([0-9]+))?")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def _text(cell: Cell) -> str:
    """A cell as text, the way a spreadsheet shows it (12345.0 is "12345", a date ISO)."""
    if cell is None:
        return ""
    if isinstance(cell, str):
        return cell
    if isinstance(cell, bool):
        return "TRUE" if cell else "FALSE"
    if isinstance(cell, float):
        if math.isfinite(cell) and cell.is_integer():
            return str(int(cell))
        return repr(cell)
    if isinstance(cell, datetime):
        return cell.isoformat(sep=" ")
    if isinstance(cell, date | time):
        return cell.isoformat()
    return str(cell)


def _strip_currency(text: str) -> str:
    s = text.translate(_SPACES).strip()
    lowered = s.lower()
    if lowered.startswith("eur"):
        s = s[3:].strip()
    elif s.startswith("€"):
        s = s[1:].strip()
    lowered = s.lower()
    if lowered.endswith("eur"):
        s = s[:-3].strip()
    elif s.endswith("€"):
        s = s[:-1].strip()
    return s


def parse_amount(cell: Cell) -> tuple[int | None, Problem | None]:
    """A whole amount read from a cell exactly, or the problem: never a guess."""
    if cell is None or (isinstance(cell, str) and not cell.strip()):
        return None, Problem("missing_amount")
    if isinstance(cell, bool):
        return None, Problem("amount_not_number", {"text": _text(cell)})
    if isinstance(cell, int):
        value = cell
    elif isinstance(cell, float):
        if not math.isfinite(cell) or not cell.is_integer():
            return None, Problem("amount_not_whole", {"text": _text(cell)})
        value = int(cell)
    elif isinstance(cell, date | datetime | time | timedelta):
        return None, Problem("amount_date", {"text": _text(cell)})
    else:
        raw = str(cell)
        if raw.isascii() and raw.isdigit():  # the common case, first
            value = int(raw)
        else:
            parsed = _parse_amount_text(raw)
            if isinstance(parsed, Problem):
                return None, parsed
            value = parsed
    if not 0 < value <= MAX_AMOUNT:
        return None, Problem("amount_out_of_range", {"max": MAX_AMOUNT})
    return value, None


def _parse_amount_text(raw: str) -> int | Problem:
    text = raw.strip()
    if text[:1] in _FORMULA_FIRST:
        return Problem("amount_formula", {"text": text[:40]})
    s = _strip_currency(text)
    whole, decimals = "", ""
    m = _PLAIN.fullmatch(s)
    if m:
        whole, sep, decimals = m.group(1), m.group(2), m.group(3) or ""
        plain = " " not in whole
        if sep and len(decimals) == 3 and plain and len(whole) <= 3 and whole[0] != "0":
            # "1,000" or "1.500": a thousands separator, or three decimals? Never guessed.
            first = int(whole + decimals)
            second = f"{whole}.{decimals}".rstrip("0").rstrip(".")
            return Problem(
                "amount_ambiguous", {"text": text[:40], "first": first, "second": second}
            )
        whole = whole.replace(" ", "")
    else:
        for pattern, group in ((_GROUPED_EN, ","), (_GROUPED_FR, ".")):
            g = pattern.fullmatch(s)
            if g:
                whole, decimals = g.group(1).replace(group, ""), g.group(2) or ""
                break
        else:
            return Problem("amount_not_number", {"text": text[:40]})
    if decimals.strip("0"):
        return Problem("amount_not_whole", {"text": text[:40]})
    return int(whole)


def _parse_quantity(cell: Cell) -> tuple[int | None, Problem | None]:
    if cell is None or (isinstance(cell, str) and not cell.strip()):
        return 1, None
    value: int | None = None
    if isinstance(cell, bool):
        value = None
    elif isinstance(cell, int):
        value = cell
    elif isinstance(cell, float):
        value = int(cell) if math.isfinite(cell) and cell.is_integer() else None
    elif isinstance(cell, str):
        s = cell.translate(_SPACES).strip()
        if _DIGITS.fullmatch(s):
            value = int(s)
        elif re.fullmatch(r"[0-9]+[.,]0+", s):
            value = int(re.split(r"[.,]", s)[0])
    if value is None:
        return None, Problem("quantity_invalid", {"text": _text(cell)[:40]})
    if not 1 <= value <= MAX_QUANTITY:
        return None, Problem("quantity_out_of_range", {"max": MAX_QUANTITY})
    return value, None


# ------------------------------------------------------------------------------ preview


@dataclass(slots=True)
class OrderRow:
    """One row of the file as previewed. ``errors`` keep it from being issued; ``warnings``
    do not; ``duplicates`` are pulls of the last 24 hours with its reference, brand and
    amount (issued again only when the user says so)."""

    number: int
    brand: str
    amount_text: str
    quantity_text: str
    reference: str
    note: str
    email: str
    gift_card: GiftCard | None = None
    amount: int | None = None
    count: int | None = None
    # Shared empty tuples until there is something to say: 50,000 rows, most of them fine.
    errors: Sequence[Problem] = ()
    warnings: Sequence[Problem] = ()
    duplicates: Sequence[PullRecord] = ()
    journaled: Sequence[HistoryRow] = ()  # when continuing an import

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def cards(self) -> int:
        return self.count or 0 if self.ok else 0

    def line(self) -> BatchLine:
        assert self.gift_card is not None and self.amount is not None and self.count
        return BatchLine(self.gift_card, self.amount, self.count, self.reference, self.note)

    def key(self) -> tuple[str, str, int]:
        """What the duplicate guard compares: reference, brand, amount."""
        code = self.gift_card.code if self.gift_card is not None else ""
        return (self.reference, code, self.amount or 0)


@dataclass(frozen=True, slots=True)
class BrandTotal:
    code: str
    name: str
    cards: int
    value: int


# What the duplicate guard compares: reference, brand code, amount.
_Key = tuple[str, str, int]
# What a row's brand, amount and quantity cells come to, checked once per distinct
# combination: the gift card, amount, count, the problems, and the three cells as text.
_Combo = tuple[GiftCard | None, int | None, int | None, tuple[Problem, ...], str, str, str]


class OrderRows(Sequence[OrderRow]):
    """The rows of a preview, in file order, stored compactly and built as ``OrderRow`` objects
    only when one is asked for (then kept: the same object every time, so what
    ``check_history`` sets on a row stays on it).

    Why: a 50,000-row preview built 50,000 objects (about 25 ms of the 150 ms the preview
    took, a figure of issue 13), while a window shows twenty rows at a time and most passes
    need a few numbers per row. Stored per row: its number, which checked combination of
    brand, amount and quantity it has (an order repeats a few), its reference, note and
    e-mail; the problems of the few rows whose own cells have any, by position.

    A row never built holds nothing but what was read: its ``duplicates`` and ``journaled``
    are empty (setting them needs the object), so the passes that must know them look at the
    rows built (``built``) and count the others from the compact lists.

    A row is built once even when two threads ask for it at the same time (a window painting
    it while a run lists the rows to issue in a thread).
    """

    __slots__ = (
        "_built",
        "_clean",
        "_combo_of",
        "_combos",
        "_emails",
        "_lock",
        "_notes",
        "_numbers",
        "_problems",
        "_references",
    )

    def __init__(
        self,
        numbers: list[int],
        combo_of: list[int],
        combos: list[_Combo],
        references: list[str],
        notes: list[str],
        emails: list[str],
        problems: dict[int, tuple[Sequence[Problem], Sequence[Problem]]],
    ) -> None:
        self._numbers = numbers
        self._combo_of = combo_of
        self._combos = combos
        self._references = references
        self._notes = notes
        self._emails = emails
        self._problems = problems  # position -> (errors, warnings) when not the combo's alone
        self._built: list[OrderRow | None] = [None] * len(numbers)
        self._lock = threading.Lock()
        # Rows without any error, per combination (counted in C: no loop per row here).
        counts = Counter(combo_of)
        for position, (errors, _) in problems.items():
            combo = combo_of[position]
            if errors and not combos[combo][3]:
                counts[combo] -= 1
        self._clean = {c: n for c, n in counts.items() if n and not combos[c][3]}

    def __len__(self) -> int:
        return len(self._numbers)

    @overload
    def __getitem__(self, index: int) -> OrderRow: ...

    @overload
    def __getitem__(self, index: slice) -> list[OrderRow]: ...

    def __getitem__(self, index: int | slice) -> OrderRow | list[OrderRow]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        built = self._built
        row = built[index]  # IndexError as a list's
        if row is None:
            with self._lock:
                row = built[index]
                if row is None:
                    position = index if index >= 0 else index + len(built)
                    row = built[index] = self._build(position)
        return row

    def __iter__(self) -> Iterator[OrderRow]:
        for position in range(len(self._numbers)):
            yield self[position]

    def _build(self, position: int) -> OrderRow:
        card, amount, count, errors, brand, amount_text, quantity_text = self._combos[
            self._combo_of[position]
        ]
        warnings: Sequence[Problem] = ()
        own = self._problems.get(position)
        if own is not None:
            errors, warnings = own  # type: ignore[assignment]
        return OrderRow(
            self._numbers[position],
            brand,
            amount_text,
            quantity_text,
            self._references[position],
            self._notes[position],
            self._emails[position],
            card,
            amount,
            count,
            errors,
            warnings,
        )

    # -- passes that need no row object ------------------------------------------------------

    def _ok(self, position: int) -> bool:
        own = self._problems.get(position)
        if own is not None:
            return not own[0]
        return not self._combos[self._combo_of[position]][3]

    def positions(self, *, ok: bool) -> list[int]:
        """Positions of the rows without errors (``ok``) or with, in file order."""
        bad = {c for c, combo in enumerate(self._combos) if combo[3]}
        own = self._problems
        if not own:
            if not bad:
                return list(range(len(self._numbers))) if ok else []
            return [p for p, c in enumerate(self._combo_of) if (c in bad) is not ok]
        return [
            p
            for p, c in enumerate(self._combo_of)
            if (bool(own[p][0]) if p in own else c in bad) is not ok
        ]

    def warned(self) -> list[int]:
        """Positions of the rows with warnings, in file order."""
        return sorted(p for p, (_, warnings) in self._problems.items() if warnings)

    def built(self) -> Iterator[OrderRow]:
        """The rows built so far, in file order: the only ones that can have ``duplicates``
        or ``journaled``."""
        yield from (row for row in self._built if row is not None)

    def by_number(self, number: int) -> OrderRow | None:
        position = bisect.bisect_left(self._numbers, number)
        if position < len(self._numbers) and self._numbers[position] == number:
            return self[position]
        return None

    def keys(self) -> tuple[dict[_Key, int], dict[_Key, list[int]]]:
        """What the duplicate guard compares (reference, brand, amount) of the rows without
        errors (rows without a reference left out) -> the position of the first row that
        has it; and -> the positions of the others, for the few keys found on several rows.

        One int per row, not a list: 50,000 lists outliving this call made the garbage
        collector walk the whole heap (50 ms, the window waiting on the GIL meanwhile)."""
        first: dict[_Key, int] = {}
        more: dict[_Key, list[int]] = {}
        combos = self._combos
        own = self._problems
        for position, (combo, reference) in enumerate(
            zip(self._combo_of, self._references, strict=True)
        ):
            card, amount, _, errors = combos[combo][:4]
            if not reference or errors or card is None or amount is None:
                continue
            if position in own and own[position][0]:
                continue
            key = (reference, card.code, amount)
            if first.setdefault(key, position) != position:
                more.setdefault(key, []).append(position)
        return first, more

    def hash_lines(self) -> list[str]:
        """One line per row without errors: brand code, amount, count, reference, note."""
        prefixes = [
            f"{card.code}\x1f{amount}\x1f{count}\x1f" if card is not None and not errors else None
            for card, amount, count, errors, *_ in self._combos
        ]
        own = self._problems
        lines = []
        for position, (combo, reference, note) in enumerate(
            zip(self._combo_of, self._references, self._notes, strict=True)
        ):
            prefix = prefixes[combo]
            if prefix is None or (position in own and own[position][0]):
                continue
            lines.append(f"{prefix}{reference}\x1f{note}")
        return lines

    def totals(self) -> tuple[list[BrandTotal], int, int]:
        """Cards and money of every row without errors: per brand (by name), cards, value."""
        per_code: dict[str, list[Any]] = {}
        cards = value = 0
        for combo, rows in self._clean.items():
            card, amount, count = self._combos[combo][:3]
            assert card is not None and amount is not None and count is not None
            entry = per_code.setdefault(card.code, [card.name, 0, 0])
            entry[1] += rows * count
            entry[2] += rows * count * amount
            cards += rows * count
            value += rows * count * amount
        brands = [
            BrandTotal(code, name, n, v)
            for code, (name, n, v) in sorted(per_code.items(), key=lambda kv: kv[1][0].casefold())
        ]
        return brands, cards, value

    def error_count(self) -> int:
        return len(self._numbers) - sum(self._clean.values())


@dataclass(frozen=True, slots=True)
class IssueTotals:
    """The rows a confirmation would issue: how many, their cards and value, per brand."""

    rows: int
    cards: int
    value: int
    brands: tuple[BrandTotal, ...] = ()


@dataclass(frozen=True, slots=True)
class Summary:
    """A preview counted as a whole where it is built (a thread), so that a window shows it
    without a pass over 50,000 rows: rows with errors, rows already issued in the last 24
    hours (``duplicate_rows``), cards journaled by an interrupted import of the file, and
    what a confirmation would issue without the duplicates or with them."""

    rows: int
    error_rows: int
    duplicate_rows: int
    journaled_cards: int
    without_duplicates: IssueTotals
    with_duplicates: IssueTotals

    def to_issue(self, *, include_duplicates: bool) -> IssueTotals:
        return self.with_duplicates if include_duplicates else self.without_duplicates


def summarize(rows: OrderRows) -> Summary:
    """Count ``rows`` (blocking: a thread): the compact lists, plus the rows built."""
    brands = rows.totals()[0]
    ok_rows = len(rows) - rows.error_count()
    # Rows taken out of what would be issued: journaled before (both ways) or already issued
    # in the last 24 hours (unless included); only a built row can be either.
    out: dict[bool, dict[str, list[int]]] = {False: {}, True: {}}
    out_rows = {False: 0, True: 0}
    duplicate_rows = journaled_cards = 0
    for row in rows.built():
        journaled_cards += len(row.journaled)
        if row.errors or not (row.journaled or row.duplicates):
            continue
        assert row.gift_card is not None and row.amount is not None and row.count is not None
        ways = (False, True) if row.journaled else (False,)
        if not row.journaled:
            duplicate_rows += 1
        for way in ways:
            entry = out[way].setdefault(row.gift_card.code, [0, 0])
            entry[0] += row.count
            entry[1] += row.count * row.amount
            out_rows[way] += 1

    def issue(way: bool) -> IssueTotals:
        left = out[way]
        kept = []
        for total in brands:
            n, v = left.get(total.code, (0, 0))
            if total.cards - n:
                kept.append(replace(total, cards=total.cards - n, value=total.value - v))
        return IssueTotals(
            rows=ok_rows - out_rows[way],
            cards=sum(t.cards for t in kept),
            value=sum(t.value for t in kept),
            brands=tuple(kept),
        )

    return Summary(
        rows=len(rows),
        error_rows=len(rows) - ok_rows,
        duplicate_rows=duplicate_rows,
        journaled_cards=journaled_cards,
        without_duplicates=issue(False),
        with_duplicates=issue(True),
    )


@dataclass(frozen=True, slots=True)
class ImportRecord:
    """An import remembered in the history's settings (for "this file was imported on …")."""

    batch_id: str
    file_sha256: str
    rows_sha256: str
    file_name: str
    at: datetime
    agent: str
    cards: int
    state: str  # "open" (running, or stopped by a crash) | "done" | "stopped"
    profile: str = ""
    owner: str = ""  # the engine running it (``store.Owner``), while open
    heartbeat: datetime | None = None  # its last chunk (or start)

    def abandoned(self, now: datetime) -> bool:
        """An open import nobody runs any more: its process is gone, or it has not journaled
        for ``STALE_AFTER`` (another computer's window closed, a crash elsewhere)."""
        if self.state != "open":
            return False
        if not self.owner or Owner.is_dead_here(self.owner):
            return True
        return (now - (self.heartbeat or self.at)) > STALE_AFTER

    def to_json(self) -> dict[str, Any]:
        return {
            "batch_id": self.batch_id,
            "file_sha256": self.file_sha256,
            "rows_sha256": self.rows_sha256,
            "file_name": self.file_name,
            "at": to_db_time(self.at),
            "agent": self.agent,
            "cards": self.cards,
            "state": self.state,
            "profile": self.profile,
            "owner": self.owner,
            "heartbeat": to_db_time(self.heartbeat),
        }

    @classmethod
    def from_json(cls, data: Any) -> ImportRecord | None:
        try:
            at = from_db_time(str(data["at"]))
            assert at is not None
            return cls(
                batch_id=str(data["batch_id"]),
                file_sha256=str(data["file_sha256"]),
                rows_sha256=str(data.get("rows_sha256", "")),
                file_name=str(data.get("file_name", "")),
                at=at,
                agent=str(data.get("agent", "")),
                cards=int(data.get("cards", 0)),
                state=str(data.get("state", "done")),
                profile=str(data.get("profile", "")),
                owner=str(data.get("owner", "")),
                heartbeat=from_db_time(data.get("heartbeat") or None),
            )
        except (KeyError, TypeError, ValueError, AssertionError):
            return None


@dataclass(slots=True)
class Preview:
    path: Path
    kind: str
    file_sha256: str
    rows: OrderRows
    skipped_empty: int
    notes: list[Problem]
    blocking: list[Problem]  # the order as a whole cannot be issued (too many cards)
    columns: dict[str, str]  # field -> the header it was found under
    totals: list[BrandTotal]
    cards: int
    value: int
    rows_sha256: str
    summary: Summary  # counted where the preview is built (``summarize``), never by a window
    delimiter: str = ","
    earlier: list[ImportRecord] = field(default_factory=list)
    continuing: ImportRecord | None = None  # an interrupted import of this file, to finish
    history_checked: bool = False

    # Each of these builds the rows it returns (and to_issue() every row it would issue): not
    # for a window's thread with 50,000 rows; ``summary`` has the counts.

    @property
    def error_rows(self) -> list[OrderRow]:
        return [self.rows[p] for p in self.rows.positions(ok=False)]

    @property
    def warning_rows(self) -> list[OrderRow]:
        return [self.rows[p] for p in self.rows.warned()]

    @property
    def duplicate_rows(self) -> list[OrderRow]:
        return [r for r in self.rows.built() if r.ok and r.duplicates and not r.journaled]

    def to_issue(self, *, include_duplicates: bool) -> list[OrderRow]:
        """The rows a confirmation would issue, in file order."""
        rows = self.rows
        return [
            row
            for row in map(rows.__getitem__, rows.positions(ok=True))
            if not row.journaled and (include_duplicates or not row.duplicates)
        ]


class _Brands:
    """Brand lookup by code (exactly, then ignoring case) or by exact name (ignoring case)."""

    def __init__(self, cards: Iterable[GiftCard]) -> None:
        self.by_code: dict[str, GiftCard] = {}
        self.by_key: dict[str, list[GiftCard]] = {}
        for card in cards:
            self.by_code[card.code] = card
        for card in self.by_code.values():
            for key in {card.code.casefold(), card.name.strip().casefold()}:
                self.by_key.setdefault(key, []).append(card)

    def find(self, text: str) -> GiftCard | list[GiftCard] | None:
        card = self.by_code.get(text)
        if card is not None:
            return card
        found = self.by_key.get(text.casefold())
        if not found:
            return None
        if len(found) == 1:
            return found[0]
        exact = [g for g in found if g.code.casefold() == text.casefold()]
        return exact[0] if len(exact) == 1 else found


def _clip(text: str) -> str:
    return text if len(text) <= _DISPLAY_CHARS else text[: _DISPLAY_CHARS - 1] + "…"


def read_order(path: Path, catalog: Iterable[GiftCard]) -> Preview:
    """Read and check an order file (blocking: run it in a thread). ``BulkFileError`` when
    the file as a whole cannot be read; row problems are in the preview."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".txt", ".xlsx", ".xlsm"):
        raise BulkFileError("unsupported", suffix=suffix or path.name)
    data = _read_bytes(path)
    digest = hashlib.sha256(data).hexdigest()
    table = _read_xlsx(path, data) if suffix in (".xlsx", ".xlsm") else _read_csv(data)
    del data
    return _preview(path, table, digest, _Brands(catalog))


def _preview(path: Path, table: _Table, digest: str, brands: _Brands) -> Preview:
    rows_iter = iter(table.rows)
    header: tuple[int, list[Cell]] | None = None
    try:
        for number, cells in rows_iter:
            if not _blank(cells):
                header = (number, cells)
                break
    except csv.Error as exc:
        raise BulkFileError("bad_csv", row="1", error=str(exc)) from None
    if header is None:
        raise BulkFileError("empty")
    header_row, header_cells = header
    columns: dict[str, int] = {}
    names: dict[str, str] = {}
    ignored: list[str] = []
    for index, cell in enumerate(header_cells):
        label = _text(cell).strip()
        column = _HEADERS.get(_header_key(label))
        if column is None:
            if label:
                ignored.append(repr(label[:40]))
            continue
        if column in columns:
            raise BulkFileError(
                "duplicate_column", column=column, headers=f"{names[column]!r}, {label!r}"
            )
        columns[column] = index
        names[column] = label
    if not columns:
        raise BulkFileError("no_header", row=header_row)
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        raise BulkFileError(
            "missing_columns",
            row=header_row,
            missing=", ".join(missing),
            found=", ".join(repr(n) for n in names.values()),
        )
    notes = list(table.notes)
    if ignored:
        notes.append(Problem("ignored_columns", {"columns": ", ".join(ignored)}))

    rows, skipped = _check_rows(table.rows, [columns.get(f, -1) for f in FIELDS], brands)
    totals, cards, value = rows.totals()
    blocking = []
    if cards > MAX_BATCH:
        blocking.append(Problem("too_many_cards", {"cards": cards, "max": MAX_BATCH}))
    return Preview(
        path=path,
        kind=table.kind,
        file_sha256=digest,
        rows=rows,
        skipped_empty=skipped,
        notes=notes,
        blocking=blocking,
        columns=names,
        totals=totals,
        cards=cards,
        value=value,
        rows_sha256="",  # check_history computes it (a sort of every row: only when needed)
        summary=summarize(rows),
        delimiter=table.delimiter,
    )


def _check_rows(
    records: Iterator[tuple[int, list[Cell]]], positions: list[int], brands: _Brands
) -> tuple[OrderRows, int]:
    """Check every data row; (the rows, the number of empty rows skipped).

    The hot loop of a 50,000-row preview (issue 13: at most twice the time the ``csv`` module
    takes to read the file plus one catalog lookup per row). Brand, amount and quantity are
    checked once per distinct combination (an order repeats a few of them); a row's own
    cells with C-level string methods, and with the slow checks only when those find
    something odd; nothing per row but a few list appends (``OrderRows``)."""
    numbers: list[int] = []
    combo_of: list[int] = []
    combos: list[_Combo] = []
    references: list[str] = []
    notes: list[str] = []
    emails: list[str] = []
    problems: dict[int, tuple[Sequence[Problem], Sequence[Problem]]] = {}
    lists = (numbers, combo_of, combos, references, notes, emails)
    long_references: dict[int, str] = {}
    try:
        skipped = _check_rows_loop(records, positions, brands, lists, problems, long_references)
    except csv.Error as exc:
        after = numbers[-1] if numbers else 1
        raise BulkFileError("bad_csv", row=f"{after + 1}", error=str(exc)) from None
    _warn_repeated(numbers, references, problems, combo_of, combos, long_references)
    return OrderRows(numbers, combo_of, combos, references, notes, emails, problems), skipped


def _check_rows_loop(
    records: Iterator[tuple[int, list[Cell]]],
    positions: list[int],
    brands: _Brands,
    lists: tuple[list[int], list[int], list[_Combo], list[str], list[str], list[str]],
    problems: dict[int, tuple[Sequence[Problem], Sequence[Problem]]],
    long_references: dict[int, str],
) -> int:
    """The loop of ``_check_rows``; the number of empty rows skipped."""
    bi, ai, qi, ri, ni, ei = positions
    numbers, combo_of, combos, references, notes, emails = lists
    add_number, add_combo = numbers.append, combo_of.append
    add_reference, add_note, add_email = references.append, notes.append, emails.append
    seen: dict[tuple[Cell, Cell, Cell], int] = {}
    combo_index = seen.get
    skipped = 0
    for number, cells in records:
        n = len(cells)
        b = cells[bi] if bi < n else None
        a = cells[ai] if ai < n else None
        q = cells[qi] if 0 <= qi < n else None
        r = cells[ri] if ri < n else ""
        nt = cells[ni] if 0 <= ni < n else ""
        e = cells[ei] if 0 <= ei < n else ""
        r = r.strip() if type(r) is str else _text(r).strip()
        nt = nt.strip() if type(nt) is str else _text(nt).strip()
        e = e.strip() if type(e) is str else _text(e).strip()
        if not r and not nt and not e and _blank((b, a, q)):
            skipped += 1
            continue
        if number > MAX_ROWS and len(numbers) >= MAX_ROWS:  # numbers count headers and blanks
            raise BulkFileError("too_many_rows", max=MAX_ROWS)
        key = (b, a, q)
        combo = combo_index(key)
        if combo is None:
            combo = seen[key] = len(combos)
            combos.append(_check_combo(b, a, q, brands))
        if (
            not r
            or len(r) > MAX_REFERENCE
            or not r.isprintable()
            or r[0] in _FORMULA_FIRST
            or (nt and (len(nt) > MAX_NOTE or not nt.isprintable() or nt[0] in _FORMULA_FIRST))
            or (e and (len(e) > MAX_CELL_CHARS or not _EMAIL.fullmatch(e)))
        ):
            if len(r) > MAX_CELL_CHARS:  # compared whole for "repeated", kept clipped
                long_references[len(numbers)] = r
            base = combos[combo][3]
            errors, warnings, r, nt, e = _check_texts(r, nt, e, base)
            if errors is not base or warnings:
                problems[len(numbers)] = (errors, warnings)
        add_number(number)
        add_combo(combo)
        add_reference(r)
        add_note(nt)
        add_email(e)
    return skipped


def _check_texts(
    r: str, nt: str, e: str, errors: Sequence[Problem]
) -> tuple[Sequence[Problem], Sequence[Problem], str, str, str]:
    """The slow checks of a row's reference, note and e-mail that the fast ones found odd:
    its errors (after ``errors``, its combination's), its warnings, and the three texts as
    kept (a cell above ``MAX_CELL_CHARS`` is clipped: the preview keeps no 10 MB cell)."""
    warnings: Sequence[Problem] = ()
    if not r:
        errors = (*errors, Problem("missing_reference"))
    elif len(r) > MAX_REFERENCE or not r.isprintable() or r[0] in _FORMULA_FIRST:
        errors, warnings = _check_text("reference", r, MAX_REFERENCE, errors, warnings)
    if nt and (len(nt) > MAX_NOTE or not nt.isprintable() or nt[0] in _FORMULA_FIRST):
        errors, warnings = _check_text("note", nt, MAX_NOTE, errors, warnings)
    if e and (len(e) > MAX_CELL_CHARS or not _EMAIL.fullmatch(e)):
        if len(e) > MAX_CELL_CHARS:
            errors = (*errors, Problem("too_long", {"column": "email", "length": len(e)}))
        else:
            warnings = (*warnings, Problem("email_invalid", {"text": e[:60]}))
        e = _clip(e)
    r = r if len(r) <= MAX_CELL_CHARS else _clip(r)
    nt = nt if len(nt) <= MAX_CELL_CHARS else _clip(nt)
    return errors, warnings, r, nt, e


def _warn_repeated(
    numbers: list[int],
    references: list[str],
    problems: dict[int, tuple[Sequence[Problem], Sequence[Problem]]],
    combo_of: list[int],
    combos: list[_Combo],
    long_references: dict[int, str],
) -> None:
    """Warn about a reference found on several rows (each row names the others)."""
    distinct = set(references)
    distinct.discard("")
    given = len(references) - references.count("")
    if len(distinct) == given and not long_references:  # the common case: nothing repeated
        return
    groups: dict[str, list[int]] = {}
    for position, reference in enumerate(references):
        if reference:
            groups.setdefault(long_references.get(position, reference), []).append(position)
    for group in groups.values():
        if len(group) < 2:
            continue
        group_numbers = [numbers[p] for p in group]
        for position in group:
            others = [n for n in group_numbers if n != numbers[position]]
            shown = ", ".join(str(n) for n in others[:5]) + (" …" if len(others) > 5 else "")
            errors, warnings = problems.get(position, (combos[combo_of[position]][3], ()))
            warning = Problem("reference_repeated", {"rows": shown})
            problems[position] = (errors, (*warnings, warning))


def _check_text(
    column: str, text: str, cap: int, errors: Sequence[Problem], warnings: Sequence[Problem]
) -> tuple[Sequence[Problem], Sequence[Problem]]:
    """The slow checks of a reference or note that the fast ones found odd."""
    if len(text) > MAX_CELL_CHARS or len(text) > cap:
        limit = min(cap, MAX_CELL_CHARS)
        errors = (
            *errors,
            Problem("too_long", {"column": column, "length": len(text), "max": limit}),
        )
    if _CONTROL.search(text):
        errors = (*errors, Problem("control_chars", {"column": column}))
    if text[0] in _FORMULA_FIRST:
        warnings = (*warnings, Problem("formula_text", {"column": column}))
    return errors, warnings


def _check_combo(b: Cell, a: Cell, q: Cell, brands: _Brands) -> _Combo:
    """Brand, amount and quantity of a row: the gift card, amount, count, the problems, and
    the three cells as text (for display)."""
    brand = _text(b).strip()
    amount_text = _text(a).strip()
    quantity_text = _text(q).strip()
    problems: list[Problem] = []
    for column, text in (("brand", brand), ("amount", amount_text), ("quantity", quantity_text)):
        if len(text) > MAX_CELL_CHARS:
            problems.append(
                Problem("too_long", {"column": column, "length": len(text), "max": MAX_CELL_CHARS})
            )
    display = (_clip(brand), _clip(amount_text), _clip(quantity_text))
    if problems:
        return (None, None, None, tuple(problems), *display)
    card: GiftCard | None = None
    if not brand:
        problems.append(Problem("missing_brand"))
    else:
        found = brands.find(brand)
        if found is None:
            problems.append(Problem("unknown_brand", {"brand": brand[:60]}))
        elif isinstance(found, list):
            codes = ", ".join(sorted(g.code for g in found))
            problems.append(Problem("ambiguous_brand", {"brand": brand[:60], "codes": codes}))
        else:
            card = found
    amount, problem = parse_amount(a)
    if problem is not None:
        problems.append(problem)
    elif card is not None and amount is not None:
        rule = validate_amount(card, amount)
        if rule:
            params = {"brand": card.name, "amount": amount, "rule": rule, "code": card.code}
            problems.append(Problem("amount_refused", params))
    count, problem = _parse_quantity(q)
    if problem is not None:
        problems.append(problem)
    return (card, amount, count, tuple(problems), *display)


def rows_hash(rows: Iterable[OrderRow]) -> str:
    """The same order, whatever file it came in (CSV or XLSX, quoted or not, reordered).
    Blocking (a sort of every row): run it in a thread."""
    if isinstance(rows, OrderRows):
        lines = rows.hash_lines()  # the same lines, without building the rows
    else:
        lines = [
            f"{r.gift_card.code}\x1f{r.amount}\x1f{r.count}\x1f{r.reference}\x1f{r.note}"
            for r in rows
            if r.ok and r.gift_card is not None
        ]
    lines.sort()
    digest = hashlib.sha256()
    for line in lines:
        digest.update(line.encode("utf-8", "surrogatepass") + b"\n")
    return digest.hexdigest()


# ------------------------------------------------------------------------------ history


async def check_history(store: Store, preview: Preview, *, profile: str = "") -> Preview:
    """Add what the history knows to ``preview``: rows issued in the last 24 hours
    (``duplicates``), earlier imports of this file or of these rows (``earlier``), and an
    interrupted import of it to continue (``continuing``, its rows ``journaled``).

    Every pass over the rows runs in a thread (the reads in the database's): the caller's
    loop may be a window's, and the rows may be 50,000."""
    (first, more), ordered, digest = await asyncio.to_thread(_history_keys, preview)
    if not preview.rows_sha256:
        preview.rows_sha256 = digest
    preview.earlier = await earlier_imports(store, preview)
    newest = preview.earlier[0] if preview.earlier else None
    found: dict[int, list[HistoryRow]] = {}
    if (
        newest is not None
        and newest.state == "open"
        and newest.file_sha256 == preview.file_sha256
        and newest.profile in ("", profile)
    ):
        # This file's last import did not end: continue it (same batch id, the rows not
        # journaled), unless it is still running somewhere (``BulkRun`` refuses then).
        preview.continuing = newest
        found = await reconcile(store, preview, newest)
    ours = preview.continuing.batch_id if preview.continuing is not None else None
    matches: dict[tuple[str, str, int], list[PullRecord]] = {}
    for start in range(0, len(ordered), 1000):
        chunk = ordered[start : start + 1000]
        found_chunk = await store.run_read(_duplicates_of_keys, chunk)
        matches.update(found_chunk)
    await asyncio.to_thread(_apply_history, preview, first, more, found, matches, ours)
    preview.history_checked = True
    return preview


def _history_keys(
    preview: Preview,
) -> tuple[tuple[dict[_Key, int], dict[_Key, list[int]]], list[_Key], str]:
    """The rows' duplicate-guard keys (``OrderRows.keys``), the same sorted, and (unless
    known) the rows' hash."""
    keys = preview.rows.keys()
    return keys, sorted(keys[0]), preview.rows_sha256 or rows_hash(preview.rows)


def _apply_history(
    preview: Preview,
    first: dict[_Key, int],
    more: dict[_Key, list[int]],
    journaled: dict[int, list[HistoryRow]],
    matches: dict[tuple[str, str, int], list[PullRecord]],
    ours: str | None,
) -> None:
    """Set what the history said on the rows it concerns (building those only), then count
    the preview again (``summary``). Blocking: a thread."""
    rows = preview.rows
    for row in rows.built():  # a second check starts afresh
        row.duplicates = ()
        row.journaled = ()
    for number, history in journaled.items():
        found = rows.by_number(number)
        if found is not None:
            found.journaled = history
    for key, pulls in matches.items():
        others = [p for p in pulls if ours is None or p.batch_id != ours]
        if others and key in first:
            for position in (first[key], *more.get(key, ())):
                rows[position].duplicates = others
    preview.summary = summarize(rows)


def _duplicates_of_keys(
    core: StoreCore, keys: Sequence[tuple[str, str, int]]
) -> dict[tuple[str, str, int], list[PullRecord]]:
    found: dict[tuple[str, str, int], list[PullRecord]] = {}
    for reference, code, amount in keys:
        pulls = core.duplicates_of(reference, code, amount)
        if pulls:
            found[(reference, code, amount)] = pulls
    return found


async def _imports(store: Store) -> list[ImportRecord]:
    raw = await store.get_setting(IMPORTS_SETTING, [])
    records = [ImportRecord.from_json(item) for item in raw] if isinstance(raw, list) else []
    return [r for r in records if r is not None]


async def earlier_imports(store: Store, preview: Preview) -> list[ImportRecord]:
    """Imports of this very file, or of the same rows in another file, newest first."""
    return [
        r
        for r in await _imports(store)
        if r.file_sha256 == preview.file_sha256
        or (preview.rows_sha256 and r.rows_sha256 == preview.rows_sha256 and preview.cards)
    ]


async def open_imports(store: Store, *, profile: str | None = None) -> list[ImportRecord]:
    """Imports that did not end (a crash, a window closed mid-order), newest first."""
    return [
        r
        for r in await _imports(store)
        if r.state == "open" and (profile is None or r.profile in ("", profile))
    ]


class ImportTakenError(RuntimeError):
    """Another run (another window, another desktop) is running this import: ``record``."""

    def __init__(self, record: ImportRecord) -> None:
        when = (record.heartbeat or record.at).strftime("%Y-%m-%d %H:%M")
        super().__init__(
            f"This import is being run by {record.agent or 'someone'} (last active {when} UTC). "
            "Nothing more was journaled here."
        )
        self.record = record


async def record_import(store: Store, record: ImportRecord) -> None:
    """Remember (or update, by batch id) an import; the newest ``MAX_IMPORTS_KEPT`` are kept.

    An open import is written only by the run that owns it (``owner``): a run taking over an
    open import owned by a live run elsewhere raises ``ImportTakenError``. The read, the check
    and the write are one transaction, serialised with every other writer of the history."""

    def update(core: StoreCore) -> None:
        core.dialect.lock_key(core.conn, IMPORTS_SETTING)
        raw = core.get_setting(IMPORTS_SETTING, [])
        items = [i for i in raw if isinstance(i, dict)] if isinstance(raw, list) else []
        for item in items:
            if item.get("batch_id") == record.batch_id:
                current = ImportRecord.from_json(item)
                if (
                    current is not None
                    and current.state == "open"
                    and current.owner
                    and current.owner != record.owner
                    and not current.abandoned(core.now())
                ):
                    raise ImportTakenError(current)
        items = [i for i in items if i.get("batch_id") != record.batch_id]
        items.insert(0, record.to_json())
        core.set_setting(IMPORTS_SETTING, items[:MAX_IMPORTS_KEPT])

    await store.run(lambda core: core.conn.write(lambda: update(core)))


# ------------------------------------------------------------------------------ reconcile


def _matches(row: OrderRow, pull: PullRecord) -> bool:
    return (
        row.gift_card is not None
        and pull.gift_card_code == row.gift_card.code
        and pull.amount == row.amount
        and pull.reference == row.reference
        and pull.note == row.note
    )


def align(rows: Sequence[OrderRow], pulls: Sequence[HistoryRow]) -> dict[int, list[HistoryRow]]:
    """Which journaled pulls are which row's: row number -> its pulls (rows absent: not
    journaled). Retries (``retry_of``) are left out: they follow their original pull.

    Each run of an import journals rows in file order, a row's cards consecutively, so the
    pulls (in id order) are a few interleaved file-order sequences: one greedy pass per run.
    """
    remaining = [h for h in pulls if h.pull.retry_of is None]
    candidates = [r for r in rows if r.ok and r.count]
    found: dict[int, list[HistoryRow]] = {}
    while remaining and candidates:
        left: list[HistoryRow] = []
        position = 0
        unmatched: list[OrderRow] = []
        for row in candidates:
            count = row.count or 0
            take = remaining[position : position + count]
            if len(take) == count and all(_matches(row, h.pull) for h in take):
                found[row.number] = take
                position += count
            else:
                unmatched.append(row)
        left = remaining[position:]
        if len(left) == len(remaining):  # no progress: what is left matches no row
            break
        remaining, candidates = left, unmatched
    return found


async def reconcile(
    store: Store, preview: Preview, record: ImportRecord
) -> dict[int, list[HistoryRow]]:
    """The pulls journaled for each row of ``preview`` under ``record``'s batch id."""
    pulls = await store.batch(record.batch_id, since=record.at - _CLOCK_MARGIN)
    return await asyncio.to_thread(align, preview.rows, pulls)


# ------------------------------------------------------------------------------ issuing


@dataclass(frozen=True, slots=True)
class Progress:
    """Cards of a run: ``planned`` in all; ``journaled`` so far; ``sent`` (a create went out);
    ``issued`` / ``failed`` (final) / ``in_doubt``; the rest are on their way."""

    planned: int
    journaled: int
    sent: int
    issued: int
    failed: int
    in_doubt: int
    paused: bool
    finished: bool
    stopped: bool = False

    @property
    def waiting(self) -> int:
        """Cards not journaled yet (held by a pause, or not reached yet)."""
        return self.planned - self.journaled


DuplicateDecision = Callable[[list[OrderRow], list[PullRecord]], Awaitable[bool]]


class BulkRun:
    """Issue the rows of a preview as one batch (see the module docstring): ``await run()``.

    ``pause()`` / ``resume()`` hold and release the next chunk; ``stop()`` journals nothing
    more and lets what is journaled finish. ``progress`` is a snapshot (read it on a timer:
    it costs nothing). ``on_duplicates(rows, pulls)`` is asked when, during the run, a chunk
    meets pulls made meanwhile by someone else with the same reference, brand and amount
    (True: issue them again; False, and by default: leave those rows out).
    """

    def __init__(
        self,
        engine: PullEngine,
        preview: Preview,
        *,
        include_duplicates: bool = False,
        chunk_cards: int = CHUNK_CARDS,
        on_duplicates: DuplicateDecision | None = None,
    ) -> None:
        self.engine = engine
        self.store = engine.store
        self.preview = preview
        # The rows to issue are listed when the run starts, in a thread (``run``): this may
        # be a window's thread, and the preview 50,000 rows. Until then, what its summary says.
        self.rows: list[OrderRow] = []
        self.include_duplicates = include_duplicates
        self.batch_id = preview.continuing.batch_id if preview.continuing else uuid.uuid4().hex[:12]
        self.chunk_cards = max(1, chunk_cards)
        self._on_duplicates = on_duplicates
        self._confirmed: set[int] = set()  # pulls the rows may repeat (confirmed)
        self.skipped: dict[int, list[PullRecord]] = {}  # row -> pulls it duplicated (left out)
        self.row_pulls: dict[int, list[PullRecord]] = {}
        self.planned = preview.summary.to_issue(include_duplicates=include_duplicates).cards
        self._states: dict[int, tuple[PullState, bool]] = {}
        self._counts = {"journaled": 0, "sent": 0, "issued": 0, "failed": 0, "in_doubt": 0}
        self._unacked = 0  # queued, sending or in doubt: not yet taken by Walleo
        self._go = asyncio.Event()
        self._go.set()
        self._changed = asyncio.Event()
        self._stopping = False
        self._finished = False
        self.started_at: datetime | None = None
        self.final: list[PullRecord] = []
        self.record: ImportRecord | None = None
        self._ids: set[int] = set()  # pulls this run journaled
        # Pulls of this batch journaled before (an interrupted import continued): rows of the
        # file that repeat one another may meet them in the duplicate guard.
        self._earlier_ids: set[int] = set()
        self._planned = False

    def _plan(self) -> None:
        """The rows to issue, what they may repeat, what this batch journaled before (a pass
        over every row: blocking, run in a thread)."""
        rows = self.preview.to_issue(include_duplicates=self.include_duplicates)
        if self.include_duplicates:
            self._confirmed |= {p.id for r in rows for p in r.duplicates}
        self._earlier_ids = {h.pull.id for r in self.preview.rows.built() for h in r.journaled}
        self.planned = sum(r.count or 0 for r in rows)
        self.rows = rows
        self._planned = True

    # -- control -------------------------------------------------------------------------------

    def pause(self) -> None:
        self._go.clear()

    def resume(self) -> None:
        self._go.set()

    def stop(self) -> None:
        self._stopping = True
        self._go.set()
        self._changed.set()

    @property
    def paused(self) -> bool:
        return not self._go.is_set() and not self._stopping

    @property
    def progress(self) -> Progress:
        c = self._counts
        return Progress(
            planned=self.planned,
            journaled=c["journaled"],
            sent=c["sent"],
            issued=c["issued"],
            failed=c["failed"],
            in_doubt=c["in_doubt"],
            paused=self.paused,
            finished=self._finished,
            stopped=self._stopping,
        )

    # -- events --------------------------------------------------------------------------------

    def _on_event(self, event: PullEvent) -> None:
        pull = event.pull
        if pull.batch_id != self.batch_id or pull.retry_of is not None:
            return
        before = self._states.get(pull.id)
        state = pull.state
        sent = pull.sent_at is not None or state not in (PullState.QUEUED, PullState.SENDING)
        if before is None:
            if event.kind != "added" and pull.id not in self._ids:
                return  # a pull of an earlier run of this import: not counted here
            self._counts["journaled"] += 1
        else:
            self._count(before, -1)
        self._states[pull.id] = (state, sent)
        self._count((state, sent), +1)
        self._changed.set()

    def _count(self, entry: tuple[PullState, bool], sign: int) -> None:
        state, sent = entry
        c = self._counts
        if sent:
            c["sent"] += sign
        if state is PullState.SUCCESS:
            c["issued"] += sign
        elif state in (PullState.ERROR, PullState.REJECTED):
            c["failed"] += sign
        elif state is PullState.IN_DOUBT:
            c["in_doubt"] += sign
        if state in (PullState.QUEUED, PullState.SENDING, PullState.IN_DOUBT):
            self._unacked += sign

    # -- the run -------------------------------------------------------------------------------

    def chunks(self) -> Iterator[list[OrderRow]]:
        chunk: list[OrderRow] = []
        cards = 0
        for row in self.rows:
            chunk.append(row)
            cards += row.count or 0
            if cards >= self.chunk_cards:
                yield chunk
                chunk, cards = [], 0
        if chunk:
            yield chunk

    async def run(self) -> list[PullRecord]:
        """Journal and send every chunk (unless stopped), then wait until every journaled
        card is final or no longer driven. Returns the journaled pulls' last records.

        ``ValueError`` (nothing recorded, nothing sent) when there is no row to issue or the
        order is too big; ``ImportTakenError`` when another run is running this import."""
        if not self._planned:
            await asyncio.to_thread(self._plan)
        if not self.rows:
            raise ValueError("There is no row to issue.")
        if self.preview.blocking:
            raise ValueError(self.preview.blocking[0].text)
        self.started_at = utcnow()
        continuing = self.preview.continuing
        self.record = ImportRecord(
            batch_id=self.batch_id,
            file_sha256=self.preview.file_sha256,
            rows_sha256=self.preview.rows_sha256,
            file_name=self.preview.path.name,
            at=continuing.at if continuing is not None else self.started_at,
            agent=self.engine.agent,
            cards=self.planned + (continuing.cards if continuing is not None else 0),
            state="open",
            profile=self.engine.profile,
            owner=str(self.engine.owner),
            heartbeat=self.started_at,
        )
        await record_import(self.store, self.record)  # before the first chunk (or refused)
        unsubscribe = self.engine.subscribe(self._on_event)
        waiters: list[asyncio.Task[list[PullRecord]]] = []
        try:
            for chunk in self.chunks():
                await self._wait_turn()
                if self._stopping:
                    break
                # Still ours (a run elsewhere may have taken over a long pause): then journal.
                self.record = replace(self.record, heartbeat=utcnow())
                await record_import(self.store, self.record)
                pulls = await self._submit(chunk)
                if pulls:
                    ids = [p.id for p in pulls]
                    waiters.append(asyncio.ensure_future(self.engine.wait(ids)))
            results = await asyncio.gather(*waiters)
            self.final = list(itertools.chain.from_iterable(results))  # no loop per card here
        except asyncio.CancelledError:
            # Closed mid-run (the window, the process on its way out): the import stays open,
            # nobody's, so that the next run may continue it at once.
            with contextlib.suppress(Exception):
                await asyncio.shield(record_import(self.store, replace(self.record, owner="")))
            raise
        finally:
            for waiter in waiters:
                waiter.cancel()
            unsubscribe()
        self._finished = True
        self.record = replace(self.record, state="stopped" if self._stopping else "done")
        await record_import(self.store, self.record)
        self._changed.set()
        return self.final

    async def _wait_turn(self) -> None:
        """Until the run is not paused and Walleo has taken most of what was sent."""
        low_water = max(1, self.chunk_cards // 2)
        while not self._stopping:
            if not self._go.is_set():
                await self._go.wait()
                continue
            if self._unacked <= low_water:
                return
            self._changed.clear()
            if self._unacked <= low_water:
                return
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(1.0):
                    await self._changed.wait()

    async def _submit(self, chunk: list[OrderRow]) -> list[PullRecord]:
        rows = list(chunk)
        while rows:
            try:
                pulls = await self.engine.submit_batch(
                    [r.line() for r in rows],
                    batch_id=self.batch_id,
                    confirmed_duplicates=self._confirmed,
                )
            except DuplicateIntentError as exc:
                # Rows of this file repeating one another meet the cards this import journaled
                # for the first of them: the order was confirmed with them, they go. Anything
                # else (another agent meanwhile, a second run of this import) is asked.
                known = self._ids | self._earlier_ids
                ours = {m.id for m in exc.matches if m.id in known}
                others = [m for m in exc.matches if m.id not in known]
                self._confirmed |= ours
                if not others:
                    continue
                keys = {(m.reference, m.gift_card_code, m.amount) for m in others}
                hit = [r for r in rows if r.key() in keys]
                again = False
                if self._on_duplicates is not None and hit:
                    again = await self._on_duplicates(hit, others)
                if again:
                    self._confirmed |= {m.id for m in others}
                else:
                    for r in hit:
                        self.skipped[r.number] = [
                            m
                            for m in others
                            if r.key() == (m.reference, m.gift_card_code, m.amount)
                        ]
                    rows = [r for r in rows if r.key() not in keys]
                continue
            self._ids.update(p.id for p in pulls)
            position = 0
            for row in rows:
                self.row_pulls[row.number] = pulls[position : position + (row.count or 0)]
                position += row.count or 0
            return pulls
        return []


# ------------------------------------------------------------------------------ results


@dataclass(frozen=True, slots=True)
class RowResult:
    number: int
    status: str  # issued | partly_issued | failed | in_progress | in_doubt | not_journaled
    #              | skipped_duplicate | problem
    pulls: list[HistoryRow]
    detail: str = ""


def row_results(
    preview: Preview,
    journaled: dict[int, list[HistoryRow]],
    retries: dict[int, HistoryRow],
    *,
    skipped: Iterable[int] = (),
    include_duplicates: bool = False,
) -> list[RowResult]:
    skipped_rows = set(skipped)
    results: list[RowResult] = []
    for row in preview.rows:
        pulls = journaled.get(row.number)
        if row.errors:
            results.append(
                RowResult(row.number, "problem", [], "; ".join(p.text for p in row.errors))
            )
            continue
        if not pulls:
            if row.number in skipped_rows or (row.duplicates and not include_duplicates):
                status = "skipped_duplicate"
            else:
                status = "not_journaled"
            results.append(RowResult(row.number, status, []))
            continue
        latest = [_latest(h, retries) for h in pulls]
        states = [h.pull.state for h in latest]
        errors = sorted({h.pull.error_message for h in latest if h.pull.error_message})
        if all(s is PullState.SUCCESS for s in states):
            status = "issued"
        elif any(s is PullState.IN_DOUBT for s in states):
            status = "in_doubt"
        elif any(not s.final for s in states):
            status = "in_progress"
        elif any(s is PullState.SUCCESS for s in states):
            status = "partly_issued"
        else:
            status = "failed"
        results.append(RowResult(row.number, status, latest, "; ".join(errors)))
    return results


def _latest(h: HistoryRow, retries: dict[int, HistoryRow]) -> HistoryRow:
    seen = {h.pull.id}
    while h.pull.id in retries and retries[h.pull.id].pull.id not in seen:
        h = retries[h.pull.id]
        seen.add(h.pull.id)
    return h


def results_path(preview: Preview, batch_id: str) -> Path:
    return preview.path.with_name(f"{preview.path.stem}-results-{batch_id}.csv")


_RESULT_HEADER = [
    "row",
    "brand",
    "amount",
    "quantity",
    "reference",
    "note",
    "email",
    "status",
    "request_ids",
    "card_states",
    "card_last4",
    "detail",
]


def _defuse(text: str) -> str:
    """A text cell a spreadsheet would run as a formula, prefixed with ``'``."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


async def write_results(
    store: Store,
    preview: Preview,
    batch_id: str,
    *,
    since: datetime,
    skipped: Iterable[int] = (),
    include_duplicates: bool = False,
    path: Path | None = None,
) -> tuple[Path, list[RowResult]]:
    """Write the results file of an import (from the journal) next to the input; returns its
    path and the rows' results. Every row of the file is in it, problems included."""
    pulls = await store.batch(batch_id, since=since - _CLOCK_MARGIN)
    target = path or results_path(preview, batch_id)
    skipped = list(skipped)

    def build() -> list[RowResult]:
        journaled = align(preview.rows, pulls)
        retries = {h.pull.retry_of: h for h in pulls if h.pull.retry_of is not None}
        results = row_results(
            preview,
            journaled,
            retries,
            skipped=skipped,
            include_duplicates=include_duplicates,
        )
        _write_csv(target, preview, results)
        return results

    results = await asyncio.to_thread(build)
    return target, results


def _write_csv(target: Path, preview: Preview, results: list[RowResult]) -> None:
    by_number = {r.number: r for r in preview.rows}
    delimiter = preview.delimiter if preview.kind == "csv" else ","
    fd, tmp = tempfile.mkstemp(prefix=".results-", suffix=".csv", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8-sig", newline="") as f:
            writer = csv.writer(f, delimiter=delimiter)
            writer.writerow(_RESULT_HEADER)
            for result in results:
                row = by_number[result.number]
                writer.writerow(
                    [
                        result.number,
                        _defuse(row.brand),
                        _defuse(row.amount_text),
                        _defuse(row.quantity_text),
                        _defuse(row.reference),
                        _defuse(row.note),
                        _defuse(row.email),
                        result.status,
                        " ".join(h.pull.request_id for h in result.pulls),
                        " ".join(h.pull.state.value for h in result.pulls),
                        " ".join(h.card_code_last4 or "-" for h in result.pulls),
                        _defuse(result.detail),
                    ]
                )
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


async def preview_file(
    path: Path, catalog: Iterable[GiftCard], store: Store | None = None, *, profile: str = ""
) -> Preview:
    """``read_order`` in a thread, then ``check_history`` when a store is given."""
    cards = list(catalog)
    preview = await asyncio.to_thread(read_order, path, cards)
    if store is not None:
        await check_history(store, preview, profile=profile)
    return preview
