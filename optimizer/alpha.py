"""From the screener's composite score to an expected excess return (alpha).

Grinold and Kahn's forecasting rule, ``alpha = IC x residual volatility x z``:

* ``z`` is the composite's percentile rank among every company of the screened universe
  (mid-rank, so the best of n gets ``1 - 0.5/n``), mapped to a standard-normal score
  ``z = Phi^-1(percentile)`` and clipped to [-2.58, 2.58]: the names that pass a screen are
  usually the better ones, so they get positive alphas;
* ``residual volatility`` is each name's annualised volatility *not explained by the
  benchmark* (``sqrt(sigma^2 - beta^2 sigma_B^2)``, :func:`optimizer.risk.residual_volatility`):
  alpha is a forecast of residual return, so it scales with residual risk, not with the
  market risk every name shares;
* ``IC`` (information coefficient) is the assumed correlation between the score and the
  next year's residual return: 0.05 by default, a modest, typical value and an assumption
  (``alpha_ic`` in the constraints file; a backtest can calibrate it).

The median company gets zero alpha; the best names with the most stock-specific risk get the
most.
Any user-supplied vector can be passed to the optimiser instead.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

Z_CLIP = 2.5758


def composite_to_alpha(
    composite: pd.Series, volatility: pd.Series, ic: float = 0.05, reference: pd.Series | None = None
) -> pd.Series:
    """Expected annual excess return per name.

    Parameters
    ----------
    composite : pandas.Series
        Composite scores of the names to price (missing: no view, zero alpha).
    volatility : pandas.Series
        Annualised residual volatility, same index.
    ic : float
        Information coefficient.
    reference : pandas.Series, optional
        Composite scores of the whole screened universe, the population the percentile is
        taken in (default: ``composite`` itself).

    Returns
    -------
    pandas.Series
    """
    # the normal quantile; scipy.special takes 0.08 s to import (scipy.stats 0.4 s): not when a
    # kept result is read
    from scipy.special import ndtri

    population = np.sort((composite if reference is None else reference).dropna().to_numpy(float))
    n = len(population)
    values = composite.to_numpy(float)
    below = np.searchsorted(population, values, side="left")
    equal = np.searchsorted(population, values, side="right") - below
    p = (below + 0.5 * equal) / max(n, 1)
    p = np.clip(p, 0.5 / max(n, 1), 1 - 0.5 / max(n, 1))
    z = np.clip(ndtri(p), -Z_CLIP, Z_CLIP)
    z = np.where(np.isnan(values), 0.0, z)
    return pd.Series(ic * volatility.reindex(composite.index).to_numpy(float) * z, index=composite.index)
