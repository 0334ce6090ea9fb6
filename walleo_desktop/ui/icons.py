"""Status icons, drawn with QPainter (no image files, crisp at any size, one colour per state).

Colours carry meaning only together with the words beside them (the table always shows the
state's name too), so nothing depends on telling red from green.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPainterPath, QPen, QPixmap

from walleo_desktop import APP_ID
from walleo_desktop.store.records import PullState

__all__ = ["STATE_COLORS", "app_icon", "state_color", "status_icon"]

STATE_COLORS: dict[PullState, str] = {
    PullState.QUEUED: "#80868b",
    PullState.SENDING: "#1a73e8",
    PullState.IN_DOUBT: "#e37400",
    PullState.WAITING: "#1a73e8",
    PullState.PROCESSING: "#1a73e8",
    PullState.SUCCESS: "#188038",
    PullState.ERROR: "#d93025",
    PullState.REJECTED: "#a50e0e",
}
OVERDUE_COLOR = "#e37400"
_SIZES = (16, 24, 32, 48)
_ICON_SIZES = (16, 24, 32, 48, 64, 128, 256)


def app_icon() -> QIcon:
    """The application icon: the SVG (sharp at any size) plus PNGs for systems without QtSvg."""
    folder = resources.files("walleo_desktop.resources") / "icons"
    icon = QIcon()
    svg = folder / f"{APP_ID}.svg"
    if svg.is_file():
        icon.addFile(str(svg))
    for size in _ICON_SIZES:
        png = folder / f"{APP_ID}-{size}.png"
        if png.is_file():
            icon.addFile(str(png), QSize(size, size))
    return icon


def state_color(state: PullState) -> QColor:
    return QColor(STATE_COLORS[state])


@cache
def status_icon(state: PullState, overdue: bool = False) -> QIcon:
    """The icon for one state (with an amber corner dot when overdue). Needs a QGuiApplication."""
    icon = QIcon()
    for size in _SIZES:
        pixmap = QPixmap(size, size)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        try:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.scale(size / 16.0, size / 16.0)
            _draw(painter, state)
            if overdue and not state.final:
                _draw_overdue_badge(painter)
        finally:
            painter.end()
        icon.addPixmap(pixmap)
    return icon


def _draw(p: QPainter, state: PullState) -> None:
    """Draw on a 16×16 canvas."""
    color = state_color(state)
    disc = QRectF(1.5, 1.5, 13, 13)
    white = QPen(QColor("white"), 1.8, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap)
    white.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    if state in (PullState.QUEUED, PullState.WAITING):
        p.setPen(QPen(color, 1.6))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawEllipse(disc.adjusted(0.5, 0.5, -0.5, -0.5))
        hands = QPen(color, 1.5, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap)
        p.setPen(hands)
        if state is PullState.WAITING:  # a clock
            p.drawLine(QPointF(8, 8), QPointF(8, 4.5))
            p.drawLine(QPointF(8, 8), QPointF(10.5, 9.5))
        else:  # three dots: in line, not sent yet
            for x in (5.0, 8.0, 11.0):
                p.drawPoint(QPointF(x, 8))
        return
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(color)
    if state is PullState.PROCESSING:  # three quarters filled, like a progress pie
        p.setPen(QPen(color, 1.6))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawEllipse(disc.adjusted(0.5, 0.5, -0.5, -0.5))
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(color)
        p.drawPie(disc.adjusted(2, 2, -2, -2), 90 * 16, -270 * 16)
        return
    p.drawEllipse(disc)
    p.setPen(white)
    p.setBrush(Qt.BrushStyle.NoBrush)
    if state is PullState.SUCCESS:
        path = QPainterPath(QPointF(4.8, 8.3))
        path.lineTo(7.0, 10.5)
        path.lineTo(11.2, 5.8)
        p.drawPath(path)
    elif state is PullState.ERROR:
        p.drawLine(QPointF(8, 4.6), QPointF(8, 8.8))
        p.drawPoint(QPointF(8, 11.3))
    elif state is PullState.REJECTED:
        p.drawLine(QPointF(5.5, 5.5), QPointF(10.5, 10.5))
        p.drawLine(QPointF(10.5, 5.5), QPointF(5.5, 10.5))
    elif state is PullState.SENDING:  # an arrow going out
        p.drawLine(QPointF(8, 11.5), QPointF(8, 4.8))
        path = QPainterPath(QPointF(5.3, 7.3))
        path.lineTo(8, 4.6)
        path.lineTo(10.7, 7.3)
        p.drawPath(path)
    elif state is PullState.IN_DOUBT:  # a question mark
        path = QPainterPath(QPointF(5.9, 6.3))
        path.cubicTo(5.9, 3.8, 10.3, 3.8, 10.3, 6.2)
        path.cubicTo(10.3, 7.8, 8.0, 7.9, 8.0, 9.4)
        p.drawPath(path)
        p.drawPoint(QPointF(8, 11.6))


def _draw_overdue_badge(p: QPainter) -> None:
    p.setPen(QPen(QColor("white"), 1.0))
    p.setBrush(QColor(OVERDUE_COLOR))
    p.drawEllipse(QRectF(10, 0.5, 5.5, 5.5))
