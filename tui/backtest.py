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
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from optimizer import performance as pf
from optimizer.constraints import (
    ConstraintSettings,
    load_constraints,
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
        has_price = ~np.isnan(history.close)
        last = np.where(has_price.any(axis=0), len(self.dates) - 1 - np.argmax(has_price[::-1], axis=0), -1)
        self.last_price_date = pd.Series(
            np.where(last >= 0, self.dates[np.maximum(last, 0)], np.datetime64("NaT")), index=self.tickers
        )

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
    from optimizer import OptimizerError, RotationOptimizer

    holdings = Holdings(shares=shares[shares > 0].astype(float), cash=float(cash), source="backtest")
    try:
        opt = view.check_optimizer(RotationOptimizer(universe, screened, holdings=holdings, capital=0.0))
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


def first_possible_date(spec: BacktestSpec, probe: _Probe | None = None) -> pd.Timestamp:
    """The first rebalance date (a period end) on which the walk can invest.

    It is the first period end on which the universe can be formed (enough price history and
    published fundamentals) and the screen passes enough names to invest the budget under the
    name cap (``ceil((1 - cash buffer) / max weight)``), found by bisection over the period
    ends of the data (the count of passing names grows as fiscal years get published).

    Raises
    ------
    BacktestError
        No date in the data qualifies.
    """
    probe = probe or _Probe(spec.universe)
    dataset = open_dataset(_dataset_of(spec.universe))
    end = _date(spec.end, "end", dataset.as_of)
    ends = [pd.Timestamp(d) for d in period_ends(dataset.prices.dates, spec.frequency) if d < end]
    needed = _names_needed(spec.settings)
    lo, hi = 0, len(ends)
    while lo < hi:
        mid = (lo + hi) // 2
        if probe.passing(ends[mid], spec) >= needed:
            hi = mid
        else:
            lo = mid + 1
    if lo == len(ends):
        raise BacktestError(
            f"No rebalance date in the data lets {spec.universe} pass {needed} names through the screen "
            f"{spec.screen.name!r} (the constraints invest {1 - spec.settings.cash_buffer:.0%} at most "
            f"{spec.settings.max_weight.value:.0%} a name). Loosen the screen or the name cap."
        )
    return ends[lo]


def _dataset_of(universe: str) -> str:
    """The dataset a universe is formed from (a ticker-list file picks from us-all)."""
    from universes.catalog import resolve_chain, root_dataset, universe_definitions
    from universes.loader import is_table_path

    return root_dataset(resolve_chain("us-all" if is_table_path(universe) else universe, universe_definitions()))


def rebalance_dates(spec: BacktestSpec, probe: _Probe | None = None) -> tuple[list[pd.Timestamp], pd.Timestamp]:
    """The rebalance dates and the final valuation date of a spec.

    The first rebalance is ``spec.start`` (or the first session after it), else the first
    possible date; then the last session of every month or quarter before the end.
    """
    dataset = open_dataset(_dataset_of(spec.universe))
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
    ic: float | None = None  # the composite's rank IC over the period, once realised


@dataclass(frozen=True)
class _Day:
    """What every variant shares about one rebalance date."""

    date: pd.Timestamp
    benchmark: pd.Series  # cap weights of the universe (the attribution benchmark)
    sectors: pd.Series  # every company's sector on the date
    one_year_only: float  # share of the universe with a single fiscal year


def run_backtest(spec: BacktestSpec) -> BacktestResult:
    """Walk one spec forward (see the module docstring).

    Raises
    ------
    BacktestError, universes.errors.UserError
        The spec cannot run (bad dates, a universe or screen that cannot be formed).
    LookAheadError
        A decision was about to use data from after its date.
    """
    return run_lockstep([spec])[0]


def run_lockstep(specs: Sequence[BacktestSpec]) -> list[BacktestResult]:
    """Walk several specs forward together, sharing each date's universe and screens.

    The specs must share universe, frequency, start, end and large-cap universe. Each spec's
    result is exactly what :func:`run_backtest` gives for it alone.
    """
    import time

    if not specs:
        return []
    base = specs[0]
    shared = (base.universe, base.frequency, base.start, base.end, base.large_universe)
    if any((s.universe, s.frequency, s.start, s.end, s.large_universe) != shared for s in specs):
        raise BacktestError("Variants run together must share universe, frequency, start, end and large-cap universe.")
    clock = time.perf_counter
    timings = dict.fromkeys(("universe", "screen", "optimizer", "accounting", "evaluation"), 0.0)
    probe = _Probe(base.universe)
    dates, end = rebalance_dates(base, probe)
    dataset = _dataset_of(base.universe)
    prices = DailyPrices(dataset)
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
                scores.setdefault(key, []).append(_Scores(when, _score_columns(screened[key])))
            timings["screen"] += clock() - t0
            decide_on, screen_of = universe, screened[key]
            if path.spec.look_ahead:
                decide_on, screen_of = _leaky_inputs(path.spec, dates, k, end, view)
            t0 = clock()
            _step(path, view, decide_on, screen_of, everyone, prices, scores[key])
            timings["optimizer"] += clock() - t0
        years = screened[base.screen_key].table["years_of_data"]
        days.append(_Day(when, bench.weights["small_cw"], everyone["sector"].fillna("Unclassified"), float((years < 2).mean())))
        previous = view
        probe.universes.clear()
        probe.screens.clear()
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


def _score_columns(screened: ScreenResult) -> pd.DataFrame:
    """The composite and each weighted factor's percentile (higher = better), per company."""
    table = screened.table
    factors = [f for f, w in screened.screen.weights.items() if w > 0 and f"pct_{f}" in table.columns]
    out = table[["composite", *(f"pct_{f}" for f in factors)]].astype(float)
    out.columns = pd.Index(["composite", *factors])
    return out


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
    for scored, stop in zip(history, stops, strict=True):
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
    published = data.fundamentals.groupby("ticker")["publish_date"].min()
    view.check("fiscal years counted for survivorship", published.max())
    last_price = prices.last_price_date.reindex(published.index)
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
        ``alpha_ic``, ``universe``, ``passing``, ``status``, ``delisted``, ``return`` (over
        the period that follows).
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
        ``ic`` (Spearman), ``spread`` (top minus bottom quintile), ``top``, ``bottom``.
    ic_summary : pandas.DataFrame
        Per signal: ``mean``, ``std``, ``t_stat``, ``n``, ``hit_rate``, ``spread_mean``.
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
        Seconds per stage (left out of the document: it varies between runs).
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
    ic = pd.DataFrame(signal_rows, columns=["date", "signal", "ic", "spread", "top", "bottom"])
    summary = {}
    for signal, rows in ic.groupby("signal", sort=False):
        summary[signal] = {**pf.ic_summary(rows["ic"]), "spread_mean": float(rows["spread"].mean())}
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
    for signal in scored.table.columns:
        q = pf.quantile_returns(scored.table[signal], forward, QUANTILES)
        full = len(q) == QUANTILES
        rows.append(
            {
                "date": scored.date,
                "signal": signal,
                "ic": pf.rank_ic(scored.table[signal], forward),
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
