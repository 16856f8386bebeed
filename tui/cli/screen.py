"""``rotation screen``: rank a universe by discount to fair value and balance-sheet quality."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from tui.cli.common import add_command, emit, format_arg, open_session, screen_arg, universe_args

#: The text table: (column, header, alignment).
SCREEN_TABLE = (
    ("rank", "rank", "r"),
    ("ticker", "ticker", "l"),
    ("name", "name", "l"),
    ("sector", "sector", "l"),
    ("market_cap", "mkt cap", "r"),
    ("price", "price", "r"),
    ("fair_value", "fair val", "r"),
    ("price_to_fair_value", "P/FV", "r"),
    ("uncertainty", "uncertainty", "l"),
    ("piotroski_display", "F", "r"),
    ("altman_z", "Z", "r"),
    ("quality", "quality", "r"),
    ("composite", "score", "r"),
    ("flags", "red flags", "l"),
)


def add_parser(sub: Any) -> None:
    p = add_command(sub, "screen", "rank a universe by discount to fair value and balance-sheet quality", run)
    universe_args(p)
    screen_arg(p)
    p.add_argument("--top", type=int, default=None, help="show the first N rows (default: 25 for tables, all otherwise)")
    format_arg(p, ("table", "csv", "json"))


def screen_rows_text(rows: Any) -> str:
    """Ranked screen rows as a text table."""
    from tui.output import fmt_money, fmt_num, table

    def cell(key: str, v: Any) -> str:
        if key == "market_cap":
            return fmt_money(v)
        if key == "name":
            return str(v)[:28]
        if key in ("quality", "composite"):
            return fmt_num(v, 1)
        if key in ("rank", "piotroski_f", "piotroski_display"):
            return str(v)
        if key in ("ticker", "sector", "uncertainty", "flags"):
            return "" if v is None or v != v else str(v)
        return fmt_num(v)

    body = [[cell(k, r[k]) for k, _, _ in SCREEN_TABLE] for _, r in rows.iterrows()]
    return table(body, [h for _, h, _ in SCREEN_TABLE], "".join(a for _, _, a in SCREEN_TABLE))


def screen_output_columns(frame: Any) -> list[str]:
    """Columns of the JSON/CSV screen output: the contract first, then all the evidence."""
    from screener import CONTRACT_COLUMNS

    return list(CONTRACT_COLUMNS) + [c for c in frame.columns if c not in CONTRACT_COLUMNS and c != "passes"]


def run(args: argparse.Namespace) -> int:
    from tui.output import clean_floats, dumps, records
    from universes.errors import UserError

    if args.top is not None and args.top < 0:
        raise UserError("--top must be 0 or more.")
    session = open_session(args)
    result = session.screened
    top = args.top if args.top is not None else (25 if args.format == "table" else None)
    rows = result.top(top)
    if args.format == "json":
        emit(dumps(records(rows[screen_output_columns(rows)])))
    elif args.format == "csv":
        clean_floats(rows[screen_output_columns(rows)]).to_csv(sys.stdout, index=False)
    else:
        u = session.universe
        header = (
            f"{session.screen.name} | universe {u.name} ({len(u):,} companies) as of "
            f"{u.as_of.date()} | {len(result.ranked):,} pass the filters"
        )
        emit(header + "\n\n" + screen_rows_text(rows))
        if top is not None and len(result.ranked) > top:
            emit(f"\n... {len(result.ranked) - top:,} more: use --top N, or --format csv/json for all.")
    return 0
