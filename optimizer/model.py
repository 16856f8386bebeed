"""The rotation problem in cvxpy, compiled once per candidate set; a tweak only re-solves.

::

    maximise    alpha'w - gamma (||L B'w||^2 + sum D w^2) - c't [- impact' t^1.5]
    subject to  t >= |w - w0|                                  (trade size per name)
                sum(w) = invest                                (budget: 1 - cash buffer)
                lower <= w <= upper                            (long-only, name cap, no-buy/sell,
                                                                 integer stage)
                sector_lo <= S w <= sector_hi                  (every sector present)
                mfg_lo <= m'w <= mfg_hi                        (manufacturing flag)
                sum(t) <= turnover_max                         (buys + sells)
                t <= adv_cap                                   (share of daily volume)
                ||[L (B'w - e_b); sqrt(D)(w - w_b); c0]|| <= te_max   (tracking error, if on)
                beta_lo <= beta'w <= beta_hi                   (beta band, if on)

Every number a user can tweak is a ``cp.Parameter``, so a tweak re-solves the compiled problem
(``is_dpp()`` holds; no re-canonicalisation). A switched-off constraint keeps its row with a
bound that cannot bind. Only changing the candidate set, or switching on or off market impact
(it turns the QP into a power-cone program), tracking error (a second-order cone the size of
the candidate set) or the beta band (two dense rows), builds a new problem; tuning them once
on only sets parameters.

The same builder makes the *elastic* problem used to diagnose infeasibility: every bound gets a
non-negative slack and the objective becomes the total slack (see :mod:`optimizer.diagnose`).
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field

import cvxpy as cp
import numpy as np
import pandas as pd
import scipy.sparse as sp

SOLVER = "CLARABEL"
#: Clarabel without iterative refinement of each KKT solve: half the time at n = 2,000 and
#: objectives within 1e-8 of the refined solve on the real snapshot (benchmarks/bench_optimizer.py).
#: Anything short of a clear answer (optimal, infeasible, unbounded) is solved again with
#: Clarabel's defaults.
FAST_SETTINGS: dict[str, object] = {"iterative_refinement_enable": False}
#: A bound that cannot bind (weights and sums are fractions of the portfolio).
LOOSE = 10.0


@dataclass(frozen=True)
class ProblemData:
    """Everything fixed for one candidate set: changing any of it means a new compile.

    Attributes
    ----------
    tickers : pandas.Index
        Candidates (n).
    sectors : numpy.ndarray
        Sector of each candidate.
    manufacturing : numpy.ndarray
        Manufacturing flag of each candidate.
    exposures : numpy.ndarray
        Factor exposures ``B`` (n x k).
    factor_sqrt : numpy.ndarray
        ``L`` with ``L'L`` = factor covariance (k x k).
    idio_sd : numpy.ndarray
        Square roots of idiosyncratic variances (n).
    bench_exposure : numpy.ndarray
        Factor exposure of the benchmark, ``B_U' w_b`` over the whole universe (k).
    bench_weight : numpy.ndarray
        Benchmark weight of each candidate (n).
    bench_idio_const : float
        Idiosyncratic variance of the benchmark's names that are not candidates.
    betas : numpy.ndarray
        Beta of each candidate to the benchmark (n).
    impact : bool
        Whether the square-root impact term is in the objective.
    tracking_error : bool
        Whether the tracking-error cone is in the problem.
    beta : bool
        Whether the beta band is in the problem.
    traded_both_ways : numpy.ndarray or None
        Names whose trade ``|w - w0|`` needs its own variable: those held today, or every name
        when shorts are allowed (None: every name). A long-only name not held today can only
        be bought, so its trade is its weight; leaving its variable out makes the problem
        about 40% smaller.
    """

    tickers: pd.Index
    sectors: np.ndarray
    manufacturing: np.ndarray
    exposures: np.ndarray
    factor_sqrt: np.ndarray
    idio_sd: np.ndarray
    bench_exposure: np.ndarray
    bench_weight: np.ndarray
    bench_idio_const: float
    betas: np.ndarray
    impact: bool = False
    tracking_error: bool = False
    beta: bool = False
    traded_both_ways: np.ndarray | None = None

    @property
    def sector_names(self) -> list[str]:
        return sorted(set(self.sectors.tolist()))

    def sector_matrix(self) -> np.ndarray:
        names = self.sector_names
        return (self.sectors[None, :] == np.array(names)[:, None]).astype(float)


@dataclass
class ParameterValues:
    """Values of every tunable parameter (fractions of portfolio value unless stated)."""

    alpha: np.ndarray
    w0: np.ndarray
    gamma: float
    cost_rate: np.ndarray
    impact_coef: np.ndarray
    invest: float
    lower: np.ndarray
    upper: np.ndarray
    sector_lo: np.ndarray
    sector_hi: np.ndarray
    mfg_lo: float
    mfg_hi: float
    turnover_max: float
    adv_cap: np.ndarray
    te_max: float
    beta_lo: float
    beta_hi: float


@dataclass
class RawSolution:
    """What one solve returned."""

    status: str
    weights: np.ndarray | None
    objective: float | None
    duals: dict[str, np.ndarray] = field(default_factory=dict)
    slacks: dict[str, np.ndarray] = field(default_factory=dict)
    solve_ms: float = 0.0
    solver: str = SOLVER

    @property
    def ok(self) -> bool:
        return self.status in ("optimal", "optimal_inaccurate") and self.weights is not None




class CompiledProblem:
    """A rotation problem compiled for one candidate set.

    Parameters
    ----------
    data : ProblemData
    elastic : bool
        Build the elastic (phase-one) variant instead.
    """

    def __init__(self, data: ProblemData, elastic: bool = False) -> None:
        self.data = data
        self.elastic = elastic
        n = len(data.tickers)
        s = len(data.sector_names)
        P = {
            "alpha": cp.Parameter(n, name="alpha"),
            "w0": cp.Parameter(n, name="w0"),
            "gamma": cp.Parameter(nonneg=True, name="gamma"),
            "cost_rate": cp.Parameter(n, nonneg=True, name="cost_rate"),
            "impact_coef": cp.Parameter(n, nonneg=True, name="impact_coef"),
            "invest": cp.Parameter(name="invest"),
            "lower": cp.Parameter(n, name="lower"),
            "upper": cp.Parameter(n, name="upper"),
            "sector_lo": cp.Parameter(s, name="sector_lo"),
            "sector_hi": cp.Parameter(s, name="sector_hi"),
            "mfg_lo": cp.Parameter(name="mfg_lo"),
            "mfg_hi": cp.Parameter(name="mfg_hi"),
            "turnover_max": cp.Parameter(nonneg=True, name="turnover_max"),
            "adv_cap": cp.Parameter(n, nonneg=True, name="adv_cap"),
            "te_max": cp.Parameter(nonneg=True, name="te_max"),
            "beta_lo": cp.Parameter(name="beta_lo"),
            "beta_hi": cp.Parameter(name="beta_hi"),
        }
        self.params = P
        w = cp.Variable(n, name="w")
        self.w = w
        # The elastic problem may push weights below zero, so every name gets a trade variable.
        both = (
            np.ones(n, dtype=bool)
            if elastic or data.traded_both_ways is None
            else np.asarray(data.traded_both_ways, dtype=bool)
        )
        held = np.flatnonzero(both)
        trade: cp.Expression
        if held.size == n:
            trade_var = cp.Variable(n, name="trade")  # >= |w - w0|: equal to it at the optimum
            trade = trade_var
            definitions = [trade_var >= w - P["w0"], trade_var >= P["w0"] - w]
        elif held.size == 0:
            trade = w
            definitions = []
        else:
            # trade = w for names only ever bought, a variable >= |w - w0| for the others
            pick = sp.csr_matrix((np.ones(held.size), (held, np.arange(held.size))), shape=(n, held.size))
            trade_var = cp.Variable(held.size, name="trade")
            trade = cp.multiply((~both).astype(float), w) + pick @ trade_var
            w_held, w0_held = pick.T @ w, pick.T @ P["w0"]
            definitions = [trade_var >= w_held - w0_held, trade_var >= w0_held - w_held]

        slack: dict[str, cp.Variable] = {}

        def loosen(name: str, size: int | None) -> cp.Expression | float:
            if not elastic:
                return 0.0
            var = cp.Variable(size, nonneg=True, name=f"slack_{name}") if size else cp.Variable(nonneg=True, name=f"slack_{name}")
            slack[name] = var
            return var

        S = data.sector_matrix()
        L = data.factor_sqrt
        B = data.exposures
        mfg = data.manufacturing.astype(float)
        rows = {
            "lower": w >= P["lower"] - loosen("lower", n),
            "upper": w <= P["upper"] + loosen("upper", n),
            "sector_lo": S @ w >= P["sector_lo"] - loosen("sector_lo", s),
            "sector_hi": S @ w <= P["sector_hi"] + loosen("sector_hi", s),
            "mfg_lo": mfg @ w >= P["mfg_lo"] - loosen("mfg_lo", None),
            "mfg_hi": mfg @ w <= P["mfg_hi"] + loosen("mfg_hi", None),
            "turnover": cp.sum(trade) <= P["turnover_max"] + loosen("turnover", None),
            "adv": trade <= P["adv_cap"] + loosen("adv", n),
        }
        if data.tracking_error:
            active = cp.hstack(
                [
                    L @ (B.T @ w) - L @ data.bench_exposure,
                    cp.multiply(data.idio_sd, w - data.bench_weight),
                    np.atleast_1d(np.sqrt(max(data.bench_idio_const, 0.0))),
                ]
            )
            rows["tracking_error"] = cp.norm(active, 2) <= P["te_max"] + loosen("tracking_error", None)
        if data.beta:
            rows["beta_lo"] = data.betas @ w >= P["beta_lo"] - loosen("beta_lo", None)
            rows["beta_hi"] = data.betas @ w <= P["beta_hi"] + loosen("beta_hi", None)
        self.budget = cp.sum(w) == P["invest"]
        self.rows = rows
        self.slack = slack
        if elastic:
            objective: cp.Minimize | cp.Maximize = cp.Minimize(sum(cp.sum(v) for v in slack.values()))
        else:
            variance = cp.sum_squares(L @ (B.T @ w)) + cp.sum(cp.multiply(data.idio_sd**2, cp.square(w)))
            gain = P["alpha"] @ w - P["gamma"] * variance - P["cost_rate"] @ trade
            if data.impact:
                gain = gain - P["impact_coef"] @ cp.power(trade, 1.5)
            objective = cp.Maximize(gain)
        self.problem = cp.Problem(objective, [self.budget, *definitions, *rows.values()])

    def is_dpp(self) -> bool:
        """Whether the problem is disciplined parametrised (re-solves skip canonicalisation)."""
        return bool(self.problem.is_dpp())

    def set_values(self, v: ParameterValues) -> None:
        """Load parameter values (no solve)."""
        for name, param in self.params.items():
            param.value = np.asarray(getattr(v, name), dtype=float) if param.ndim else float(getattr(v, name))

    def solve(self, v: ParameterValues) -> RawSolution:
        """Set the parameters and solve.

        Returns
        -------
        RawSolution
            Weights, objective, each row's dual (and slack, when elastic) and the solve time.
        """
        self.set_values(v)
        start = time.perf_counter()
        try:
            with contextlib.suppress(cp.error.SolverError):
                self.problem.solve(solver=SOLVER, **FAST_SETTINGS)
            if self.problem.status not in ("optimal", "infeasible", "unbounded"):
                self.problem.solve(solver=SOLVER)
        except cp.error.SolverError:
            return RawSolution("solver_error", None, None, solve_ms=(time.perf_counter() - start) * 1000)
        elapsed = (time.perf_counter() - start) * 1000
        status = str(self.problem.status)
        if status not in ("optimal", "optimal_inaccurate") or self.w.value is None:
            return RawSolution(status, None, None, solve_ms=elapsed)
        duals = {name: np.atleast_1d(np.asarray(c.dual_value, dtype=float)) for name, c in self.rows.items()}
        duals["budget"] = np.atleast_1d(np.asarray(self.budget.dual_value, dtype=float))
        slacks = {name: np.atleast_1d(np.asarray(var.value, dtype=float)) for name, var in self.slack.items()}
        return RawSolution(status, np.asarray(self.w.value, dtype=float).copy(), float(self.problem.value), duals, slacks, elapsed)
