"""The one place that reads or writes the ``cards.code`` and ``cards.pin_code`` columns.

Both are encrypted (schema v3, ``crypto.CardCipher``): each holds ``b"v1" || nonce ||
AES-GCM ciphertext`` sealed to its card id and column. Beside them, two columns let the history
find a card without decrypting every row:

- ``code_hash``: a keyed hash (HMAC-SHA256 under a subkey of the data key, 16 bytes) of the
  normalised code (no spaces nor dashes, upper case). An exact-code search is one index seek;
  without the key, the file does not let anyone test a guessed code.
- ``code_last4``: the last 4 characters of the normalised code, in clear, like a bank card's
  last four digits: shown in the history table, and the index behind a last-digits search.

A search term of 4 characters matches ``code_last4`` alone. A longer one matches a whole code
through ``code_hash``, or a longer ending: the cards sharing its last 4 characters (at most
``MAX_SUFFIX_CANDIDATES``) are decrypted and compared in Python, on any backend.

Everything else in the store goes through these helpers: reading a card needs the cipher
(``KeyUnavailableError`` without one); the rest of the history (pulls, totals, last 4 digits)
does not.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from walleo_desktop.logs import register_secret
from walleo_desktop.store.crypto import Cipher, DecryptionError, KeyUnavailableError
from walleo_desktop.store.crypto import normalise_code as normalise_code
from walleo_desktop.store.records import CardRecord, from_db_time, to_db_time
from walleo_desktop.store.rows import required_time
from walleo_desktop.store.seam import Conn
from walleo_desktop.timezones import expiry_day

__all__ = [
    "CARD_COLUMNS",
    "MAX_SUFFIX_CANDIDATES",
    "MIN_CODE_SEARCH",
    "card_from_row",
    "card_to_row",
    "code_search",
    "last4",
    "normalise_code",
]

log = logging.getLogger(__name__)

# Columns to SELECT (from table ``cards``) for card_from_row().
CARD_COLUMNS = (
    "card_id, pull_id, key_id, code, pin_code, expire_at, amount, gift_card_code, pdf_url, "
    "pdf_path, created_at"
)

# A search term matches a card when it is the end of the card's code and at least this long.
MIN_CODE_SEARCH = 4

# A search for a longer ending than 4 characters decrypts the cards sharing the last 4, at most
# this many (~0.1 s). With 16-digit codes that is 1 card in 10,000: 100 cards in a million.
# Past it, a search only finds the first ones; a whole code is always found (``code_hash``).
MAX_SUFFIX_CANDIDATES = 20_000


def last4(code: str) -> str:
    """What ``cards.code_last4`` holds: the last 4 characters of the normalised code."""
    return normalise_code(code)[-4:]


def _need(cipher: Cipher | None) -> Cipher:
    if cipher is None:
        raise KeyUnavailableError()
    return cipher


def card_to_row(card: CardRecord, cipher: Cipher | None) -> dict[str, Any]:
    """The ``cards`` row for ``card``, column name to value; code and PIN encrypted."""
    cipher = _need(cipher)
    return {
        "card_id": card.card_id,
        "pull_id": card.pull_id,
        "key_id": cipher.key_id,
        "code": cipher.encrypt(card.card_id, "code", card.code),
        "code_hash": cipher.code_hash(card.code),
        "code_last4": last4(card.code),
        "pin_code": cipher.encrypt(card.card_id, "pin_code", card.pin_code),
        "expire_at": to_db_time(card.expire_at),
        # The day Walleo means (its own time zone), stored so that exports and reports need
        # no time-zone arithmetic per row.
        "expire_day": None if card.expire_at is None else expiry_day(card.expire_at).isoformat(),
        "amount": card.amount,
        "gift_card_code": card.gift_card_code,
        "pdf_url": card.pdf_url,
        "pdf_path": card.pdf_path,
        "created_at": to_db_time(card.created_at),
    }


def card_from_row(row: Mapping[str, Any], cipher: Cipher | None) -> CardRecord:
    """The card in ``row`` (the ``CARD_COLUMNS``), decrypted. ``KeyUnavailableError`` without
    the key, ``DecryptionError`` for a value that is not authentic."""
    cipher = _need(cipher)
    card_id = row["card_id"]
    key_id = row.get("key_id") or ""
    code = cipher.decrypt(card_id, "code", bytes(row["code"]), key_id=key_id)
    pin_code = cipher.decrypt(card_id, "pin_code", bytes(row["pin_code"]), key_id=key_id)
    register_secret(code, pin_code)  # whatever is read is never logged
    return CardRecord(
        card_id=card_id,
        pull_id=row["pull_id"],
        code=code,
        pin_code=pin_code,
        expire_at=from_db_time(row["expire_at"]),
        amount=row["amount"],
        gift_card_code=row["gift_card_code"],
        pdf_url=row["pdf_url"],
        pdf_path=row["pdf_path"],
        created_at=required_time(row["created_at"]),
    )


def code_search(term: str, conn: Conn, cipher: Cipher | None) -> tuple[str, dict[str, Any]] | None:
    """A SELECT of the ``pull_id`` of every card whose code ends with ``term``, and its
    parameters; None when ``term`` cannot be a code search.

    Compared normalised (spaces and dashes ignored, any case). A full code is its own ending, so
    this covers "exact code" and "last digits". Terms shorter than ``MIN_CODE_SEARCH`` match
    nothing (None). Longer than 4 characters needs the key (None without it): the whole code is
    found through its keyed hash, a longer ending by decrypting the cards that share its last 4
    characters (at most ``MAX_SUFFIX_CANDIDATES``), read here through ``conn``.
    """
    normal = normalise_code(term)
    if len(normal) < MIN_CODE_SEARCH:
        return None
    tail = normal[-MIN_CODE_SEARCH:]
    if len(normal) == MIN_CODE_SEARCH:
        return "SELECT pull_id FROM cards WHERE code_last4 = :code_tail_", {"code_tail_": tail}
    if cipher is None:
        return None
    matches: list[int] = []
    candidates = conn.rows(
        "SELECT card_id, pull_id, key_id, code FROM cards WHERE code_last4 = :tail LIMIT :n",
        {"tail": tail, "n": MAX_SUFFIX_CANDIDATES},
    )
    for card_id, pull_id, key_id, value in candidates:
        try:
            code = cipher.decrypt(card_id, "code", bytes(value), key_id=key_id or "")
        except DecryptionError as exc:
            log.warning("code search skipped a card: %s", exc)
            continue
        if normalise_code(code).endswith(normal):
            matches.append(int(pull_id))
    hashes = {f"code_hash_{i}_": h for i, h in enumerate(cipher.code_hashes(normal))}
    by_hash = ", ".join(f":{name}" for name in hashes)
    matched = conn.dialect.in_values("pull_id", "code_matches_", "bigint")
    sql = f"SELECT pull_id FROM cards WHERE code_hash IN ({by_hash}) OR {matched}"  # noqa: S608
    return sql, {**hashes, "code_matches_": conn.list_param(matches)}
