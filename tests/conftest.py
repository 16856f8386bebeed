"""Shared fixtures. Every test runs with ROTATION_HOME in a temporary folder, so nothing a test
does touches the user's real data directory."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

import tui  # noqa: F401  (before NumPy loads: one BLAS thread, as the front ends run)

ROOT = Path(__file__).resolve().parents[1]

# One cache folder for the whole test session (point-in-time views, theme tags), shared by the
# command-line runs in subprocesses: what is slow to compute is computed once per session.
# Each test still gets its own ROTATION_HOME and its own folder of kept solves (below), so that
# every test's first solve runs the solver.
os.environ.setdefault("ROTATION_CACHE", tempfile.mkdtemp(prefix="rotation-test-cache-"))


@pytest.fixture(autouse=True)
def rotation_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    home = tmp_path_factory.mktemp("rotation-home")
    monkeypatch.setenv("ROTATION_HOME", str(home))
    monkeypatch.setenv("ROTATION_KEPT", str(home / "kept"))
    return home


@pytest.fixture(autouse=True)
def unfreeze_after_test() -> Iterator[None]:
    """The app freezes what it has loaded (tui.freeze_long_lived) and holds the collector
    back until its first session is painted; one test's app must not leave either behind (an
    app closed before that paint) for the tests after it in the same process."""
    yield
    gc.unfreeze()
    gc.enable()


def run_cli(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run the real `rotation` command in a subprocess."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "tui.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd or ROOT,
        env=full_env,
        timeout=timeout,
    )


@pytest.fixture(scope="session")
def snapshot_universes() -> dict[str, object]:
    """The built-in universes, loaded once."""
    from universes import load_universe

    return {
        name: load_universe(name)
        for name in ("us-all", "us-eligible", "us-large", "us-small", "us-small-manufacturing")
    }
