"""Errors of the local history store. ``str()`` of each is a sentence fit for a user.

StoreError                  any failure to read or write the history file
├── NotFoundError           (also a KeyError) no pull with that id
├── NewerSchemaError        written by a newer app version; the file was not touched
├── CorruptStoreError       damaged, or not a Walleo Desktop history; the file was not touched
├── AlreadyRetriedError     a failed pull has one retry, and this one has it; nothing written
├── CardConflictError       a card that is another pull's, or a second card; nothing written
├── DuplicateIntentError    the same reference, brand and amount was issued lately; nothing written
└── ConstraintError         the database refused a write that breaks one of its rules
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = [
    "AlreadyRetriedError",
    "CardConflictError",
    "ConstraintError",
    "CorruptStoreError",
    "DuplicateIntentError",
    "NewerSchemaError",
    "NotFoundError",
    "StoreError",
]


class StoreError(Exception):
    """The history could not be read or written. A failed write changed nothing."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class NotFoundError(StoreError, KeyError):
    """No pull with the id asked for. Also a ``KeyError``, so ``except KeyError`` works."""


class NewerSchemaError(StoreError):
    def __init__(self, path: Path, found: int, known: int) -> None:
        super().__init__(
            "This history was written by a newer version of Walleo Desktop "
            f"(schema {found}, this version knows up to {known}). "
            "Update the app; the file was left untouched."
        )
        self.path = path
        self.found = found
        self.known = known


class CorruptStoreError(StoreError):
    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(
            f"The history file {path} cannot be used: {reason}. It was left untouched; "
            "restore it from a backup, or move it aside to start a new history."
        )
        self.path = path
        self.reason = reason


class AlreadyRetriedError(StoreError):
    """A failed intent gets at most one retry: ``retry_id`` is the one it already has."""

    def __init__(self, pull_id: int, retry_id: int) -> None:
        super().__init__(
            f"Pull #{pull_id} was already retried (pull #{retry_id}): a failure gets one retry. "
            "Nothing was journaled."
        )
        self.pull_id = pull_id
        self.retry_id = retry_id


class CardConflictError(StoreError):
    """A card that cannot be this pull's: already recorded for another pull, or the pull has
    another card already. Nothing was written."""


class ConstraintError(StoreError):
    """A backend refused a write that breaks a rule of the schema (a unique request id, a
    finished pull that would change state, a second retry). ``detail`` is the database's own
    words; nothing of the transaction was written."""

    def __init__(self, message: str, detail: str) -> None:
        super().__init__(message)
        self.detail = detail


class DuplicateIntentError(StoreError):
    """An intent with the reference, brand and amount of recent pulls (``matches``, oldest
    first), not confirmed: nothing was journaled. Confirming means journaling again with those
    pulls' ids as ``confirmed``."""

    def __init__(self, matches: list[Any]) -> None:
        first = matches[0]
        super().__init__(
            f"{len(matches)} pull(s) of {first.gift_card_name or first.gift_card_code} "
            f"{first.amount} for reference {first.reference!r} were made in the last 24 hours "
            f"(the first {first.created_at:%Y-%m-%d %H:%M} UTC by {first.agent or 'someone'}). "
            "Nothing was journaled: confirm to issue another one."
        )
        self.matches = matches
