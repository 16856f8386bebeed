"""``rotation valuation``: the thesis monitor: small vs large caps, manufacturers vs utilities vs
everything else, and (``--history``) the same figures month by month, point in time."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from tui.cli.common import add_command, emit, format_arg, universe_args
from tui.thesis import SNAPSHOT_HISTORY_START, monitor_for, monthly_history, render_monitor

if TYPE_CHECKING:
    pass



def add_parser(sub: Any) -> None:
    p = add_command(
        sub,
        "valuation",
        "the thesis monitor: small vs large caps and manufacturers vs utilities, from the data (point in time)",
        run,
    )
    universe_args(p, default="us-all")
    p.add_argument(
        "--history",
        action="store_true",
        help="the same figures at every month end over the data's span, point in time (1-2 s a month)",
    )
    p.add_argument("--start", help=f"first month of the history (YYYY-MM; default {SNAPSHOT_HISTORY_START[:7]} for the snapshot)")
    format_arg(p)








def run(args: argparse.Namespace) -> int:
    if args.history:
        return _run_history(args)
    from tui.output import dumps, records

    doc = monitor_for(args.universe, args.as_of, args.fundamentals)
    if args.format == "json":
        svl = doc["small_vs_large"]
        out = {
            **doc,
            "as_of": doc["as_of"].date().isoformat(),
            "groups": records(doc["groups"]),
            "sectors": records(doc["sectors"]),
            "fiscal_years": records(doc["fiscal_years"]) if doc["fiscal_years"] is not None else None,
        }
        if svl is not None:
            out["small_vs_large"] = {
                **svl,
                "aligned": {**svl["aligned"], "window": [d.date().isoformat() for d in svl["aligned"]["window"]]},
            }
        emit(dumps(out))
        return 0
    emit(render_monitor(doc))
    return 0








def _run_history(args: argparse.Namespace) -> int:
    import sys
    import time

    from tui.output import dumps, fmt_num, fmt_pct, records, table

    started = time.perf_counter()

    def tell(when: Any) -> None:
        if args.format == "table" and sys.stderr.isatty():
            sys.stderr.write(f"\r{when.date()} ...")
            sys.stderr.flush()

    history = monthly_history(args.universe, args.start, tell)
    seconds = time.perf_counter() - started
    if args.format == "json":
        from screener.valuation import history_chart

        emit(dumps({"universe": args.universe, "seconds": round(seconds, 1), "history": records(history), "chart": history_chart(history)}))
        return 0
    if sys.stderr.isatty():
        sys.stderr.write("\r" + " " * 20 + "\r")
    rows = [
        [r["as_of"].date().isoformat(), f"{r['small_count']:,}", f"{r['large_count']:,}",
         fmt_num(r["small_aggregate_pe_ex_losses"]), fmt_num(r["large_aggregate_pe_ex_losses"]),
         fmt_num(r["small_median_pb"]), fmt_num(r["large_median_pb"]),
         fmt_pct(r["small_aggregate_ebit_to_ev"]), fmt_pct(r["large_aggregate_ebit_to_ev"]),
         fmt_num(r["manufacturers_median_price_to_fair_value"]), fmt_num(r["utilities_median_price_to_fair_value"]),
         fmt_num(r["everything_else_median_price_to_fair_value"])]
        for r in history.to_dict("records")
    ]
    headers = ["as of", "small", "large", "P/E small", "P/E large", "P/B small", "P/B large", "EBIT/EV small",
               "EBIT/EV large", "P/FV mfg", "P/FV util", "P/FV other"]
    lines = [
        f"The thesis month by month, point in time: universe {args.universe} ({len(history)} dates, {seconds:.0f} s)",
        "P/E aggregate of profitable companies; P/B median; EBIT/EV aggregate; P/FV median price / fair value.",
        "",
        table(rows, headers, "lrrrrrrrrrrr"),
    ]
    emit("\n".join(lines))
    return 0
