"""``rotation universes``: the universes with their as-of date, size and rules."""

from __future__ import annotations

import argparse
from typing import Any

from tui.cli.common import add_command, emit, format_arg


def add_parser(sub: Any) -> None:
    format_arg(add_command(sub, "universes", "list the universes with their as-of date and size", run))


def run(args: argparse.Namespace) -> int:
    from tui.output import dumps, table
    from universes import list_universes

    rows = list_universes()
    if args.format == "json":
        emit(dumps(rows))
        return 0
    emit(table([(r["name"], r["as_of"], f"{r['count']:,}", r["description"]) for r in rows], ["name", "as of", "count", "description"], "llrl"))
    return 0
