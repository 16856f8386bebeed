"""Does the screen work? A walk-forward backtest of the screen and the rotation, point in time.

At every rebalance date the walk does exactly what ``rotation optimize --as-of DATE`` would have
done that day, starting from what the previous step left:

1. load the universe as of the date (fiscal years published by then, prices up to then);
2. run the screen on it (fair values, scores, filters, ranks);
3. build the optimiser over it from the holdings carried forward and solve (the same risk
   model, constraints, whole shares rounded to lots and cost model as the trade list);
4. apply the trade list: shares change by the traded amounts, cash pays for buys and costs.

Between rebalances the holdings drift with the market: shares stay as they are, dividends are
paid into cash (read off the adjusted closes: ``D = close x (1 - f_prev / f)`` where
``f = adjusted close / close`` steps down on an ex-date) and cash earns ``cash_rate`` a year,
compounded daily over calendar days. The same rate is the risk-free rate of the Sharpe and
Sortino ratios. Prices are split-adjusted, so share counts are in the price file's units.

Point in time, enforced
    Every piece of data a decision uses reaches it through a :class:`PointInTime` view dated
    at the decision; the view checks the data's own dates (fiscal years' publish dates, the
    last price session, each company's price date), not only its label, and raises
    :class:`LookAheadError` on anything later. Accounting between two dates goes through a
    view dated at the later one.

Leak canary, run with every backtest
    At each rebalance the universe of the *next* rebalance, relabelled with the current date
    (a variant fed data shifted one period into the future), is shown to the current date's
    guard, which must refuse it: ``canary['refused']`` counts the dates where it did. A
    deliberately leaky signal (the screen's composite averaged with the rank of the next
    period's return) is scored beside the honest one; its rank IC and top-quintile return are
    what a one-period leak looks like, and an honest run that comes anywhere near them leaks.

Benchmarks, built from constituents (no index levels are in the data)
    The universe equal-weighted and cap-weighted, and the large caps (``us-large``)
    cap-weighted, each rebalanced on the same dates with dividends reinvested, without costs.
    Small cap-weighted minus large cap-weighted is the rotation spread itself.

Survivorship, stated
    The price data hold only companies still listed at the end of the data. At every
    rebalance the backtest counts the companies that had published fundamentals but have no
    later price (they could never be bought here), prints the counts in a banner with the
    likely direction of the bias (upward), and offers ``delisting_return``: a held company
    that stops reporting (newest fiscal year ended more than 18 months before, the us-all
    rule) or stops trading is then sold at its last close times ``1 + delisting_return``.
    Shumway (1997, Journal of Finance 52(1)) measured about -30% for performance-related
    delistings (:data:`SHUMWAY_DELISTING_RETURN`); the default applies none.

Sweeps
    :func:`run_sweep` runs a grid of screens and constraint sets (:func:`load_sweep`). Each
    variant's path is sequential in time, so the work is split across variants, never across
    dates: variants are dealt round-robin into one group per worker, and each group walks the
    dates in lockstep, sharing the day's universe and screens, each variant with its own
    optimiser built in the worker (solved cvxpy problems do not pickle). Locally the groups
    run in a process pool; with the ``dask`` extra, on a Dask cluster. A variant's result
    depends on nothing but its spec, so the results are identical byte for byte whatever the
    executor and the number of workers.

Everything that touches the universes, screener and optimiser APIs is in the section marked
"touch points" below.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import tomllib
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from optimizer import performance as pf
from optimizer.constraints import (
    ConstraintSettings,
    load_constraints,
    settings_from_dict,
    settings_to_toml,
)
from screener import Screen, ScreenResult, load_screen, run_screen
from screener.screens import screen_to_toml
from universes import DEFAULT_UNIVERSE, Universe, load_universe, open_dataset
from universes.errors import UserError
from universes.holdings import Holdings

if TYPE_CHECKING:
    from optimizer import RotationOptimizer

FREQUENCIES = {"monthly": "M", "quarterly": "Q"}
PERIODS_PER_YEAR = {"monthly": 12, "quarterly": 4}
#: Cash earns this a year unless told otherwise: close to the average 3-month U.S. Treasury
#: bill rate of 2019-2024 (FRED series TB3MS averaged about 2.2%), as one flat figure.
DEFAULT_CASH_RATE = 0.02
#: Average return of performance-related delistings (Shumway 1997); an option, not a default.
SHUMWAY_DELISTING_RETURN = -0.30
#: A company whose newest fiscal year ended longer ago than this has stopped reporting.
STOPPED_REPORTING_MONTHS = 18.0
LARGE_UNIVERSE = "us-large"
DEFAULT_CAPITAL = 1_000_000.0
#: Periods of realised IC needed before ``calibrate_ic`` replaces the settings' ``alpha_ic``.
MIN_IC_PERIODS = 3
QUANTILES = 5
CASH_SECTOR = "Cash"
BENCHMARKS = ("small_ew", "small_cw", "large_cw")
BENCHMARK_LABELS = {
    "rotation": "Rotation",
    "small_ew": "Universe, equal-weighted",
    "small_cw": "Universe, cap-weighted",
    "large_cw": "Large caps, cap-weighted",
}


class BacktestError(UserError):
    """A backtest cannot run as asked (the message says what to change)."""


class LookAheadError(AssertionError):
    """Data dated after a decision reached it: the backtest would see the future."""


# ------------------------------------------------------------------------------ the guard
@dataclass(frozen=True)
class PointInTime:
    """The data a decision on ``as_of`` may use, and the check that it uses nothing later.

    Every method returns data only after checking the data's own dates against ``as_of``
    and raises :class:`LookAheadError` otherwise (an explicit raise, so that ``python -O``
    keeps it).
    """

    as_of: pd.Timestamp

    def check(self, what: str, latest: Any) -> None:
        """Refuse ``what`` when its latest date is after the decision date."""
        if latest is None or latest is pd.NaT:
            return
        when = pd.Timestamp(latest)
        if pd.notna(when) and when > self.as_of:
            raise LookAheadError(
                f"{what} dated {when.date()} reached a decision of {self.as_of.date()}: the backtest would use the future."
            )

    def check_universe(self, u: Universe) -> Universe:
        """A universe, after checking its label, fiscal years, prices and price dates."""
        self.check(f"universe {u.name} (as of)", u.as_of)
        self.check(f"universe {u.name}: fiscal years published", _latest(u.fundamentals, "publish_date"))
        if u.reference_fundamentals is not None:
            self.check(f"universe {u.name}: peer fiscal years published", _latest(u.reference_fundamentals, "publish_date"))
        if len(u.prices.dates):
            self.check(f"universe {u.name}: prices", u.prices.dates[-1])
        self.check(f"universe {u.name}: company prices", _latest(u.companies, "price_date"))
        if u.reference_companies is not None:
            self.check(f"universe {u.name}: peer prices", _latest(u.reference_companies, "price_date"))
        return u

    def check_market(self, everyone: pd.DataFrame) -> pd.DataFrame:
        """Every company's market data, after checking their price dates."""
        self.check("market data", _latest(everyone, "price_date"))
        return everyone

    def check_screen(self, screened: ScreenResult) -> ScreenResult:
        """A screen result, after checking the date it was computed for."""
        self.check(f"screen of {screened.universe_name}", screened.as_of)
        return screened

    def check_optimizer(self, opt: RotationOptimizer) -> RotationOptimizer:
        """An optimiser, after checking the prices behind its risk model and valuation."""
        self.check("optimizer universe", opt.universe.as_of)
        if len(opt.prices.dates):
            self.check("optimizer prices", opt.prices.dates[-1])
        self.check("optimizer market data", _latest(opt.market, "price_date"))
        return opt

    def window(
        self, prices: DailyPrices, tickers: pd.Index, start: pd.Timestamp, end: pd.Timestamp | None = None
    ) -> PriceWindow:
        """Closes, adjusted closes and dividends of ``tickers`` from ``start`` to ``end``
        (default: the view's date)."""
        end = self.as_of if end is None else end
        self.check("price window", prices.dates[prices.row(end)])
        return prices.window(tickers, start, end)


def _latest(frame: pd.DataFrame, column: str) -> Any:
    if column not in frame.columns or not len(frame):
        return None
    return frame[column].max()


# ------------------------------------------------------------------------------ prices for accounting
@dataclass(frozen=True)
class PriceWindow:
    """Sessions ``(start, end]`` of some tickers, with the closes on ``start`` in row 0."""

    dates: np.ndarray  # sessions start..end (row 0 = start)
    close: np.ndarray  # last close on or before each session
    adj_close: np.ndarray
    dividends: np.ndarray  # per share, paid on each session after start (rows 1..)

    def total_return(self) -> np.ndarray:
        """Each ticker's total return from the first to the last session (NaN without a price)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            out: np.ndarray = self.adj_close[-1] / self.adj_close[0] - 1.0
        return out


class DailyPrices:
    """The dataset's daily closes and adjusted closes, carried forward over missing sessions.

    A session's value uses only that session and earlier ones, so slicing the rows up to a
    date is point in time.
    """

    def __init__(self, dataset: str) -> None:
        history = open_dataset(dataset).prices
        self.dates = history.dates
        self.tickers = history.tickers
        self.close = pd.DataFrame(history.close).ffill().to_numpy()
        self.adj_close = pd.DataFrame(history.adj_close).ffill().to_numpy()
        self._traded = ~np.isnan(history.close)

    def last_price_dates(self, until: pd.Timestamp) -> pd.Series:
        """Each ticker's last session with a trade on or before ``until`` (NaT: none)."""
        traded = self._traded[: self.row(until) + 1]
        last = np.where(traded.any(axis=0), len(traded) - 1 - np.argmax(traded[::-1], axis=0), -1)
        return pd.Series(np.where(last >= 0, self.dates[np.maximum(last, 0)], np.datetime64("NaT")), index=self.tickers)

    def row(self, when: pd.Timestamp) -> int:
        """The last session on or before ``when``."""
        return int(np.searchsorted(self.dates, np.datetime64(when, "ns"), side="right")) - 1

    def window(self, tickers: pd.Index, start: pd.Timestamp, end: pd.Timestamp) -> PriceWindow:
        cols = self.tickers.get_indexer(tickers)
        if (cols < 0).any():
            raise KeyError(f"no prices for {list(tickers[cols < 0][:5])}")
        r0, r1 = self.row(start), self.row(end)
        close = self.close[r0 : r1 + 1][:, cols]
        adj = self.adj_close[r0 : r1 + 1][:, cols]
        with np.errstate(divide="ignore", invalid="ignore"):
            factor = adj / close
            step = factor[:-1] / factor[1:]
            paid = np.where(step < 1 - 1e-5, close[:-1] * (1 - step), 0.0)
        return PriceWindow(self.dates[r0 : r1 + 1], close, adj, np.nan_to_num(paid))


