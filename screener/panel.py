"""One row per company: the latest fiscal year, the two before it, and multi-year averages.

Every metric in the screener reads from this panel, so "latest", "prior year" and "average"
mean the same thing everywhere:

* ``x`` is the latest fiscal year published on or before the universe's as-of date;
* ``x_1`` and ``x_2`` are the fiscal years exactly one and two years earlier (missing when the
  company did not publish that year: no gap is bridged);
* ``op_margin_avg`` is the mean operating margin over every available year with revenue > 0
  (up to five: the cycle-normalised margin); ``capex_avg`` the mean net capex over every
  available year; ``revenue_cagr`` the compound revenue growth from the first available year
  with revenue > 0 to the latest.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: The statement items carried for the prior years.
LAGGED = (
    "revenue",
    "cogs",
    "gross_profit",
    "sga",
    "da",
    "operating_income",
    "net_income",
    "operating_cash_flow",
    "receivables",
    "current_assets",
    "current_liabilities",
    "ppe_net",
    "long_term_investments",
    "total_assets",
    "long_term_debt",
    "shares_basic",
)


def build_panel(fundamentals: pd.DataFrame, tickers: pd.Index) -> pd.DataFrame:
    """Build the company panel.

    Parameters
    ----------
    fundamentals : pandas.DataFrame
        Point-in-time fundamentals in the snapshot schema (any row order).
    tickers : pandas.Index
        Companies to return, in this order (those without fundamentals get missing values).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``tickers``: every fundamental of the latest year, ``<item>_1`` and
        ``<item>_2`` for the items of ``LAGGED``, ``years`` (number of fiscal years available),
        ``op_margin_avg``, ``capex_avg`` and ``revenue_cagr``.
    """
    f = fundamentals.sort_values(["ticker", "fiscal_year"], kind="stable")
    latest = f.groupby("ticker", sort=False).tail(1).set_index("ticker").reindex(tickers)
    by_year = f.set_index(["ticker", "fiscal_year"])[list(LAGGED)]
    year = latest["fiscal_year"].astype("float64")
    panel = latest.drop(columns=["ticker"], errors="ignore").copy()
    for lag in (1, 2):
        key = pd.MultiIndex.from_arrays([tickers, (year - lag).astype("Int64")])
        prior = by_year.reindex(key)
        prior.index = tickers
        panel = panel.join(prior.add_suffix(f"_{lag}"))

    grouped = f.groupby("ticker", sort=False)
    panel["years"] = grouped.size().reindex(tickers).fillna(0).astype(int)

    with np.errstate(divide="ignore", invalid="ignore"):
        margin = (f["operating_income"] / f["revenue"]).where(f["revenue"] > 0)
    panel["op_margin_avg"] = margin.groupby(f["ticker"]).mean().reindex(tickers)
    panel["capex_avg"] = grouped["capex"].mean().reindex(tickers)

    positive = f[f["revenue"] > 0]
    first = positive.groupby("ticker", sort=False).head(1).set_index("ticker").reindex(tickers)
    span = panel["fiscal_year"].astype("float64") - first["fiscal_year"].astype("float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = panel["revenue"] / first["revenue"]
        cagr = np.power(ratio.where(ratio > 0), 1.0 / span.where(span > 0)) - 1.0
    panel["revenue_cagr"] = cagr
    return panel


def safe_div(num: pd.Series, den: pd.Series) -> pd.Series:
    """``num / den`` with missing (not infinite) results where ``den`` is zero or missing."""
    with np.errstate(divide="ignore", invalid="ignore"):
        out = num / den.where(den != 0)
    return out.astype("float64")


def prefer(primary: pd.Series, fallback: pd.Series) -> pd.Series:
    """``primary`` where present, else ``fallback``."""
    return primary.where(primary.notna(), fallback)
