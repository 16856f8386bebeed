"""Benchmark: the data layer. Listing universes, loading them (cold and warm), peak memory.

Goals (issue 13, the data layer's part): ``list_universes()`` (behind ``rotation universes``)
in 0.3 s or less without loading prices; ``load_universe`` of the default universe fast;
a monthly walk-forward's ``load_universe(..., as_of=D)`` cheap; a CLI ``screen`` run within
350 MB peak memory. Cold figures run in fresh interpreters (nothing cached); warm figures
reuse one process, as a backtest would.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from pathlib import Path

from _common import machine, parser, report

ROOT = Path(__file__).resolve().parents[1]


def in_fresh_python(code: str) -> dict[str, float]:
    """Run ``code`` in a new interpreter; it prints one JSON object of figures."""
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


COLD_LOAD = """
import json, resource, time
t0 = time.perf_counter()
from universes import load_universe
t1 = time.perf_counter()
u = load_universe({name!r}, as_of={as_of!r})
t2 = time.perf_counter()
print(json.dumps({{"import_s": t1 - t0, "load_s": t2 - t1, "n": len(u),
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""

LIST = """
import json, time
from universes import list_universes, open_dataset
t = time.perf_counter()
rows = list_universes()
elapsed = time.perf_counter() - t
print(json.dumps({"list_s": elapsed, "universes": len(rows),
                  "prices_loaded": "prices" in open_dataset().__dict__}))
"""

WARM = """
import json, time
import pandas as pd
from universes import load_universe
load_universe("us-small")
times = []
for d in pd.date_range("2020-03-31", "2024-02-29", freq="ME")[::4]:
    t = time.perf_counter()
    load_universe("us-small", as_of=d)
    times.append(time.perf_counter() - t)
print(json.dumps({"per_call_s": sorted(times)[len(times) // 2], "calls": len(times),
                  "max_s": max(times)}))
"""

CLI_RSS = """
import json, resource, subprocess, sys, time
t = time.perf_counter()
subprocess.run([sys.executable, "-m", "tui.cli", {args}], check=True, capture_output=True)
print(json.dumps({{"wall_s": time.perf_counter() - t,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}}))
"""


def median_of(runs: list[dict[str, float]], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def main() -> None:
    args = parser(__doc__.splitlines()[0]).parse_args()
    lists = [in_fresh_python(LIST) for _ in range(5)]
    cold = {
        label: [in_fresh_python(COLD_LOAD.format(name=name, as_of=as_of)) for _ in range(3)]
        for label, name, as_of in (
            ("default", "us-small-manufacturing", None),
            ("us-all", "us-all", None),
            ("us-small 2021-06-30", "us-small", "2021-06-30"),
        )
    }
    warm = in_fresh_python(WARM)
    universes_cli = [in_fresh_python(CLI_RSS.format(args='"universes"')) for _ in range(3)]
    screen_cli = [in_fresh_python(CLI_RSS.format(args='"screen", "--top", "5"')) for _ in range(3)]
    result = {
        "list_universes_s": median_of(lists, "list_s"),
        "list_universes_loads_prices": any(r["prices_loaded"] for r in lists),
        "import_universes_s": median_of(cold["default"], "import_s"),
        "load_cold_s": {k: median_of(v, "load_s") for k, v in cold.items()},
        "load_cold_peak_rss_mb": {k: median_of(v, "peak_rss_mb") for k, v in cold.items()},
        "walk_forward_per_call_s": warm["per_call_s"],
        "walk_forward_calls": warm["calls"],
        "cli_universes_wall_s": median_of(universes_cli, "wall_s"),
        "cli_screen_wall_s": median_of(screen_cli, "wall_s"),
        "cli_screen_peak_rss_mb": median_of(screen_cli, "peak_rss_mb"),
        "targets": {"list_universes_s": 0.3, "cli_screen_peak_rss_mb": 350},
        "machine": machine(),
    }
    lines = [
        "data layer (medians; cold = fresh interpreter)",
        f"  list_universes():               {result['list_universes_s'] * 1000:7.1f} ms   (goal <= 300 ms; prices loaded: {result['list_universes_loads_prices']})",
        f"  import universes:               {result['import_universes_s']:7.2f} s",
    ]
    for k, v in result["load_cold_s"].items():
        lines.append(
            f"  load_universe cold, {k:<21} {v:5.2f} s   peak RSS {result['load_cold_peak_rss_mb'][k]:5.0f} MB"
        )
    lines += [
        f"  load_universe warm, monthly as_of ({warm['calls']} dates): {result['walk_forward_per_call_s']:.2f} s per call (max {warm['max_s']:.2f})",
        f"  `rotation universes`:           {result['cli_universes_wall_s']:7.2f} s wall",
        f"  `rotation screen --top 5`:      {result['cli_screen_wall_s']:7.2f} s wall, peak RSS {result['cli_screen_peak_rss_mb']:.0f} MB (goal <= 350 MB)",
    ]
    report(result, args.json, lines)


if __name__ == "__main__":
    main()