# ------------------------------------------------------------------------------ touch points
# The only places that call the universes, screener and optimiser APIs; update them here.
def _load_universe(name: str, view: PointInTime) -> Universe:
    return view.check_universe(load_universe(name, as_of=view.as_of))


def _market(dataset: str, view: PointInTime) -> pd.DataFrame:
    """Every company of the dataset with price, sector and fundamentals age on the date."""
    from universes.loader import market_frame

    everyone, _ = market_frame(dataset, view.as_of)
    return view.check_market(everyone)


def _run_screen(universe: Universe, screen: Screen, view: PointInTime) -> ScreenResult:
    return view.check_screen(run_screen(universe, screen))


def _score_columns(screened: ScreenResult) -> pd.DataFrame:
    """The composite and each weighted factor's percentile (higher = better), per company."""
    table = screened.table
    factors = [f for f, w in screened.screen.weights.items() if w > 0 and f"pct_{f}" in table.columns]
    out = table[["composite", *(f"pct_{f}" for f in factors)]].astype(float)
    out.columns = pd.Index(["composite", *factors])
    return out


def _one_year_share(screened: ScreenResult) -> float:
    """Share of the screened universe with a single fiscal year (year-on-year signals partial)."""
    years = screened.table["years_of_data"]
    return float((years < 2).mean()) if len(years) else float("nan")


@dataclass(frozen=True)
class Rebalance:
    """What one solve did to a path."""

    shares: pd.Series  # after trading
    cash: float
    trades: pd.DataFrame
    costs: float
    turnover: float
    status: str
    names: int


def _rebalance(
    view: PointInTime,
    universe: Universe,
    screened: ScreenResult,
    shares: pd.Series,
    cash: float,
    settings: ConstraintSettings,
) -> Rebalance:
    """Solve the rotation from ``shares`` and ``cash`` and apply its trade list."""
    from optimizer import OptimizerError, RotationOptimizer, SolverSettings

    holdings = Holdings(shares=shares[shares > 0].astype(float), cash=float(cash), source="backtest")
    once = SolverSettings(substitute_first=True)  # each date's optimiser solves once
    try:
        with warnings.catch_warnings():  # an inaccurate solve shows in the status instead
            warnings.simplefilter("ignore", UserWarning)
            warnings.simplefilter("ignore", RuntimeWarning)
            opt = view.check_optimizer(RotationOptimizer(universe, screened, holdings=holdings, capital=0.0, solver=once))
            result = opt.solve(settings)
    except OptimizerError as exc:
        first = str(exc).splitlines()
        status = "not rebalanced: " + " ".join(line.strip(" -") for line in first[:3])
        return Rebalance(shares, cash, _NO_TRADES, 0.0, 0.0, status, int((shares > 0).sum()))
    t = result.trades
    trades = t.trades[["ticker", "side", "shares", "price", "notional", "est_cost", "reason"]].copy()
    after = shares.copy()
    if len(trades):
        after = after.reindex(after.index.union(pd.Index(t.trades["ticker"])), fill_value=0.0)
        after.loc[t.trades["ticker"].to_numpy()] = t.trades["shares_after"].to_numpy(float)
    after = after[after > 0].sort_index()
    return Rebalance(after, float(t.cash_after), trades, float(t.costs), float(t.turnover), str(result.status), len(after))


_NO_TRADES = pd.DataFrame(columns=["ticker", "side", "shares", "price", "notional", "est_cost", "reason"])


# ------------------------------------------------------------------------------ what to run
@dataclass(frozen=True)
class BacktestSpec:
    """One backtest: everything that defines its path.

    Attributes
    ----------
    universe : str
        Universe name (re-formed point in time at every rebalance).
    screen : Screen
    settings : ConstraintSettings
    frequency : str
        ``"monthly"`` or ``"quarterly"`` (the last session of each).
    start, end : str or None
        First rebalance (default: the first possible date, see :func:`first_possible_date`)
        and the last valuation date (default: the end of the data).
    capital : float or None
        New cash: the cash to start from without holdings (default 1,000,000 USD), added to
        the holdings' cash with them.
    holdings : Holdings or None
        Start from these holdings instead of cash.
    cash_rate : float
        Annual rate cash earns (and the risk-free rate).
    delisting_return : float or None
        Return applied to a held company that stops reporting or trading (None: none).
    calibrate_ic : bool
        Replace ``alpha_ic`` at each rebalance by the composite's mean rank IC realised so far,
        scaled to a year: ``mean IC x sqrt(periods per year)``, clipped to [0, 1] (once
        ``MIN_IC_PERIODS`` periods are known).
    large_universe : str
        Universe of the large-cap benchmark.
    label : str
        Name of the variant in a sweep.
    screen_label, constraints_label : str
        Where the screen and constraints came from (for the output).
    look_ahead : int
        Only for the leak canary's test: decide on the universe this many rebalances ahead (a
        deliberately leaky variant; the guard refuses it).
    """

    universe: str = DEFAULT_UNIVERSE
    screen: Screen = field(default_factory=load_screen)
    settings: ConstraintSettings = field(default_factory=load_constraints)
    frequency: str = "monthly"
    start: str | None = None
    end: str | None = None
    capital: float | None = None
    holdings: Holdings | None = None
    cash_rate: float = DEFAULT_CASH_RATE
    delisting_return: float | None = None
    calibrate_ic: bool = False
    large_universe: str = LARGE_UNIVERSE
    label: str = ""
    screen_label: str = ""
    constraints_label: str = ""
    look_ahead: int = 0

    def __post_init__(self) -> None:
        if self.frequency not in FREQUENCIES:
            raise BacktestError(f"Rebalance frequency must be one of {', '.join(FREQUENCIES)}, not {self.frequency!r}.")
        if not (-0.05 <= self.cash_rate <= 0.5):
            raise BacktestError(f"The cash rate is a yearly fraction from -0.05 to 0.5 (0.02 = 2%), not {self.cash_rate!r}.")
        if self.delisting_return is not None and not (-1.0 <= self.delisting_return <= 1.0):
            raise BacktestError(f"The delisting return is a fraction from -1 to 1 (-0.3 = -30%), not {self.delisting_return!r}.")
        if self.capital is not None and not (self.capital >= 0):
            raise BacktestError(f"Capital must be an amount of USD, 0 or more (got {self.capital!r}).")

    @property
    def starting_cash(self) -> float:
        """Cash at the start: the holdings' own plus new cash."""
        if self.holdings is None:
            return DEFAULT_CAPITAL if self.capital is None else float(self.capital)
        return float(self.holdings.cash) + float(self.capital or 0.0)

    @property
    def screen_key(self) -> str:
        """The screen as text: variants with equal keys share one screen per date."""
        return screen_to_toml(self.screen)


# ------------------------------------------------------------------------------ schedule
def period_ends(dates: np.ndarray, frequency: str) -> pd.DatetimeIndex:
    """The last session of every month (or quarter) in ``dates``."""
    idx = pd.DatetimeIndex(dates)
    period = idx.to_period(FREQUENCIES[frequency])
    last = np.append(period[1:] != period[:-1], True)
    return idx[last]


def _date(text: str | None, what: str, default: pd.Timestamp) -> pd.Timestamp:
    if text is None:
        return default
    try:
        return pd.Timestamp(text).normalize()
    except (ValueError, TypeError) as exc:
        raise BacktestError(f"The {what} date {text!r} is not a date; use YYYY-MM-DD.") from exc


def _names_needed(settings: ConstraintSettings) -> int:
    """Names that must pass the screen for the budget to fit under the name cap."""
    if not settings.max_weight.enabled:
        return 1
    return max(1, math.ceil((1.0 - settings.cash_buffer) / settings.max_weight.value - 1e-9))


class _Probe:
    """Loads and screens on candidate start dates, remembered for the walk that follows."""

    def __init__(self, universe: str) -> None:
        self.universe = universe
        self.universes: dict[pd.Timestamp, Universe | None] = {}
        self.screens: dict[tuple[pd.Timestamp, str], ScreenResult] = {}

    def load(self, when: pd.Timestamp) -> Universe | None:
        if when not in self.universes:
            try:
                self.universes[when] = _load_universe(self.universe, PointInTime(when))
            except UserError:
                self.universes[when] = None
        return self.universes[when]

    def passing(self, when: pd.Timestamp, spec: BacktestSpec) -> int:
        u = self.load(when)
        if u is None or len(u) == 0:
            return 0
        key = (when, spec.screen_key)
        if key not in self.screens:
            self.screens[key] = _run_screen(u, spec.screen, PointInTime(when))
        return len(self.screens[key].ranked)

    def keep(self, dates: set[pd.Timestamp]) -> None:
        """Forget what was loaded and screened on any other date."""
        self.universes = {when: u for when, u in self.universes.items() if when in dates}
        self.screens = {key: s for key, s in self.screens.items() if key[0] in dates}


