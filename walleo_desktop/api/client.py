"""The asynchronous Walleo Partners API client.

One ``WalleoClient`` owns one ``httpx.AsyncClient`` (keep-alive pool, explicit timeouts). Every
request is signed over the exact bytes it sends (see ``signing``). Answers become typed models
(``models``) and failures typed errors (``errors``); nothing here knows about Qt or SQLite.

A server cannot park or bloat the client: each request has a total deadline (``deadline``,
from waiting for a connection to the answer's last byte), answers are streamed under a byte cap
(``MAX_JSON_BYTES``, ``MAX_CATALOG_BYTES``), ``Retry-After`` is honoured up to
``MAX_RETRY_AFTER``, and the models cap every field (``models.MAX_*``). After a POST, a
deadline passed, an oversized answer or an oversized field is ``AmbiguousError`` (the create
may have happened); after a GET, an oversized answer or field is ``UnexpectedResponseError``
and a deadline passed ``AmbiguousError`` (a transport error: check again later).
"""

from __future__ import annotations

import asyncio
import email.utils
import functools
import ipaddress
import json
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from walleo_desktop import __version__
from walleo_desktop.api import errors as E
from walleo_desktop.api.models import Card, GiftCard, Inventory, PullRequest
from walleo_desktop.api.signing import (
    GetSigning,
    authorization_header,
    canonical_json,
    sign,
    signing_token,
)

if TYPE_CHECKING:
    # Imported where it is used (``import httpx`` in those functions): loading httpx and
    # making its connection pool cost the window's first paint about a tenth of a second,
    # and nothing is sent before the window is up.
    import httpx

__all__ = [
    "CLOCK_SKEW_TOLERANCE",
    "DEFAULT_BASE_URL",
    "DEFAULT_DEADLINE",
    "DEFAULT_DOWNLOAD_DEADLINE",
    "MAX_CATALOG_BYTES",
    "MAX_JSON_BYTES",
    "MAX_RETRY_AFTER",
    "Credentials",
    "WalleoClient",
    "is_loopback_url",
]

log = logging.getLogger("walleo.api")

DEFAULT_BASE_URL = "https://api.walleo.io/partners/v1"
CLOCK_SKEW_TOLERANCE = 30.0  # seconds (walleo-api.md, Decision 6)
MAX_PDF_BYTES = 20 * 1024 * 1024
MAX_LOGO_BYTES = 512 * 1024

#: Longest wait a server may impose with ``Retry-After``, in seconds: honoured up to this, cut to
#: it beyond. The engine journals the next check, so an obeyed ``Retry-After: 86400`` parked a pull
#: for a day, across restarts (issue 10). Five minutes outlasts the windows rate limits use (per
#: second to per minute) and still checks a pull twelve times an hour. A negative or unreadable
#: value is ignored (``retry_after=None``: the engine's own backoff applies).
MAX_RETRY_AFTER = 300.0

#: Largest answer read for one pull request, card, gift card, inventory or error, in bytes. Those
#: are under 2 KB; one with every field at its cap in ``models`` is under 10 KB. 1 MiB is ample
#: headroom and bounds memory: 16 concurrent requests hold at most 16 MiB of answers.
MAX_JSON_BYTES = 1024 * 1024

#: Largest catalog (``GET /gift_cards``, the one list answer) read, in bytes. An entry is 1 to 5 KB
#: (mostly its terms of use); 16 MiB holds over 3,000 entries of 5 KB where Walleo lists hundreds,
#: and each entry is also capped on its own (``models.MAX_GIFT_CARD_JSON``).
MAX_CATALOG_BYTES = 16 * 1024 * 1024

#: Total time for one API request, in seconds: waiting for a connection, connecting, sending and
#: reading the whole answer. httpx's timeouts count per read, so a server trickling a byte every
#: 5 s never trips them (10 pulls took 203 s instead of 3, issue 10). A healthy answer takes well
#: under a second; 60 s is twice the read timeout.
DEFAULT_DEADLINE = 60.0

