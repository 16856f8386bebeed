"""The rotation: from a screened universe and today's holdings to target weights and trades.

::

    from optimizer import RotationOptimizer, load_constraints
    opt = RotationOptimizer(universe, screen_result, holdings=None, capital=1_000_000)
    result = opt.solve(load_constraints())          # compiles once
    result = opt.solve(settings.change(risk_aversion=4.0))   # re-solves the compiled problem

Candidates are the names that pass the screen (the best ``max_candidates`` of them when set)
plus every name held today. A universe of up to ``FULL_FRAME_NAMES`` names is compiled once
over all its names, the ones outside the screen held at zero by their bounds, so that a change
of the screen only moves parameters; a larger one is compiled over the candidates (a change of
the screen that changes them compiles anew). Held names
that fail the screen, or sit outside the universe, may be held or sold but not bought; names
outside the universe carry no alpha (no view). The benchmark for tracking error and beta is the universe, cap-weighted.

An infeasible change raises :class:`InfeasibleError` with a diagnosis in user terms; the
optimiser keeps its last feasible result (:attr:`RotationOptimizer.last_feasible`).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from optimizer.alpha import composite_to_alpha
from optimizer.constraints import ConstraintSettings
from optimizer.costs import impact_coefficient, linear_cost_rate, trade_cost
from optimizer.diagnose import (
    Conflict,
    arithmetic_checks,
    constraint_label,
    elastic_diagnosis,
    theme_checks,
)
from optimizer.integer import MAX_NAMES, MIN_POSITION, IntegerReport, relax_and_fix
from optimizer.model import (
    LOOSE,
    CompiledProblem,
    ParameterValues,
    ProblemData,
    RawSolution,
    SolverSettings,
    impact_charge,
    objective_gradient,
)
from optimizer.risk import (
    TRADING_DAYS,
    RiskModel,
    benchmark_returns,
    dimson_betas,
    estimate_factor_model,
    ledoit_wolf,
    residual_volatility,
)
from optimizer.styles import MOMENTUM_SESSIONS, exposures, raw_styles, standardise
from optimizer.trades import TradeBounds, TradeList, build_trades
from universes.errors import UserError
from universes.tickers import isin

if TYPE_CHECKING:
    from screener import ScreenResult
    from universes import Universe
    from universes.holdings import Holdings

DEFAULT_CAPITAL = 1_000_000.0
MAX_DENSE_NAMES = 600
#: Above this many names a universe is compiled over its candidates, not over all its names.
#: Measured on 2026-11-27: compiled whole, us-all (2,805 names, 491 past the shipped screen)
#: took 0.9 s to a first portfolio, 0.6 s a tweak and 0.5-0.85 s a screen edit; over its
#: candidates 0.36 s, 50 ms and 0.1-0.4 s. us-large (1,000): 1.1 s, 110 ms and 125-145 ms
#: whole; 0.18 s, 38 ms and 100-160 ms over its candidates. The default universe (409): 0.19 s,
#: 45 ms and 75 ms whole (a screen edit only moves parameters); 0.13 s, 27 ms and 99 ms.
FULL_FRAME_NAMES = 500
BINDING_TOL = 1e-6
#: A target weight below this is no position (interior-point solvers leave ~1e-9 on names
#: they do not hold).
HELD = 1e-6
#: Reported target weights below this are the solver's rounding, shown as exactly zero (the
#: statistics use the solver's own numbers).
DUST = HELD
#: Why some constraints show no shadow price.
NO_PRICE = {
    "long_only": "a switch, not a level (nothing to loosen by a point)",
    "no_buy": "a list of names, not a level",
    "no_sell": "a list of names, not a level",
    "max_names": "an integer limit has no dual; the gap to the continuous relaxation is reported instead",
    "min_position": "an integer limit has no dual; the gap to the continuous relaxation is reported instead",
    "negative_alpha": "a switch, not a level",
}


def _first(duals: dict[str, np.ndarray], row: str) -> float | None:
    """The dual of a one-element row, None when the row is not in the problem."""
    return float(duals[row][0]) if row in duals else None


class OptimizerError(UserError):
    """The optimisation cannot run as asked (the message says what to change)."""


class InfeasibleError(OptimizerError):
    """No portfolio satisfies the constraints; ``conflicts`` explains why."""

    def __init__(self, conflicts: list[Conflict]) -> None:
        self.conflicts = conflicts
        lines = [c.message for c in conflicts] or ["The constraints cannot all hold."]
        super().__init__("Infeasible constraints:\n  - " + "\n  - ".join(lines))


@dataclass(frozen=True)
class RotationResult:
    """One solved rotation: the targets, and the trade list as sent next to them.

    Weights are fractions of the portfolio's value before trading.

    Attributes
    ----------
    status : str
        ``"optimal"`` (a result exists only for a clear answer of the solver).
    objective : float
        alpha - risk_aversion x risk - costs / holding years (annual, fraction of portfolio
        value).
    solve_ms : float
        Time in the solver for this result (all re-solves of the integer stage included).
    solver : str
        The solver attempt that answered (``"CLARABEL (fast)"``, ``"CLARABEL"``, ``"SCS"``).
    weights : pandas.DataFrame
        Per candidate: ``name``, ``sector``, ``manufacturing``, ``price``, ``weight_before``,
        ``weight_after`` (target), ``weight_sent`` (after the trades as sent),
        ``shares_before``, ``shares_after``, ``alpha``, ``beta``, ``residual_vol``,
        ``composite``, ``buyable``, ``binding`` (the constraint behind the target, or why
        the name is out: "dropped by the max names limit", "negative expected alpha", ...).
    sectors : pandas.DataFrame
        ``sector``, ``before``, ``after`` (target), ``sent``, ``min``, ``max``.
    themes : pandas.DataFrame
        ``theme``, ``before``, ``after`` (target), ``sent``, ``min``, ``max``: the weight of the names tagged with
        each theme (a name may count in several; empty when the screen ran without tags).
    manufacturing : dict
        ``before``, ``after``, ``sent``, ``min``, ``max`` of the manufacturing share.
    constraints : pandas.DataFrame
        ``name``, ``label`` (the name in words: "Name cap", "Technology maximum"),
        ``setting``, ``enabled``, ``binding``, ``shadow_price`` (objective gained per
        percentage point of loosening; None where a dual has no user meaning),
        ``shadow_price_note`` (why there is none), ``level`` (target), ``level_sent``.
    stats : dict
        Targets: ``expected_alpha``, ``volatility``, ``tracking_error``, ``beta``,
        ``turnover``, ``linear_cost``, ``costs`` (one-time, linear + impact as the budget
        charges it: impact by chords of t^1.5, up to 8% above the per-trade estimates),
        ``costs_per_year`` (amortised over ``holding_years``), ``names``, ``invested``,
        ``negative_alpha_weight``, ``portfolio_value``; as sent: ``names_sent``,
        ``invested_sent``, ``expected_alpha_sent``, ``beta_sent``, ``tracking_error_sent``,
        ``turnover_sent``, ``cash_sent`` (cash after trades and costs, fraction).
    styles : pandas.DataFrame
        ``style`` (size, value, momentum, quality, leverage) and the exposures ``before``,
        ``after`` (target), ``sent``, ``benchmark`` in cross-sectional standard deviations
        (see :mod:`optimizer.styles`).
    trades : TradeList
    integer : IntegerReport or None
    settings : ConstraintSettings
    notes : tuple of str
    """

    status: str
    objective: float
    solve_ms: float
    solver: str
    weights: pd.DataFrame
    sectors: pd.DataFrame
    manufacturing: dict[str, float | None]
    constraints: pd.DataFrame
    stats: dict[str, float]
    trades: TradeList
    integer: IntegerReport | None
    settings: ConstraintSettings
    notes: tuple[str, ...] = field(default=())
    styles: pd.DataFrame = field(default_factory=pd.DataFrame)
    themes: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["theme", "before", "after", "sent", "min", "max"]))

    def positions(self) -> pd.DataFrame:
        """Rows held before, in the target or after the trades as sent, largest target first.

        Names the solver leaves at a few parts per billion (no position) are not rows.
        """
        w = self.weights
        held = (w["weight_after"].abs() > HELD) | (w["weight_before"].abs() > 0) | (w["weight_sent"].abs() > 0)
        return w[held].sort_values("weight_after", ascending=False)


@dataclass(frozen=True)
class StartingPoint:
    """What a rotation starts from, valued at the universe's as-of prices.

    Attributes
    ----------
    holdings : universes.holdings.Holdings
        The holdings with the new cash added (all cash without holdings).
    held : pandas.Index
        Held tickers with a price.
    unpriced : list of str
        Held tickers with no price on the date (left out of the value, never traded).
    held_value : float
        The priced positions' value (USD).
    value : float
        ``held_value`` plus cash: what the weights of a result are fractions of.
    """

    holdings: Holdings
    held: pd.Index
    unpriced: list[str]
    held_value: float
    value: float


def starting_point(universe: Universe, holdings: Holdings | None = None, capital: float | None = None) -> StartingPoint:
    """The holdings plus new cash ``capital``, valued (see :class:`RotationOptimizer`).

    Raises
    ------
    OptimizerError
        Negative capital, or nothing to invest.
    """
    from universes.holdings import Holdings
    from universes.loader import market_frame

    if capital is not None and capital < 0:
        raise OptimizerError("Capital must be zero or more.")
    if holdings is None:
        holdings = Holdings.all_cash(DEFAULT_CAPITAL if capital is None else capital)
    elif capital:
        holdings = Holdings(holdings.shares, holdings.cash + capital, holdings.untradeable, holdings.cost_basis, holdings.source, holdings.warnings)
    everyone, _ = market_frame(universe.dataset, universe.as_of)
    priced = everyone["price"].reindex(holdings.shares.index)
    held = holdings.shares.index[priced.notna()]
    held_value = float((holdings.shares.reindex(held) * priced.reindex(held)).sum())
    value = held_value + holdings.cash
    if value <= 0:
        raise OptimizerError("Nothing to invest: the holdings are worth nothing and there is no cash. Pass --capital.")
    return StartingPoint(holdings, held, list(holdings.shares.index[priced.isna()]), held_value, value)


@dataclass
class _Frame:
    """One candidate set: the data a problem is compiled from, and the compiled problems."""

    data: ProblemData
    tickers: pd.Index
    info: pd.DataFrame  # per candidate: name, sector, manufacturing, price, adv_usd, composite, buyable, in_universe, ...
    risk: RiskModel  # over the candidates
    daily_vol: np.ndarray
    w0: np.ndarray  # today's weights of the candidates
    shares_before: pd.Series  # today's shares of the candidates
    compiled: CompiledProblem | None = None
    elastic: CompiledProblem | None = None
    screen_version: tuple[int, int] | None = None  # (screen, max_candidates) behind ``info``
    alphas: dict[float, np.ndarray] = field(default_factory=dict)  # by information coefficient

    def problem(self, elastic: bool = False) -> CompiledProblem:
        """The compiled problem (built on first use)."""
        if elastic:
            if self.elastic is None:
                self.elastic = CompiledProblem(self.data, elastic=True)
            return self.elastic
        if self.compiled is None:
            self.compiled = CompiledProblem(self.data)
        return self.compiled


class RotationOptimizer:
    """Builds candidate sets, risk models and compiled problems; solves and re-solves.

    Parameters
    ----------
    universe : universes.Universe
    screen : screener.ScreenResult
        The screen over ``universe``.
    holdings : universes.holdings.Holdings, optional
        Today's holdings (default: all cash).
    capital : float, optional
        Cash to start from when there are no holdings (default 1,000,000 USD); with holdings,
        new cash added to them.
    alpha : pandas.Series, optional
        Expected excess returns to use instead of the composite transform.
    solver : SolverSettings, optional
        Solver chain and tolerances (default: Clarabel, then SCS).
    """

    def __init__(
        self,
        universe: Universe,
        screen: ScreenResult,
        holdings: Holdings | None = None,
        capital: float | None = None,
        alpha: pd.Series | None = None,
        solver: SolverSettings | None = None,
    ) -> None:
        from universes import open_dataset
        from universes.loader import market_frame

        self.universe = universe
        self.screen = screen
        start = starting_point(universe, holdings, capital)
        self.holdings, self.held, self.unpriced, self.portfolio_value = start.holdings, start.held, start.unpriced, start.value
        self.user_alpha = alpha
        self.solver = solver or SolverSettings()
        dataset = open_dataset(universe.dataset)
        everyone, _ = market_frame(universe.dataset, universe.as_of)
        self.market = everyone.loc[self.held.union(universe.tickers)]
        self.model_tickers = universe.tickers.append(self.held.difference(universe.tickers))
        self.prices = dataset.prices.select(self.model_tickers, until=universe.as_of)
        cap = universe.companies["market_cap"]
        self.benchmark = (cap / cap.sum()).reindex(self.model_tickers).fillna(0.0)
        self._risk: dict[tuple[str, int], RiskModel] = {}
        self._betas: dict[int, pd.Series] = {}
        self._styles: pd.DataFrame | None = None
        self._frames: OrderedDict[tuple[Any, ...], _Frame] = OrderedDict()
        self._candidates: dict[int, pd.Index] = {}
        self._tickers_key: tuple[pd.Index, tuple[str, ...]] | None = None  # the last candidates, as a frame key
        self._screen_version = 0
        self.last_feasible: RotationResult | None = None

    def set_screen(self, screen: ScreenResult) -> None:
        """Use a new screen over the same universe (after a filter or weight change).

        The risk model is kept, and so is a compiled problem whose names are unchanged (every
        universe of up to ``FULL_FRAME_NAMES`` names): only the screen's scores, alphas and
        buyable names are refreshed on the next solve.
        """
        if screen.universe_name != self.screen.universe_name:
            raise OptimizerError("A new screen must be over the same universe; build a new optimiser.")
        self.screen = screen
        self._screen_version += 1
        self._candidates.clear()
        self._styles = None

    # ------------------------------------------------------------------ structure
    def risk_model(self, kind: str, lookback: int) -> RiskModel:
        """The risk model over the universe and the held names (cached)."""
        key = (kind, lookback)
        if key not in self._risk:
            prices = self.prices.frame("adj_close", last=lookback + 1)
            sectors = self.market["sector"]
            if kind == "dense":
                if len(self.model_tickers) > MAX_DENSE_NAMES:
                    raise OptimizerError(
                        f"The dense (Ledoit-Wolf) risk model is for up to {MAX_DENSE_NAMES} names; this universe has "
                        f"{len(self.model_tickers)}. Use risk_model = \"factor\"."
                    )
                self._risk[key] = ledoit_wolf(prices, sectors)
            else:
                self._risk[key] = estimate_factor_model(prices, sectors)
        return self._risk[key]

    def betas(self, lookback: int) -> pd.Series:
        """Dimson betas of the universe's and the held names to the benchmark (cached)."""
        if lookback not in self._betas:
            prices = self.prices.frame("adj_close", last=lookback + 2)
            bench = benchmark_returns(prices, self.benchmark)
            self._betas[lookback] = dimson_betas(prices, bench, lookback).reindex(self.model_tickers).fillna(1.0)
        return self._betas[lookback]

    def style_scores(self) -> pd.DataFrame:
        """Standardised style scores of every name (see :mod:`optimizer.styles`)."""
        if self._styles is None:
            table = self.screen.table.reindex(self.model_tickers)
            table["market_cap"] = self.market["market_cap"].reindex(self.model_tickers)
            raw = raw_styles(table, self.prices.frame("adj_close", last=MOMENTUM_SESSIONS[0] + 1))  # the rows momentum reads
            self._styles = standardise(raw, self.benchmark)
        return self._styles

    def candidates(self, max_candidates: int) -> pd.Index:
        """Names the problem is compiled over: every name of a small universe (see the module
        docstring), else the screen's best plus everything held."""
        if len(self.model_tickers) <= FULL_FRAME_NAMES:
            return self.model_tickers
        if max_candidates not in self._candidates:
            best = self._best(max_candidates)
            self._candidates[max_candidates] = best.append(self.held.difference(best))
        return self._candidates[max_candidates]

    def _best(self, max_candidates: int) -> pd.Index:
        """The names that pass the screen, best first (the first ``max_candidates`` when set)."""
        ranked = self.screen.ranked.index
        return ranked[:max_candidates] if max_candidates else ranked

    def _screen_columns(self, tickers: pd.Index, max_candidates: int) -> pd.DataFrame:
        """What the screen says of each name: scores, and whether it may be bought."""
        table = self.screen.table
        return pd.DataFrame(
            {
                "composite": table["composite"].reindex(tickers),
                "fair_value": table["fair_value"].reindex(tickers),
                "discount": table["discount"].reindex(tickers),
                "quality": table["quality"].reindex(tickers),
                "buyable": isin(tickers, self._best(max_candidates)),
            },
            index=tickers,
        )

    def _theme_members(self, tickers: pd.Index) -> tuple[tuple[str, ...], np.ndarray | None]:
        """Theme ids and the themes x names membership matrix, from the screen's tag columns."""
        table = self.screen.table
        columns = [c for c in table.columns if c.startswith("theme_") and table[c].dtype == bool]
        if not columns:
            return (), None
        members = table[columns].reindex(tickers).fillna(False).astype(bool)
        return tuple(c.removeprefix("theme_") for c in columns), members.to_numpy().T

    def _frame(self, s: ConstraintSettings) -> _Frame:
        if len(self.screen.ranked) == 0 and len(self.held) == 0:
            raise OptimizerError("No candidates: no company passes the screen and nothing is held. Loosen the screen's filters.")
        frame = self._structure(s)
        version = (self._screen_version, s.max_candidates)
        if frame.screen_version != version:
            columns = self._screen_columns(frame.tickers, s.max_candidates)
            frame.info[list(columns.columns)] = columns
            frame.alphas.clear()
            frame.screen_version = version
        return frame

    def _structure(self, s: ConstraintSettings) -> _Frame:
        """The frame (data and compiled problem) for the candidates and structural settings."""
        tickers = self.candidates(s.max_candidates)
        if self._tickers_key is None or self._tickers_key[0] is not tickers:
            self._tickers_key = (tickers, tuple(tickers))  # 2,000 names: a millisecond a solve
        key = (
            self._tickers_key[1], s.risk_model, s.lookback_days, s.beta_lookback_days, s.risk_mode,
            s.costs.impact, s.tracking_error.enabled, s.beta.enabled, s.long_only,
        )
        if key in self._frames:
            self._frames.move_to_end(key)
            return self._frames[key]
        full = self.risk_model(s.risk_model, s.lookback_days)
        risk = full.subset(tickers)
        bench = self.benchmark.to_numpy()
        betas = self.betas(s.beta_lookback_days).reindex(tickers).to_numpy(float)
        bench_c = self.benchmark.reindex(tickers).to_numpy()
        others = ~isin(full.tickers, tickers)
        bench_idio = float(np.sum(full.idio_var[others] * bench[others] ** 2))
        m = self.market.loc[tickers]
        w0 = self.current_weights(tickers)
        theme_names, theme_members = self._theme_members(tickers)
        info = pd.DataFrame(
            {
                "name": m["name"],
                "sector": m["sector"].fillna("Unclassified"),
                "manufacturing": m["manufacturing"].astype(bool),
                "price": m["price"],
                "adv_usd": m["adv_usd"].fillna(0.0),
                "composite": np.nan,
                "fair_value": np.nan,
                "discount": np.nan,
                "quality": np.nan,
                "in_universe": isin(tickers, self.universe.tickers),
                "buyable": False,
                "beta": betas,
                "residual_vol": residual_volatility(full, bench).reindex(tickers).to_numpy(float),
            },
            index=tickers,
        )
        data = ProblemData(
            tickers=tickers,
            sectors=info["sector"].to_numpy(str),
            manufacturing=info["manufacturing"].to_numpy(bool),
            exposures=risk.exposures,
            factor_sqrt=risk.factor_sqrt(),
            idio_sd=np.sqrt(risk.idio_var),
            bench_exposure=full.exposures.T @ bench,
            bench_weight=bench_c,
            bench_idio_const=bench_idio,
            betas=betas,
            impact=s.costs.impact,
            tracking_error=s.tracking_error.enabled,
            beta=s.beta.enabled,
            active_risk=s.risk_mode == "active",
            theme_names=theme_names,
            theme_members=theme_members,
            traded_both_ways=(w0 != 0) | (not s.long_only),
        )
        shares_before = self.holdings.shares.reindex(tickers).fillna(0.0)
        frame = _Frame(data, tickers, info, risk, risk.volatility().to_numpy() / np.sqrt(TRADING_DAYS), w0, shares_before)
        self._frames[key] = frame
        if len(self._frames) > 4:
            self._frames.popitem(last=False)
        return frame

    # ------------------------------------------------------------------ parameters
    def alpha(self, frame: _Frame, s: ConstraintSettings) -> np.ndarray:
        """Expected alpha per candidate: the user's, or IC x residual volatility x score."""
        if self.user_alpha is not None:
            return self.user_alpha.reindex(frame.tickers).fillna(0.0).to_numpy(float)
        if s.alpha_ic not in frame.alphas:
            a = composite_to_alpha(frame.info["composite"], frame.info["residual_vol"], s.alpha_ic, reference=self.screen.table["composite"])
            frame.alphas[s.alpha_ic] = a.where(frame.info["in_universe"], 0.0).to_numpy(float)
        return frame.alphas[s.alpha_ic]

    def current_weights(self, tickers: pd.Index) -> np.ndarray:
        shares = self.holdings.shares.reindex(tickers).fillna(0.0)
        price = self.market["price"].reindex(tickers)
        return (shares * price / self.portfolio_value).fillna(0.0).to_numpy(float)

    def sector_limits(self, s: ConstraintSettings) -> dict[str, tuple[float | None, float | None]]:
        """Enabled sector and manufacturing bounds: label -> (min, max)."""
        out = {k: (r.min, r.max) for k, r in s.sectors.items() if r.enabled}
        if s.manufacturing.enabled:
            out["Manufacturing"] = (s.manufacturing.min, s.manufacturing.max)
        return out

    def values(self, frame: _Frame, s: ConstraintSettings) -> tuple[ParameterValues, dict[str, np.ndarray]]:
        """Parameter values for ``s``, and which named constraint set each name's bounds."""
        info = frame.info
        n = len(frame.tickers)
        w0 = frame.w0
        alpha = self.alpha(frame, s)
        cap = s.max_weight.value if s.max_weight.enabled else LOOSE
        lower = np.full(n, 0.0 if s.long_only else -cap)
        lower_src = np.full(n, "long_only" if s.long_only else "", dtype=object)
        upper = np.full(n, cap)
        upper_src = np.full(n, "max_weight" if s.max_weight.enabled else "", dtype=object)
        no_sell = frame.tickers.isin(s.no_sell)
        raise_lower = no_sell & (w0 > lower)
        lower = np.where(raise_lower, w0, lower)
        lower_src[raise_lower] = "no_sell"
        hold_only = ~info["buyable"].to_numpy(bool)
        no_buy = frame.tickers.isin(s.no_buy)
        negative = (alpha < 0) & (not s.buy_negative_alpha) & ~hold_only & ~no_buy
        for mask, label in ((no_buy, "no_buy"), (hold_only & ~no_buy, "hold_only"), (negative, "negative_alpha")):
            cut = mask & (w0 < upper)
            upper = np.where(cut, np.maximum(w0, 0.0), upper)
            upper_src[cut] = label
        names = frame.data.sector_names
        sector_lo = np.full(len(names), -LOOSE)
        sector_hi = np.full(len(names), LOOSE)
        for i, sector in enumerate(names):
            r = s.sectors.get(sector)
            if r is not None and r.enabled:
                sector_lo[i] = r.min if r.min is not None else -LOOSE
                sector_hi[i] = r.max if r.max is not None else LOOSE
        unknown = [t for t, r in s.themes.items() if r.enabled and t not in frame.data.theme_names]
        if unknown:
            known = ", ".join(frame.data.theme_names) or "none: the screen ran without theme tags"
            raise OptimizerError(f"No theme {', '.join(unknown)} among the screen's tags (themes: {known}). Remove the bound or name a theme by its id.")
        theme_lo = np.full(len(frame.data.theme_names), -LOOSE)
        theme_hi = np.full(len(frame.data.theme_names), LOOSE)
        for i, theme in enumerate(frame.data.theme_names):
            r = s.themes.get(theme)
            if r is not None and r.enabled:
                theme_lo[i] = r.min if r.min is not None else -LOOSE
                theme_hi[i] = r.max if r.max is not None else LOOSE
        mfg = s.manufacturing
        adv_cap = (
            np.clip(s.adv.value * info["adv_usd"].to_numpy(float) / self.portfolio_value, 0.0, LOOSE)
            if s.adv.enabled
            else np.full(n, LOOSE)
        )
        v = ParameterValues(
            alpha=alpha,
            w0=w0,
            gamma=s.risk_aversion,
            cost_rate=linear_cost_rate(info["adv_usd"].to_numpy(float), s.costs),
            impact_coef=impact_coefficient(frame.daily_vol, info["adv_usd"].to_numpy(float), self.portfolio_value, s.costs),
            invest=1.0 - s.cash_buffer,
            lower=lower,
            upper=upper,
            sector_lo=sector_lo,
            sector_hi=sector_hi,
            mfg_lo=(mfg.min if mfg.min is not None else -LOOSE) if mfg.enabled else -LOOSE,
            mfg_hi=(mfg.max if mfg.max is not None else LOOSE) if mfg.enabled else LOOSE,
            turnover_max=s.turnover.value if s.turnover.enabled else LOOSE,
            adv_cap=adv_cap,
            te_max=s.tracking_error.value if s.tracking_error.enabled else LOOSE,
            beta_lo=(s.beta.min if s.beta.min is not None else -LOOSE) if s.beta.enabled else -LOOSE,
            beta_hi=(s.beta.max if s.beta.max is not None else LOOSE) if s.beta.enabled else LOOSE,
            cost_weight=1.0 / s.costs.holding_years,
            theme_lo=theme_lo,
            theme_hi=theme_hi,
        )
        return v, {"lower": lower_src, "upper": upper_src}

    # ------------------------------------------------------------------ solving
    def solve(self, settings: ConstraintSettings) -> RotationResult:
        """Solve (or re-solve) for ``settings``.

        A result always comes from this solve: when the solver chain gives no clear answer
        the call raises, it never hands back an earlier portfolio.

        Raises
        ------
        InfeasibleError
            The constraints conflict; ``last_feasible`` still holds the previous result.
        OptimizerError
            Anything else the user must change (no candidates, no solver could answer).
        """
        frame = self._frame(settings)
        problem = frame.problem()
        v, sources = self.values(frame, settings)
        max_names = int(settings.max_names.value) if settings.max_names.enabled else None
        min_position = settings.min_position.value if settings.min_position.enabled else None
        cap = settings.max_weight.value if settings.max_weight.enabled else None
        conflicts = arithmetic_checks(frame.data, v, self.sector_limits(settings), max_names, cap, min_position)
        conflicts += theme_checks(frame.data, v)
        if conflicts:
            raise InfeasibleError(conflicts)
        report: IntegerReport | None = None
        if max_names is not None or min_position is not None:
            # the integer stage re-solves the problem: compile it parametrised from the start
            chain = replace(self.solver, substitute_first=False)
            raw, report, v_final = relax_and_fix(problem, v, max_names, min_position, chain)
        else:
            raw, v_final = problem.solve(v, self.solver), v
        if not raw.ok:
            if raw.status in ("infeasible", "infeasible_inaccurate") or report is not None:
                elastic = frame.problem(elastic=True)
                diagnosis = elastic_diagnosis(elastic, v_final, list(frame.tickers), frame.data.sector_names, sources, list(frame.data.theme_names))
                if report is not None and not diagnosis:
                    diagnosis = [Conflict(("max_names", "min_position"), "No selection of names meets max names / min position together with the other constraints. Allow more names or a smaller minimum position.")]
                raise InfeasibleError(diagnosis)
            tried = ", ".join(raw.tried) or "none installed"
            raise OptimizerError(
                f"No solver found a reliable optimum (tried {tried}; the last said {raw.status!r}). "
                "Loosen a constraint, lower risk aversion, or set looser solver tolerances."
            )
        user_sources = sources
        if report is not None:
            sources = self._integer_sources(sources, v, v_final, report)
        result = self._result(frame, settings, v_final, sources, raw, report, v, user_sources)
        self.last_feasible = result
        return result

    @staticmethod
    def _integer_sources(sources: dict[str, np.ndarray], v: ParameterValues, v_final: ParameterValues, report: IntegerReport) -> dict[str, np.ndarray]:
        """Bound sources after the integer stage: the bounds it set are its own."""
        lower, upper = sources["lower"].copy(), sources["upper"].copy()
        changed_up = v_final.upper < v.upper - 1e-12
        upper[changed_up] = "integer"
        for i, why in report.fixed.items():
            upper[i] = why
        raised = v_final.lower > v.lower + 1e-12
        lower[raised] = MIN_POSITION
        return {"lower": lower, "upper": upper}

    # ------------------------------------------------------------------ reporting
    def _result(
        self,
        frame: _Frame,
        s: ConstraintSettings,
        v: ParameterValues,
        sources: dict[str, np.ndarray],
        raw: RawSolution,
        report: IntegerReport | None,
        v_user: ParameterValues,
        user_sources: dict[str, np.ndarray],
    ) -> RotationResult:
        """The result of a solve; ``v`` has the final bounds (integer stage included),
        ``v_user`` the user's, which the trade list keeps."""
        assert raw.weights is not None and raw.objective is not None
        w = raw.weights
        info = frame.info
        data = frame.data
        binding_text = self._binding_per_name(v, w, sources, s)
        columns = {
            "weight_before": v.w0,
            "weight_after": np.where(np.abs(w) < DUST, 0.0, w),
            "alpha": v.alpha,
            "binding": binding_text,
            "shares_before": frame.shares_before,
        }
        # Frames built whole (adding a column to a frame copies its labels); the trade list reads only these.
        table = pd.DataFrame({"name": info["name"], "price": info["price"], **columns}, index=info.index)
        trades = self._trades(frame, s, v_user, user_sources, table, w)
        sent = trades.as_sent["weight_sent"].to_numpy(float)
        columns |= {"weight_sent": sent, "shares_after": trades.as_sent["shares_after"].to_numpy(float)}
        weights = pd.concat([info, pd.DataFrame(columns, index=info.index)], axis=1)

        target = weights["weight_after"].to_numpy(float)  # dust shown as zero, as in the weights
        # every sector of the universe and the holdings (a large universe is compiled over its
        # candidates only), and every sector with a bound
        universe_sectors = set(self.market["sector"].fillna("Unclassified").tolist())
        sectors = sorted(universe_sectors | {k for k, r in s.sectors.items() if r.enabled})
        rows = []
        for sector in sectors:
            members = data.sectors == sector
            r = s.sectors.get(sector)
            rows.append(
                {
                    "sector": sector,
                    "before": float(v.w0[members].sum()),
                    "after": float(target[members].sum()),
                    "sent": float(sent[members].sum()),
                    "min": r.min if r is not None and r.enabled else None,
                    "max": r.max if r is not None and r.enabled else None,
                }
            )
        sector_table = pd.DataFrame(rows, columns=["sector", "before", "after", "sent", "min", "max"])
        theme_rows = []
        for i, theme in enumerate(data.theme_names):
            members = np.asarray(data.theme_members)[i].astype(bool)
            r = s.themes.get(theme)
            theme_rows.append(
                {
                    "theme": theme,
                    "before": float(v.w0[members].sum()),
                    "after": float(target[members].sum()),
                    "sent": float(sent[members].sum()),
                    "min": r.min if r is not None and r.enabled else None,
                    "max": r.max if r is not None and r.enabled else None,
                }
            )
        theme_table = pd.DataFrame(theme_rows, columns=["theme", "before", "after", "sent", "min", "max"])
        mfg = data.manufacturing
        manufacturing = {
            "before": float(v.w0[mfg].sum()),
            "after": float(target[mfg].sum()),
            "sent": float(sent[mfg].sum()),
            "min": s.manufacturing.min if s.manufacturing.enabled else None,
            "max": s.manufacturing.max if s.manufacturing.enabled else None,
        }
        constraints = self._constraint_report(frame, s, v, sources, w, sent, raw.duals, report)
        traded = np.abs(w - v.w0)
        impact = float(v.impact_coef @ impact_charge(traded))  # as the budget charges it
        pv = self.portfolio_value
        stats = {
            "expected_alpha": float(v.alpha @ w),
            "volatility": float(np.sqrt(max(frame.risk.variance(w), 0.0))),
            "tracking_error": self._tracking_error(data, w),
            "beta": float(data.betas @ w),
            "turnover": float(traded.sum()),
            "linear_cost": float(v.cost_rate @ traded),
            "costs": float(v.cost_rate @ traded) + impact,
            "costs_per_year": (float(v.cost_rate @ traded) + impact) * v.cost_weight,
            "holding_years": s.costs.holding_years,
            "names": int((np.abs(w) > HELD).sum()),
            "invested": float(w.sum()),
            "negative_alpha_weight": float(w[(v.alpha < 0) & (w > HELD)].sum()),
            "portfolio_value": pv,
            "names_sent": trades.names,
            "invested_sent": float(sent.sum()),
            "expected_alpha_sent": float(v.alpha @ sent),
            "beta_sent": float(data.betas @ sent),
            "tracking_error_sent": self._tracking_error(data, sent),
            "turnover_sent": trades.turnover,
            "cash_sent": trades.cash_after / pv if pv > 0 else 0.0,
            "costs_sent": trades.costs / pv if pv > 0 else 0.0,
        }
        scores = self.style_scores()
        tick = frame.tickers
        styles = exposures(
            scores,
            {
                "before": pd.Series(v.w0, index=tick),
                "after": pd.Series(w, index=tick),
                "sent": pd.Series(sent, index=tick),
                "benchmark": self.benchmark,
            },
        )
        notes = list(self.holdings.warnings)
        if self.unpriced:
            notes.append(f"No price on {self.universe.as_of.date()} for {', '.join(self.unpriced)}: left out of the portfolio value and never traded.")
        named = {word.strip(".,:;()") for warning in notes for word in warning.split()}
        unreported = [t for t in self.holdings.untradeable.index if t not in named]  # the holdings reader names its own
        if unreported:
            notes.append(f"Untradeable holdings kept as they are: {', '.join(unreported)}.")
        spare = v.invest - stats["invested"] - stats["costs"]
        if spare > 1e-3:
            lists = ["budget", "long_only", "no_buy", "no_sell", "negative_alpha"]
            binding = constraints.loc[constraints["binding"] & ~constraints["name"].isin(lists), "name"].tolist()
            why = (
                f"the binding {', '.join(binding)} leave(s) no better use for it"
                if binding
                else "the objective prefers cash to more stock at this risk aversion (lower it, or measure risk against the benchmark)"
            )
            notes.append(f"The target keeps {100 * spare:.2f}% cash above the {100 * s.cash_buffer:.3g}% buffer: {why}.")
        notes += list(trades.notes) + list(trades.problems)
        return RotationResult(
            status=raw.status,
            objective=raw.objective,
            solve_ms=raw.solve_ms,
            solver=raw.solver,
            weights=weights,
            sectors=sector_table,
            manufacturing=manufacturing,
            constraints=constraints,
            stats=stats,
            trades=trades,
            integer=report,
            settings=s,
            notes=tuple(notes),
            styles=styles,
            themes=theme_table,
        )

    @staticmethod
    def _tracking_error(data: ProblemData, w: np.ndarray) -> float:
        fa = data.exposures.T @ w - data.bench_exposure
        te2 = float(np.sum((data.factor_sqrt @ fa) ** 2) + np.sum((data.idio_sd * (w - data.bench_weight)) ** 2) + data.bench_idio_const)
        return float(np.sqrt(max(te2, 0.0)))

    def _trades(
        self, frame: _Frame, s: ConstraintSettings, v: ParameterValues, sources: dict[str, np.ndarray], table: pd.DataFrame, w: np.ndarray
    ) -> TradeList:
        """The trade list for target weights ``w``, keeping the user's bounds ``v`` at whole lots
        (the integer stage's choice of names is the target's; max names and min position are
        kept as the user's limits)."""
        data = frame.data
        adv_all, vol_all = frame.info["adv_usd"].to_numpy(float), frame.daily_vol

        def cost(notional: np.ndarray, rows: np.ndarray) -> np.ndarray:
            return trade_cost(notional, adv_all[rows], vol_all[rows], s.costs)

        groups: dict[str, tuple[np.ndarray, float, float]] = {}
        for i, sector in enumerate(data.sector_names):
            if v.sector_lo[i] > -LOOSE or v.sector_hi[i] < LOOSE:
                groups[f"sector {sector}"] = (data.sectors == sector, float(v.sector_lo[i]), float(v.sector_hi[i]))
        if v.mfg_lo > -LOOSE or v.mfg_hi < LOOSE:
            groups["manufacturing"] = (data.manufacturing, float(v.mfg_lo), float(v.mfg_hi))
        for i, theme in enumerate(data.theme_names):
            if v.theme_lo[i] > -LOOSE or v.theme_hi[i] < LOOSE:
                members = np.asarray(data.theme_members, dtype=bool)[i]
                groups[f"theme {theme}"] = (members, float(v.theme_lo[i]), float(v.theme_hi[i]))
        bounds = TradeBounds(
            lower=v.lower,
            upper=v.upper,
            adv_cap=v.adv_cap,
            min_position=s.min_position.value if s.min_position.enabled else None,
            groups=groups,
            turnover_max=v.turnover_max,
            max_names=int(s.max_names.value) if s.max_names.enabled else None,
            invest=v.invest,
            beta=data.betas if data.beta else None,
            beta_lo=v.beta_lo,
            beta_hi=v.beta_hi,
            labels=sources,
            words=BOUND_LABELS,
        )
        gradient = objective_gradient(data, v, w)
        return build_trades(table, self.portfolio_value, self.holdings.cash, s.lot_size, s.min_trade_usd, cost, bounds, gradient)

    def _binding_per_name(self, v: ParameterValues, w: np.ndarray, sources: dict[str, np.ndarray], s: ConstraintSettings) -> np.ndarray:
        """Per name: the constraint behind its target, or why it is out (truthful exit labels)."""
        at_upper = np.abs(w - v.upper) < 1e-6
        at_lower = (np.abs(w - v.lower) < 1e-6) & (v.lower > 1e-9)
        traded = w - v.w0
        at_adv = s.adv.enabled & (np.abs(np.abs(traded) - v.adv_cap) < 1e-6) & (np.abs(traded) > 1e-9)
        label = {
            "max_weight": f"at the name cap {100 * s.max_weight.value:.3g}%",
            "no_buy": "no-buy list",
            "hold_only": "fails the screen: hold or sell only",
            "negative_alpha": "negative expected alpha: hold or sell only",
            "no_sell": "no-sell list",
            MAX_NAMES: f"dropped by the max names limit ({int(s.max_names.value)})",
            MIN_POSITION: f"below the minimum position {100 * s.min_position.value:.3g}%",
            "integer": "",
            "long_only": "",
        }
        out = np.full(len(w), "", dtype=object)
        # a cap speaks only for a name held at it; a list only for a name it keeps out
        src_upper = sources["upper"]
        lists = np.isin(src_upper, ["no_buy", "hold_only", "negative_alpha", "long_only", "integer", ""])
        quiet = (w <= HELD) & ((src_upper == "max_weight") | (lists & (v.w0 <= HELD)))
        speaks = (at_upper & ~quiet) | at_lower | at_adv
        for i in np.flatnonzero(speaks):
            parts = []
            src_up = str(src_upper[i])
            if at_upper[i] and src_up and not quiet[i]:
                parts.append(label.get(src_up, ""))
            if at_lower[i] and sources["lower"][i]:
                src_lo = str(sources["lower"][i])
                parts.append(f"at min position {100 * s.min_position.value:.3g}%" if src_lo == MIN_POSITION else label.get(src_lo, ""))
            if at_adv[i]:
                parts.append(f"limited to {100 * s.adv.value:.3g}% of daily volume")
            out[i] = "; ".join(p for p in parts if p)
        return out

    def _constraint_report(
        self,
        frame: _Frame,
        s: ConstraintSettings,
        v: ParameterValues,
        sources: dict[str, np.ndarray],
        w: np.ndarray,
        sent: np.ndarray,
        d: dict[str, np.ndarray],
        report: IntegerReport | None,
    ) -> pd.DataFrame:
        """Every constraint: setting, binding, shadow price (per pp of loosening) and levels.

        A shadow price is the derivative of the objective with respect to the user's setting:
        the dual of a one-row constraint, or the sum of the duals of every per-name bound the
        setting moves (a name cap moves the upper bound of each name it caps). Bounds the
        integer stage set are its own, not the setting's. Constraints without a level to
        loosen (switches, lists, integer limits) get none, with the reason.
        """
        data = frame.data
        rows: list[dict[str, Any]] = []

        def add(name: str, setting: str, enabled: bool, dual: float | None, level: float | None, level_sent: float | None, binding: bool | None = None, note: str = "") -> None:
            gain = None if dual is None or not enabled else float(dual) * 0.01
            if binding is None:
                binding = bool(enabled and dual is not None and abs(dual) > BINDING_TOL)
            words = constraint_label(name).removeprefix("the ")
            rows.append(
                {
                    "name": name, "label": words[:1].upper() + words[1:], "setting": setting, "enabled": enabled, "binding": binding,
                    "shadow_price": gain, "shadow_price_note": note if enabled and gain is None else "", "level": level, "level_sent": level_sent,
                }
            )

        def by_source(row: str, src: np.ndarray, label: str) -> float:
            return float(d[row][src == label].sum()) if row in d else 0.0

        add("budget", f"invested {100 * v.invest:.3g}% after costs (cash buffer {100 * s.cash_buffer:.3g}%)", True, _first(d, "budget"), float(w.sum()), float(sent.sum()), True)
        add("long_only", "no short positions", s.long_only, None, float(w.min()) if len(w) else None, float(sent.min()) if len(sent) else None, bool(s.long_only and (np.abs(w) <= HELD).any()), NO_PRICE["long_only"])
        add("max_weight", f"<= {100 * s.max_weight.value:.3g}% per name", s.max_weight.enabled, by_source("upper", sources["upper"], "max_weight"), float(w.max()) if len(w) else None, float(sent.max()) if len(sent) else None)
        mfg_level, mfg_sent = float(w[data.manufacturing].sum()), float(sent[data.manufacturing].sum())
        mfg = s.manufacturing
        add("manufacturing:min", f">= {100 * (mfg.min or 0):.3g}%", mfg.enabled and mfg.min is not None, _first(d, "mfg_lo"), mfg_level, mfg_sent)
        add("manufacturing:max", f"<= {100 * (mfg.max or 1):.3g}%", mfg.enabled and mfg.max is not None, _first(d, "mfg_hi"), mfg_level, mfg_sent)
        names = data.sector_names
        for sector, r in s.sectors.items():
            idx = names.index(sector) if sector in names else None
            members = data.sectors == sector
            level, level_sent = float(w[members].sum()), float(sent[members].sum())
            if r.min is not None:
                add(f"sector:{sector}:min", f">= {100 * r.min:.3g}%", r.enabled, float(d["sector_lo"][idx]) if idx is not None else 0.0, level, level_sent)
            if r.max is not None:
                add(f"sector:{sector}:max", f"<= {100 * r.max:.3g}%", r.enabled, float(d["sector_hi"][idx]) if idx is not None else 0.0, level, level_sent)
        for theme, r in s.themes.items():
            idx = data.theme_names.index(theme) if theme in data.theme_names else None
            members = np.asarray(data.theme_members)[idx].astype(bool) if idx is not None else np.zeros(len(w), dtype=bool)
            level, level_sent = float(w[members].sum()), float(sent[members].sum())
            if r.min is not None:
                add(f"theme:{theme}:min", f">= {100 * r.min:.3g}%", r.enabled, float(d["theme_lo"][idx]) if idx is not None and "theme_lo" in d else 0.0, level, level_sent)
            if r.max is not None:
                add(f"theme:{theme}:max", f"<= {100 * r.max:.3g}%", r.enabled, float(d["theme_hi"][idx]) if idx is not None and "theme_hi" in d else 0.0, level, level_sent)
        turnover = float(np.abs(w - v.w0).sum())
        add("turnover", f"<= {100 * s.turnover.value:.3g}% (buys + sells)", s.turnover.enabled, _first(d, "turnover"), turnover, float(np.abs(sent - v.w0).sum()))
        adv_scale = frame.info["adv_usd"].to_numpy(float) / self.portfolio_value
        adv_dual = float((d["adv"] * adv_scale).sum()) if "adv" in d else None
        add("adv", f"<= {100 * s.adv.value:.3g}% of daily volume per trade", s.adv.enabled, adv_dual, None, None)
        add("tracking_error", f"<= {100 * s.tracking_error.value:.3g}% a year", s.tracking_error.enabled, _first(d, "tracking_error"), self._tracking_error(data, w), self._tracking_error(data, sent))
        beta, beta_sent = float(data.betas @ w), float(data.betas @ sent)
        add("beta:min", f">= {s.beta.min}", s.beta.enabled and s.beta.min is not None, _first(d, "beta_lo"), beta, beta_sent)
        add("beta:max", f"<= {s.beta.max}", s.beta.enabled and s.beta.max is not None, _first(d, "beta_hi"), beta, beta_sent)
        add("no_buy", f"{len(s.no_buy)} tickers", bool(s.no_buy), None, None, None, bool(s.no_buy and (sources["upper"] == "no_buy").any()), NO_PRICE["no_buy"])
        add("no_sell", f"{len(s.no_sell)} tickers", bool(s.no_sell), None, None, None, bool(s.no_sell and (sources["lower"] == "no_sell").any()), NO_PRICE["no_sell"])
        negative = sources["upper"] == "negative_alpha"
        add("negative_alpha", "buy names with negative alpha: " + ("allowed" if s.buy_negative_alpha else "no"), not s.buy_negative_alpha, None, None, None, bool(negative.any()), NO_PRICE["negative_alpha"])
        held, held_sent = int((np.abs(w) > HELD).sum()), int((np.abs(sent) > 0).sum())
        add("max_names", f"<= {int(s.max_names.value)} names", s.max_names.enabled, None, float(held), float(held_sent), s.max_names.enabled and held >= int(s.max_names.value), NO_PRICE["max_names"])
        smallest = float(np.abs(w[np.abs(w) > HELD]).min()) if (np.abs(w) > HELD).any() else None
        smallest_sent = float(np.abs(sent[np.abs(sent) > 0]).min()) if (np.abs(sent) > 0).any() else None
        at_min = s.min_position.enabled and smallest is not None and smallest <= s.min_position.value + 1e-6
        add("min_position", f">= {100 * s.min_position.value:.3g}% per position", s.min_position.enabled, None, smallest, smallest_sent, bool(at_min), NO_PRICE["min_position"])
        columns = ["name", "label", "setting", "enabled", "binding", "shadow_price", "shadow_price_note", "level", "level_sent"]
        return pd.DataFrame(rows, columns=columns)


#: Plain words for the constraint behind a per-name bound (messages about the trade list).
BOUND_LABELS = {
    "max_weight": "the name cap",
    "no_buy": "the no-buy list",
    "hold_only": "hold-or-sell only (fails the screen)",
    "negative_alpha": "negative expected alpha (hold or sell only)",
    "no_sell": "the no-sell list",
    "long_only": "long-only",
    MAX_NAMES: "the max names limit",
    MIN_POSITION: "the minimum position",
    "integer": "the max names / min position selection",
    "": "",
}
