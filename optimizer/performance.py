"""Performance and signal statistics of a backtest: pure functions on pandas/numpy.

Returns are simple returns per observation (a session, a month); ``periods_per_year`` turns
per-period figures into annual ones (252 for sessions, 12 for months, 4 for quarters).

Portfolio figures
    :func:`cagr`, :func:`annualised_volatility`, :func:`sharpe_ratio`, :func:`sortino_ratio`,
    :func:`drawdowns`, :func:`max_drawdown`, :func:`tracking_error`,
    :func:`information_ratio`, :func:`annualised_turnover`, :func:`cost_drag`.
Attribution
    :func:`brinson_fachler`: allocation, selection and interaction by sector for one period.
Signal quality
    :func:`rank_ic` (Spearman rank correlation of a score with the next period's returns),
    :func:`ic_summary` (mean, t-statistic), :func:`quantile_returns` and
    :func:`quantile_spread` (top minus bottom quintile).
Selection bias
    :func:`probabilistic_sharpe_ratio`, :func:`expected_max_sharpe` and
    :func:`deflated_sharpe_ratio` (Bailey and Lopez de Prado, "The Deflated Sharpe Ratio:
    Correcting for Selection Bias, Backtest Overfitting and Non-Normality", Journal of
    Portfolio Management 40(5), 2014): the probability that the best of ``N`` variants has a
    true Sharpe ratio above zero, given how many were tried.

Every function returns NaN (never raises) when there are too few observations to say anything.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.special import (  # the normal cdf and quantile; scipy.stats takes ~1 s to import
    ndtr,
    ndtri,
)

#: Sessions in a year.
TRADING_DAYS = 252
#: Euler-Mascheroni constant (expected maximum of N normal draws).
EULER_GAMMA = 0.5772156649015329


def _clean(returns: pd.Series | np.ndarray) -> np.ndarray:
    values = np.asarray(returns, dtype=float)
    return values[np.isfinite(values)]


def cagr(values: pd.Series) -> float:
    """Compound annual growth rate of a value curve indexed by date.

    ``(last / first) ** (365.25 / calendar days) - 1``; NaN for fewer than two dates or a
    first value that is not positive.
    """
    v = values.dropna()
    if len(v) < 2 or not v.iloc[0] > 0:
        return float("nan")
    days = (pd.Timestamp(v.index[-1]) - pd.Timestamp(v.index[0])).days
    if days <= 0:
        return float("nan")
    return float((v.iloc[-1] / v.iloc[0]) ** (365.25 / days) - 1.0)


def annualised_volatility(returns: pd.Series | np.ndarray, periods_per_year: int = TRADING_DAYS) -> float:
    """Sample standard deviation of the returns (ddof 1) times ``sqrt(periods_per_year)``."""
    r = _clean(returns)
    if len(r) < 2:
        return float("nan")
    return float(np.std(r, ddof=1) * math.sqrt(periods_per_year))


def _excess(returns: pd.Series | np.ndarray, risk_free: float | pd.Series | np.ndarray) -> np.ndarray:
    r = np.asarray(returns, dtype=float)
    rf = np.broadcast_to(np.asarray(risk_free, dtype=float), r.shape)
    out = r - rf
    return out[np.isfinite(out)]


def sharpe_ratio(
    returns: pd.Series | np.ndarray,
    risk_free: float | pd.Series | np.ndarray = 0.0,
    periods_per_year: int = TRADING_DAYS,
) -> float:
    """Annualised Sharpe ratio: mean excess return / its standard deviation x sqrt(periods).

    Parameters
    ----------
    returns : array-like
        Simple returns per period.
    risk_free : float or array-like
        The risk-free return of each period (same length as ``returns``, or one number).
    periods_per_year : int
    """
    x = _excess(returns, risk_free)
    if len(x) < 2:
        return float("nan")
    sd = float(np.std(x, ddof=1))
    return float(np.mean(x) / sd * math.sqrt(periods_per_year)) if sd > 0 else float("nan")


def sortino_ratio(
    returns: pd.Series | np.ndarray,
    risk_free: float | pd.Series | np.ndarray = 0.0,
    periods_per_year: int = TRADING_DAYS,
) -> float:
    """Annualised Sortino ratio: mean excess return / downside deviation x sqrt(periods).

    The downside deviation is ``sqrt(mean(min(excess, 0) ** 2))`` over every period (the
    target is the risk-free return).
    """
    x = _excess(returns, risk_free)
    if len(x) < 2:
        return float("nan")
    downside = math.sqrt(float(np.mean(np.minimum(x, 0.0) ** 2)))
    return float(np.mean(x) / downside * math.sqrt(periods_per_year)) if downside > 0 else float("nan")


def drawdowns(values: pd.Series) -> pd.Series:
    """Fall from the running peak at every date (0 at a new high, -0.25 for 25% below it)."""
    return values / values.cummax() - 1.0


def max_drawdown(values: pd.Series) -> float:
    """The deepest drawdown (a negative fraction; 0 when the curve never falls)."""
    v = values.dropna()
    return float(drawdowns(v).min()) if len(v) else float("nan")


def tracking_error(
    returns: pd.Series | np.ndarray, benchmark: pd.Series | np.ndarray, periods_per_year: int = TRADING_DAYS
) -> float:
    """Annualised standard deviation of the active return ``returns - benchmark``."""
    active = np.asarray(returns, dtype=float) - np.asarray(benchmark, dtype=float)
    return annualised_volatility(active, periods_per_year)


def information_ratio(
    returns: pd.Series | np.ndarray, benchmark: pd.Series | np.ndarray, periods_per_year: int = TRADING_DAYS
) -> float:
    """Annualised mean active return / tracking error."""
    active = _clean(np.asarray(returns, dtype=float) - np.asarray(benchmark, dtype=float))
    te = annualised_volatility(active, periods_per_year)
    if not te > 0:
        return float("nan")
    return float(np.mean(active) * periods_per_year / te)


def annualised_turnover(turnover: pd.Series | Sequence[float], years: float) -> float:
    """Total turnover (buys + sells over portfolio value, summed over rebalances) per year."""
    if not years > 0:
        return float("nan")
    return float(np.nansum(np.asarray(turnover, dtype=float)) / years)


def cost_drag(costs: pd.Series | Sequence[float], values: pd.Series | Sequence[float], years: float) -> float:
    """Trading costs as a fraction of portfolio value per year: ``sum(cost / value) / years``."""
    if not years > 0:
        return float("nan")
    c = np.asarray(costs, dtype=float)
    v = np.asarray(values, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(v > 0, c / v, np.nan)
    return float(np.nansum(share) / years)


def brinson_fachler(
    portfolio: pd.Series, benchmark: pd.Series, returns: pd.Series, sectors: pd.Series
) -> pd.DataFrame:
    """Brinson-Fachler attribution of one period's active return by sector.

    For each sector ``s`` with portfolio and benchmark weights ``wp``, ``wb`` and returns
    ``rp``, ``rb`` (weighted means of its names' returns), and the benchmark's total return
    ``Rb``::

        allocation  = (wp - wb) (rb - Rb)
        selection   = wb (rp - rb)
        interaction = (wp - wb) (rp - rb)

    A sector the benchmark does not hold (cash, for example) takes ``rb = rp``, and one the
    portfolio does not hold takes ``rp = rb``: its whole effect is then allocation. When both
    weight vectors sum to one, the effects of all sectors add up to ``Rp - Rb`` exactly.

    Parameters
    ----------
    portfolio, benchmark : pandas.Series
        Weights by name at the start of the period (missing names weigh 0).
    returns : pandas.Series
        Each name's return over the period.
    sectors : pandas.Series
        Each name's sector.

    Returns
    -------
    pandas.DataFrame
        Indexed by sector: ``portfolio_weight``, ``benchmark_weight``, ``portfolio_return``,
        ``benchmark_return``, ``allocation``, ``selection``, ``interaction``, ``total``.
    """
    names = portfolio.index.union(benchmark.index)
    wp = portfolio.reindex(names).fillna(0.0)
    wb = benchmark.reindex(names).fillna(0.0)
    r = returns.reindex(names).fillna(0.0)
    group = sectors.reindex(names).fillna("Unclassified")
    frame = pd.DataFrame({"wp": wp, "wb": wb, "cp": wp * r, "cb": wb * r, "group": group})
    by = frame.groupby("group", sort=True)[["wp", "wb", "cp", "cb"]].sum()
    total_b = float((wb * r).sum())
    with np.errstate(divide="ignore", invalid="ignore"):
        rp = np.where(by["wp"] != 0, by["cp"] / by["wp"], np.nan)
        rb = np.where(by["wb"] != 0, by["cb"] / by["wb"], np.nan)
    rp = np.where(np.isnan(rp), rb, rp)
    rb = np.where(np.isnan(rb), rp, rb)
    rp = np.nan_to_num(rp)
    rb = np.nan_to_num(rb)
    diff = (by["wp"] - by["wb"]).to_numpy()
    out = pd.DataFrame(
        {
            "portfolio_weight": by["wp"].to_numpy(),
            "benchmark_weight": by["wb"].to_numpy(),
            "portfolio_return": rp,
            "benchmark_return": rb,
            "allocation": diff * (rb - total_b),
            "selection": by["wb"].to_numpy() * (rp - rb),
            "interaction": diff * (rp - rb),
        },
        index=by.index.rename("sector"),
    )
    out["total"] = out["allocation"] + out["selection"] + out["interaction"]
    return out


def _aligned(scores: pd.Series, forward_returns: pd.Series) -> tuple[np.ndarray, np.ndarray, pd.Index]:
    """Scores and returns of the names that have both (fast when the indexes are equal)."""
    if not scores.index.equals(forward_returns.index):
        common = scores.index.intersection(forward_returns.index)
        scores, forward_returns = scores.reindex(common), forward_returns.reindex(common)
    s = scores.to_numpy(dtype=float)
    r = forward_returns.to_numpy(dtype=float)
    ok = np.isfinite(s) & np.isfinite(r)
    return s[ok], r[ok], scores.index[ok]


def rank_ic(scores: pd.Series, forward_returns: pd.Series) -> float:
    """Spearman rank correlation of scores with the next period's returns (ties share ranks).

    Only names with both a score and a return count; NaN for fewer than three or when either
    side is constant.
    """
    s, r, _ = _aligned(scores, forward_returns)
    if len(s) < 3:
        return float("nan")
    a = pd.Series(s).rank().to_numpy(float)  # average ranks for ties, as scipy's rankdata
    b = pd.Series(r).rank().to_numpy(float)
    a = a - a.mean()
    b = b - b.mean()
    den = math.sqrt(float((a * a).sum() * (b * b).sum()))
    return float((a * b).sum() / den) if den > 0 else float("nan")


def ic_summary(ic: pd.Series) -> dict[str, float]:
    """Mean, standard deviation and t-statistic of a series of information coefficients.

    Returns
    -------
    dict
        ``mean``, ``std`` (ddof 1), ``t_stat`` (``mean / (std / sqrt(n))``), ``n`` and
        ``hit_rate`` (share of periods with a positive IC).
    """
    x = _clean(ic)
    n = len(x)
    mean = float(np.mean(x)) if n else float("nan")
    std = float(np.std(x, ddof=1)) if n > 1 else float("nan")
    t = mean / (std / math.sqrt(n)) if n > 1 and std > 0 else float("nan")
    hit = float(np.mean(x > 0)) if n else float("nan")
    return {"mean": mean, "std": std, "t_stat": t, "n": float(n), "hit_rate": hit}


def quantile_returns(scores: pd.Series, forward_returns: pd.Series, quantiles: int = 5) -> pd.Series:
    """Mean next-period return of each score quantile (1 = lowest scores).

    Names are ordered by score (ties by name, so the split is reproducible) and cut into
    ``quantiles`` groups of equal size (the first groups one name smaller when it does not
    divide). Empty when there are fewer names than quantiles.
    """
    s, r, names = _aligned(scores, forward_returns)
    n = len(s)
    if n < quantiles:
        return pd.Series(dtype=float)
    by_name = np.argsort(names.to_numpy(dtype=str), kind="stable")
    order = by_name[np.argsort(s[by_name], kind="stable")]
    group = (np.arange(n) * quantiles) // n
    means = np.bincount(group, weights=r[order], minlength=quantiles) / np.bincount(group, minlength=quantiles)
    return pd.Series(means, index=pd.RangeIndex(1, quantiles + 1, name="quantile"))


def quantile_spread(scores: pd.Series, forward_returns: pd.Series, quantiles: int = 5) -> float:
    """Top-quantile mean return minus bottom-quantile mean return (NaN when it cannot be cut)."""
    q = quantile_returns(scores, forward_returns, quantiles)
    if len(q) < quantiles:
        return float("nan")
    return float(q.iloc[-1] - q.iloc[0])


def probabilistic_sharpe_ratio(
    sharpe: float, benchmark_sharpe: float, n_obs: int, skew: float = 0.0, kurtosis: float = 3.0
) -> float:
    """Probability that the true Sharpe ratio exceeds ``benchmark_sharpe``.

    ``Phi((SR - SR*) sqrt(T - 1) / sqrt(1 - skew SR + (kurtosis - 1) / 4 SR^2))`` with
    per-period (not annualised) Sharpe ratios and the ordinary (not excess) kurtosis.
    """
    if n_obs < 2 or not all(map(math.isfinite, (sharpe, benchmark_sharpe, skew, kurtosis))):
        return float("nan")
    denom = 1.0 - skew * sharpe + (kurtosis - 1.0) / 4.0 * sharpe**2
    if denom <= 0:
        return float("nan")
    return float(ndtr((sharpe - benchmark_sharpe) * math.sqrt(n_obs - 1) / math.sqrt(denom)))


def expected_max_sharpe(n_trials: int, sharpe_variance: float) -> float:
    """Expected largest Sharpe ratio among ``n_trials`` variants whose true Sharpe is zero.

    ``sqrt(V) ((1 - g) Phi^-1(1 - 1/N) + g Phi^-1(1 - 1/(N e)))``, ``g`` the Euler-Mascheroni
    constant and ``V`` the variance of the variants' estimated Sharpe ratios; 0 for one trial.
    """
    if n_trials <= 1:
        return 0.0
    if not sharpe_variance >= 0:
        return float("nan")
    n = float(n_trials)
    z = (1 - EULER_GAMMA) * ndtri(1 - 1 / n) + EULER_GAMMA * ndtri(1 - 1 / (n * math.e))
    return float(math.sqrt(sharpe_variance) * z)


def deflated_sharpe_ratio(
    best_returns: pd.Series | np.ndarray, n_trials: int, sharpe_variance: float
) -> dict[str, float]:
    """The deflated Sharpe ratio of the best of ``n_trials`` variants.

    Parameters
    ----------
    best_returns : array-like
        Per-period excess returns of the variant that was picked.
    n_trials : int
        How many variants were tried.
    sharpe_variance : float
        Variance (ddof 1) of the per-period Sharpe ratios of all variants tried.

    Returns
    -------
    dict
        ``sharpe`` (per period), ``benchmark_sharpe`` (the expected maximum under the null,
        per period), ``skew``, ``kurtosis``, ``n_obs`` and ``dsr``: the probability that the
        best variant's true Sharpe ratio is above zero after accounting for the number of
        trials and for non-normal returns.
    """
    r = _clean(best_returns)
    n = len(r)
    out = {"sharpe": float("nan"), "benchmark_sharpe": float("nan"), "skew": float("nan"), "kurtosis": float("nan"), "n_obs": float(n), "dsr": float("nan")}
    if n < 3:
        return out
    sd = float(np.std(r, ddof=1))
    if not sd > 0:
        return out
    centred = r - r.mean()
    m2 = float(np.mean(centred**2))
    skew = float(np.mean(centred**3) / m2**1.5)
    kurt = float(np.mean(centred**4) / m2**2)
    sr = float(np.mean(r) / sd)
    sr0 = expected_max_sharpe(n_trials, sharpe_variance)
    out.update(sharpe=sr, benchmark_sharpe=sr0, skew=skew, kurtosis=kurt)
    out["dsr"] = probabilistic_sharpe_ratio(sr, sr0, n, skew, kurt)
    return out


__all__ = [
    "TRADING_DAYS",
    "annualised_turnover",
    "annualised_volatility",
    "brinson_fachler",
    "cagr",
    "cost_drag",
    "deflated_sharpe_ratio",
    "drawdowns",
    "expected_max_sharpe",
    "ic_summary",
    "information_ratio",
    "max_drawdown",
    "probabilistic_sharpe_ratio",
    "quantile_returns",
    "quantile_spread",
    "rank_ic",
    "sharpe_ratio",
    "sortino_ratio",
    "tracking_error",
]
