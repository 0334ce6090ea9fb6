"""Request signing for Walleo's Partners API.

The signed token is ``VERB+URL+PAYLOAD+IDENTIFIER+TIMESTAMP`` joined with ``+`` (UTF-8, no trailing
newline); the signature is the lowercase hex HMAC-SHA256 of that token, keyed with the hex-decoded
shared key. The payload is the exact body sent: compact JSON with keys sorted at every level
(see ``canonical_json``), so a client must build the body once, sign it, and send those bytes.

A GET has no payload. Walleo's docs do not say whether the empty segment stays (``GET+URL++ID+TS``)
or is dropped (``GET+URL+ID+TS``); ``GetSigning`` names both so a client can learn which one a
server accepts (walleo-api.md, Decision 1).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from enum import StrEnum
from typing import Any

__all__ = [
    "GetSigning",
    "authorization_header",
    "canonical_json",
    "sign",
    "signing_token",
]


class GetSigning(StrEnum):
    """How the empty payload of a bodiless request is written into the token."""

    EMPTY_SEGMENT = "empty-segment"  # GET+<URL>++<ID>+<TS>
    DROPPED_SEGMENT = "dropped-segment"  # GET+<URL>+<ID>+<TS>


def canonical_json(value: Any) -> bytes:
    """Serialise ``value`` the way Walleo signs it: compact, keys sorted, UTF-8, case kept."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def signing_token(
    verb: str,
    url: str,
    payload: bytes,
    identifier: str,
    timestamp: int | str,
    *,
    get_signing: GetSigning = GetSigning.EMPTY_SEGMENT,
) -> bytes:
    """Return the exact bytes that are signed for one request."""
    parts: list[bytes] = [verb.upper().encode("ascii"), url.encode("utf-8")]
    if payload or get_signing is GetSigning.EMPTY_SEGMENT:
        parts.append(payload)
    parts.extend([identifier.encode("utf-8"), str(int(timestamp)).encode("ascii")])
    return b"+".join(parts)


def sign(shared_key_hex: str, token: bytes) -> str:
    """Lowercase hex HMAC-SHA256 of ``token`` keyed with the hex-decoded shared key.

    Raises ``ValueError`` when the shared key is not valid hexadecimal.
    """
    try:
        key = bytes.fromhex(shared_key_hex.strip())
    except ValueError as exc:
        raise ValueError("the shared key must be a hexadecimal string") from exc
    return hmac.new(key, token, hashlib.sha256).hexdigest()


def authorization_header(api_key: str, identifier: str, signature: str, timestamp: int) -> str:
    """The ``Authorization`` header value, with the same timestamp as the token."""
    return f"Bearer {api_key}, Id={identifier}, Signature={signature}, Timestamp={int(timestamp)}"
