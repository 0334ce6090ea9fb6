"""The Walleo simulator: a Starlette app that behaves like Walleo's Partners API.

It verifies signatures exactly as Walleo does, answers with the documented JSON shapes, codes and
messages, runs asynchronous pulls through ``waiting`` → ``processing`` → ``success``/``error``
(computed lazily from its clock, no background task), issues cards with real PDFs, and can inject
faults (dropped connections, 500, HTML 502, slowness, 429) to exercise a client's recovery.

State is shared between the uvicorn thread and the test thread: every access holds ``_lock`` and
no ``await`` ever happens while it is held.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import email.utils
import hmac
import itertools
import json
import logging
import os
import random
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from walleo_desktop.api.client import Credentials
from walleo_desktop.api.models import WALLEO_TIMEZONE
from walleo_desktop.api.signing import GetSigning, sign, signing_token
from walleo_desktop.simulator._catalog import Brand, amount_error, load_catalog
from walleo_desktop.simulator._demo import API_PREFIX, DEMO_CREDENTIALS, IN_PROCESS_BASE_URL
from walleo_desktop.simulator._render import CardSheet, card_pdf, logo_svg
from walleo_desktop.simulator._state import StateFile

__all__ = [
    "API_PREFIX",
    "DEMO_CREDENTIALS",
    "FAULT_KINDS",
    "IN_PROCESS_BASE_URL",
    "ArmedFault",
    "Faults",
    "RequestRecord",
    "SimCard",
    "SimPullRequest",
    "SimulatedDrop",
    "Simulator",
    "SimulatorConfig",
]

log = logging.getLogger("walleo.simulator")

_WAITING_SHARE = 0.2  # share of a pull's delay spent in "waiting" before "processing"
_MAX_ID_LENGTH = 255
_PDF_CACHE_SIZE = 256


_TZ = WALLEO_TIMEZONE  # Walleo's timestamps and card expiries are in Paris time


def _iso(ts: float) -> str:
    """Walleo's timestamp format: ``2024-02-05T11:33:39.999+01:00``."""
    return datetime.fromtimestamp(ts, _TZ).isoformat(timespec="milliseconds")


# ---------------------------------------------------------------------------------- public types


@dataclass
class Faults:
    """Failures to inject, as probabilities per request (all 0.0 by default).

    One random draw per eligible request picks at most one fault, in the order of
    ``FAULT_KINDS``: ``rate_limit``, ``html_502``, ``error_500``, ``drop``, ``slow``,
    ``trickle``, ``huge_body``, ``conflict_409``, ``unknown_4xx``, ``wrong_pull``,
    ``duplicate_card`` (if the probabilities add up to more than 1, the later ones are squeezed).
    A request is eligible when its method is in ``methods`` and, if ``paths_prefix`` is set, its
    path (relative to ``/partners/v1``, or absolute) starts with it; the last four kinds are only
    drawn on the endpoint they are about. The simulator's own assets (``/simulator/...``: logos,
    PDFs) never fail. A drawn fault that does not apply to the answer (no card to tamper with...)
    is not injected and not recorded.

    - ``drop``: the request is processed (a POST commits), then the connection is cut mid-body.
    - ``error_500``: JSON 500; a POST commits first or not, at random.
    - ``html_502``: a proxy's HTML 502 page; nothing is committed.
    - ``slow``: processed, then held ``slow_seconds`` before answering (until the client leaves).
    - ``rate_limit``: 429 with ``Retry-After: retry_after_seconds``; nothing is committed. A number
      is sent as delay-seconds (``86400``, ``-5``); a string is sent verbatim (an HTTP date,
      ``"soon"``...), to try what a client makes of a huge, negative or unreadable value.
    - ``trickle``: processed (a POST commits), then the headers go at once and the body one byte
      every ``trickle_seconds``, until it is all sent or the client leaves: a server no
      per-read timeout ever catches.
    - ``huge_body``: processed (a POST commits), then the JSON answer grows by
      ``huge_body_bytes``: the string field ``huge_body_field`` of the answer's object (the
      wrapped ``pull_request``/``card``/``inventories``, a bare gift card, or a catalog's first
      entry) gets that many ``x`` appended (``"status"``: ``"waitingxxxx…"``; a dotted name
      reaches inside: ``"card.code"``); with ``huge_body_field=None`` a ``"padding"`` field of
      that size is added at the top level. Not JSON, or no such object: the fault does not apply.

    Well-formed but wrong answers, from a hostile or broken server (they leave the simulator's
    own state as it is: only the answer lies):

    - ``conflict_409`` (``POST /pull_requests``): the create is committed (the card will be
      issued), and the answer is ``409 {"errors":[{"code":"conflict","message":"Conflict"}],
      "status":"conflict"}``. Applies when the create succeeded (or was replayed).
    - ``unknown_4xx`` (``POST /pull_requests``): the same with another undocumented 4xx,
      ``unknown_4xx_status`` with the envelope code ``unknown_4xx_code``.
    - ``wrong_pull`` (``GET /pull_requests/:request_id``): the JSON of *another* existing pull
      request (another request id; a successful one with its card when there is one). Variants
      when armed (``variant=``): ``"amount"`` / ``"brand"``, this pull's own success whose card
      has another amount / another ``gift_card_code`` than the pull asked for (applies once the
      pull succeeded).
    - ``duplicate_card`` (``GET /pull_requests/:request_id``, once it succeeded): its card comes
      with the ``id`` of a card already issued for another pull (``variant="card"``: that other
      card entirely, code included).

    ``spread`` shares a rate among the first five only: they are the faults a correct client
    survives with every card issued once, which the engine's fault soak checks. The hostile
    kinds are for tests that look at one answer at a time, usually armed (``Simulator.arm``).
    """

    drop: float = 0.0
    error_500: float = 0.0
    html_502: float = 0.0
    slow: float = 0.0
    rate_limit: float = 0.0
    trickle: float = 0.0
    huge_body: float = 0.0
    conflict_409: float = 0.0
    unknown_4xx: float = 0.0
    wrong_pull: float = 0.0
    duplicate_card: float = 0.0
    slow_seconds: float = 3.0
    retry_after_seconds: float | str = 1
    trickle_seconds: float = 5.0
    huge_body_bytes: int = 5 * 1024 * 1024
    huge_body_field: str | None = "status"
    unknown_4xx_status: int = 400
    unknown_4xx_code: str = "bad_request"
    methods: set[str] = field(default_factory=lambda: {"GET", "POST"})
    paths_prefix: str | None = None

    def spread(self, rate: float) -> None:
        """Share ``rate`` equally between the five recoverable kinds of fault (not the hostile
        ones: see the class docstring)."""
        share = max(0.0, min(rate, 1.0)) / 5
        self.drop = self.error_500 = self.html_502 = self.slow = self.rate_limit = share


