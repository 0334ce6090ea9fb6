"""The status bar: which Walleo this window talks to, whether it answers, what is in flight.

The environment badge is the first thing on the left so it cannot be missed: DEMO in amber on
the built-in simulator (no real cards, no real money), the profile name on green otherwise.
Messages go to a label of their own (``show_message``) rather than ``QStatusBar.showMessage``,
which would hide the badge while a message is shown. Messages and the connection state are
``ElidedLabel``s: a long sentence (the no-keyring warning, an unreachable Walleo's reason) is cut
with an ellipsis, in full in its tooltip, instead of widening the window past the screen.
"""

from __future__ import annotations

from enum import StrEnum

from PySide6.QtCore import QSize, Qt, QTimer
from PySide6.QtGui import QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import QLabel, QSizePolicy, QStatusBar, QWidget

__all__ = ["ConnectionState", "ElidedLabel", "StatusBar"]

MESSAGE_MS = 8_000
ERROR_MESSAGE_MS = 15_000
_BADGE = "font-weight:bold;border-radius:3px;padding:1px 8px;margin:2px 0;"
_DEMO_STYLE = f"background:#f9ab00;color:#202124;{_BADGE}"
_LIVE_STYLE = f"background:#e6f4ea;color:#0d652d;border:1px solid #81c995;{_BADGE}"
_STATE_COLORS = {"ok": "#188038", "busy": "#5f6368", "error": "#d93025"}


class ConnectionState(StrEnum):
    OK = "ok"
    BUSY = "busy"
    ERROR = "error"


class ElidedLabel(QLabel):
    """One line of plain text that shrinks to a few characters, ending in "…" when cut.

    A plain QLabel is never narrower than its text, and a status bar never narrower than its
    labels: one long message made the window 2,000 px wide. Set the full text as the tooltip.
    """

    MINIMUM_CHARACTERS = 8

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setWordWrap(False)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

    def minimumSizeHint(self) -> QSize:
        hint = super().minimumSizeHint()
        if not self.text():
            return hint
        margins = self.contentsMargins()
        least = self.fontMetrics().averageCharWidth() * self.MINIMUM_CHARACTERS
        hint.setWidth(min(hint.width(), least + margins.left() + margins.right()))
        return hint

    def paintEvent(self, event: QPaintEvent) -> None:
        rect = self.contentsRect()
        text = self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideRight, rect.width())
        painter = QPainter(self)
        try:
            self.style().drawItemText(
                painter,
                rect,
                int(self.alignment()),
                self.palette(),
                self.isEnabled(),
                text,
                QPalette.ColorRole.WindowText,
            )
        finally:
            painter.end()


class StatusBar(QStatusBar):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("statusBar")
        self.environment = QLabel(self)
        self.environment.setObjectName("environmentBadge")
        self.connection = ElidedLabel(self)
        self.connection.setObjectName("connectionState")
        self.message = ElidedLabel(self)
        self.message.setObjectName("statusMessage")
        self.in_flight = QLabel(self)
        self.in_flight.setObjectName("inFlight")
        self.addWidget(self.environment)
        self.addWidget(self.connection)
        self.addWidget(self.message, 1)
        # The connection keeps its words unless the message has none left to give.
        self.connection.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        self.addPermanentWidget(self.in_flight)
        self._message_timer = QTimer(self)
        self._message_timer.setObjectName("status-message")
        self._message_timer.setSingleShot(True)
        self._message_timer.timeout.connect(self.message.clear)
        self.set_in_flight(0)

    def set_environment(self, label: str, *, demo: bool) -> None:
        self.environment.setText(self.tr("DEMO") if demo else label)
        self.environment.setStyleSheet(_DEMO_STYLE if demo else _LIVE_STYLE)
        self.environment.setProperty("demo", demo)
        self.environment.setToolTip(
            self.tr("Built-in simulator: no real cards are issued and nothing is charged.")
            if demo
            else self.tr("Connected to Walleo with the profile “{name}”.").format(name=label)
        )

    def set_connection(self, text: str, state: ConnectionState = ConnectionState.OK) -> None:
        self.connection.setText(text)
        self.connection.setToolTip(text)
        self.connection.setStyleSheet(f"color:{_STATE_COLORS[state]};padding:0 8px;")
        self.connection.setProperty("state", state.value)

    def show_message(self, text: str, *, error: bool = False, sticky: bool = False) -> None:
        """A sentence beside the connection state; errors stay up longer, sticky ones until
        the next message."""
        self.message.setText(text)
        self.message.setToolTip(text)
        self.message.setStyleSheet("color:#d93025;" if error else "")
        self._message_timer.stop()
        if not sticky:
            self._message_timer.start(ERROR_MESSAGE_MS if error else MESSAGE_MS)

    def set_in_flight(self, count: int) -> None:
        self.in_flight.setText(self.tr("%n in flight", "", count))
        self.in_flight.setStyleSheet("padding:0 8px;" + ("font-weight:bold;" if count else ""))
