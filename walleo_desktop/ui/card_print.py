"""Printing a card: its PDF's pages, or a card page drawn here when there is no PDF.

``print_pdf(printer, path)`` renders each page of the card's PDF (QtPdf) into the printer's
painter, fitted to the printable area; ``print_card_page(printer, content)`` lays out a page
with the brand, amount, code, PIN, expiry day and how to use the card (``QTextDocument``, so
long terms of use flow onto more pages). Both raise ``PrintError`` with a sentence for the user
when the printer cannot be used (switched off, unplugged, a file that cannot be written).
"""

from __future__ import annotations

import html
import logging
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QDate, QLocale, QRectF, QSize, QSizeF
from PySide6.QtGui import QPainter, QTextDocument
from PySide6.QtPdf import QPdfDocument
from PySide6.QtPrintSupport import QPrinter

from walleo_desktop.engine.delivery import CardContent
from walleo_desktop.ui.formatting import format_amount

__all__ = [
    "RENDER_DPI",
    "PdfUnreadable",
    "PrintError",
    "card_page_html",
    "print_card_page",
    "print_pdf",
]

log = logging.getLogger("walleo.ui.print")

#: PDF pages are rendered at this resolution at most: a card is text and a barcode, and a
#: 1200-dpi A4 page would be a 500 MB image.
RENDER_DPI = 300


def _tr(text: str) -> str:
    return QCoreApplication.translate("CardPrint", text)


class PrintError(Exception):
    """The printer could not print; ``str()`` is the sentence for the user."""


class PdfUnreadable(PrintError):
    """The card's PDF cannot be opened: print the drawn card page instead."""


def _not_started() -> PrintError:
    return PrintError(
        _tr(
            "The printer could not be opened: check that it is switched on and connected, "
            "or choose another one."
        )
    )


def print_pdf(printer: QPrinter, path: Path) -> int:
    """Print every page of the PDF at ``path``; returns the number of pages printed."""
    document = QPdfDocument()
    error = document.load(str(path))
    if error != QPdfDocument.Error.None_ or document.pageCount() == 0:
        document.close()
        raise PdfUnreadable(_tr("The card's PDF could not be opened for printing."))
    painter = QPainter()
    try:
        if not painter.begin(printer):
            raise _not_started()
        area = printer.pageRect(QPrinter.Unit.DevicePixel)
        scale_to_render = min(RENDER_DPI, printer.resolution()) / 72.0
        for index in range(document.pageCount()):
            if index and not printer.newPage():
                raise PrintError(_tr("The printer stopped after %s page(s).") % index)
            points = document.pagePointSize(index)
            if points.isEmpty():
                continue
            # Fit the page into the printable area, keeping its proportions, centred.
            fit = min(area.width() / points.width(), area.height() / points.height())
            width, height = points.width() * fit, points.height() * fit
            target = QRectF((area.width() - width) / 2, (area.height() - height) / 2, width, height)
            size = QSize(
                max(1, round(min(width, points.width() * scale_to_render))),
                max(1, round(min(height, points.height() * scale_to_render))),
            )
            painter.drawImage(target, document.render(index, size))
        pages = document.pageCount()
    except BaseException:
        if painter.isActive():
            painter.end()
        raise
    finally:
        document.close()
    if not painter.end():
        raise PrintError(_tr("The printer did not finish the job."))
    if printer.printerState() == QPrinter.PrinterState.Error:
        raise PrintError(_tr("The printer reported an error; the card may not have printed."))
    return pages


def _day(content: CardContent) -> str:
    if content.expires_on is None:
        return _tr("No expiry date")
    day = content.expires_on
    date = QLocale().toString(QDate(day.year, day.month, day.day), QLocale.FormatType.LongFormat)
    return _tr("Valid until %s") % date


def card_page_html(content: CardContent) -> str:
    """The printable card page (Qt's rich text: simple HTML, every value escaped)."""
    e = html.escape
    amount = format_amount(content.amount, content.currency)
    rows = [
        f"<h1>{e(content.brand)}</h1>",
        f'<p style="font-size:20pt;"><b>{e(amount)}</b></p>',
        f"<p>{e(_tr('Code'))}<br>",
        f'<span style="font-family:monospace;font-size:18pt;">{e(content.code)}</span></p>',
    ]
    if content.pin:
        rows += [
            f"<p>{e(_tr('PIN'))}<br>",
            f'<span style="font-family:monospace;font-size:18pt;">{e(content.pin)}</span></p>',
        ]
    rows.append(f"<p><b>{e(_day(content))}</b></p>")
    for title, text in (
        (_tr("How to use it online"), content.how_to_use_online),
        (_tr("How to use it in shops"), content.how_to_use_offline),
        (_tr("Terms of use"), content.terms),
    ):
        if text:
            body = "<br>".join(e(line) for line in text.splitlines())
            rows.append(f"<h3>{e(title)}</h3><p>{body}</p>")
    return "<html><body>" + "\n".join(rows) + "</body></html>"


def print_card_page(printer: QPrinter, content: CardContent) -> int:
    """Print the card page drawn from ``content``; returns the number of pages printed."""
    document = QTextDocument()
    document.documentLayout().setPaintDevice(printer)  # fonts at the printer's resolution
    document.setHtml(card_page_html(content))
    area = printer.pageRect(QPrinter.Unit.DevicePixel)
    document.setPageSize(QSizeF(area.width(), area.height()))
    pages = document.pageCount()
    painter = QPainter()
    if not painter.begin(printer):
        raise _not_started()
    try:
        for index in range(pages):
            if index and not printer.newPage():
                raise PrintError(_tr("The printer stopped after %s page(s).") % index)
            top = index * area.height()
            painter.save()
            painter.translate(0, -top)
            document.drawContents(painter, QRectF(0, top, area.width(), area.height()))
            painter.restore()
    except BaseException:
        painter.end()
        raise
    if not painter.end():
        raise PrintError(_tr("The printer did not finish the job."))
    if printer.printerState() == QPrinter.PrinterState.Error:
        raise PrintError(_tr("The printer reported an error; the card may not have printed."))
    return pages