#: Every fault kind, in the order of the random draw (``Faults``).
FAULT_KINDS = (
    "rate_limit",
    "html_502",
    "error_500",
    "drop",
    "slow",
    "trickle",
    "huge_body",
    "conflict_409",
    "unknown_4xx",
    "wrong_pull",
    "duplicate_card",
)

#: What ``Simulator.arm`` accepts beside the matching rules, per kind (overriding ``Faults``).
_ARM_OPTIONS: dict[str, frozenset[str]] = {
    "rate_limit": frozenset({"retry_after"}),
    "html_502": frozenset(),
    "error_500": frozenset({"commit"}),
    "drop": frozenset(),
    "slow": frozenset({"seconds"}),
    "trickle": frozenset({"seconds"}),
    "huge_body": frozenset({"bytes", "field"}),
    "conflict_409": frozenset(),
    "unknown_4xx": frozenset({"http_status", "code", "message"}),
    "wrong_pull": frozenset({"variant", "other_request_id", "amount", "gift_card_code"}),
    "duplicate_card": frozenset({"variant", "other_request_id"}),
}
_VARIANTS = {"wrong_pull": ("other", "amount", "brand"), "duplicate_card": ("id", "card")}
#: Kinds about one endpoint only: (method, exact path or path prefix ending in "/").
_ENDPOINTS = {
    "conflict_409": ("POST", API_PREFIX + "/pull_requests"),
    "unknown_4xx": ("POST", API_PREFIX + "/pull_requests"),
    "wrong_pull": ("GET", API_PREFIX + "/pull_requests/"),
    "duplicate_card": ("GET", API_PREFIX + "/pull_requests/"),
}
_UNKNOWN_4XX_WORDS = {400: "bad_request", 403: "forbidden", 409: "conflict", 418: "im_a_teapot"}


def _eligible(kind: str, method: str, path: str) -> bool:
    """Whether ``kind`` may hit a request to ``method path`` at all."""
    endpoint = _ENDPOINTS.get(kind)
    if endpoint is None:
        return True
    want_method, want_path = endpoint
    if method.upper() != want_method:
        return False
    if want_path.endswith("/"):
        return path.startswith(want_path) and len(path) > len(want_path)
    return path == want_path


#: Kinds decided before the request reaches the API (nothing is committed).
_BEFORE_KINDS = frozenset({"rate_limit", "html_502"})


@dataclass
class ArmedFault:
    """A fault armed for the next matching request(s) (see ``Simulator.arm``)."""

    kind: str
    request_id: str | None = None
    method: str | None = None
    path: str | None = None
    remaining: int = 1
    options: dict[str, Any] = field(default_factory=dict)

    def matches(self, method: str, path: str, request_id: str | None) -> bool:
        if not _eligible(self.kind, method, path):
            return False
        if self.method is not None and self.method.upper() != method.upper():
            return False
        if self.path is not None and not _path_starts(path, self.path):
            return False
        return self.request_id is None or self.request_id == request_id


@dataclass
class SimulatorConfig:
    """How a ``Simulator`` behaves. Fields are read live, so a test may change them."""

    credentials: Credentials = DEMO_CREDENTIALS
    delay_scale: float = 1.0  # multiplies every brand's pull duration
    seed: int | None = None  # seeds every random choice (faults, failures, codes, ids)
    balance: int = 1_000_000  # major units; a pull costs amount * (100 - discount) / 100
    async_error_rate: float | None = None  # overrides every brand's async error rate
    honour_x_request_id: bool = True  # replay the first answer to a repeated X-RequestId
    get_signing: GetSigning = GetSigning.EMPTY_SEGMENT  # which GET token this server expects
    max_timestamp_skew: float = 300  # seconds between the signed timestamp and this clock
    clock_offset: float = 0.0  # added to ``clock()``: simulates a server clock off from ours
    clock: Callable[[], float] = time.time
    faults: Faults = field(default_factory=Faults)  # initial faults (copied to Simulator.faults)
    max_records: int | None = None  # keep only the latest N request records (long-running server)
    #: Keep the state (pull requests, cards, balance, stocks, X-RequestId replays, counters) in
    #: this JSON file, loaded at start and rewritten after every change, so a restarted simulator
    #: remembers like Walleo does (see ``_state``). Its times are on ``clock``, Unix seconds by
    #: default: a pull created before a restart is ready at the same moment after it. Read once,
    #: at construction. None: in memory only.
    state_path: str | os.PathLike[str] | None = None


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """One request the simulator received."""

    at: float  # time.time() on arrival
    method: str
    path: str  # as received, e.g. "/partners/v1/pull_requests"
    request_id: str | None  # pull-request calls: from the body or the path
    status: int | None  # HTTP status sent; None when nothing complete was sent (drop, gone)
    fault: str | None  # injected fault name
    client: tuple[str, int] | None  # peer address: one per TCP connection


@dataclass
class SimCard:
    """A card the simulator issued (internal state)."""

    id: str
    gift_card_code: str
    amount: int
    code: str
    pin_code: str
    expire_at: datetime

    def to_api(self, base_url: str) -> dict[str, Any]:
        return {
            "id": self.id,
            "code": self.code,
            "expire_at": self.expire_at.isoformat(timespec="milliseconds"),
            "pin_code": self.pin_code,
            "amount": self.amount,
            "gift_card_code": self.gift_card_code,
            "pdf_url": f"{base_url}/simulator/pdfs/{self.id}.pdf",
        }


@dataclass
class SimPullRequest:
    """A pull request as the simulator holds it (read-only for tests)."""

    id: str
    request_id: str
    gift_card_code: str
    amount: int
    cost_cents: int
    stock_source: str  # "owned" | "shared" | "end_to_end": where the card comes from
    created_at: float  # simulator clock
    delay: float  # seconds from creation to the final status
    fails: bool  # decided at creation: ends in "error"
    settled: bool = False  # final status reached and observed
    card_id: str | None = None

    def status_at(self, now: float) -> str:
        if self.settled:
            return "error" if self.fails else "success"
        return "waiting" if now - self.created_at < _WAITING_SHARE * self.delay else "processing"

    def updated_at(self, now: float) -> float:
        if self.settled:
            return self.created_at + self.delay
        if now - self.created_at < _WAITING_SHARE * self.delay:
            return self.created_at
        return self.created_at + _WAITING_SHARE * self.delay


class SimulatedDrop(Exception):
    """Raised by the app, on purpose, to cut a connection in the middle of a response."""


@dataclass(slots=True)
class _Entry:
    """A record slot, filled in when the answer has gone (or the connection was cut)."""

    record: RequestRecord


# ------------------------------------------------------------------------------------ helpers

_STATUS_WORDS = {
    401: "unauthorized",
    404: "not_found",
    405: "method_not_allowed",
    422: "unprocessable_entity",
    429: "too_many_requests",
    500: "internal_server_error",
}
_JSON = "application/json; charset=utf-8"
_HTML_502 = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    b"</body>\r\n</html>\r\n"
)


