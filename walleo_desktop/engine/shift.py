"""Closing an agent's shift, and the report on paper: PDF, CSV and text. No Qt.

The rules and the figures are the store's (``StoreCore.close_shift``, ``store.shifts``); this
module decides the period and renders a report:

- the default period runs from where the agent's last closed shift ended (whoever closed it),
  or, for an agent never closed, from the start of today in local time, until now;
- ``report_pdf`` (reportlab, imported when a PDF is asked for), ``report_csv`` (one line per
  brand and currency, then a total line per currency; exact cents; ISO 8601 UTC times) and
  ``report_text`` (the CLI). The window passes its translated words and its locale's money
  and date formats (``ReportWords``, ``money``, ``when``); the defaults are English.

Files are written under a temporary name beside the target and renamed into place: a reader
never sees half a report, and a failure leaves the previous file as it was.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

from walleo_desktop.store import BrandLine, ShiftReport, StoreCore
from walleo_desktop.store.export import _default_mode, defuse
from walleo_desktop.store.records import to_db_time
from walleo_desktop.store.summary import cents_text

if TYPE_CHECKING:
    from walleo_desktop.store import Store

__all__ = [
    "CSV_COLUMNS",
    "ReportWords",
    "default_period",
    "period_for",
    "preview_shift",
    "report_csv",
    "report_pdf",
    "report_text",
    "start_of_day",
    "write_report",
]

Money = Callable[[int, str], str]  # (cents, currency) -> text
When = Callable[[datetime], str]

CSV_COLUMNS = (
    "line",
    "report_id",
    "agent",
    "period_start",
    "period_end",
    "closed_at",
    "closed_by",
    "gift_card_code",
    "gift_card_name",
    "currency",
    "cards",
    "face_value",
    "cost",
    "errors",
    "rejected",
    "in_doubt",
    "pending",
    "pulls",
    "first_pull_at",
    "last_pull_at",
)
_FONTS = (  # a Unicode font when the system has one (accents, €, narrow no-break spaces)
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "C:/Windows/Fonts/arial.ttf",
    "/Library/Fonts/Arial Unicode.ttf",
)


@dataclass(frozen=True, slots=True)
class ReportWords:
    """The report's words (the window passes its translations)."""

    title: str = "Shift report"
    number: str = "Report #{id}"
    preview: str = "Preview: not closed yet"
    agent: str = "Agent"
    period: str = "Period"
    period_value: str = "{start} to {end}"
    first_pull: str = "First pull"
    last_pull: str = "Last pull"
    none: str = "none"
    pulls: str = "Pulls"
    pulls_value: str = (
        "{pulls}: {cards} issued, {failed} failed ({errors} in error, {rejected} rejected), "
        "{in_doubt} in doubt, {pending} pending"
    )
    closed_at: str = "Closed at"
    closed_by: str = "Closed by"
    brand: str = "Brand"
    cards: str = "Cards"
    face_value: str = "Face value"
    cost: str = "Cost"
    failed: str = "Failed"
    in_doubt: str = "In doubt"
    pending: str = "Pending"
    total: str = "Total"
    no_pulls: str = "No pull in this period."
    times_note: str = "Times are local time ({zone})."
    money_note: str = (
        "Face value and cost count issued cards only: a failed, in-doubt or pending pull "
        "issued nothing (yet). An in-doubt pull must be checked before anything is issued again."
    )


def _money(cents: int, currency: str) -> str:
    return f"{cents_text(cents)} {currency}".strip()


def _when(tz: tzinfo | None) -> When:
    return lambda moment: moment.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def _zone(tz: tzinfo | None) -> str:
    from walleo_desktop.store.export_xlsx import zone_name

    return zone_name(tz)


# -- the period ---------------------------------------------------------------------------------


def start_of_day(moment: datetime, tz: tzinfo | None = None) -> datetime:
    """Midnight of ``moment``'s day in ``tz`` (default: this computer's zone, its DST rules)."""
    day = moment.astimezone(tz).date()
    if tz is None:
        return datetime.combine(day, time(0)).astimezone()
    return datetime.combine(day, time(0), tzinfo=tz)


def _period(
    agent: str,
    last_end: datetime | None,
    since: datetime | None,
    now: datetime,
    tz: tzinfo | None,
) -> tuple[datetime, datetime]:
    start = since or last_end or start_of_day(now, tz)
    if start >= now:
        raise ValueError(
            f"The last shift of {agent} closed at {_when(tz)(start)}: there is nothing to "
            "close yet."
            if since is None
            else "A shift's period must start before now."
        )
    return start, now


def default_period(
    core: StoreCore,
    agent: str,
    *,
    since: datetime | None = None,
    tz: tzinfo | None = None,
) -> tuple[datetime, datetime]:
    """(since, until) of ``agent``'s shift now: ``since``, else where the last closed shift
    ended, else the start of today (local); until the history's clock says now."""
    return _period(agent, core.last_shift_end(agent), since, core.now(), tz)


