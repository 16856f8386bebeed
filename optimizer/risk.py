"""Risk models estimated from daily returns, in factor form ``Sigma = B F B' + D``.

A statistical factor model keeps ``n = 2,000`` names cheap: the optimiser never forms the dense
``n x n`` covariance, only ``B`` (``n x k``), the ``k x k`` factor covariance and the ``n``
idiosyncratic variances. For small candidate sets a dense Ledoit-Wolf covariance is available
in the same form (``B`` = its Cholesky factor, ``F = I``, ``D = 0``).

Estimation (:func:`estimate_factor_model`)
------------------------------------------
1. Daily log returns of the adjusted close over ``lookback`` sessions.
2. Each name's returns are winsorised at its median +/- 6 robust standard deviations
   (1.4826 x MAD) and at +/-50%: reverse splits the price source did not adjust and one-day
   spikes would otherwise dominate a variance.
3. Missing days (before a listing, halts) are filled with the day's median return of the
   name's sector (the market median when the sector has none).
4. Returns are standardised by each name's volatility; the first ``n_factors`` principal
   components of the standardised matrix are the factors. Exposures ``B = vol x loadings``;
   ``F`` = the factor returns' sample covariance.
5. Idiosyncratic variance = residual variance, shrunk towards its sector median by ``shrink``
   (0 = none, 1 = every name gets its sector's median).
6. Everything is annualised with 252 sessions a year.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

TRADING_DAYS = 252


@dataclass(frozen=True)
class RiskModel:
    """``Sigma = B F B' + diag(D)`` over ``tickers`` (annualised).

    Attributes
    ----------
    tickers : pandas.Index
    exposures : numpy.ndarray
        ``B``, shape ``(n, k)``.
    factor_cov : numpy.ndarray
        ``F``, shape ``(k, k)``, positive semi-definite.
    idio_var : numpy.ndarray
        ``D``, shape ``(n,)``, non-negative.
    kind : str
        ``"factor"`` or ``"dense"`` (Ledoit-Wolf).
    """

    tickers: pd.Index
    exposures: np.ndarray
    factor_cov: np.ndarray
    idio_var: np.ndarray
    kind: str = "factor"

    @property
    def n_factors(self) -> int:
        return int(self.exposures.shape[1])

    def factor_sqrt(self) -> np.ndarray:
        """``L`` with ``L' L = F`` (so that ``w' B F B' w = ||L B' w||^2``)."""
        vals, vecs = np.linalg.eigh((self.factor_cov + self.factor_cov.T) / 2)
        result: np.ndarray = (vecs * np.sqrt(np.clip(vals, 0.0, None))).T
        return result

    def subset(self, tickers: pd.Index | list[str]) -> RiskModel:
        """The model restricted to ``tickers`` (all must be present)."""
        idx = self.tickers.get_indexer(pd.Index(tickers))
        if (idx < 0).any():
            raise KeyError(f"not in the risk model: {list(pd.Index(tickers)[idx < 0][:5])}")
        return RiskModel(pd.Index(tickers), self.exposures[idx], self.factor_cov, self.idio_var[idx], self.kind)

    def covariance(self) -> np.ndarray:
        """The dense covariance matrix (for small sets, checks and benchmarks)."""
        b = self.exposures
        cov: np.ndarray = b @ self.factor_cov @ b.T + np.diag(self.idio_var)
        return cov

    def variance(self, weights: np.ndarray) -> float:
        """Portfolio variance of a weight vector aligned with ``tickers``."""
        f = self.exposures.T @ weights
        return float(f @ self.factor_cov @ f + np.sum(self.idio_var * weights**2))

    def volatility(self) -> pd.Series:
        """Each name's annualised volatility."""
        b = self.exposures
        var = np.einsum("ik,kl,il->i", b, self.factor_cov, b) + self.idio_var
        return pd.Series(np.sqrt(var), index=self.tickers)

    def betas(self, benchmark: np.ndarray) -> np.ndarray:
        """Each name's beta to a benchmark weight vector aligned with ``tickers``."""
        fb = self.exposures.T @ benchmark
        cov_with_bench = self.exposures @ (self.factor_cov @ fb) + self.idio_var * benchmark
        bench_var = float(fb @ self.factor_cov @ fb + np.sum(self.idio_var * benchmark**2))
        result: np.ndarray = cov_with_bench / bench_var
        return result


def nanmedian(a: np.ndarray, axis: int) -> np.ndarray:
    """``numpy.nanmedian(a, axis=axis)`` of a 2-D array, the same values bit for bit (NaN and
    a RuntimeWarning for an all-NaN slice).

    NumPy takes a masked-array route for slices shorter than 600 and a Python loop over the
    slices for longer ones; a sort along the axis (NaNs last) and the mean of the two middle
    values, ``(low + high) / 2`` as NumPy computes it, is several times faster on returns.
    """
    values = np.sort(a, axis=axis)
    count = np.expand_dims((~np.isnan(a)).sum(axis=axis), axis)
    if not count.all():
        warnings.warn("All-NaN slice encountered", RuntimeWarning, stacklevel=2)
    high = count // 2
    low = np.where(count % 2 == 1, high, high - 1)
    pair = np.take_along_axis(values, np.concatenate([np.maximum(low, 0), high], axis=axis), axis=axis)
    with np.errstate(invalid="ignore"):
        median = pair.sum(axis=axis) / 2.0
    result: np.ndarray = np.where(count.squeeze(axis) > 0, median, np.nan)
    return result


