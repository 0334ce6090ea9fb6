"""Walleo credentials kept in memory for this run only, when no keyring can hold them.

Filled by the Settings dialog, read when the connection is resolved at start (``app``): its own
module, so that the window's start does not import the dialog.
"""

from __future__ import annotations

import threading

from walleo_desktop.api.client import Credentials

__all__ = ["SessionCredentials", "session_credentials"]


class SessionCredentials:
    """Credentials kept in memory for this run only, when no keyring can hold them.

    Nothing here ever touches the disk. An unencrypted "remember on this computer" file is
    deliberately not offered: the rest of the app (``resolve_connection``) reads only the
    keyring, and a plain-text file of keys that can issue cards would need its own reviewed
    storage, permissions and warnings first.
    """

    def __init__(self) -> None:
        self._items: dict[str, Credentials] = {}
        self._lock = threading.Lock()

    def get(self, name: str) -> Credentials | None:
        with self._lock:
            return self._items.get(name)

    def set(self, name: str, credentials: Credentials) -> None:
        with self._lock:
            self._items[name] = credentials

    def discard(self, name: str) -> None:
        with self._lock:
            self._items.pop(name, None)

    def rename(self, old: str, new: str) -> None:
        with self._lock:
            if old in self._items:
                self._items[new] = self._items.pop(old)

    def names(self) -> list[str]:
        with self._lock:
            return sorted(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __contains__(self, name: object) -> bool:
        with self._lock:
            return name in self._items

    def __repr__(self) -> str:  # names only, never the secrets
        return f"SessionCredentials(names={self.names()!r})"


session_credentials = SessionCredentials()