#: The same for downloading a card's PDF or a logo: 20 MiB (``MAX_PDF_BYTES``) in 120 s needs
#: 1.4 Mbit/s; a real card PDF is about 100 KB.
DEFAULT_DOWNLOAD_DEADLINE = 120.0

_PDF_TYPES = frozenset({"application/pdf", "application/octet-stream", "binary/octet-stream"})
_IMAGE_TYPES = frozenset({"image/svg+xml", "image/png", "image/jpeg", "image/webp"})


@dataclass(frozen=True, slots=True)
class Credentials:
    """The three values Walleo issues to a partner. ``repr`` never shows the secrets."""

    api_key: str
    identifier: str
    shared_key: str

    def __repr__(self) -> str:
        return f"Credentials(identifier={self.identifier!r}, api_key=***, shared_key=***)"

    def validate(self) -> None:
        if not self.api_key.strip() or not self.identifier.strip():
            raise E.ConfigurationError("The API key and the identifier must not be empty.")
        try:
            key = bytes.fromhex(self.shared_key.strip())
        except ValueError:
            raise E.ConfigurationError(
                "The shared key must be hexadecimal (digits 0-9 and letters A-F)."
            ) from None
        if not key:
            raise E.ConfigurationError("The shared key must not be empty.")


def is_loopback_url(url: str | httpx.URL) -> bool:
    """True for hosts that never leave this machine (127/8, ::1, localhost, *.localhost)."""
    import httpx

    host = (httpx.URL(str(url)).host or "").strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _describe_http_status(status: int) -> str:
    try:
        from http import HTTPStatus

        return f"HTTP {status} ({HTTPStatus(status).phrase})"
    except ValueError:
        return f"HTTP {status}"


