"""XLSX export of the history: the filtered, sorted view as a typed workbook, streamed. No Qt.

``export_xlsx(core, flt, out_path, ...)`` keeps ``export.export_csv``'s contract: the same rows
in the same order (one query, ``sort``/``descending``), ``progress``/``cancel`` every few
thousand rows, the file written under a temporary name beside ``out_path`` and renamed into
place in one step (a cancelled or failed export leaves nothing, the previous file included
untouched), a ``codes_exported`` event when codes are in it, and a file readable by its owner
only when it holds codes.

What a spreadsheet gets (the columns are ``columns.EXPORT_COLUMNS``, then the codes; each cell
is written by its column's ``kind``, no column position is written down anywhere):

- ``time`` (``created_at``): a real date-time, in the local time of ``tz`` (default: this
  computer's), because Excel has no time zones; the header's comment and the Totals sheet say
  which zone it is. The format is Excel's built-in "short date + time", which each reader's
  own regional settings display (``25/11/2026 23:16`` in France).
- ``date`` (the card's expiry day, the one Walleo means): a real date, same built-in format.
- ``amount`` and ``cost``: numbers with the row's currency as number format (``48.50 €``);
  the cost only where the pull succeeded (a card was issued), empty otherwise.
- everything else (references, notes, agents, ids, card and request ids, codes, PINs): text,
  always, so that a 19-digit code stays 19 digits (never ``4.07E+18``) and a PIN ``0389`` keeps
  its zero.

Formula injection is impossible: user text is only ever written as a string cell, which no
spreadsheet evaluates (``=HYPERLINK(...)`` stays the text it is, without the CSV's ``'``
prefix), never with ``write_formula`` nor XlsxWriter's guessing ``write()``. One more trap is
closed: in ``constant_memory`` mode XlsxWriter writes a string that starts with ``<r>`` and ends
with ``</r>`` into the sheet's XML *unescaped* (it takes it for its own rich text), so such a
text could smuggle a formula cell in; those texts are written as an escaped rich string of
plain fragments instead (``_text``), which reads back as exactly the same text.

Memory stays flat at a million rows: XlsxWriter's ``constant_memory`` mode writes each row out
as the next begins (into its temporary files, kept in a private folder beside ``out_path``
and removed whatever happens; with codes they hold codes until then, like the CSV's temporary
file). A sheet holds 1,048,575 rows below its header; a bigger export continues on "History 2",
"History 3"..., each with its header, frozen header row and filter.

The second sheet, "Totals", sums the exported rows themselves, per brand and currency
(``summary.Tally``: cards issued, face value, cost; failed, in doubt, pending apart), and says
what was exported: the filter, the order, the time zone, when and by whom.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any

from walleo_desktop.store.columns import EXPORT_COLUMNS, SECRET_COLUMNS, Column, column, order_sql
from walleo_desktop.store.core import StoreCore
from walleo_desktop.store.export import ExportResult, _default_mode, filter_summary
from walleo_desktop.store.history import HistoryFilter
from walleo_desktop.store.records import PullState
from walleo_desktop.store.summary import BrandLine, Tally

if TYPE_CHECKING:  # imported when an export runs: nothing of it on the first paint's path
    from xlsxwriter.format import Format
    from xlsxwriter.workbook import Workbook
    from xlsxwriter.worksheet import Worksheet

__all__ = ["SHEET_ROWS", "describe_filter", "export_xlsx", "zone_name"]

log = logging.getLogger(__name__)

# Rows of one sheet below its header (Excel's limit is 1,048,576 rows, the header included).
SHEET_ROWS = 1_048_575
_CHUNK = 2000  # rows between two progress reports / cancellation checks
_EXCEL_EPOCH = datetime(1899, 12, 30)  # day 0 of Excel's 1900 date system (serial numbers)
_EXCEL_EPOCH_DAY = _EXCEL_EPOCH.date()
_DAY = timedelta(days=1)
# Excel's built-in number formats that follow the reader's regional settings.
_BUILTIN_SHORT_DATE = 14
_BUILTIN_DATE_TIME = 22
_KIND_WIDTHS = {"time": 17, "date": 12, "amount": 12, "cost": 12, "state": 11, "code": 8}
_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥", "CHF": "CHF", "CAD": "CA$"}
_TOTALS_COLUMNS = (
    ("Brand code", 14),
    ("Brand", 20),
    ("Currency", 9),
    ("Cards issued", 12),
    ("Face value", 14),
    ("Cost", 14),
    ("Failed", 8),
    ("of which error", 14),
    ("of which rejected", 16),
    ("In doubt", 9),
    ("Pending", 9),
    ("Pulls", 8),
)


class _Cancelled(Exception):
    pass


def zone_name(tz: tzinfo | None, at: datetime | None = None) -> str:
    """The time zone the dates are written in, for people: ``Europe/Paris (UTC+01:00)``."""
    moment = (at or datetime.now(UTC)).astimezone(tz)
    offset = moment.utcoffset() or timedelta(0)
    sign = "-" if offset < timedelta(0) else "+"
    hours, rest = divmod(abs(int(offset.total_seconds())), 3600)
    utc = f"UTC{sign}{hours:02d}:{rest // 60:02d}"
    key = getattr(tz, "key", None)
    if tz is None:
        name = moment.tzname() or "local time"
        return f"{name} (this computer's time zone, {utc} now)"
    return f"{key or moment.tzname() or utc} ({utc} now)"


def describe_filter(flt: HistoryFilter, tz: tzinfo | None = None) -> str:
    """The filter in words, for the Totals sheet (never the search text: it may be a code)."""
    parts: list[str] = []

    def local(moment: datetime) -> str:
        return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M")

    if flt.since is not None:
        parts.append(f"from {local(flt.since)}")
    if flt.until is not None:
        parts.append(f"before {local(flt.until)}")
    if flt.states:
        parts.append("status " + ", ".join(PullState(s).label for s in flt.states))
    if flt.gift_card_codes:
        parts.append("brands " + ", ".join(flt.gift_card_codes))
    if flt.agents:
        parts.append("agents " + ", ".join(flt.agents))
    if flt.search.strip():
        parts.append("a search (its text is not written here: it may be a card code)")
    return "; ".join(parts) if parts else "none: the whole history"


def _symbol(currency: str) -> str:
    code = (currency or "").upper()
    return _SYMBOLS.get(code) or re.sub(r"[^A-Z]", "", code)[:5]


def _cell_sql(c: Column) -> str:
    """The SQL of ``c``'s raw value, as its kind is written (typed, not formatted)."""
    if c.kind == "cost":  # only an issued card costs anything
        return f"CASE WHEN p.state = 'success' THEN {c.sql} END"
    if c.kind in ("time", "date", "amount"):
        return c.sql
    return f"coalesce({c.sql}, '')"