def first_possible_date(spec: BacktestSpec, probe: _Probe | None = None) -> pd.Timestamp:
    """The first rebalance date (a period end) on which the walk can invest.

    It is the first period end on which the universe can be formed (enough price history and
    published fundamentals) and the screen passes enough names to invest the budget under the
    name cap (``ceil((1 - cash buffer) / name cap)``). The count of passing names grows as
    fiscal years get published, so the search gallops forward from the first period end
    (1, 2, 4, ... periods) and then bisects: a few probes, and none beyond the first when the
    data's first usable date already qualifies.

    Raises
    ------
    BacktestError
        No date in the data qualifies.
    """
    from universes.loader import MIN_HISTORY_SESSIONS

    probe = probe or _Probe(spec.universe)
    dataset = open_dataset(dataset_of(spec.universe))
    end = _date(spec.end, "end", dataset.as_of)
    sessions = dataset.prices.dates
    usable = sessions[min(MIN_HISTORY_SESSIONS, len(sessions) - 1)]
    ends = [pd.Timestamp(d) for d in period_ends(sessions, spec.frequency) if usable <= d < end]
    needed = _names_needed(spec.settings)

    def ok(i: int) -> bool:
        return probe.passing(ends[i], spec) >= needed

    failed, i, step = -1, 0, 1
    while not ends or not ok(i):
        if not ends or i == len(ends) - 1:
            raise BacktestError(
                f"On no rebalance date in the data do {needed} names of {spec.universe} pass the screen {spec.screen.name!r}, "
                "as the budget needs under the name cap. Loosen the screen's filters or the name cap."
            )
        failed, i, step = i, min(i + step, len(ends) - 1), step * 2
    lo, hi = failed + 1, i
    while lo < hi:
        mid = (lo + hi) // 2
        if ok(mid):
            hi = mid
        else:
            lo = mid + 1
    return ends[lo]


def dataset_of(universe: str) -> str:
    """The dataset a universe is formed from (a ticker-list file picks from us-all)."""
    from universes.catalog import resolve_chain, root_dataset, universe_definitions
    from universes.paths import is_table_path

    return root_dataset(resolve_chain("us-all" if is_table_path(universe) else universe, universe_definitions()))


def rebalance_dates(spec: BacktestSpec, probe: _Probe | None = None) -> tuple[list[pd.Timestamp], pd.Timestamp]:
    """The rebalance dates and the final valuation date of a spec.

    The first rebalance is ``spec.start`` (or the first session after it), else the first
    possible date; then the last session of every month or quarter before the end.
    """
    dataset = open_dataset(dataset_of(spec.universe))
    sessions = pd.DatetimeIndex(dataset.prices.dates)
    end = _date(spec.end, "end", dataset.as_of)
    if end > dataset.as_of or end <= sessions[0]:
        raise BacktestError(f"The end date {end.date()} is outside the data: use a date up to {dataset.as_of.date()}.")
    end = sessions[sessions <= end][-1]
    if spec.start is None:
        first = first_possible_date(spec, probe)
    else:
        wanted = _date(spec.start, "start", sessions[0])
        after = sessions[sessions >= wanted]
        if not len(after) or after[0] >= end:
            raise BacktestError(f"The start date {wanted.date()} leaves nothing to backtest before {end.date()}.")
        first = after[0]
    later = [pd.Timestamp(d) for d in period_ends(dataset.prices.dates, spec.frequency) if first < d < end]
    return [first, *later], end


# ------------------------------------------------------------------------------ one path
@dataclass
class _Path:
    """One variant walking forward: its holdings and everything it records."""

    spec: BacktestSpec
    shares: pd.Series
    cash: float
    dates: list[np.ndarray] = field(default_factory=list)
    values: list[np.ndarray] = field(default_factory=list)
    cash_growth: list[np.ndarray] = field(default_factory=list)
    periods: list[dict[str, Any]] = field(default_factory=list)
    holdings: list[pd.DataFrame] = field(default_factory=list)
    trades: list[pd.DataFrame] = field(default_factory=list)
    weights: list[pd.Series] = field(default_factory=list)  # after trading, with cash
    notes: list[str] = field(default_factory=list)

    def value_at(self, close: pd.Series) -> float:
        held = self.shares[self.shares > 0]
        return float((held * close.reindex(held.index)).sum() + self.cash)

    def drift(self, view: PointInTime, prices: DailyPrices, start: pd.Timestamp) -> None:
        """Carry the holdings from ``start`` to the view's date: prices move, dividends and
        interest go to cash."""
        held = self.shares[self.shares > 0]
        w = view.window(prices, held.index, start)
        n = held.to_numpy(float)
        days = np.diff(w.dates).astype("timedelta64[D]").astype(float)
        growth = (1.0 + self.spec.cash_rate) ** (days / 365.0)
        paid = w.dividends @ n
        grown = np.cumprod(growth)
        cash = grown * (self.cash + np.cumsum(paid / grown))
        stock = np.nan_to_num(w.close[1:] * n).sum(axis=1)
        self.dates.append(w.dates[1:])
        self.values.append(stock + cash)
        self.cash_growth.append(growth - 1.0)
        self.cash = float(cash[-1]) if len(cash) else self.cash


def _start(spec: BacktestSpec, when: pd.Timestamp, prices: DailyPrices) -> _Path:
    shares = pd.Series(dtype=float)
    if spec.holdings is not None:
        shares = spec.holdings.shares.astype(float)
        unknown = shares.index.difference(prices.tickers)
        if len(unknown):
            raise BacktestError(f"No prices in the data for holdings {', '.join(unknown[:5])}; remove them or start from cash.")
    path = _Path(spec, shares, spec.starting_cash)
    close = pd.Series(prices.close[prices.row(when)], index=prices.tickers)
    path.dates.append(np.array([np.datetime64(when, "ns")]))
    path.values.append(np.array([path.value_at(close)]))
    path.cash_growth.append(np.array([np.nan]))
    if spec.holdings is not None and len(spec.holdings.untradeable):
        path.notes.append(f"Untradeable holdings left out: {', '.join(spec.holdings.untradeable.index)}.")
    return path


# ------------------------------------------------------------------------------ the walk
@dataclass
class _Benchmarks:
    """Constituent-built benchmarks: weights set at each rebalance, drifting in between."""

    weights: dict[str, pd.Series] = field(default_factory=dict)
    level: dict[str, float] = field(default_factory=lambda: dict.fromkeys(BENCHMARKS, 1.0))
    values: dict[str, list[np.ndarray]] = field(default_factory=lambda: {b: [np.array([1.0])] for b in BENCHMARKS})

    def reset(self, universe: Universe, large: Universe) -> None:
        cap = universe.companies["market_cap"].astype(float)
        big = large.companies["market_cap"].astype(float)
        self.weights = {
            "small_ew": pd.Series(1.0 / max(len(cap), 1), index=cap.index),
            "small_cw": cap / cap.sum(),
            "large_cw": big / big.sum(),
        }

    def drift(self, view: PointInTime, prices: DailyPrices, start: pd.Timestamp) -> None:
        for name in BENCHMARKS:
            w = self.weights[name]
            win = view.window(prices, w.index, start)
            with np.errstate(divide="ignore", invalid="ignore"):
                growth = np.nan_to_num(win.adj_close[1:] / win.adj_close[0], nan=1.0)
            curve = self.level[name] * (growth @ w.to_numpy(float)) / float(w.sum())
            self.values[name].append(curve)
            if len(curve):
                self.level[name] = float(curve[-1])


@dataclass
class _Scores:
    """What a screen said on one date, kept to be judged against the period that follows."""

    date: pd.Timestamp
    table: pd.DataFrame  # composite and each weighted factor's percentile, per company
    passing: pd.Index  # the companies the screen passed: the only ones the optimiser may buy
    ic: float | None = None  # the composite's rank IC over the period, once realised


@dataclass(frozen=True)
class _Day:
    """What every variant shares about one rebalance date."""

    date: pd.Timestamp
    benchmark: pd.Series  # cap weights of the universe (the attribution benchmark)
    sectors: pd.Series  # every company's sector on the date
    one_year_only: float  # share of the universe with a single fiscal year


def run_backtest(spec: BacktestSpec, progress: Callable[[int, int, pd.Timestamp], None] | None = None) -> BacktestResult:
    """Walk one spec forward (see the module docstring).

    ``progress(done, total, date)`` is called after each rebalance (for a progress bar).

    Raises
    ------
    BacktestError, universes.errors.UserError
        The spec cannot run (bad dates, a universe or screen that cannot be formed).
    LookAheadError
        A decision was about to use data from after its date.
    """
    return run_lockstep([spec], progress)[0]


def run_lockstep(
    specs: Sequence[BacktestSpec], progress: Callable[[int, int, pd.Timestamp], None] | None = None
) -> list[BacktestResult]:
    """Walk several specs forward together, sharing each date's universe and screens.

    The specs must share universe, frequency, start, end and large-cap universe. Each spec's
    result is exactly what :func:`run_backtest` gives for it alone, byte for byte, in this
    process or in any worker: the linear algebra runs on one thread, because a multi-threaded
    BLAS sums in a different order and the last digits of a solve would depend on the machine.
    """
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        return _run_lockstep(specs, progress)


