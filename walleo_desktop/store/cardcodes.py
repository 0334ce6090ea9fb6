"""The one place that reads or writes the ``cards.code`` and ``cards.pin_code`` columns.

Everything else in the store goes through these helpers, so encrypting the two columns later
means changing this module only: ``card_to_row`` would encrypt, ``card_from_row`` decrypt, and
``code_search`` would match on ``code_last4`` (kept in clear text, like a bank card's last four
digits) then compare the decrypted candidates, or on a keyed hash column.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from walleo_desktop.logs import register_secret
from walleo_desktop.store.records import CardRecord, from_db_time, to_db_time
from walleo_desktop.store.rows import required_time

__all__ = ["CARD_COLUMNS", "MIN_CODE_SEARCH", "card_from_row", "card_to_row", "code_search"]

# Columns to SELECT (from table ``cards``) for card_from_row().
CARD_COLUMNS = (
    "card_id, pull_id, code, pin_code, expire_at, amount, gift_card_code, pdf_url, pdf_path, "
    "created_at"
)

# A search term matches a card when it is the end of the card's code and at least this long.
MIN_CODE_SEARCH = 4


def last4(code: str) -> str:
    return code[-4:]


def card_to_row(card: CardRecord) -> dict[str, Any]:
    """The ``cards`` row for ``card``, column name to value."""
    return {
        "card_id": card.card_id,
        "pull_id": card.pull_id,
        "code": card.code,
        "code_last4": last4(card.code),
        "pin_code": card.pin_code,
        "expire_at": to_db_time(card.expire_at),
        "amount": card.amount,
        "gift_card_code": card.gift_card_code,
        "pdf_url": card.pdf_url,
        "pdf_path": card.pdf_path,
        "created_at": to_db_time(card.created_at),
    }


def card_from_row(row: Mapping[str, Any]) -> CardRecord:
    register_secret(row["code"], row["pin_code"])  # whatever is read is never logged
    return CardRecord(
        card_id=row["card_id"],
        pull_id=row["pull_id"],
        code=row["code"],
        pin_code=row["pin_code"],
        expire_at=from_db_time(row["expire_at"]),
        amount=row["amount"],
        gift_card_code=row["gift_card_code"],
        pdf_url=row["pdf_url"],
        pdf_path=row["pdf_path"],
        created_at=required_time(row["created_at"]),
    )


def code_search(term: str) -> tuple[str, list[Any]] | None:
    """SQL (over table ``cards``) matching cards whose code ends with ``term``.

    A full code is its own suffix, so this covers both "exact code" and "last digits". Shorter
    terms than ``MIN_CODE_SEARCH`` match nothing (None). The ``code_last4`` index narrows the
    candidates first.
    """
    if len(term) < MIN_CODE_SEARCH:
        return None
    return (
        "code_last4 = ? AND substr(code, -?) = ?",
        [last4(term), len(term), term],
    )