def _width(c: Column) -> int:
    return max(c.width or _KIND_WIDTHS.get(c.kind, 16), len(c.label) + 4)  # + the filter button


def _rows(
    core: StoreCore, flt: HistoryFilter, with_codes: bool, sort: str, descending: bool
) -> Iterator[tuple[Any, ...]]:
    order = order_sql(sort, descending, core.dialect)
    where, params = core.filtered(flt)
    cells = [_cell_sql(c) for c in EXPORT_COLUMNS]
    if with_codes:
        cells += ["c.card_id", "c.code", "c.pin_code", "c.key_id"]
    sql = (
        f"SELECT {', '.join(cells)} FROM pulls p LEFT JOIN cards c ON c.pull_id = p.id "  # noqa: S608
        f"{where} {order}"
    )
    return core.conn.stream(sql, params, _CHUNK)


def _text(ws: Worksheet, row: int, col: int, text: str, fmt: Format | None = None) -> None:
    """``text`` as a string cell, exactly (see the module docstring for ``<r>…</r>``)."""
    if text.startswith("<r>") and text.endswith("</r>"):
        ws.write_rich_string(row, col, text[:1], text[1:2], text[2:], *((fmt,) if fmt else ()))
    else:
        ws.write_string(row, col, text, fmt)


class _Book:
    """The workbook being written: formats, the data sheets, the row being filled."""

    def __init__(self, path: Path, tmpdir: Path, columns: list[Column], tz: tzinfo | None) -> None:
        import xlsxwriter  # lazily: only an export pays for it

        self.columns = columns
        self.workbook: Workbook = xlsxwriter.Workbook(
            str(path),
            {
                "constant_memory": True,
                "tmpdir": str(tmpdir),
                # Defence in depth: write() would turn "=..." into a formula and URLs into
                # links; this module only calls write_string/write_number anyway.
                "strings_to_formulas": False,
                "strings_to_urls": False,
                "strings_to_numbers": False,
            },
        )
        wb = self.workbook
        self.bold = wb.add_format({"bold": True})
        self.header = wb.add_format({"bold": True, "bottom": 1, "bg_color": "#E8EEF7"})
        self.time = wb.add_format({"num_format": _BUILTIN_DATE_TIME})
        self.date = wb.add_format({"num_format": _BUILTIN_SHORT_DATE})
        self._money: dict[tuple[str, bool, bool], Format] = {}
        self.tz = tz
        self.sheets: list[Worksheet] = []
        self.sheet_rows = 0  # data rows on the current sheet
        self.zone = zone_name(tz)

    def money(self, currency: str, cents: bool, bold: bool = False) -> Format:
        key = (currency, cents, bold)
        fmt = self._money.get(key)
        if fmt is None:
            digits = "#,##0.00" if cents else "#,##0"
            symbol = _symbol(currency)
            spec: dict[str, Any] = {"num_format": f'{digits} "{symbol}"' if symbol else digits}
            if bold:
                spec["bold"] = True
            fmt = self._money[key] = self.workbook.add_format(spec)
        return fmt

    def new_sheet(self) -> Worksheet:
        name = "History" if not self.sheets else f"History {len(self.sheets) + 1}"
        ws = self.workbook.add_worksheet(name)
        for i, c in enumerate(self.columns):
            ws.set_column(i, i, _width(c))
            ws.write_string(0, i, c.label, self.header)
            if c.kind == "time":
                ws.write_comment(
                    0,
                    i,
                    f"Local time of {self.zone}: Excel dates carry no time zone. "
                    "The history keeps every time in UTC.",
                    {"x_scale": 2, "y_scale": 1.2},
                )
        ws.freeze_panes(1, 0)
        self.sheets.append(ws)
        self.sheet_rows = 0
        return ws

    def finish_sheet(self) -> None:
        if self.sheets:
            self.sheets[-1].autofilter(0, 0, self.sheet_rows, len(self.columns) - 1)

    def abandon(self) -> None:
        """Close the sheets' temporary files of an export that stops before ``close()``
        (XlsxWriter has no abort: its constant-memory row files stay open otherwise)."""
        for ws in self.workbook.worksheets():
            fh = getattr(ws, "row_data_fh", None)
            if fh is not None and not fh.closed:
                fh.close()


