"""The rotation problem in cvxpy, compiled once per candidate set; a tweak only re-solves.

::

    maximise    alpha'w - gamma risk(w) - (c't + k'y) / horizon
    subject to  t >= |w - w0|                                  (trade size per name)
                y >= chords of t^1.5                           (market impact, if on)
                sum(w) + c't + k'y <= invest                   (budget: costs are paid from cash,
                                                                 the cash buffer holds after them)
                lower <= w <= upper                            (long-only, name cap, no-buy/sell,
                                                                 negative alpha, integer stage)
                sector_lo <= S w <= sector_hi                  (every sector present)
                theme_lo <= T w <= theme_hi                    (every theme tagged, if any)
                mfg_lo <= m'w <= mfg_hi                        (manufacturing flag)
                sum(t) <= turnover_max                         (buys + sells)
                t <= adv_cap                                   (share of daily volume)
                ||[L (B'w - e_b); sqrt(D)(w - w_b); c0]|| <= te_max   (tracking error, if on)
                beta_lo <= beta'w <= beta_hi                   (beta band, if on)

``risk(w)`` is the tracking variance against the benchmark ``w_b`` (``active_risk``, the
default of the rotation) or the total variance ``||L B'w||^2 + sum D w^2``. Costs are one-time:
the objective spreads them over the holding horizon (``cost_weight`` = 1 / years), the budget
pays them in full. The budget is an upper limit: a portfolio holds more cash than the buffer
only when the objective prefers cash to every stock (total-risk mode with a high risk
aversion); against a benchmark, cash is active risk and the budget is met.

Every number a user can tweak is a ``cp.Parameter``, so a tweak re-solves the compiled problem
(``is_dpp()`` holds; no re-canonicalisation), except for large problems with the
tracking-error cone, whose parametrised compilation costs more than it saves
(``PARAMETRISED_MAX_NAMES``), and for the first solve of a caller that solves each problem once
(``SolverSettings.substitute_first``: a backtest). A switched-off constraint keeps its row with a
bound that cannot bind. Only changing the candidate set, or switching on or off market impact
(it turns the QP into a power-cone program), tracking error (a second-order cone the size of
the candidate set), the beta band (two dense rows) or the risk mode builds a new problem;
tuning them once on only sets parameters.

Solving goes down a documented chain (:class:`SolverSettings`): Clarabel without iterative
refinement, Clarabel with more refinement, Clarabel with the faer solver, then SCS. Only a clear answer counts (optimal,
infeasible, unbounded), or an "almost solved" one whose point, checked directly, breaks no
constraint by more than ``ACCEPT_VIOLATION`` (market impact's cones often stop Clarabel one
step short of certifying its gap on a point that is feasible to 1e-12); variable values are
cleared before every attempt, so a failed attempt can never hand back the weights of an
earlier solve. The solution says which attempt answered.

The same builder makes the *elastic* problem used to diagnose infeasibility: every bound gets a
non-negative slack and the objective becomes the total slack (see :mod:`optimizer.diagnose`).
"""

from __future__ import annotations

import functools
import time
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ._cvxpy import load_cvxpy

if TYPE_CHECKING:
    import cvxpy as cp

SOLVER = "CLARABEL"
#: Clarabel without iterative refinement of each KKT solve: half the time at n = 2,000 and
#: objectives within 1e-8 of the refined solve on the real snapshot (benchmarks/bench_optimizer.py).
FAST_SETTINGS: dict[str, object] = {"iterative_refinement_enable": False}
#: Clarabel with more iterative refinement than its default: problems with market impact
#: (many trades near zero, where t^1.5 has no curvature) often stop one step short of its
#: tolerances with the defaults ("almost solved") and solve cleanly with these.
PRECISE_SETTINGS: dict[str, object] = {
    "iterative_refinement_max_iter": 50,
    "iterative_refinement_reltol": 1e-15,
    "iterative_refinement_abstol": 1e-15,
}
#: A bound that cannot bind (weights and sums are fractions of the portfolio).
LOOSE = 10.0
#: Above this many names, a problem with the tracking-error cone is solved with the parameter
#: values substituted (cvxpy's ``ignore_dpp``) instead of through the parametrised compilation:
#: that compilation grows with the square of the names when the cone is there (us-all, 2,805
#: names: a 379M-row tensor, 7-8 s before the first answer) while a substituted solve takes
#: about 1 s the first time and 0.6 s after (0.53 s parametrised). Below it, or without the
#: cone, compiling once pays for itself within a few re-solves.
PARAMETRISED_MAX_NAMES = 1000
#: Breakpoints of the chords of t^1.5 (t = weight traded): close together over the trades a
#: portfolio makes (0.05%-8% of its value, each at most 2.5x the last: impact over-charged by
#: at most 8% there), wider beyond.
IMPACT_BREAKPOINTS = np.array([0.0, 5e-4, 1.25e-3, 3e-3, 7.5e-3, 0.015, 0.03, 0.06, 0.15, 0.4, 2.0])


