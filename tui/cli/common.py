"""What the command modules share: their common arguments and how a result reaches stdout."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

DEFAULT_UNIVERSE = "us-small-manufacturing"


def add_command(
    sub: Any, name: str, help_text: str, run: Callable[[argparse.Namespace], int]
) -> argparse.ArgumentParser:
    """Register one sub-command that calls ``run(args)``."""
    p: argparse.ArgumentParser = sub.add_parser(name, help=help_text, description=help_text)
    p.set_defaults(run=run)
    return p


def format_arg(p: argparse.ArgumentParser, choices: tuple[str, ...] = ("table", "json")) -> None:
    """``--format``: a table for people (the default) or a document for programs."""
    p.add_argument("--format", choices=choices, default="table", help="output format (default: table)")


def universe_args(p: argparse.ArgumentParser, default: str = DEFAULT_UNIVERSE) -> None:
    """``--universe``, ``--as-of`` and ``--fundamentals``: which companies, on which date."""
    p.add_argument(
        "--universe",
        default=default,
        help=f"universe name, or a .csv/.xlsx list of tickers (default: {default})",
    )
    p.add_argument("--as-of", dest="as_of", help="an earlier date within the data (YYYY-MM-DD)")
    p.add_argument("--fundamentals", help="your own fundamentals file (.csv/.xlsx, snapshot schema)")


def screen_arg(p: argparse.ArgumentParser) -> None:
    """``--screen``: a shipped or saved screen by name, or a screen file."""
    p.add_argument("--screen", help="screen name or .toml file (default: the shipped screen)")


def open_session(args: argparse.Namespace, **extra: Any) -> Any:
    """A :class:`tui.session.Session` for the universe, date, fundamentals and screen arguments."""
    from tui import freeze_long_lived
    from tui.session import Session

    session = Session(
        args.universe,
        as_of=args.as_of,
        fundamentals=args.fundamentals,
        screen=getattr(args, "screen", None),
        **extra,
    )
    # what is loaded by now (modules, the universe, the screen) lives until the command ends
    freeze_long_lived()  # 40 ms of garbage collection in a first `optimize`
    return session


def emit(text: str) -> None:
    """Print a result to standard output."""
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