def _write_rows(
    book: _Book,
    rows: Iterator[tuple[Any, ...]],
    tally: Tally,
    counts: list[int],
    *,
    cipher: Any,
    total: int,
    progress: Callable[[int, int], None] | None,
    cancel: Callable[[], bool] | None,
) -> None:
    """Write every row, counting them in ``counts[0]``. Raises ``_Cancelled`` when
    ``cancel()`` says so."""
    n = len(EXPORT_COLUMNS)
    kinds = [c.kind for c in EXPORT_COLUMNS]
    texts = [i for i, k in enumerate(kinds) if k in ("text", "state", "code")]
    times = [i for i, k in enumerate(kinds) if k == "time"]
    dates = [i for i, k in enumerate(kinds) if k == "date"]
    amounts = [i for i, k in enumerate(kinds) if k == "amount"]
    costs = [i for i, k in enumerate(kinds) if k == "cost"]
    key = {c.key: i for i, c in enumerate(EXPORT_COLUMNS)}
    i_code, i_name = key[column("gift_card_code").key], key[column("gift_card_name").key]
    i_currency, i_state = key[column("currency").key], key[column("state").key]
    i_amount, i_cost = key[column("amount").key], key[column("cost").key]
    tz, time_fmt, date_fmt = book.tz, book.time, book.date
    money = book.money
    add = tally.add
    fromiso = datetime.fromisoformat
    day = date.fromisoformat

    ws = book.new_sheet()
    string, number = ws.write_string, ws.write_number
    done = 0
    r = 0
    for row in rows:
        if book.sheet_rows >= SHEET_ROWS:
            book.finish_sheet()
            ws = book.new_sheet()
            string, number = ws.write_string, ws.write_number
        r = book.sheet_rows = book.sheet_rows + 1
        for i in texts:
            value = row[i]
            if value:
                if value[0] == "<":
                    _text(ws, r, i, value)
                else:
                    string(r, i, value)
        for i in times:
            value = row[i]
            if value:
                local = fromiso(value).astimezone(tz).replace(tzinfo=None)
                number(r, i, (local - _EXCEL_EPOCH) / _DAY, time_fmt)
        for i in dates:
            value = row[i]
            if value:
                number(r, i, (day(value) - _EXCEL_EPOCH_DAY).days, date_fmt)
        currency = row[i_currency]
        for i in amounts:
            value = row[i]
            if value is not None:
                number(r, i, value, money(currency, False))
        for i in costs:
            value = row[i]
            if value is not None:
                number(r, i, value / 100, money(currency, True))
        add(row[i_code], row[i_name], currency, row[i_state], row[i_amount], row[i_cost])
        if cipher is not None:
            card_id, code, pin, key_id = row[n], row[n + 1], row[n + 2], row[n + 3] or ""
            if card_id is not None:
                for offset, (field, blob) in enumerate((("code", code), ("pin_code", pin))):
                    text = cipher.decrypt(card_id, field, bytes(blob), key_id=key_id)
                    if text:
                        _text(ws, r, n + offset, text)
        done += 1
        if done % _CHUNK == 0:
            counts[0] = done
            if cancel is not None and cancel():
                raise _Cancelled
            if progress is not None:
                progress(done, max(total, done))
    counts[0] = done
    if cancel is not None and cancel():
        raise _Cancelled
    book.finish_sheet()