async def period_for(
    store: Store, agent: str, *, since: datetime | None = None, tz: tzinfo | None = None
) -> tuple[datetime, datetime]:
    """``default_period`` on the writer's connection (the one ``close_shift`` runs on, whose
    clock decides that the period does not end after now)."""
    return await store.run(lambda core: default_period(core, agent, since=since, tz=tz))


async def preview_shift(
    store: Store, agent: str, *, since: datetime | None = None, tz: tzinfo | None = None
) -> ShiftReport:
    start, end = await period_for(store, agent, since=since, tz=tz)
    return await store.shift_preview(agent, start, end)


# -- rendering ------------------------------------------------------------------------------------


def _line_label(line: BrandLine, words: ReportWords) -> str:
    if line.is_total:
        return words.total
    if line.gift_card_name and line.gift_card_name != line.gift_card_code:
        return f"{line.gift_card_name} ({line.gift_card_code})"
    return line.gift_card_code


def _facts(report: ShiftReport, words: ReportWords, when: When) -> list[tuple[str, str]]:
    facts = [
        (words.agent, report.agent),
        (
            words.period,
            words.period_value.format(start=when(report.period_start), end=when(report.period_end)),
        ),
        (
            words.pulls,
            words.pulls_value.format(
                pulls=report.pulls,
                cards=report.cards,
                failed=report.failed,
                errors=report.errors,
                rejected=report.rejected,
                in_doubt=report.in_doubt,
                pending=report.pending,
            ),
        ),
        (words.first_pull, when(report.first_pull_at) if report.first_pull_at else words.none),
        (words.last_pull, when(report.last_pull_at) if report.last_pull_at else words.none),
    ]
    if report.created_at is not None:
        facts += [(words.closed_at, when(report.created_at)), (words.closed_by, report.created_by)]
    return facts


def _table(
    report: ShiftReport, words: ReportWords, money: Money
) -> list[tuple[BrandLine, list[str]]]:
    rows = []
    for line in [*report.brands, *report.totals]:
        rows.append(
            (
                line,
                [
                    _line_label(line, words),
                    str(line.cards),
                    money(line.face_value * 100, line.currency),
                    money(line.cost_cents, line.currency),
                    str(line.failed),
                    str(line.in_doubt),
                    str(line.pending),
                ],
            )
        )
    return rows


def _heading(report: ShiftReport, words: ReportWords) -> str:
    number = words.number.format(id=report.id) if report.id is not None else words.preview
    return f"{words.title}: {report.agent} · {number}"


_PDF_FONT: list[tuple[str, str]] = []


def _pdf_fonts() -> tuple[str, str]:
    """(regular, bold) font names: DejaVu Sans when the system has it, else Helvetica."""
    if _PDF_FONT:
        return _PDF_FONT[0]
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    chosen = ("Helvetica", "Helvetica-Bold")
    for path in _FONTS:
        if Path(path).is_file():
            bold = Path(path.replace("DejaVuSans.ttf", "DejaVuSans-Bold.ttf"))
            try:
                pdfmetrics.registerFont(TTFont("WalleoSans", path))
                pdfmetrics.registerFont(
                    TTFont("WalleoSans-Bold", str(bold) if bold.is_file() else path)
                )
            except Exception:  # noqa: S112 - a font that does not load: try the next one
                continue
            chosen = ("WalleoSans", "WalleoSans-Bold")
            break
    _PDF_FONT.append(chosen)
    return chosen


def _latin(text: str, font: str) -> str:
    """Text Helvetica can draw (WinAnsi): no-break spaces become spaces."""
    if font.startswith("Helvetica"):
        text = text.replace("\u202f", " ").replace("\u00a0", " ")
        return text.encode("cp1252", "replace").decode("cp1252")
    return text