def _run_lockstep(
    specs: Sequence[BacktestSpec], progress: Callable[[int, int, pd.Timestamp], None] | None
) -> list[BacktestResult]:
    import time

    if not specs:
        return []
    base = specs[0]
    shared = (base.universe, base.frequency, base.start, base.end, base.large_universe)
    if any((s.universe, s.frequency, s.start, s.end, s.large_universe) != shared for s in specs):
        raise BacktestError("Variants run together must share universe, frequency, start, end and large-cap universe.")
    clock = time.perf_counter
    timings = dict.fromkeys(("start", "prices", "universe", "screen", "optimizer", "accounting", "evaluation"), 0.0)
    t0 = clock()
    probe = _Probe(base.universe)
    dates, end = rebalance_dates(base, probe)
    # the search for the first date may have loaded and screened later rebalance dates too
    ahead = set(dates)
    probe.keep(ahead)
    timings["start"] = clock() - t0
    t0 = clock()
    dataset = dataset_of(base.universe)
    prices = DailyPrices(dataset)
    timings["prices"] = clock() - t0
    paths = [_start(s, dates[0], prices) for s in specs]
    bench = _Benchmarks()
    scores: dict[str, list[_Scores]] = {}
    days: list[_Day] = []
    canary: dict[str, Any] = {"probes": 0, "refused": 0}
    previous: PointInTime | None = None
    for k, when in enumerate(dates):
        view = PointInTime(when)
        t0 = clock()
        universe = probe.universes.get(when) or _load_universe(base.universe, view)
        if len(universe) == 0:
            raise BacktestError(f"The universe {base.universe} is empty on {when.date()}; start later (--start).")
        large = _load_universe(base.large_universe, view)
        everyone = _market(dataset, view)
        timings["universe"] += clock() - t0
        if previous is not None:
            canary["probes"] += 1
            canary["refused"] += int(_canary_refuses(previous, universe))
            t0 = clock()
            for path in paths:
                path.drift(view, prices, previous.as_of)
            bench.drift(view, prices, previous.as_of)
            timings["accounting"] += clock() - t0
        bench.reset(universe, large)
        screened: dict[str, ScreenResult] = {}
        for path in paths:
            key = path.spec.screen_key
            t0 = clock()
            if key not in screened:
                screened[key] = probe.screens.get((when, key)) or _run_screen(universe, path.spec.screen, view)
                scores.setdefault(key, []).append(_Scores(when, _score_columns(screened[key]), screened[key].ranked.index))
            timings["screen"] += clock() - t0
            decide_on, screen_of = universe, screened[key]
            if path.spec.look_ahead:
                decide_on, screen_of = _leaky_inputs(path.spec, dates, k, end, view)
            t0 = clock()
            _step(path, view, decide_on, screen_of, everyone, prices, scores[key])
            timings["optimizer"] += clock() - t0
        one_year = _one_year_share(screened[base.screen_key])
        days.append(_Day(when, bench.weights["small_cw"], everyone["sector"].fillna("Unclassified"), one_year))
        previous = view
        ahead.discard(when)
        probe.keep(ahead)
        if progress is not None:
            progress(k + 1, len(dates), when)
    assert previous is not None
    final = PointInTime(end)
    t0 = clock()
    for path in paths:
        path.drift(final, prices, previous.as_of)
    bench.drift(final, prices, previous.as_of)
    timings["accounting"] += clock() - t0
    t0 = clock()
    survivorship = _survivorship(dataset, dates, final, prices)
    results = [_evaluate(path, bench, days, end, scores[path.spec.screen_key], final, prices, canary, survivorship) for path in paths]
    timings["evaluation"] += clock() - t0
    for r in results:
        r.timings = {**timings, "rebalances": float(len(dates)), "variants": float(len(specs))}
    return results


def _canary_refuses(previous: PointInTime, future: Universe) -> bool:
    """Whether the previous rebalance's guard refuses this date's universe, both as it is and
    relabelled with the previous date (data shifted one period into the future)."""
    refused = 0
    for u in (future, dataclasses.replace(future, as_of=previous.as_of)):
        try:
            previous.check_universe(u)
        except LookAheadError:
            refused += 1
    return refused == 2


def _leaky_inputs(spec: BacktestSpec, dates: list[pd.Timestamp], k: int, end: pd.Timestamp, view: PointInTime) -> tuple[Universe, ScreenResult]:
    """The deliberately leaky variant: a later rebalance's universe, relabelled with this
    date and shown to this date's guard (which refuses it)."""
    later = dates[k + spec.look_ahead] if k + spec.look_ahead < len(dates) else end
    leaked = dataclasses.replace(load_universe(spec.universe, as_of=later), as_of=view.as_of)
    view.check_universe(leaked)
    return leaked, run_screen(leaked, spec.screen)


def _step(
    path: _Path,
    view: PointInTime,
    universe: Universe,
    screened: ScreenResult,
    everyone: pd.DataFrame,
    prices: DailyPrices,
    history: list[_Scores],
) -> None:
    """One rebalance of one path on the view's date."""
    spec = path.spec
    when = view.as_of
    close = pd.Series(prices.close[prices.row(when)], index=prices.tickers)
    value_before = path.value_at(close)
    delisted: list[str] = []
    if spec.delisting_return is not None and len(path.shares):
        held = path.shares.index
        age = everyone["fundamentals_age_months"].reindex(held)
        stopped = (age > STOPPED_REPORTING_MONTHS) | age.isna() | everyone["price"].reindex(held).isna()
        delisted = [str(t) for t in held[stopped.to_numpy(bool)]]
        for ticker in delisted:
            path.cash += float(path.shares[ticker] * close[ticker] * (1.0 + spec.delisting_return))
        path.shares = path.shares.drop(delisted)
    settings = spec.settings
    if spec.calibrate_ic:
        calibrated = _calibrated_ic(history[:-1], view, prices, spec)
        if calibrated is not None:
            settings = settings.change(alpha_ic=calibrated)
    cash_before = path.cash
    step = _rebalance(view, universe, screened, path.shares, path.cash, settings)
    path.shares, path.cash = step.shares, step.cash
    path.trades.append(step.trades.assign(date=when))
    value_after = path.value_at(close)
    held_value = path.shares * close.reindex(path.shares.index)
    weights = held_value / value_after if value_after > 0 else held_value * 0.0
    info = everyone.reindex(path.shares.index)
    path.holdings.append(
        pd.DataFrame(
            {
                "date": when,
                "ticker": path.shares.index,
                "name": info["name"].to_numpy(object),
                "sector": info["sector"].fillna("Unclassified").to_numpy(object),
                "shares": path.shares.to_numpy(float),
                "price": close.reindex(path.shares.index).to_numpy(float),
                "value": held_value.to_numpy(float),
                "weight": weights.to_numpy(float),
                "composite": screened.table["composite"].reindex(path.shares.index).to_numpy(float),
            }
        )
    )
    cash_weight = path.cash / value_after if value_after > 0 else 1.0
    path.weights.append(pd.concat([weights, pd.Series({CASH_SECTOR: cash_weight})]))
    sides = step.trades["side"] if len(step.trades) else pd.Series(dtype=object)
    path.periods.append(
        {
            "date": when,
            "value": value_before,
            "cash_before": cash_before,
            "cash_after": path.cash,
            "trades": len(step.trades),
            "buys": float(step.trades.loc[sides == "BUY", "notional"].sum()) if len(sides) else 0.0,
            "sells": float(step.trades.loc[sides == "SELL", "notional"].sum()) if len(sides) else 0.0,
            "turnover": step.turnover,
            "costs": step.costs,
            "names": step.names,
            "alpha_ic": settings.alpha_ic,
            "universe": len(universe),
            "passing": len(screened.ranked),
            "status": step.status,
            "delisted": ", ".join(delisted),
        }
    )


def _calibrated_ic(history: list[_Scores], view: PointInTime, prices: DailyPrices, spec: BacktestSpec) -> float | None:
    """The composite's mean realised rank IC scaled to a year (``x sqrt(periods per year)``),
    clipped to [0, 1]; None until ``MIN_IC_PERIODS`` periods are realised."""
    stops = [s.date for s in history[1:]] + [view.as_of]
    for scored, stop in zip(history, stops[: len(history)], strict=True):
        if scored.ic is None:
            scored.ic = pf.rank_ic(scored.table["composite"], _forward_returns(scored, stop, view, prices))
    ic = [s.ic for s in history if s.ic is not None and np.isfinite(s.ic)]
    if len(ic) < MIN_IC_PERIODS:
        return None
    return min(1.0, max(0.0, float(np.mean(ic)) * math.sqrt(PERIODS_PER_YEAR[spec.frequency])))


def _forward_returns(scored: _Scores, stop: pd.Timestamp, view: PointInTime, prices: DailyPrices) -> pd.Series:
    """Total return of every scored company from its scoring date to ``stop`` (guarded by
    ``view``: ``stop`` must not be after it)."""
    tickers = scored.table.index.intersection(prices.tickers)
    returns = pd.Series(view.window(prices, tickers, scored.date, stop).total_return(), index=tickers)
    return returns.reindex(scored.table.index)


