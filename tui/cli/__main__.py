"""``python -m tui.cli`` runs the ``rotation`` command."""

import sys

from tui.cli import main

sys.exit(main())
