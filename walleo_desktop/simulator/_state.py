"""The simulator's state file: written atomically, shared safely between processes.

Walleo remembers every pull request; a simulator that forgets them when the app is killed leaves
resumed demo pulls "processing" forever (issue item 13). With ``SimulatorConfig.state_path`` the
simulator keeps its state in one JSON file:

- written atomically: a unique temporary name in the same directory (two processes may write at
  once: never one fixed temporary name), flushed and fsynced, then ``os.replace`` over the file,
  and the directory fsynced; a reader sees the old state or the new one, never half of one;
- under an exclusive ``flock`` on ``<file>.lock`` for every read-modify-write, and re-read when
  another process changed it since (its inode, size or mtime differ), so the demo window and a
  ``walleo-desktop`` command on the same data folder see the same pulls and never issue one
  card twice (no lock on systems without ``fcntl``: one process at a time there);
- owner-only (0600): it holds the demo cards' codes.

A file that cannot be read is moved aside (``<file>.unreadable-<time>``) with a warning, and the
simulator starts afresh: it never silently overwrites what it could not understand.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

try:
    import fcntl
except ImportError:  # Windows: no advisory locks
    fcntl = None  # type: ignore[assignment]

__all__ = ["StateFile"]

log = logging.getLogger("walleo.simulator")

Signature = tuple[int, int, int]


class StateFile:
    """One JSON document on disk; ``locked()`` around every read-modify-write."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock_path = path.with_name(path.name + ".lock")

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the exclusive lock (blocking) for the duration of the block."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # releases the lock

    def signature(self) -> Signature | None:
        """What identifies the file's current version (None when there is no file)."""
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return None
        return (st.st_ino, st.st_size, st.st_mtime_ns)

    def read(self) -> dict[str, Any] | None:
        """The document, or None when there is none or it could not be read (set aside)."""
        try:
            text = self.path.read_bytes()
        except FileNotFoundError:
            return None
        try:
            data = json.loads(text)
            if not isinstance(data, dict):
                raise ValueError("not a JSON object")
        except (ValueError, UnicodeDecodeError) as exc:
            self.set_aside(str(exc))
            return None
        return data

    def set_aside(self, reason: str) -> None:
        """Move an unusable file out of the way (never overwrite it), with a warning."""
        aside = self.path.with_name(f"{self.path.name}.unreadable-{time.time_ns()}")
        os.replace(self.path, aside)
        log.warning(
            "the simulator's state %s could not be used (%s); moved to %s, starting afresh",
            self.path,
            reason,
            aside.name,
        )

    def write(self, data: dict[str, Any]) -> Signature | None:
        """Replace the document atomically and durably; returns the new signature."""
        content = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        fd, tmp_name = tempfile.mkstemp(
            dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".tmp"
        )
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(content)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp_name, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp_name)
            raise
        if os.name == "posix":
            dir_fd = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        return self.signature()
