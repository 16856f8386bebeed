"""The rotation: from a screened universe and today's holdings to target weights and trades.

::

    from optimizer import RotationOptimizer, load_constraints
    opt = RotationOptimizer(universe, screen_result, holdings=None, capital=1_000_000)
    result = opt.solve(load_constraints())          # compiles once
    result = opt.solve(settings.change(risk_aversion=4.0))   # re-solves the compiled problem

Candidates are the names that pass the screen (the best ``max_candidates`` of them when set)
plus every name held today. A universe of up to ``FULL_FRAME_NAMES`` names is compiled once
over all its names, the ones outside the screen held at zero by their bounds, so that a change
of the screen only moves parameters; a larger one is compiled over the candidates. Held names
that fail the screen, or sit outside the universe, may be held or sold but not bought; names
outside the universe carry no alpha (no view). The benchmark for tracking error and beta is the universe, cap-weighted.

An infeasible change raises :class:`InfeasibleError` with a diagnosis in user terms; the
optimiser keeps its last feasible result (:attr:`RotationOptimizer.last_feasible`).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from optimizer.alpha import composite_to_alpha
from optimizer.constraints import ConstraintSettings
from optimizer.costs import impact_coefficient, linear_cost_rate, trade_cost
from optimizer.diagnose import Conflict, arithmetic_checks, elastic_diagnosis
from optimizer.integer import IntegerReport, relax_and_fix
from optimizer.model import (
    LOOSE,
    SOLVER,
    CompiledProblem,
    ParameterValues,
    ProblemData,
    RawSolution,
)
from optimizer.risk import TRADING_DAYS, RiskModel, estimate_factor_model, ledoit_wolf
from optimizer.trades import TradeList, build_trades
from universes.errors import UserError

if TYPE_CHECKING:
    from screener import ScreenResult
    from universes import Universe
    from universes.holdings import Holdings

DEFAULT_CAPITAL = 1_000_000.0
MAX_DENSE_NAMES = 600
FULL_FRAME_NAMES = 3000
BINDING_TOL = 1e-6


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
    """One solved rotation.

    Attributes
    ----------
    status : str
    objective : float
        alpha - risk_aversion x variance - costs (annual, fraction of portfolio value).
    solve_ms : float
        Time in the solver for this result (all re-solves of the integer stage included).
    solver : str
    weights : pandas.DataFrame
        Per candidate: ``name``, ``sector``, ``manufacturing``, ``weight_before``,
        ``weight_after``, ``alpha``, ``composite``, ``price``, ``buyable``, ``binding``.
    sectors : pandas.DataFrame
        ``sector``, ``before``, ``after``, ``min``, ``max``.
    manufacturing : dict
        ``before``, ``after``, ``min``, ``max`` of the manufacturing share.
    constraints : pandas.DataFrame
        ``name``, ``setting``, ``enabled``, ``binding``, ``shadow_price`` (objective gained per
        percentage point of loosening), ``level`` (where the portfolio sits).
    stats : dict
        ``expected_alpha``, ``volatility``, ``tracking_error``, ``beta``, ``turnover``,
        ``linear_cost``, ``names``, ``portfolio_value``.
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

    def positions(self) -> pd.DataFrame:
        """The rows of :attr:`weights` held before or after, largest target weight first."""
        w = self.weights
        held = (w["weight_after"].abs() > 1e-9) | (w["weight_before"].abs() > 1e-9)
        return w[held].sort_values("weight_after", ascending=False)


