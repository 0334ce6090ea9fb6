"""``python -m walleo_desktop.simulator``: same as ``walleo-desktop simulator``."""

import sys

from walleo_desktop.simulator import run_cli

raise SystemExit(run_cli(sys.argv[1:]))