def impact_charge(trade: np.ndarray) -> np.ndarray:
    """``t^1.5`` as the optimiser charges it (the maximum of its chords)."""
    t = np.abs(np.asarray(trade, dtype=float))
    result: np.ndarray = np.max([slope * t + icpt for slope, icpt in impact_chords()], axis=0)
    return result


def impact_chords() -> list[tuple[float, float]]:
    """(slope, intercept) of each chord of ``t^1.5`` between consecutive breakpoints."""
    x = IMPACT_BREAKPOINTS
    f = x**1.5
    slopes = np.diff(f) / np.diff(x)
    return [(float(sl), float(f[i] - sl * x[i])) for i, sl in enumerate(slopes)]
#: Clarabel's supernodal LDL (faer) instead of QDLDL: slower, but it solves to full accuracy
#: some problems with market impact and holdings on which QDLDL stalls.
FAER_SETTINGS: dict[str, object] = {"direct_solve_method": "faer"}
#: Statuses that answer the question; anything else sends the problem to the next solver.
CLEAR_STATUSES = ("optimal", "infeasible", "unbounded")
#: An "almost solved" answer (Clarabel met its reduced tolerances) counts when every
#: constraint, checked directly on the returned point, holds to this.
ACCEPT_VIOLATION = 1e-7


@functools.cache
def _installed_solvers() -> frozenset[str]:
    load_cvxpy()
    import cvxpy as cp

    return frozenset(cp.installed_solvers())


@dataclass(frozen=True)
class SolverSettings:
    """Which solvers to try, in order, and how precisely.

    The chain is: Clarabel without iterative refinement (``fast_first``), Clarabel with more
    iterative refinement than its defaults (``PRECISE_SETTINGS``), Clarabel with the faer
    linear solver, then each of ``fallbacks`` that is installed (SCS ships with cvxpy and
    handles every cone the rotation uses). The first optimal answer wins. When Clarabel only
    comes close ("almost solved") on every attempt, the first such point whose constraints,
    checked directly, hold to ``ACCEPT_VIOLATION`` is the answer; when none comes, the solve
    fails (the rotation then raises :class:`optimizer.OptimizerError`).

    Attributes
    ----------
    tolerance : float or None
        Feasibility and duality-gap tolerance for every solver (None: each solver's default,
        1e-8 for Clarabel).
    max_iter : int or None
        Iteration limit for Clarabel (None: its default).
    fast_first : bool
        Try Clarabel without iterative refinement first.
    fallbacks : tuple of str
        Further cvxpy solver names, tried in order after Clarabel.
    substitute_first : bool
        Solve a compiled problem the first time with the parameter values substituted (cvxpy's
        ``ignore_dpp``) instead of through its parametrised compilation, which only re-solves
        repay: a problem solved once, such as each rebalance of a backtest, compiles in about
        half the time, to the same problem data and the same answer bit for bit (a test
        checks). A problem solved again is compiled parametrised then, and that re-solve
        starts the solver afresh instead of updating the first one.
    """

    tolerance: float | None = None
    max_iter: int | None = None
    fast_first: bool = True
    fallbacks: tuple[str, ...] = ("SCS",)
    substitute_first: bool = False

    def attempts(self) -> list[tuple[str, str, dict[str, object]]]:
        """``(label, cvxpy solver name, options)`` in the order they are tried."""
        clarabel: dict[str, object] = {}
        if self.tolerance is not None:
            clarabel |= {"tol_gap_abs": self.tolerance, "tol_gap_rel": self.tolerance, "tol_feas": self.tolerance}
        if self.max_iter is not None:
            clarabel["max_iter"] = self.max_iter
        out: list[tuple[str, str, dict[str, object]]] = []
        if self.fast_first:
            out.append(("CLARABEL (fast)", SOLVER, {**FAST_SETTINGS, **clarabel}))
        out.append((SOLVER, SOLVER, {**PRECISE_SETTINGS, **clarabel}))
        out.append(("CLARABEL (faer)", SOLVER, {**PRECISE_SETTINGS, **FAER_SETTINGS, **clarabel}))
        installed = _installed_solvers()
        for name in self.fallbacks:
            if name.upper() in installed:
                options: dict[str, object] = {}
                if name.upper() == "SCS":
                    eps = self.tolerance if self.tolerance is not None else 1e-8
                    options = {"eps_abs": eps, "eps_rel": eps, "max_iters": 50_000}
                out.append((name.upper(), name.upper(), options))
        return out


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
    active_risk : bool
        Risk in the objective is the tracking variance against the benchmark (else the total
        variance).
    exact_budget : bool
        ``sum(w) + costs = invest`` exactly (the notebook API, where cash is not an asset);
        else at most ``invest`` (the rotation).
    theme_names : tuple of str
        The themes (ids) of the rows of ``theme_members``.
    theme_members : numpy.ndarray or None
        Themes x candidates, 1 where a candidate carries the theme (None: no themes).
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
    active_risk: bool = False
    exact_budget: bool = False
    theme_names: tuple[str, ...] = ()
    theme_members: np.ndarray | None = None
    traded_both_ways: np.ndarray | None = None

    @property
    def sector_names(self) -> list[str]:
        return list(self._sector_names)

    @functools.cached_property
    def _sector_names(self) -> tuple[str, ...]:
        return tuple(sorted(set(self.sectors.tolist())))

    def sector_matrix(self) -> np.ndarray:
        names = self.sector_names
        return (self.sectors[None, :] == np.array(names)[:, None]).astype(float)


