#!/usr/bin/env bash
# Build the one-folder bundle: dist/walleo-desktop/walleo-desktop (+ its _internal/ folder).
#
#   packaging/build.sh            with .venv/bin/python (scripts/bootstrap.sh --test makes it)
#   PYTHON=/path/to/python packaging/build.sh
#
# PyInstaller comes from the project's `test` extra (pip install -e ".[test]"). Nothing is
# downloaded by the build or by the bundle at run time. See packaging/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
python="${PYTHON:-.venv/bin/python}"
[ -x "$python" ] || { echo "build: no Python at $python (run scripts/bootstrap.sh --test, or set PYTHON)" >&2; exit 2; }
if ! "$python" -c 'import PyInstaller' 2>/dev/null; then
  echo "build: PyInstaller is missing: $python -m pip install -e '.[test]'" >&2
  exit 2
fi

rm -f dist/walleo-desktop.fingerprint
# --clean: no cache from an earlier build with other inputs; the spec says what goes in.
"$python" -m PyInstaller --noconfirm --clean --log-level WARN \
  --distpath dist --workpath build/pyinstaller packaging/walleo-desktop.spec

bundle=dist/walleo-desktop
exe="$bundle/walleo-desktop"
[ -x "$exe" ] || exe="$bundle/walleo-desktop.exe"
# The bundle must run on its own: no venv, no source tree on its path.
version="$(cd / && env -u PYTHONPATH -u VIRTUAL_ENV "$OLDPWD/$exe" --version)"
"$python" packaging/fingerprint.py > dist/walleo-desktop.fingerprint
echo "build: $version in $bundle ($(du -sh "$bundle" | cut -f1))"