def _dumps(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _json(data: Any, status: int = 200) -> Response:
    return Response(_dumps(data), status_code=status, media_type=_JSON)


def _error(status: int, code: str, message: str) -> Response:
    envelope = {"errors": [{"code": code, "message": message}], "status": _STATUS_WORDS[status]}
    return _json(envelope, status)


def _unauthorized() -> Response:
    return _error(401, "unauthorized", "Not authorized")


def _invalid_signature() -> Response:
    return _error(401, "invalid_signature", "Your request does not match your signature")


def _parse_authorization(header: str) -> tuple[str, str, str, str] | None:
    """``Bearer <KEY>, Id=<ID>, Signature=<HEX>, Timestamp=<UNIX>`` → its four values."""
    scheme, _, rest = header.strip().partition(" ")
    if scheme != "Bearer" or not rest:
        return None
    api_key, *pairs = (part.strip() for part in rest.split(","))
    values: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep:
            return None
        values[name.strip()] = value.strip()
    ts = values.get("Timestamp", "")
    if not api_key or not values.get("Id") or not values.get("Signature"):
        return None
    if not ts.isdigit() or len(ts) > 12:
        return None
    return api_key, values["Id"], values["Signature"], ts


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


def _origin(scope: Scope) -> str:
    """``scheme://host[:port]`` as the client addressed us (from the Host header)."""
    host = _header(scope, b"host")
    if not host:
        server = scope.get("server") or ("localhost", None)
        host = server[0] if server[1] in (None, 80, 443) else f"{server[0]}:{server[1]}"
    return f"{scope.get('scheme', 'http')}://{host}"


def _signed_url(scope: Scope) -> str:
    """The URL exactly as the client sent it: what it must have signed."""
    raw_path = scope.get("raw_path") or scope["path"].encode("utf-8")
    url = _origin(scope) + bytes(raw_path).decode("latin-1")
    query = scope.get("query_string") or b""
    return f"{url}?{bytes(query).decode('latin-1')}" if query else url


def _request_id_of(path: str, body: bytes) -> str | None:
    if path == API_PREFIX + "/pull_requests":
        try:
            value = json.loads(body)["pull_request"]["request_id"]
        except (ValueError, TypeError, KeyError):
            return None
        return value if isinstance(value, str) else None
    prefix = API_PREFIX + "/pull_requests/"
    if path.startswith(prefix):
        return path[len(prefix) :]
    return None


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


# ---------------------------------------------------------------------------------- simulator


class Simulator:
    """A Walleo stand-in. ``app`` is the ASGI app; ``transport()`` plugs it into httpx."""

    def __init__(self, config: SimulatorConfig | None = None) -> None:
        self.config = config if config is not None else SimulatorConfig()
        self.faults: Faults = dataclasses.replace(
            self.config.faults, methods=set(self.config.faults.methods)
        )
        self._lock = threading.RLock()
        self._rng = random.Random(self.config.seed)
        self._brands: dict[str, Brand] = {b.code: b for b in load_catalog()}
        self._stocks: dict[str, dict[int, list[int]]] = {
            b.code: {s.facial_value: [s.owned_quantity, s.shared_quantity] for s in b.stocks}
            for b in self._brands.values()
        }
        self._available: dict[str, int | None] = {
            b.code: b.available_amount for b in self._brands.values()
        }
        self._balance_cents = int(self.config.balance) * 100
        self._pull_requests: dict[str, SimPullRequest] = {}
        self._cards: dict[str, SimCard] = {}
        self._replays: dict[tuple[str, str], tuple[int, bytes]] = {}
        self._pdfs: dict[str, bytes] = {}
        self._records: collections.deque[_Entry] = collections.deque(maxlen=self.config.max_records)
        self._clients: set[tuple[str, int]] = set()
        self._pull_request_creates = 0
        self._card_creates = 0
        self._transport_ports = itertools.count(40001)
        self._armed: list[ArmedFault] = []
        path = self.config.state_path
        self._file = StateFile(Path(path)) if path is not None else None
        self._file_signature: tuple[int, int, int] | None = None
        self._depth = 0  # nesting of _state() in this thread (the lock is reentrant)
        self._dirty = False
        self.app: Starlette = self._build_app()
        with self._state():  # load what an earlier run left
            pass

    # ------------------------------------------------------------------ read-only views

    @property
    def records(self) -> list[RequestRecord]:
        with self._lock:
            return [entry.record for entry in self._records]

    @property
    def pull_request_creates(self) -> int:
        """Pull requests created (a replay or a refused create is not one), over every run
        that shared the state file."""
        with self._state():
            return self._pull_request_creates

    @property
    def card_creates(self) -> int:
        with self._state():
            return self._card_creates

    @property
    def pull_requests(self) -> dict[str, SimPullRequest]:
        with self._state():
            return dict(self._pull_requests)

    @property
    def cards(self) -> dict[str, SimCard]:
        """Every card issued, by id (read-only for tests)."""
        with self._state():
            return dict(self._cards)

    @property
    def state_path(self) -> Path | None:
        return self._file.path if self._file is not None else None

    @property
    def connections_opened(self) -> int:
        with self._lock:
            return len(self._clients)

    @property
    def balance_cents(self) -> int:
        """What is left of the partner's balance, in cents."""
        with self._state():
            return self._balance_cents

    # ------------------------------------------------------------------ persistence

    @contextlib.contextmanager
    def _state(self) -> Iterator[None]:
        """Hold the state: the lock, and with a state file its exclusive file lock, the latest
        version read in if another process changed it, and saved at the end if changed.

        Every read-modify-write of the state happens inside one ``_state()`` block, before the
        answer leaves: what a client was told is on disk.
        """
        with self._lock:
            if self._file is None or self._depth:
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            self._depth += 1
            try:
                with self._file.locked():
                    signature = self._file.signature()
                    if signature is None or signature != self._file_signature:
                        data = self._file.read() if signature is not None else None
                        if data is not None:
                            try:
                                self._restore(data)
                            except ValueError as exc:
                                self._file.set_aside(str(exc))
                        self._file_signature = self._file.signature()
                    self._dirty = False
                    try:
                        yield
                    except BaseException:
                        self._file_signature = None  # reread: forget a half-done change
                        raise
                    if self._dirty:
                        self._file_signature = self._file.write(self._snapshot())
                        self._dirty = False
            finally:
                self._depth -= 1

    def _snapshot(self) -> dict[str, Any]:
        version, internal, gauss = self._rng.getstate()
        return {
            "format": 1,
            "saved_at": self.now(),
            "balance_cents": self._balance_cents,
            "stocks": {
                code: {str(value): line for value, line in lines.items()}
                for code, lines in self._stocks.items()
            },
            "available": self._available,
            "pull_requests": [dataclasses.asdict(p) for p in self._pull_requests.values()],
            "cards": [
                {**dataclasses.asdict(c), "expire_at": c.expire_at.isoformat()}
                for c in self._cards.values()
            ],
            "replays": [
                [path, header_id, status, content.decode("utf-8")]
                for (path, header_id), (status, content) in self._replays.items()
            ],
            "pull_request_creates": self._pull_request_creates,
            "card_creates": self._card_creates,
            "rng": [version, list(internal), gauss],
        }

    def _restore(self, data: dict[str, Any]) -> None:
        """Take the state from ``data`` (a ``_snapshot``), all of it or, if any of it is
        malformed, none of it (``ValueError``)."""
        try:
            if data.get("format") != 1:
                raise ValueError(f"unknown format {data.get('format')!r}")
            stocks = {
                code: {int(v): [int(n) for n in line] for v, line in lines.items()}
                for code, lines in data["stocks"].items()
                if code in self._stocks
            }
            available = {
                code: None if value is None else int(value)
                for code, value in data["available"].items()
                if code in self._available
            }
            pulls = {p["request_id"]: SimPullRequest(**p) for p in data["pull_requests"]}
            cards = {
                c["id"]: SimCard(**{**c, "expire_at": datetime.fromisoformat(c["expire_at"])})
                for c in data["cards"]
            }
            replays = {
                (path, header_id): (int(status), content.encode("utf-8"))
                for path, header_id, status, content in data["replays"]
            }
            counts = int(data["pull_request_creates"]), int(data["card_creates"])
            version, internal, gauss = data["rng"]
            rng = random.Random()
            rng.setstate((version, tuple(internal), gauss))
            balance = int(data["balance_cents"])
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ValueError(f"malformed simulator state: {exc!r}") from exc
        self._stocks.update(stocks)
        self._available.update(available)
        self._pull_requests, self._cards, self._replays = pulls, cards, replays
        self._pull_request_creates, self._card_creates = counts
        self._rng = rng
        self._balance_cents = balance

    def now(self) -> float:
        """The simulator's clock (``config.clock() + config.clock_offset``)."""
        return self.config.clock() + self.config.clock_offset

    def transport(self) -> httpx.AsyncBaseTransport:
        """An httpx transport that talks to this simulator in-process (use IN_PROCESS_BASE_URL)."""
        return _InProcessTransport(self.app, ("127.0.0.1", next(self._transport_ports)))

    # ------------------------------------------------------------------ armed faults

    def arm(
        self,
        kind: str,
        *,
        request_id: str | None = None,
        method: str | None = None,
        path: str | None = None,
        times: int = 1,
        **options: Any,
    ) -> ArmedFault:
        """Inject ``kind`` into the next ``times`` requests that match, whatever the
        probabilities in ``faults`` (armed faults are looked at first, oldest first).

        A request matches when its method is ``method`` (any if None), its path (relative to
        ``/partners/v1``, or absolute) starts with ``path``, and its request id (from a
        ``POST /pull_requests`` body or a ``/pull_requests/:request_id`` path) is
        ``request_id``. A kind that needs something of the answer (a committed create, a card to
        tamper with...) is used up only by a request where it applies. ``options`` override
        the ``Faults`` settings for this fault:

        - ``rate_limit``: ``retry_after`` (number or verbatim string);
        - ``error_500``: ``commit`` (True / False; None or absent: at random for a POST);
        - ``slow``: ``seconds``; ``trickle``: ``seconds`` between two bytes;
        - ``huge_body``: ``bytes``, ``field`` (None: a top-level padding field);
        - ``unknown_4xx``: ``http_status`` (400 to 499), ``code``, ``message``;
        - ``wrong_pull``: ``variant`` (``"other"``, the default: another pull's answer, the one
          of ``other_request_id`` if given; ``"amount"``: the card's ``amount``, default twice
          the pull's; ``"brand"``: the card's ``gift_card_code``, default another brand's);
        - ``duplicate_card``: ``variant`` (``"id"``, the default, or ``"card"``),
          ``other_request_id`` (whose card; default the latest other pull with a card).

        ``conflict_409``, ``unknown_4xx``, ``wrong_pull`` and ``duplicate_card`` match only the
        endpoint they are about (see ``Faults``), so ``sim.arm("conflict_409")`` waits for the
        next ``POST /pull_requests``.

        Returns the armed fault; its ``remaining`` counts down as requests use it.
        """
        if kind not in _ARM_OPTIONS:
            raise ValueError(f"unknown fault {kind!r}; choose one of {sorted(_ARM_OPTIONS)}")
        unknown = set(options) - _ARM_OPTIONS[kind]
        if unknown:
            raise TypeError(f"fault {kind!r} takes no option {sorted(unknown)}")
        if times < 1:
            raise ValueError("times must be at least 1")
        variant = options.get("variant")
        if variant is not None and variant not in _VARIANTS[kind]:
            raise ValueError(f"fault {kind!r} has no variant {variant!r}: {_VARIANTS[kind]}")
        status = options.get("http_status")
        if status is not None and not 400 <= int(status) <= 499:
            raise ValueError("unknown_4xx needs an http_status from 400 to 499")
        armed = ArmedFault(kind, request_id, method, path, times, dict(options))
        with self._lock:
            self._armed.append(armed)
        return armed

    @property
    def armed(self) -> list[ArmedFault]:
        """The faults still armed, oldest first."""
        with self._lock:
            return list(self._armed)

    def disarm(self) -> None:
        """Forget every armed fault."""
        with self._lock:
            self._armed.clear()

    def _find_armed(self, method: str, path: str, request_id: str | None) -> ArmedFault | None:
        """The oldest armed fault this request matches (not used up: see ``_use``)."""
        if not _is_api_path(path):
            return None
        with self._lock:
            return next((a for a in self._armed if a.matches(method, path, request_id)), None)

    def _use(self, armed: ArmedFault) -> bool:
        """Count one use of ``armed``; False when another request used it up meanwhile."""
        with self._lock:
            if armed.remaining <= 0 or armed not in self._armed:
                return False
            armed.remaining -= 1
            if armed.remaining == 0:
                self._armed.remove(armed)
            return True

    # ------------------------------------------------------------------ app

    def _build_app(self) -> Starlette:
        p = API_PREFIX
        api = self._api_endpoint
        routes = [
            Route(f"{p}/gift_cards", api(self._list_gift_cards), methods=["GET"]),
            Route(f"{p}/gift_cards/{{code:path}}", api(self._show_gift_card), methods=["GET"]),
            Route(f"{p}/inventories/{{code:path}}", api(self._show_inventory), methods=["GET"]),
            Route(f"{p}/pull_requests", api(self._create_pull_request), methods=["POST"]),
            Route(
                f"{p}/pull_requests/{{request_id:path}}",
                api(self._show_pull_request),
                methods=["GET"],
            ),
            Route(f"{p}/cards", api(self._create_card), methods=["POST"]),
            Route(f"{p}/cards/{{card_id:path}}", api(self._show_card), methods=["GET"]),
            Route(f"{p}/simulator/logos/wide/{{code}}.svg", self._logo, methods=["GET"]),
            Route(f"{p}/simulator/logos/{{code}}.svg", self._logo, methods=["GET"]),
            Route(f"{p}/simulator/pdfs/{{card_id}}.pdf", self._pdf, methods=["GET"]),
        ]

        async def not_found(request: Request, exc: Exception) -> Response:
            if isinstance(exc, HTTPException) and exc.status_code == 405:
                return _error(405, "method_not_allowed", "Method not allowed")
            return _error(404, "not_found", f"No route matches {request.url.path}")

        return Starlette(
            routes=routes,
            middleware=[Middleware(_SimulatorMiddleware, simulator=self)],
            exception_handlers={404: not_found, 405: not_found},
        )

    def _api_endpoint(
        self, handler: Callable[[Request, bytes, str], Response]
    ) -> Callable[[Request], Awaitable[Response]]:
        """Wrap a handler: read the raw body, authenticate, pass the base URL for links."""

        async def endpoint(request: Request) -> Response:
            body = await request.body()
            denied = self._authenticate(request.scope, body)
            if denied is not None:
                return denied
            return handler(request, body, _origin(request.scope) + API_PREFIX)

        return endpoint

    def _authenticate(self, scope: Scope, body: bytes) -> Response | None:
        parsed = _parse_authorization(_header(scope, b"authorization") or "")
        if parsed is None:
            return _unauthorized()
        api_key, identifier, signature, timestamp = parsed
        creds = self.config.credentials
        key_ok = hmac.compare_digest(api_key.encode(), creds.api_key.encode())
        id_ok = hmac.compare_digest(identifier.encode(), creds.identifier.encode())
        if not (key_ok and id_ok):
            return _unauthorized()
        if abs(self.now() - int(timestamp)) > self.config.max_timestamp_skew:
            return _invalid_signature()
        token = signing_token(
            scope["method"],
            _signed_url(scope),
            body,
            creds.identifier,
            timestamp,
            get_signing=self.config.get_signing,
        )
        expected = sign(creds.shared_key, token)
        if not hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace")):
            return _invalid_signature()
        return None

    # ------------------------------------------------------------------ catalog

    def _brand_or_404(self, code: str) -> Brand | Response:
        brand = self._brands.get(code)
        if brand is None:
            return _error(404, "gift_card_not_found", f"Gift card not found with code '{code}'")
        return brand

    def _list_gift_cards(self, request: Request, body: bytes, base: str) -> Response:
        return _json([brand.to_api(base) for brand in self._brands.values()])

    def _show_gift_card(self, request: Request, body: bytes, base: str) -> Response:
        brand = self._brand_or_404(request.path_params["code"])
        return brand if isinstance(brand, Response) else _json(brand.to_api(base))

    def _show_inventory(self, request: Request, body: bytes, base: str) -> Response:
        brand = self._brand_or_404(request.path_params["code"])
        if isinstance(brand, Response):
            return brand
        with self._state():
            stocks = [
                {"facial_value": value, "owned_quantity": owned, "shared_quantity": shared}
                for value, (owned, shared) in sorted(self._stocks[brand.code].items())
            ]
            available = self._available[brand.code]
        return _json(
            {
                "inventories": {
                    "gift_card": {"code": brand.code, "name": brand.name},
                    "end_to_end_api": {
                        "enabled": brand.end_to_end,
                        "available_amount": "unlimited" if available is None else available,
                    },
                    "stocks": stocks,
                }
            }
        )

    # ------------------------------------------------------------------ pulls

    def _replay(self, path: str, header_id: str | None) -> Response | None:
        if not header_id or not self.config.honour_x_request_id:
            return None
        stored = self._replays.get((path, header_id))
        if stored is None:
            return None
        status, content = stored
        log.info("replaying the first answer to X-RequestId %s on %s", header_id, path)
        return Response(content, status_code=status, media_type=_JSON)

    def _remember(self, path: str, header_id: str | None, status: int, content: bytes) -> None:
        if header_id and (path, header_id) not in self._replays:
            self._replays[(path, header_id)] = (status, content)
            self._dirty = True

    def _validate_pull(self, fields: dict[str, Any]) -> tuple[Brand, int, str, int] | Response:
        """Check brand, amount, stock and balance; returns (brand, amount, source, cost)."""
        brand = self._brand_or_404(fields["gift_card_code"])
        if isinstance(brand, Response):
            return brand
        amount = fields["amount"]
        message = amount_error(brand.facial_values, amount)
        if message is not None:
            return _error(422, "invalid_amount", message)
        source = self._stock_source(brand, amount)
        if source is None:
            return _error(422, "out_of_stock", f"Out of stock gift card '{brand.code}'")
        cost = amount * (100 - brand.discount)  # cents: amount * 100 * (100 - discount) / 100
        if cost > self._balance_cents:
            return _error(422, "not_enough_funds", "Your balance account is not high enough")
        return brand, amount, source, cost

    def _stock_source(self, brand: Brand, amount: int) -> str | None:
        line = self._stocks[brand.code].get(amount)
        if line is not None and line[0] > 0:
            return "owned"
        if line is not None and line[1] > 0:
            return "shared"
        available = self._available[brand.code]
        if brand.end_to_end and (available is None or available >= amount):
            return "end_to_end"
        return None

    def _take(self, brand: Brand, amount: int, source: str, cost: int, sign_: int = 1) -> None:
        """Take (``sign_=1``) or give back (``-1``) one card's stock and its cost."""
        if source == "end_to_end":
            available = self._available[brand.code]
            if available is not None:
                self._available[brand.code] = available - sign_ * amount
        else:
            self._stocks[brand.code][amount][0 if source == "owned" else 1] -= sign_
        self._balance_cents -= sign_ * cost
        self._dirty = True

    def _new_id(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def _issue_card(self, brand: Brand, amount: int, issued_at: float) -> SimCard:
        expiry = datetime.fromtimestamp(issued_at, _TZ) + timedelta(days=brand.validity_days)
        card = SimCard(
            id=self._new_id(),
            gift_card_code=brand.code,
            amount=amount,
            code=brand.new_card_code(self._rng),
            pin_code=brand.new_pin(self._rng),
            expire_at=expiry.replace(hour=0, minute=0, second=0, microsecond=0),
        )
        self._cards[card.id] = card
        self._dirty = True
        return card

    def _create_pull_request(self, request: Request, body: bytes, base: str) -> Response:
        path = "/pull_requests"
        header_id = request.headers.get("x-requestid")
        with self._state():
            replay = self._replay(path, header_id)
            if replay is not None:
                return replay
            fields = _parse_body(body, "pull_request", ("amount", "gift_card_code", "request_id"))
            if isinstance(fields, Response):
                return fields
            request_id = fields["request_id"]
            if request_id in self._pull_requests:
                return _error(422, "unprocessable_entity", "Request id is already used")
            checked = self._validate_pull(fields)
            if isinstance(checked, Response):
                return checked
            brand, amount, source, cost = checked
            self._take(brand, amount, source, cost)
            rate = self.config.async_error_rate
            rate = brand.async_error_rate if rate is None else rate
            now = self.now()
            pull = SimPullRequest(
                id=self._new_id(),
                request_id=request_id,
                gift_card_code=brand.code,
                amount=amount,
                cost_cents=cost,
                stock_source=source,
                created_at=now,
                delay=brand.delay_seconds
                * max(self.config.delay_scale, 0.0)
                * self._rng.uniform(0.8, 1.2),
                fails=self._rng.random() < rate,
            )
            self._pull_requests[request_id] = pull
            self._pull_request_creates += 1
            self._dirty = True
            content = _dumps(
                {
                    "pull_request": {
                        "id": pull.id,
                        "status": "waiting",  # as documented, whatever the delay
                        "request_id": request_id,
                        "amount_cents": amount * 100,
                        "created_at": _iso(now),
                        "updated_at": _iso(now),
                        "card": None,
                    }
                }
            )
            self._remember(path, header_id, 200, content)
        log.info("pull request %s created: %s %s", request_id, brand.code, amount)
        return Response(content, media_type=_JSON)

    def _settle(self, pull: SimPullRequest, now: float) -> None:
        """Reach the final state once its time has come (called on observation)."""
        if pull.settled or now - pull.created_at < pull.delay:
            return
        pull.settled = True
        self._dirty = True
        brand = self._brands[pull.gift_card_code]
        if pull.fails:
            self._take(brand, pull.amount, pull.stock_source, pull.cost_cents, sign_=-1)
        else:
            card = self._issue_card(brand, pull.amount, pull.created_at + pull.delay)
            pull.card_id = card.id

    def _pull_json(self, pull: SimPullRequest, now: float, base: str) -> dict[str, Any]:
        """A pull request as ``GET /pull_requests/:request_id`` shows it (settled first)."""
        self._settle(pull, now)
        card = self._cards[pull.card_id].to_api(base) if pull.card_id else None
        return {
            "id": pull.id,
            "status": pull.status_at(now),
            "request_id": pull.request_id,
            "created_at": _iso(pull.created_at),
            "updated_at": _iso(pull.updated_at(now)),
            "card": card,
        }

    def _show_pull_request(self, request: Request, body: bytes, base: str) -> Response:
        request_id = request.path_params["request_id"]
        with self._state():
            pull = self._pull_requests.get(request_id)
            if pull is None:
                return _error(
                    404,
                    "pull_request_not_found",
                    f"Pull request not found with request_id: {request_id}",
                )
            data = self._pull_json(pull, self.now(), base)
        return _json({"pull_request": data})

    def _lie_about(
        self, fault: str, options: dict[str, Any], request_id: str, base: str
    ) -> dict[str, Any] | None:
        """The wrong ``pull_request`` object of ``wrong_pull`` / ``duplicate_card`` for
        ``request_id``, or None when there is nothing to lie with yet."""
        with self._state():
            pull = self._pull_requests.get(request_id)
            if pull is None:
                return None
            now = self.now()
            mine = self._pull_json(pull, now, base)
            wanted = options.get("other_request_id")
            others = [p for p in self._pull_requests.values() if p.request_id != request_id]
            if wanted is not None:
                others = [p for p in others if p.request_id == wanted]
            variant = options.get("variant", _VARIANTS[fault][0])
            if fault == "wrong_pull" and variant == "other":
                if not others:
                    return None
                for other in others:
                    self._settle(other, now)
                with_card = [p for p in others if p.card_id]
                return self._pull_json((with_card or others)[-1], now, base)
            card = mine["card"]
            if card is None:
                return None  # not issued yet: wait for the success to tamper with it
            if fault == "wrong_pull" and variant == "amount":
                card["amount"] = int(options.get("amount", pull.amount * 2))
            elif fault == "wrong_pull":  # brand
                default = next(code for code in self._brands if code != pull.gift_card_code)
                card["gift_card_code"] = str(options.get("gift_card_code", default))
            else:  # duplicate_card
                for other in others:
                    self._settle(other, now)
                issued = [p for p in others if p.card_id and p.card_id != pull.card_id]
                if not issued:
                    return None
                theirs = self._cards[issued[-1].card_id or ""].to_api(base)
                mine["card"] = theirs if variant == "card" else {**card, "id": theirs["id"]}
            return mine

    def _create_card(self, request: Request, body: bytes, base: str) -> Response:
        path = "/cards"
        header_id = request.headers.get("x-requestid")
        with self._state():
            replay = self._replay(path, header_id)
            if replay is not None:
                return replay
            fields = _parse_body(body, "card", ("amount", "gift_card_code"))
            if isinstance(fields, Response):
                return fields
            checked = self._validate_pull(fields)
            if isinstance(checked, Response):
                return checked
            brand, amount, source, cost = checked
            self._take(brand, amount, source, cost)
            card = self._issue_card(brand, amount, self.now())
            self._card_creates += 1
            self._dirty = True
            content = _dumps({"card": card.to_api(base)})
            self._remember(path, header_id, 200, content)
        log.info("card %s issued: %s %s", card.id, brand.code, amount)
        return Response(content, media_type=_JSON)

    def _show_card(self, request: Request, body: bytes, base: str) -> Response:
        card_id = request.path_params["card_id"]
        with self._state():
            card = self._cards.get(card_id)
            data = card.to_api(base) if card is not None else None
        if data is None:
            return _error(404, "card_not_found", f"Card not found with id '{card_id}'")
        return _json({"card": data})

    # ------------------------------------------------------------------ assets (no auth)

    async def _logo(self, request: Request) -> Response:
        brand = self._brands.get(request.path_params["code"])
        if brand is None:
            return Response("Not Found", status_code=404, media_type="text/plain")
        wide = "/logos/wide/" in request.url.path
        return Response(
            logo_svg(brand.name, brand.color, wide=wide),
            media_type="image/svg+xml",
            headers={"Cache-Control": "public, max-age=86400"},
        )

    async def _pdf(self, request: Request) -> Response:
        card_id = request.path_params["card_id"]
        with self._state():
            card = self._cards.get(card_id)
            content = self._pdfs.get(card_id)
        if card is None:
            return Response("Not Found", status_code=404, media_type="text/plain")
        if content is None:
            brand = self._brands[card.gift_card_code]
            content = card_pdf(
                CardSheet(
                    brand_name=brand.name,
                    colour=brand.color,
                    amount=card.amount,
                    code=card.code,
                    pin_code=card.pin_code,
                    expire_at=card.expire_at,
                    card_id=card.id,
                )
            )
            with self._lock:
                content = self._pdfs.setdefault(card_id, content)
                while len(self._pdfs) > _PDF_CACHE_SIZE:  # same bytes if asked again: invariant
                    del self._pdfs[next(iter(self._pdfs))]
        return Response(content, media_type="application/pdf")

    # ------------------------------------------------------------------ records and faults

    def _open_record(self, method: str, path: str, client: tuple[str, int] | None) -> _Entry:
        entry = _Entry(RequestRecord(time.time(), method, path, None, None, None, client))
        with self._lock:
            if client is not None:
                self._clients.add(client)
            self._records.append(entry)
        return entry

    def _close_record(
        self, entry: _Entry, request_id: str | None, status: int | None, fault: str | None
    ) -> None:
        with self._lock:
            entry.record = dataclasses.replace(
                entry.record, request_id=request_id, status=status, fault=fault
            )

    def _draw_fault(self, method: str, path: str) -> str | None:
        faults = self.faults
        if not _is_api_path(path):
            return None
        if method.upper() not in {m.upper() for m in faults.methods}:
            return None
        prefix = faults.paths_prefix
        if prefix and not _path_starts(path, prefix):
            return None
        table = [
            (name, float(getattr(faults, name)))
            for name in FAULT_KINDS
            if _eligible(name, method, path)
        ]
        if not any(p > 0 for _, p in table):
            return None
        with self._lock:
            draw = self._rng.random()
        threshold = 0.0
        for name, probability in table:
            threshold += max(probability, 0.0)
            if draw < threshold:
                return name
        return None

    def _coin(self) -> bool:
        with self._lock:
            return self._rng.random() < 0.5

    def _headers(
        self, headers: list[tuple[bytes, bytes]], length: int
    ) -> list[tuple[bytes, bytes]]:
        """Response headers with this server's ``Date`` and the right ``Content-Length``."""
        kept = [(k, v) for k, v in headers if k.lower() not in (b"date", b"content-length")]
        date = email.utils.formatdate(self.now(), usegmt=True).encode("ascii")
        return [*kept, (b"content-length", str(length).encode("ascii")), (b"date", date)]

    def _choose_fault(
        self, method: str, path: str, request_id: str | None
    ) -> tuple[str | None, dict[str, Any], ArmedFault | None]:
        """An armed fault that matches (not used up yet), else one drawn at random."""
        armed = self._find_armed(method, path, request_id)
        if armed is not None:
            return armed.kind, armed.options, armed
        return self._draw_fault(method, path), {}, None

    def _claim(self, armed: ArmedFault | None) -> bool:
        return armed is None or self._use(armed)

    def _error_commits(self, method: str, options: dict[str, Any]) -> bool:
        """Whether an ``error_500`` lets the request through first (a POST then commits)."""
        commit = options.get("commit")
        if commit is not None:
            return bool(commit)
        return method == "POST" and not self._coin()

    def _early_answer(
        self, fault: str, options: dict[str, Any]
    ) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        """The answer of a fault that stops the request before the API sees it."""
        if fault == "rate_limit":
            after = options.get("retry_after", self.faults.retry_after_seconds)
            return _canned(
                _error(429, "too_many_requests", "Rate limit exceeded"),
                [(b"retry-after", _retry_after(after))],
            )
        if fault == "html_502":
            return 502, [(b"content-type", b"text/html")], _HTML_502
        return _canned(_internal_error())  # error_500, nothing committed

    def _answer_after(
        self,
        fault: str,
        options: dict[str, Any],
        answer: tuple[int, list[tuple[bytes, bytes]], bytes],
        *,
        request_id: str | None,
        base: str,
    ) -> tuple[int, list[tuple[bytes, bytes]], bytes] | None:
        """The answer of a fault applied once the API has processed the request, or None when
        the fault does not apply to this answer."""
        status, headers, content = answer
        if fault in ("conflict_409", "unknown_4xx"):
            if status != 200:
                return None  # nothing was created: that is not this fault
            if fault == "conflict_409":
                conflict = {"code": "conflict", "message": "Conflict"}
                return _canned(_json({"errors": [conflict], "status": "conflict"}, 409))
            code_status = int(options.get("http_status", self.faults.unknown_4xx_status))
            code = str(options.get("code", self.faults.unknown_4xx_code))
            message = str(options.get("message", "The request could not be handled"))
            word = _UNKNOWN_4XX_WORDS.get(code_status, "client_error")
            error = {"code": code, "message": message}
            return _canned(_json({"errors": [error], "status": word}, code_status))
        if fault in ("wrong_pull", "duplicate_card"):
            if status != 200 or request_id is None:
                return None
            lie = self._lie_about(fault, options, request_id, base)
            return None if lie is None else _canned(_json({"pull_request": lie}))
        if fault == "error_500":
            return _canned(_internal_error())
        if fault == "huge_body":
            size = int(options.get("bytes", self.faults.huge_body_bytes))
            name = options.get("field", self.faults.huge_body_field)
            inflated = _inflate(content, name, size)
            return None if inflated is None else (status, headers, inflated)
        return answer  # drop, slow, trickle: the answer itself, delivered badly

    async def _handle(self, app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
        method, path = scope["method"], scope["path"]
        client = scope.get("client")
        body = await _read_body(receive)
        request_id = _request_id_of(path, body)
        entry = self._open_record(method, path, tuple(client) if client else None)
        fault, options, armed = self._choose_fault(method, path, request_id)
        sent: int | None = None
        try:
            early = fault in _BEFORE_KINDS or (
                fault == "error_500" and not self._error_commits(method, options)
            )
            if early and not self._claim(armed):
                fault, early = None, False
            if fault is not None and early:
                status, headers, content = self._early_answer(fault, options)
            else:
                answer = await _run_buffered(app, scope, body, receive)
                status, headers, content = answer
                if fault is not None:
                    changed = self._answer_after(
                        fault,
                        options,
                        answer,
                        request_id=request_id,
                        base=_origin(scope) + API_PREFIX,
                    )
                    if changed is None or not self._claim(armed):
                        fault = None  # does not apply here (an armed fault waits for one)
                    else:
                        status, headers, content = changed
                if fault == "drop":
                    await send(
                        {
                            "type": "http.response.start",
                            "status": status,
                            "headers": self._headers(headers, len(content)),
                        }
                    )
                    await send(
                        {
                            "type": "http.response.body",
                            "body": content[: len(content) // 2],
                            "more_body": True,
                        }
                    )
                    raise SimulatedDrop(f"simulated connection drop on {method} {path}")
                if fault == "slow":
                    seconds = float(options.get("seconds", self.faults.slow_seconds))
                    if not await _linger(receive, seconds):
                        return  # the client gave up: nothing to send
                if fault == "trickle":
                    seconds = float(options.get("seconds", self.faults.trickle_seconds))
                    sent = await self._trickle(send, receive, status, headers, content, seconds)
                    return
            await send(
                {
                    "type": "http.response.start",
                    "status": status,
                    "headers": self._headers(headers, len(content)),
                }
            )
            await send({"type": "http.response.body", "body": content})
            sent = status
        finally:
            self._close_record(entry, request_id, sent, fault)

    async def _trickle(
        self,
        send: Send,
        receive: Receive,
        status: int,
        headers: list[tuple[bytes, bytes]],
        content: bytes,
        seconds: float,
    ) -> int | None:
        """Headers at once, then one byte every ``seconds``; None if the client left first."""
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": self._headers(headers, len(content)),
            }
        )
        gone = asyncio.ensure_future(_disconnected(receive))
        try:
            for i in range(len(content)):
                done, _ = await asyncio.wait({gone}, timeout=max(seconds, 0.0))
                if done:
                    return None
                more = i + 1 < len(content)
                await send(
                    {"type": "http.response.body", "body": content[i : i + 1], "more_body": more}
                )
            if not content:
                await send({"type": "http.response.body", "body": b""})
        finally:
            gone.cancel()
        return status


def _parse_body(body: bytes, root: str, required: tuple[str, ...]) -> dict[str, Any] | Response:
    """Decode ``{root: {...}}`` and check the required fields (Rails-style messages)."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return _error(422, "invalid_json", "The request body is not valid JSON")
    inner = data.get(root) if isinstance(data, dict) else None
    if not isinstance(inner, dict) or not inner:
        return _error(422, "parameter_missing", f"param is missing or the value is empty: {root}")
    fields: dict[str, Any] = {}
    for name in required:
        value = inner.get(name)
        if value is None or value == "":
            return _error(
                422, "parameter_missing", f"param is missing or the value is empty: {name}"
            )
        if name == "amount":
            if isinstance(value, str) and value.strip().isdigit():
                value = int(value)  # Rails would coerce "50"; anything else is an invalid amount
        elif not isinstance(value, str) or len(value) > _MAX_ID_LENGTH:
            return _error(422, "parameter_invalid", f"param is invalid: {name}")
        fields[name] = value
    return fields


def _is_api_path(path: str) -> bool:
    """An API route, not one of the simulator's own assets (which never fail)."""
    return path.startswith(API_PREFIX + "/") and not path.startswith(API_PREFIX + "/simulator/")


def _path_starts(path: str, prefix: str) -> bool:
    """``path`` starts with ``prefix``, taken relative to ``/partners/v1`` or absolute."""
    return path[len(API_PREFIX) :].startswith(prefix) or path.startswith(prefix)


_WRAPPERS = ("pull_request", "card", "inventories")


def _answer_object(data: Any) -> dict[str, Any] | None:
    """The object an answer is about: the wrapped one, a bare object, or a list's first."""
    if isinstance(data, list):
        data = data[0] if data else None
    if not isinstance(data, dict):
        return None
    for key in _WRAPPERS:
        inner = data.get(key)
        if isinstance(inner, dict):
            return inner
    return data


def _inflate(content: bytes, name: str | None, size: int) -> bytes | None:
    """``content`` (JSON) with ``size`` more characters in field ``name`` of its object, or a
    top-level ``padding`` field (``name=None``); None when it is not JSON."""
    try:
        data = json.loads(content)
    except (ValueError, UnicodeDecodeError):
        return None
    filler = "x" * max(size, 0)
    if name is None:
        if isinstance(data, dict):
            data["padding"] = filler
        elif isinstance(data, list):
            data.append({"padding": filler})
        else:
            return None
    else:
        target = _answer_object(data)
        *parents, last = name.split(".")
        for part in parents:
            target = target.get(part) if isinstance(target, dict) else None
        if not isinstance(target, dict):
            return None
        value = target.get(last)
        target[last] = ("" if value is None else str(value)) + filler
    return _dumps(data)


def _retry_after(value: float | str) -> bytes:
    """A ``Retry-After`` value: a number as delay-seconds (``1``, ``0.2``), a string verbatim."""
    if isinstance(value, str):
        return value.encode("latin-1")
    number = float(value)
    text = str(int(number)) if number.is_integer() else repr(number)
    return text.encode("ascii")


def _internal_error() -> Response:
    return _error(500, "internal_server_error", "We're sorry, but something went wrong.")


def _canned(
    response: Response, extra: list[tuple[bytes, bytes]] | None = None
) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    return response.status_code, [*response.raw_headers, *(extra or [])], bytes(response.body)


async def _run_buffered(
    app: ASGIApp, scope: Scope, body: bytes, receive: Receive
) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """Run the app on the already-read body; collect its whole answer."""
    delivered = False

    async def replay_receive() -> Message:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    start: Message = {}
    chunks: list[bytes] = []

    async def capture(message: Message) -> None:
        if message["type"] == "http.response.start":
            start.update(message)
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, replay_receive, capture)
    return int(start["status"]), list(start.get("headers", [])), b"".join(chunks)


async def _disconnected(receive: Receive) -> None:
    """Return when the client has disconnected."""
    while (await receive())["type"] != "http.disconnect":
        pass


async def _linger(receive: Receive, seconds: float) -> bool:
    """Wait ``seconds``; False as soon as the client disconnects."""
    watcher = asyncio.ensure_future(_disconnected(receive))
    try:
        done, _ = await asyncio.wait({watcher}, timeout=max(seconds, 0.0))
    finally:
        watcher.cancel()
    return not done


class _SimulatorMiddleware:
    """Records every request, injects faults, and stamps the simulator's ``Date`` header."""

    def __init__(self, app: ASGIApp, simulator: Simulator) -> None:
        self.app = app
        self.simulator = simulator

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.simulator._handle(self.app, scope, receive, send)


class _InProcessTransport(httpx.AsyncBaseTransport):
    """``httpx.ASGITransport`` that behaves like a network for the client.

    A simulated drop becomes ``httpx.ReadError``; the request's read timeout is enforced
    (ASGITransport has none), so the ``slow`` fault produces ``httpx.ReadTimeout``.
    """

    def __init__(self, app: ASGIApp, client: tuple[str, int]) -> None:
        self._asgi = httpx.ASGITransport(app=app, client=client)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        timeout = (request.extensions.get("timeout") or {}).get("read")
        try:
            if timeout is None:
                return await self._asgi.handle_async_request(request)
            return await asyncio.wait_for(self._asgi.handle_async_request(request), timeout)
        except SimulatedDrop as exc:
            raise httpx.ReadError("the simulator dropped the connection", request=request) from exc
        except TimeoutError as exc:
            raise httpx.ReadTimeout(
                "the simulator did not answer in time", request=request
            ) from exc

    async def aclose(self) -> None:
        await self._asgi.aclose()