# ------------------------------------------------------------------------------ survivorship
def _survivorship(dataset: str, dates: list[pd.Timestamp], view: PointInTime, prices: DailyPrices) -> pd.DataFrame:
    """Per rebalance: companies that had published fundamentals but have no later price."""
    from universes.schema import sic_flags

    data = open_dataset(dataset)
    f = data.fundamentals
    published = f[f["publish_date"] <= view.as_of].groupby("ticker")["publish_date"].min()
    view.check("fiscal years counted for survivorship", published.max())
    last_price = prices.last_price_dates(view.as_of).reindex(published.index)
    sic = data.companies["sic"].reindex(published.index)
    manufacturing = sic_flags(sic)["manufacturing"].to_numpy(bool)
    rows = []
    for when in dates:
        reported = (published <= when).to_numpy(bool)
        gone = reported & ~(last_price > when).to_numpy(bool)
        rows.append(
            {
                "date": when,
                "reported": int(reported.sum()),
                "no_later_price": int(gone.sum()),
                "manufacturers_no_later_price": int((gone & manufacturing).sum()),
            }
        )
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------------ results
@dataclass
class BacktestResult:
    """Everything one backtest produced (see :meth:`document` for the JSON contract).

    Attributes
    ----------
    spec : BacktestSpec
    dates : list of pandas.Timestamp
        Rebalance dates.
    end : pandas.Timestamp
        Last valuation date.
    equity : pandas.DataFrame
        Daily, from the first rebalance to the end: ``rotation`` (USD), each benchmark
        (``small_ew``, ``small_cw``, ``large_cw``, starting at 1) and ``cash_return`` (the
        risk-free return of each session).
    periods : pandas.DataFrame
        One row per rebalance: ``date``, ``value`` (before trading), ``cash_before``,
        ``cash_after``, ``trades``, ``buys``, ``sells``, ``turnover``, ``costs``, ``names``,
        ``alpha_ic``, ``universe``, ``passing``, ``status`` (the solver's: ``optimal``,
        ``optimal_inaccurate``, or why the portfolio was not rebalanced), ``delisted``,
        ``return`` (over the period that follows).
    holdings : pandas.DataFrame
        Positions after each rebalance: ``date``, ``ticker``, ``name``, ``sector``,
        ``shares``, ``price``, ``value``, ``weight``, ``composite``.
    trades : pandas.DataFrame
        Every trade: ``date``, ``ticker``, ``side``, ``shares``, ``price``, ``notional``,
        ``est_cost``, ``reason``.
    metrics : pandas.DataFrame
        Per portfolio (``rotation`` and the benchmarks): ``cagr``, ``total_return``,
        ``volatility``, ``sharpe``, ``sortino``, ``max_drawdown``.
    relative : pandas.DataFrame
        The rotation against each benchmark: ``active_cagr``, ``tracking_error``,
        ``information_ratio``.
    trading : dict
        ``rebalances``, ``not_rebalanced``, ``turnover_first`` (the first rebalance),
        ``turnover_annual`` (the later ones, per year), ``costs`` (USD) and ``cost_drag``
        (per year, as a fraction of value).
    attribution : pandas.DataFrame
        Brinson-Fachler against the cap-weighted universe, per period and sector: ``date``,
        ``sector`` and the columns of :func:`optimizer.performance.brinson_fachler`.
    ic : pandas.DataFrame
        Per date and signal (``composite`` and each weighted factor): ``date``, ``signal``,
        ``ic`` (Spearman, over the whole universe), ``ic_passing`` (the same over the
        companies the screen passed, the only ones the optimiser may buy), ``spread`` (top
        minus bottom quintile), ``top``, ``bottom``.
    ic_summary : pandas.DataFrame
        Per signal: ``mean``, ``std``, ``t_stat``, ``n``, ``hit_rate``, ``spread_mean``,
        ``passing_mean`` and ``passing_t_stat`` (of ``ic_passing``).
    canary : dict
        ``probes`` and ``refused`` (dates whose guard refused the next date's data), and the
        leaky signal against the honest one: ``honest_ic``, ``leaky_ic``, ``ic_uplift``,
        ``honest_top_cagr``, ``leaky_top_cagr``, ``top_cagr_uplift``.
    survivorship : pandas.DataFrame
        Per rebalance: ``date``, ``reported``, ``no_later_price``,
        ``manufacturers_no_later_price``.
    partial : pandas.DataFrame
        Per rebalance: ``date``, ``one_year_only`` (share of the universe with a single fiscal
        year, whose year-on-year signals such as Piotroski F are partial).
    notes : list of str
    timings : dict
        Seconds per stage (left out of the document: it varies between runs): ``start``
        (finding the first possible date), ``prices`` (daily price matrices), ``universe``
        (loading the universes and market data at each date), ``screen``, ``optimizer``
        (building, solving and applying the trade list), ``accounting`` (daily values),
        ``evaluation`` (metrics, IC, attribution); ``rebalances`` and ``variants``.
    """

    spec: BacktestSpec
    dates: list[pd.Timestamp]
    end: pd.Timestamp
    equity: pd.DataFrame
    periods: pd.DataFrame
    holdings: pd.DataFrame
    trades: pd.DataFrame
    metrics: pd.DataFrame
    relative: pd.DataFrame
    trading: dict[str, float]
    attribution: pd.DataFrame
    ic: pd.DataFrame
    ic_summary: pd.DataFrame
    canary: dict[str, Any]
    survivorship: pd.DataFrame
    partial: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def years(self) -> float:
        """Length of the walk in years."""
        return (self.end - self.dates[0]).days / 365.25

    @property
    def banner(self) -> str:
        """The survivorship banner: counts, the likely bias, the delisting assumption."""
        s = self.survivorship
        gone = s["no_later_price"]
        if gone.max() > 0:
            counts = (
                f"At the {len(s)} rebalances, {int(gone.min()):,} to {int(gone.max()):,} companies that had published fundamentals "
                f"have no later price ({int(s['manufacturers_no_later_price'].max()):,} manufacturers at most): the walk could never hold them."
            )
        else:
            counts = (
                "The dataset keeps no company without a price to its end, so companies that delisted are missing entirely "
                "and cannot even be counted."
            )
        r = self.spec.delisting_return
        assumption = (
            f"Held companies that stop reporting or trading are sold at their last close {r:+.0%}."
            if r is not None
            else f"No delisting return is applied (--delisting-return {SHUMWAY_DELISTING_RETURN:g} applies Shumway's average)."
        )
        return (
            f"SURVIVORSHIP: prices exist only for companies still listed on {self.end.date()}. {counts} Likely bias: upward. "
            "Failed small companies, likeliest among the cheap, weak balance sheets a value screen favours, are missing; "
            "companies bought out at a premium are missing too, which works the other way; the small-cap benchmarks share "
            f"the bias. {assumption}"
        )

    @property
    def partial_note(self) -> str:
        """When the signals were partial ('' when never)."""
        p = self.partial[self.partial["one_year_only"] > 0.0]
        if not len(p):
            return ""
        first, last = p.iloc[0], pd.Timestamp(p["date"].iloc[-1]).date()
        return (
            f"Signals partial: on {pd.Timestamp(first['date']).date()} {first['one_year_only']:.0%} of the universe had a single "
            f"fiscal year, so Piotroski F, accruals and other year-on-year signals used fewer inputs (some companies until {last})."
        )

    def document(self) -> dict[str, Any]:
        """The JSON contract of ``rotation backtest`` (plain types; no timings)."""
        from tui.output import jsonable, records

        spec = self.spec
        doc = {
            "universe": spec.universe,
            "screen": spec.screen_label or spec.screen.name,
            "constraints": spec.constraints_label or "shipped defaults",
            "label": spec.label,
            "frequency": spec.frequency,
            "start": self.dates[0],
            "end": self.end,
            "rebalances": len(self.dates),
            "years": self.years,
            "assumptions": assumptions(spec),
            "banner": self.banner,
            "partial_signals": self.partial_note,
            "metrics": records(self.metrics.reset_index(names="portfolio")),
            "relative": records(self.relative.reset_index(names="benchmark")),
            "trading": self.trading,
            "ic_summary": records(self.ic_summary.reset_index(names="signal")),
            "canary": self.canary,
            "periods": records(self.periods),
            "ic": records(self.ic),
            "attribution": records(self.attribution),
            "survivorship": records(self.survivorship),
            "partial": records(self.partial),
            "equity": records(self.equity.reset_index()),
            "holdings": records(self.holdings),
            "trades": records(self.trades),
            "notes": self.notes,
        }
        out: dict[str, Any] = jsonable(doc)
        return out


def assumptions(spec: BacktestSpec) -> dict[str, Any]:
    """The assumptions of a run, in words and numbers."""
    s = spec.settings
    return {
        "start_from": spec.holdings.source if spec.holdings is not None else "cash",
        "starting_cash": spec.starting_cash,
        "cash_rate": spec.cash_rate,
        "delisting_return": spec.delisting_return,
        "dividends": "paid into cash on the ex-date, read off the adjusted closes",
        "costs": f"commission {s.costs.commission_bps:g} bp + half spread from ADV ({s.costs.half_spread_bps:g} bp at $100M a day)"
        + (" + square-root impact" if s.costs.impact else ""),
        "lot_size": s.lot_size,
        "min_trade_usd": s.min_trade_usd,
        "alpha_ic": "calibrated from the realised IC" if spec.calibrate_ic else s.alpha_ic,
        "benchmarks": f"{spec.universe} equal- and cap-weighted, {spec.large_universe} cap-weighted; dividends reinvested, no costs",
    }