def report_pdf(
    report: ShiftReport,
    *,
    words: ReportWords | None = None,
    tz: tzinfo | None = None,
    money: Money | None = None,
    when: When | None = None,
    zone: str | None = None,
) -> bytes:
    """The report as a one-page (or more) A4 PDF."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    words = words or ReportWords()
    money = money or _money
    when = when or _when(tz)
    regular, bold = _pdf_fonts()

    def t(text: str) -> str:
        return _latin(text, regular)

    def para(text: str, style: ParagraphStyle) -> Paragraph:
        return Paragraph(escape(t(text)), style)

    title = ParagraphStyle("title", fontName=bold, fontSize=16, leading=20, spaceAfter=4)
    body = ParagraphStyle("body", fontName=regular, fontSize=9.5, leading=12)
    small = ParagraphStyle("small", fontName=regular, fontSize=8, leading=10, textColor="#555555")
    story: list[Any] = [para(_heading(report, words), title), Spacer(1, 3 * mm)]
    facts = Table(
        [[para(k, body), para(v, body)] for k, v in _facts(report, words, when)],
        colWidths=[32 * mm, 140 * mm],
        hAlign="LEFT",
    )
    facts.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (0, -1), bold),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
            ]
        )
    )
    story += [facts, Spacer(1, 5 * mm)]
    if report.brands:
        header = [
            words.brand,
            words.cards,
            words.face_value,
            words.cost,
            words.failed,
            words.in_doubt,
            words.pending,
        ]
        rows = _table(report, words, money)
        # Paragraphs wrap: long brand names and the longer French titles stay in their cells.
        head = ParagraphStyle("head", fontName=bold, fontSize=8, leading=10, alignment=2)
        head_left = ParagraphStyle("head_left", parent=head, alignment=0)
        cell = ParagraphStyle("cell", fontName=regular, fontSize=9, leading=11)
        total = ParagraphStyle("total", parent=cell, fontName=bold)
        data: list[list[Any]] = [
            [para(h, head_left if i == 0 else head) for i, h in enumerate(header)]
        ]
        for line, cells in rows:
            data.append([para(cells[0], total if line.is_total else cell), *map(t, cells[1:])])
        table = Table(
            data,
            colWidths=[42 * mm, 16 * mm, 25 * mm, 25 * mm, 22 * mm, 23 * mm, 21 * mm],
            repeatRows=1,
            hAlign="LEFT",
        )
        style = [
            ("FONTNAME", (0, 0), (-1, -1), regular),
            ("FONTSIZE", (0, 0), (-1, -1), 9),
            ("FONTNAME", (0, 0), (-1, 0), bold),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#E8EEF7")),
            ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("LINEBELOW", (0, 0), (-1, 0), 0.6, colors.black),
            ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#BBBBBB")),
        ]
        first_total = 1 + len(report.brands)
        style += [
            ("FONTNAME", (0, first_total), (-1, -1), bold),
            ("LINEABOVE", (0, first_total), (-1, first_total), 0.8, colors.black),
        ]
        table.setStyle(TableStyle(style))
        story.append(table)
    else:
        story.append(para(words.no_pulls, body))
    story += [
        Spacer(1, 5 * mm),
        para(words.times_note.format(zone=zone or _zone(tz)), small),
        para(words.money_note, small),
    ]
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
        title=t(_heading(report, words)),
        author=t(report.created_by or report.agent),
        subject=t(words.title),
        creator="Walleo Desktop",
    )
    doc.build(story)
    return out.getvalue()


def report_csv(report: ShiftReport) -> str:
    """The report as CSV: one ``brand`` line per brand and currency, then one ``total`` line
    per currency (a total line with no currency when the period had no pull). Costs in major
    units with two decimals, exact; times ISO 8601 UTC; user text defused for spreadsheets."""

    def utc(moment: datetime | None) -> str:
        text = to_db_time(moment)
        return "" if text is None else text[:19] + "Z"

    common = [
        str(report.id) if report.id is not None else "",
        defuse(report.agent),
        utc(report.period_start),
        utc(report.period_end),
        utc(report.created_at),
        defuse(report.created_by),
    ]
    tail = [utc(report.first_pull_at), utc(report.last_pull_at)]
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    lines: Sequence[BrandLine] = [*report.brands, *report.totals] or [BrandLine("", "", "")]
    for line in lines:
        writer.writerow(
            [
                "total" if line.is_total else "brand",
                *common,
                defuse(line.gift_card_code),
                defuse(line.gift_card_name),
                defuse(line.currency),
                line.cards,
                line.face_value,
                cents_text(line.cost_cents),
                line.errors,
                line.rejected,
                line.in_doubt,
                line.pending,
                line.pulls,
                *tail,
            ]
        )
    return out.getvalue()


def _printable(text: str) -> str:
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)


def report_text(report: ShiftReport, *, tz: tzinfo | None = None) -> str:
    """The report for a terminal (English; control characters escaped)."""
    words = ReportWords()
    when = _when(tz)
    lines = [_printable(_heading(report, words))]
    for key, value in _facts(report, words, when):
        lines.append(f"  {key + ':':<12} {_printable(value)}")
    lines.append("")
    if report.brands:
        header = ("Brand", "Cards", "Face value", "Cost", "Failed", "In doubt", "Pending")
        table = [list(header)] + [
            [_printable(c) for c in cells] for _, cells in _table(report, words, _money)
        ]
        widths = [max(len(row[i]) for row in table) for i in range(len(header))]
        for n, row in enumerate(table):
            rest = [c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)]
            cells = [row[0].ljust(widths[0]), *rest]
            lines.append("  " + "  ".join(cells).rstrip())
            if n == 0 or n == len(report.brands):
                lines.append("  " + "  ".join("-" * w for w in widths))
    else:
        lines.append("  " + words.no_pulls)
    lines += ["", "  " + words.times_note.format(zone=_zone(tz)), "  " + words.money_note]
    return "\n".join(lines) + "\n"


def write_report(path: Path, data: bytes | str) -> Path:
    """Write ``data`` to ``path`` whole: a temporary file beside it, synced, renamed over it."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as fh:
            os.fchmod(fh.fileno(), _default_mode())  # a report holds no secret
            fh.write(raw)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