def clean_returns(adj_close: np.ndarray, sectors: np.ndarray) -> np.ndarray:
    """Steps 1-3: log returns, winsorised, missing days filled with the sector median."""
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.diff(np.log(adj_close), axis=0)
    r[~np.isfinite(r)] = np.nan
    med = nanmedian(r, axis=0)
    mad = nanmedian(np.abs(r - med), axis=0) * 1.4826
    mad = np.where(np.isfinite(mad) & (mad > 0), mad, np.nanmedian(mad[mad > 0]) if np.any(mad > 0) else 0.02)
    lo = np.clip(np.nan_to_num(med - 6 * mad, nan=-0.5), -0.5, None)
    hi = np.clip(np.nan_to_num(med + 6 * mad, nan=0.5), None, 0.5)
    r = np.clip(r, lo, hi)
    missing = np.isnan(r)
    if missing.any():
        # A fill is read only where a return is missing: the medians are taken over the days
        # with a gap only (a day's median does not depend on the other days), a sector's only
        # when it has a gap, the market's only where no sector median stands in.
        days = np.flatnonzero(missing.any(axis=1))
        rows, gap = r[days], missing[days]
        fill = np.full(rows.shape, np.nan)
        for s in np.unique(sectors[missing.any(axis=0)]):
            cols = sectors == s
            if cols.sum() > 1:
                fill[:, cols] = nanmedian(rows[:, cols], axis=1)[:, None]
        want = (np.isnan(fill) & gap).any(axis=1)
        if want.any():
            market = np.nan_to_num(nanmedian(rows[want], axis=1))
            fill[want] = np.where(np.isnan(fill[want]), market[:, None], fill[want])
        r = np.ascontiguousarray(r)  # C order, as a fill has always left it (sums below run in memory order)
        r[days] = np.where(gap, fill, rows)
    return r


def estimate_factor_model(
    adj_close: pd.DataFrame,
    sectors: pd.Series,
    n_factors: int = 12,
    shrink: float = 0.5,
) -> RiskModel:
    """Estimate a statistical factor model from prices.

    Parameters
    ----------
    adj_close : pandas.DataFrame
        Sessions x tickers of adjusted closes over the lookback (``lookback + 1`` rows).
    sectors : pandas.Series
        Sector of each ticker (for filling gaps and shrinking idiosyncratic variance).
    n_factors : int
        Principal components kept.
    shrink : float
        Weight of the sector median in each idiosyncratic variance (0-1).

    Returns
    -------
    RiskModel
    """
    tickers = pd.Index(adj_close.columns)
    sector = sectors.reindex(tickers).fillna("Unclassified").to_numpy()
    r = clean_returns(adj_close.to_numpy(float), sector)
    t, n = r.shape
    k = max(1, min(n_factors, n - 1, t - 2))
    r = r - r.mean(axis=0)
    vol = r.std(axis=0, ddof=1)
    vol = np.where(vol > 0, vol, np.median(vol[vol > 0]) if np.any(vol > 0) else 0.02)
    x = r / vol
    _, _, vt = np.linalg.svd(x, full_matrices=False)
    loadings = vt[:k].T  # n x k
    factors = x @ loadings  # t x k, standardised units
    exposures = loadings * vol[:, None]
    factor_cov = np.cov(factors, rowvar=False, ddof=1).reshape(k, k)
    resid = r - factors @ exposures.T
    idio = resid.var(axis=0, ddof=1)
    shrunk = idio.copy()
    for s_name in np.unique(sector):
        cols = sector == s_name
        shrunk[cols] = (1 - shrink) * idio[cols] + shrink * np.median(idio[cols])
    return RiskModel(tickers, exposures, factor_cov * TRADING_DAYS, shrunk * TRADING_DAYS, "factor")


def ledoit_wolf(adj_close: pd.DataFrame, sectors: pd.Series) -> RiskModel:
    """Dense Ledoit-Wolf (2004) covariance, shrunk towards a scaled identity.

    ``Sigma = s mu I + (1 - s) S`` with ``S`` the sample covariance, ``mu = tr(S)/n`` and ``s``
    the optimal shrinkage intensity ``min(b2, d2) / d2`` of the paper. Returned in factor form
    (``B`` = Cholesky factor, ``F = I``, ``D = 0``) so the optimiser treats both alike.
    """
    tickers = pd.Index(adj_close.columns)
    sector = sectors.reindex(tickers).fillna("Unclassified").to_numpy()
    r = clean_returns(adj_close.to_numpy(float), sector)
    x = r - r.mean(axis=0)
    t, n = x.shape
    sample = x.T @ x / t
    mu = np.trace(sample) / n
    d2 = np.sum((sample - mu * np.eye(n)) ** 2) / n
    b2_bar = (np.sum(np.sum(x**2, axis=1) ** 2) - t * np.sum(sample**2)) / (t**2 * n)
    b2 = min(b2_bar, d2)
    intensity = b2 / d2 if d2 > 0 else 1.0
    cov = (intensity * mu * np.eye(n) + (1 - intensity) * sample) * TRADING_DAYS
    chol = np.linalg.cholesky(cov + 1e-12 * np.eye(n))
    return RiskModel(tickers, chol, np.eye(n), np.zeros(n), "dense")