@dataclass
class ParameterValues:
    """Values of every tunable parameter (fractions of portfolio value unless stated).

    ``cost_rate`` and ``impact_coef`` are the full one-time costs per unit traded (they are
    paid from the budget); ``cost_weight`` is the share of them the objective charges
    (1 / holding horizon in years).
    """

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
    cost_weight: float = 1.0
    theme_lo: np.ndarray = field(default_factory=lambda: np.zeros(0))
    theme_hi: np.ndarray = field(default_factory=lambda: np.zeros(0))


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
    tried: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.status == "optimal" and self.weights is not None and self.objective is not None




class _ClarabelResolver:
    """cvxpy's cached Clarabel solver, sent on a re-solve only the data that changed.

    cvxpy updates its cached solver with every matrix and vector on every re-solve; copying
    the constraint matrix into Clarabel costs milliseconds at n = 2,000 even when a tweak only
    moved a bound. Clarabel scales every update by the equilibration of the data it was built
    with, so leaving out data equal to what it was last sent (same sparsity, same values)
    leaves the solver exactly as the full update would.
    """

    def __init__(self, solver: Any) -> None:
        self.solver = solver
        self._sent: dict[str, tuple[np.ndarray, ...]] = {}

    def update(self, **data: Any) -> None:
        send: dict[str, Any] = {}
        sent: dict[str, tuple[np.ndarray, ...]] = {}
        for key, value in data.items():
            if getattr(value, "format", None) == "csc":  # a scipy.sparse matrix
                parts: tuple[np.ndarray, ...] = (value.indptr, value.indices, value.data)
            elif isinstance(value, np.ndarray):
                parts = (value,)
            else:  # settings: always sent
                send[key] = value
                continue
            last = self._sent.get(key)
            if last is not None and all(np.array_equal(a, b) for a, b in zip(last, parts, strict=True)):
                continue
            send[key] = value
            sent[key] = tuple(np.array(a, copy=True) for a in parts)
        try:
            self.solver.update(**send)
        except Exception:
            self._sent.clear()  # cvxpy builds a new solver: nothing is known to be sent
            raise
        self._sent.update(sent)

    def __getattr__(self, name: str) -> Any:
        if name == "solver":  # not set yet (a copy being built): no recursion
            raise AttributeError(name)
        return getattr(self.solver, name)


