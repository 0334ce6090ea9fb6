"""A keyring for tests that run real separate processes (team mode's agents, the CLI): every
process given ``PYTHON_KEYRING_BACKEND=walleo_desktop.devtools.testkeyring.TestFileKeyring``
and ``WALLEO_TEST_KEYRING=/tmp/.../keyring.json`` shares one JSON file.

It keeps secrets **in clear** in that file: for throwaway test directories only. It refuses to
work without ``WALLEO_TEST_KEYRING`` (so it can never become someone's keyring by accident),
and the file is created 0600. The product itself never uses it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import keyring.backend
import keyring.errors
from filelock import FileLock

__all__ = ["TestFileKeyring"]


class TestFileKeyring(keyring.backend.KeyringBackend):
    priority = 1

    def _path(self) -> Path:
        value = os.environ.get("WALLEO_TEST_KEYRING")
        if not value:
            raise keyring.errors.KeyringError("WALLEO_TEST_KEYRING is not set (tests only)")
        return Path(value)

    def _read(self, path: Path) -> dict[str, str]:
        try:
            data = json.loads(path.read_text("utf-8"))
        except FileNotFoundError:
            return {}
        return {str(k): str(v) for k, v in data.items()}

    def get_password(self, service: str, username: str) -> str | None:
        path = self._path()
        with FileLock(f"{path}.lock"):
            return self._read(path).get(f"{service}\n{username}")

    def set_password(self, service: str, username: str, password: str) -> None:
        path = self._path()
        with FileLock(f"{path}.lock"):
            data = self._read(path)
            data[f"{service}\n{username}"] = password
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(data, f)

    def delete_password(self, service: str, username: str) -> None:
        path = self._path()
        with FileLock(f"{path}.lock"):
            data = self._read(path)
            if data.pop(f"{service}\n{username}", None) is None:
                raise keyring.errors.PasswordDeleteError(username)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(data, f)
