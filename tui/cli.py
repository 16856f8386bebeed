"""The ``rotation`` command: the TUI with no arguments, sub-commands for scripted use.

Every sub-command prints a table by default and a stable JSON document with ``--format json``;
the JSON keys are the contract documented in the README. Errors a user can cause print one
clear message on stderr and exit with status 2 (1 for an infeasible optimisation).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

EXIT_USAGE = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rotation",
        description="Small-cap rotation workbench. With no command, opens the terminal app.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def add(name: str, help_text: str, func: str) -> argparse.ArgumentParser:
        # ``func`` names a function of tui.commands, imported only when that command runs, so
        # that the app starts without loading pandas first.
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(func=func)
        return p

    def fmt(p: argparse.ArgumentParser, choices: tuple[str, ...] = ("table", "json")) -> None:
        p.add_argument(
            "--format", choices=choices, default="table", help="output format (default: table)"
        )

    def universe_arg(p: argparse.ArgumentParser, default: str | None) -> None:
        p.add_argument(
            "--universe",
            default=default,
            help=f"universe name, or a .csv/.xlsx list of tickers (default: {default})",
        )
        p.add_argument("--as-of", dest="as_of", help="an earlier date within the data (YYYY-MM-DD)")
        p.add_argument(
            "--fundamentals", help="your own fundamentals file (.csv/.xlsx, snapshot schema)"
        )

    p = add("app", "open the terminal app (same as no command)", "cmd_app")
    p.add_argument("--workspace", help="open a saved workspace (.toml)")
    p.add_argument("--universe", help="start on this universe (default: us-small-manufacturing)")

    p = add(
        "universes", "list the universes with their as-of date and size", "cmd_universes"
    )
    fmt(p)

    p = add(
        "show",
        "a company card: identity, market data, fundamentals and the screen's evidence",
        "cmd_show",
    )
    p.add_argument("ticker")
    universe_arg(p, "us-all")
    fmt(p)

    p = add(
        "screen",
        "rank a universe by discount to fair value and balance-sheet quality",
        "cmd_screen",
    )
    universe_arg(p, "us-small-manufacturing")
    p.add_argument("--screen", help="screen name or .toml file (default: the shipped screen)")
    p.add_argument(
        "--top",
        type=int,
        default=None,
        help="show the first N rows (default: 25 for tables, all otherwise)",
    )
    fmt(p, ("table", "csv", "json"))

    p = add(
        "valuation",
        "sector price / fair value and small vs large caps: the thesis, from the data",
        "cmd_valuation",
    )
    universe_arg(p, "us-all")
    fmt(p)

    p = add(
        "optimize",
        "optimise the rotation portfolio and print the trade list",
        "cmd_optimize",
    )
    universe_arg(p, "us-small-manufacturing")
    p.add_argument("--screen", help="screen name or .toml file (default: the shipped screen)")
    p.add_argument(
        "--holdings",
        help="current holdings (.csv/.xlsx with ticker and shares; optional cash line)",
    )
    p.add_argument("--sheet", help="worksheet of the holdings workbook (default: the first)")
    p.add_argument(
        "--ignore-unknown",
        action="store_true",
        help="keep holdings outside the universe as untradeable instead of failing",
    )
    p.add_argument(
        "--capital",
        type=float,
        default=None,
        help="cash to invest when there is no holdings file (default: 1,000,000 USD)",
    )
    p.add_argument("--constraints", help="constraints .toml (default: the shipped one)")
    p.add_argument(
        "--out", help="write the trade list workbook (.xlsx) and a broker basket CSV beside it"
    )
    p.add_argument("--force", action="store_true", help="overwrite existing output files")
    fmt(p)

    p = add(
        "refresh", "fetch live data through OpenBB into a new dated universe", "cmd_refresh"
    )
    p.add_argument(
        "--provider",
        default="yfinance",
        help="OpenBB provider of statements: yfinance (default) or sec; prices come from yfinance",
    )
    group = p.add_mutually_exclusive_group(required=True)
    group.add_argument("--tickers", help="comma-separated tickers")
    group.add_argument("--universe", help="refresh the tickers of this universe")
    p.add_argument("--name", help="name of the new universe (default: live-PROVIDER-DATE)")
    p.add_argument(
        "--timeout",
        type=float,
        default=5.0,
        help="seconds to wait for a provider's host before giving up (default 5)",
    )
    p.add_argument("--force", action="store_true", help="replace a refreshed universe of the same name")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``rotation`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        args = parser.parse_args(["app"])
    if args.command == "app":
        from tui.app import run_app

        return run_app(workspace=args.workspace, universe=args.universe)
    from tui import commands

    try:
        code: int = getattr(commands, args.func)(args)
    except commands.USER_ERRORS as exc:
        print(f"rotation {args.command}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("rotation: interrupted; nothing was written.", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    return code


if __name__ == "__main__":
    sys.exit(main())
