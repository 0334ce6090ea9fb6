"""Entry point: ``walleo-desktop`` / ``python -m walleo_desktop``.

With no command it opens the window; with a command it runs the headless tool (see ``cli``).
"""

from __future__ import annotations

import sys

from walleo_desktop.cli import main

if __name__ == "__main__":
    sys.exit(main())
