"""The history's data key: 32 random bytes that encrypt its card codes, kept in the OS keyring.

Each history file has a random id (its ``history_id`` setting); its key is the keyring entry
``data-key:<history id>`` of service ``walleo-desktop``, so two histories (real and demo, or a
copy made elsewhere) never share a key by accident.

**Fallback.** The engine must always be able to record a card it was paid for, so a session
always has a key. When no keyring can keep it (a server without a Secret Service, the keyring
refusing), the key goes to the file ``<data dir>/history.key`` instead: mode 0600 in an
owner-only directory, next to the history. That protects the codes against anyone who gets the
history file alone (a backup, a copy sent for support), not against someone who can read the
user's files. The app says so plainly every time it runs that way (``DataKey.warning``). Once a
keyring works again, the key is moved into it and removed from the file.

A new key is made only for a history that has none yet (no key fingerprint in the file). If the
history's codes are encrypted and the key cannot be found, ``KeyUnavailableError`` says where
it was looked for: making a new key would make every code unreadable.

**Several processes.** Two first starts at once (two `walleo-desktop pull`, a window and a
CLI) must end with one history and one key that is stored. Creating a history and its key is
one act under the history's lock file (``<history>.lock``): the first process makes the key,
stores it, and creates the history file bound to it (history id and key fingerprint) before it
lets go; the second waits, then finds a history with a key and uses it. Changes to the
fallback file (shared by the demo and the real history of one data dir) are read, changed and
written back under its own lock (``history.key.lock``).

Every call here may block on the keyring (an unlock prompt) or on another process's lock: the
window runs ``load_data_key`` in a thread with a timeout (``ui.app``); the CLI calls it directly.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import keyring
import keyring.errors
from filelock import FileLock
from filelock import Timeout as LockTimeout

from walleo_desktop.engine.files import write_private
from walleo_desktop.engine.profiles import KEYRING_SERVICE
from walleo_desktop.logs import register_secret
from walleo_desktop.store.core import StoreCore
from walleo_desktop.store.crypto import (
    KEY_BYTES,
    CardCipher,
    KeyUnavailableError,
    new_data_key,
    new_history_id,
)
from walleo_desktop.store.sqlite import SqliteBackend

__all__ = [
    "FALLBACK_FILE",
    "LOCK_TIMEOUT",
    "DataKey",
    "KeyUnavailableError",
    "fallback_path",
    "keyring_entry",
    "keyring_timeout",
    "load_data_key",
    "open_history",
]

log = logging.getLogger("walleo.engine.datakey")

FALLBACK_FILE = "history.key"
_FILE_FORMAT = "walleo-desktop data keys"
# How long a process waits for another one creating or upgrading the same history (the one-time
# encryption of a large old history takes about 30 s per million cards).
LOCK_TIMEOUT = 180.0


@contextlib.contextmanager
def _locked(path: Path, what: str, timeout: float = LOCK_TIMEOUT) -> Iterator[None]:
    """Hold the lock file ``path`` (created owner-only), waiting up to ``timeout`` seconds."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    lock = FileLock(path, timeout=timeout, mode=0o600, thread_local=False)
    try:
        lock.acquire()
    except LockTimeout:
        raise KeyUnavailableError(
            f"Another Walleo Desktop has been {what} for over {int(timeout)} s "
            f"(lock file {path}). Wait for it to finish, then try again."
        ) from None
    except OSError as exc:
        raise _LockUnavailable(path, exc) from exc
    try:
        yield
    finally:
        lock.release()


class _LockUnavailable(KeyUnavailableError):
    """The lock file cannot even be created (a read-only folder or disk, no permission)."""

    def __init__(self, path: Path, exc: OSError) -> None:
        folder = path.parent
        reason = (
            f"the folder {folder} is read-only"
            if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM)
            else str(exc)
        )
        super().__init__(f"Cannot take the lock file {path}: {reason}.")


def history_lock_path(history: Path) -> Path:
    return Path(history).with_name(Path(history).name + ".lock")


def keyring_entry(history_id: str) -> str:
    return f"data-key:{history_id}"


def fallback_path(history: Path) -> Path:
    """The fallback key file for the history at ``history`` (in the same data dir)."""
    return Path(history).parent / FALLBACK_FILE


