"""Logging: a rotated file in the user log dir, and redaction of every secret we know of.

Secrets (API key, shared key, card codes and PINs) are registered with ``register_secret`` as
they enter the process; ``Redactor`` replaces them, plus anything shaped like an Authorization
header or a signature, in the final text of every record written by a root handler. Redacting
the formatted text (not only ``record.msg``) also covers arguments and tracebacks.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import re
import threading
from pathlib import Path

import platformdirs

__all__ = ["REDACTOR", "Redactor", "default_log_dir", "register_secret", "setup_logging"]

_PATTERNS = (
    re.compile(r"(Bearer\s+)[^\s,]+", re.IGNORECASE),
    re.compile(r"(Signature=)[0-9A-Fa-f]+"),
    re.compile(r'("(?:code|pin_code|api_key|shared_key)"\s*:\s*")[^"]*'),
)
_MASK = "[redacted]"
# Secrets are matched as whole tokens, so that checking a line costs the same whatever the
# number of secrets known (a long session may see thousands of cards).
_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9\-_]{3,}")
_LONG_DIGITS = re.compile(r"(?<!\d)\d{12,}(?!\d)")  # anything shaped like a card number


class Redactor(logging.Filter):
    """A filter (and text scrubber) that knows the session's secrets."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._secrets: set[str] = set()

    def add(self, *values: str | None) -> None:
        with self._lock:
            for value in values:
                value = (value or "").strip()
                if len(value) >= 4:
                    self._secrets.add(value)
                    # also as the tokens it is made of, e.g. "ABCD EFGH" or "ABCD-EFGH" codes
                    self._secrets.update(t for t in re.split(r"[\s]+", value) if len(t) >= 4)

    def redact(self, text: str) -> str:
        for pattern in _PATTERNS:
            text = pattern.sub(lambda m: m.group(1) + _MASK, text)
        text = _LONG_DIGITS.sub(_MASK, text)
        secrets = self._secrets
        if secrets:
            text = _TOKEN.sub(lambda m: _MASK if _known(m.group(0), secrets) else m.group(0), text)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: let the handler report it
            return True
        cleaned = self.redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def _known(token: str, secrets: set[str]) -> bool:
    if token in secrets:
        return True
    # a token glued to punctuation ("code=ABCD1234," or "'ABCD1234'.")
    stripped = token.strip("-_")
    return stripped in secrets


REDACTOR = Redactor()


def register_secret(*values: str | None) -> None:
    """Never write these values to any log from now on (this process)."""
    REDACTOR.add(*values)


class _RedactingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return REDACTOR.redact(super().format(record))


def default_log_dir() -> Path:
    return Path(platformdirs.user_log_dir("walleo-desktop", appauthor=False))


class _PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    def _open(self):  # type: ignore[no-untyped-def]
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        return os.fdopen(fd, self.mode.replace("w", "a"), encoding=self.encoding)


def setup_logging(
    *, verbose: bool = False, console: bool = True, log_dir: Path | None = None
) -> Path | None:
    """Root logging for the app and the CLI. Returns the log file (None if it cannot be made)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_walleo", False):
            root.removeHandler(handler)
            handler.close()
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # it logs full URLs per request
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    path: Path | None = None
    handlers: list[logging.Handler] = []
    try:
        directory = log_dir or default_log_dir()
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = directory / "walleo-desktop.log"
        file_handler = _PrivateRotatingFileHandler(
            path, maxBytes=2 * 1024 * 1024, backupCount=5, encoding="utf-8"
        )
        file_handler.setFormatter(
            _RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
        )
        handlers.append(file_handler)
    except OSError:
        path = None
    if console:
        stream = logging.StreamHandler()
        stream.setLevel(logging.INFO if verbose else logging.WARNING)
        stream.setFormatter(_RedactingFormatter("%(levelname)s %(name)s: %(message)s"))
        handlers.append(stream)
    for handler in handlers:
        handler.addFilter(REDACTOR)
        handler._walleo = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    return path
