"""The thesis, recomputed from the data: sector price / fair value, small vs large caps.

Definitions
-----------
* ``median_price_to_fair_value``: median over the sector's companies with a fair value.
* ``capweighted_price_to_fair_value``: total market cap / total fair value of equity
  (fair value per share x shares) over the same companies: the cap-weighted harmonic mean,
  which a single company with a near-zero fair value cannot dominate.
* Aggregate P/E: total market cap / total net income of the latest fiscal year. Two versions:
  ``aggregate_pe`` counts every company, **losses included** (they reduce total earnings, as
  in an index's own earnings; missing when total earnings are zero or negative, which is the
  case for us-small in the snapshot); ``aggregate_pe_ex_losses`` keeps only profitable companies in
  both sums (the usual index-provider convention). Median P/E: over profitable companies only.
  P/B: aggregate and median over companies with positive book equity.
* ``spread``: small minus large for each measure; ``small_discount`` = small / large - 1.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd


def _aggregate(num: pd.Series, den: pd.Series) -> float:
    total = den.sum()
    return float(num.sum() / total) if total > 0 else float("nan")


def price_to_fair_value_summary(
    rows: pd.DataFrame, label: str, key: str = "sector"
) -> dict[str, Any]:
    """Count, median and cap-weighted price / fair value of a group of companies."""
    valued = rows[rows["fair_value"].notna()]
    fair_equity = valued["fair_value"] * valued["shares"]
    return {
        key: label,
        "count": len(rows),
        "valued": len(valued),
        "median_price_to_fair_value": float(valued["price_to_fair_value"].median())
        if len(valued)
        else float("nan"),
        "capweighted_price_to_fair_value": _aggregate(valued["market_cap"], fair_equity),
        "market_cap": float(rows["market_cap"].sum()),
    }


def sector_valuation(table: pd.DataFrame) -> pd.DataFrame:
    """Per-sector median and cap-weighted price / fair value.

    Parameters
    ----------
    table : pandas.DataFrame
        A screen table (:attr:`screener.ScreenResult.table`): ``sector``, ``market_cap``,
        ``shares``, ``fair_value``, ``price_to_fair_value``.

    Returns
    -------
    pandas.DataFrame
        ``sector``, ``count`` (companies), ``valued`` (with a fair value),
        ``median_price_to_fair_value``, ``capweighted_price_to_fair_value``, ``market_cap``;
        sorted by cap-weighted price / fair value, cheapest first; plus an ``All`` row.
    """
    out = [
        price_to_fair_value_summary(rows, str(sector))
        for sector, rows in table.groupby("sector", sort=True)
    ]
    frame = pd.DataFrame(out).sort_values(
        ["capweighted_price_to_fair_value", "sector"], na_position="last"
    )
    total = pd.DataFrame([price_to_fair_value_summary(table, "All")])
    return pd.concat([frame, total], ignore_index=True)


def group_valuation(table: pd.DataFrame) -> pd.DataFrame:
    """Price / fair value of the thesis's groups: manufacturers (SIC 2000-3999, with and
    without life sciences), everyone else, and utilities."""
    manufacturing = table["manufacturing"].astype(bool)
    life = table["life_sciences"].astype(bool)
    groups = {
        "Manufacturing (SIC 2000-3999)": manufacturing,
        "Manufacturing excl. life sciences": manufacturing & ~life,
        "Non-manufacturing": ~manufacturing,
        "Utilities (sector)": table["sector"] == "Utilities",
    }
    return pd.DataFrame(
        [
            price_to_fair_value_summary(table[mask], name, key="group")
            for name, mask in groups.items()
        ]
    )


def cap_bucket_stats(table: pd.DataFrame) -> dict[str, float]:
    """Aggregate and median P/E and P/B of one group of companies."""
    cap = table["market_cap"]
    earnings = table["net_income"]
    book = table["total_equity"]
    profitable = earnings > 0
    positive_book = book > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        pe = cap / earnings
        pb = cap / book
    return {
        "count": len(table),
        "market_cap": float(cap.sum()),
        "total_net_income": float(earnings.sum()),
        "loss_makers": int((~profitable).sum()),
        "aggregate_pe": _aggregate(cap, earnings),
        "aggregate_pe_ex_losses": _aggregate(cap[profitable], earnings[profitable]),
        "median_pe": float(pe[profitable].median()),
        "aggregate_pb": _aggregate(cap[positive_book], book[positive_book]),
        "median_pb": float(pb[positive_book].median()),
        "median_price_to_fair_value": float(table["price_to_fair_value"].median()),
    }


def small_vs_large(small: pd.DataFrame, large: pd.DataFrame) -> dict[str, Any]:
    """Small vs large caps on aggregate and median P/E, P/B and price / fair value.

    Parameters
    ----------
    small, large : pandas.DataFrame
        Screen tables (or any frames with ``market_cap``, ``net_income``, ``total_equity``,
        ``price_to_fair_value``) of the two groups.

    Returns
    -------
    dict
        ``small``, ``large`` (the statistics of :func:`cap_bucket_stats`), ``spread`` (small
        minus large) and ``small_discount`` (small / large - 1) for each ratio.
    """
    s, lg = cap_bucket_stats(small), cap_bucket_stats(large)
    ratios = [k for k in s if k.startswith(("aggregate_", "median_"))]
    return {
        "small": s,
        "large": lg,
        "spread": {k: s[k] - lg[k] for k in ratios},
        "small_discount": {k: (s[k] / lg[k] - 1) if lg[k] else float("nan") for k in ratios},
        "losses": (
            "aggregate_pe counts losses (they lower total earnings; undefined when total earnings "
            "are not positive); aggregate_pe_ex_losses and median_pe use profitable companies only"
        ),
    }