class CompiledProblem:
    """A rotation problem compiled for one candidate set.

    Parameters
    ----------
    data : ProblemData
    elastic : bool
        Build the elastic (phase-one) variant instead.
    """

    def __init__(self, data: ProblemData, elastic: bool = False) -> None:
        load_cvxpy()  # loaded on the first compile: reading a result needs no solver
        import cvxpy as cp

        self.data = data
        self.elastic = elastic
        n = len(data.tickers)
        s = len(data.sector_names)
        #: Whether solves go through the compiled parametrised problem (see ``PARAMETRISED_MAX_NAMES``).
        self.parametrised = not (data.tracking_error and n > PARAMETRISED_MAX_NAMES)
        #: Calls of :meth:`solve` so far (see ``SolverSettings.substitute_first``).
        self.solves = 0
        P = {
            "alpha": cp.Parameter(n, name="alpha"),
            "w0": cp.Parameter(n, name="w0"),
            "gamma": cp.Parameter(nonneg=True, name="gamma"),
            "cost_rate": cp.Parameter(n, nonneg=True, name="cost_rate"),
            "amortised_rate": cp.Parameter(n, nonneg=True, name="amortised_rate"),
            "impact_coef": cp.Parameter(n, nonneg=True, name="impact_coef"),
            "amortised_impact": cp.Parameter(n, nonneg=True, name="amortised_impact"),
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
        k = len(data.theme_names)
        if k:
            P["theme_lo"] = cp.Parameter(k, name="theme_lo")
            P["theme_hi"] = cp.Parameter(k, name="theme_hi")
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
            import scipy.sparse as sp

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
        if k:
            T = np.asarray(data.theme_members, dtype=float)
            rows["theme_lo"] = T @ w >= P["theme_lo"] - loosen("theme_lo", k)
            rows["theme_hi"] = T @ w <= P["theme_hi"] + loosen("theme_hi", k)
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
        cost: cp.Expression = P["cost_rate"] @ trade
        charged: cp.Expression = P["amortised_rate"] @ trade
        if data.impact:
            # y >= t^1.5 through its chords: the piecewise-linear interpolation of a convex
            # function is the maximum of its chord lines and lies above it, so costs are never
            # under-charged (see IMPACT_BREAKPOINTS). Linear rows compile far faster than 2n
            # small cones (us-all: 0.7 s against 8.7 s) and have no apex at t = 0 to stall on.
            impact = cp.Variable(n, nonneg=True, name="impact")
            definitions += [impact >= slope * trade + icpt for slope, icpt in impact_chords()]
            cost = cost + P["impact_coef"] @ impact
            charged = charged + P["amortised_impact"] @ impact
        # At most the money to invest, costs paid from it: the cash buffer holds after costs.
        # (An equality would let the solver park cash by inflating t above |w - w0| and paying
        # the fictitious cost whenever the objective dislikes full investment.)
        self.budget = cp.sum(w) + cost == P["invest"] if data.exact_budget else cp.sum(w) + cost <= P["invest"]
        self.rows = rows
        self.slack = slack
        if elastic:
            objective: cp.Minimize | cp.Maximize = cp.Minimize(sum(cp.sum(v) for v in slack.values()))
        else:
            if data.active_risk:
                risk = (
                    cp.sum_squares(L @ (B.T @ w) - L @ data.bench_exposure)
                    + cp.sum_squares(cp.multiply(data.idio_sd, w - data.bench_weight))
                    + max(data.bench_idio_const, 0.0)
                )
            else:
                risk = cp.sum_squares(L @ (B.T @ w)) + cp.sum_squares(cp.multiply(data.idio_sd, w))
            objective = cp.Maximize(P["alpha"] @ w - P["gamma"] * risk - charged)
        self.problem = cp.Problem(objective, [self.budget, *definitions, *rows.values()])

    def is_dpp(self) -> bool:
        """Whether the problem is disciplined parametrised (re-solves skip canonicalisation)."""
        return bool(self.problem.is_dpp())

    def set_values(self, v: ParameterValues) -> None:
        """Load parameter values (no solve)."""
        for name, param in self.params.items():
            if name.startswith("amortised_"):
                full = v.cost_rate if name == "amortised_rate" else v.impact_coef
                value: np.ndarray | float = np.asarray(full, dtype=float) * float(v.cost_weight)
            else:
                value = np.asarray(getattr(v, name), dtype=float) if param.ndim else float(getattr(v, name))
            if param.value is None or not np.array_equal(param.value, value):  # cvxpy checks every value set
                param.value = value

    def _violation(self) -> float:
        """Largest violation of any constraint at the current variable values (inf if none)."""
        try:
            return max(float(np.max(c.violation())) for c in self.problem.constraints)
        except (ValueError, TypeError):
            return float("inf")

    def solve(self, v: ParameterValues, solver: SolverSettings | None = None) -> RawSolution:
        """Set the parameters and solve down the solver chain.

        Parameters
        ----------
        v : ParameterValues
        solver : SolverSettings, optional
            Chain and tolerances (default: :class:`SolverSettings`).

        Returns
        -------
        RawSolution
            Weights, objective, each row's dual (and slack, when elastic), the solve time and
            the attempt that answered. Status ``"solver_error"`` (no weights) when no attempt
            gave a clear answer; never the values of an earlier solve.
        """
        from cvxpy.error import SolverError

        self.set_values(v)
        chain = solver or SolverSettings()
        substitute = not self.parametrised or (chain.substitute_first and self.solves == 0)
        self.solves += 1
        start = time.perf_counter()
        tried: list[str] = []
        status = "solver_error"
        almost: RawSolution | None = None
        for label, name, options in chain.attempts():
            if almost is not None and name != SOLVER:
                break  # a verified almost-solved Clarabel point beats a slower, looser solver
            tried.append(label)
            for var in self.problem.variables():
                var.value = None
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # an inaccurate answer is judged below, not printed
                    # Only the first attempt lets cvxpy update the previous Clarabel solver in
                    # place (it keeps the factorisation's structure: faster); that path now and
                    # then fails or stalls after a bound change, so every retry starts afresh.
                    self.problem.solve(solver=name, warm_start=len(tried) == 1, ignore_dpp=substitute, **options)
            except (SolverError, ValueError, ArithmeticError):
                continue
            finally:
                self._wrap_cached_solver()
            status = str(self.problem.status)
            if status in CLEAR_STATUSES:
                if status == "optimal":
                    found = self._capture(label, start, tried)
                    if found is not None:
                        return found
                    status = "solver_error"
                    continue
                break
            if status == "optimal_inaccurate" and almost is None and self._violation() <= ACCEPT_VIOLATION:
                almost = self._capture(f"{label}, almost solved", start, tried)
            status = "solver_error"
        if almost is not None:
            almost.solve_ms = (time.perf_counter() - start) * 1000
            almost.tried = tuple(tried)
            return almost
        elapsed = (time.perf_counter() - start) * 1000
        return RawSolution(status, None, None, solve_ms=elapsed, solver=tried[-1] if status in CLEAR_STATUSES else "", tried=tuple(tried))

    def _wrap_cached_solver(self) -> None:
        """Let the Clarabel solver cvxpy keeps for the next re-solve skip unchanged matrices."""
        cache = getattr(self.problem, "_solver_cache", None)  # cvxpy's, for warm starts
        solver = cache.get(SOLVER) if isinstance(cache, dict) else None
        if solver is not None and not isinstance(solver, _ClarabelResolver):
            cache[SOLVER] = _ClarabelResolver(solver)  # type: ignore[index]

    def _capture(self, label: str, start: float, tried: list[str]) -> RawSolution | None:
        """The current point as a solution (None when the solver left no usable values)."""
        value = self.problem.value
        if self.w.value is None or value is None or not np.isfinite(float(value)):
            return None
        duals = {name: np.atleast_1d(np.asarray(c.dual_value, dtype=float)) for name, c in self.rows.items()}
        duals["budget"] = np.atleast_1d(np.asarray(self.budget.dual_value, dtype=float))
        slacks = {name: np.atleast_1d(np.asarray(var.value, dtype=float)) for name, var in self.slack.items()}
        elapsed = (time.perf_counter() - start) * 1000
        return RawSolution("optimal", np.asarray(self.w.value, dtype=float).copy(), float(value), duals, slacks, elapsed, label, tuple(tried))


def objective_gradient(data: ProblemData, v: ParameterValues, w: np.ndarray) -> np.ndarray:
    """Gradient of ``alpha'w - gamma risk(w)`` at ``w`` (costs left out: they sit on the trades)."""
    x = w - data.bench_weight if data.active_risk else w
    L, B = data.factor_sqrt, data.exposures
    sigma_x = B @ (L.T @ (L @ (B.T @ x))) + data.idio_sd**2 * x
    result: np.ndarray = np.asarray(v.alpha, dtype=float) - 2 * v.gamma * sigma_x
    return result
