"""Results kept between runs: first solves and screens, read back when their inputs come again.

**First solves.** The first solve of a session, and the first after its universe, holdings or
cash change, has to import cvxpy and compile the problem: more than a second of the two or three
a start takes. Its result depends only on the numbers that go in and the code that turns them
into a portfolio, so :class:`tui.session.Session` keeps it on disk under a digest of exactly
those, and a later first solve with the same digest reads it back instead of solving. Re-solves
after a tweak are not kept: the compiled problem answers them in tens of milliseconds.

**Screens.** Screening a universe (fair values, quality, flags and scores of every company:
0.1-0.15 s on the default universe, more on us-all) is kept the same way, so ``rotation show``,
``rotation screen``, the app's start and a switch back to a universe read the table instead.

The digests (SHA-256) cover:

* the numbers: the universe's companies, tickers and fundamentals (and the reference peers and
  data findings a screen uses), the screen, the theme tags; for a solve also the screen's whole
  table, the holdings (shares, cash, untradeable names, cost basis), the new cash, the
  constraint settings and whether the caller solves once;
* where prices come from: the dataset's files (:func:`universes.datasets.dataset_key`) and the date;
* the code: every source file of ``optimizer``, ``screener`` and ``universes`` and of the
  session, and the versions of Python, numpy, pandas, scipy, cvxpy and the solvers.

Change any of them and the digest changes, so a kept result is only ever one the same
computation would give again. Kept results live in ``$ROTATION_KEPT``, else
``<cache folder>/kept`` (see :func:`universes.paths.cache_dir`), in one folder per kind, at most
:data:`KEEP` of each kind (the least recently used go first); the folder can be deleted at any
time. A damaged file is ignored and computed afresh; a file that cannot be written is not kept.
``Session(keep_solves=False)`` and ``rotation optimize --fresh`` always solve (a kept screen is
still read: it is the same table).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import pickle
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import pandas as pd

if TYPE_CHECKING:
    from optimizer.constraints import ConstraintSettings
    from screener import Screen, ScreenResult
    from screener.themes import ThemeTags
    from universes import Universe
    from universes.holdings import Holdings

T = TypeVar("T")

#: How many results of each kind are kept at most (a solve is about 100 KB, a screen 0.7 MB on
#: the default universe and 4.7 MB on us-all).
KEEP = {"solves": 64, "screens": 16}
#: Packages whose versions can change a result.
PACKAGES = ("numpy", "pandas", "scipy", "cvxpy", "clarabel", "scs", "osqp", "ecos", "highspy")
#: Source folders (under the project root) whose code computes a result.
CODE = ("optimizer", "screener", "universes")
#: Single source files of the front-end package that take part.
TUI_CODE = ("session.py", "kept.py", "themes.py")


def kept_dir() -> Path:
    """The folder of kept results: ``$ROTATION_KEPT``, else ``<cache folder>/kept``."""
    from universes.paths import cache_dir

    override = os.environ.get("ROTATION_KEPT")
    return Path(override).expanduser() if override else cache_dir() / "kept"


@functools.cache
def code_fingerprint() -> str:
    """A digest of the source files that compute a result and the versions of the packages used."""
    from importlib.metadata import PackageNotFoundError, version

    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256(sys.version.encode())
    for package in PACKAGES:
        try:
            digest.update(f"{package}={version(package)};".encode())
        except PackageNotFoundError:
            digest.update(f"{package} absent;".encode())
    files = [p for folder in CODE for p in sorted((root / folder).rglob("*")) if p.suffix in (".py", ".toml")]
    files += [root / "tui" / name for name in TUI_CODE]
    for path in files:
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _frame_digest(digest: Any, frame: pd.DataFrame | pd.Series) -> None:
    """Add a frame's labels, types and values to ``digest`` (cells of any type)."""
    if isinstance(frame, pd.DataFrame):
        digest.update(repr((list(frame.columns), list(frame.dtypes))).encode())
    else:
        digest.update(repr((frame.name, frame.dtype)).encode())
    try:
        digest.update(pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes())
    except TypeError:  # cells pandas cannot hash (lists, dicts): their text instead
        digest.update(frame.to_csv().encode())


def _inputs_digest(universe: Universe, *values: object) -> Any:
    """A SHA-256 started with the code, the data files, the universe (name, date, tickers,
    companies) and ``values``; each key adds what else its result depends on."""
    from universes.datasets import dataset_key

    digest = hashlib.sha256(code_fingerprint().encode())
    digest.update(repr((dataset_key(universe.dataset), universe.name, str(universe.as_of), *values)).encode())
    _frame_digest(digest, pd.Series(universe.tickers, name="tickers"))
    _frame_digest(digest, universe.companies)
    return digest


def screen_key(universe: Universe, screen: Screen, tags: ThemeTags | None) -> str:
    """The digest a screen of these inputs is kept under (see the module docstring)."""
    from screener.screens import screen_to_toml

    digest = _inputs_digest(universe)
    digest.update(screen_to_toml(screen).encode())
    for frame in (universe.fundamentals, universe.reference_companies, universe.reference_fundamentals, universe.integrity):
        digest.update(b"absent" if frame is None else b"frame")
        if frame is not None:
            _frame_digest(digest, frame)
    if tags is not None:
        digest.update(repr(tags.themes).encode())
        _frame_digest(digest, tags.table)
    return digest.hexdigest()


def solve_key(
    universe: Universe,
    screened: ScreenResult,
    holdings: Holdings | None,
    capital: float | None,
    settings: ConstraintSettings,
    solves_once: bool,
) -> str:
    """The digest a first solve of these inputs is kept under (see the module docstring)."""
    from optimizer.constraints import settings_to_toml
    from screener.screens import screen_to_toml

    digest = _inputs_digest(universe, capital, solves_once)
    digest.update(settings_to_toml(settings).encode())
    digest.update(screen_to_toml(screened.screen).encode())
    _frame_digest(digest, screened.table)
    if holdings is not None:
        digest.update(repr((holdings.cash, holdings.source, holdings.warnings)).encode())
        for part in (holdings.shares, holdings.untradeable, holdings.cost_basis):
            _frame_digest(digest, part)
    return digest.hexdigest()


def read_kept(kind: str, key: str, expected: type[T]) -> T | None:
    """The result of ``kind`` (``"solves"`` or ``"screens"``) kept under ``key``, or None (none
    kept, a file that cannot be read, or not an ``expected``)."""
    path = kept_dir() / kind / f"{key}.pickle"
    try:
        with path.open("rb") as fh:
            kept = pickle.load(fh)  # written by keep() into the user's own cache folder
    except Exception:  # absent, damaged or from other code: computed afresh, never trusted
        return None
    with contextlib.suppress(OSError):  # a folder the user made read-only still serves
        os.utime(path)  # recently used: pruned last
    return kept if isinstance(kept, expected) else None


def _dump(kept: object, path: Path) -> None:
    with path.open("wb") as fh:
        pickle.dump(kept, fh, protocol=pickle.HIGHEST_PROTOCOL)


def keep(kind: str, key: str, kept: object) -> None:
    """Keep a result of ``kind`` under ``key`` (atomically); drop the least recently used of
    that kind beyond :data:`KEEP`."""
    from universes.files import atomic_write

    folder = kept_dir() / kind
    try:
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write(folder / f"{key}.pickle", lambda tmp: _dump(kept, tmp))
        files = sorted(folder.glob("*.pickle"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in files[KEEP[kind] :]:
            old.unlink(missing_ok=True)
    except (OSError, pickle.PicklingError, TypeError, AttributeError):
        return