def _write_totals(
    book: _Book,
    tally: Tally,
    *,
    rows: int,
    flt: HistoryFilter,
    sort: str,
    descending: bool,
    agent: str,
    with_codes: bool,
    generated: datetime,
) -> None:
    ws = book.workbook.add_worksheet("Totals")
    ws.set_column(0, 0, 18)
    ws.set_column(1, 1, 20)
    for i, (_, width) in enumerate(_TOTALS_COLUMNS[2:], start=2):
        ws.set_column(i, i, width)
    ws.write_string(0, 0, "Walleo Desktop: history export", book.bold)
    sort_column = column(sort)
    facts: list[tuple[str, Any]] = [
        ("Generated at", generated),
        ("Generated by", agent or "(unknown)"),
        ("Filter", describe_filter(flt, book.tz)),
        ("Order", f"{sort_column.label}, {'descending' if descending else 'ascending'}"),
        ("Rows", rows),
        ("Times", f"Local time of {book.zone}: Excel dates carry no time zone."),
        ("Codes", "full codes and PINs included" if with_codes else "last 4 characters only"),
    ]
    r = 2
    for label, value in facts:
        ws.write_string(r, 0, label, book.bold)
        if isinstance(value, datetime):
            local = value.astimezone(book.tz).replace(tzinfo=None)
            ws.write_number(r, 1, (local - _EXCEL_EPOCH) / _DAY, book.time)
        elif isinstance(value, int):
            ws.write_number(r, 1, value)
        else:
            _text(ws, r, 1, str(value))
        r += 1
    r += 1
    ws.write_string(
        r,
        0,
        "Face value and cost count issued cards only: a failed or unfinished pull issued "
        "nothing (yet). Currencies are never added together.",
    )
    r += 2
    header_row = r
    for i, (label, _) in enumerate(_TOTALS_COLUMNS):
        ws.write_string(r, i, label, book.header)
    lines = tally.lines()

    def line_row(at: int, line: BrandLine, bold: bool) -> None:
        fmt = book.bold if bold else None
        if line.is_total:
            ws.write_string(at, 0, "Total", book.bold)
        else:
            _text(ws, at, 0, line.gift_card_code, fmt)
            if line.gift_card_name:
                _text(ws, at, 1, line.gift_card_name, fmt)
        if line.currency:
            _text(ws, at, 2, line.currency, fmt)
        ws.write_number(at, 3, line.cards, fmt)
        ws.write_number(at, 4, line.face_value, book.money(line.currency, False, bold))
        ws.write_number(at, 5, line.cost_cents / 100, book.money(line.currency, True, bold))
        for i, value in enumerate(
            (line.failed, line.errors, line.rejected, line.in_doubt, line.pending, line.pulls),
            start=6,
        ):
            ws.write_number(at, i, value, fmt)

    for line in lines:
        r += 1
        line_row(r, line, False)
    for line in tally.totals():
        r += 1
        line_row(r, line, True)
    ws.freeze_panes(header_row + 1, 0)


