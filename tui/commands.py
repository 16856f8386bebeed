"""The sub-commands of ``rotation``: load, compute, print. Heavy modules are imported inside."""

from __future__ import annotations

import argparse
import sys
from typing import Any

import pandas as pd

from optimizer.constraints import ConstraintError
from optimizer.export import ExportError
from optimizer.rotation import OptimizerError
from screener.screens import ScreenError
from tui.output import dumps, fmt_money, fmt_num, fmt_pct, fmt_short, jsonable, records, table
from universes.errors import UniverseError

USER_ERRORS: tuple[type[Exception], ...] = (UniverseError, ScreenError, ConstraintError, OptimizerError, ExportError)

FUNDAMENTAL_ROWS = (
    "revenue",
    "gross_profit",
    "operating_income",
    "net_income",
    "operating_cash_flow",
    "capex",
    "cash",
    "total_assets",
    "total_liabilities",
    "short_term_debt",
    "long_term_debt",
    "total_equity",
    "shares_basic",
)


def emit(text: str) -> None:
    """Print a result to standard output."""
    sys.stdout.write(text if text.endswith("\n") else text + "\n")


def cmd_universes(args: argparse.Namespace) -> int:
    from universes import list_universes

    rows = list_universes()
    if args.format == "json":
        emit(dumps(rows))
    else:
        emit(
            table(
                [(r["name"], r["as_of"], f"{r['count']:,}", r["description"]) for r in rows],
                ["name", "as of", "count", "description"],
                "llrl",
            )
        )
    return 0


def load_universe_from_args(args: argparse.Namespace) -> Any:
    from universes import load_universe

    return load_universe(args.universe, as_of=args.as_of, fundamentals_file=args.fundamentals)


def cmd_show(args: argparse.Namespace) -> int:
    from screener import evidence, load_screen, run_screen
    from universes import find_company

    company, fundamentals = find_company(args.ticker, as_of=args.as_of)
    ticker = str(company["ticker"])
    universe = load_universe_from_args(args)
    card: dict[str, Any] = {
        k: company.get(k)
        for k in (
            "ticker",
            "name",
            "cik",
            "exchange",
            "sector",
            "industry",
            "sic",
            "sic_source",
            "manufacturing",
            "life_sciences",
            "price",
            "price_date",
            "shares",
            "market_cap",
            "adv_usd",
            "adv_shares",
            "fiscal_year",
            "market_cap_problem",
        )
    }
    card["as_of"] = universe.as_of.date().isoformat()
    card["fundamentals"] = records(fundamentals.drop(columns=["ticker"]))
    if ticker in universe.tickers:
        result = run_screen(universe, load_screen(getattr(args, "screen", None)))
        card["evidence"] = evidence(result, ticker)
        card["evidence_universe"] = universe.name
    else:
        card["evidence"] = None
        reason = (
            card["market_cap_problem"] or f"not in the {universe.name} universe on {card['as_of']}"
        )
        card["evidence_note"] = f"No screen evidence: {reason}."
    if args.format == "json":
        emit(dumps(card))
    else:
        emit(render_card(card))
    return 0