@dataclass(frozen=True)
class DataKey:
    """A history's key, where it is kept, and what to tell the user about it."""

    history_id: str
    key: bytes = field(repr=False)
    location: Literal["keyring", "file"]
    file: Path | None = None  # the fallback file, when location == "file"
    created: bool = False

    @property
    def fallback(self) -> bool:
        return self.location == "file"

    @property
    def warning(self) -> str:
        """A sentence for the user when the key is in the fallback file ('' otherwise)."""
        if not self.fallback:
            return ""
        return (
            "No system keyring is available: the key that encrypts the card codes in your "
            f"history is stored in the file {self.file} (readable by your user only). Anyone "
            "who can read your files can read the codes. Set up a keyring (GNOME Keyring, "
            "KWallet) and restart: the key moves there by itself."
        )

    def cipher(self) -> CardCipher:
        return CardCipher(self.key, history_id=self.history_id)


def _encode(key: bytes) -> str:
    """The key as stored: hexadecimal (one word, which the log redaction recognises whole)."""
    return key.hex()


def _decode(text: str, where: str) -> bytes:
    try:
        key = bytes.fromhex(text.strip())
    except ValueError:
        key = b""
    if len(key) != KEY_BYTES:
        raise KeyUnavailableError(
            f"The history's key in {where} is damaged: card codes cannot be read."
        )
    register_secret(text.strip())
    return key


# -- the fallback file ---------------------------------------------------------------------------


def _make_owner_only(path: Path, mode: int) -> None:
    if os.name == "posix" and stat.S_IMODE(path.stat().st_mode) & 0o077:
        log.warning("%s was readable by others: made it owner-only", path)
        os.chmod(path, mode)


def _read_file(path: Path) -> dict[str, str]:
    try:
        _make_owner_only(path, 0o600)
        data = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise KeyUnavailableError(
            f"The key file {path} cannot be read ({exc}): card codes cannot be read."
        ) from exc
    keys = data.get("keys") if isinstance(data, dict) else None
    if not isinstance(keys, dict):
        raise KeyUnavailableError(f"The key file {path} is damaged: card codes cannot be read.")
    return {str(k): str(v) for k, v in keys.items()}


def _write_file(path: Path, keys: dict[str, str]) -> None:
    """Replace the key file atomically, owner-only (0600 in a 0700 directory)."""
    directory = path.parent
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    _make_owner_only(directory, 0o700)
    if not keys:
        path.unlink(missing_ok=True)
        return
    text = json.dumps({"format": _FILE_FORMAT, "version": 1, "keys": keys}, indent=2)
    write_private(path, (text + "\n").encode("utf-8"))


# -- the keyring ---------------------------------------------------------------------------------


def _keyring_get(history_id: str) -> str | None:
    """The stored key text; raises ``KeyringError`` when there is no usable keyring."""
    return keyring.get_password(KEYRING_SERVICE, keyring_entry(history_id))


def _keyring_put(history_id: str, text: str) -> bool:
    """Store the key, then read it back: True only if the keyring really keeps it (the
    ``null`` backend, for one, accepts and forgets)."""
    try:
        keyring.set_password(KEYRING_SERVICE, keyring_entry(history_id), text)
        return _keyring_get(history_id) == text
    except keyring.errors.KeyringError as exc:
        log.info("the system keyring cannot store the history's key: %s", exc)
        return False


# -- loading -------------------------------------------------------------------------------------


def load_data_key(history: Path) -> DataKey:
    """The key of the history at ``history`` (the file may not exist yet): from the keyring,
    else from the fallback file; made when the history has none yet. Blocking.

    A history that has no key yet (a new file, or one written before encryption) is created or
    bound to its new key before this returns, under the history's lock: a second process
    opening it at the same moment waits and then uses that key.

    Raises ``KeyUnavailableError`` (a ``StoreError``) when the history's codes are encrypted
    and the key is in neither place, and ``NewerSchemaError`` / ``CorruptStoreError`` for a
    file ``Store.open`` would refuse (no key is made for it).
    """
    history = Path(history)
    try:
        with _locked(history_lock_path(history), "creating or upgrading this history"):
            return _load_data_key_locked(history)
    except _LockUnavailable:
        # A read-only folder (a backup on read-only media, a locked-down share): nothing can
        # be created there anyway, so a history that already has its key is read without the
        # lock; one that would need creating or binding is refused, as said.
        info = SqliteBackend.key_info(history)
        if info.history_id is None or info.key_check is None:
            raise
        return _load_data_key_locked(history)


