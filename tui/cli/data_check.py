"""``rotation data-check``: every correction and flag the integrity layer made, with evidence."""

from __future__ import annotations

import argparse
from typing import Any

from tui.cli.common import add_command, emit, format_arg, universe_args


def add_parser(sub: Any) -> None:
    p = add_command(
        sub,
        "data-check",
        "the integrity report: every correction and flag in the data, with its evidence and counts per check",
        run,
    )
    universe_args(p, default="us-all")
    p.add_argument("--ticker", help="only this company's rows")
    format_arg(p)


def run(args: argparse.Namespace) -> int:
    from tui.output import dumps, fmt_short, table
    from universes import integrity_report, load_universe, normalize_ticker

    universe = load_universe(args.universe, as_of=args.as_of, fundamentals_file=args.fundamentals)
    report = integrity_report(universe)
    if args.ticker:
        wanted = normalize_ticker(args.ticker)
        report["rows"] = [r for r in report["rows"] if r["ticker"] == wanted]
        report["excluded"] = [r for r in report["excluded"] if r["ticker"] == wanted]
    if args.format == "json":
        emit(dumps(report))
        return 0
    lines = [
        f"Data integrity: universe {report['universe']} ({report['companies']:,} companies) as of {report['as_of']}, "
        f"dataset {report['dataset']}; {report['companies_with_flags']:,} members carry a correction or flag, "
        f"{len(report['excluded']):,} companies of the dataset are left out by a check.",
        "",
    ]
    counts = report["counts"]
    actions = sorted({a for per in counts.values() for a in per})
    lines.append(table([[check, *[f"{per.get(a, 0):,}" for a in actions]] for check, per in counts.items()], ["check", *actions], "l" + "r" * len(actions)))
    rows = report["rows"]
    if rows:
        lines += ["", f"{len(rows):,} rows (raw -> corrected, and why):"]
        body = [
            [
                r["ticker"],
                "" if r.get("fiscal_year") is None else str(r["fiscal_year"]),
                str(r.get("field") or ""),
                f"{r['check']}: {r['action']}",
                f"{fmt_short(r.get('raw'))} -> {fmt_short(r.get('corrected'))}" if r["action"] == "corrected" else fmt_short(r.get("raw")),
                str(r.get("evidence") or ""),
            ]
            for r in rows
        ]
        lines.append(table(body, ["ticker", "FY", "field", "check", "raw -> corrected", "evidence"], "llllrl"))
    emit("\n".join(lines))
    return 0