def render_card(card: dict[str, Any]) -> str:
    """The company card as text."""
    c = jsonable(card)
    lines = [
        f"{c['ticker']}  {c['name']}",
        f"  {c['exchange'] or '?'} | {c['sector']} / {c['industry']} | SIC {c['sic'] or 'unknown'}"
        f"{' (manufacturing)' if c['manufacturing'] else ''}{' (life sciences)' if c['life_sciences'] else ''}",
        f"  Price {fmt_num(c['price'])} on {c['price_date']} | market cap {fmt_money(c['market_cap'])} | "
        f"shares {fmt_money(c['shares'])} | ADV {fmt_money(c['adv_usd'])}/day | as of {c['as_of']}",
    ]
    if c.get("market_cap_problem"):
        lines.append(f"  Warning: {c['market_cap_problem']}")
    years = c["fundamentals"]
    if years:
        lines.append("")
        headers = ["USD", *[str(y["fiscal_year"]) for y in years]]
        rows = [[k, *[fmt_money(y.get(k)) for y in years]] for k in FUNDAMENTAL_ROWS]
        lines.append(table(rows, headers, "l" + "r" * len(years)))
    ev = c.get("evidence")
    if ev is None:
        lines += ["", c.get("evidence_note", "")]
        return "\n".join(lines)
    fv = ev["fair_value"]
    lines += [
        "",
        f"Fair value {fmt_num(fv['blend'])} per share ({fv['methods_used']} methods, uncertainty {fv['uncertainty']}); "
        f"price / fair value {fmt_num(fv['price_to_fair_value'])}, discount {fmt_pct(fv['discount'])}; "
        f"growth the price implies {fmt_pct(fv['implied_growth'])} {fv['implied_growth_note']}".rstrip(),
    ]
    rows = []
    for key in fv["method_order"]:
        m = fv["methods"][key]
        inputs = ", ".join(f"{k}={fmt_short(v)}" for k, v in m["inputs"].items())
        rows.append([m["label"], fmt_num(m["value"]), inputs])
    lines.append(table(rows, ["method", "per share", "inputs"], "lrl"))
    p = ev["piotroski"]
    lines += ["", f"Piotroski F = {p['score']} / 9 ({p['available']} signals computable)"]
    lines.append(
        table([["pass" if s["pass"] else "fail", s["label"]] for s in p["signals"]], ["", "signal"])
    )
    a = ev["altman"]
    lines += ["", f"Altman {a['model']} = {fmt_num(a['z'])} ({a['zone']})"]
    lines.append(
        table(
            [
                [x["component"], fmt_num(x["value"], 3), fmt_num(x["weight"], 3)]
                for x in a["components"]
            ],
            ["component", "value", "weight"],
            "lrr",
        )
    )
    b = ev["beneish"]
    lines += ["", f"Beneish M = {fmt_num(b['m_score'])} ({b['flag']})"]
    r = ev["ratios"]
    lines.append("Ratios: " + ", ".join(f"{k} {fmt_num(v)}" for k, v in r.items()))
    s = ev["score"]
    lines += [
        "",
        f"Composite {fmt_num(s['composite'], 1)} (quality {fmt_num(s['quality'], 1)}, value {fmt_num(s['value'], 1)}); "
        f"rank {s['rank'] if s['rank'] is not None else '- (filtered out)'} in {c.get('evidence_universe')}",
    ]
    lines.append(
        table(
            [
                [
                    f["label"],
                    fmt_num(f["value"]),
                    fmt_num(f["weight"], 1),
                    fmt_pct(f["percentile"], 0),
                    fmt_num(f["contribution"], 1),
                ]
                for f in s["factors"]
            ],
            ["factor", "value", "weight", f"pct ({s['peer_group']})", "points"],
            "lrrrr",
        )
    )
    return "\n".join(lines)


SCREEN_TABLE = (
    ("rank", "rank", "r"),
    ("ticker", "ticker", "l"),
    ("name", "name", "l"),
    ("sector", "sector", "l"),
    ("market_cap", "mkt cap", "r"),
    ("price", "price", "r"),
    ("fair_value", "fair val", "r"),
    ("price_to_fair_value", "P/FV", "r"),
    ("uncertainty", "unc", "l"),
    ("piotroski_f", "F", "r"),
    ("altman_z", "Z", "r"),
    ("quality", "quality", "r"),
    ("composite", "score", "r"),
)


def screen_rows_text(rows: pd.DataFrame) -> str:
    """Ranked screen rows as a text table."""

    def cell(key: str, v: Any) -> str:
        if key == "market_cap":
            return fmt_money(v)
        if key == "name":
            return str(v)[:28]
        if key in ("quality", "composite"):
            return fmt_num(v, 1)
        if key in ("rank", "piotroski_f"):
            return str(v)
        if key in ("ticker", "sector", "uncertainty"):
            return str(v)
        return fmt_num(v)

    body = [[cell(k, r[k]) for k, _, _ in SCREEN_TABLE] for _, r in rows.iterrows()]
    return table(body, [h for _, h, _ in SCREEN_TABLE], "".join(a for _, _, a in SCREEN_TABLE))


