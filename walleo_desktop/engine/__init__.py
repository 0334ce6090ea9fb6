"""The pull lifecycle and the services the front ends use. asyncio only, no Qt."""

from walleo_desktop.engine.cards import CardFiles
from walleo_desktop.engine.catalog import CatalogService
from walleo_desktop.engine.policy import PollPolicy
from walleo_desktop.engine.profiles import (
    Connection,
    KeyringUnavailable,
    Profile,
    Profiles,
    keyring_available,
    resolve_connection,
)
from walleo_desktop.engine.pulls import PullEngine, PullEvent, new_request_id, validate_amount
from walleo_desktop.engine.session import Session, history_path

__all__ = [
    "CardFiles",
    "CatalogService",
    "Connection",
    "KeyringUnavailable",
    "PollPolicy",
    "Profile",
    "Profiles",
    "PullEngine",
    "PullEvent",
    "Session",
    "history_path",
    "keyring_available",
    "new_request_id",
    "resolve_connection",
    "validate_amount",
]
