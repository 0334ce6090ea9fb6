"""How a form says what went wrong or how a check ended: the colours and the label handling the
settings, SMTP, card and delivery panes share."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QWidget

__all__ = ["ERROR_COLOR", "OK_COLOR", "hide_error", "show_error", "show_outcome"]

ERROR_COLOR = "#c62828"
OK_COLOR = "#2e7d32"


def show_error(label: QLabel, text: str, widget: QWidget | None = None) -> None:
    """Show ``text`` in the form's error label; the focus goes to ``widget``, the field to fix."""
    label.setText(text)
    label.show()
    if widget is not None:
        widget.setFocus()


def hide_error(label: QLabel) -> None:
    label.clear()
    label.hide()


def show_outcome(label: QLabel, ok: bool | None, text: str) -> None:
    """A check's outcome in ``label``: green when it passed, red when it failed, plain while it
    runs (``ok`` None); ``ok`` is kept as the label's property for tests and styles."""
    color = {True: OK_COLOR, False: ERROR_COLOR}.get(ok) if ok is not None else None
    label.setStyleSheet(f"color: {color};" if color else "")
    label.setProperty("ok", ok)
    label.setText(text)