def _evaluate(
    path: _Path,
    bench: _Benchmarks,
    days: list[_Day],
    end: pd.Timestamp,
    scores: list[_Scores],
    view: PointInTime,
    prices: DailyPrices,
    canary: dict[str, Any],
    survivorship: pd.DataFrame,
) -> BacktestResult:
    spec = path.spec
    dates = [d.date for d in days]
    stops = [*dates[1:], end]
    equity = pd.DataFrame({"rotation": np.concatenate(path.values)}, index=pd.DatetimeIndex(np.concatenate(path.dates), name="date"))
    for name in BENCHMARKS:
        equity[name] = np.concatenate(bench.values[name])
    equity["cash_return"] = np.concatenate(path.cash_growth)
    returns = equity[["rotation", *BENCHMARKS]].pct_change().iloc[1:]
    rf = equity["cash_return"].iloc[1:]
    portfolios = ("rotation", *BENCHMARKS)
    metrics = pd.DataFrame(
        [
            {
                "cagr": pf.cagr(equity[p]),
                "total_return": float(equity[p].iloc[-1] / equity[p].iloc[0] - 1),
                "volatility": pf.annualised_volatility(returns[p]),
                "sharpe": pf.sharpe_ratio(returns[p], rf),
                "sortino": pf.sortino_ratio(returns[p], rf),
                "max_drawdown": pf.max_drawdown(equity[p]),
            }
            for p in portfolios
        ],
        index=pd.Index(portfolios),
    )
    relative = pd.DataFrame(
        [
            {
                "active_cagr": metrics.loc["rotation", "cagr"] - metrics.loc[b, "cagr"],
                "tracking_error": pf.tracking_error(returns["rotation"], returns[b]),
                "information_ratio": pf.information_ratio(returns["rotation"], returns[b]),
            }
            for b in BENCHMARKS
        ],
        index=pd.Index(BENCHMARKS),
    )
    periods = pd.DataFrame(path.periods)
    value = equity["rotation"]
    periods["return"] = value.reindex(pd.DatetimeIndex(stops)).to_numpy() / value.reindex(pd.DatetimeIndex(dates)).to_numpy() - 1
    years = (end - dates[0]).days / 365.25
    failed = periods["status"].str.startswith("not rebalanced")
    trading = {
        "rebalances": float(len(periods)),
        "not_rebalanced": float(failed.sum()),
        "turnover_first": float(periods["turnover"].iloc[0]),
        "turnover_annual": pf.annualised_turnover(periods["turnover"].iloc[1:], years),
        "costs": float(periods["costs"].sum()),
        "cost_drag": pf.cost_drag(periods["costs"], periods["value"], years),
    }
    attribution = pd.concat(
        [_attribution(path.weights[k], day, stop, view, prices, spec.cash_rate) for k, (day, stop) in enumerate(zip(days, stops, strict=True))],
        ignore_index=True,
    )
    signal_rows: list[dict[str, Any]] = []
    canary_rows: list[dict[str, float]] = []
    for scored, stop in zip(scores, stops, strict=True):
        forward = _forward_returns(scored, stop, view, prices)
        signal_rows += _signal_rows(scored, forward)
        canary_rows.append(_canary_row(scored, forward))
    ic = pd.DataFrame(signal_rows, columns=["date", "signal", "ic", "ic_passing", "spread", "top", "bottom"])
    summary = {}
    for signal, rows in ic.groupby("signal", sort=False):
        inside = pf.ic_summary(rows["ic_passing"])
        summary[signal] = {
            **pf.ic_summary(rows["ic"]),
            "spread_mean": float(rows["spread"].mean()),
            "passing_mean": inside["mean"],
            "passing_t_stat": inside["t_stat"],
        }
    trades = [t for t in path.trades if len(t)]
    notes = list(path.notes) + [f"{pd.Timestamp(r.date).date()}: {r.status}" for r in periods[failed].itertuples()]
    return BacktestResult(
        spec=spec,
        dates=dates,
        end=end,
        equity=equity,
        periods=periods,
        holdings=pd.concat(path.holdings, ignore_index=True),
        trades=(pd.concat(trades, ignore_index=True) if trades else _NO_TRADES.assign(date=pd.NaT))[["date", *_NO_TRADES.columns]],
        metrics=metrics,
        relative=relative,
        trading=trading,
        attribution=attribution,
        ic=ic,
        ic_summary=pd.DataFrame.from_dict(summary, orient="index"),
        canary={**canary, **_canary_summary(pd.DataFrame(canary_rows), years)},
        survivorship=survivorship,
        partial=pd.DataFrame({"date": dates, "one_year_only": [d.one_year_only for d in days]}),
        notes=notes,
    )


def _attribution(held: pd.Series, day: _Day, stop: pd.Timestamp, view: PointInTime, prices: DailyPrices, cash_rate: float) -> pd.DataFrame:
    """Brinson-Fachler of one period: the holdings after trading against the cap-weighted
    universe, each name's total return to the next rebalance, cash at the cash rate."""
    names = held.index.drop(CASH_SECTOR).union(day.benchmark.index).intersection(prices.tickers)
    returns = pd.Series(view.window(prices, names, day.date, stop).total_return(), index=names)
    returns[CASH_SECTOR] = (1.0 + cash_rate) ** ((stop - day.date).days / 365.0) - 1.0
    sectors = day.sectors.reindex(names).fillna("Unclassified")
    sectors[CASH_SECTOR] = CASH_SECTOR
    table = pf.brinson_fachler(held, day.benchmark, returns, sectors).reset_index()
    table.insert(0, "date", day.date)
    return table


def _signal_rows(scored: _Scores, forward: pd.Series) -> list[dict[str, Any]]:
    rows = []
    passing = scored.table.index.intersection(scored.passing)
    for signal in scored.table.columns:
        q = pf.quantile_returns(scored.table[signal], forward, QUANTILES)
        full = len(q) == QUANTILES
        rows.append(
            {
                "date": scored.date,
                "signal": signal,
                "ic": pf.rank_ic(scored.table[signal], forward),
                "ic_passing": pf.rank_ic(scored.table.loc[passing, signal], forward),
                "spread": float(q.iloc[-1] - q.iloc[0]) if full else float("nan"),
                "top": float(q.iloc[-1]) if full else float("nan"),
                "bottom": float(q.iloc[0]) if full else float("nan"),
            }
        )
    return rows


def _canary_row(scored: _Scores, forward: pd.Series) -> dict[str, float]:
    """The honest composite and the leaky one (averaged with the rank of the period's own
    return: prices shifted one rebalance back) on one date."""
    honest = scored.table["composite"].reindex(forward.index)
    leaky = (honest.rank(pct=True) + forward.rank(pct=True)) / 2
    top_honest = pf.quantile_returns(honest, forward, QUANTILES)
    top_leaky = pf.quantile_returns(leaky, forward, QUANTILES)
    return {
        "honest_ic": pf.rank_ic(honest, forward),
        "leaky_ic": pf.rank_ic(leaky, forward),
        "honest_top": float(top_honest.iloc[-1]) if len(top_honest) == QUANTILES else float("nan"),
        "leaky_top": float(top_leaky.iloc[-1]) if len(top_leaky) == QUANTILES else float("nan"),
    }


def _canary_summary(rows: pd.DataFrame, years: float) -> dict[str, float]:
    def compound(r: pd.Series) -> float:
        growth = float(np.prod(1.0 + r.fillna(0.0).to_numpy()))
        return growth ** (1.0 / years) - 1.0 if years > 0 and growth > 0 else float("nan")

    honest_ic, leaky_ic = float(rows["honest_ic"].mean()), float(rows["leaky_ic"].mean())
    honest_top, leaky_top = compound(rows["honest_top"]), compound(rows["leaky_top"])
    return {
        "honest_ic": honest_ic,
        "leaky_ic": leaky_ic,
        "ic_uplift": leaky_ic - honest_ic,
        "honest_top_cagr": honest_top,
        "leaky_top_cagr": leaky_top,
        "top_cagr_uplift": leaky_top - honest_top,
    }


# ------------------------------------------------------------------------------ sweeps
SWEEP_KEYS = ("screens", "constraints", "settings")
SHIPPED = "shipped"


def load_sweep(path: str | Path, base: BacktestSpec) -> list[BacktestSpec]:
    """The variants of a sweep file: every combination of its screens, constraint files and
    settings, each on ``base`` (universe, dates, capital, ...)::

        screens = ["small-cap-value-quality", "deep-value"]   # names or .toml files
        constraints = ["shipped", "tight.toml"]               # "shipped" = optimizer/constraints.toml

        [settings]                                            # constraint settings to vary
        risk_aversion = [1.0, 2.0, 4.0, 8.0]
        "max_weight.value" = [0.03, 0.05]                     # a table's field: table.field

    Relative paths are read from the sweep file's folder. A missing list keeps the base's
    screen or constraints.

    Raises
    ------
    BacktestError
        An unknown key, an empty list, or a value the settings refuse (the message names the
        file and the key).
    """
    from universes.toml_io import read_toml

    p = Path(path).expanduser()
    data = read_toml(p, BacktestError, "sweep")
    for key in data:
        if key not in SWEEP_KEYS:
            raise BacktestError(f"{p}: unknown key {key!r}. A sweep file has {', '.join(SWEEP_KEYS)}.")

    def names(key: str) -> list[str] | None:
        value = data.get(key)
        if value is None:
            return None
        if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
            raise BacktestError(f"{p}: {key} must be a non-empty list of names or files.")
        return [str(v) if v == SHIPPED or not v.endswith(".toml") else str(p.parent / Path(v).expanduser()) for v in value]

    screens = [(base.screen, base.screen_label or base.screen.name)]
    if (listed := names("screens")) is not None:
        screens = [(load_screen(None if s == SHIPPED else s), Path(s).name if s.endswith(".toml") else s) for s in listed]
    constraint_sets = [(base.settings, base.constraints_label or SHIPPED)]
    if (listed := names("constraints")) is not None:
        constraint_sets = [(load_constraints(None if c == SHIPPED else c), Path(c).name if c.endswith(".toml") else c) for c in listed]
    grid = data.get("settings", {})
    if not isinstance(grid, dict) or not all(isinstance(v, list) and v for v in grid.values()):
        raise BacktestError(f"{p}: [settings] maps each setting to a non-empty list of values.")
    import itertools

    combos = list(itertools.product(*grid.values())) if grid else [()]
    specs = []
    for screen, screen_label in screens:
        for settings, constraints_label in constraint_sets:
            for combo in combos:
                changes = dict(zip(grid, combo, strict=True))
                varied = _vary(settings, changes, p)
                label = " | ".join([screen_label, constraints_label, *(f"{k}={v}" for k, v in changes.items())])
                specs.append(
                    dataclasses.replace(
                        base, screen=screen, settings=varied, label=label, screen_label=screen_label, constraints_label=constraints_label
                    )
                )
    return specs


