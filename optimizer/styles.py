"""Style exposures: the bets a portfolio makes on size, value, momentum, quality and leverage.

Each style is a score per company, standardised across the universe the way commercial risk
models do it (Barra's convention): winsorised at the 1st and 99th percentiles, centred on the
benchmark's (cap-weighted) mean and divided by the cross-sectional standard deviation, so the
benchmark's exposure is zero and a portfolio's exposure reads in standard deviations.

* **size**: log market capitalisation;
* **value**: book-to-price (1 / price-to-book);
* **momentum**: return over the last 12 months skipping the most recent one (21 sessions);
* **quality**: the screen's quality score (Piotroski F, Altman Z and the balance-sheet ratios);
* **leverage**: net debt over total assets.

A company without the input gets zero (neutral) for that style.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

STYLES = ("size", "value", "momentum", "quality", "leverage")
MOMENTUM_SESSIONS = (252, 21)


def raw_styles(table: pd.DataFrame, adj_close: pd.DataFrame) -> pd.DataFrame:
    """Unstandardised style inputs per company.

    Parameters
    ----------
    table : pandas.DataFrame
        Per company: ``market_cap``, ``price_to_book``, ``quality``, ``net_debt``,
        ``total_assets`` (a screen's table).
    adj_close : pandas.DataFrame
        Sessions x tickers of adjusted closes (at least a year for momentum).
    """
    def column(name: str) -> pd.Series:
        return table[name].astype(float) if name in table else pd.Series(np.nan, index=table.index)

    cap = column("market_cap")
    with np.errstate(divide="ignore", invalid="ignore"):
        size = np.log(cap.where(cap > 0))
        pb = column("price_to_book")
        value = (1.0 / pb.where(pb > 0)).astype(float)
        assets = column("total_assets")
        leverage = column("net_debt") / assets.where(assets > 0)
    long, skip = MOMENTUM_SESSIONS
    if len(adj_close) > long:
        ends = adj_close.iloc[[-1 - long, -1 - skip]].reindex(columns=table.index)
        momentum = ends.iloc[1] / ends.iloc[0] - 1.0
    else:
        momentum = pd.Series(np.nan, index=table.index)
    return pd.DataFrame(
        {"size": size, "value": value, "momentum": momentum, "quality": column("quality"), "leverage": leverage}, index=table.index
    )[list(STYLES)]


def standardise(raw: pd.DataFrame, benchmark: pd.Series) -> pd.DataFrame:
    """Winsorise, centre on the benchmark's mean and scale to unit cross-sectional deviation."""
    out = {}
    w = benchmark.reindex(raw.index).fillna(0.0)
    for style in raw.columns:
        x = raw[style].replace([np.inf, -np.inf], np.nan)
        if x.notna().sum() < 3:
            out[style] = pd.Series(0.0, index=raw.index)
            continue
        lo, hi = x.quantile(0.01), x.quantile(0.99)
        x = x.clip(lo, hi)
        have = x.notna() & (w > 0)
        centre = float((x[have] * w[have]).sum() / w[have].sum()) if have.any() else float(x.mean())
        sd = float(x.std(ddof=0))
        out[style] = ((x - centre) / (sd if sd > 0 else 1.0)).fillna(0.0)
    return pd.DataFrame(out, index=raw.index)


def exposures(scores: pd.DataFrame, portfolios: dict[str, pd.Series]) -> pd.DataFrame:
    """Each portfolio's exposure to each style (weighted sum of the standardised scores).

    Parameters
    ----------
    scores : pandas.DataFrame
        Standardised scores (:func:`standardise`), tickers x styles.
    portfolios : dict of str to pandas.Series
        Column name -> weights by ticker (names without scores count as neutral).

    Returns
    -------
    pandas.DataFrame
        ``style`` then one column per portfolio.
    """
    loadings = scores.to_numpy(float).T
    table: dict[str, object] = {"style": list(scores.columns)}
    for name, weights in portfolios.items():
        aligned = weights if weights.index.equals(scores.index) else weights.reindex(scores.index)
        table[name] = loadings @ aligned.fillna(0.0).to_numpy(float)
    return pd.DataFrame(table)
