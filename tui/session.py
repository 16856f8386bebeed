"""One working session of Rotation, with no user interface: the core both front ends call.

A :class:`Session` holds what a person chose (universe and date, screen, holdings, new cash,
constraint settings) and what was computed from it (the screen, the compiled optimiser, the
latest solve and the last feasible portfolio). ``rotation optimize`` builds one from its
arguments and solves once; the terminal app keeps one open and calls its methods from worker
threads. Both therefore give the same inputs the same meaning:

* **Capital** is new cash. Without holdings it is the cash to invest (default 1,000,000 USD);
  with holdings it is added to the holdings' own cash (default 0).
* **A result belongs to the inputs it was solved for.** Every change of an input moves
  :attr:`Session.version`; :attr:`Session.is_current` says whether the last feasible portfolio
  still matches the inputs, and :meth:`Session.export` refuses one that does not.

A *workspace* file saves the choices, not what was computed::

    [workspace]
    universe = "us-small-manufacturing"
    as_of = "2024-03-08"                   # optional
    holdings = "/home/me/holdings.csv"     # optional
    sheet = "Positions"                    # optional, for an .xlsx holdings file
    ignore_unknown = false
    capital = 250000.0                     # new cash (the cash to invest without holdings)

    [screen]          # a screen, as in a screen file
    [constraints]     # constraint settings, as in a constraints file
"""

from __future__ import annotations

import contextlib
import threading
import tomllib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BeforeValidator, Field

from optimizer.constraints import (
    ConstraintSettings,
    load_constraints,
    settings_from_dict,
    settings_to_toml,
)
from screener import Screen, ScreenResult, evidence, load_screen, rescreen, run_screen
from screener.screens import FILTERS, apply_filters, screen_from_dict, screen_to_toml
from tui.export import ExportError, export_context, export_rotation
from tui.kept import keep, read_kept, screen_key, solve_key
from tui.themes import dataset_theme_tags
from universes import DEFAULT_UNIVERSE, Universe, company_record, load_universe, open_dataset
from universes.errors import UserError
from universes.files import atomic_write_text
from universes.holdings import Holdings, read_holdings
from universes.toml_io import dump_toml, read_toml
from universes.validation import Schema, validate

if TYPE_CHECKING:
    from optimizer import RotationOptimizer, RotationResult
    from screener.themes import ThemeTags

DEFAULT_CAPITAL = 1_000_000.0
WORKSPACE_KEYS = ("universe", "as_of", "holdings", "sheet", "ignore_unknown", "capital")
SHIPPED_CONSTRAINTS = "shipped defaults (optimizer/constraints.toml)"
#: The company fields a card carries (identity, market data, data quality).
CARD_FIELDS = (
    "ticker", "name", "cik", "exchange", "sector", "industry", "sic", "sic_source", "country",
    "security_type", "listed", "employees", "manufacturing", "life_sciences", "price",
    "price_date", "shares", "market_cap", "adv_usd", "adv_shares", "fiscal_year",
    "fundamentals_age_months", "data_flags", "excluded_reason",
)  # fmt: skip


class WorkspaceError(UserError):
    """A workspace file cannot be used (the message names the file and says why)."""


@dataclass(frozen=True)
class SolveOutcome:
    """What one solve produced.

    Attributes
    ----------
    request : int
        The request number (newer requests have larger numbers; 0 = not numbered).
    version : int
        The inputs version the solve was for (see :attr:`Session.version`).
    result : RotationResult or None
        The new portfolio, or None when the solve failed.
    error : str
        Why it failed ('' on success): the infeasibility diagnosis or another user error.
    infeasible : bool
        The constraints cannot all hold (``conflicts`` says which).
    conflicts : tuple
        The diagnosis, one :class:`optimizer.Conflict` per reason.
    kept : bool
        The result was read back from an earlier run's identical first solve
        (:mod:`tui.kept`), not solved now.
    """

    request: int
    version: int
    result: RotationResult | None
    error: str = ""
    infeasible: bool = False
    conflicts: tuple[Any, ...] = field(default=())
    kept: bool = False

    @property
    def superseded(self) -> bool:
        """A newer request overtook this one before it ran."""
        return self.error == "superseded"


