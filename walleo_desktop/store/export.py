"""CSV export of the history: exactly the filtered, sorted view, streamed to disk. No Qt.

``export_csv(core, flt, out_path, ...)`` writes the pulls matching ``flt`` in the order the
history view shows them (``sort``/``descending``, the same ORDER BY), streamed from one query in
batches: memory stays flat whatever the number of rows. The columns are
``columns.EXPORT_COLUMNS``; the database formats each cell itself (timestamps, costs, the
formula defence below), so Python only hands whole rows to the ``csv`` module: only the
``excel-fr`` local dates and, with ``with_codes``, the decrypted codes are worked out per row
in Python. The file is
written next to ``out_path`` under a hidden temporary name, synced, then renamed over
``out_path`` in one step, so a reader never sees half a file, and a cancelled or failed export
leaves nothing behind (not even a partial file).

Presets (``PRESETS``):

- ``standard``: comma, UTF-8 without BOM, ISO 8601 UTC timestamps (``2026-11-25T22:16:19Z``),
  days as ``2027-11-25``, dot decimals (``48.50``). For scripts, databases and other tools.
- ``excel-fr``: what a French Excel opens correctly with a double click: semicolon, UTF-8 with
  BOM (without it Excel reads the accents as Windows-1252), decimal comma (``48,50``), local
  times as ``25/11/2026 23:16`` (Excel cannot show a timezone, so the finance team's own clock
  is the useful one), days as ``25/11/2027``.

A card's expiry (``expire_at``) is a day, the one Walleo means and prints on the card's PDF
(in Walleo's time zone, ``timezones.expiry_day``), the same in both presets.

Amounts are whole units of ``currency`` (the face value); ``cost`` is what the partner paid
(face value less the partner discount), exact to the cent, and only where a card was issued:
it is empty for a pull that failed, was rejected or is not finished.

Codes and PINs are left out unless ``with_codes``. Exporting them is logged in the history's
event log (kind ``codes_exported``: agent, rows, file name, the filter; never a code, and not
the search text either, which may be a card code), so "who took the codes out, when" has an
answer.

Formula injection (CSV injection): a spreadsheet runs a cell starting with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return as a formula. Every *text* cell (reference, note, agent,
names, ids, error messages, codes: anything that may come from a person or from Walleo) that
starts with one of them is prefixed with a single quote ``'``, which spreadsheets show as text.
Cells this module formats itself (timestamps, amounts, cost) are left alone: they are never
user text, and prefixing them would stop a spreadsheet from reading them as numbers and dates
(they are never negative anyway). The quote is visible to a program reading the file back: it
is the documented price of the defence (OWASP "CSV Injection").
"""

from __future__ import annotations

import csv
import logging
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, tzinfo
from pathlib import Path
from typing import Any, Literal

from walleo_desktop.store.columns import EXPORT_COLUMNS, SECRET_COLUMNS, Column, order_sql
from walleo_desktop.store.core import StoreCore
from walleo_desktop.store.dialect import Dialect
from walleo_desktop.store.history import HistoryFilter
from walleo_desktop.store.records import from_db_time

__all__ = [
    "CODE_COLUMNS",
    "COLUMNS",
    "PRESETS",
    "ExportResult",
    "Preset",
    "PresetName",
    "defuse",
    "export_csv",
    "export_rows",
    "filter_summary",
]

log = logging.getLogger(__name__)

PresetName = Literal["standard", "excel-fr"]

COLUMNS = tuple(c.key for c in EXPORT_COLUMNS)
CODE_COLUMNS = tuple(c.key for c in SECRET_COLUMNS)

# How often (rows) progress is reported and cancellation checked.
_CHUNK = 2000
_DANGEROUS_FIRST = frozenset("=+-@\t\r")


@dataclass(frozen=True, slots=True)
class Preset:
    name: PresetName
    delimiter: str
    bom: bool
    decimal: str  # "." or ","
    local_dates: bool  # False: ISO 8601 in UTC; True: dd/mm/yyyy hh:mm in local time


PRESETS: dict[str, Preset] = {
    "standard": Preset("standard", ",", bom=False, decimal=".", local_dates=False),
    "excel-fr": Preset("excel-fr", ";", bom=True, decimal=",", local_dates=True),
}


