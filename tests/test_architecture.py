"""The pure packages stay pure: no TUI, no OpenBB, no printing, no reading ../shared."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PURE = ("screener", "optimizer", "universes")


def run_python(code: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter (so that sys.modules shows only what it imported)."""
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)


def test_pure_packages_import_without_textual_or_openbb() -> None:
    code = (
        "import sys\n"
        "import screener, optimizer, universes\n"
        "from universes import load_universe\n"
        "from screener import run_screen, load_screen\n"
        "import optimizer.model, optimizer.risk, optimizer.trades\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'openbb', 'openbb_core'))\n"
        "assert not bad, bad\n"
    )
    done = run_python(code)
    assert done.returncode == 0, done.stderr


def test_cli_start_and_every_non_refresh_command_module_avoid_openbb() -> None:
    code = (
        "import sys\n"
        "import tui.cli, tui.output, tui.session, tui.export, tui.card\n"
        "from tui.cli import COMMANDS\n"
        "import importlib\n"
        "for name in COMMANDS: importlib.import_module('tui.cli.' + name.replace('-', '_'))\n"
        "assert 'openbb' not in sys.modules and 'textual' not in sys.modules, sorted(sys.modules)\n"
    )
    done = run_python(code)
    assert done.returncode == 0, done.stderr


def _python_files(package: str) -> list[Path]:
    return [p for p in (ROOT / package).rglob("*.py") if "build_snapshot" not in p.name]


def test_pure_packages_do_not_print_or_import_ui() -> None:
    offenders = []
    for package in ("screener", "optimizer", "universes"):
        for path in _python_files(package):
            tree = ast.parse(path.read_text())
            for node in ast.walk(tree):
                if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "print":
                    offenders.append(f"{path}:{node.lineno} print")
                if isinstance(node, ast.Attribute) and node.attr in ("stdout", "stderr") and getattr(node.value, "id", None) == "sys":
                    offenders.append(f"{path}:{node.lineno} writes to sys.{node.attr}")
                if isinstance(node, ast.Import | ast.ImportFrom):
                    names = (
                        [a.name for a in node.names]
                        if isinstance(node, ast.Import)
                        else [node.module or ""]
                    )
                    if any(n.split(".")[0] in ("textual", "tui") for n in names):
                        offenders.append(f"{path}:{node.lineno} imports the UI")
    assert not offenders, offenders


def test_nothing_at_run_time_reads_the_raw_shared_data() -> None:
    offenders = []
    for package in ("screener", "optimizer", "tui", "universes"):
        for path in _python_files(package):
            text = path.read_text()
            if "../shared" in text or "shared/data" in text:
                offenders.append(str(path))
    assert not offenders, offenders


def test_app_start_imports_neither_pandas_nor_openbb() -> None:
    """`rotation` with no arguments must show its first screen fast: heavy modules load later."""
    code = (
        "import sys\n"
        "import tui.cli, tui.app\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('pandas', 'cvxpy', 'openbb', 'openbb_core', 'scipy', 'plotext', 'textual_plotext'))\n"
        "assert not heavy, heavy\n"
    )
    done = run_python(code)
    assert done.returncode == 0, done.stderr


def test_reading_commands_do_not_load_the_solver() -> None:
    """`screen`, `show` and `universes` only read: the session loads cvxpy on its first solve."""
    code = (
        "import sys\n"
        "from tui.session import Session\n"
        "s = Session()\n"
        "s.company_card('MCFT')\n"
        "assert 'cvxpy' not in sys.modules, 'cvxpy loaded'\n"
    )
    done = run_python(code)
    assert done.returncode == 0, done.stderr


def test_a_solve_leaves_scipy_stats_unloaded_and_it_still_works_after() -> None:
    """cvxpy loads without scipy.stats (0.4 s); the real module and cvxpy's use of it still work.

    The theme tags are computed once first, as a user's first run does: computing them imports
    scikit-learn, which imports scipy.stats itself; later runs read them from the cache."""
    warm = run_python("from tui.session import Session\nSession()\n")
    assert warm.returncode == 0, warm.stderr
    code = (
        "import sys\n"
        "from tui.session import Session\n"
        "outcome = Session(keep_solves=False).solve()\n"
        "assert outcome.result is not None and outcome.result.status == 'optimal', outcome\n"
        "assert 'cvxpy' in sys.modules and 'scipy.stats' not in sys.modules, 'scipy.stats loaded'\n"
        "import numpy as np, cvxpy as cp\n"
        "atom = cp.quantum_rel_entr(cp.Constant(np.diag([0.5, 0.5])), cp.Constant(np.diag([0.25, 0.75])))\n"
        "assert abs(atom.value - 0.5 * np.log(2) - 0.5 * np.log(2 / 3)) < 1e-9, atom.value\n"
        "import scipy.stats\n"
        "assert type(scipy.stats).__name__ == 'module' and scipy.stats.norm.cdf(0.0) == 0.5\n"
        "assert sys.modules['scipy'].stats is scipy.stats\n"
    )
    done = run_python(code)
    assert done.returncode == 0, done.stderr


def test_a_thread_importing_scipy_stats_while_cvxpy_loads_gets_the_real_names() -> None:
    """Another thread that imports scipy.stats during the window gets the stand-in: every name,
    __path__ and __all__ included, must be the real module's (a review found submodule imports
    failing there)."""
    code = (
        "import sys, threading, time\n"
        "import numpy, scipy\n"
        "from optimizer._cvxpy import _StandIn, load_cvxpy\n"
        "seen = {}\n"
        "def other():\n"
        "    while not isinstance(sys.modules.get('scipy.stats'), _StandIn):\n"
        "        time.sleep(0.0005)\n"
        "    from scipy import stats\n"
        "    import scipy.stats.qmc\n"
        "    seen['cdf'] = float(stats.norm.cdf(0.0))\n"
        "    seen['all'] = 'norm' in stats.__all__\n"
        "    seen['qmc'] = hasattr(scipy.stats.qmc, 'Sobol')\n"
        "t = threading.Thread(target=other)\n"
        "t.start()\n"
        "load_cvxpy()\n"
        "t.join()\n"
        "assert seen == {'cdf': 0.5, 'all': True, 'qmc': True}, seen\n"
        "assert not isinstance(sys.modules['scipy.stats'], _StandIn)\n"
    )
    done = run_python(code)
    assert done.returncode == 0, done.stderr


def test_cvxpy_loads_as_usual_when_scipy_stats_is_already_loaded() -> None:
    code = (
        "import sys, scipy.stats\n"
        "from optimizer._cvxpy import load_cvxpy\n"
        "cp = load_cvxpy()\n"
        "assert cp is sys.modules['cvxpy'] and sys.modules['scipy.stats'] is scipy.stats\n"
        "assert sys.modules['cvxpy.atoms.quantum_rel_entr'].entropy is scipy.stats.entropy\n"
    )
    done = run_python(code)
    assert done.returncode == 0, done.stderr


def test_the_session_core_imports_no_textual() -> None:
    code = "import sys\nimport tui.session, tui.export\nassert 'textual' not in sys.modules\n"
    done = run_python(code)
    assert done.returncode == 0, done.stderr