@dataclass(frozen=True)
class HoldingsSummary:
    """What the session starts from, in numbers.

    Attributes
    ----------
    source : str
        The holdings file, or ``"cash"``.
    positions : int
        Priced positions held today.
    value : float
        Their value at the as-of prices (USD).
    cash : float
        The holdings' own cash (USD).
    new_cash : float
        Capital added on top (USD).
    total : float
        ``value + cash + new_cash``: what the weights refer to.
    untradeable : tuple of str
        Tickers the data do not know, kept as they are.
    unpriced : tuple of str
        Known tickers with no price on the as-of date (left out of the value).
    warnings : tuple of str
        Merges and other notes from reading the file.
    """

    source: str
    positions: int
    value: float
    cash: float
    new_cash: float
    total: float
    untradeable: tuple[str, ...] = ()
    unpriced: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """One line: where the money comes from."""
        if self.source == "cash":
            return f"all cash, {self.total:,.0f} USD"
        parts = [f"{self.source}: {self.positions} positions {self.value:,.0f} USD", f"cash {self.cash:,.0f}"]
        if self.new_cash:
            parts.append(f"new cash {self.new_cash:,.0f}")
        return " + ".join(parts) + f" = {self.total:,.0f} USD"


class Session:
    """One working session: the choices, the screen, the optimiser and the latest results.

    Parameters
    ----------
    universe : str
        Universe name, or a ``.csv``/``.xlsx`` list of tickers.
    as_of : str, optional
        An earlier date within the data (point in time).
    fundamentals : str, optional
        The user's own fundamentals file.
    screen : str, Screen or None
        Screen name or file, or a :class:`screener.Screen` (default: the shipped screen).
    constraints : str, ConstraintSettings or None
        Constraints file or settings (default: the shipped ones).
    holdings : str, optional
        Holdings file (``.csv``/``.xlsx``); None starts from cash.
    sheet : str, optional
        Worksheet of an ``.xlsx`` holdings file (default: the first).
    ignore_unknown : bool
        Keep holdings the data do not know as untradeable instead of refusing the file.
    capital : float, optional
        New cash (see the module docstring).
    solves_once : bool
        The caller solves once (``rotation optimize``): the optimiser's first solve skips
        cvxpy's parametrised compile, which only re-solves repay (same answer; less time and
        about 50 MB less memory on the default universe).
    keep_solves : bool
        Keep first solves between runs and read back one whose inputs and code are unchanged
        (:mod:`tui.kept`); False always solves.

    Raises
    ------
    universes.errors.UserError
        Anything the user named cannot be used (the message says what and where).
    """

    def __init__(
        self,
        universe: str = DEFAULT_UNIVERSE,
        *,
        as_of: str | None = None,
        fundamentals: str | None = None,
        screen: str | Screen | None = None,
        constraints: str | ConstraintSettings | None = None,
        holdings: str | None = None,
        sheet: str | None = None,
        ignore_unknown: bool = False,
        capital: float | None = None,
        solves_once: bool = False,
        keep_solves: bool = True,
    ) -> None:
        self._lock = threading.RLock()  # guards the session's fields (held briefly)
        self._solve_lock = threading.RLock()  # one solve, or one change of the optimiser, at a time
        self._requests = 0
        self.version = 0
        if isinstance(screen, Screen):
            self.screen, self.screen_label = screen, screen.name
        else:
            self.screen = load_screen(screen)
            self.screen_label = self.screen.name + (f" ({screen})" if screen else "")
        if isinstance(constraints, ConstraintSettings):
            self.settings, self.constraints_label = constraints, "set in the app"
        else:
            self.settings = load_constraints(constraints)
            self.constraints_label = constraints or SHIPPED_CONSTRAINTS
        self.shipped_screen = load_screen(None)
        self.shipped_settings = load_constraints(None)
        self._history: list[tuple[Screen, ConstraintSettings]] = []
        self.capital = check_capital(capital)
        self.as_of = as_of
        self.fundamentals_file = fundamentals
        self.universe: Universe = load_universe(universe, as_of=as_of, fundamentals_file=fundamentals)
        check_tickers(self.settings, open_dataset(self.universe.dataset).companies, self.constraints_label)
        self.tags = dataset_theme_tags(self.universe.dataset)
        self.screened: ScreenResult = self._run_screen(self.universe, self.screen, self.tags)
        self.holdings_path: str | None = None
        self.sheet: str | None = None
        self.ignore_unknown = ignore_unknown
        self.holdings: Holdings | None = None
        if holdings:
            self.holdings = self._read_holdings(holdings, sheet, ignore_unknown)
            self.holdings_path, self.sheet = holdings, sheet
        self.solves_once = solves_once
        self.keep_solves = keep_solves
        self._optimizer: RotationOptimizer | None = None
        self.portfolio: RotationResult | None = None
        self.latest: SolveOutcome | None = None

    # ---------------------------------------------------------------- inputs
    def _read_holdings(self, path: str, sheet: str | None, ignore_unknown: bool) -> Holdings:
        known = open_dataset(self.universe.dataset).companies
        return read_holdings(path, known, sheet=sheet, ignore_unknown=ignore_unknown)

    @property
    def optimizer(self) -> RotationOptimizer:
        """The optimiser for the current universe, screen, holdings and cash (built on first use:
        commands that only read do not load the solver)."""
        with self._lock:
            if self._optimizer is None:
                from optimizer import RotationOptimizer, SolverSettings

                solver = SolverSettings(substitute_first=self.solves_once)
                self._optimizer = RotationOptimizer(self.universe, self.screened, holdings=self.holdings, capital=self._new_cash(), solver=solver)
            return self._optimizer

    def _new_cash(self) -> float:
        if self.capital is not None:
            return self.capital
        return 0.0 if self.holdings is not None else DEFAULT_CAPITAL

    def _changed(self) -> None:
        self.version += 1

    def set_universe(self, name: str) -> None:
        """Switch universe (same date and fundamentals file): re-screen and rebuild the optimiser.

        Holdings, screen and constraints are kept. Nothing changes on error.
        """
        universe = load_universe(name, as_of=self.as_of, fundamentals_file=self.fundamentals_file)
        tags = dataset_theme_tags(universe.dataset)
        screened = self._run_screen(universe, self.screen, tags)
        with self._solve_lock, self._lock:
            self.universe, self.screened, self.tags = universe, screened, tags
            self._optimizer = None
            self._changed()

    @staticmethod
    def _run_screen(universe: Universe, screen: Screen, tags: ThemeTags | None) -> ScreenResult:
        """Screen a whole universe, or read the same screen back from an earlier run (:mod:`tui.kept`)."""
        key = screen_key(universe, screen, tags)
        screened = read_kept("screens", key, ScreenResult)
        if screened is None:
            screened = run_screen(universe, screen, tags)
            keep("screens", key, screened)
        return screened

    def set_holdings(self, path: str | None, sheet: str | None = None, ignore_unknown: bool = False) -> None:
        """Start from the holdings in ``path`` (None: from cash). Nothing changes on error."""
        holdings = self._read_holdings(path, sheet, ignore_unknown) if path else None
        with self._solve_lock, self._lock:
            self.holdings, self.holdings_path = holdings, path or None
            self.sheet = sheet if path else None
            self.ignore_unknown = ignore_unknown
            self._optimizer = None
            self._changed()

    def set_capital(self, capital: float | None) -> None:
        """New cash: the cash to invest without holdings, added to their cash with holdings."""
        amount = check_capital(capital)
        with self._solve_lock, self._lock:
            self.capital = amount
            self._optimizer = None
            self._changed()

    def set_screen(self, screen: Screen, *, record: bool = True) -> ScreenResult:
        """Apply a changed screen: re-filter (or re-score) and give the optimiser the new ranks."""
        screened = rescreen(self.screened, screen, self.universe, self.tags)
        with self._solve_lock, self._lock:
            if record and screen != self.screen:
                self._history.append((self.screen, self.settings))
            self.screen, self.screened = screen, screened
            if self._optimizer is not None:
                self._optimizer.set_screen(screened)
            self._changed()
        return screened

    def set_settings(self, settings: ConstraintSettings, *, record: bool = True) -> None:
        """Use new constraint settings from the next solve on."""
        with self._lock:
            if settings == self.settings:
                return
            if record:
                self._history.append((self.screen, self.settings))
            self.settings = settings
            if self.constraints_label == SHIPPED_CONSTRAINTS:
                self.constraints_label = "shipped defaults, changed in the app"
            self._changed()

    @property
    def can_undo(self) -> bool:
        """Whether a screen or constraint edit can be undone."""
        return bool(self._history)

    def undo(self) -> bool:
        """Go back to the screen and constraints before the last edit; False when none."""
        with self._lock:
            if not self._history:
                return False
            screen, settings = self._history.pop()
        if screen != self.screen:
            self.set_screen(screen, record=False)
        self.set_settings(settings, record=False)
        return True

    def reset_screen(self) -> None:
        """The shipped screen again (undoable)."""
        self.set_screen(self.shipped_screen)

    def reset_constraints(self) -> None:
        """The shipped constraints again (undoable)."""
        self.set_settings(self.shipped_settings)

    # ---------------------------------------------------------------- solving
    def next_request(self) -> int:
        """A number for a new solve request (the newest wins)."""
        with self._lock:
            self._requests += 1
            return self._requests

    def is_latest(self, request: int) -> bool:
        """Whether no newer request has been made since ``request``."""
        return request == self._requests

    def solve(self, settings: ConstraintSettings | None = None, request: int = 0) -> SolveOutcome:
        """Solve for ``settings`` (default: the current ones) and keep them.

        A failed solve keeps the last feasible portfolio in :attr:`portfolio` (it no longer
        :attr:`is_current`) and says why in the outcome. A numbered request that a newer one
        overtook while it waited is dropped unsolved, so an old solve never replaces a newer one.
        Solves run one at a time; the inputs can still change meanwhile (the outcome records the
        version it was solved for).
        """
        from optimizer import InfeasibleError, OptimizerError

        with self._solve_lock:
            with self._lock:
                if request and not self.is_latest(request):
                    return SolveOutcome(request, self.version, None, "superseded")
                if settings is not None:
                    self.set_settings(settings)
                version, chosen = self.version, self.settings
                fresh = self._optimizer is None and self.keep_solves
            # the universe, screen, holdings and cash change only under the solve lock, held here
            key = self._solve_key(chosen) if fresh else None
            kept = self._read_kept_solve(key) if key else None
            if kept is not None:
                with self._lock:
                    return self._record(SolveOutcome(request, version, kept, kept=True), None)
            optimizer = self.optimizer
            try:
                result = optimizer.solve(chosen)
            except InfeasibleError as exc:
                outcome = SolveOutcome(request, version, None, str(exc), True, tuple(exc.conflicts))
            except OptimizerError as exc:
                outcome = SolveOutcome(request, version, None, str(exc))
            else:
                outcome = SolveOutcome(request, version, result)
                if key:
                    keep("solves", key, result)
            with self._lock:
                return self._record(outcome, optimizer)

    @staticmethod
    def _read_kept_solve(key: str) -> RotationResult | None:
        from optimizer.rotation import RotationResult

        return read_kept("solves", key, RotationResult)

    def _solve_key(self, settings: ConstraintSettings) -> str:
        return solve_key(self.universe, self.screened, self.holdings, self.capital, settings, self.solves_once)

    def _record(self, outcome: SolveOutcome, optimizer: RotationOptimizer | None) -> SolveOutcome:
        """Make ``outcome`` the latest unless the inputs moved on meanwhile (lock held)."""
        if optimizer is self._optimizer and (self.latest is None or self.latest.version <= outcome.version):
            self.latest = outcome
            if outcome.result is not None:
                self.portfolio = outcome.result
        return outcome

    def prepare(self) -> None:
        """Build the optimiser and compile its problem now, so that the next change re-solves
        in milliseconds: after a kept first solve (:attr:`SolveOutcome.kept`) nothing is compiled.

        Meant for a worker thread while the kept result is on screen; the solve it runs gives
        the kept result again and is not recorded. Does nothing once the optimiser exists.
        """
        from optimizer import OptimizerError

        with self._solve_lock:
            with self._lock:
                if self._optimizer is not None:
                    return
                optimizer, chosen = self.optimizer, self.settings
            with contextlib.suppress(OptimizerError):  # settings that fail: the next solve says so
                optimizer.solve(chosen)

    @property
    def is_current(self) -> bool:
        """Whether :attr:`portfolio` was solved for the inputs as they are now."""
        latest = self.latest
        return latest is not None and latest.version == self.version and latest.result is not None

    def stale_reason(self) -> str:
        """Why the last feasible portfolio does not match the inputs ('' when it does)."""
        if self.is_current:
            return ""
        if self.portfolio is None and self.latest is None:
            return "nothing has been solved yet"
        latest = self.latest
        if latest is not None and latest.version == self.version:
            first = latest.error.splitlines()[0] if latest.error else "the solve failed"
            kind = "infeasible" if latest.infeasible else "not solvable"
            return f"the current settings are {kind} ({first.rstrip(':')})"
        return "the settings changed since the last solve"

    # ---------------------------------------------------------------- reading
    @property
    def holdings_summary(self) -> HoldingsSummary:
        """What the session starts from (positions, value, cash, new cash)."""
        from optimizer.rotation import starting_point

        start = starting_point(self.universe, self.holdings, self._new_cash())
        if self.holdings is None:
            return HoldingsSummary("cash", 0, 0.0, 0.0, start.value, start.value)
        h = self.holdings
        return HoldingsSummary(
            source=h.source,
            positions=len(start.held),
            value=start.held_value,
            cash=h.cash,
            new_cash=float(self.capital or 0.0),
            total=start.value,
            untradeable=tuple(h.untradeable.index),
            unpriced=tuple(start.unpriced),
            warnings=h.warnings,
        )

    @property
    def start_label(self) -> str:
        """Where the money comes from, in one line."""
        return self.holdings_summary.label

    def sector_mix(self) -> list[tuple[str, int, float]]:
        """Sectors of the universe: (sector, companies, share of market cap), largest first."""
        c = self.universe.companies
        sector = c["sector"].fillna("Unclassified")
        counts = sector.value_counts()
        caps = c["market_cap"].groupby(sector).sum()
        total = float(caps.sum()) or 1.0
        return [(str(s), int(n), float(caps.get(s, 0.0)) / total) for s, n in counts.items()]

    def rate_sensitivity(self) -> dict[str, Any] | None:
        """What a 100 bp rate cut does to the portfolio as the trade list leaves it.

        :func:`screener.rate_cuts.portfolio_rate_sensitivity` of the latest feasible
        portfolio's weights after trades; None before a solve. A portfolio of net-cash names
        earns less when rates fall (their interest income shrinks), so the gain can be negative.
        """
        from screener.rate_cuts import portfolio_rate_sensitivity

        result = self.portfolio
        if result is None:
            return None
        table = self.screened.table
        return portfolio_rate_sensitivity(result.weights["weight_sent"], table, table)

    def failed_filters(self, ticker: str) -> list[str]:
        """The screen filters a company of the universe fails, in words ([] when it passes)."""
        table = self.screened.table
        if ticker not in table.index:
            return []
        row = table.loc[[ticker]]
        return [
            f"{key} = {value!r} ({FILTERS[key]})"
            for key, value in self.screen.filters.items()
            if not bool(apply_filters(row, {key: value}).iloc[0])
        ]

    def company_card(self, ticker: str) -> dict[str, Any]:
        """Everything known about one company: identity, market data, fundamentals as corrected
        and as reported, every data correction or flag with its evidence, and the screen's
        evidence.

        Any company of the dataset can be looked up; the screen's evidence is there when it is
        in the session's universe, otherwise ``evidence_note`` says why it is not.

        Raises
        ------
        universes.UniverseError
            The ticker is not in the dataset (with close matches).
        """
        record = company_record(
            ticker, dataset=self.universe.dataset, as_of=self.universe.as_of, fundamentals_file=self.fundamentals_file
        )
        company = record.company
        t = str(company["ticker"])
        card: dict[str, Any] = {k: company.get(k) for k in CARD_FIELDS}
        card["as_of"] = self.universe.as_of.date().isoformat()
        card["universe"] = self.universe.name
        card["fundamentals"] = record.fundamentals.drop(columns=["ticker"])
        card["raw_fundamentals"] = record.raw_fundamentals.drop(columns=["ticker"])
        card["integrity"] = record.integrity
        card["business_summary"] = record.business_summary
        card["held_shares"] = float(self.holdings.shares.get(t, 0.0)) if self.holdings is not None else 0.0
        card["themes"] = self.tags.why(t) if t in self.tags.table.index else []
        if t in self.screened.table.index:
            card["evidence"] = evidence(self.screened, t)
            card["failed_filters"] = self.failed_filters(t)
            card["evidence_note"] = ""
        else:
            card["evidence"] = None
            card["failed_filters"] = []
            excluded = company.get("excluded_reason")
            reason = (
                f"left out of every universe: {excluded}"
                if isinstance(excluded, str) and excluded
                else f"not in the {self.universe.name} universe on {card['as_of']}"
            )
            card["evidence_note"] = f"No screen evidence: {reason}."
        if self.portfolio is not None and t in self.portfolio.weights.index:
            w = self.portfolio.weights.loc[t]
            card["portfolio"] = {"weight_before": float(w["weight_before"]), "weight_after": float(w["weight_after"]), "alpha": float(w["alpha"])}
        return card

    # ---------------------------------------------------------------- export
    def export(self, path: str | Path, overwrite: bool = False) -> tuple[Path, Path]:
        """Write the current portfolio's workbook and basket file (atomically).

        Raises
        ------
        tui.export.ExportError
            No portfolio, a portfolio that does not match the current inputs, a file exists
            and ``overwrite`` is false, or the write failed. Nothing is written then.
        """
        with self._lock:
            result, screened = self.portfolio, self.screened
            if result is None:
                raise ExportError("There is no feasible portfolio to export yet.")
            if not self.is_current:
                raise ExportError(
                    f"Not exported: {self.stale_reason()}, so the last feasible trade list belongs to "
                    "earlier settings. Change the settings until the portfolio solves, then export."
                )
            ctx = export_context(self.universe, self.screen_label, self.start_label, self.constraints_label)
        return export_rotation(path, result, screened, ctx, overwrite=overwrite)

    # ---------------------------------------------------------------- workspace
    def workspace(self) -> dict[str, Any]:
        """The session's choices as a workspace document."""
        ws: dict[str, Any] = {"universe": self.universe.name}
        if self.as_of:
            ws["as_of"] = str(self.as_of)
        if self.capital is not None:
            ws["capital"] = self.capital
        if self.holdings_path:
            ws["holdings"] = str(Path(self.holdings_path).expanduser().resolve())
            if self.sheet:
                ws["sheet"] = self.sheet
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
            raise ExportError(f"Could not write {target}: {exc.strerror or exc}. Nothing was replaced.") from exc
        return target

    @classmethod
    def from_workspace(cls, path: str | Path) -> Session:
        """Open a saved workspace.

        The file is checked against :class:`WorkspaceFile` (strict types, no unknown keys), its
        ``[screen]`` against the screen schema and its ``[constraints]`` by the optimiser.

        Raises
        ------
        WorkspaceError
            The file is missing, unreadable or not TOML, has a key of the wrong type or an
            unknown one, or names something that cannot be used; the message names the
            workspace file (and the table and key where there is one). A front end shows it and
            carries on with the session it had.
        """
        p = Path(path).expanduser()
        data = read_toml(p, WorkspaceError, "workspace")
        checked = validate(WorkspaceFile, data, WorkspaceError, p)
        ws = checked.workspace or WorkspaceTable()
        try:
            screen = screen_from_dict(checked.screen, p, table="screen") if checked.screen is not None else None
            settings = _workspace_constraints(checked.constraints, p) if checked.constraints is not None else None
            session = cls(
                universe=ws.universe,
                as_of=ws.as_of,
                screen=screen,
                constraints=settings,
                holdings=ws.holdings,
                sheet=ws.sheet,
                ignore_unknown=ws.ignore_unknown,
                capital=ws.capital,
            )
        except UserError as exc:
            message = str(exc)
            raise WorkspaceError(message if str(p) in message else f"{p}: {message}") from exc
        session.constraints_label = f"from workspace {p.name}"
        return session