def screen_output_columns(frame: pd.DataFrame) -> list[str]:
    """Columns of the JSON/CSV screen output: the contract first, then all the evidence."""
    from screener import CONTRACT_COLUMNS

    skip = {"passes"}
    return list(CONTRACT_COLUMNS) + [
        c for c in frame.columns if c not in CONTRACT_COLUMNS and c not in skip
    ]


def cmd_screen(args: argparse.Namespace) -> int:
    from screener import load_screen, run_screen

    universe = load_universe_from_args(args)
    screen = load_screen(args.screen)
    result = run_screen(universe, screen)
    top = args.top if args.top is not None else (25 if args.format == "table" else None)
    if top is not None and top < 0:
        raise ScreenError("--top must be 0 or more.")
    rows = result.top(top)
    if args.format == "json":
        emit(dumps(records(rows[screen_output_columns(rows)])))
    elif args.format == "csv":
        rows[screen_output_columns(rows)].to_csv(sys.stdout, index=False)
    else:
        header = (
            f"{screen.name} | universe {universe.name} ({len(universe):,} companies) as of "
            f"{universe.as_of.date()} | {len(result.ranked):,} pass the filters"
        )
        emit(header + "\n\n" + screen_rows_text(rows))
        if top is not None and len(result.ranked) > top:
            emit(
                f"\n... {len(result.ranked) - top:,} more: use --top N, or --format csv/json for all."
            )
    return 0


def cmd_valuation(args: argparse.Namespace) -> int:
    from screener import group_valuation, load_screen, run_screen, sector_valuation, small_vs_large
    from universes import load_universe

    universe = load_universe_from_args(args)
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
        doc["small_vs_large"] = small_vs_large(
            tab.loc[tab.index.intersection(small)], tab.loc[tab.index.intersection(large)]
        )
    else:
        doc["small_vs_large"] = None
    if args.format == "json":
        emit(dumps(doc))
        return 0
    lines = [
        f"Price / fair value by sector: universe {doc['universe']} ({doc['count']:,}) as of {doc['as_of']}",
        "",
    ]
    lines.append(
        table(
            [
                [
                    r["sector"],
                    f"{r['count']:,}",
                    fmt_num(r["median_price_to_fair_value"]),
                    fmt_num(r["capweighted_price_to_fair_value"]),
                    fmt_money(r["market_cap"]),
                ]
                for r in doc["sectors"]
            ],
            ["sector", "count", "median P/FV", "cap-wtd P/FV", "market cap"],
            "lrrrr",
        )
    )
    lines += [
        "",
        table(
            [
                [
                    r["group"],
                    f"{r['count']:,}",
                    fmt_num(r["median_price_to_fair_value"]),
                    fmt_num(r["capweighted_price_to_fair_value"]),
                ]
                for r in doc["groups"]
            ],
            ["group", "count", "median P/FV", "cap-wtd P/FV"],
            "lrrr",
        ),
    ]
    svl = doc["small_vs_large"]
    if svl:
        keys = [
            "aggregate_pe",
            "aggregate_pe_ex_losses",
            "median_pe",
            "aggregate_pb",
            "median_pb",
            "median_price_to_fair_value",
        ]
        lines += ["", "Small (us-small) vs large (us-large) caps"]
        lines.append(
            table(
                [
                    [
                        k,
                        fmt_num(svl["small"][k]),
                        fmt_num(svl["large"][k]),
                        fmt_num(svl["spread"][k]),
                        fmt_pct(svl["small_discount"][k]),
                    ]
                    for k in keys
                ],
                ["measure", "small", "large", "spread", "small vs large"],
                "lrrrr",
            )
        )
        lines.append(
            f"({svl['small']['count']:,} small, {svl['large']['count']:,} large; {svl['losses']}.)"
        )
    emit("\n".join(lines))
    return 0


def cmd_optimize(args: argparse.Namespace) -> int:
    from tui.optimize_command import run_optimize_command

    return run_optimize_command(args)


def cmd_refresh(args: argparse.Namespace) -> int:
    from universes.refresh import run_refresh_command

    return run_refresh_command(args)
