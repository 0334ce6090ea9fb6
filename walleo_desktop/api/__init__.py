"""Walleo Partners API: signing, async client, typed results and errors. No Qt, no SQL."""

from walleo_desktop.api.client import DEFAULT_BASE_URL, Credentials, WalleoClient, is_loopback_url
from walleo_desktop.api.errors import *  # noqa: F403
from walleo_desktop.api.errors import __all__ as _errors_all
from walleo_desktop.api.models import (
    Card,
    FacialValues,
    GiftCard,
    Inventory,
    PullRequest,
    PullStatus,
    Stock,
)
from walleo_desktop.api.signing import GetSigning, canonical_json, sign, signing_token

__all__ = [
    "DEFAULT_BASE_URL",
    "Card",
    "Credentials",
    "FacialValues",
    "GetSigning",
    "GiftCard",
    "Inventory",
    "PullRequest",
    "PullStatus",
    "Stock",
    "WalleoClient",
    "canonical_json",
    "is_loopback_url",
    "sign",
    "signing_token",
    *_errors_all,
]
