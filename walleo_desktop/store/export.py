"""CSV export of the history: exactly the filtered, sorted view, streamed to disk. No Qt.

``export_csv(store, flt, out_path, ...)`` writes the pulls matching ``flt`` in the order the
history view shows them (``sort``/``descending``, the same ORDER BY), read through
``Store.iter_history`` in batches: memory stays flat whatever the number of rows. The file is
written next to ``out_path`` under a hidden temporary name, synced, then renamed over
``out_path`` in one step, so a reader never sees half a file, and a cancelled or failed export
leaves nothing behind (not even a partial file).

Presets (``PRESETS``):

- ``standard``: comma, UTF-8 without BOM, ISO 8601 UTC timestamps (``2026-11-25T22:16:19Z``),
  dot decimals (``48.50``). For scripts, databases and other tools.
- ``excel-fr``: what a French Excel opens correctly with a double click: semicolon, UTF-8 with
  BOM (without it Excel reads the accents as Windows-1252), decimal comma (``48,50``), local
  times as ``25/11/2026 23:16`` (Excel cannot show a timezone, so the finance team's own clock
  is the useful one).

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

import contextlib
import csv
import logging
import os
import sqlite3
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Literal

from walleo_desktop.store.errors import StoreError
from walleo_desktop.store.history import HistoryFilter, HistoryLine
from walleo_desktop.store.records import PullState
from walleo_desktop.store.store import Store

__all__ = [
    "CODE_COLUMNS",
    "COLUMNS",
    "PRESETS",
    "ExportResult",
    "Preset",
    "PresetName",
    "defuse",
    "export_csv",
    "filter_summary",
]

log = logging.getLogger(__name__)

PresetName = Literal["standard", "excel-fr"]

COLUMNS = (
    "created_at",
    "agent",
    "reference",
    "note",
    "gift_card_code",
    "gift_card_name",
    "amount",
    "currency",
    "cost",
    "state",
    "request_id",
    "card_id",
    "code_last4",
    "expire_at",
    "error_code",
    "error_message",
)
CODE_COLUMNS = ("code", "pin_code")

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


def _cents(cents: int, decimal: str) -> str:
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    return f"{sign}{cents // 100}{decimal}{cents % 100:02d}"


def _row_formatter(
    preset: Preset, with_codes: bool, tz: tzinfo | None
) -> Callable[[HistoryLine], list[str]]:
    if preset.local_dates:

        def when(moment: datetime | None) -> str:
            return "" if moment is None else moment.astimezone(tz).strftime("%d/%m/%Y %H:%M")

    else:

        def when(moment: datetime | None) -> str:
            if moment is None:
                return ""
            if moment.utcoffset():
                moment = moment.astimezone(UTC)
            return moment.isoformat(timespec="seconds")[:19] + "Z"

    decimal = preset.decimal
    dangerous = _DANGEROUS_FIRST

    def row(line: HistoryLine) -> list[str]:
        text = [
            line.agent,
            line.reference,
            line.note,
            line.gift_card_code,
            line.gift_card_name,
            line.currency,
            line.state.value,
            line.request_id,
            line.card_id,
            line.code_last4,
            line.error_code,
            line.error_message,
        ]
        if with_codes:
            card = line.card
            text += ["", ""] if card is None else [card.code, card.pin_code]
        safe = ["'" + t if t[:1] in dangerous else t for t in text]
        cells = [
            when(line.created_at),
            *safe[0:5],
            str(line.amount),
            safe[5],
            # What was paid: only an issued card costs anything (a failed or rejected pull,
            # or one still pending, costs nothing, and summing the column must say so).
            _cents(line.cost_cents, decimal) if line.state is PullState.SUCCESS else "",
            *safe[6:10],
            when(line.expire_at),
            *safe[10:],
        ]
        return cells

    return row


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


def export_csv(
    store: Store,
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
    counted first, so it is exact unless pulls are added meanwhile). ``cancel()`` is checked as
    often; when it returns True the export stops and removes its temporary file:
    ``ExportResult.cancelled`` is then True and ``out_path`` is untouched. ``agent`` is who
    exports, for the event log. ``tz`` is the timezone of the ``excel-fr`` dates (default: this
    computer's). Raises ``OSError`` when the file cannot be written, ``StoreError`` when the
    history cannot be read, ``ValueError`` for an unknown preset or sort key; nothing is left
    behind then either.
    """
    try:
        chosen = PRESETS[preset]
    except KeyError:
        raise ValueError(
            f"unknown CSV preset {preset!r}; choose one of {sorted(PRESETS)}"
        ) from None
    out = Path(out_path)
    total = store.count_history(flt)
    lines = store.iter_history(flt, sort=sort, descending=descending, with_codes=with_codes)
    fd, tmp_name = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".part")
    tmp = Path(tmp_name)
    written = 0
    try:
        encoding = "utf-8-sig" if chosen.bom else "utf-8"
        with contextlib.closing(lines), os.fdopen(fd, "w", encoding=encoding, newline="") as fh:
            if not with_codes:  # with codes, keep mkstemp's owner-only mode
                os.fchmod(fh.fileno(), _default_mode())
            writer = csv.writer(fh, delimiter=chosen.delimiter)
            writer.writerow(COLUMNS + CODE_COLUMNS if with_codes else COLUMNS)
            written, cancelled = _write_rows(
                writer.writerows,
                lines,
                _row_formatter(chosen, with_codes, tz),
                total,
                progress,
                cancel,
            )
            if cancelled:
                raise _Cancelled
            fh.flush()
            os.fsync(fh.fileno())
        if progress is not None:
            progress(written, max(total, written))
        if with_codes:
            store.add_event(
                None,
                "codes_exported",
                {
                    "agent": agent,
                    "rows": written,
                    "path": out.name,
                    "preset": chosen.name,
                    "filter": filter_summary(flt),
                },
            )
        os.replace(tmp, out)
    except _Cancelled:
        tmp.unlink(missing_ok=True)
        log.info("export to %s cancelled after %d rows", out, written)
        return ExportResult(rows=written, path=out, cancelled=True)
    except sqlite3.Error as exc:
        tmp.unlink(missing_ok=True)
        raise StoreError(f"Cannot read the history file {store.path}: {exc}") from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    log.info("exported %d rows to %s (%s%s)", written, out, chosen.name, ", codes" * with_codes)
    return ExportResult(rows=written, path=out)


class _Cancelled(Exception):
    pass


def _write_rows(
    write: Callable[[Iterable[list[str]]], None],
    lines: Iterable[HistoryLine],
    fmt: Callable[[HistoryLine], list[str]],
    total: int,
    progress: Callable[[int, int], None] | None,
    cancel: Callable[[], bool] | None,
) -> tuple[int, bool]:
    """Write ``lines`` in chunks; (rows written, cancelled)."""
    written = 0
    chunk: list[list[str]] = []
    for line in lines:
        chunk.append(fmt(line))
        if len(chunk) >= _CHUNK:
            write(chunk)
            written += len(chunk)
            chunk = []
            if cancel is not None and cancel():
                return written, True
            if progress is not None:
                progress(written, max(total, written))
    if cancel is not None and cancel():
        return written, True
    write(chunk)
    return written + len(chunk), False