def _vary(settings: ConstraintSettings, changes: dict[str, Any], path: Path) -> ConstraintSettings:
    """``settings`` with dotted keys (``risk_aversion``, ``max_weight.value``) set."""
    if not changes:
        return settings
    tree = tomllib.loads(settings_to_toml(settings))
    for key, value in changes.items():
        node = tree
        *parents, leaf = key.split(".")
        for part in parents:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise BacktestError(f"{path}: [settings] {key}: {part!r} is a single setting, not a table.")
            node = child
        if isinstance(node.get(leaf), dict):
            fields_ = ", ".join(f"{key}.{f}" for f in node[leaf])
            raise BacktestError(f"{path}: [settings] {key} is a table; vary one of its fields: {fields_}.")
        node[leaf] = value
    return settings_from_dict(tree, path, "settings")


@dataclass
class SweepResult:
    """The variants of a sweep, the best one and its deflated Sharpe ratio.

    Attributes
    ----------
    results : list of BacktestResult
        In the order of the sweep file.
    executor : str
        ``"in-process"``, ``"processes"`` or ``"dask"``.
    workers : int
    seconds : float
        Wall time of the sweep.
    """

    results: list[BacktestResult]
    executor: str
    workers: int
    seconds: float

    def table(self) -> pd.DataFrame:
        """One row per variant: ``label``, ``cagr``, ``volatility``, ``sharpe``, ``sortino``,
        ``max_drawdown``, ``turnover_annual``, ``cost_drag``, ``active_cagr`` and
        ``information_ratio`` against the cap-weighted universe."""
        rows = []
        for r in self.results:
            m, rel = r.metrics.loc["rotation"], r.relative.loc["small_cw"]
            rows.append(
                {
                    "label": r.spec.label,
                    "cagr": m["cagr"],
                    "volatility": m["volatility"],
                    "sharpe": m["sharpe"],
                    "sortino": m["sortino"],
                    "max_drawdown": m["max_drawdown"],
                    "turnover_annual": r.trading["turnover_annual"],
                    "cost_drag": r.trading["cost_drag"],
                    "active_cagr": rel["active_cagr"],
                    "information_ratio": rel["information_ratio"],
                }
            )
        return pd.DataFrame(rows)

    @property
    def best(self) -> int:
        """Index of the variant with the highest Sharpe ratio (the first on ties)."""
        sharpe = self.table()["sharpe"].to_numpy(float)
        return int(np.nanargmax(sharpe)) if np.isfinite(sharpe).any() else 0

    def deflated_sharpe(self) -> dict[str, float]:
        """:func:`optimizer.performance.deflated_sharpe_ratio` of the best variant, given
        every variant tried (per-session Sharpe ratios of daily excess returns)."""
        excess = [_daily_excess(r) for r in self.results]
        sharpes = np.array([np.mean(x) / np.std(x, ddof=1) if len(x) > 1 and np.std(x, ddof=1) > 0 else np.nan for x in excess])
        finite = sharpes[np.isfinite(sharpes)]
        variance = float(np.var(finite, ddof=1)) if len(finite) > 1 else 0.0
        out = pf.deflated_sharpe_ratio(excess[self.best], len(self.results), variance)
        out["n_trials"] = float(len(self.results))
        out["sharpe_variance"] = variance
        out["annual_sharpe"] = out["sharpe"] * math.sqrt(pf.TRADING_DAYS)
        return out

    def document(self) -> dict[str, Any]:
        """The JSON contract of ``rotation backtest --sweep`` (no timings: they vary)."""
        from tui.output import jsonable, records

        best = self.results[self.best]
        out: dict[str, Any] = jsonable(
            {
                "universe": best.spec.universe,
                "frequency": best.spec.frequency,
                "start": best.dates[0],
                "end": best.end,
                "variants": records(self.table()),
                "best": best.spec.label,
                "deflated_sharpe": self.deflated_sharpe(),
                "banner": best.banner,
            }
        )
        return out


def _daily_excess(result: BacktestResult) -> np.ndarray:
    e = result.equity
    r = e["rotation"].pct_change().iloc[1:] - e["cash_return"].iloc[1:]
    return r.to_numpy(float)


def run_sweep(
    specs: Sequence[BacktestSpec],
    workers: int | None = None,
    scheduler: str | None = None,
) -> SweepResult:
    """Run every variant; in parallel across variants, never across dates.

    Parameters
    ----------
    specs : sequence of BacktestSpec
        The variants (same universe, frequency and dates; :func:`load_sweep` makes them).
    workers : int, optional
        Worker processes (default: the CPUs this process may use). One runs in this process.
    scheduler : str, optional
        ``"local"`` for a Dask LocalCluster of ``workers`` processes, or the address of a Dask
        scheduler (``tcp://host:8786``); needs the ``dask`` extra.

    Returns
    -------
    SweepResult
        Results in the order of ``specs``, identical whatever the executor and worker count.
    """
    import time

    if not specs:
        raise BacktestError("The sweep has no variants.")
    started = time.perf_counter()
    workers = max(1, workers or available_cpus())
    resolved = _common_start(specs)
    groups = [list(range(i, len(resolved), workers)) for i in range(min(workers, len(resolved)))]
    batches = [[resolved[i] for i in g] for g in groups]
    if scheduler:
        executor, outputs = "dask", _dask_map(batches, scheduler, workers)
    elif len(batches) == 1:
        executor, outputs = "in-process", [run_lockstep(batches[0])]
    else:
        executor, outputs = "processes", _process_map(batches)
    results: list[BacktestResult | None] = [None] * len(resolved)
    for group, output in zip(groups, outputs, strict=True):
        for i, r in zip(group, output, strict=True):
            results[i] = r
    done = [r for r in results if r is not None]
    return SweepResult(done, executor, workers, time.perf_counter() - started)


def available_cpus() -> int:
    """The CPUs this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _common_start(specs: Sequence[BacktestSpec]) -> list[BacktestSpec]:
    """The specs with one explicit start: the given one, or the latest first possible date
    among the variants (so that every variant walks the same dates)."""
    base = specs[0]
    if base.start is not None:
        return list(specs)
    probe = _Probe(base.universe)
    start = max(first_possible_date(s, probe) for s in specs)
    return [dataclasses.replace(s, start=start.date().isoformat()) for s in specs]


def _process_map(batches: list[list[BacktestSpec]]) -> list[list[BacktestResult]]:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    if context.get_start_method() == "forkserver":
        context.set_forkserver_preload(["tui.backtest"])
    with ProcessPoolExecutor(max_workers=len(batches), mp_context=context) as pool:
        return list(pool.map(run_lockstep, batches))


def _dask_map(batches: list[list[BacktestSpec]], scheduler: str, workers: int) -> list[list[BacktestResult]]:
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise BacktestError("--scheduler needs the dask extra: pip install 'smallcap-rotation[dask]'.") from None
    cluster = None
    try:
        if scheduler == "local":
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=logging.ERROR)
            client = Client(cluster)
        else:
            client = Client(scheduler, timeout="10s")
    except OSError as exc:
        raise BacktestError(f"Cannot reach the Dask scheduler at {scheduler}: {exc}. Start it, or use --scheduler local.") from exc
    try:
        futures = client.map(run_lockstep, batches, pure=False)
        out: list[list[BacktestResult]] = client.gather(futures)
        return out
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


# ------------------------------------------------------------------------------ for the app
def spec_from_session(session: Any, **options: Any) -> BacktestSpec:
    """A backtest of what a :class:`tui.session.Session` holds: its universe, screen,
    constraint settings, holdings and new cash (``options`` set the other fields:
    ``frequency``, ``start``, ``end``, ``cash_rate``, ``delisting_return``, ...)."""
    return BacktestSpec(
        universe=session.universe.name,
        screen=session.screen,
        settings=session.settings,
        holdings=session.holdings,
        capital=session.capital,
        screen_label=session.screen_label,
        constraints_label=session.constraints_label,
        **options,
    )


def app_view(result: BacktestResult) -> dict[str, Any]:
    """Everything the app's backtest step shows, as plain data.

    Returns
    -------
    dict
        ``title`` (one line), ``banner`` (survivorship), ``partial`` (when signals were
        partial, or ''), ``canary`` (one line), ``dates`` (ISO dates of the daily curves),
        ``equity`` and ``drawdown`` (portfolio -> list of floats; ``equity`` starts at 1),
        ``labels`` (portfolio -> label), ``ic_dates`` and ``ic`` (signal -> rank IC per
        rebalance; the composite's inside the names the screen passed second), ``metrics`` (rows of ``portfolio``, ``label``, ``cagr``, ``volatility``,
        ``sharpe``, ``sortino``, ``max_drawdown``), ``relative`` (rows of ``benchmark``,
        ``label``, ``active_cagr``, ``tracking_error``, ``information_ratio``) and
        ``trading`` (turnover and costs).
    """
    from tui.output import jsonable

    e = result.equity
    portfolios = ["rotation", *BENCHMARKS]
    curves = {p: (e[p] / e[p].iloc[0]) for p in portfolios}
    pivot = result.ic.pivot(index="date", columns="signal", values="ic")
    signals = ["composite", *[s for s in pivot.columns if s != "composite"]]
    m = result.metrics
    view = {
        "title": title_line(result),
        "banner": result.banner,
        "partial": result.partial_note,
        "canary": canary_line(result),
        "dates": [d.date().isoformat() for d in e.index],
        "equity": {p: curves[p].tolist() for p in portfolios},
        "drawdown": {p: pf.drawdowns(curves[p]).tolist() for p in portfolios},
        "labels": dict(BENCHMARK_LABELS),
        "ic_dates": [pd.Timestamp(d).date().isoformat() for d in pivot.index],
        "ic": _ic_series(result, pivot, signals),
        "metrics": [{"portfolio": p, "label": BENCHMARK_LABELS[p], **m.loc[p].to_dict()} for p in portfolios],
        "relative": [{"benchmark": b, "label": BENCHMARK_LABELS[b], **result.relative.loc[b].to_dict()} for b in BENCHMARKS],
        "trading": result.trading,
    }
    out: dict[str, Any] = jsonable(view)
    return out


def _ic_series(result: BacktestResult, pivot: pd.DataFrame, signals: list[str]) -> dict[str, list[float]]:
    """Rank IC per rebalance of each signal, the composite's inside the passing names second."""
    series = {s: pivot[s].tolist() for s in signals if s in pivot.columns}
    if "composite" not in series:
        return series
    inside = result.ic.pivot(index="date", columns="signal", values="ic_passing")["composite"]
    first, *rest = series.items()
    return dict([first, ("composite, passing names", inside.tolist()), *rest])


