"""Entry point of the frozen bundle: the same ``main`` as the ``walleo-desktop`` command."""

import sys

from walleo_desktop.cli import main

if __name__ == "__main__":
    sys.exit(main())
