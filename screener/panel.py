"""One row per company: the latest fiscal year, the years before it, and its cycle figures.

Every metric in the screener reads from this panel, so "latest", "prior year" and "cycle"
mean the same thing everywhere:

* ``x`` is the latest fiscal year published on or before the universe's as-of date;
* ``x_1`` and ``x_2`` are the fiscal years exactly one and two years earlier (missing when the
  company did not publish that year: no gap is bridged);
* the **cycle** is the latest fiscal year and the ``CYCLE_YEARS - 1`` years before it that the
  company published (up to five years: the depth of the snapshot, about one business cycle).

Cycle figures (missing where no year of the cycle has the inputs)
-----------------------------------------------------------------
``revenue_avg``
    Mean revenue over the cycle's years with revenue > 0; ``revenue_peak`` its maximum.
``op_margin_avg``
    Cycle operating margin: sum of operating income / sum of revenue over the years with
    revenue > 0 (a year of tiny revenue cannot swing it as a mean of yearly margins would);
    ``op_margin_std`` the standard deviation of the yearly margins (population, ddof 0).
``tax_rate_effective``
    Sum of income tax / sum of pretax income over the years with pretax income > 0.
``da_avg``, ``capex_avg``, ``wc_change_avg``, ``acquisitions_avg``
    Means over the cycle (``wc_change_avg`` keeps the cash-flow sign: negative = cash absorbed).
``revenue_growth_1y``
    Latest revenue / prior year's - 1.
``revenue_trend``
    ``exp(b) - 1`` where ``b`` is the least-squares slope of log revenue on the fiscal year
    over the cycle's years with revenue > 0 (at least two).
``revenue_volatility``
    Standard deviation (ddof 1) of the year-on-year log revenue changes between consecutive
    fiscal years of the cycle (at least two changes).
``loss_years``
    Years of the cycle with a net loss.
``parent_share``
    The share of the group's earnings that belongs to the company's own shareholders over the
    cycle: sum of ``net_income`` / sum of ``income_continuing_ops + extraordinary_gains`` over
    the years where both are positive (the data layer's per-year ``parent_share``, weighted by
    the group's earnings), at most 1; 1 when no year qualifies. Below 1 when minority partners
    own part of a subsidiary (PLAB FY2019-2023: 363.3 / 538.5 = 0.67; 0.63 in FY2023 alone) or
    the listed shares hold only part of the business (Up-C structures). Summed over the cycle
    because one year of small or one-off earnings makes the ratio meaningless (ANF FY2022:
    2.8M of 10.4M).

``earnings_3y_avg``
    Mean of ``net_income - extraordinary_gains`` (the parent's earnings from continuing
    operations) over the latest year and the two before it that were published.
``unit_slips``
    Figures that cannot be right (cash above total assets, a cash flow above ten times them: a
    year reported in the wrong unit), e.g. ``"capex FY2020"``; they count as missing in the
    cycle figures. '' when there are none.
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
#: Fiscal years in a cycle (the latest and the four before it).
CYCLE_YEARS = 5
#: Statement items whose whole cycle the panel reads.
CYCLE_ITEMS = (
    "total_assets",
    "cash",
    "operating_cash_flow",
    "revenue",
    "operating_income",
    "net_income",
    "pretax_income",
    "income_tax",
    "income_continuing_ops",
    "extraordinary_gains",
    "da",
    "capex",
    "working_capital_change",
    "acquisitions",
)


def cycle_history(
    fundamentals: pd.DataFrame, tickers: pd.Index, items: tuple[str, ...] = CYCLE_ITEMS
) -> dict[str, np.ndarray]:
    """Each item over the cycle as an array of shape ``(len(tickers), CYCLE_YEARS)``.

    Column 0 is the latest fiscal year, column ``k`` the fiscal year ``k`` years earlier
    (missing where the company did not publish it); also ``"fiscal_year"`` itself.
    """
    f = fundamentals
    row = tickers.get_indexer(f["ticker"])
    year = f["fiscal_year"].to_numpy(dtype="float64")
    latest = np.full(len(tickers), -np.inf)
    known = row >= 0
    np.maximum.at(latest, row[known], year[known])
    lag = latest[np.maximum(row, 0)] - year
    keep = known & (lag >= 0) & (lag < CYCLE_YEARS)
    r, c = row[keep], lag[keep].astype(int)
    out: dict[str, np.ndarray] = {}
    for item in (*items, "fiscal_year"):
        arr = np.full((len(tickers), CYCLE_YEARS), np.nan)
        arr[r, c] = f[item].to_numpy(dtype="float64")[keep]
        out[item] = arr
    return out


#: Items that cannot exceed a year's total assets (cash, a part of them) or ten times them (cash
#: flows) unless they are in the wrong unit (SimFin has years in thousands of dollars read as
#: dollars, 1,000x too large); such a figure is read as missing and reported in ``unit_slips``.
BOUNDED_BY_ASSETS = {
    "cash": 1.0,
    "da": 10.0,
    "capex": 10.0,
    "working_capital_change": 10.0,
    "acquisitions": 10.0,
    "operating_cash_flow": 10.0,
}


def mask_unit_slips(h: dict[str, np.ndarray]) -> np.ndarray:
    """Set figures that exceed their bound (``BOUNDED_BY_ASSETS``) to missing, in place.

    Returns
    -------
    numpy.ndarray
        Object array, one per company: '' or the slips found, e.g. ``"da FY2020, capex FY2020"``.
    """
    assets = h["total_assets"]
    found = np.zeros(assets.shape, dtype=bool)
    slips: dict[str, np.ndarray] = {}
    with np.errstate(invalid="ignore"):
        for item, bound in BOUNDED_BY_ASSETS.items():
            bad = (assets > 0) & (np.abs(h[item]) > bound * assets)
            if bad.any():
                slips[item] = bad
                h[item] = np.where(bad, np.nan, h[item])
                found |= bad
    text = np.full(len(assets), "", dtype=object)
    for row in np.flatnonzero(found.any(axis=1)):
        text[row] = ", ".join(
            f"{item} FY{int(h['fiscal_year'][row, col])}"
            for item, bad in slips.items()
            for col in np.flatnonzero(bad[row])
        )
    return text


def _mean(values: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """Row means of ``values`` over ``mask`` (and finite entries); NaN for an empty row."""
    ok = np.isfinite(values) if mask is None else np.isfinite(values) & mask
    count = ok.sum(axis=1)
    total = np.where(ok, values, 0.0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / count, np.nan)


def _ratio_of_sums(num: np.ndarray, den: np.ndarray, mask: np.ndarray) -> np.ndarray:
    ok = mask & np.isfinite(num) & np.isfinite(den)
    top = np.where(ok, num, 0.0).sum(axis=1)
    bottom = np.where(ok, den, 0.0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(ok.any(axis=1) & (bottom > 0), top / bottom, np.nan)


def _cycle_figures(h: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    rev = h["revenue"]
    selling = np.isfinite(rev) & (rev > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        margins = np.where(selling, h["operating_income"] / rev, np.nan)
        log_rev = np.where(selling, np.log(np.where(selling, rev, 1.0)), np.nan)
    n_margins = np.isfinite(margins).sum(axis=1)
    margin_mean = _mean(margins)
    margin_var = _mean((margins - margin_mean[:, None]) ** 2)

    # Least-squares slope of log revenue on the fiscal year.
    x = h["fiscal_year"]
    ok = np.isfinite(log_rev) & np.isfinite(x)
    n = ok.sum(axis=1)
    x_mean = _mean(x, ok)
    y_mean = _mean(log_rev, ok)
    dx = np.where(ok, x - x_mean[:, None], 0.0)
    dy = np.where(ok, log_rev - y_mean[:, None], 0.0)
    sxx = (dx * dx).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        slope = np.where((n >= 2) & (sxx > 0), (dx * dy).sum(axis=1) / sxx, np.nan)

    # Year-on-year log changes between consecutive fiscal years (column k vs k + 1).
    changes = log_rev[:, :-1] - log_rev[:, 1:]
    consecutive = (x[:, :-1] - x[:, 1:]) == 1
    changes = np.where(consecutive, changes, np.nan)
    n_changes = np.isfinite(changes).sum(axis=1)
    change_mean = _mean(changes)
    change_ss = np.where(np.isfinite(changes), (changes - change_mean[:, None]) ** 2, 0.0).sum(
        axis=1
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        volatility = np.where(n_changes >= 2, np.sqrt(change_ss / (n_changes - 1)), np.nan)

    # The parent's share of the group's earnings over the cycle (see the module docstring).
    net = h["net_income"]
    group = h["income_continuing_ops"] + np.nan_to_num(h["extraordinary_gains"])
    with np.errstate(invalid="ignore"):
        share = _ratio_of_sums(net, group, (group > 0) & (net > 0))
    share = np.where(np.isfinite(share), np.minimum(share, 1.0), 1.0)
    parent = net - np.nan_to_num(h["extraordinary_gains"])

    pretax = h["pretax_income"]
    return {
        "revenue_avg": _mean(rev, selling),
        "revenue_peak": np.where(
            selling.any(axis=1), np.where(selling, rev, -np.inf).max(axis=1), np.nan
        ),
        "op_margin_avg": _ratio_of_sums(h["operating_income"], rev, selling),
        "op_margin_std": np.where(n_margins >= 1, np.sqrt(margin_var), np.nan),
        "tax_rate_effective": _ratio_of_sums(
            h["income_tax"], pretax, np.isfinite(pretax) & (pretax > 0)
        ),
        "da_avg": _mean(h["da"]),
        "capex_avg": _mean(h["capex"]),
        "wc_change_avg": _mean(h["working_capital_change"]),
        "acquisitions_avg": _mean(h["acquisitions"]),
        "revenue_trend": np.expm1(slope),
        "revenue_volatility": volatility,
        "loss_years": (np.isfinite(h["net_income"]) & (h["net_income"] < 0)).sum(axis=1),
        "parent_share": share,
        "earnings_3y_avg": _mean(parent[:, :3]),
    }


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
        ``<item>_2`` for the items of ``LAGGED``, ``years`` (fiscal years available) and the
        cycle figures described in the module docstring.
    """
    f = fundamentals.sort_values(["ticker", "fiscal_year"], kind="stable")
    latest = f.groupby("ticker", sort=False).tail(1).set_index("ticker").reindex(tickers)
    year = latest["fiscal_year"].astype("float64")
    # The cycle's parent_share (below) replaces the latest year's, where the data carry one.
    panel = latest.drop(columns=["ticker", "parent_share"], errors="ignore").copy()
    row = tickers.get_indexer(f["ticker"])
    known = row >= 0
    back = year.to_numpy()[np.maximum(row, 0)] - f["fiscal_year"].to_numpy(dtype="float64")
    items = f[list(LAGGED)]
    for lag in (1, 2):
        # the fiscal year exactly ``lag`` years before the latest, where it was published
        rows = np.flatnonzero(known & (back == lag))
        prior = items.iloc[rows].set_axis(tickers[row[rows]]).reindex(tickers)
        panel = panel.join(prior.add_suffix(f"_{lag}"))

    panel["years"] = np.bincount(row[known], minlength=len(tickers))
    history = cycle_history(f, tickers)
    slips = mask_unit_slips(history)
    figures = _cycle_figures(history)
    panel = panel.join(pd.DataFrame({**figures, "unit_slips": slips}, index=tickers))
    panel["revenue_growth_1y"] = (
        safe_div(panel["revenue"], panel["revenue_1"].where(panel["revenue_1"] > 0)) - 1.0
    )
    return panel


def safe_div(num: pd.Series, den: pd.Series) -> pd.Series:
    """``num / den`` with missing (not infinite) results where ``den`` is zero or missing."""
    if _plain_floats(num, den):
        # the same division on the arrays, without pandas' per-operation overhead
        d = den.to_numpy()
        with np.errstate(divide="ignore", invalid="ignore"):
            values = num.to_numpy() / np.where(d != 0, d, np.nan)
        return pd.Series(values, index=num.index, name=num.name if num.name == den.name else None)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = num / den.where(den != 0)
    return out.astype("float64")


def _plain_floats(a: pd.Series, b: pd.Series) -> bool:
    """Whether two Series are float64 NumPy arrays on the same index with plain names."""
    return (
        isinstance(a, pd.Series)
        and isinstance(b, pd.Series)
        and a.dtype == np.float64
        and b.dtype == np.float64
        and isinstance(a.name, str | None)
        and isinstance(b.name, str | None)
        and (a.index is b.index or a.index.equals(b.index))
    )


def prefer(primary: pd.Series, fallback: pd.Series) -> pd.Series:
    """``primary`` where present, else ``fallback``."""
    return primary.where(primary.notna(), fallback)
