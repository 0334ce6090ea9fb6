#!/usr/bin/env bash
# Prepare a fresh Debian/Ubuntu machine for Walleo Desktop: the Debian libraries Qt needs, a
# Python >= 3.12 virtual environment in .venv, and the project installed into it.
#   scripts/bootstrap.sh          runtime (window under X11/Wayland + offscreen)
#   scripts/bootstrap.sh --test   plus the test and lint tools
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
[ "${1:-}" = "--test" ] && want_test=1

# --- Debian packages: what Qt needs (stack-notes §2), and for --test the validators and
# PostgreSQL 15 (tests start a throwaway server: team-scale §4); installed only when missing -----
deb_packages=(libglib2.0-0 libegl1 libgl1 libfontconfig1 libxkbcommon0 libdbus-1-3 libx11-6
  fonts-dejavu-core libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1
  libxcb-render-util0 libxcb-render0 libxcb-shape0 libxcb-util1 libxcb-xkb1 libxkbcommon-x11-0)
[ "$want_test" = 1 ] && deb_packages+=(xvfb xauth desktop-file-utils appstream)  # validators: tests/test_packaging.py
[ "$want_test" = 1 ] && deb_packages+=(postgresql postgresql-contrib)  # pg_server fixture: tests/conftest.py
# A real spreadsheet program opens the XLSX export in the tests (tests/test_export_xlsx.py): 56
# packages, 86 MB to fetch, 276 MB installed, about 20 s (measured 2026-12): worth it, since
# "a spreadsheet opens it correctly" is what the export is for.
[ "$want_test" = 1 ] && deb_packages+=(libreoffice-calc-nogui)
missing=()
if command -v dpkg-query >/dev/null 2>&1; then
  for p in "${deb_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
fi
if [ "${#missing[@]}" -gt 0 ]; then
  echo "bootstrap: installing missing Debian packages: ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && sudo_cmd=(sudo)
  if [ "$(id -u)" -eq 0 ] || [ "${#sudo_cmd[@]}" -gt 0 ]; then
    "${sudo_cmd[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
  else
    echo "bootstrap: cannot install them (not root, no sudo); ask an administrator for:" >&2
    echo "  apt-get install --no-install-recommends ${missing[*]}" >&2
  fi
fi

# --- a Python >= 3.12 (PySide6 6.12 aborts on 3.11: stack-notes TL;DR 1) ----------------------
ok() { "$1" -c 'import sys, venv; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; }
python=""
candidates=("${WALLEO_PYTHON:-}" python3.13 python3.12 python3)
if command -v pyenv >/dev/null 2>&1; then  # pyenv shims refuse versions that are not selected
  for d in "$(pyenv root)"/versions/3.1[2-9]*; do [ -x "$d/bin/python3" ] && candidates+=("$d/bin/python3"); done
fi
candidates+=(/usr/bin/python3.13 /usr/bin/python3.12 /usr/local/bin/python3.13 /usr/local/bin/python3.12)
for c in "${candidates[@]}"; do
  [ -n "$c" ] || continue
  if command -v "$c" >/dev/null 2>&1 && ok "$c"; then python="$(command -v "$c")"; break; fi
done
if [ -z "$python" ]; then
  echo "bootstrap: Walleo Desktop needs Python 3.12 or newer (with venv). Install python3.12" >&2
  echo "  (Ubuntu 24.04: apt-get install python3.12-venv) or set WALLEO_PYTHON=/path/to/python3.12." >&2
  exit 2
fi

if [ ! -x .venv/bin/python ] || ! ok .venv/bin/python; then
  rm -rf .venv
  "$python" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
if [ "$want_test" = 1 ]; then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[test]"
else
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e .
fi
echo "bootstrap: ready ($(.venv/bin/python --version), $(.venv/bin/python -c 'import PySide6; print("PySide6", PySide6.__version__)'))"