def _as_text(value: Any) -> Any:
    """A TOML date (``as_of = 2024-03-08``, unquoted) as the text a quoted one would be."""
    return value.isoformat() if isinstance(value, date) else value


class WorkspaceTable(Schema):
    """The ``[workspace]`` table of a workspace file (see the module docstring)."""

    universe: str = Field(default=DEFAULT_UNIVERSE, min_length=1, description="a universe name or a .csv/.xlsx list of tickers")
    as_of: Annotated[str, BeforeValidator(_as_text)] | None = Field(default=None, description="YYYY-MM-DD")
    holdings: str | None = Field(default=None, description="the path of a .csv/.xlsx holdings file")
    sheet: str | None = Field(default=None, description="the worksheet of an .xlsx holdings file")
    ignore_unknown: bool = Field(default=False, description="true: keep holdings the data do not know as untradeable")
    capital: Annotated[float, Field(ge=0, lt=1e15)] | None = Field(default=None, description="new cash, USD")


class WorkspaceFile(Schema):
    """A whole workspace file: ``[workspace]``, ``[screen]`` and ``[constraints]``."""

    workspace: WorkspaceTable | None = Field(default=None, description="a [workspace] table: " + ", ".join(WORKSPACE_KEYS))
    screen: dict[str, Any] | None = Field(default=None, description="a [screen] table, as in a screen file")
    constraints: dict[str, Any] | None = Field(default=None, description="a [constraints] table, as in a constraints file")


