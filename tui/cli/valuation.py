"""``rotation valuation``: the thesis from the data: price / fair value by sector, small vs large."""

from __future__ import annotations

import argparse
from typing import Any

from tui.cli.common import add_command, emit, format_arg, universe_args


def add_parser(sub: Any) -> None:
    p = add_command(sub, "valuation", "sector price / fair value and small vs large caps: the thesis, from the data", run)
    universe_args(p, default="us-all")
    format_arg(p)


def run(args: argparse.Namespace) -> int:
    from screener import group_valuation, load_screen, run_screen, sector_valuation, small_vs_large
    from tui.output import dumps, fmt_money, fmt_num, fmt_pct, records, table
    from universes import load_universe

    universe = load_universe(args.universe, as_of=args.as_of, fundamentals_file=args.fundamentals)
    result = run_screen(universe, load_screen(None))
    tab = result.table
    doc: dict[str, Any] = {
        "universe": universe.name,
        "as_of": universe.as_of.date().isoformat(),
        "count": len(universe),
        "sectors": records(sector_valuation(tab)),
        "groups": records(group_valuation(tab)),
    }
    if universe.dataset == "snapshot":
        small = load_universe("us-small", as_of=universe.as_of).tickers
        large = load_universe("us-large", as_of=universe.as_of).tickers
        doc["small_vs_large"] = small_vs_large(tab.loc[tab.index.intersection(small)], tab.loc[tab.index.intersection(large)])
    else:
        doc["small_vs_large"] = None
    if args.format == "json":
        emit(dumps(doc))
        return 0
    lines = [f"Price / fair value by sector: universe {doc['universe']} ({doc['count']:,}) as of {doc['as_of']}", ""]
    lines.append(
        table(
            [[r["sector"], f"{r['count']:,}", fmt_num(r["median_price_to_fair_value"]), fmt_num(r["capweighted_price_to_fair_value"]), fmt_money(r["market_cap"])] for r in doc["sectors"]],
            ["sector", "count", "median P/FV", "cap-wtd P/FV", "market cap"],
            "lrrrr",
        )
    )
    lines += [
        "",
        table(
            [[r["group"], f"{r['count']:,}", fmt_num(r["median_price_to_fair_value"]), fmt_num(r["capweighted_price_to_fair_value"])] for r in doc["groups"]],
            ["group", "count", "median P/FV", "cap-wtd P/FV"],
            "lrrr",
        ),
    ]
    svl = doc["small_vs_large"]
    if svl:
        keys = ["aggregate_pe", "aggregate_pe_ex_losses", "median_pe", "aggregate_pb", "median_pb", "median_price_to_fair_value"]
        lines += ["", "Small (us-small) vs large (us-large) caps"]
        lines.append(
            table(
                [[k, fmt_num(svl["small"][k]), fmt_num(svl["large"][k]), fmt_num(svl["spread"][k]), fmt_pct(svl["small_discount"][k])] for k in keys],
                ["measure", "small", "large", "spread", "small vs large"],
                "lrrrr",
            )
        )
        lines.append(f"({svl['small']['count']:,} small, {svl['large']['count']:,} large; {svl['losses']}.)")
    emit("\n".join(lines))
    return 0
