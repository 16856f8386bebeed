"""Run many invocations of the real `rotation` command in one Python process.

Each case calls ``tui.cli.main(argv)``, the console script's entry point, in its own working
folder and environment, with stdout and stderr captured; an exception that escapes ``main``
is recorded as the interpreter would print it (a traceback, exit 1). Starting Python and
loading the snapshot once for dozens of malformed inputs keeps the malformed-input suite fast;
``conftest.run_cli`` runs single cases in a fresh process.

Used by the tests as ``run_cli_batch(cases)``; run as a script it reads the cases as JSON on
stdin and writes the results as JSON on stdout.
"""

from __future__ import annotations

import contextlib
import gc
import io
import json
import os
import subprocess
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Invocation:
    """One run of the command: its arguments, working folder and extra environment."""

    argv: list[str]
    cwd: str
    env: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    """What the run printed and its exit status."""

    code: int
    stdout: str
    stderr: str


def run_cli_batch(cases: list[Invocation], timeout: float = 600) -> list[Outcome]:
    """Run every case through ``tui.cli.main`` in one fresh interpreter; results in order."""
    payload = json.dumps([{"argv": c.argv, "cwd": c.cwd, "env": c.env} for c in cases])
    done = subprocess.run(
        [sys.executable, str(Path(__file__).resolve())],
        input=payload,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=timeout,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the batch runner failed:\n{done.stderr}")
    return [Outcome(**r) for r in json.loads(done.stdout)]


def _run_all() -> None:
    sys.path.insert(0, str(ROOT))
    from tui.cli import main

    results = []
    real_stdout = sys.stdout
    for case in json.load(sys.stdin):
        saved_env = dict(os.environ)
        os.environ.update(case["env"])
        os.chdir(case["cwd"])
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(case["argv"])
            except SystemExit as exc:  # argparse refusing the arguments
                code = exc.code if isinstance(exc.code, int) else 2
            except BaseException:
                err.write(traceback.format_exc())
                code = 1
        os.environ.clear()
        os.environ.update(saved_env)
        gc.unfreeze()  # a command freezes what it loaded (its process would end here)
        results.append({"code": code, "stdout": out.getvalue(), "stderr": err.getvalue()})
    json.dump(results, real_stdout)


if __name__ == "__main__":
    _run_all()