@dataclass(frozen=True, slots=True)
class ExportResult:
    rows: int  # rows written (for a cancelled export: rows written before it stopped)
    path: Path
    cancelled: bool = False


def defuse(text: str) -> str:
    """``text``, prefixed with ``'`` if a spreadsheet would run it as a formula."""
    return "'" + text if text[:1] in _DANGEROUS_FIRST else text


def filter_summary(flt: HistoryFilter) -> dict[str, object]:
    """The filter, for the event log: never the search text (it may be a card code)."""
    summary: dict[str, object] = {}
    if flt.since is not None:
        summary["since"] = flt.since.astimezone(UTC).isoformat()
    if flt.until is not None:
        summary["until"] = flt.until.astimezone(UTC).isoformat()
    if flt.states:
        summary["states"] = [str(s) for s in flt.states]
    if flt.gift_card_codes:
        summary["gift_card_codes"] = list(flt.gift_card_codes)
    if flt.agents:
        summary["agents"] = list(flt.agents)
    if flt.search.strip():
        summary["search"] = True
    return summary


# The first characters a spreadsheet takes for a formula, as an SQL list (tab and carriage
# return are written as themselves inside the literals: both engines accept them).
_DANGEROUS_SQL = ", ".join("'" + c.replace("'", "''") + "'" for c in sorted(_DANGEROUS_FIRST))
_QUOTE = "''''"  # an SQL literal holding one single quote


def _cell_sql(column: Column, dialect: Dialect, preset: Preset) -> str:
    """The SQL that yields ``column``'s cell, formatted as the preset writes it."""
    x = column.sql
    if column.kind == "time":
        if preset.local_dates:
            return x  # raw UTC text: made local in Python (the user's timezone, DST and all)
        return f"coalesce(substr({x}, 1, 19) || 'Z', '')"
    if column.kind == "date":  # a day (YYYY-MM-DD): no time zone to apply
        if preset.local_dates:
            return (
                f"coalesce(substr({x}, 9, 2) || '/' || substr({x}, 6, 2) || '/' || "
                f"substr({x}, 1, 4), '')"
            )
        return f"coalesce({x}, '')"
    if column.kind == "cost":  # only an issued card costs anything
        cents = dialect.cents_text(x, preset.decimal)
        return f"CASE WHEN p.state = 'success' THEN {cents} ELSE '' END"
    if column.user_text:
        return (
            f"CASE WHEN substr({x}, 1, 1) IN ({_DANGEROUS_SQL}) "
            f"THEN {_QUOTE} || {x} ELSE coalesce({x}, '') END"
        )
    return x


def export_rows(
    core: StoreCore,
    flt: HistoryFilter,
    preset: Preset,
    *,
    with_codes: bool = False,
    sort: str = "created_at",
    descending: bool = True,
    tz: tzinfo | None = None,
    batch: int = _CHUNK,
) -> Iterator[tuple[Any, ...] | list[Any]]:
    """The cells of every exported row (``COLUMNS``, then ``CODE_COLUMNS`` with codes), in the
    history view's order, streamed. ``KeyUnavailableError`` at once when codes are asked for
    without the key; ``ValueError`` for a bad sort key."""
    cipher = core.need_key() if with_codes else None
    d = core.dialect
    order = order_sql(sort, descending, d)
    where, params = core.filtered(flt)
    cells = [_cell_sql(c, d, preset) for c in EXPORT_COLUMNS]
    if with_codes:
        cells += ["c.card_id", "c.code", "c.pin_code", "c.key_id"]
    sql = (
        f"SELECT {', '.join(cells)} FROM pulls p LEFT JOIN cards c ON c.pull_id = p.id "  # noqa: S608
        f"{where} {order}"
    )
    rows = core.conn.stream(sql, params, batch)
    if not preset.local_dates and cipher is None:
        return rows  # every cell is final as the database wrote it
    times = [i for i, c in enumerate(EXPORT_COLUMNS) if c.kind == "time"]

    def local(text: str | None) -> str:
        moment = from_db_time(text)
        return "" if moment is None else moment.astimezone(tz).strftime("%d/%m/%Y %H:%M")

    def finish() -> Iterator[list[Any]]:
        n = len(EXPORT_COLUMNS)
        for row in rows:
            cells = list(row[:n])
            if preset.local_dates:
                for i in times:
                    cells[i] = local(cells[i])
            if cipher is not None:
                card_id, code, pin, key_id = row[n], row[n + 1], row[n + 2], row[n + 3] or ""
                if card_id is None:
                    cells += ["", ""]
                else:
                    cells += [
                        defuse(cipher.decrypt(card_id, "code", bytes(code), key_id=key_id)),
                        defuse(cipher.decrypt(card_id, "pin_code", bytes(pin), key_id=key_id)),
                    ]
            yield cells

    return finish()


