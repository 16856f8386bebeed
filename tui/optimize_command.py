"""``rotation optimize``: screen, optimise, print the trade list, optionally export it."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import pandas as pd

from tui.output import dumps, fmt_money, fmt_num, fmt_pct, records, table

EXIT_INFEASIBLE = 1


def prepare(args: argparse.Namespace) -> tuple[Any, Any, Any, Any]:
    """Universe, screen result, holdings and settings from the command line."""
    from optimizer import load_constraints
    from screener import load_screen, run_screen
    from universes import load_universe, open_dataset
    from universes.holdings import read_holdings

    universe = load_universe(args.universe, as_of=args.as_of, fundamentals_file=args.fundamentals)
    screen = run_screen(universe, load_screen(args.screen))
    settings = load_constraints(args.constraints)
    holdings = None
    if args.holdings:
        known = open_dataset(universe.dataset).companies
        holdings = read_holdings(args.holdings, known, sheet=args.sheet, ignore_unknown=args.ignore_unknown)
    return universe, screen, holdings, settings


def result_document(result: Any, universe: Any) -> dict[str, Any]:
    """The JSON contract of ``rotation optimize``."""
    held = result.positions()
    weights = held.reset_index(names="ticker")[["ticker", "name", "sector", "weight_before", "weight_after", "alpha", "composite", "binding"]]
    trades = result.trades.trades[["ticker", "side", "shares", "price", "notional", "est_cost", "reason", "name", "weight_before", "weight_after"]]
    integer = None
    if result.integer is not None:
        r = result.integer
        integer = {"relaxed_objective": r.relaxed_objective, "objective": r.objective, "gap": r.gap, "rounds": r.rounds, "names": r.names, "exact": r.exact}
    return {
        "status": result.status,
        "objective": result.objective,
        "solve_ms": result.solve_ms,
        "solver": result.solver,
        "as_of": universe.as_of.date().isoformat(),
        "universe": universe.name,
        "stats": result.stats,
        "cash_before": result.trades.cash_before,
        "cash_after": result.trades.cash_after,
        "est_cost_total": result.trades.costs,
        "weights": records(weights),
        "trades": records(trades),
        "sectors": records(result.sectors),
        "manufacturing": result.manufacturing,
        "constraints": records(result.constraints),
        "integer": integer,
        "notes": list(result.notes),
    }


def render(result: Any, universe: Any, screen: Any) -> str:
    """The optimisation as text: summary, sectors, binding constraints, trades."""
    s = result.stats
    t = result.trades
    lines = [
        f"Rotation on {universe.name} ({len(screen.ranked):,} screened candidates) as of {universe.as_of.date()}: {result.status}, "
        f"{result.solver} {result.solve_ms:.0f} ms",
        f"Portfolio value {fmt_money(t.portfolio_value)} | {s['names']} names | expected alpha {fmt_pct(s['expected_alpha'], 2)} | "
        f"volatility {fmt_pct(s['volatility'])} | tracking error {fmt_pct(s['tracking_error'])} | beta {fmt_num(s['beta'])}",
        f"Trades: {len(t.trades)} | buys {fmt_money(t.buys)} | sells {fmt_money(t.sells)} | turnover {fmt_pct(t.turnover)} | "
        f"est. costs {fmt_money(t.costs)} | cash {fmt_money(t.cash_before)} -> {fmt_money(t.cash_after)}",
    ]
    if result.integer is not None and not result.integer.exact:
        lines.append(f"Max names / min position by relax-and-fix: {result.integer.names} names, gap to the relaxed bound {fmt_pct(result.integer.gap, 3)}")
    lines += ["", table(
        [[r["sector"], fmt_pct(r["before"]), fmt_pct(r["after"]), fmt_pct(r["min"]) if pd.notna(r["min"]) else "", fmt_pct(r["max"]) if pd.notna(r["max"]) else ""] for _, r in result.sectors.iterrows()],
        ["sector", "before", "after", "min", "max"], "lrrrr")]
    m = result.manufacturing
    lines.append(f"Manufacturing (SIC 2000-3999): {fmt_pct(m['before'])} -> {fmt_pct(m['after'])}" + (f" (min {fmt_pct(m['min'])})" if m["min"] is not None else ""))
    c = result.constraints
    binding = c[c["binding"]]
    if len(binding):
        lines += ["", "Binding constraints (objective gained per 1 percentage point of loosening):"]
        lines.append(table([[r["name"], r["setting"], "-" if pd.isna(r["shadow_price"]) else f"{1e4 * r['shadow_price']:.2f} bp"] for _, r in binding.iterrows()], ["constraint", "setting", "worth"], "llr"))
    lines += ["", table(
        [[r.ticker, str(r.name)[:26], r.side, f"{r.shares:,.0f}", fmt_num(r.price), fmt_money(r.notional), fmt_num(r.est_cost), fmt_pct(r.weight_after, 2), r.reason] for r in t.trades.itertuples()],
        ["ticker", "name", "side", "shares", "price", "notional", "cost", "weight", "reason"], "lllrrrrrl")]
    for note in result.notes:
        lines.append(f"Note: {note}")
    return "\n".join(lines)


def run_optimize_command(args: argparse.Namespace) -> int:
    from optimizer import InfeasibleError, RotationOptimizer
    from optimizer.export import ExportError, basket_path, export_rotation
    from tui.workbench import export_context

    if args.capital is not None and args.capital <= 0:
        raise ExportError("--capital must be a positive amount of USD.")
    if args.out:
        out = Path(args.out).expanduser()
        for target in (out, basket_path(out)):
            if target.exists() and not args.force:
                raise ExportError(f"{target} already exists. Use --force to replace it, or choose another --out.")
        if out.suffix.lower() != ".xlsx":
            raise ExportError(f"{out}: the workbook must end in .xlsx.")
        if not out.parent.is_dir():
            raise ExportError(f"Folder {out.parent} does not exist. Create it first or choose another --out.")
    universe, screen, holdings, settings = prepare(args)
    optimizer = RotationOptimizer(universe, screen, holdings=holdings, capital=args.capital)
    try:
        result = optimizer.solve(settings)
    except InfeasibleError as exc:
        print(f"rotation optimize: {exc}", file=sys.stderr)
        print("Nothing was written. Change the constraints named above and run again.", file=sys.stderr)
        return EXIT_INFEASIBLE
    written: list[str] = []
    if args.out:
        label = holdings.source if holdings is not None else f"all cash, {optimizer.portfolio_value:,.0f} USD"
        screen_label = screen.screen.name + (f" ({args.screen})" if args.screen else "")
        constraints_label = args.constraints or "shipped defaults (optimizer/constraints.toml)"
        ctx = export_context(universe, screen_label, label, constraints_label)
        xlsx, basket = export_rotation(args.out, result, screen, ctx, overwrite=args.force)
        written = [str(xlsx), str(basket)]
    if args.format == "json":
        doc = result_document(result, universe)
        doc["files"] = written
        print(dumps(doc))
    else:
        print(render(result, universe, screen))
        for f in written:
            print(f"Wrote {f}")
    return 0
