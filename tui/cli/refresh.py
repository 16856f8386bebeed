"""``rotation refresh``: fetch live data through OpenBB into a new dated universe."""

from __future__ import annotations

import argparse
import sys
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


def progress(i: int, n: int, ticker: str, status: str, width: int = 24) -> None:
    """One line per ticker on stderr: a bar, the count and what happened."""
    done = round(width * i / max(n, 1))
    sys.stderr.write(f"[{'#' * done}{'.' * (width - done)}] {i}/{n} {ticker}: {status}\n")
    sys.stderr.flush()


def run(args: argparse.Namespace) -> int:
    from universes.refresh import (
        PRICE_PROVIDER,
        check_reachable,
        fetch_start,
        fetch_ticker,
        import_openbb,
        prepare_refresh,
        refresh,
    )

    provider = args.provider
    name, tickers, known, today = prepare_refresh(provider, args.tickers, args.universe, args.name, args.force)
    check_reachable(provider, args.timeout)
    if PRICE_PROVIDER[provider] != provider:
        check_reachable(PRICE_PROVIDER[provider], args.timeout)
    sys.stderr.write(f"Loading OpenBB ({provider})...\n")
    obb = import_openbb()
    start = fetch_start(today)
    path, failures, missing = refresh(
        provider, tickers, name, lambda t: fetch_ticker(obb, provider, t, start), known, today, overwrite=args.force, progress=progress
    )
    for ticker, why in failures.items():
        print(f"failed: {ticker}: {why}", file=sys.stderr)
    for ticker, fields in missing.items():
        print(f"{ticker}: {provider} gave no {', '.join(fields)}", file=sys.stderr)
    if path is None:
        print("Nothing was written: no ticker had usable statements and prices.", file=sys.stderr)
        return 1
    print(f"Wrote universe {name!r} ({len(tickers) - len(failures)} of {len(tickers)} tickers) to {path}")
    print(f"Use it with --universe {name}; `rotation universes` lists it.")
    return 0
