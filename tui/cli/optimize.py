"""``rotation optimize``: screen, optimise, print the trade list, optionally export it."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from tui.cli import EXIT_INFEASIBLE
from tui.cli.common import add_command, emit, format_arg, open_session, screen_arg, universe_args


def add_parser(sub: Any) -> None:
    p = add_command(sub, "optimize", "optimise the rotation portfolio and print the trade list", run)
    universe_args(p)
    screen_arg(p)
    p.add_argument("--holdings", help="current holdings (.csv/.xlsx with ticker and shares; optional cash line)")
    p.add_argument("--sheet", help="worksheet of the holdings workbook (default: the first)")
    p.add_argument(
        "--ignore-unknown",
        action="store_true",
        help="keep holdings outside the data as untradeable instead of failing",
    )
    p.add_argument(
        "--capital",
        help="new cash in USD (250000, 250k, 1.5m): the cash to invest without --holdings "
        "(default 1,000,000), added to the holdings' cash with them (default 0)",
    )
    p.add_argument("--constraints", help="constraints .toml (default: the shipped one)")
    p.add_argument("--out", help="write the trade list workbook (.xlsx) and a broker basket CSV beside it")
    p.add_argument("--force", action="store_true", help="overwrite existing output files")
    p.add_argument(
        "--fresh",
        action="store_true",
        help="solve even when an earlier run solved the same inputs with the same code (its result is otherwise read back)",
    )
    format_arg(p)


def check_out(args: argparse.Namespace) -> None:
    """Refuse an ``--out`` that cannot be written before anything is computed."""
    from tui.export import ExportError, basket_path

    out = Path(args.out).expanduser()
    if out.suffix.lower() != ".xlsx":
        raise ExportError(f"{out}: the workbook must end in .xlsx.")
    if not out.parent.is_dir():
        raise ExportError(f"Folder {out.parent} does not exist. Create it first or choose another --out.")
    for target in (out, basket_path(out)):
        if target.exists() and not args.force:
            raise ExportError(f"{target} already exists. Use --force to replace it, or choose another --out.")


def run(args: argparse.Namespace) -> int:
    from tui.output import dumps
    from tui.session import parse_money

    capital = parse_money(args.capital) if args.capital is not None else None
    if args.out:
        check_out(args)
    session = open_session(
        args,
        constraints=args.constraints,
        holdings=args.holdings,
        sheet=args.sheet,
        ignore_unknown=args.ignore_unknown,
        capital=capital,
        solves_once=True,
        keep_solves=not args.fresh,
    )
    outcome = session.solve()
    if outcome.result is None:
        print(f"rotation optimize: {outcome.error}", file=sys.stderr)
        print("Nothing was written. Change the constraints named above and run again.", file=sys.stderr)
        return EXIT_INFEASIBLE if outcome.infeasible else 2
    written: list[str] = []
    if args.out:
        xlsx, basket = session.export(args.out, overwrite=args.force)
        written = [str(xlsx), str(basket)]
    if args.format == "json":
        doc = result_document(session)
        doc["files"] = written
        emit(dumps(doc))
    else:
        emit(render(session))
        for f in written:
            emit(f"Wrote {f}")
    return 0


def result_document(session: Any) -> dict[str, Any]:
    """The JSON contract of ``rotation optimize``."""
    from tui.output import records

    result = session.portfolio
    universe = session.universe
    held = result.positions()
    weights = held.reset_index(names="ticker")[
        ["ticker", "name", "sector", "weight_before", "weight_after", "weight_sent", "shares_before", "shares_after", "alpha", "beta", "composite", "binding"]
    ]
    trades = result.trades.trades[["ticker", "side", "shares", "price", "notional", "est_cost", "reason", "name", "weight_before", "weight_after"]]
    integer = None
    if result.integer is not None:
        r = result.integer
        integer = {"relaxed_objective": r.relaxed_objective, "objective": r.objective, "gap": r.gap, "rounds": r.rounds, "names": r.names, "exact": r.exact}
    start = session.holdings_summary
    return {
        "status": result.status,
        "objective": result.objective,
        "solve_ms": result.solve_ms,
        "solver": result.solver,
        "kept": session.latest.kept,
        "as_of": universe.as_of.date().isoformat(),
        "universe": universe.name,
        "start": {
            "source": start.source,
            "positions": start.positions,
            "value": start.value,
            "cash": start.cash,
            "new_cash": start.new_cash,
            "total": start.total,
            "untradeable": list(start.untradeable),
        },
        "stats": result.stats,
        "cash_before": result.trades.cash_before,
        "cash_after": result.trades.cash_after,
        "est_cost_total": result.trades.costs,
        "weights": records(weights),
        "trades": records(trades),
        "sectors": records(result.sectors),
        "themes": records(result.themes),
        "styles": records(result.styles),
        "manufacturing": result.manufacturing,
        "rate_sensitivity": rate_document(session.rate_sensitivity()),
        "constraints": records(result.constraints),
        "integer": integer,
        "problems": list(result.trades.problems),
        "notes": list(result.notes),
    }


def rate_document(rates: dict[str, Any] | None) -> dict[str, Any] | None:
    """The portfolio's rate sensitivity with its per-name contributions as records."""
    from tui.output import records

    if rates is None:
        return None
    return {**rates, "contributions": records(rates["contributions"])}


