"""Private files: written whole or not at all, readable by the user only."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

__all__ = ["write_private"]


def write_private(path: Path, content: bytes) -> None:
    """Replace ``path`` atomically with ``content``: mode 0600, in a directory made 0700 if new.

    The bytes are fsynced before the rename, so a crash leaves the old file or the new one,
    never a torn one; a failed write leaves no temporary file behind. Each call writes its own
    uniquely named temporary file, so two processes replacing the same file at once each
    rename a whole file of their own (one of them wins) instead of renaming each other's
    half-written one. Callers that read, change and write back hold a lock around all three.
    """
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as fh:  # mkstemp: 0600, O_EXCL
            fh.write(content)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