def export_xlsx(
    core: StoreCore,
    flt: HistoryFilter,
    out_path: Path | str,
    *,
    with_codes: bool = False,
    sort: str = "created_at",
    descending: bool = True,
    progress: Callable[[int, int], None] | None = None,
    cancel: Callable[[], bool] | None = None,
    agent: str = "",
    tz: tzinfo | None = None,
) -> ExportResult:
    """Write the pulls matching ``flt`` to ``out_path`` as an XLSX workbook (module docstring).

    As ``export.export_csv``: ``progress(done, total)`` every few thousand rows and at the end,
    ``cancel()`` as often (then ``ExportResult.cancelled``, and ``out_path`` is untouched),
    ``agent`` is who exports (the event log, the Totals sheet), ``tz`` the time zone the dates
    are written in (default: this computer's). ``OSError`` when the file cannot be written,
    ``StoreError`` when the history cannot be read, ``ValueError`` for a bad sort key,
    ``KeyUnavailableError`` for codes without the key; nothing is left behind then either.
    """
    cipher = core.need_key() if with_codes else None
    order_sql(sort, descending, core.dialect)  # a bad sort key: ValueError before any file
    out = Path(out_path)
    tmpdir = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp"))
    part = tmpdir / "export.xlsx"
    columns = list(EXPORT_COLUMNS) + (list(SECRET_COLUMNS) if with_codes else [])
    counts = [0]
    tally = Tally()
    book: _Book | None = None
    try:
        book = opened = _Book(part, tmpdir, columns, tz)

        def write_all() -> None:
            total = core.count_history(flt)
            rows = _rows(core, flt, with_codes, sort, descending)
            try:
                _write_rows(
                    opened,
                    rows,
                    tally,
                    counts,
                    cipher=cipher,
                    total=total,
                    progress=progress,
                    cancel=cancel,
                )
            finally:
                close = getattr(rows, "close", None)
                if close is not None:
                    close()  # ends a server-side cursor at once on a cancel
            if progress is not None:
                progress(counts[0], max(total, counts[0]))

        core.conn.read(write_all)  # the count and the rows: one snapshot
        _write_totals(
            opened,
            tally,
            rows=counts[0],
            flt=flt,
            sort=sort,
            descending=descending,
            agent=agent,
            with_codes=with_codes,
            generated=core.now(),
        )
        opened.workbook.close()
        book = None
        with open(part, "rb+") as fh:
            os.fchmod(fh.fileno(), 0o600 if with_codes else _default_mode())
            os.fsync(fh.fileno())
        if with_codes:
            core.add_event(
                None,
                "codes_exported",
                {
                    "agent": agent,
                    "rows": counts[0],
                    "path": out.name,
                    "format": "xlsx",
                    "filter": filter_summary(flt),
                },
            )
        os.replace(part, out)
    except _Cancelled:
        log.info("export to %s cancelled after %d rows", out, counts[0])
        return ExportResult(rows=counts[0], path=out, cancelled=True)
    finally:
        if book is not None:
            book.abandon()
        shutil.rmtree(tmpdir, ignore_errors=True)
    log.info("exported %d rows to %s (xlsx%s)", counts[0], out, ", codes" * with_codes)
    return ExportResult(rows=counts[0], path=out)
