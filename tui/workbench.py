"""The workbench: the state behind the terminal app, without any Textual.

A :class:`Workbench` holds one working session (universe, screen, holdings, constraints, the
compiled optimiser and its last feasible portfolio) and exposes each user action as a method.
The app calls these methods from its workers; tests and benchmarks call them directly.
Heavy modules (pandas, cvxpy) are imported when a workbench is created, never at app start-up.

A *workspace* file saves what a person chose, not what was computed::

    [workspace]
    universe = "us-small-manufacturing"
    holdings = "/home/me/holdings.csv"     # optional
    capital = 1000000.0

    [screen]          # a screen, as in a screen file (filters, weights, ranking, assumptions)
    [constraints]     # constraint settings, as in a constraints file
"""

from __future__ import annotations

import threading
import tomllib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from optimizer import (
    ConstraintError,
    ConstraintSettings,
    InfeasibleError,
    OptimizerError,
    RotationOptimizer,
    RotationResult,
    load_constraints,
    settings_to_toml,
)
from optimizer.constraints import settings_from_dict
from optimizer.export import ExportContext, ExportError, export_rotation
from screener import Screen, ScreenError, ScreenResult, load_screen, rescreen, run_screen
from screener.screens import screen_from_dict, screen_to_toml
from universes import DEFAULT_UNIVERSE, Universe, UniverseError, load_universe, open_dataset
from universes.datasets import read_manifest
from universes.files import atomic_write_text
from universes.holdings import Holdings, read_holdings
from universes.toml_io import dump_toml, read_toml

DEFAULT_CAPITAL = 1_000_000.0
WORKSPACE_KEYS = ("universe", "holdings", "ignore_unknown", "capital")



class WorkspaceError(ValueError):
    """A workspace file cannot be used (the message says why)."""


#: Errors a user can cause from the app; each message says what to do.
USER_ERRORS: tuple[type[Exception], ...] = (
    UniverseError,
    ScreenError,
    ConstraintError,
    OptimizerError,
    ExportError,
    WorkspaceError,
)


@dataclass
class SolveOutcome:
    """What one solve request produced.

    Attributes
    ----------
    request : int
        The request number (newer requests have larger numbers).
    result : RotationResult or None
        The new portfolio, or None when the request failed.
    error : str
        Why it failed ('' on success): the infeasibility diagnosis or another user error.
    conflicts : list
        The conflicting constraints, for an infeasible request.
    """

    request: int
    result: RotationResult | None
    error: str = ""
    conflicts: list[Any] = field(default_factory=list)


def tool_version() -> str:
    """The installed version of the project (``dev`` when run from a source tree)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("smallcap-rotation")
    except PackageNotFoundError:
        return "dev"


def export_context(
    universe: Universe, screen_label: str, holdings_label: str, constraints_label: str
) -> ExportContext:
    """Provenance for the workbook's Summary and Sources sheets."""
    return ExportContext(
        as_of=universe.as_of.date().isoformat(),
        universe=universe.name,
        universe_description=universe.description,
        screen=screen_label,
        holdings=holdings_label,
        constraints=constraints_label,
        provider=universe.provider,
        dataset=universe.dataset,
        manifest=read_manifest(universe.dataset),
        generated_at=datetime.now(UTC).isoformat(timespec="seconds"),
        version=tool_version(),
    )