#: Fewer daily returns than this and a name's beta is shrunk towards 1 in proportion.
MIN_BETA_SESSIONS = 120


def simple_returns(adj_close: pd.DataFrame) -> np.ndarray:
    """Daily simple returns, sessions x tickers (one row fewer than ``adj_close``).

    The numbers of ``adj_close.pct_change(fill_method=None).iloc[1:]``, bit for bit and in
    the same (column) order of memory, without pandas' frames: about half the time on us-all.
    """
    a = adj_close.to_numpy(float)
    out = np.empty((max(len(a) - 1, 0), a.shape[1]), order="F")
    with np.errstate(divide="ignore", invalid="ignore"):
        np.divide(a[1:], a[:-1], out=out)
    out -= 1.0
    return out


def benchmark_returns(adj_close: pd.DataFrame, weights: pd.Series) -> pd.Series:
    """Daily simple returns of a fixed-weight benchmark.

    Each day's return is the weighted mean return of the names that have one that day (the
    weights renormalised over them), so listings and gaps do not drag the benchmark to zero.
    """
    w = weights.reindex(adj_close.columns).fillna(0.0).to_numpy(float)
    values = simple_returns(adj_close)
    have = np.isfinite(values)
    total = (have * w).sum(axis=1)
    weighted = (np.where(have, values, 0.0) * w).sum(axis=1)  # no NaN left to skip (the weights are filled)
    ret = np.where(total > 0, weighted / np.where(total > 0, total, 1.0), np.nan)
    return pd.Series(ret, index=adj_close.index[1:])


def dimson_betas(adj_close: pd.DataFrame, benchmark: pd.Series, lookback: int) -> pd.Series:
    """Dimson (1979) betas from daily returns over the last ``lookback`` sessions.

    Small caps trade less often than their benchmark, so a plain daily regression understates
    their beta; Dimson's correction regresses each name's return on the benchmark's return
    the day before, the same day and the day after, and sums the three slopes. Returns are
    winsorised at +/-50% (unadjusted splits). A name with fewer than ``MIN_BETA_SESSIONS``
    returns is shrunk towards 1 in proportion to the days it lacks (none: beta 1).

    Parameters
    ----------
    adj_close : pandas.DataFrame
        Sessions x tickers.
    benchmark : pandas.Series
        Daily benchmark returns (same sessions, one fewer row: see :func:`benchmark_returns`).
    lookback : int
        Sessions used (all there are when fewer).

    Returns
    -------
    pandas.Series
        Beta per ticker.
    """
    r = simple_returns(adj_close)[-lookback:]
    np.clip(r, -0.5, 0.5, out=r)
    m = benchmark.reindex(adj_close.index[1:][-lookback:]).to_numpy(float)
    lagged = np.column_stack([np.roll(m, 1), m, np.roll(m, -1)])[1:-1]
    values = r[1:-1]
    usable = np.isfinite(lagged).all(axis=1)
    lagged, values = lagged[usable], values[usable]
    betas = np.ones(values.shape[1])
    complete = np.isfinite(values).all(axis=0)
    x = np.column_stack([np.ones(len(lagged)), lagged])
    if complete.any():
        coef, *_ = np.linalg.lstsq(x, values[:, complete], rcond=None)
        betas[complete] = coef[1:].sum(axis=0)
    for j in np.flatnonzero(~complete):
        rows = np.isfinite(values[:, j])
        count = int(rows.sum())
        if count < 20:
            continue
        coef, *_ = np.linalg.lstsq(x[rows], values[rows, j], rcond=None)
        share = min(1.0, count / MIN_BETA_SESSIONS)
        betas[j] = share * coef[1:].sum() + (1 - share)
    return pd.Series(betas, index=adj_close.columns)


def residual_volatility(model: RiskModel, benchmark: np.ndarray) -> pd.Series:
    """Each name's volatility not explained by the benchmark, ``sqrt(sigma^2 - beta^2 sigma_B^2)``.

    ``benchmark`` is a weight vector aligned with the model's tickers; beta is the model's own
    (so the difference is a variance, never negative).
    """
    b = model.exposures
    fb = b.T @ benchmark
    bench_var = float(fb @ model.factor_cov @ fb + np.sum(model.idio_var * benchmark**2))
    total = np.einsum("ik,kl,il->i", b, model.factor_cov, b) + model.idio_var
    beta = model.betas(benchmark)
    return pd.Series(np.sqrt(np.clip(total - beta**2 * bench_var, 0.0, None)), index=model.tickers)
