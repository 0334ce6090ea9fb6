#!/usr/bin/env bash
# Install everything the tests need, then run every check and the whole test suite, as CI does.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh --test
export QT_QPA_PLATFORM=offscreen QT_API=pyside6
echo "== ruff";          .venv/bin/ruff check . && .venv/bin/ruff format --check .
echo "== import-linter"; .venv/bin/lint-imports
echo "== mypy";          .venv/bin/mypy
echo "== pytest"
# Hard cap on the whole run: a hung qasync test must not hang CI (per-test timeouts in pyproject).
timeout -k 30 2400 .venv/bin/python -m pytest "$@"