class Workbench:
    """One working session of the rotation workbench.

    Parameters
    ----------
    universe : str
        Universe name, or a ``.csv``/``.xlsx`` list of tickers.
    screen : str, Screen or None
        Screen name or file, or a :class:`screener.Screen` (default: the shipped screen).
    constraints : str, ConstraintSettings or None
        Constraints file or settings (default: the shipped ones).
    holdings : str or None
        Holdings file (``.csv``/``.xlsx``); None starts from cash.
    ignore_unknown : bool
        Keep holdings the data do not know as untradeable instead of refusing the file.
    capital : float
        Cash to invest (added to the holdings' cash when there are holdings).

    Raises
    ------
    UniverseError, ScreenError, ConstraintError
        Anything the user named cannot be used.
    """

    def __init__(
        self,
        universe: str = DEFAULT_UNIVERSE,
        screen: str | Screen | None = None,
        constraints: str | ConstraintSettings | None = None,
        holdings: str | None = None,
        capital: float = DEFAULT_CAPITAL,
        ignore_unknown: bool = False,
    ) -> None:
        self._lock = threading.Lock()
        self._requests = 0
        self.screen = screen if isinstance(screen, Screen) else load_screen(screen)
        if isinstance(constraints, ConstraintSettings):
            self.settings, self.constraints_label = constraints, "set in the app"
        else:
            self.settings = load_constraints(constraints)
            self.constraints_label = constraints or "shipped defaults (optimizer/constraints.toml)"
        self.capital = float(capital)
        self.holdings_path: str | None = None
        self.holdings: Holdings | None = None
        self.universe: Universe = load_universe(universe)
        self.result: ScreenResult = run_screen(self.universe, self.screen)
        self.ignore_unknown = ignore_unknown
        if holdings:
            self.holdings = self._read_holdings(holdings, ignore_unknown)
            self.holdings_path = holdings
        self.optimizer = self._new_optimizer()
        self.portfolio: RotationResult | None = None

    # ---------------------------------------------------------------- data
    def _read_holdings(self, path: str, ignore_unknown: bool) -> Holdings:
        known = open_dataset(self.universe.dataset).companies
        return read_holdings(path, known, ignore_unknown=ignore_unknown)

    def _new_optimizer(self) -> RotationOptimizer:
        capital = self.capital if self.holdings is None else None
        return RotationOptimizer(self.universe, self.result, holdings=self.holdings, capital=capital)

    def set_universe(self, name: str) -> None:
        """Switch universe: re-screen and rebuild the optimiser (holdings are kept)."""
        universe = load_universe(name)
        result = run_screen(universe, self.screen)
        with self._lock:
            self.universe, self.result = universe, result
            self.optimizer = self._new_optimizer()

    def set_holdings(self, path: str | None, ignore_unknown: bool = False) -> None:
        """Start from the holdings in ``path`` (None: from cash). Nothing changes on error.

        ``ignore_unknown`` keeps tickers the data do not know as untradeable holdings instead
        of refusing the file.
        """
        holdings = self._read_holdings(path, ignore_unknown) if path else None
        with self._lock:
            self.holdings, self.holdings_path = holdings, path or None
            self.ignore_unknown = ignore_unknown
            self.optimizer = self._new_optimizer()

    def set_capital(self, capital: float) -> None:
        """Cash to invest when starting from cash (with holdings, their own cash is used)."""
        if not capital > 0:
            raise OptimizerError("Capital must be a positive amount of USD.")
        with self._lock:
            self.capital = float(capital)
            self.optimizer = self._new_optimizer()

    def set_screen(self, screen: Screen) -> ScreenResult:
        """Apply a changed screen: re-filter (or re-score) and give the optimiser the new ranks."""
        result = rescreen(self.result, screen, self.universe)
        with self._lock:
            self.screen, self.result = screen, result
            self.optimizer.set_screen(result)
        return result

    @property
    def holdings_label(self) -> str:
        """Where the starting portfolio comes from, in words."""
        if self.holdings is not None:
            return self.holdings.source
        return f"all cash, {self.capital:,.0f} USD"

    def sector_mix(self) -> list[tuple[str, int, float]]:
        """Sectors of the universe: (sector, companies, share of market cap), largest first."""
        c = self.universe.companies
        sector = c["sector"].fillna("Unclassified")
        counts = sector.value_counts()
        caps = c["market_cap"].groupby(sector).sum()
        total = float(caps.sum()) or 1.0
        return [(str(s), int(n), float(caps.get(s, 0.0)) / total) for s, n in counts.items()]

    # ---------------------------------------------------------------- solving
    def next_request(self) -> int:
        """A number for a new solve request (newest wins)."""
        self._requests += 1
        return self._requests

    def is_latest(self, request: int) -> bool:
        """Whether no newer request has been made since ``request``."""
        return request == self._requests

    def solve(self, settings: ConstraintSettings | None = None, request: int = 0) -> SolveOutcome:
        """Solve for ``settings`` (default: the current ones) and keep them.

        An infeasible or failed solve keeps the last feasible portfolio in :attr:`portfolio`
        and reports why in the outcome. A numbered request that a newer one has overtaken
        while it waited is dropped unsolved (error ``"superseded"``), so an old solve can
        never replace a newer portfolio.
        """
        with self._lock:
            if request and not self.is_latest(request):
                return SolveOutcome(request, None, "superseded")
            if settings is not None:
                self.settings = settings
            try:
                result = self.optimizer.solve(self.settings)
            except InfeasibleError as exc:
                return SolveOutcome(request, None, str(exc), list(exc.conflicts))
            except OptimizerError as exc:
                return SolveOutcome(request, None, str(exc))
            self.portfolio = result
            return SolveOutcome(request, result)

    # ---------------------------------------------------------------- export
    def export(self, path: str | Path, overwrite: bool = False) -> tuple[Path, Path]:
        """Write the last feasible portfolio's workbook and basket file (atomically).

        Raises
        ------
        ExportError
            No portfolio yet, a file exists and ``overwrite`` is false, or the write failed.
        """
        if self.portfolio is None:
            raise ExportError("There is no feasible portfolio to export yet.")
        ctx = export_context(
            self.universe, self.screen.name, self.holdings_label, self.constraints_label
        )
        return export_rotation(path, self.portfolio, self.result, ctx, overwrite=overwrite)

    # ---------------------------------------------------------------- workspace
    def workspace(self) -> dict[str, Any]:
        """The session's choices as a workspace document."""
        ws: dict[str, Any] = {"universe": self.universe.name, "capital": self.capital}
        if self.holdings_path:
            ws["holdings"] = str(Path(self.holdings_path).expanduser().resolve())
            ws["ignore_unknown"] = self.ignore_unknown
        return {
            "workspace": ws,
            "screen": tomllib.loads(screen_to_toml(self.screen)),
            "constraints": tomllib.loads(settings_to_toml(self.settings)),
        }

    def save_workspace(self, path: str | Path, overwrite: bool = False) -> Path:
        """Write the workspace TOML atomically; an existing file needs ``overwrite``."""
        target = Path(path).expanduser()
        if target.suffix.lower() != ".toml":
            raise ExportError(f"{target}: a workspace file must end in .toml.")
        if not target.parent.is_dir():
            raise ExportError(f"Folder {target.parent} does not exist. Create it first or choose another path.")
        if target.exists() and not overwrite:
            raise ExportError(f"{target} already exists. Confirm to replace it, or choose another path.")
        try:
            atomic_write_text(target, dump_toml(self.workspace()))
        except OSError as exc:
            raise ExportError(f"Could not write {target}: {exc}. Nothing was replaced.") from exc
        return target

    @classmethod
    def from_workspace(cls, path: str | Path) -> Workbench:
        """Open a saved workspace.

        Raises
        ------
        WorkspaceError, UniverseError, ScreenError, ConstraintError
            The file is missing, not TOML, or names something that cannot be used.
        """
        p = Path(path).expanduser()
        data = read_toml(p, WorkspaceError, "workspace")
        unknown = [k for k in data if k not in ("workspace", "screen", "constraints")]
        ws = data.get("workspace", {})
        unknown += [f"workspace.{k}" for k in ws if k not in WORKSPACE_KEYS]
        if unknown:
            raise WorkspaceError(
                f"{p}: unknown setting {unknown[0]!r}. A workspace has [workspace] "
                f"({', '.join(WORKSPACE_KEYS)}), [screen] and [constraints]."
            )
        screen = screen_from_dict(data["screen"], f"{p} [screen]: ") if "screen" in data else None
        settings = (
            settings_from_dict(data["constraints"], f"{p} [constraints]: ")
            if "constraints" in data
            else None
        )
        capital = ws.get("capital", DEFAULT_CAPITAL)
        if not isinstance(capital, int | float) or isinstance(capital, bool) or capital <= 0:
            raise WorkspaceError(f"{p}: capital must be a positive number of USD, not {capital!r}.")
        bench = cls(
            universe=str(ws.get("universe", DEFAULT_UNIVERSE)),
            screen=screen,
            constraints=settings,
            holdings=ws.get("holdings"),
            ignore_unknown=bool(ws.get("ignore_unknown", False)),
            capital=float(capital),
        )
        bench.constraints_label = f"from workspace {p.name}"
        return bench


__all__ = [
    "DEFAULT_CAPITAL",
    "USER_ERRORS",
    "SolveOutcome",
    "Workbench",
    "WorkspaceError",
    "export_context",
]
