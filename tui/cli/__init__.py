"""The ``rotation`` command: the terminal app with no arguments, sub-commands for scripted use.

One module per command (``tui/cli/<command>.py``), each with ``add_parser(subparsers)`` and
``run(args) -> int``. The modules import only ``argparse`` at start-up and load pandas, the
screener or the solver inside ``run``, so ``rotation`` opens the app without them and a command
loads only what it uses.

Every sub-command prints a table by default and a stable JSON document with ``--format json``
(the keys are the contract documented in the README). An error a user can cause
(:class:`universes.errors.UserError`) prints one message on stderr and exits with status 2
(1 for an infeasible optimisation); nothing is written then.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from tui import freeze_long_lived

EXIT_OK = 0
EXIT_INFEASIBLE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
EXIT_BUG = 70
COMMANDS = ("app", "universes", "show", "screen", "valuation", "optimize", "backtest", "data-check", "refresh")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every sub-command."""
    parser = argparse.ArgumentParser(
        prog="rotation",
        description="Small-cap rotation workbench. With no command, opens the terminal app.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"tui.cli.{name.replace('-', '_')}").add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``rotation`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        args = parser.parse_args(["app"])
    from universes.errors import UserError

    if args.command not in ("app", "refresh"):
        warn_about_user_files(args.command)
    try:
        code: int = args.run(args)
    except UserError as exc:
        print(f"rotation {args.command}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM during an export (ExportInterrupted)
        print(f"rotation {args.command}: interrupted; nothing was written.", file=sys.stderr)
        return 128 + int(getattr(exc, "signum", EXIT_INTERRUPTED - 128))
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:  # a bug: one line, not a traceback (ROTATION_DEBUG=1 shows it)
        if os.environ.get("ROTATION_DEBUG"):
            raise
        print(
            f"rotation {args.command}: unexpected error ({type(exc).__name__}: {exc}). "
            "This is a bug in rotation; run again with ROTATION_DEBUG=1 to see where it happened.",
            file=sys.stderr,
        )
        return EXIT_BUG
    return code


def run() -> None:
    """The ``rotation`` console script: :func:`main`, then exit with its status.

    Before the interpreter shuts down, everything loaded is frozen out of garbage collection:
    Python's shutdown otherwise walks the million-odd objects pandas, SciPy and cvxpy leave in
    memory, 0.2-0.3 s after the answer is printed (the user waits for that too). Nothing is
    skipped: files are closed and exit handlers run as before.
    """
    code = main()
    freeze_long_lived()
    sys.exit(code)


def warn_about_user_files(command: str) -> None:
    """Say on stderr which of the user's own universe definitions were left out, and why (the
    command goes on with the rest)."""
    from universes.catalog import catalog_warnings

    for warning in catalog_warnings():
        print(f"rotation {command}: warning: {warning}", file=sys.stderr)


if __name__ == "__main__":
    run()
