"""Generated assets of the simulator: brand logos (SVG) and card PDFs (reportlab)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime
from xml.sax.saxutils import escape

from walleo_desktop.api.models import expiry_day

__all__ = ["CardSheet", "card_pdf", "logo_svg"]


def _initials(name: str) -> str:
    words = [w for w in name.replace("-", " ").split() if w]
    if len(words) >= 2:
        return (words[0][0] + words[1][0]).upper()
    return name[:2].upper() if name else "?"


def _text_colour(background: str) -> str:
    """Black or white, whichever reads better on ``background`` (#RRGGBB)."""
    try:
        r, g, b = (int(background[i : i + 2], 16) for i in (1, 3, 5))
    except ValueError:
        return "#FFFFFF"
    luminance = 0.299 * r + 0.587 * g + 0.114 * b
    return "#111111" if luminance > 160 else "#FFFFFF"


def logo_svg(name: str, colour: str, *, wide: bool = False) -> bytes:
    """A coloured rounded square with the brand's initials (``wide``: a banner with the name)."""
    fg = _text_colour(colour)
    if wide:
        width, height, radius, text, size = 360, 120, 18, escape(name), 40
    else:
        width, height, radius, text, size = 128, 128, 24, escape(_initials(name)), 52
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(name)}">'
        f'<rect width="{width}" height="{height}" rx="{radius}" ry="{radius}" fill="{colour}"/>'
        f'<text x="50%" y="50%" dy="0.35em" text-anchor="middle" fill="{fg}" '
        f'font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-weight="bold" '
        f'font-size="{size}">{text}</text></svg>'
    )
    return svg.encode("utf-8")


@dataclass(frozen=True, slots=True)
class CardSheet:
    """What a card's PDF shows."""

    brand_name: str
    colour: str
    amount: int
    code: str
    pin_code: str
    expire_at: datetime  # printed as Walleo's day (``expiry_day``), like the app and the CSV
    card_id: str


def card_pdf(sheet: CardSheet) -> bytes:
    """A one-page PDF like the ones gift-card issuers send: brand, amount, code, PIN, barcodes."""
    # Imported here: reportlab is only needed when a PDF is actually asked for.
    from reportlab.graphics import renderPDF
    from reportlab.graphics.barcode import code128, qr
    from reportlab.graphics.shapes import Drawing
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, pageCompression=0, invariant=1)
    pdf.setTitle(f"{sheet.brand_name} gift card {sheet.amount} €")
    pdf.setAuthor("Walleo simulator")
    pdf.setSubject(f"Card {sheet.card_id}")
    width, height = A4
    left, top = 50.0, height - 60.0

    # The card itself: a coloured rounded rectangle with the brand and the amount.
    pdf.setFillColor(colors.HexColor(sheet.colour))
    pdf.roundRect(left, top - 190, width - 2 * left, 190, 16, stroke=0, fill=1)
    pdf.setFillColor(colors.HexColor(_text_colour(sheet.colour)))
    pdf.setFont("Helvetica-Bold", 30)
    pdf.drawString(left + 24, top - 60, sheet.brand_name)
    pdf.setFont("Helvetica-Bold", 44)
    pdf.drawRightString(width - left - 24, top - 160, f"{sheet.amount} €")
    pdf.setFont("Helvetica", 12)
    pdf.drawString(left + 24, top - 85, "Carte cadeau / Gift card")

    # The details.
    pdf.setFillColor(colors.black)
    y = top - 240
    lines = [
        ("Code", sheet.code),
        ("PIN", sheet.pin_code or "—"),
        ("Valable jusqu'au / Expires", expiry_day(sheet.expire_at).strftime("%d/%m/%Y")),
        ("Montant / Amount", f"{sheet.amount} €"),
    ]
    for label, value in lines:
        pdf.setFont("Helvetica", 11)
        pdf.drawString(left, y, label)
        pdf.setFont("Courier-Bold", 15)
        pdf.drawString(left + 190, y, value)
        y -= 26

    # Code128 barcode and QR code of the card code.
    barcode = code128.Code128(sheet.code, barHeight=50, barWidth=1.1, humanReadable=True)
    barcode.drawOn(pdf, left, y - 80)
    side = 120.0
    widget = qr.QrCodeWidget(sheet.code)
    x0, y0, x1, y1 = widget.getBounds()
    drawing = Drawing(side, side, transform=[side / (x1 - x0), 0, 0, side / (y1 - y0), 0, 0])
    drawing.add(widget)
    renderPDF.draw(drawing, pdf, width - left - side, y - 110)

    pdf.setFont("Helvetica-Oblique", 8)
    pdf.setFillColor(colors.grey)
    pdf.drawString(left, 40, f"Simulated card {sheet.card_id} - not a real gift card.")
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()
