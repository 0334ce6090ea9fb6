"""Check a profile before saving it: one signed catalog request, one sentence for the user.

``test_connection`` never raises for the failures a user can fix (credentials, clock, URL,
network); it returns a ``ConnectionReport`` whose ``message`` says what happened in plain words.
No secret ever reaches a log line or a message.

(The function's name starts with ``test_`` because it tests a *connection*; it is marked
``__test__ = False`` so that pytest never collects it when a test module imports it.)
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from walleo_desktop.api import errors as E
from walleo_desktop.api.client import DEFAULT_BASE_URL, Credentials, WalleoClient, is_loopback_url

__all__ = [
    "DEFAULT_BASE_URL",
    "ConnectionReport",
    "Credentials",
    "base_url_problem",
    "describe_clock_skew",
    "test_connection",
]

log = logging.getLogger("walleo.engine.connection_test")

DEFAULT_TIMEOUT = 15.0  # seconds for the whole check


@dataclass(frozen=True, slots=True)
class ConnectionReport:
    """The outcome of one connection check.

    ``ok``: Walleo accepted the signed request. ``message``: one sentence for the user.
    ``gift_cards``: catalog size on success. ``error_code``: the error's code on failure
    (``unauthorized``, ``invalid_signature``, ``not_sent``...). ``get_signing``: the GET-signing
    variant the server accepted (worth saving in the profile).
    """

    ok: bool
    message: str
    gift_cards: int | None = None
    error_code: str = ""
    get_signing: str = ""
    clock_skew: float | None = None


def base_url_problem(url: str) -> str | None:
    """None when ``url`` can be used as a base URL, else why not (one sentence).

    https:// with a host is accepted; plain http:// only for this computer (a simulator).
    """
    text = url.strip()
    try:
        parts = urlsplit(text)
    except ValueError:
        return "The base URL is not a valid address."
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "The base URL must start with https:// and name a host."
    if parts.scheme == "http" and not is_loopback_url(text):
        return "Plain http:// is only allowed for a simulator on this computer; use https://."
    if parts.query or parts.fragment:
        return "The base URL must not contain a query (?) or a fragment (#)."
    return None


def describe_clock_skew(seconds: float) -> str:
    """``300`` → ``"5 min behind"``; ``-95`` → ``"1 min 35 s ahead of"``.

    ``seconds`` is the server clock minus the local clock. Past two minutes the value is rounded
    to the minute: the server's ``Date`` header only has one-second precision anyway.
    """
    total = round(abs(seconds))
    if total >= 120:
        total = round(total / 60) * 60
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{hours} h"] if hours else []
    if minutes:
        parts.append(f"{minutes} min")
    if secs or not parts:
        parts.append(f"{secs} s")
    direction = "behind" if seconds > 0 else "ahead of"
    return f"{' '.join(parts)} {direction}"


def _plural(count: int) -> str:
    if count == 0:
        return "Connected, but no gift cards are available to this account yet."
    if count == 1:
        return "Connected: 1 gift card available."
    return f"Connected: {count} gift cards available."


def _failure(exc: Exception) -> ConnectionReport:
    code = getattr(exc, "code", "") or type(exc).__name__
    if isinstance(exc, E.InvalidSignature):
        if exc.clock_skew is not None:
            message = (
                f"The signature was refused; your clock is {describe_clock_skew(exc.clock_skew)}"
                " Walleo's. Set this computer's clock right (automatic time) and try again."
            )
        else:
            message = (
                "The signature was refused (Walleo says: "
                f"{_first_sentence(exc.message)}). Check the shared key: it must be the "
                "hexadecimal key Walleo gave for this identifier."
            )
        return ConnectionReport(False, message, error_code=code, clock_skew=exc.clock_skew)
    if isinstance(exc, E.Unauthorized):
        return ConnectionReport(
            False,
            f"Walleo refused the credentials ({exc.message}). Check the API key and identifier.",
            error_code=code,
        )
    if isinstance(exc, E.NotSentError):
        # The message already reads "Walleo could not be reached: <why>".
        return ConnectionReport(
            False,
            f"{exc.message}. Check the base URL and this computer's network connection.",
            error_code=code,
        )
    if isinstance(exc, E.RateLimitedError):
        return ConnectionReport(False, exc.message, error_code=code)
    if isinstance(exc, E.ApiError):
        return ConnectionReport(
            False,
            f"Walleo answered with an error ({exc.message}). Check the base URL.",
            error_code=code,
        )
    if isinstance(exc, E.UnexpectedResponseError | E.AmbiguousError):
        return ConnectionReport(
            False,
            f"{exc.message.rstrip('.')}. Is the base URL really Walleo's Partners API?",
            error_code=code,
        )
    if isinstance(exc, E.WalleoError):
        return ConnectionReport(False, exc.message, error_code=code)
    return ConnectionReport(False, f"The connection test failed: {exc}", error_code=code)


def _first_sentence(text: str) -> str:
    return text.split(". ")[0].rstrip(".")


async def test_connection(
    base_url: str,
    credentials: Credentials,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    time_limit: float = DEFAULT_TIMEOUT,
) -> ConnectionReport:
    """Make one signed ``GET /gift_cards`` and say, in plain words, whether it worked."""
    problem = base_url_problem(base_url)
    if problem is not None:
        return ConnectionReport(False, problem, error_code="configuration")
    try:
        credentials.validate()
    except E.ConfigurationError as exc:
        return ConnectionReport(False, exc.message, error_code=exc.code)
    try:
        client = WalleoClient(
            base_url,
            credentials,
            transport=transport,
            timeout=httpx.Timeout(time_limit),
            max_connections=2,
        )
    except E.ConfigurationError as exc:
        return ConnectionReport(False, exc.message, error_code=exc.code)
    try:
        async with client:
            cards = await asyncio.wait_for(client.list_gift_cards(), time_limit)
    except TimeoutError:
        log.info("connection test to %s: no answer within %.0f s", client.base_url, time_limit)
        return ConnectionReport(
            False,
            f"Walleo did not answer within {time_limit:.0f} s. "
            "Check the base URL and this computer's network connection.",
            error_code="timeout",
        )
    except E.WalleoError as exc:
        log.info("connection test to %s failed: %s", client.base_url, exc.code)
        return _failure(exc)
    log.info("connection test to %s: %d gift cards", client.base_url, len(cards))
    return ConnectionReport(
        True, _plural(len(cards)), gift_cards=len(cards), get_signing=client.get_signing.value
    )


# pytest collects module-level ``test_*`` callables imported into a test module; this is no test.
test_connection.__dict__["__test__"] = False
