"""Benchmark: every metric, fair value and rank for the whole us-all snapshot.

Target (issue 3): 150 ms or less on the 2-core reference machine. The universe is loaded once,
untimed; each timed run computes from scratch the panel, the peer multiples over the dataset's
reference set, each company's rates, the fair-value methods with their bear and bull cases,
the reverse DCF, the uncertainty rating, the quality metrics, the red flags, percentiles,
composite, filters and ranks.

It runs as the app and the command line run the screener: ``tui`` is imported before NumPy
loads, which keeps the numerical libraries on one thread (see ``tui/__init__.py``). With
NumPy's default threads the same screen took 6-13 ms longer in alternating runs (2026-11-27).
"""

from __future__ import annotations

from _common import machine, parser, report, summary, time_ms

import tui  # noqa: F401  (before NumPy loads: the front ends' thread settings)
from screener import load_screen, run_screen
from universes import load_universe


def main() -> None:
    args = parser(__doc__.splitlines()[0]).parse_args()
    universe = load_universe("us-all")
    screen = load_screen()
    samples = time_ms(lambda: run_screen(universe, screen), repeat=15, warmup=2)
    s = summary(samples)
    result = {
        "n": len(universe),
        "screen_ms_median": s["median"],
        "screen_ms_min": s["min"],
        "target_ms": 150.0,
        "machine": machine(),
    }
    lines = [
        f"screen of us-all: n = {len(universe):,} companies",
        f"  median {s['median']:.1f} ms  (min {s['min']:.1f}, max {s['max']:.1f}, {s['runs']} runs)   target <= 150 ms",
    ]
    report(result, args.json, lines)


if __name__ == "__main__":
    main()