def title_line(result: BacktestResult) -> str:
    """One line: what was backtested, how often, over which dates."""
    s = result.spec
    return (
        f"Backtest of {s.screen_label or s.screen.name} on {s.universe}, {s.frequency}, {result.dates[0].date()} to "
        f"{result.end.date()} ({len(result.dates)} rebalances, {result.years:.1f} years)"
    )


def canary_line(result: BacktestResult) -> str:
    """The leak canary in one line."""
    c = result.canary
    verdict = (
        "the guard refused it on every date"
        if c["refused"] == c["probes"]
        else f"THE GUARD LET IT THROUGH on {int(c['probes'] - c['refused'])} of {int(c['probes'])} dates: results may use the future"
    )
    return (
        f"Leak canary: data shifted one rebalance into the future: {verdict}; a signal that leaks next period's return scores "
        f"rank IC {c['leaky_ic']:.2f} (honest {c['honest_ic']:.2f}) and its top quintile {c['leaky_top_cagr']:+.0%} a year "
        f"(honest {c['honest_top_cagr']:+.0%})."
    )


# ------------------------------------------------------------------------------ the workbook
def export_backtest(path: str | Path, result: BacktestResult, overwrite: bool = False) -> Path:
    """Write the backtest workbook atomically: Summary (metrics, assumptions, banner), Equity
    and Drawdown (daily, each with a native line chart), Periods, Holdings (per rebalance),
    Trades, IC (per date and signal), Attribution and Survivorship.

    Raises
    ------
    tui.export.ExportError
        The file exists and ``overwrite`` is false, the folder is missing, or the write failed.
    """
    from tui.export import ExportError, check_target, write_file

    target = Path(path).expanduser()
    if target.suffix.lower() != ".xlsx":
        raise ExportError(f"{target}: the workbook must end in .xlsx.")
    check_target(target, overwrite)
    write_file(target, lambda out: write_backtest_workbook(out, result))
    return target


_PCT_COLUMNS = frozenset({"cagr", "total_return", "volatility", "max_drawdown", "active_cagr", "tracking_error", "weight", "turnover", "return", "one_year_only", "spread", "top", "bottom"})


def _format_of(column: str) -> str | None:
    from tui.export import NUM, PCT, USD

    if column == "date":
        return "yyyy-mm-dd"
    if column in _PCT_COLUMNS or column in ("allocation", "selection", "interaction", "total") or column.endswith(("_weight", "_return")):
        return PCT
    if column in ("value", "cash_before", "cash_after", "buys", "sells", "costs", "notional", "est_cost", "price"):
        return USD
    if column in ("sharpe", "sortino", "information_ratio", "ic", "composite"):
        return NUM
    return None


def _sheet(title: str, frame: pd.DataFrame) -> Any:
    from tui.export import frame_sheet

    columns = [str(c) for c in frame.columns]
    return frame_sheet(
        title,
        frame,
        {c: f for c in columns if (f := _format_of(c)) is not None},
        {c: 12.0 if c == "date" else 34.0 if c in ("name", "reason", "status") else 13.0 for c in columns},
    )


def _curves(result: BacktestResult, drawdown: bool) -> pd.DataFrame:
    e = result.equity
    frame = pd.DataFrame({BENCHMARK_LABELS[p]: e[p] / e[p].iloc[0] for p in ("rotation", *BENCHMARKS)}, index=e.index)
    if drawdown:
        frame = frame.apply(pf.drawdowns)
    frame.index.name = "date"
    return frame.reset_index()


def write_backtest_workbook(out: Any, result: BacktestResult) -> None:
    """The backtest workbook, written into the binary file ``out`` in one write."""
    import io

    from tui.export import PCT, WorkbookWriter, new_workbook

    buffer = io.BytesIO()
    book = new_workbook(buffer)
    writer = WorkbookWriter(book, f"Rotation backtest {result.spec.universe}")
    _summary_sheet(writer, result)
    for title, drawdown in (("Equity", False), ("Drawdown", True)):
        frame = _curves(result, drawdown)
        sheet = _sheet(title, frame)
        ws = book.add_worksheet(title)
        last = writer.table(ws, sheet)
        ws.freeze_panes(1, 1)
        ws.set_column(0, 0, 12, writer.format("yyyy-mm-dd"))
        for j in range(1, len(frame.columns)):
            ws.set_column(j, j, 16, writer.format(PCT if drawdown else "0.000"))
        chart = book.add_chart({"type": "line"})
        for j in range(1, len(frame.columns)):
            chart.add_series({"name": [title, 0, j], "categories": [title, 1, 0, last, 0], "values": [title, 1, j, last, j]})
        chart.set_title({"name": "Drawdown from the running peak" if drawdown else "Growth of 1 (dividends in, after costs for the rotation)"})
        chart.set_y_axis({"name": "Drawdown" if drawdown else "Value of 1 invested", "num_format": "0%" if drawdown else "0.00"})
        chart.set_x_axis({"name": "Date", "date_axis": True, "num_format": "yyyy-mm"})
        chart.set_legend({"position": "bottom"})
        chart.set_size({"width": 900, "height": 420})
        ws.insert_chart(1, len(frame.columns) + 1, chart)
        writer.page_setup(ws, last, len(frame.columns) + 12, header_row=0)
    for title, frame in (("Periods", result.periods), ("Holdings", result.holdings), ("Trades", result.trades), ("IC", result.ic), ("Attribution", result.attribution), ("Survivorship", result.survivorship)):
        writer.table_sheet(_sheet(title, frame.reset_index(drop=True)))
    book.close()
    out.write(buffer.getbuffer())


def _summary_sheet(writer: Any, result: BacktestResult) -> None:
    from tui.export import neutralise

    ws = writer.book.add_worksheet("Summary")
    ws.set_column(0, 0, 30)
    ws.set_column(1, 7, 16)
    pct, num, num3 = writer.format("0.00%"), writer.format("0.00"), writer.format("0.000")
    bold = writer.format(None, bold=True)
    row = 0

    def line(*cells: Any, fmts: tuple[Any, ...] = ()) -> None:
        nonlocal row
        for j, value in enumerate(cells):
            fmt = fmts[j] if j < len(fmts) else None
            if isinstance(value, str):
                ws.write_string(row, j, neutralise(value), fmt)
            elif isinstance(value, int | float | np.floating | np.integer) and np.isfinite(value):
                ws.write_number(row, j, float(value), fmt)
        row += 1

    ws.write_string(0, 0, neutralise(title_line(result)), writer.format(None, bold=True, font_size=13))
    row = 2
    line("Survivorship", result.banner)
    if result.partial_note:
        line("Partial signals", result.partial_note)
    line("Leak canary", canary_line(result))
    row += 1
    line("Portfolio", "CAGR", "Volatility", "Sharpe", "Sortino", "Max drawdown", "Total return", fmts=(bold,) * 7)
    for p in ("rotation", *BENCHMARKS):
        m = result.metrics.loc[p]
        line(BENCHMARK_LABELS[p], m["cagr"], m["volatility"], m["sharpe"], m["sortino"], m["max_drawdown"], m["total_return"], fmts=(None, pct, pct, num, num, pct, pct))
    row += 1
    line("Rotation against", "Active CAGR", "Tracking error", "Information ratio", fmts=(bold,) * 4)
    for b in BENCHMARKS:
        r = result.relative.loc[b]
        line(BENCHMARK_LABELS[b], r["active_cagr"], r["tracking_error"], r["information_ratio"], fmts=(None, pct, pct, num))
    row += 1
    t = result.trading
    line("Turnover, first rebalance", t["turnover_first"], fmts=(None, pct))
    line("Turnover a year, later rebalances", t["turnover_annual"], fmts=(None, pct))
    line("Trading costs (USD)", t["costs"], fmts=(None, num))
    line("Cost drag a year", t["cost_drag"], fmts=(None, pct))
    row += 1
    line("Signal", "Mean rank IC", "t-statistic", "Periods", "Mean quintile spread", fmts=(bold,) * 5)
    for signal, r in result.ic_summary.iterrows():
        line(str(signal), r["mean"], r["t_stat"], int(r["n"]), r["spread_mean"], fmts=(None, num3, num, None, pct))
    row += 1
    for key, value in assumptions(result.spec).items():
        line(key.replace("_", " ").capitalize(), "" if value is None else str(value))
    for note in result.notes:
        line("Note", note)
    writer.page_setup(ws, row, 7, header_row=None)


__all__ = [
    "BacktestError",
    "BacktestResult",
    "BacktestSpec",
    "LookAheadError",
    "PointInTime",
    "SweepResult",
    "app_view",
    "available_cpus",
    "dataset_of",
    "export_backtest",
    "first_possible_date",
    "load_sweep",
    "rebalance_dates",
    "run_backtest",
    "run_lockstep",
    "run_sweep",
    "spec_from_session",
]
