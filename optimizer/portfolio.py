"""The optimiser as a library: your expected returns and risk model, no Universe, no screen.

::

    import pandas as pd
    from optimizer import optimize_portfolio, SolverSettings

    result = optimize_portfolio(mu, covariance=sigma, risk_aversion=1.0)   # max mu'w - 1.0 w'Sigma w
    result.weights, result.expected_return, result.volatility

    # a factor model instead of a covariance, a benchmark, bounds and tolerances
    result = optimize_portfolio(
        mu, factor_model=(B, F, D), benchmark=bench, tracking_error=0.05, beta=(0.9, 1.1),
        upper=0.05, sectors=sector_of, sector_bounds={"Technology": (None, 0.25)},
        solver=SolverSettings(tolerance=1e-9),
    )

The problem is the rotation's own (:mod:`optimizer.model`): maximise
``mu'w - risk_aversion x risk(w) - costs``, where risk is the portfolio variance, or the
tracking variance when a ``benchmark`` is given and ``active_risk`` is left on, subject to
``sum(w) = budget``, per-name bounds, optional sector bounds, tracking-error limit, beta band,
turnover limit and linear trading costs from ``current`` weights. ``expected_returns=None``
gives the minimum-risk portfolio.

PyPortfolioOpt's ``max_quadratic_utility(risk_aversion=delta)`` maximises
``mu'w - delta/2 w'Sigma w``: the same portfolio is ``risk_aversion = delta / 2`` here.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from optimizer.model import LOOSE, CompiledProblem, ParameterValues, ProblemData, SolverSettings


class PortfolioInputError(ValueError):
    """The inputs do not describe a problem (the message says which input and why)."""


@dataclass(frozen=True)
class PortfolioResult:
    """An optimal portfolio for user-supplied inputs.

    Attributes
    ----------
    weights : pandas.Series
        Optimal weight per asset.
    status : str
        ``"optimal"``, or the solver's verdict (``"infeasible"``, ...) with empty weights.
    solver : str
        The attempt of the solver chain that answered.
    objective : float or None
    expected_return : float or None
        ``mu'w`` (None without expected returns).
    volatility : float
        ``sqrt(w'Sigma w)``.
    tracking_error : float or None
        Against the benchmark, when one was given.
    beta : float or None
        Against the benchmark, when one was given.
    duals : dict of str to numpy.ndarray
        Dual value of every constraint row (``budget``, ``lower``, ``upper``, ``sector_lo``, ...).
    solve_ms : float
    """

    weights: pd.Series
    status: str
    solver: str
    objective: float | None
    expected_return: float | None
    volatility: float
    tracking_error: float | None
    beta: float | None
    duals: dict[str, np.ndarray]
    solve_ms: float


def _series(x: pd.Series | np.ndarray | float | None, index: pd.Index, name: str, default: float) -> np.ndarray:
    if x is None:
        return np.full(len(index), default)
    if np.isscalar(x):
        return np.full(len(index), float(x))  # type: ignore[arg-type]
    if isinstance(x, pd.Series):
        missing = index.difference(x.index)
        if len(missing):
            raise PortfolioInputError(f"{name} has no value for {', '.join(map(str, missing[:5]))}.")
        return x.reindex(index).to_numpy(float)
    arr = np.asarray(x, dtype=float)
    if arr.shape != (len(index),):
        raise PortfolioInputError(f"{name} must have one value per asset ({len(index)}), not shape {arr.shape}.")
    return arr


def _factor_form(index: pd.Index, covariance: pd.DataFrame | np.ndarray | None, factor_model: tuple | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(B, L, idio_sd)`` with ``Sigma = B L'L B' + diag(idio_sd^2)``."""
    n = len(index)
    if (covariance is None) == (factor_model is None):
        raise PortfolioInputError("Give exactly one risk model: covariance=, or factor_model=(B, F, D).")
    if covariance is not None:
        cov = covariance.reindex(index=index, columns=index).to_numpy(float) if isinstance(covariance, pd.DataFrame) else np.asarray(covariance, dtype=float)
        if cov.shape != (n, n) or not np.isfinite(cov).all():
            raise PortfolioInputError(f"covariance must be a finite {n} x {n} matrix over the assets of expected_returns.")
        vals, vecs = np.linalg.eigh((cov + cov.T) / 2)
        if vals.min() < -1e-8 * max(1.0, abs(vals.max())):
            raise PortfolioInputError("covariance is not positive semi-definite (a negative eigenvalue).")
        b = vecs * np.sqrt(np.clip(vals, 0.0, None))
        return b, np.eye(n), np.zeros(n)
    assert factor_model is not None
    try:
        b_raw, f_raw, d_raw = factor_model
    except (TypeError, ValueError) as exc:
        raise PortfolioInputError("factor_model must be (B, F, D): exposures n x k, factor covariance k x k, idiosyncratic variances n.") from exc
    b = b_raw.reindex(index).to_numpy(float) if isinstance(b_raw, pd.DataFrame) else np.asarray(b_raw, dtype=float)
    f = np.asarray(f_raw, dtype=float)
    d = _series(d_raw, index, "D (idiosyncratic variances)", 0.0)
    if b.ndim != 2 or b.shape[0] != n or f.shape != (b.shape[1], b.shape[1]) or (d < 0).any():
        raise PortfolioInputError("factor_model must be (B, F, D): B n x k, F k x k, D n non-negative variances.")
    vals, vecs = np.linalg.eigh((f + f.T) / 2)
    if vals.min() < -1e-10 * max(1.0, abs(vals.max())):
        raise PortfolioInputError("The factor covariance F is not positive semi-definite.")
    lf = (vecs * np.sqrt(np.clip(vals, 0.0, None))).T
    return b, lf, np.sqrt(d)


def optimize_portfolio(
    expected_returns: pd.Series | None,
    covariance: pd.DataFrame | np.ndarray | None = None,
    factor_model: tuple | None = None,
    *,
    risk_aversion: float = 1.0,
    budget: float = 1.0,
    lower: pd.Series | float = 0.0,
    upper: pd.Series | float = 1.0,
    benchmark: pd.Series | None = None,
    active_risk: bool = True,
    tracking_error: float | None = None,
    beta: tuple[float | None, float | None] | None = None,
    sectors: pd.Series | None = None,
    sector_bounds: dict[str, tuple[float | None, float | None]] | None = None,
    current: pd.Series | None = None,
    cost_rate: pd.Series | float = 0.0,
    turnover: float | None = None,
    tickers: pd.Index | list[str] | None = None,
    solver: SolverSettings | None = None,
) -> PortfolioResult:
    """Optimal weights for your own expected returns and risk model.

    Parameters
    ----------
    expected_returns : pandas.Series or None
        Expected return per asset (the assets of the problem, in order). None: minimum risk
        (then ``tickers`` names the assets, or the covariance's index does).
    covariance : pandas.DataFrame or numpy.ndarray, optional
        Covariance matrix ``Sigma`` (same assets).
    factor_model : tuple, optional
        ``(B, F, D)``: exposures (n x k), factor covariance (k x k), idiosyncratic variances
        (n), with ``Sigma = B F B' + diag(D)``. Give this or ``covariance``.
    risk_aversion : float
        ``gamma`` in ``mu'w - gamma risk(w)``.
    budget : float
        ``sum(w)`` plus the trading costs, exactly (keep costs at zero, or leave room with a
        cash asset of your own, for a fully invested portfolio).
    lower, upper : float or pandas.Series
        Per-asset weight bounds.
    benchmark : pandas.Series, optional
        Benchmark weights (assets outside the problem are ignored); needed for tracking error,
        beta and active risk.
    active_risk : bool
        With a benchmark, penalise the tracking variance instead of the total variance.
    tracking_error : float, optional
        Largest tracking error (same units as ``sqrt(Sigma)``).
    beta : (min, max), optional
        Band for the portfolio's beta to the benchmark (from the risk model).
    sectors : pandas.Series, optional
        Group label per asset, with ``sector_bounds`` = label -> (min, max).
    current : pandas.Series, optional
        Today's weights (default: none held), for costs and turnover.
    cost_rate : float or pandas.Series
        Linear trading cost per unit of weight traded.
    turnover : float, optional
        Largest ``sum |w - current|``.
    tickers : sequence of str, optional
        The assets, when ``expected_returns`` is None and the covariance is an array.
    solver : SolverSettings, optional
        Solver chain and tolerances.

    Returns
    -------
    PortfolioResult

    Raises
    ------
    PortfolioInputError
        Inconsistent inputs (shapes, missing assets, a risk model that is not PSD).
    """
    if expected_returns is not None:
        index = pd.Index(expected_returns.index)
    elif tickers is not None:
        index = pd.Index(tickers)
    elif isinstance(covariance, pd.DataFrame):
        index = pd.Index(covariance.index)
    else:
        raise PortfolioInputError("Without expected returns, name the assets with tickers= or a labelled covariance.")
    n = len(index)
    if n == 0:
        raise PortfolioInputError("No assets.")
    mu = np.zeros(n) if expected_returns is None else _series(expected_returns, index, "expected_returns", 0.0)
    if not np.isfinite(mu).all():
        raise PortfolioInputError("expected_returns has missing or infinite values.")
    b, lf, idio_sd = _factor_form(index, covariance, factor_model)
    if benchmark is None and (tracking_error is not None or beta is not None):
        raise PortfolioInputError("tracking_error and beta need a benchmark.")
    wb = np.zeros(n) if benchmark is None else benchmark.reindex(index).fillna(0.0).to_numpy(float)
    sigma_b = b @ (lf.T @ (lf @ (b.T @ wb))) + idio_sd**2 * wb
    bench_var = float(wb @ sigma_b)
    betas = sigma_b / bench_var if bench_var > 0 else np.ones(n)
    labels = np.array(["All"] * n) if sectors is None else sectors.reindex(index).fillna("Unclassified").astype(str).to_numpy()
    w0 = np.zeros(n) if current is None else current.reindex(index).fillna(0.0).to_numpy(float)
    lo = _series(lower, index, "lower", 0.0)
    data = ProblemData(
        tickers=index,
        sectors=labels,
        manufacturing=np.zeros(n, dtype=bool),
        exposures=b,
        factor_sqrt=lf,
        idio_sd=idio_sd,
        bench_exposure=b.T @ wb,
        bench_weight=wb,
        bench_idio_const=0.0,
        betas=betas,
        tracking_error=tracking_error is not None,
        beta=beta is not None,
        active_risk=benchmark is not None and active_risk,
        exact_budget=True,
        traded_both_ways=(w0 != 0) | (lo < 0),
    )
    names = data.sector_names
    sector_lo, sector_hi = np.full(len(names), -LOOSE), np.full(len(names), LOOSE)
    for label, (smin, smax) in (sector_bounds or {}).items():
        if label not in names:
            raise PortfolioInputError(f"sector_bounds names {label!r}, which no asset belongs to.")
        i = names.index(label)
        sector_lo[i] = -LOOSE if smin is None else smin
        sector_hi[i] = LOOSE if smax is None else smax
    v = ParameterValues(
        alpha=mu,
        w0=w0,
        gamma=float(risk_aversion),
        cost_rate=_series(cost_rate, index, "cost_rate", 0.0),
        impact_coef=np.zeros(n),
        invest=float(budget),
        lower=lo,
        upper=_series(upper, index, "upper", 1.0),
        sector_lo=sector_lo,
        sector_hi=sector_hi,
        mfg_lo=-LOOSE,
        mfg_hi=LOOSE,
        turnover_max=LOOSE if turnover is None else float(turnover),
        adv_cap=np.full(n, LOOSE),
        te_max=LOOSE if tracking_error is None else float(tracking_error),
        beta_lo=-LOOSE if beta is None or beta[0] is None else float(beta[0]),
        beta_hi=LOOSE if beta is None or beta[1] is None else float(beta[1]),
    )
    start = time.perf_counter()
    raw = CompiledProblem(data).solve(v, solver)
    elapsed = (time.perf_counter() - start) * 1000
    if not raw.ok or raw.weights is None:
        empty = pd.Series(np.nan, index=index)
        return PortfolioResult(empty, raw.status, raw.solver, None, None, float("nan"), None, None, {}, elapsed)
    w = raw.weights
    f = lf @ (b.T @ w)
    variance = float(f @ f + np.sum(idio_sd**2 * w**2))
    te = None
    if benchmark is not None:
        fa = lf @ (b.T @ (w - wb))
        te = float(np.sqrt(max(float(fa @ fa + np.sum(idio_sd**2 * (w - wb) ** 2)), 0.0)))
    return PortfolioResult(
        weights=pd.Series(w, index=index),
        status=raw.status,
        solver=raw.solver,
        objective=raw.objective,
        expected_return=None if expected_returns is None else float(mu @ w),
        volatility=float(np.sqrt(max(variance, 0.0))),
        tracking_error=te,
        beta=None if benchmark is None else float(betas @ w),
        duals=raw.duals,
        solve_ms=elapsed,
    )
