"""``python -m tui.cli`` runs the ``rotation`` command."""

from tui.cli import run

run()
