"""``rotation refresh``: fetch live data through OpenBB into a new dated universe."""

from __future__ import annotations

import argparse
from typing import Any

from tui.cli.common import add_command


def add_parser(sub: Any) -> None:
    p = add_command(sub, "refresh", "fetch live data through OpenBB into a new dated universe", run)
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


def run(args: argparse.Namespace) -> int:
    from universes.refresh import run_refresh_command

    return run_refresh_command(args)
