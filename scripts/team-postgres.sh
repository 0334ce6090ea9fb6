#!/usr/bin/env bash
# A local PostgreSQL 15 server for trying team mode on one machine (README: "Trying team mode
# on one machine"). The logic is in walleo_desktop/devtools/pgserver.py; this only picks where.
#   scripts/team-postgres.sh [start]   start it (creating it the first time), print the admin URL
#   scripts/team-postgres.sh status    exit 0 when running, 3 when not
#   scripts/team-postgres.sh stop
# Cluster: ${XDG_DATA_HOME:-~/.local/share}/walleo-desktop/team-postgres, on 127.0.0.1:54329
# (WALLEO_TEAM_PG_DIR and WALLEO_TEAM_PG_PORT override them). As root the server runs as the
# postgres user, which must be able to reach that directory.
set -euo pipefail
cd "$(dirname "$0")/.."

command="${1:-start}"
case "$command" in
  start | stop | status) ;;
  *) echo "usage: scripts/team-postgres.sh [start|stop|status]" >&2; exit 2 ;;
esac
dir="${WALLEO_TEAM_PG_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/walleo-desktop/team-postgres}"
port="${WALLEO_TEAM_PG_PORT:-54329}"

if [ ! -x .venv/bin/python ]; then
  echo "team-postgres: no .venv here yet: run scripts/start.sh (or scripts/bootstrap.sh) first" >&2
  exit 2
fi
exec .venv/bin/python -m walleo_desktop.devtools.pgserver "$command" --dir "$dir" --port "$port"