def _load_data_key_locked(history: Path) -> DataKey:
    info = SqliteBackend.key_info(history)
    history_id = info.history_id or new_history_id()
    file = fallback_path(history)
    keyring_problem = ""
    try:
        text = _keyring_get(history_id)
    except keyring.errors.KeyringError as exc:
        text, keyring_problem = None, str(exc) or type(exc).__name__
    if text:
        return _bound(history, DataKey(history_id, _decode(text, "the system keyring"), "keyring"))

    stored = _read_file(file).get(history_id)  # replaced whole, never torn: no lock to read
    if stored is not None:
        key = _decode(stored, str(file))
        if not keyring_problem and _keyring_put(history_id, stored):
            with contextlib.suppress(_LockUnavailable):  # read-only: it stays in the file too
                with _locked(_file_lock_path(file), "writing the key file"):
                    _forget_in_file(file, history_id)
                log.info("history key moved from %s into the system keyring", file)
            return _bound(history, DataKey(history_id, key, "keyring"))
        return _bound(history, DataKey(history_id, key, "file", file))

    if info.key_check is not None:  # codes are encrypted with a key we cannot find
        entry = f"entry {keyring_entry(history_id)!r} of service {KEYRING_SERVICE!r}"
        if keyring_problem:
            where = (
                f"the system keyring cannot be read ({keyring_problem}), and {file} does not "
                "hold it either. Unlock or start the keyring, then try again."
            )
        else:
            where = (
                f"it is neither in the system keyring ({entry}) nor in {file}. If this "
                "history was copied from another computer or user, copy its key too; "
                f"otherwise move {history} aside to start a new history."
            )
        raise KeyUnavailableError(
            f"The key that encrypts the card codes of {history} is not available: {where}"
        )

    key = new_data_key()
    text = _encode(key)
    register_secret(text)
    if not keyring_problem and _keyring_put(history_id, text):
        log.info("made a new key for history %s, kept in the system keyring", history_id)
        made = DataKey(history_id, key, "keyring", created=True)
    else:
        with _locked(_file_lock_path(file), "writing the key file"):
            keys = _read_file(file)
            keys[history_id] = text
            _write_file(file, keys)
        # Info, not a warning: the front end tells the user (DataKey.warning), once.
        log.info(
            "made a new key for history %s; no usable system keyring (%s): kept in %s",
            history_id,
            keyring_problem or "it does not keep what is stored",
            file,
        )
        made = DataKey(history_id, key, "file", file, created=True)
    try:
        return _bound(history, made, created=True)
    except BaseException:
        _discard(made)  # the history was not bound to it: a key for nothing
        raise


def _bound(history: Path, data_key: DataKey, *, created: bool = False) -> DataKey:
    """``data_key``, after making sure the history file exists and records this key (its id
    and fingerprint): creating the file, or encrypting an old one, happens here, under the
    history's lock, so that no other process can bind another key meanwhile."""
    info = SqliteBackend.key_info(history)
    if created or info.history_id is None or info.key_check is None:
        SqliteBackend.open(history, cipher=data_key.cipher()).close()
    return data_key


def _discard(data_key: DataKey) -> None:
    with contextlib.suppress(Exception):
        if data_key.location == "keyring":
            keyring.delete_password(KEYRING_SERVICE, keyring_entry(data_key.history_id))
        elif data_key.file is not None:
            with _locked(_file_lock_path(data_key.file), "writing the key file"):
                _forget_in_file(data_key.file, data_key.history_id)


def _file_lock_path(file: Path) -> Path:
    return file.with_name(file.name + ".lock")


def _forget_in_file(file: Path, history_id: str) -> None:
    with contextlib.suppress(KeyUnavailableError, OSError):
        keys = _read_file(file)
        if keys.pop(history_id, None) is not None:
            _write_file(file, keys)


def keyring_timeout(seconds: float) -> KeyUnavailableError:
    """The error for a keyring that did not answer in time (the window gives up waiting)."""
    return KeyUnavailableError(
        f"The system keyring did not answer within {int(seconds)} s, so the key that encrypts "
        "the card codes of your history could not be read. Unlock the keyring, then start "
        "Walleo Desktop again."
    )


def open_history(history: Path, data_key: DataKey | None = None) -> tuple[StoreCore, DataKey]:
    """Open the history at ``history`` with its key (loaded here when not given). Blocking;
    for the calling thread (closing the core closes the file); the window and the engine use
    the async ``Store`` instead.

    The history exists and is bound to its key once ``load_data_key`` has returned, so the
    store opened here never creates a file nor binds a key of its own."""
    data_key = data_key or load_data_key(history)
    return SqliteBackend.open(history, cipher=data_key.cipher()).core, data_key