@dataclass
class _Frame:
    """One candidate set: the data a problem is compiled from, and the compiled problems."""

    data: ProblemData
    tickers: pd.Index
    info: pd.DataFrame  # per candidate: name, sector, manufacturing, price, adv_usd, composite, buyable, in_universe
    risk: RiskModel  # over the candidates
    daily_vol: np.ndarray
    w0: np.ndarray  # today's weights of the candidates
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
    """

    def __init__(
        self,
        universe: Universe,
        screen: ScreenResult,
        holdings: Holdings | None = None,
        capital: float | None = None,
        alpha: pd.Series | None = None,
    ) -> None:
        from universes import open_dataset
        from universes.holdings import Holdings
        from universes.loader import market_frame

        if capital is not None and capital < 0:
            raise OptimizerError("Capital must be zero or more.")
        self.universe = universe
        self.screen = screen
        if holdings is None:
            holdings = Holdings.all_cash(DEFAULT_CAPITAL if capital is None else capital)
        elif capital:
            holdings = Holdings(holdings.shares, holdings.cash + capital, holdings.untradeable, holdings.cost_basis, holdings.source, holdings.warnings)
        self.holdings = holdings
        self.user_alpha = alpha
        dataset = open_dataset(universe.dataset)
        everyone, _ = market_frame(universe.dataset, universe.as_of)
        held = holdings.shares.index
        priced = everyone["price"].reindex(held)
        self.unpriced = list(held[priced.isna()])
        self.held = held[priced.notna()]
        self.market = everyone.loc[self.held.union(universe.tickers)]
        self.model_tickers = universe.tickers.append(self.held.difference(universe.tickers))
        self.prices = dataset.prices.select(self.model_tickers, until=universe.as_of)
        value = holdings.shares.reindex(self.held) * self.market.loc[self.held, "price"]
        self.portfolio_value = float(value.sum() + holdings.cash)
        if self.portfolio_value <= 0:
            raise OptimizerError("Nothing to invest: the holdings are worth nothing and there is no cash. Pass --capital.")
        cap = universe.companies["market_cap"]
        self.benchmark = (cap / cap.sum()).reindex(self.model_tickers).fillna(0.0)
        self._risk: dict[tuple[str, int], RiskModel] = {}
        self._frames: OrderedDict[tuple[Any, ...], _Frame] = OrderedDict()
        self._candidates: dict[int, pd.Index] = {}
        self._screen_version = 0
        self.last_feasible: RotationResult | None = None

    def set_screen(self, screen: ScreenResult) -> None:
        """Use a new screen over the same universe (after a filter or weight change).

        The risk model is kept, and so is a compiled problem whose names are unchanged (every
        universe up to ``FULL_FRAME_NAMES`` names): only the screen's scores, alphas and
        buyable names are refreshed on the next solve.
        """
        if screen.universe_name != self.screen.universe_name:
            raise OptimizerError("A new screen must be over the same universe; build a new optimiser.")
        self.screen = screen
        self._screen_version += 1
        self._candidates.clear()

    # ------------------------------------------------------------------ structure
    def risk_model(self, kind: str, lookback: int) -> RiskModel:
        """The risk model over the universe and the held names (cached)."""
        key = (kind, lookback)
        if key not in self._risk:
            prices = self.prices.frame("adj_close").iloc[-(lookback + 1):]
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
                "buyable": tickers.isin(self._best(max_candidates)),
            },
            index=tickers,
        )

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
        key = (tuple(tickers), s.risk_model, s.lookback_days, s.costs.impact, s.tracking_error.enabled, s.beta.enabled, s.long_only)
        if key in self._frames:
            self._frames.move_to_end(key)
            return self._frames[key]
        full = self.risk_model(s.risk_model, s.lookback_days)
        risk = full.subset(tickers)
        bench = self.benchmark.to_numpy()
        betas = pd.Series(full.betas(bench), index=full.tickers).reindex(tickers).to_numpy()
        bench_c = self.benchmark.reindex(tickers).to_numpy()
        others = ~full.tickers.isin(tickers)
        bench_idio = float(np.sum(full.idio_var[others] * bench[others] ** 2))
        m = self.market.loc[tickers]
        w0 = self.current_weights(tickers)
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
                "in_universe": tickers.isin(self.universe.tickers),
                "buyable": False,
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
            traded_both_ways=(w0 != 0) | (not s.long_only),
        )
        frame = _Frame(data, tickers, info, risk, risk.volatility().to_numpy() / np.sqrt(TRADING_DAYS), w0)
        self._frames[key] = frame
        if len(self._frames) > 4:
            self._frames.popitem(last=False)
        return frame

    # ------------------------------------------------------------------ parameters
    def alpha(self, frame: _Frame, s: ConstraintSettings) -> np.ndarray:
        if self.user_alpha is not None:
            return self.user_alpha.reindex(frame.tickers).fillna(0.0).to_numpy(float)
        if s.alpha_ic not in frame.alphas:
            vol = frame.risk.volatility()
            a = composite_to_alpha(frame.info["composite"], vol, s.alpha_ic, reference=self.screen.table["composite"])
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
        for mask, label in ((no_buy, "no_buy"), (hold_only & ~no_buy, "hold_only")):
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
        mfg = s.manufacturing
        adv_cap = (
            np.clip(s.adv.value * info["adv_usd"].to_numpy(float) / self.portfolio_value, 0.0, LOOSE)
            if s.adv.enabled
            else np.full(n, LOOSE)
        )
        v = ParameterValues(
            alpha=self.alpha(frame, s),
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
        )
        return v, {"lower": lower_src, "upper": upper_src}

    # ------------------------------------------------------------------ solving
    def solve(self, settings: ConstraintSettings) -> RotationResult:
        """Solve (or re-solve) for ``settings``.

        Raises
        ------
        InfeasibleError
            The constraints conflict; ``last_feasible`` still holds the previous result.
        OptimizerError
            Anything else the user must change (no candidates, solver failure).
        """
        frame = self._frame(settings)
        problem = frame.problem()
        v, sources = self.values(frame, settings)
        max_names = int(settings.max_names.value) if settings.max_names.enabled else None
        min_position = settings.min_position.value if settings.min_position.enabled else None
        cap = settings.max_weight.value if settings.max_weight.enabled else None
        conflicts = arithmetic_checks(frame.data, v, self.sector_limits(settings), max_names, cap, min_position)
        if conflicts:
            raise InfeasibleError(conflicts)
        report: IntegerReport | None = None
        if max_names is not None or min_position is not None:
            raw, report, v_final = relax_and_fix(problem, v, max_names, min_position)
        else:
            raw, v_final = problem.solve(v), v
        if not raw.ok:
            if raw.status in ("infeasible", "infeasible_inaccurate") or report is not None:
                elastic = frame.problem(elastic=True)
                diagnosis = elastic_diagnosis(elastic, v_final, list(frame.tickers), frame.data.sector_names, sources)
                if report is not None and not diagnosis:
                    diagnosis = [Conflict(("max_names", "min_position"), "No selection of names meets max names / min position together with the other constraints. Allow more names or a smaller minimum position.")]
                raise InfeasibleError(diagnosis)
            raise OptimizerError(f"The solver stopped with status {raw.status!r}. Try loosening a constraint or lowering risk aversion.")
        result = self._result(frame, settings, v_final, sources, raw, report)
        self.last_feasible = result
        return result

    # ------------------------------------------------------------------ reporting
    def _result(
        self,
        frame: _Frame,
        s: ConstraintSettings,
        v: ParameterValues,
        sources: dict[str, np.ndarray],
        raw: RawSolution,
        report: IntegerReport | None,
    ) -> RotationResult:
        assert raw.weights is not None and raw.objective is not None
        w = np.where(np.abs(raw.weights) < 1e-9, 0.0, raw.weights)
        info = frame.info
        d = raw.duals
        binding_text = self._binding_per_name(frame, v, w, sources, s)
        weights = info.copy()
        weights["weight_before"] = v.w0
        weights["weight_after"] = w
        weights["alpha"] = v.alpha
        weights["binding"] = binding_text
        data = frame.data
        sectors = sorted(set(data.sectors.tolist()) | {k for k, r in s.sectors.items() if r.enabled})
        rows = []
        for sector in sectors:
            members = data.sectors == sector
            r = s.sectors.get(sector)
            rows.append(
                {
                    "sector": sector,
                    "before": float(v.w0[members].sum()),
                    "after": float(w[members].sum()),
                    "min": r.min if r is not None and r.enabled else None,
                    "max": r.max if r is not None and r.enabled else None,
                }
            )
        sector_table = pd.DataFrame(rows, columns=["sector", "before", "after", "min", "max"])
        mfg = data.manufacturing
        manufacturing = {
            "before": float(v.w0[mfg].sum()),
            "after": float(w[mfg].sum()),
            "min": s.manufacturing.min if s.manufacturing.enabled else None,
            "max": s.manufacturing.max if s.manufacturing.enabled else None,
        }
        constraints = self._constraint_report(frame, s, v, sources, w, d, report)
        risk = frame.risk
        variance = risk.variance(w)
        active = w - data.bench_weight
        fa = data.exposures.T @ w - data.bench_exposure
        te2 = float(np.sum((data.factor_sqrt @ fa) ** 2) + np.sum((data.idio_sd * active) ** 2) + data.bench_idio_const)
        traded = np.abs(w - v.w0)
        stats = {
            "expected_alpha": float(v.alpha @ w),
            "volatility": float(np.sqrt(max(variance, 0.0))),
            "tracking_error": float(np.sqrt(max(te2, 0.0))),
            "beta": float(data.betas @ w),
            "turnover": float(traded.sum()),
            "linear_cost": float(v.cost_rate @ traded),
            "names": int((np.abs(w) > 1e-7).sum()),
            "invested": float(w.sum()),
            "portfolio_value": self.portfolio_value,
        }
        table = weights.assign(shares_before=self.holdings.shares.reindex(frame.tickers).fillna(0.0))
        daily_vol = pd.Series(frame.daily_vol, index=frame.tickers)
        adv = info["adv_usd"]

        adv_all, vol_all = adv.to_numpy(float), frame.daily_vol

        def cost(notional: np.ndarray, tickers: pd.Index) -> np.ndarray:
            if tickers.equals(frame.tickers):
                return trade_cost(notional, adv_all, vol_all, s.costs)
            return trade_cost(notional, adv.reindex(tickers).to_numpy(float), daily_vol.reindex(tickers).to_numpy(float), s.costs)

        trades = build_trades(table, self.portfolio_value, self.holdings.cash, s.lot_size, s.min_trade_usd, cost)
        notes = list(self.holdings.warnings)
        if self.unpriced:
            notes.append(f"No price on {self.universe.as_of.date()} for {', '.join(self.unpriced)}: left out of the portfolio value and never traded.")
        if len(self.holdings.untradeable):
            notes.append(f"Untradeable holdings kept as they are: {', '.join(self.holdings.untradeable.index)}.")
        notes += list(trades.notes)
        return RotationResult(
            status=raw.status,
            objective=raw.objective,
            solve_ms=raw.solve_ms,
            solver=SOLVER,
            weights=weights,
            sectors=sector_table,
            manufacturing=manufacturing,
            constraints=constraints,
            stats=stats,
            trades=trades,
            integer=report,
            settings=s,
            notes=tuple(notes),
        )

    def _binding_per_name(self, frame: _Frame, v: ParameterValues, w: np.ndarray, sources: dict[str, np.ndarray], s: ConstraintSettings) -> np.ndarray:
        at_upper = np.abs(w - v.upper) < 1e-6
        at_lower = (np.abs(w - v.lower) < 1e-6) & (v.lower > 1e-9)
        traded = w - v.w0
        at_adv = s.adv.enabled & (np.abs(np.abs(traded) - v.adv_cap) < 1e-6) & (np.abs(traded) > 1e-9)
        label = {
            "max_weight": f"at max weight {100 * s.max_weight.value:.3g}%",
            "no_buy": "no-buy list",
            "hold_only": "fails the screen: hold or sell only",
            "no_sell": "no-sell list",
            "long_only": "",
        }
        out = np.full(len(w), "", dtype=object)
        at_min = np.abs(w - s.min_position.value) < 1e-6 if s.min_position.enabled else np.zeros(len(w), dtype=bool)
        for i in np.flatnonzero(at_upper | at_lower | at_adv | at_min):
            parts = []
            if at_upper[i] and sources["upper"][i]:
                parts.append(label.get(sources["upper"][i], ""))
            if at_lower[i] and sources["lower"][i]:
                parts.append(label.get(sources["lower"][i], ""))
            if at_adv[i]:
                parts.append(f"limited to {100 * s.adv.value:.3g}% of daily volume")
            if at_min[i]:
                parts.append(f"at min position {100 * s.min_position.value:.3g}%")
            out[i] = "; ".join(p for p in parts if p)
        return out

    def _constraint_report(
        self,
        frame: _Frame,
        s: ConstraintSettings,
        v: ParameterValues,
        sources: dict[str, np.ndarray],
        w: np.ndarray,
        d: dict[str, np.ndarray],
        report: IntegerReport | None,
    ) -> pd.DataFrame:
        data = frame.data
        rows: list[dict[str, Any]] = []

        def add(name: str, setting: str, enabled: bool, dual: float | None, level: float | None, binding: bool | None = None) -> None:
            gain = None if dual is None else float(dual) * 0.01
            if binding is None:
                binding = bool(enabled and dual is not None and abs(dual) > BINDING_TOL)
            rows.append({"name": name, "setting": setting, "enabled": enabled, "binding": binding, "shadow_price": gain if enabled else None, "level": level})

        def by_source(row: str, src: np.ndarray, label: str) -> float:
            return float(d[row][src == label].sum()) if row in d else 0.0

        add("budget", f"invested {100 * v.invest:.3g}% (cash buffer {100 * s.cash_buffer:.3g}%)", True, float(d["budget"][0]) if "budget" in d else None, float(w.sum()), True)
        add("long_only", "no short positions", s.long_only, by_source("lower", sources["lower"], "long_only"), float(w.min()) if len(w) else None)
        add("max_weight", f"<= {100 * s.max_weight.value:.3g}% per name", s.max_weight.enabled, by_source("upper", sources["upper"], "max_weight"), float(w.max()) if len(w) else None)
        mfg_level = float(w[data.manufacturing].sum())
        mfg = s.manufacturing
        add("manufacturing:min", f">= {100 * (mfg.min or 0):.3g}%", mfg.enabled and mfg.min is not None, float(d["mfg_lo"][0]), mfg_level)
        add("manufacturing:max", f"<= {100 * (mfg.max or 1):.3g}%", mfg.enabled and mfg.max is not None, float(d["mfg_hi"][0]), mfg_level)
        names = data.sector_names
        for sector, r in s.sectors.items():
            idx = names.index(sector) if sector in names else None
            level = float(w[data.sectors == sector].sum())
            if r.min is not None:
                add(f"sector:{sector}:min", f">= {100 * r.min:.3g}%", r.enabled, float(d["sector_lo"][idx]) if idx is not None else 0.0, level)
            if r.max is not None:
                add(f"sector:{sector}:max", f"<= {100 * r.max:.3g}%", r.enabled, float(d["sector_hi"][idx]) if idx is not None else 0.0, level)
        turnover = float(np.abs(w - v.w0).sum())
        add("turnover", f"<= {100 * s.turnover.value:.3g}% (buys + sells)", s.turnover.enabled, float(d["turnover"][0]), turnover)
        adv_scale = frame.info["adv_usd"].to_numpy(float) / self.portfolio_value
        adv_dual = float((d["adv"] * adv_scale).sum())
        add("adv", f"<= {100 * s.adv.value:.3g}% of daily volume per trade", s.adv.enabled, adv_dual, None)
        active = w - data.bench_weight
        fa = data.exposures.T @ w - data.bench_exposure
        te = float(np.sqrt(np.sum((data.factor_sqrt @ fa) ** 2) + np.sum((data.idio_sd * active) ** 2) + data.bench_idio_const))
        add("tracking_error", f"<= {100 * s.tracking_error.value:.3g}% a year", s.tracking_error.enabled, _first(d, "tracking_error"), te)
        beta = float(data.betas @ w)
        add("beta:min", f">= {s.beta.min}", s.beta.enabled and s.beta.min is not None, _first(d, "beta_lo"), beta)
        add("beta:max", f"<= {s.beta.max}", s.beta.enabled and s.beta.max is not None, _first(d, "beta_hi"), beta)
        add("no_buy", f"{len(s.no_buy)} tickers", bool(s.no_buy), by_source("upper", sources["upper"], "no_buy"), None)
        add("no_sell", f"{len(s.no_sell)} tickers", bool(s.no_sell), by_source("lower", sources["lower"], "no_sell"), None)
        held = int((np.abs(w) > 1e-7).sum())
        add("max_names", f"<= {int(s.max_names.value)} names", s.max_names.enabled, None, float(held), s.max_names.enabled and held >= int(s.max_names.value))
        min_dual = None
        if s.min_position.enabled:
            at_min = np.abs(w - s.min_position.value) < 1e-6
            min_dual = float(d["lower"][at_min].sum()) if "lower" in d else None
        add("min_position", f">= {100 * s.min_position.value:.3g}% per position", s.min_position.enabled, min_dual, None)
        return pd.DataFrame(rows, columns=["name", "setting", "enabled", "binding", "shadow_price", "level"])
