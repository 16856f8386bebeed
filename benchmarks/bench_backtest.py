"""Benchmark: one walk-forward backtest on one core, and a sweep of 32 variants scaled out.

Targets (issue 14), on the 2-core reference machine:

* one backtest of us-small-manufacturing, monthly from the first possible date to 2024-03-08,
  with the full optimiser (shipped constraints and costs, round lots of 100 shares; with
  ``--impact`` also the square-root market impact, which makes each solve a power-cone
  program): under 20 s on ONE core (this process is pinned to one CPU and runs the
  numerical libraries single-threaded); seconds per rebalance and where the time goes;
* a sweep of 32 variants (benchmarks/sweep32.toml: two screens x four risk aversions x four
  name caps): wall time at 1 and 2 workers in local processes and on a 2-worker Dask
  LocalCluster, the parallel efficiency (time at 1 worker / (2 x time at 2 workers)), and a
  check that every executor gave the same bytes.

The machine is shared: figures are medians of ``--repeat`` runs of the single backtest, with
the process's CPU time beside the wall time (other work on the core shows as the difference);
the sweep runs once per executor (``--skip-sweep`` leaves it out).
"""

from __future__ import annotations

import json
import os
import statistics
import time
from dataclasses import replace
from pathlib import Path

from _common import machine, parser, report

import tui  # noqa: F401  (single-threaded numerical libraries, before numpy loads)
from optimizer import load_constraints
from tui.backtest import BacktestSpec, load_sweep, run_backtest, run_sweep

SWEEP_FILE = Path(__file__).resolve().parent / "sweep32.toml"
STAGES = ("start", "prices", "universe", "screen", "optimizer", "accounting", "evaluation")


def full_spec(impact: bool) -> BacktestSpec:
    s = load_constraints()
    return BacktestSpec(
        frequency="monthly",
        end="2024-03-08",
        settings=s.change(lot_size=100, costs=replace(s.costs, impact=impact)),
    )


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--repeat", type=int, default=3, help="runs of the single backtest (median reported)")
    p.add_argument("--skip-sweep", action="store_true", help="only the single backtest")
    p.add_argument("--impact", action="store_true", help="square-root market impact in the single backtest's costs")
    p.add_argument("--sweep-frequency", choices=("monthly", "quarterly"), default="monthly")
    args = p.parse_args()
    cpus = sorted(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpus[0]})
    runs = []
    for _ in range(args.repeat):
        started, cpu = time.perf_counter(), time.process_time()
        result = run_backtest(full_spec(args.impact))
        runs.append((time.perf_counter() - started, time.process_time() - cpu, result))
    seconds = [r[0] for r in runs]
    cpu_seconds = [r[1] for r in runs]
    median = statistics.median(seconds)
    result = min(runs, key=lambda r: abs(r[0] - median))[2]
    n = len(result.dates)
    stages = {k: result.timings[k] for k in STAGES}
    out: dict[str, object] = {
        "backtest": {
            "universe": result.spec.universe,
            "first_rebalance": result.dates[0].date().isoformat(),
            "end": result.end.date().isoformat(),
            "rebalances": n,
            "seconds_median": median,
            "seconds_runs": seconds,
            "cpu_seconds_median": statistics.median(cpu_seconds),
            "seconds_per_rebalance": median / n,
            "stages_seconds": stages,
            "impact": args.impact,
            "target_seconds": 20.0,
            "cpus": 1,
        },
        "machine": machine(),
        "load_average": os.getloadavg(),
    }
    lines = [
        f"backtest of {result.spec.universe}, monthly {result.dates[0].date()} to {result.end.date()} ({n} rebalances), "
        f"lots of 100, costs {'with' if args.impact else 'without'} impact, one core:",
        f"  median {median:.1f} s over {len(seconds)} runs ({', '.join(f'{s:.1f}' for s in seconds)}); {median / n:.2f} s per rebalance   target < 20 s",
        f"  CPU time of this process: median {statistics.median(cpu_seconds):.1f} s (the machine is shared: wall time includes waiting for the core)",
        "  where the time goes (the median run): " + ", ".join(f"{k} {v:.1f} s" for k, v in stages.items()),
    ]
    os.sched_setaffinity(0, set(cpus))
    if not args.skip_sweep:
        base = BacktestSpec(frequency=args.sweep_frequency, end="2024-03-08")
        specs = load_sweep(SWEEP_FILE, base)
        timed = {}
        documents = {}
        for name, workers, scheduler in (("local, 1 worker", 1, None), ("local, 2 workers", 2, None), ("Dask LocalCluster, 2 workers", 2, "local")):
            sweep = run_sweep(specs, workers=workers, scheduler=scheduler)
            timed[name] = sweep.seconds
            documents[name] = [json.dumps(r.document()) for r in sweep.results]
            deflated = sweep.deflated_sharpe()
            best = sweep.results[sweep.best].spec.label
        one = timed["local, 1 worker"]
        efficiency = {k: one / (2 * v) for k, v in timed.items() if k != "local, 1 worker"}
        identical = all(d == documents["local, 1 worker"] for d in documents.values())
        out["sweep"] = {
            "variants": len(specs),
            "frequency": args.sweep_frequency,
            "rebalances": len(sweep.results[0].dates),
            "seconds": timed,
            "parallel_efficiency": efficiency,
            "identical_results": identical,
            "best": best,
            "deflated_sharpe": deflated,
        }
        lines += [
            f"sweep of {len(specs)} variants ({args.sweep_frequency}, {len(sweep.results[0].dates)} rebalances each):",
            *(f"  {k}: {v:.1f} s" + (f"   parallel efficiency {efficiency[k]:.0%}" if k in efficiency else "") for k, v in timed.items()),
            f"  identical results across executors: {'yes' if identical else 'NO'}",
            f"  best variant: {best}; deflated Sharpe ratio {deflated['dsr']:.3f} given {len(specs)} trials",
        ]
    lines.append(f"load average during the run: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    report(out, args.json, lines)


if __name__ == "__main__":
    main()
