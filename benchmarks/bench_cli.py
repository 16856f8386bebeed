"""Benchmark: the command line as a user runs it. Wall time, CPU time and peak memory per command.

Goals (issue 13): ``rotation universes`` <= 0.3 s, ``show`` and ``screen`` <= 0.8 s,
``optimize`` <= 1.2 s on the default universe, peak memory <= 350 MB. Each command runs in a
fresh process (nothing in memory); the on-disk caches the tool keeps (the point-in-time view,
theme tags) are warm after the first, untimed run, as they are for a user after the first
command, and Python keeps its bytecode cache as it does on a user's machine (``user_env``). CPU time (user + system of the child) is reported beside wall time: on a shared,
loaded machine it is the steadier figure of the two.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from pathlib import Path

from _common import machine, parser, report, user_env

ROOT = Path(__file__).resolve().parents[1]
COMMANDS = {
    "universes": ["universes"],
    "show MCFT": ["show", "MCFT"],
    "screen --top 20": ["screen", "--top", "20"],
    "optimize": ["optimize"],
    "optimize --fresh": ["optimize", "--fresh"],
}
GOALS_S = {"universes": 0.3, "show MCFT": 0.8, "screen --top 20": 0.8, "optimize": 1.2, "optimize --fresh": 1.2}
GOAL_MB = 350


def run_once(args: list[str]) -> dict[str, float]:
    """One command in a fresh interpreter: wall s, CPU s and peak RSS MB of that child alone."""
    code = (
        "import json, resource, subprocess, sys, time\n"
        f"t = time.perf_counter(); subprocess.run([sys.executable, '-m', 'tui.cli', *{args!r}], check=True, capture_output=True)\n"
        "w = time.perf_counter() - t; r = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
        "print(json.dumps({'wall_s': w, 'cpu_s': r.ru_utime + r.ru_stime, 'peak_rss_mb': r.ru_maxrss / 1024}))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True, env=user_env())
    out: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return out


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=5, help="timed runs per command (median reported)")
    args = p.parse_args()
    result: dict[str, object] = {"machine": machine(), "goals_s": GOALS_S, "goal_peak_rss_mb": GOAL_MB, "commands": {}}
    lines = [f"command line, fresh process per run (median of {args.runs}; caches warm)", f"  {'command':<18} {'wall s':>7} {'cpu s':>7} {'peak MB':>8}  goal"]
    for label, cmd in COMMANDS.items():
        run_once(cmd)  # warms the on-disk caches, as the user's first command does
        runs = [run_once(cmd) for _ in range(args.runs)]
        figures = {k: statistics.median(r[k] for r in runs) for k in ("wall_s", "cpu_s", "peak_rss_mb")}
        figures["wall_min_s"] = min(r["wall_s"] for r in runs)
        result["commands"][label] = figures  # type: ignore[index]
        lines.append(
            f"  {label:<18} {figures['wall_s']:7.2f} {figures['cpu_s']:7.2f} {figures['peak_rss_mb']:8.0f}  <= {GOALS_S[label]} s, <= {GOAL_MB} MB"
        )
    report(result, args.json, lines)


if __name__ == "__main__":
    main()
