"""``rotation backtest``: would the screen have worked? A point-in-time walk-forward backtest,
or a sweep of variants (``--sweep FILE.toml``), with a workbook (``--out``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from tui.cli.common import add_command, emit, format_arg, screen_arg


def add_parser(sub: Any) -> None:
    p = add_command(sub, "backtest", "backtest the screen and the rotation walk-forward, point in time", run)
    p.add_argument("--universe", default="us-small-manufacturing", help="universe name (default: us-small-manufacturing)")
    screen_arg(p)
    p.add_argument("--constraints", help="constraints .toml (default: the shipped one)")
    p.add_argument("--holdings", help="start from these holdings (.csv/.xlsx) instead of cash")
    p.add_argument("--sheet", help="worksheet of the holdings workbook (default: the first)")
    p.add_argument("--ignore-unknown", action="store_true", help="leave holdings outside the data out instead of failing")
    p.add_argument("--capital", help="new cash in USD (default 1,000,000 without --holdings, 0 with them)")
    p.add_argument("--start", help="first rebalance, YYYY-MM-DD (default: the first possible date in the data)")
    p.add_argument("--end", help="last valuation date, YYYY-MM-DD (default: the end of the data)")
    p.add_argument("--frequency", choices=("monthly", "quarterly"), default="monthly", help="rebalance at each month's or quarter's last session (default: monthly)")
    p.add_argument("--cash-rate", type=float, default=None, help="yearly rate cash earns, also the risk-free rate (default 0.02)")
    p.add_argument("--delisting-return", type=float, default=None, help="return of a held company that stops reporting or trading, e.g. -0.3 (default: none)")
    p.add_argument("--calibrate-ic", action="store_true", help="set the optimiser's alpha IC from the composite's rank IC realised so far")
    p.add_argument("--sweep", help="a sweep file (.toml): every combination of its screens and constraint settings")
    p.add_argument("--workers", type=int, default=None, help="worker processes for a sweep (default: the CPUs available)")
    p.add_argument("--scheduler", help="run the sweep on Dask: 'local' (a LocalCluster) or a scheduler address (needs the dask extra)")
    p.add_argument("--out", help="write the workbook (.xlsx): equity and drawdown charts, per-period holdings (the best variant of a sweep)")
    p.add_argument("--force", action="store_true", help="overwrite an existing workbook")
    format_arg(p)


def base_spec(args: argparse.Namespace) -> Any:
    """The backtest the arguments describe."""
    from optimizer import load_constraints
    from screener import load_screen
    from tui.backtest import DEFAULT_CASH_RATE, BacktestSpec, dataset_of
    from tui.session import parse_money
    from universes import open_dataset
    from universes.holdings import read_holdings

    holdings = None
    if args.holdings:
        known = open_dataset(dataset_of(args.universe)).companies
        holdings = read_holdings(args.holdings, known, sheet=args.sheet, ignore_unknown=args.ignore_unknown)
    return BacktestSpec(
        universe=args.universe,
        screen=load_screen(args.screen),
        settings=load_constraints(args.constraints),
        frequency=args.frequency,
        start=args.start,
        end=args.end,
        capital=parse_money(args.capital) if args.capital is not None else None,
        holdings=holdings,
        cash_rate=DEFAULT_CASH_RATE if args.cash_rate is None else args.cash_rate,
        delisting_return=args.delisting_return,
        calibrate_ic=args.calibrate_ic,
        screen_label=args.screen or "",
        constraints_label=args.constraints or "",
    )


def check_out(args: argparse.Namespace) -> None:
    """Refuse an ``--out`` that cannot be written before anything is computed."""
    from tui.export import ExportError, check_target

    out = Path(args.out).expanduser()
    if out.suffix.lower() != ".xlsx":
        raise ExportError(f"{out}: the workbook must end in .xlsx.")
    check_target(out, args.force)


def run(args: argparse.Namespace) -> int:
    from tui.backtest import BacktestError, export_backtest, load_sweep, run_backtest, run_sweep
    from tui.output import dumps

    if args.out:
        check_out(args)
    if args.workers is not None and args.workers < 1:
        raise BacktestError(f"--workers must be 1 or more (got {args.workers}).")
    if (args.workers or args.scheduler) and not args.sweep:
        raise BacktestError("--workers and --scheduler run a sweep: add --sweep FILE.toml.")
    spec = base_spec(args)
    if args.sweep:
        sweep = run_sweep(load_sweep(args.sweep, spec), workers=args.workers, scheduler=args.scheduler)
        result, doc, text = sweep.results[sweep.best], sweep.document(), render_sweep(sweep)
    else:
        result = run_backtest(spec, progress if sys.stderr.isatty() else None)
        doc, text = result.document(), render(result)
    written = str(export_backtest(args.out, result, overwrite=args.force)) if args.out else None
    if args.format == "json":
        emit(dumps({**doc, "file": written}))
    else:
        best = " (the best variant)" if args.sweep else ""
        emit(text + (f"\nWrote {written}{best}" if written else ""))
    return 0


def progress(done: int, total: int, when: Any) -> None:
    """One line on the terminal, rewritten after each rebalance."""
    end = "\n" if done == total else ""
    print(f"\rrebalance {done}/{total} ({when.date()})", end=end, file=sys.stderr, flush=True)


def render(result: Any) -> str:
    """A backtest as text: what ran, the banner, performance, trading, signals, the canary."""
    from tui.backtest import BENCHMARK_LABELS, BENCHMARKS, canary_line, title_line
    from tui.output import fmt_money, fmt_num, fmt_pct, table

    spec = result.spec
    m, rel, t = result.metrics, result.relative, result.trading
    start = spec.holdings.source if spec.holdings is not None else "cash"
    lines = [
        title_line(result),
        f"Start: {start}, {fmt_money(result.periods['value'].iloc[0])} | cash earns {fmt_pct(spec.cash_rate)} a year | dividends to cash | "
        f"costs as the trade list | lots of {spec.settings.lot_size}",
        "",
        result.banner,
    ]
    if result.partial_note:
        lines += ["", result.partial_note]
    lines += [
        "",
        table(
            [
                [BENCHMARK_LABELS[p], fmt_pct(m.loc[p, "cagr"]), fmt_pct(m.loc[p, "volatility"]), fmt_num(m.loc[p, "sharpe"]),
                 fmt_num(m.loc[p, "sortino"]), fmt_pct(m.loc[p, "max_drawdown"]), fmt_pct(m.loc[p, "total_return"])]
                for p in ("rotation", *BENCHMARKS)
            ],
            ["portfolio", "CAGR", "volatility", "Sharpe", "Sortino", "max drawdown", "total"],
            "lrrrrrr",
        ),
        "",
        table(
            [[BENCHMARK_LABELS[b], fmt_pct(rel.loc[b, "active_cagr"]), fmt_pct(rel.loc[b, "tracking_error"]), fmt_num(rel.loc[b, "information_ratio"])] for b in BENCHMARKS],
            ["rotation against", "active CAGR", "tracking error", "information ratio"],
            "lrrr",
        ),
        "",
        f"Trading: turnover {fmt_pct(t['turnover_first'])} at the first rebalance, {fmt_pct(t['turnover_annual'])} a year after; "
        f"costs {fmt_money(t['costs'])} ({fmt_pct(t['cost_drag'], 2)} of value a year); final value {fmt_money(result.equity['rotation'].iloc[-1])}"
        + (f"; {int(t['not_rebalanced'])} rebalances could not solve" if t["not_rebalanced"] else ""),
        "",
        "Signals against the next period's total return (Spearman rank IC per rebalance over the universe, and inside the",
        "names the screen passes, the only ones the optimiser may buy; quintile spread = top minus bottom fifth):",
        table(
            [
                [str(s), fmt_num(r["mean"], 3), fmt_num(r["t_stat"]), fmt_pct(r["hit_rate"], 0), fmt_pct(r["spread_mean"], 2), fmt_num(r["passing_mean"], 3), fmt_num(r["passing_t_stat"]), f"{int(r['n'])}"]
                for s, r in result.ic_summary.iterrows()
            ],
            ["signal", "mean IC", "t-stat", "IC > 0", "mean spread", "IC passing", "t-stat", "periods"],
            "lrrrrrrr",
        ),
        "",
        canary_line(result),
        "",
        "Attribution against the cap-weighted universe (Brinson-Fachler, summed over periods):",
        attribution_text(result),
    ]
    for note in result.notes:
        lines.append(f"Note: {note}")
    return "\n".join(lines)


def attribution_text(result: Any) -> str:
    """Allocation, selection and interaction by sector, summed over the periods."""
    from tui.output import fmt_pct, table

    a = result.attribution.groupby("sector")[["allocation", "selection", "interaction", "total"]].sum()
    a = a.sort_values("total")
    rows = [[str(s), *(fmt_pct(r[c], 2) for c in ("allocation", "selection", "interaction", "total"))] for s, r in a.iterrows()]
    rows.append(["all sectors", *(fmt_pct(a[c].sum(), 2) for c in ("allocation", "selection", "interaction", "total"))])
    return table(rows, ["sector", "allocation", "selection", "interaction", "total"], "lrrrr")


def render_sweep(sweep: Any) -> str:
    """A sweep as text: each variant, the best one and its deflated Sharpe ratio."""
    from tui.output import fmt_num, fmt_pct, table

    frame = sweep.table()
    best = sweep.results[sweep.best]
    d = sweep.deflated_sharpe()
    lines = [
        f"Sweep of {len(frame)} variants on {best.spec.universe}, {best.spec.frequency}, {best.dates[0].date()} to {best.end.date()}: "
        f"{sweep.seconds:.1f} s on {sweep.workers} worker{'s' if sweep.workers > 1 else ''} ({sweep.executor})",
        "",
        table(
            [[("* " if i == sweep.best else "  ") + str(r.label), fmt_pct(r.cagr), fmt_num(r.sharpe), fmt_pct(r.max_drawdown), fmt_pct(r.turnover_annual, 0), fmt_pct(r.active_cagr), fmt_num(r.information_ratio)] for i, r in enumerate(frame.itertuples())],
            ["variant", "CAGR", "Sharpe", "max DD", "turnover/yr", "vs universe CW", "IR"],
            "lrrrrrr",
        ),
        "",
        f"Best (*): Sharpe {fmt_num(d['annual_sharpe'])} a year. Deflated Sharpe ratio given {int(d['n_trials'])} variants tried: "
        f"{fmt_num(d['dsr'], 3)} (the probability that its true Sharpe ratio is above zero; the best of {int(d['n_trials'])} "
        f"variants with no skill would show {fmt_num(d['benchmark_sharpe'] * 252 ** 0.5)} a year).",
        "",
        best.banner,
    ]
    return "\n".join(lines)