def render(session: Any) -> str:
    """The optimisation as text: summary, sectors, binding constraints, trades."""
    import pandas as pd

    from tui.output import fmt_money, fmt_num, fmt_pct, rate_line, table, worth

    result, universe, screened = session.portfolio, session.universe, session.screened
    s = result.stats
    t = result.trades
    lines = [
        f"Rotation on {universe.name} ({len(screened.ranked):,} screened candidates) as of {universe.as_of.date()}: {result.status}, "
        f"{result.solver} {result.solve_ms:.0f} ms" + (" (kept from an earlier run of the same inputs; --fresh solves again)" if session.latest.kept else ""),
        f"Start: {session.start_label}",
        f"Target: value {fmt_money(t.portfolio_value)} | {s['names']} names | expected alpha {fmt_pct(s['expected_alpha'], 2)} | "
        f"volatility {fmt_pct(s['volatility'])} | tracking error {fmt_pct(s['tracking_error'])} | beta {fmt_num(s['beta'])}",
        f"After trades: {s['names_sent']} names | expected alpha {fmt_pct(s['expected_alpha_sent'], 2)} | "
        f"tracking error {fmt_pct(s['tracking_error_sent'])} | beta {fmt_num(s['beta_sent'])} | cash {fmt_pct(s['cash_sent'])}",
        f"Trades: {len(t.trades)} | buys {fmt_money(t.buys)} | sells {fmt_money(t.sells)} | turnover {fmt_pct(t.turnover)} | "
        f"est. costs {fmt_money(t.costs)} | cash {fmt_money(t.cash_before)} -> {fmt_money(t.cash_after)}",
    ]
    rates = session.rate_sensitivity()
    if rates is not None:
        lines.append(rate_line(rates))
    if result.integer is not None and not result.integer.exact:
        lines.append(f"Max names / min position by relax-and-fix: {result.integer.names} names, gap to the relaxed bound {fmt_pct(result.integer.gap, 3)}")

    def bound(v: Any) -> str:
        return fmt_pct(v) if v is not None and pd.notna(v) else ""

    def rows(frame: pd.DataFrame, key: str) -> list[list[str]]:
        return [[str(r[key]).replace("_", " "), fmt_pct(r["before"]), fmt_pct(r["after"]), fmt_pct(r["sent"]), bound(r["min"]), bound(r["max"])] for _, r in frame.iterrows()]

    m = result.manufacturing
    sectors = [*rows(result.sectors, "sector"), ["Manufacturing (SIC 2000-3999)", fmt_pct(m["before"]), fmt_pct(m["after"]), fmt_pct(m["sent"]), bound(m["min"]), bound(m["max"])]]
    lines += ["", table(sectors, ["sector", "before", "target", "after trades", "min", "max"], "lrrrrr")]
    if len(result.themes):
        lines += ["", table(rows(result.themes, "theme"), ["theme", "before", "target", "after trades", "min", "max"], "lrrrrr")]
    if len(result.styles):
        lines += [
            "",
            "Style exposures (cross-sectional standard deviations):",
            table(
                [[r["style"], f"{r['before']:+.2f}", f"{r['after']:+.2f}", f"{r['sent']:+.2f}", f"{r['benchmark']:+.2f}"] for _, r in result.styles.iterrows()],
                ["style", "before", "target", "after trades", "benchmark"],
                "lrrrr",
            ),
        ]
    c = result.constraints
    binding = c[c["binding"]]
    if len(binding):
        lines += ["", "Binding constraints (objective gained per 1 percentage point of loosening):"]
        lines.append(
            table(
                [[r["label"], r["setting"], worth(r["shadow_price"], r["shadow_price_note"])] for _, r in binding.iterrows()],
                ["constraint", "setting", "worth"],
                "lll",
            )
        )
    lines += [
        "",
        table(
            [[r.ticker, str(r.name)[:26], r.side, f"{r.shares:,.0f}", fmt_num(r.price), fmt_money(r.notional), fmt_num(r.est_cost), fmt_pct(r.weight_after, 2), r.reason] for r in t.trades.itertuples()],
            ["ticker", "name", "side", "shares", "price", "notional", "cost", "weight after", "reason"],
            "lllrrrrrl",
        ),
    ]
    for problem in t.problems:
        lines.append(f"Problem: {problem}")
    for note in result.notes:
        lines.append(f"Note: {note}")
    return "\n".join(lines)

