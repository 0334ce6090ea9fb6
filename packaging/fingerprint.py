"""What a bundle was built from, as one hash: ``python packaging/fingerprint.py``.

``packaging/build.sh`` writes it to ``dist/walleo-desktop.fingerprint`` after a build;
``tests/test_packaging.py`` rebuilds when the file is missing or no longer matches, that is when
the app's code or package data, the spec, ``pyproject.toml``, a translation, the Python or any
installed distribution changed since.
"""

from __future__ import annotations

import hashlib
import sys
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DIST = ROOT / "dist"
BUNDLE = DIST / "walleo-desktop"
STAMP = DIST / "walleo-desktop.fingerprint"


def inputs() -> list[Path]:
    files = [
        p
        for p in (ROOT / "walleo_desktop").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    ]
    files += [ROOT / "pyproject.toml", *sorted((ROOT / "packaging").glob("*"))]
    files += sorted((ROOT / "resources" / "translations").glob("*.ts"))
    return sorted(p for p in files if p.is_file() and p.suffix not in (".pyc", ".md"))


def fingerprint() -> str:
    digest = hashlib.sha256()
    digest.update(sys.version.encode())
    for path in inputs():
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    # A set: the same distribution can be seen twice (an editable install's egg-info when the
    # source tree is on sys.path, as under pytest).
    installed = sorted(
        {f"{dist.metadata['Name']}=={dist.version}".lower() for dist in metadata.distributions()}
    )
    digest.update("\n".join(installed).encode())
    return digest.hexdigest()


def is_current() -> bool:
    """True when the bundle exists and was built from what is here now."""
    executable = BUNDLE / ("walleo-desktop.exe" if sys.platform == "win32" else "walleo-desktop")
    return executable.exists() and STAMP.exists() and STAMP.read_text().strip() == fingerprint()


if __name__ == "__main__":
    print(fingerprint())
