#!/usr/bin/env bash
# Install (first run) and start Walleo Desktop. With no profile it opens in demo mode on the
# built-in simulator. Extra arguments go to `walleo-desktop`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
exec .venv/bin/walleo-desktop "$@"
