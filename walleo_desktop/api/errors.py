"""Typed errors of the Walleo client.

Hierarchy (catch the narrowest that changes what you do)::

    WalleoError
    ├── ConfigurationError          bad credentials format, bad base URL: fix the profile
    ├── TransportError              no usable answer
    │   ├── NotSentError            refused / DNS / TLS before anything left: safe to send again
    │   └── AmbiguousError          sent, outcome unknown (timeout, reset, 5xx, garbage body)
    ├── RateLimitedError            429; ``retry_after`` seconds
    ├── UnexpectedResponseError     a well-formed answer we do not understand
    └── ApiError                    Walleo's own error envelope; one subclass per documented code
        ├── GiftCardNotFound, CardNotFound, PullRequestNotFound
        ├── NotEnoughFunds, OutOfStock, InvalidAmount, RequestIdAlreadyUsed
        └── Unauthorized, InvalidSignature (with ``clock_skew`` when the clocks disagree)

``AmbiguousError`` after a POST means *in doubt*, never *failed*: the engine resolves it by
looking the request id up (walleo-api.md, Decision 3).
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = [
    "AmbiguousError",
    "ApiError",
    "CardNotFound",
    "ConfigurationError",
    "GiftCardNotFound",
    "InvalidAmount",
    "InvalidSignature",
    "NotEnoughFunds",
    "NotSentError",
    "OutOfStock",
    "PullRequestNotFound",
    "RateLimitedError",
    "RequestIdAlreadyUsed",
    "TransportError",
    "Unauthorized",
    "UnexpectedResponseError",
    "WalleoError",
    "api_error_from_envelope",
]


class WalleoError(Exception):
    """Base of every error the client raises. ``str()`` is a sentence fit for a user."""

    code: str = "walleo_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigurationError(WalleoError):
    code = "configuration"


class TransportError(WalleoError):
    """No usable answer came back."""

    code = "transport"


class NotSentError(TransportError):
    """The request certainly never reached Walleo (connection refused, DNS failure...)."""

    code = "not_sent"


class AmbiguousError(TransportError):
    """The request may have reached Walleo, but no usable answer came back."""

    code = "ambiguous"

    def __init__(self, message: str, *, http_status: int | None = None) -> None:
        super().__init__(message)
        self.http_status = http_status


class RateLimitedError(WalleoError):
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: float | None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class UnexpectedResponseError(WalleoError):
    code = "unexpected_response"

    def __init__(self, message: str, *, http_status: int | None = None) -> None:
        super().__init__(message)
        self.http_status = http_status


class ApiError(WalleoError):
    """An error Walleo reported in its envelope ``{"errors":[{code,message}],"status":...}``."""

    code: str = "api_error"
    registry: ClassVar[dict[str, type[ApiError]]] = {}

    def __init__(
        self, message: str, *, http_status: int, code: str | None = None, status: str = ""
    ) -> None:
        super().__init__(message)
        self.http_status = http_status
        if code is not None:
            self.code = code
        self.status = status

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        ApiError.registry.setdefault(cls.code, cls)


class GiftCardNotFound(ApiError):
    code = "gift_card_not_found"


class CardNotFound(ApiError):
    code = "card_not_found"


class PullRequestNotFound(ApiError):
    code = "pull_request_not_found"


class NotEnoughFunds(ApiError):
    code = "not_enough_funds"


class OutOfStock(ApiError):
    code = "out_of_stock"


class InvalidAmount(ApiError):
    code = "invalid_amount"


class RequestIdAlreadyUsed(ApiError):
    """422 ``unprocessable_entity`` / "Request id is already used" on POST /pull_requests."""

    code = "request_id_already_used"


class Unauthorized(ApiError):
    code = "unauthorized"


class InvalidSignature(ApiError):
    code = "invalid_signature"

    def __init__(
        self,
        message: str,
        *,
        http_status: int,
        code: str | None = None,
        status: str = "",
        clock_skew: float | None = None,
    ) -> None:
        super().__init__(message, http_status=http_status, code=code, status=status)
        #: server clock minus local clock, in seconds, when it is past the tolerance
        self.clock_skew = clock_skew


#: An error code longer than this is no code of Walleo's: the envelope is not understood.
MAX_ERROR_CODE_LENGTH = 64
#: Walleo's messages are one sentence; a longer one is cut (it is shown and kept in the history).
MAX_ERROR_MESSAGE_LENGTH = 1000


def _cut(text: str, cap: int) -> str:
    return text if len(text) <= cap else text[: cap - 1] + "…"


def api_error_from_envelope(http_status: int, body: Any) -> ApiError | None:
    """Build the typed error for a Walleo error envelope, or None if ``body`` is not one.

    A code longer than ``MAX_ERROR_CODE_LENGTH`` makes it not one; the message and the status
    word are cut to a sane length, never stored whole.
    """
    if not isinstance(body, dict):
        return None
    errors = body.get("errors")
    if not isinstance(errors, list) or not errors or not isinstance(errors[0], dict):
        return None
    first = errors[0]
    code = str(first.get("code") or "").strip()
    if len(code) > MAX_ERROR_CODE_LENGTH:
        return None
    message = str(first.get("message") or "").strip() or code or f"HTTP {http_status}"
    message = _cut(message, MAX_ERROR_MESSAGE_LENGTH)
    status = _cut(str(body.get("status") or ""), MAX_ERROR_CODE_LENGTH)
    if code == "unprocessable_entity" and "request id" in message.lower():
        cls: type[ApiError] = RequestIdAlreadyUsed
        return cls(message, http_status=http_status, status=status)
    cls = ApiError.registry.get(code, ApiError)
    if cls is ApiError:
        return ApiError(message, http_status=http_status, code=code or "api_error", status=status)
    return cls(message, http_status=http_status, status=status)