def _default_mode() -> int:
    """The mode a new file gets from the umask (read without changing it: /proc on Linux)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return 0o666 & ~int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o600


class _Cancelled(Exception):
    pass


def export_csv(
    core: StoreCore,
    flt: HistoryFilter,
    out_path: Path | str,
    *,
    preset: PresetName = "standard",
    with_codes: bool = False,
    sort: str = "created_at",
    descending: bool = True,
    progress: Callable[[int, int], None] | None = None,
    cancel: Callable[[], bool] | None = None,
    agent: str = "",
    tz: tzinfo | None = None,
) -> ExportResult:
    """Write the pulls matching ``flt`` to ``out_path`` as CSV (see the module docstring).

    ``progress(done, total)`` is called every few thousand rows and at the end (``total`` is
    counted first, in the same snapshot as the rows). ``cancel()`` is checked as often; when it
    returns True the export stops and removes its temporary file: ``ExportResult.cancelled``
    is then True and ``out_path`` is untouched. ``agent`` is who exports, for the event log.
    ``tz`` is the timezone of the ``excel-fr`` dates (default: this computer's). Raises
    ``OSError`` when the file cannot be written, ``StoreError`` when the history cannot be read,
    ``ValueError`` for an unknown preset or sort key; nothing is left behind then either.
    """
    try:
        chosen = PRESETS[preset]
    except KeyError:
        raise ValueError(
            f"unknown CSV preset {preset!r}; choose one of {sorted(PRESETS)}"
        ) from None
    out = Path(out_path)
    fd, tmp_name = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".part")
    tmp = Path(tmp_name)
    counts = [0]

    def write_all() -> bool:
        total = core.count_history(flt)
        rows = export_rows(
            core, flt, chosen, with_codes=with_codes, sort=sort, descending=descending, tz=tz
        )
        encoding = "utf-8-sig" if chosen.bom else "utf-8"
        with os.fdopen(fd, "w", encoding=encoding, newline="") as fh:
            if not with_codes:  # with codes, keep mkstemp's owner-only mode
                os.fchmod(fh.fileno(), _default_mode())
            writer = csv.writer(fh, delimiter=chosen.delimiter)
            writer.writerow(COLUMNS + CODE_COLUMNS if with_codes else COLUMNS)
            chunk: list[Any] = []
            for row in rows:
                chunk.append(row)
                if len(chunk) >= _CHUNK:
                    writer.writerows(chunk)
                    counts[0] += len(chunk)
                    chunk = []
                    if cancel is not None and cancel():
                        return True
                    if progress is not None:
                        progress(counts[0], max(total, counts[0]))
            if cancel is not None and cancel():
                return True
            writer.writerows(chunk)
            counts[0] += len(chunk)
            fh.flush()
            os.fsync(fh.fileno())
        if progress is not None:
            progress(counts[0], max(total, counts[0]))
        return False

    try:
        if core.conn.read(write_all):  # the count and the rows: one snapshot
            raise _Cancelled
        if with_codes:
            core.add_event(
                None,
                "codes_exported",
                {
                    "agent": agent,
                    "rows": counts[0],
                    "path": out.name,
                    "preset": chosen.name,
                    "filter": filter_summary(flt),
                },
            )
        os.replace(tmp, out)
    except _Cancelled:
        tmp.unlink(missing_ok=True)
        log.info("export to %s cancelled after %d rows", out, counts[0])
        return ExportResult(rows=counts[0], path=out, cancelled=True)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    log.info("exported %d rows to %s (%s%s)", counts[0], out, chosen.name, ", codes" * with_codes)
    return ExportResult(rows=counts[0], path=out)
