"""``rotation app``: open the terminal app (also what ``rotation`` alone does)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from tui.cli.common import add_command


def add_parser(sub: Any) -> None:
    p = add_command(sub, "app", "open the terminal app (same as no command)", run)
    p.add_argument("--workspace", help="open a saved workspace (.toml)")
    p.add_argument("--universe", help="start on this universe (default: us-small-manufacturing)")


def run(args: argparse.Namespace) -> int:
    """Check the arguments a person can get wrong, then hand the terminal to the app."""
    if args.workspace and not Path(args.workspace).expanduser().is_file():
        from universes.errors import UserError

        raise UserError(f"{args.workspace}: no such workspace file. Check the path, or start without --workspace.")
    if args.universe:
        check_universe_name(args.universe)
    from tui.app import run_app

    return run_app(workspace=args.workspace, universe=args.universe)


def check_universe_name(name: str) -> None:
    """Refuse an unknown universe before the app starts (a file path must exist)."""
    from universes.catalog import universe_definitions, unknown_universe
    from universes.errors import UserError
    from universes.paths import is_table_path

    if is_table_path(name):
        if not Path(name).expanduser().is_file():
            raise UserError(f"{name}: no such file. Check the path (relative paths start from the current folder).")
        return
    defs = universe_definitions()
    if name not in defs:
        raise unknown_universe(name, defs)
