"""Encryption of card codes and PINs at rest: ``CardCipher``, built from the history's data key.

Key hierarchy (every key is 32 bytes):

- the **data key**: random, one per history file, kept outside the file (the OS keyring; see
  ``walleo_desktop.engine.datakey``). Never used directly; three subkeys are derived from it
  with HKDF-SHA256 (RFC 5869, no salt: the input is already uniformly random), one per purpose,
  so no key ever serves two algorithms:
- the **encryption key** (info ``walleo-desktop/v1/card-encryption``): AES-256-GCM over each
  code and each PIN;
- the **search key** (``walleo-desktop/v1/code-search``): HMAC-SHA256 of the *normalised* code
  (``normalise_code``), truncated to 16 bytes, stored beside the card (``cards.code_hash``) so
  that a whole code can be found without decrypting anything, and without the file alone
  allowing anyone to test guesses;
- the **check key** (``walleo-desktop/v1/key-check``): an HMAC of a fixed text, stored in the
  history's settings (``data_key_check``), so a wrong key is refused at open instead of failing
  on every card.

Value format (a BLOB): ``b"v1" || nonce (12 random bytes, fresh per value) || AES-GCM
ciphertext and 16-byte tag``. The associated data binds the value to its card and its column
(``b"walleo-desktop/cards/<column>/<card_id>"``): a ciphertext copied to another card, or a PIN
swapped with a code, fails authentication instead of decrypting to someone else's card.

No keyring, no files here: this module only transforms bytes.
"""

from __future__ import annotations

import hmac
import os
import re
import secrets
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from walleo_desktop.store.errors import StoreError

__all__ = [
    "FORMAT_V1",
    "HASH_BYTES",
    "KEY_BYTES",
    "NONCE_BYTES",
    "CardCipher",
    "Cipher",
    "CipherSet",
    "DecryptionError",
    "KeyMismatchError",
    "KeyUnavailableError",
    "new_data_key",
    "new_history_id",
    "normalise_code",
]

KEY_BYTES = 32
NONCE_BYTES = 12
HASH_BYTES = 16
FORMAT_V1 = b"v1"
_TAG_BYTES = 16
_INFO_ENCRYPTION = b"walleo-desktop/v1/card-encryption"
_INFO_SEARCH = b"walleo-desktop/v1/code-search"
_INFO_CHECK = b"walleo-desktop/v1/key-check"
_CHECK_TEXT = b"walleo-desktop data key check"
_AD_PREFIX = b"walleo-desktop/cards/"
COLUMNS = frozenset({"code", "pin_code"})

# What a person may type between the groups of a code: spaces of any kind and dashes.
_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212]+")


class KeyUnavailableError(StoreError):
    """The history's key is not available, so card codes cannot be read nor written."""

    def __init__(self, message: str = "") -> None:
        super().__init__(
            message
            or "The history's key is not available: card codes and PINs cannot be read or recorded."
        )


class KeyMismatchError(StoreError):
    """The key given does not belong to this history (another history's, or a new one)."""


class DecryptionError(StoreError):
    """A stored value failed authentication: damaged, moved to another card, or another key."""


def new_data_key() -> bytes:
    return secrets.token_bytes(KEY_BYTES)


def new_history_id() -> str:
    """A random id for a history file (128 bits, hex): names its key in the keyring."""
    return secrets.token_hex(16)


def normalise_code(code: str) -> str:
    """A code as compared by search: no spaces nor dashes, upper case (``"ab-12 34"`` →
    ``"AB1234"``)."""
    return _SEPARATORS.sub("", code).upper()


def _derive(key: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=info).derive(key)