def _workspace_constraints(table: dict[str, Any], path: Path) -> ConstraintSettings:
    """A workspace's ``[constraints]`` as settings; anything unusable is a WorkspaceError."""
    try:
        return settings_from_dict(table, path, "constraints")
    except UserError:
        raise
    except (TypeError, ValueError, AttributeError, KeyError) as exc:
        # the constraints reader does not yet type-check every value: a wrong type in a
        # hand-edited workspace must still be a message, not a crash of the app
        raise WorkspaceError(f"{path}: [constraints] cannot be used ({type(exc).__name__}: {exc}).") from exc


def check_tickers(settings: ConstraintSettings, known: Any, source: str) -> None:
    """Every no-buy and no-sell ticker is one the data know; else a ConstraintError naming the
    list, the ticker and close matches."""
    from optimizer.constraints import ConstraintError
    from universes.tickers import close_matches, unknown_ticker_message

    for table in ("no_buy", "no_sell"):
        for ticker in getattr(settings, table):
            if ticker not in known.index:
                hint = close_matches(ticker, known.index, known["name"])
                raise ConstraintError(f"{source}: [{table}] tickers: {unknown_ticker_message(ticker, hint, 'the data')}")


def check_capital(capital: float | None) -> float | None:
    """``capital`` as a float, or an error a person can act on (None passes: the default)."""
    if capital is None:
        return None
    value = float(capital)
    if not (value >= 0 and value < 1e15):
        raise UserError(f"Capital must be an amount of USD, 0 or more (got {capital!r}).")
    return value


def parse_money(text: str) -> float:
    """USD typed by a person: ``1,000,000``, ``$250,000``, ``500k``, ``1.5m``, ``2bn``.

    Raises
    ------
    universes.errors.UserError
        Not an amount of money.
    """
    cleaned = str(text).strip().lower().replace(",", "").replace("_", "").replace("$", "").replace(" ", "")
    scale = 1.0
    for suffix, factor in (("bn", 1e9), ("b", 1e9), ("m", 1e6), ("k", 1e3)):
        if cleaned.endswith(suffix):
            cleaned, scale = cleaned[: -len(suffix)], factor
            break
    try:
        value = float(cleaned) * scale
    except ValueError:
        raise UserError(f"{text!r} is not an amount of USD (examples: 250000, 250,000, $250k, 1.5m).") from None
    if value != value or value in (float("inf"), float("-inf")) or value < 0:
        raise UserError(f"{text!r} is not an amount of USD, 0 or more.")
    return value


__all__ = [
    "DEFAULT_CAPITAL",
    "HoldingsSummary",
    "Session",
    "SolveOutcome",
    "WorkspaceError",
    "check_capital",
    "parse_money",
]
