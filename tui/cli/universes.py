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
    lines = [table([(r["name"], r["as_of"], "?" if r["count"] is None else f"{r['count']:,}", r["description"]) for r in rows], ["name", "as of", "count", "description"], "llrl")]
    said: set[str] = set()
    for r in rows:
        notes = [str(n) for n in r.get("notes") or [] if str(n) not in said]  # type: ignore[attr-defined]
        if notes:
            lines += ["", f"{r['name']}: its rules and how they differ from the index they follow" + (" (and the notes above)" if said else "")]
            lines += [f"  - {n}" for n in notes]
            said.update(notes)
    emit("\n".join(lines))
    return 0