class CardCipher:
    """Encrypts and decrypts one history's codes and PINs; hashes codes for search.

    ``history_id``, when given, is the id of the history this key belongs to (the keyring entry
    is named after it): ``Store.open`` then refuses the key for any other history. Tests may
    leave it out. The key never appears in ``repr``.
    """

    __slots__ = ("_aead", "_check", "_search_key", "history_id", "key_id")

    def __init__(self, key: bytes, *, history_id: str | None = None, key_id: str = "") -> None:
        if not isinstance(key, bytes) or len(key) != KEY_BYTES:
            raise ValueError(f"a data key is {KEY_BYTES} bytes")
        self._aead = AESGCM(_derive(key, _INFO_ENCRYPTION))
        self._search_key = _derive(key, _INFO_SEARCH)
        self._check = hmac.digest(_derive(key, _INFO_CHECK), _CHECK_TEXT, "sha256")[:16].hex()
        self.history_id = history_id
        self.key_id = key_id  # which version of a team's key ('' for a history's one key)

    def __repr__(self) -> str:
        return f"CardCipher(history_id={self.history_id!r})"

    @property
    def key_check(self) -> str:
        """A non-secret fingerprint of the key (hex), stored in the history to recognise it."""
        return self._check

    def encrypt(self, card_id: str, column: str, text: str) -> bytes:
        """``text`` (a code or PIN; may be empty) sealed to ``card_id`` and ``column``."""
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, text.encode("utf-8"), _ad(card_id, column))
        return FORMAT_V1 + nonce + sealed

    def decrypt(self, card_id: str, column: str, value: bytes, *, key_id: str = "") -> str:
        """The text sealed in ``value``; ``DecryptionError`` if it is not authentic here.
        ``key_id`` names the key version it was sealed with (a single key ignores it)."""
        if (
            not isinstance(value, bytes)
            or len(value) < len(FORMAT_V1) + NONCE_BYTES + _TAG_BYTES
            or value[:2] != FORMAT_V1
        ):
            raise DecryptionError(
                f"The {_label(column)} of card {card_id} is not in a format this version reads."
            )
        nonce = value[2 : 2 + NONCE_BYTES]
        try:
            plain = self._aead.decrypt(nonce, value[2 + NONCE_BYTES :], _ad(card_id, column))
        except InvalidTag:
            raise DecryptionError(
                f"The {_label(column)} of card {card_id} cannot be decrypted: the history was "
                "altered, or this is not its key."
            ) from None
        return plain.decode("utf-8")

    def code_hash(self, code: str) -> bytes:
        """The keyed hash of the normalised ``code`` (what ``cards.code_hash`` holds)."""
        normal = normalise_code(code).encode("utf-8")
        return hmac.digest(self._search_key, normal, "sha256")[:HASH_BYTES]

    def code_hashes(self, code: str) -> list[bytes]:
        """Every hash ``code`` may be stored under (one key: one hash)."""
        return [self.code_hash(code)]


class Cipher(Protocol):
    """What the store needs of a history's key: ``CardCipher`` (one key), or ``CipherSet`` (a
    team's key and its earlier versions)."""

    @property
    def key_id(self) -> str: ...

    @property
    def key_check(self) -> str: ...

    @property
    def history_id(self) -> str | None: ...

    def encrypt(self, card_id: str, column: str, text: str) -> bytes: ...

    def decrypt(self, card_id: str, column: str, value: bytes, *, key_id: str = "") -> str: ...

    def code_hash(self, code: str) -> bytes: ...

    def code_hashes(self, code: str) -> list[bytes]: ...


class CipherSet:
    """A team's key versions: seals with the current one, opens a value with the version it
    names (``cards.key_id``). When a member leaves, the team makes a new current key (the
    member never gets it); cards sealed before keep their version."""

    __slots__ = ("_by_id", "current")

    def __init__(self, current: CardCipher, older: list[CardCipher] | None = None) -> None:
        self.current = current
        self._by_id = {c.key_id: c for c in (older or [])}
        self._by_id[current.key_id] = current

    def __repr__(self) -> str:
        return f"CipherSet(current={self.current.key_id!r}, versions={sorted(self._by_id)})"

    @property
    def key_id(self) -> str:
        return self.current.key_id

    @property
    def key_check(self) -> str:
        return self.current.key_check

    @property
    def history_id(self) -> str | None:
        return self.current.history_id

    def encrypt(self, card_id: str, column: str, text: str) -> bytes:
        return self.current.encrypt(card_id, column, text)

    def decrypt(self, card_id: str, column: str, value: bytes, *, key_id: str = "") -> str:
        cipher = self._by_id.get(key_id)
        if cipher is None:
            raise DecryptionError(
                f"The {_label(column)} of card {card_id} was sealed with a version of the team's "
                f"key ({key_id or 'none'}) that this desktop was not given."
            )
        return cipher.decrypt(card_id, column, value)

    def code_hash(self, code: str) -> bytes:
        return self.current.code_hash(code)

    def code_hashes(self, code: str) -> list[bytes]:
        return [c.code_hash(code) for c in self._by_id.values()]


def _ad(card_id: str, column: str) -> bytes:
    if column not in COLUMNS:
        raise ValueError(f"no encrypted column {column!r}")
    return _AD_PREFIX + column.encode("ascii") + b"/" + card_id.encode("utf-8")


def _label(column: str) -> str:
    return "PIN" if column == "pin_code" else "code"
