"""A clipboard for secrets: marked as sensitive, and wiped after a delay.

``SecureClipboard.copy(text)`` puts ``text`` on the system clipboard with the hints clipboard
managers honour (KDE Klipper and most Linux managers: ``x-kde-passwordManagerHint``; macOS:
``org.nspasteboard.ConcealedType``; Windows: no clipboard history, no cloud sync, no monitors),
then clears it ``clear_after`` seconds later, but only if the clipboard still holds that same
value: something the user copied meanwhile is never wiped. A pending secret is also wiped when
the application quits.

Signals:
    message(str): a status sentence for the status bar ("Code copied; …").
"""

from __future__ import annotations

import hashlib
import logging
import sys

from PySide6.QtCore import (
    QByteArray,
    QCoreApplication,
    QMimeData,
    QObject,
    QSettings,
    QTimer,
    Signal,
)
from PySide6.QtGui import QClipboard, QGuiApplication

__all__ = ["DEFAULT_CLEAR_AFTER", "SecureClipboard"]

log = logging.getLogger("walleo.ui.clipboard")

DEFAULT_CLEAR_AFTER = 30.0  # seconds

_HINTS: list[tuple[str, bytes]] = [
    # KDE Klipper, GPaste, CopyQ and others skip (or do not store) entries carrying this.
    ("x-kde-passwordManagerHint", b"secret"),
]
if sys.platform == "darwin":
    _HINTS.append(("application/x-nspasteboard-concealed-type", b"secret"))
elif sys.platform == "win32":
    _DWORD_0 = b"\x00\x00\x00\x00"
    _HINTS += [
        (
            'application/x-qt-windows-mime;value="ExcludeClipboardContentFromMonitorProcessing"',
            b"\x01\x00\x00\x00",
        ),
        ('application/x-qt-windows-mime;value="CanIncludeInClipboardHistory"', _DWORD_0),
        ('application/x-qt-windows-mime;value="CanUploadToCloudClipboard"', _DWORD_0),
    ]


def _digest(text: str) -> bytes:
    # Remember what we copied without keeping a second copy of the secret itself.
    return hashlib.sha256(text.encode("utf-8")).digest()


class SecureClipboard(QObject):
    """Copy text to the system clipboard; secrets are cleared after ``clear_after`` seconds."""

    message = Signal(str)
    cleared = Signal()

    def __init__(
        self,
        parent: QObject | None = None,
        *,
        clear_after: float = DEFAULT_CLEAR_AFTER,
        clipboard: QClipboard | None = None,
    ) -> None:
        super().__init__(parent)
        self._clipboard = clipboard
        self._clear_after = float(clear_after)
        self._pending: bytes | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._on_timeout)
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.clear_pending)

    # ------------------------------------------------------------------ API

    @property
    def clear_after(self) -> float:
        """Seconds before a copied secret is wiped (0 or less: never)."""
        return self._clear_after

    @clear_after.setter
    def clear_after(self, seconds: float) -> None:
        self._clear_after = float(seconds)

    @property
    def pending(self) -> bool:
        """True while a copied secret waits to be wiped."""
        return self._pending is not None

    def copy(self, text: str, *, secret: bool = True, label: str | None = None) -> None:
        """Put ``text`` on the clipboard. ``label`` names it in the status message."""
        clipboard = self._board()
        mime = QMimeData()
        mime.setText(text)
        if secret:
            for fmt, value in _HINTS:
                mime.setData(fmt, QByteArray(value))
        clipboard.setMimeData(mime, QClipboard.Mode.Clipboard)  # the clipboard owns mime now
        what = label or self.tr("Text")
        if not secret:
            self._pending = None
            self._timer.stop()
            self.message.emit(self.tr("%s copied.") % what)
            return
        self._pending = _digest(text)
        if self._clear_after > 0:
            self._timer.start(max(1, round(self._clear_after * 1000)))
            self.message.emit(
                self.tr("%s copied; the clipboard will be cleared in %s s")
                % (what, _seconds(self._clear_after))
            )
        else:
            self._timer.stop()
            self.message.emit(self.tr("%s copied.") % what)

    def clear_pending(self) -> None:
        """Wipe the clipboard now if it still holds the secret we put there."""
        self._timer.stop()
        if self._pending is None:
            return
        pending, self._pending = self._pending, None
        clipboard = self._board()
        if _digest(clipboard.text(QClipboard.Mode.Clipboard)) == pending:
            clipboard.clear(QClipboard.Mode.Clipboard)
            log.debug("cleared a copied secret from the clipboard")
            self.cleared.emit()
            self.message.emit(self.tr("Clipboard cleared."))

    # ------------------------------------------------------------------ internals

    def _board(self) -> QClipboard:
        return self._clipboard if self._clipboard is not None else QGuiApplication.clipboard()

    def _on_timeout(self) -> None:
        self.clear_pending()


def _seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


CLEAR_AFTER_KEY = "clipboard/clear_after_seconds"
CLEAR_AFTER_RANGE = (5, 600)


def saved_clear_after(settings: QSettings | None = None) -> int:
    """The user's choice of seconds before a copied code or PIN is wiped (default 30)."""
    from walleo_desktop.ui.i18n import preferences

    value = (settings or preferences()).value(CLEAR_AFTER_KEY, int(DEFAULT_CLEAR_AFTER))
    try:
        seconds = int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return int(DEFAULT_CLEAR_AFTER)
    low, high = CLEAR_AFTER_RANGE
    return min(max(seconds, low), high)


def save_clear_after(seconds: int, settings: QSettings | None = None) -> None:
    from walleo_desktop.ui.i18n import preferences

    s = settings or preferences()
    s.setValue(CLEAR_AFTER_KEY, int(seconds))
    s.sync()