def _retry_after_seconds(value: str | None, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` header, at most ``MAX_RETRY_AFTER``.

    Delay-seconds or an HTTP date. More than the cap (infinity included) → the cap; negative,
    NaN or unreadable → None (ignored). A date in the past means now (0).
    """
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        seconds = max(0.0, when.timestamp() - now)
    if math.isnan(seconds) or seconds < 0:
        return None
    return min(seconds, MAX_RETRY_AFTER)


class _TooLarge(Exception):
    def __init__(self, status: int, cap: int) -> None:
        super().__init__(status, cap)
        self.status = status
        self.cap = cap


async def _read_capped(response: httpx.Response, cap: int) -> bytes:
    """The whole body of a streamed ``response``, or ``_TooLarge`` once it passes ``cap``."""
    declared = response.headers.get("content-length", "").strip()
    if declared.isdigit() and len(declared) < 20 and int(declared) > cap:
        raise _TooLarge(response.status_code, cap)
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > cap:
            raise _TooLarge(response.status_code, cap)
        chunks.append(chunk)
    return b"".join(chunks)


def _check_deadline(name: str, value: float) -> float:
    if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
        raise E.ConfigurationError(f"The {name} must be a positive number of seconds.")
    return float(value)


def _format_skew(seconds: float) -> str:
    total = round(abs(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{hours} h"] if hours else []
    if minutes or hours:
        parts.append(f"{minutes} min")
    parts.append(f"{secs} s")
    return " ".join(parts)


class WalleoClient:
    """Async client for every documented endpoint of the Partners API.

    ``transport`` lets tests and demo mode plug in the in-process simulator. ``clock`` returns
    Unix seconds (used for the signed timestamp and the clock-skew diagnosis).
    ``on_get_signing_learned`` is called once when the GET-signing variant had to change.
    ``timeout`` is httpx's (per phase, per read); ``deadline`` caps one API request as a whole
    and ``download_deadline`` one PDF or logo download (seconds, see ``DEFAULT_DEADLINE``).
    """

    def __init__(
        self,
        base_url: str,
        credentials: Credentials | None,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: httpx.Timeout | float | None = None,
        max_connections: int = 16,
        get_signing: GetSigning = GetSigning.EMPTY_SEGMENT,
        on_get_signing_learned: Callable[[GetSigning], None] | None = None,
        clock: Callable[[], float] = time.time,
        deadline: float = DEFAULT_DEADLINE,
        download_deadline: float = DEFAULT_DOWNLOAD_DEADLINE,
    ) -> None:
        if credentials is not None:
            credentials.validate()
        self.deadline = _check_deadline("request deadline", deadline)
        self.download_deadline = _check_deadline("download deadline", download_deadline)
        parts = urlsplit(base_url.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise E.ConfigurationError(
                f"The base URL {base_url!r} must start with https:// and name a host."
            )
        if parts.scheme == "http" and not is_loopback_url(base_url):
            raise E.ConfigurationError(
                "Plain http:// is only allowed for a simulator on this computer; use https://."
            )
        self.base_url = base_url.strip().rstrip("/")
        self._credentials = credentials
        self.get_signing = get_signing
        self._get_signing_confirmed = False
        self._on_get_signing_learned = on_get_signing_learned
        self._clock = clock
        self.max_connections = max_connections
        self._transport = transport
        self._timeout = timeout
        self._http_client: httpx.AsyncClient | None = None
        self._closed = False

    @property
    def _http(self) -> httpx.AsyncClient:
        """The connection pool, made at the first request: httpx is imported and the TLS
        certificates are loaded then (a tenth of a second together), not before the window
        that opens on this client has painted."""
        if self._http_client is None:
            if self._closed:
                raise RuntimeError("the Walleo client is closed")
            import httpx

            self._http_client = httpx.AsyncClient(
                transport=self._transport,
                timeout=self._timeout
                if self._timeout is not None
                else httpx.Timeout(connect=10.0, read=30.0, write=15.0, pool=120.0),
                limits=httpx.Limits(
                    max_connections=self.max_connections,
                    max_keepalive_connections=self.max_connections,
                ),
                headers={
                    "User-Agent": f"walleo-desktop/{__version__}",
                    "Accept": "application/json",
                },
                follow_redirects=False,
            )
        return self._http_client

    async def __aenter__(self) -> WalleoClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        self._closed = True
        if self._http_client is not None:
            await self._http_client.aclose()

    # ------------------------------------------------------------------ endpoints

    async def list_gift_cards(self) -> list[GiftCard]:
        data = await self._request("GET", "/gift_cards", max_bytes=MAX_CATALOG_BYTES)
        if not isinstance(data, list):
            raise E.UnexpectedResponseError("The catalog answer is not a list of gift cards.")
        cards = []
        for item in data:
            try:
                cards.append(GiftCard.from_json(item))
            except ValueError as exc:
                log.warning("skipping a catalog entry Walleo sent malformed: %s", exc)
        return cards

    async def get_gift_card(self, code: str) -> GiftCard:
        data = await self._request("GET", f"/gift_cards/{_seg(code)}")
        return _parse(GiftCard.from_json, data, "gift card")

    async def create_pull_request(
        self, gift_card_code: str, amount: int, request_id: str
    ) -> PullRequest:
        _check_request_id(request_id)
        body = {
            "pull_request": {
                "amount": int(amount),
                "gift_card_code": gift_card_code,
                "request_id": request_id,
            }
        }
        data = await self._request(
            "POST", "/pull_requests", body=body, headers={"X-RequestId": request_id}
        )
        return _parse_wrapped(PullRequest.from_json, data, "pull_request", ambiguous=True)

    async def get_pull_request(self, request_id: str) -> PullRequest:
        data = await self._request("GET", f"/pull_requests/{_seg(request_id)}")
        return _parse_wrapped(PullRequest.from_json, data, "pull_request")

    async def create_card(
        self, gift_card_code: str, amount: int, request_id: str | None = None
    ) -> Card:
        """Synchronous pull. With a ``request_id``, a resend replays instead of re-issuing."""
        body = {"card": {"amount": int(amount), "gift_card_code": gift_card_code}}
        if request_id:
            _check_request_id(request_id)
        headers = {"X-RequestId": request_id} if request_id else None
        data = await self._request("POST", "/cards", body=body, headers=headers)
        return _parse_wrapped(Card.from_json, data, "card", ambiguous=True)

    async def get_card(self, card_id: str) -> Card:
        data = await self._request("GET", f"/cards/{_seg(card_id)}")
        return _parse_wrapped(Card.from_json, data, "card")

    async def get_inventory(self, gift_card_code: str) -> Inventory:
        data = await self._request("GET", f"/inventories/{_seg(gift_card_code)}")
        return _parse_wrapped(Inventory.from_json, data, "inventories")

    async def download_pdf(self, url: str, *, max_bytes: int = MAX_PDF_BYTES) -> bytes:
        """Fetch a card's PDF: https only (plain http for loopback), size-capped, checked.

        No Walleo credentials are sent: ``pdf_url`` may point at another host.
        """
        content = await self._download(url, "the card's PDF", _PDF_TYPES, max_bytes)
        if not content.startswith(b"%PDF"):
            raise E.UnexpectedResponseError("The downloaded file is not a PDF.")
        return content

    async def download_logo(self, url: str, *, max_bytes: int = MAX_LOGO_BYTES) -> bytes:
        """Fetch a brand's logo (SVG, PNG, JPEG or WebP), with the same rules as the PDF."""
        return await self._download(url, "the brand's logo", _IMAGE_TYPES, max_bytes)

    async def _download(self, url: str, what: str, types: frozenset[str], max_bytes: int) -> bytes:
        import httpx

        parsed = httpx.URL(url)
        if parsed.scheme != "https" and not (parsed.scheme == "http" and is_loopback_url(parsed)):
            raise E.UnexpectedResponseError(
                f"Refusing to download {what} over {parsed.scheme or 'an unknown scheme'}:"
                " only https:// is accepted."
            )
        too_big = f"{what[0].upper()}{what[1:]} is larger than allowed."
        try:
            async with (
                asyncio.timeout(self.download_deadline),
                self._http.stream("GET", parsed, headers={"Accept": ", ".join(sorted(types))}) as r,
            ):
                if r.status_code != 200:
                    raise E.UnexpectedResponseError(
                        f"Downloading {what} answered {_describe_http_status(r.status_code)}.",
                        http_status=r.status_code,
                    )
                ctype = r.headers.get("content-type", "").split(";")[0].strip().lower()
                if ctype not in types:
                    raise E.UnexpectedResponseError(
                        f"Downloading {what} returned {ctype or 'no content type'}, "
                        "not what was expected."
                    )
                declared = r.headers.get("content-length")
                if declared and declared.isdigit() and int(declared) > max_bytes:
                    raise E.UnexpectedResponseError(too_big)
                chunks: list[bytes] = []
                size = 0
                async for chunk in r.aiter_bytes():
                    size += len(chunk)
                    if size > max_bytes:
                        raise E.UnexpectedResponseError(too_big)
                    chunks.append(chunk)
        except httpx.HTTPError as exc:
            raise E.AmbiguousError(
                f"Downloading {what} failed: {_describe_transport(exc)}"
            ) from exc
        except TimeoutError as exc:
            raise E.AmbiguousError(
                f"Downloading {what} took longer than {self.download_deadline:g} s; stopped."
            ) from exc
        return b"".join(chunks)

    # ------------------------------------------------------------------ plumbing

    async def _request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        headers: dict[str, str] | None = None,
        max_bytes: int = MAX_JSON_BYTES,
    ) -> Any:
        payload = canonical_json(body) if body is not None else b""
        send = functools.partial(self._send, method, path, payload, headers, max_bytes=max_bytes)
        if method == "GET":
            try:
                return await send(self.get_signing)
            except E.InvalidSignature as first:
                if self._get_signing_confirmed:
                    raise
                other = (
                    GetSigning.DROPPED_SEGMENT
                    if self.get_signing is GetSigning.EMPTY_SEGMENT
                    else GetSigning.EMPTY_SEGMENT
                )
                try:
                    result = await send(other)
                except E.InvalidSignature:
                    raise first from None
                log.warning(
                    "Walleo rejected GET signatures with %s and accepted %s: using %s from now on",
                    self.get_signing.value,
                    other.value,
                    other.value,
                )
                self.get_signing = other
                self._get_signing_confirmed = True
                if self._on_get_signing_learned is not None:
                    self._on_get_signing_learned(other)
                return result
        return await send(self.get_signing)

    async def _send(
        self,
        method: str,
        path: str,
        payload: bytes,
        extra_headers: dict[str, str] | None,
        get_signing: GetSigning,
        *,
        max_bytes: int,
    ) -> Any:
        if self._credentials is None:
            # A desktop that reads the history only (team finance): nothing is sent.
            raise E.ConfigurationError(
                "This desktop has no Walleo credentials: it reviews the history and issues "
                "no cards."
            )
        import httpx

        request = self._http.build_request(
            method,
            self.base_url + path,
            content=payload if payload else None,
            headers={"Content-Type": "application/json"} if payload else None,
        )
        if extra_headers:
            request.headers.update(extra_headers)
        timestamp = int(self._clock())
        token = signing_token(
            method,
            str(request.url),
            payload,
            self._credentials.identifier,
            timestamp,
            get_signing=get_signing,
        )
        signature = sign(self._credentials.shared_key, token)
        request.headers["Authorization"] = authorization_header(
            self._credentials.api_key, self._credentials.identifier, signature, timestamp
        )
        started = time.monotonic()
        try:
            # One deadline for the whole exchange, the body's last byte included (issue 10).
            async with asyncio.timeout(self.deadline):
                response = await self._http.send(request, stream=True)
                try:
                    # A 429's body is never needed: do not read what a limiter sends.
                    content = (
                        b""
                        if response.status_code == 429
                        else await _read_capped(response, max_bytes)
                    )
                finally:
                    await response.aclose()
        except TimeoutError as exc:
            log.info("%s %s ambiguous: past the %g s deadline", method, path, self.deadline)
            raise E.AmbiguousError(
                f"No complete answer from Walleo within {self.deadline:g} s; the connection was "
                "closed. The request may or may not have been processed."
            ) from exc
        except _TooLarge as exc:
            log.info("%s %s refused: answer over %d bytes", method, path, exc.cap)
            message = (
                f"Walleo answered {_describe_http_status(exc.status)} with more than "
                f"{exc.cap / (1024 * 1024):g} MiB, far more than any real answer: refused."
            )
            if method == "POST":  # the create may have happened: in doubt, never failed
                raise E.AmbiguousError(
                    message + " The request may or may not have been processed.",
                    http_status=exc.status,
                ) from None
            raise E.UnexpectedResponseError(message, http_status=exc.status) from None
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            log.info("%s %s not sent: %s", method, path, type(exc).__name__)
            raise E.NotSentError(
                f"Walleo could not be reached: {_describe_transport(exc)}"
            ) from exc
        except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
            raise E.ConfigurationError(f"The base URL cannot be used: {exc}") from exc
        except httpx.HTTPError as exc:
            log.info("%s %s ambiguous: %s", method, path, type(exc).__name__)
            raise E.AmbiguousError(
                f"No usable answer from Walleo: {_describe_transport(exc)}"
            ) from exc
        log.debug(
            "%s %s -> %s in %.0f ms",
            method,
            path,
            response.status_code,
            (time.monotonic() - started) * 1000,
        )
        if method == "GET" and response.status_code < 400:
            self._get_signing_confirmed = True
        return self._interpret(response, content)

    def _interpret(self, response: httpx.Response, content: bytes) -> Any:
        status = response.status_code
        if status == 429:
            after = _retry_after_seconds(response.headers.get("retry-after"), self._clock())
            wait = f" Try again in {after:.0f} s." if after is not None else ""
            raise E.RateLimitedError(
                f"Walleo is limiting the request rate (HTTP 429).{wait}", retry_after=after
            )
        try:
            data = json.loads(content) if content else None
        except (ValueError, UnicodeDecodeError):
            data = _UNPARSEABLE
        if status >= 500:
            raise E.AmbiguousError(
                f"Walleo answered {_describe_http_status(status)}"
                + (" with a page that is not JSON" if data is _UNPARSEABLE else "")
                + ". The request may or may not have been processed.",
                http_status=status,
            )
        if data is _UNPARSEABLE:
            ctype = response.headers.get("content-type", "").split(";")[0] or "no content type"
            raise E.AmbiguousError(
                f"Walleo answered {_describe_http_status(status)} with a body that is not JSON "
                f"({ctype}); perhaps a proxy or an outage.",
                http_status=status,
            )
        if status >= 400:
            error = E.api_error_from_envelope(status, data)
            if error is None:
                raise E.UnexpectedResponseError(
                    f"Walleo answered {_describe_http_status(status)} without saying why.",
                    http_status=status,
                )
            if isinstance(error, E.InvalidSignature):
                self._diagnose_clock(error, response)
            raise error
        if 300 <= status < 400:
            raise E.UnexpectedResponseError(
                f"Walleo answered with a redirect ({_describe_http_status(status)}); "
                "check the base URL.",
                http_status=status,
            )
        return data

    def _diagnose_clock(self, error: E.InvalidSignature, response: httpx.Response) -> None:
        date = response.headers.get("date")
        if not date:
            return
        try:
            server = email.utils.parsedate_to_datetime(date).timestamp()
        except (TypeError, ValueError):
            return
        skew = server - self._clock()
        if abs(skew) <= CLOCK_SKEW_TOLERANCE:
            return
        error.clock_skew = skew
        direction = "behind" if skew > 0 else "ahead of"
        error.message = (
            f"{error.message}. This computer's clock is {_format_skew(skew)} {direction} "
            "Walleo's: set the clock right (automatic time) and try again."
        )
        error.args = (error.message,)


_UNPARSEABLE = object()


def _check_request_id(request_id: str) -> None:
    """Request ids travel in a header too: printable ASCII only, 1 to 255 characters."""
    if (
        not request_id.strip()
        or len(request_id) > 255
        or request_id != request_id.strip()
        or not all(32 <= ord(c) < 127 for c in request_id)
    ):
        raise E.ConfigurationError(
            "A request id must be 1 to 255 printable ASCII characters (no accents)."
        )


def _seg(value: str) -> str:
    return quote(str(value), safe="")


def _describe_transport(exc: Exception) -> str:
    import httpx

    text = str(exc).strip()
    names: dict[type[Exception], str] = {
        httpx.ConnectError: "connection failed",
        httpx.ConnectTimeout: "connection timed out",
        httpx.ReadTimeout: "no answer in time",
        httpx.WriteTimeout: "sending timed out",
        httpx.PoolTimeout: "too many requests waiting",
        httpx.RemoteProtocolError: "the connection was cut",
        httpx.ReadError: "the connection was cut",
    }
    name = names.get(type(exc), type(exc).__name__)
    return f"{name} ({text})" if text else name


def _parse[T](parser: Callable[[Any], T], data: Any, what: str, *, ambiguous: bool = False) -> T:
    try:
        return parser(data)
    except (ValueError, TypeError, KeyError) as exc:
        cls = E.AmbiguousError if ambiguous else E.UnexpectedResponseError
        raise cls(f"Walleo's answer is not a {what} we understand: {exc}") from exc


def _parse_wrapped[T](
    parser: Callable[[Any], T], data: Any, key: str, *, ambiguous: bool = False
) -> T:
    inner = data.get(key) if isinstance(data, dict) else None
    if inner is None:
        cls = E.AmbiguousError if ambiguous else E.UnexpectedResponseError
        raise cls(f"Walleo's answer has no {key!r} object.")
    return _parse(parser, inner, key.replace("_", " "), ambiguous=ambiguous)
