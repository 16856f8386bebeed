"""The thesis monitor: small vs large caps, manufacturers vs utilities vs everything else, over time.

Every figure is point in time: fiscal years published by the as-of date, prices on that date.
They are **trailing** figures: forecasts (the consensus EPS growth a thesis may quote) are not in
the data.

Per company (:func:`valuation_inputs`), from one fiscal year: the latest published, or the
*aligned* one (:func:`aligned_window`):

* ``earnings``: net income attributable to the company's shareholders; ``earnings_prior``: the
  fiscal year before (consecutive years only);
* ``eps`` and ``eps_prior``: earnings / weighted basic shares of the year;
* ``book``: total equity; ``ebit``: operating income;
* ``enterprise_value``: market cap + debt (short + long term, a missing line counting 0) - cash
  and short-term investments;
* ``market_cap``: the as-of price x the latest year's shares (the universe's figure).

Per group (:func:`group_measures`):

* ``aggregate_earnings_yield`` = sum of earnings / sum of market caps, **losses included** (they
  lower the total, as in an index's own earnings); ``aggregate_pe`` is its inverse, missing when
  total earnings are not positive;
* ``aggregate_earnings_yield_ex_losses`` and ``aggregate_pe_ex_losses``: profitable companies
  only, in both sums (the usual index-provider convention);
* ``median_earnings_yield``: the median of earnings / market cap, losses included;
  ``median_pe_with_losses`` = 1 / that median (the P/E of the median company, loss-makers
  counted; missing when the median yield is not positive); ``median_pe_ex_losses``: the median
  P/E of profitable companies;
* ``aggregate_pb`` and ``median_pb``: over companies with positive book equity;
* ``aggregate_ebit_to_ev`` and ``median_ebit_to_ev``: over companies with a positive enterprise
  value (operating losses included);
* ``aggregate_eps_growth`` = sum of earnings / sum of prior earnings - 1 over the companies with
  both years (missing when the prior sum is not positive); ``median_eps_growth``: the median of
  eps / eps_prior - 1 over companies with positive prior EPS. Trailing, not forecast;
* ``median_price_to_fair_value`` and ``capweighted_price_to_fair_value`` (sum of market caps /
  sum of fair value x shares: the cap-weighted harmonic mean, which one company with a
  near-zero fair value cannot dominate), over companies with a fair value (the screen's).

``spread`` is small minus large for each ratio, ``small_discount`` small / large - 1.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

#: What every figure of the monitor leaves out, printed with them.
DISCLOSURES = (
    "Banks and insurers are absent: the source keeps them in other statement templates.",
    "Forward estimates are absent: every figure is trailing (published fiscal years); "
    "consensus growth forecasts are not in the data.",
    "Price / fair value uses the screen's fair-value model and assumptions; EBIT / EV and "
    "earnings yield beside it do not depend on any model.",
)
#: Months between the end of the aligned window and the as-of date: the filing deadline of the
#: smallest U.S. filers is 90 days after the fiscal year ends.
ALIGN_LAG_MONTHS = 3
#: Ratios compared between groups (every one has a ``spread`` and a ``small_discount``).
RATIOS = (
    "aggregate_pe",
    "aggregate_pe_ex_losses",
    "aggregate_earnings_yield",
    "aggregate_earnings_yield_ex_losses",
    "median_pe_with_losses",
    "median_pe_ex_losses",
    "median_earnings_yield",
    "aggregate_pb",
    "median_pb",
    "aggregate_ebit_to_ev",
    "median_ebit_to_ev",
    "aggregate_eps_growth",
    "median_eps_growth",
    "median_price_to_fair_value",
    "capweighted_price_to_fair_value",
)


def _ratio(num: pd.Series, den: pd.Series) -> float:
    total = float(den.sum())
    return float(num.sum()) / total if total > 0 else float("nan")


def _median(values: pd.Series) -> float:
    values = values.dropna()
    return float(values.median()) if len(values) else float("nan")


def _inverse(x: float) -> float:
    return 1.0 / x if x > 0 else float("nan")


def aligned_window(as_of: pd.Timestamp, lag_months: int = ALIGN_LAG_MONTHS) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The 12 months whose fiscal year ends every group is compared on, ``(start, end]``.

    They end ``lag_months`` before the as-of date, when every company's report for a year
    ending then is due: on 2024-03-08 the window is 2022-12-08 to 2023-12-08, so a December
    filer counts with its FY2022, large or small, whatever it published since.
    """
    end = pd.Timestamp(as_of) - pd.DateOffset(months=lag_months)
    return end - pd.DateOffset(months=12), end


def valuation_inputs(
    companies: pd.DataFrame,
    fundamentals: pd.DataFrame,
    window: tuple[pd.Timestamp, pd.Timestamp] | None = None,
) -> pd.DataFrame:
    """One fiscal year per company, with the figures the measures need (see the module docstring).

    Parameters
    ----------
    companies : pandas.DataFrame
        Indexed by ticker, with ``market_cap`` (a screen table or ``Universe.companies``).
    fundamentals : pandas.DataFrame
        Point-in-time fiscal years (``Universe.fundamentals``).
    window : (pandas.Timestamp, pandas.Timestamp), optional
        Use each company's fiscal year ending in ``(start, end]`` (the latest such year)
        instead of its latest; companies without one get missing figures.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``companies``: ``fiscal_year``, ``period_end``, ``market_cap``,
        ``earnings``, ``earnings_prior``, ``eps``, ``eps_prior``, ``book``, ``ebit``,
        ``enterprise_value``.
    """
    tickers = companies.index
    f = fundamentals[fundamentals["ticker"].isin(tickers)].sort_values(["ticker", "fiscal_year"])
    consecutive = f.groupby("ticker")["fiscal_year"].diff() == 1
    f = f.assign(
        earnings_prior=f.groupby("ticker")["net_income"].shift(1).where(consecutive),
        shares_prior=f.groupby("ticker")["shares_basic"].shift(1).where(consecutive),
    )
    if window is not None:
        start, end = window
        f = f[(f["period_end"] > start) & (f["period_end"] <= end)]
    row = f.groupby("ticker", sort=False).tail(1).set_index("ticker").reindex(tickers)
    shares = row["shares_basic"].where(row["shares_basic"] > 0)
    prior_shares = row["shares_prior"].where(row["shares_prior"] > 0)
    debt = row["short_term_debt"].fillna(0.0) + row["long_term_debt"].fillna(0.0)
    cap = companies["market_cap"].astype("float64")
    known = row["fiscal_year"].notna()
    return pd.DataFrame(
        {
            "fiscal_year": row["fiscal_year"],
            "period_end": row["period_end"],
            "market_cap": cap,
            "earnings": row["net_income"],
            "earnings_prior": row["earnings_prior"],
            "eps": row["net_income"] / shares,
            "eps_prior": row["earnings_prior"] / prior_shares,
            "book": row["total_equity"],
            "ebit": row["operating_income"],
            "enterprise_value": (cap + debt - row["cash"].fillna(0.0)).where(known),
        },
        index=tickers,
    )


def _per_company(inputs: pd.DataFrame, fair: pd.DataFrame | None) -> pd.DataFrame:
    """The per-company ratios every measure aggregates, for the companies with figures."""
    x = inputs[inputs["fiscal_year"].notna() & (inputs["market_cap"] > 0)]
    per = pd.DataFrame(
        {
            "cap": x["market_cap"],
            "earnings": x["earnings"],
            "earnings_prior": x["earnings_prior"].where(x["earnings"].notna()),
            "book": x["book"].where(x["book"] > 0),
            "ebit": x["ebit"].where(x["enterprise_value"] > 0),
            "ev": x["enterprise_value"].where(x["enterprise_value"] > 0),
            "growth": (x["eps"] / x["eps_prior"] - 1).where(x["eps_prior"] > 0),
        },
        index=x.index,
    )
    if fair is not None:
        f = fair.reindex(x.index)
        valued = f["fair_value"].notna()
        per["p_fv"] = f["price_to_fair_value"].where(valued)
        per["fair_equity"] = (f["fair_value"] * f["shares"]).where(valued)
    return per


def _measures(per: pd.DataFrame, count: int) -> dict[str, Any]:
    cap, earnings = per["cap"], per["earnings"]
    profitable = earnings > 0
    has_book, has_ev = per["book"].notna(), per["ev"].notna()
    both = per["earnings_prior"].notna()
    out: dict[str, Any] = {
        "count": count,
        "with_figures": len(per),
        "market_cap": float(cap.sum()),
        "total_net_income": float(earnings.sum()),
        "loss_makers": int((earnings <= 0).sum()),
        "loss_maker_share": float((earnings <= 0).mean()) if len(per) else float("nan"),
        "aggregate_earnings_yield": float(earnings.sum() / cap.sum()) if cap.sum() > 0 else float("nan"),
        "aggregate_earnings_yield_ex_losses": _ratio(earnings[profitable], cap[profitable]),
        "median_earnings_yield": _median(earnings / cap),
        "median_pe_ex_losses": _median((cap / earnings)[profitable]),
        "aggregate_pb": _ratio(cap[has_book], per["book"][has_book]),
        "median_pb": _median(cap / per["book"]),
        "aggregate_ebit_to_ev": _ratio(per["ebit"][has_ev], per["ev"][has_ev]),
        "median_ebit_to_ev": _median(per["ebit"] / per["ev"]),
        "aggregate_eps_growth": _ratio(earnings[both], per["earnings_prior"][both]) - 1,
        "median_eps_growth": _median(per["growth"]),
    }
    out["aggregate_pe"] = _inverse(out["aggregate_earnings_yield"])
    out["aggregate_pe_ex_losses"] = _inverse(out["aggregate_earnings_yield_ex_losses"])
    out["median_pe_with_losses"] = _inverse(out["median_earnings_yield"])
    if "p_fv" in per:
        valued = per["fair_equity"].notna()
        out["median_price_to_fair_value"] = _median(per["p_fv"])
        out["capweighted_price_to_fair_value"] = _ratio(cap[valued], per["fair_equity"][valued])
        out["valued"] = int(valued.sum())
    else:
        out["median_price_to_fair_value"] = out["capweighted_price_to_fair_value"] = float("nan")
        out["valued"] = 0
    return out


def group_measures(inputs: pd.DataFrame, fair: pd.DataFrame | None = None) -> dict[str, Any]:
    """Every measure of the module docstring for one group of companies.

    Parameters
    ----------
    inputs : pandas.DataFrame
        :func:`valuation_inputs` of the group's companies.
    fair : pandas.DataFrame, optional
        ``fair_value``, ``price_to_fair_value`` and ``shares`` of the same companies (a screen
        table); without it the price / fair value measures are missing.

    Returns
    -------
    dict
        ``count`` (companies), ``with_figures`` (with a fiscal year and a market cap),
        ``valued`` (with a fair value), ``market_cap``, ``total_net_income``, ``loss_makers``,
        ``loss_maker_share`` and the ratios of :data:`RATIOS`.
    """
    return _measures(_per_company(inputs, fair), len(inputs))


def compare(small: dict[str, Any], large: dict[str, Any]) -> dict[str, Any]:
    """Two groups' measures side by side with ``spread`` (small - large) and ``small_discount``
    (small / large - 1, only where both are positive) for every ratio."""
    return {
        "small": small,
        "large": large,
        "spread": {k: small[k] - large[k] for k in RATIOS},
        "small_discount": {
            k: small[k] / large[k] - 1 if small[k] > 0 and large[k] > 0 else float("nan")
            for k in RATIOS
        },
    }


def fiscal_year_mix(groups: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Which fiscal year each group's figures come from.

    Parameters
    ----------
    groups : dict of str to pandas.DataFrame
        Group name -> :func:`valuation_inputs`.

    Returns
    -------
    pandas.DataFrame
        ``group``, ``fiscal_year``, ``count``, ``share`` (of the group's companies with a
        fiscal year), fiscal years ascending.
    """
    rows = []
    for name, inputs in groups.items():
        years = inputs["fiscal_year"].dropna().astype(int)
        counts = years.value_counts().sort_index()
        for year, n in counts.items():
            rows.append({"group": name, "fiscal_year": int(year), "count": int(n), "share": n / len(years)})
    return pd.DataFrame(rows, columns=["group", "fiscal_year", "count", "share"])


def sector_groups(table: pd.DataFrame) -> dict[str, pd.Series]:
    """The thesis's groups as masks: manufacturers (and without life sciences), utilities, the rest."""
    manufacturing = table["manufacturing"].astype(bool)
    utilities = table["sector"] == "Utilities"
    return {
        "Manufacturers (SIC 2000-3999)": manufacturing,
        "Manufacturers excl. life sciences": manufacturing & ~table["life_sciences"].astype(bool),
        "Utilities": utilities,
        "Everything else": ~manufacturing & ~utilities,
    }


GROUP_COLUMNS = (
    "count",
    "valued",
    "median_price_to_fair_value",
    "capweighted_price_to_fair_value",
    "aggregate_ebit_to_ev",
    "median_ebit_to_ev",
    "aggregate_earnings_yield",
    "median_earnings_yield",
    "market_cap",
)


def _group_frame(table: pd.DataFrame, inputs: pd.DataFrame, masks: dict[str, pd.Series], key: str) -> pd.DataFrame:
    per = _per_company(inputs, table)
    rows = []
    for name, mask in masks.items():
        members = mask.to_numpy(dtype=bool)
        m = _measures(per[mask.reindex(per.index).to_numpy(dtype=bool)], int(members.sum()))
        rows.append({key: name, **{c: m[c] for c in GROUP_COLUMNS}})
    return pd.DataFrame(rows, columns=[key, *GROUP_COLUMNS])


def group_valuation(table: pd.DataFrame, inputs: pd.DataFrame) -> pd.DataFrame:
    """Manufacturers vs utilities vs everything else: price / fair value and, beside it, the
    model-free EBIT / EV and earnings yield.

    Parameters
    ----------
    table : pandas.DataFrame
        A screen table (``sector``, ``manufacturing``, ``life_sciences``, ``fair_value``,
        ``price_to_fair_value``, ``shares``, ``market_cap``).
    inputs : pandas.DataFrame
        :func:`valuation_inputs` of the same companies.

    Returns
    -------
    pandas.DataFrame
        ``group`` and the columns of :data:`GROUP_COLUMNS`, one row per group of
        :func:`sector_groups`, then ``All``.
    """
    masks = {**sector_groups(table), "All": pd.Series(True, index=table.index)}
    return _group_frame(table, inputs, masks, "group")


def sector_valuation(table: pd.DataFrame, inputs: pd.DataFrame) -> pd.DataFrame:
    """:func:`group_valuation` per sector, cheapest cap-weighted price / fair value first, then ``All``."""
    masks = {str(s): table["sector"] == s for s in sorted(table["sector"].dropna().unique())}
    frame = _group_frame(table, inputs, masks, "sector").sort_values(
        ["capweighted_price_to_fair_value", "sector"], na_position="last"
    )
    total = _group_frame(table, inputs, {"All": pd.Series(True, index=table.index)}, "sector")
    return pd.concat([frame, total], ignore_index=True)


def thesis_monitor(
    table: pd.DataFrame,
    fundamentals: pd.DataFrame,
    as_of: pd.Timestamp,
    small: pd.Index | None = None,
    large: pd.Index | None = None,
) -> dict[str, Any]:
    """Every figure of ``rotation valuation`` for one date.

    Parameters
    ----------
    table : pandas.DataFrame
        The screen table of the universe examined (``ScreenResult.table``).
    fundamentals : pandas.DataFrame
        The universe's point-in-time fundamentals.
    as_of : pandas.Timestamp
    small, large : pandas.Index, optional
        Tickers of the small and large caps (us-small and us-large on ``as_of``); without
        them there is no small-vs-large comparison.

    Returns
    -------
    dict
        ``as_of``; ``small_vs_large`` (None without ``small`` and ``large``) with ``latest``
        and ``aligned`` (each :func:`compare`; ``aligned`` also has its ``window``);
        ``fiscal_years`` (:func:`fiscal_year_mix` of small and large, a DataFrame);
        ``groups`` (:func:`group_valuation`); ``sectors`` (:func:`sector_valuation`);
        ``disclosures`` (:data:`DISCLOSURES`).
    """
    latest = valuation_inputs(table, fundamentals)
    out: dict[str, Any] = {
        "as_of": pd.Timestamp(as_of),
        "small_vs_large": None,
        "fiscal_years": None,
        "groups": group_valuation(table, latest),
        "sectors": sector_valuation(table, latest),
        "disclosures": list(DISCLOSURES),
    }
    if small is None or large is None:
        return out
    small = table.index.intersection(small)
    large = table.index.intersection(large)
    window = aligned_window(as_of)
    aligned = valuation_inputs(table, fundamentals, window)
    out["small_vs_large"] = {
        "latest": compare(
            group_measures(latest.loc[small], table.loc[small]),
            group_measures(latest.loc[large], table.loc[large]),
        ),
        "aligned": {
            "window": [window[0], window[1]],
            **compare(
                group_measures(aligned.loc[small], table.loc[small]),
                group_measures(aligned.loc[large], table.loc[large]),
            ),
        },
    }
    out["fiscal_years"] = fiscal_year_mix({"small": latest.loc[small], "large": latest.loc[large]})
    return out


#: The figures of one history point (:func:`history_point`), in order.
HISTORY_COLUMNS = (
    "as_of",
    "small_count",
    "large_count",
    "small_aggregate_pe_ex_losses",
    "large_aggregate_pe_ex_losses",
    "small_aggregate_earnings_yield",
    "large_aggregate_earnings_yield",
    "small_median_pb",
    "large_median_pb",
    "small_aggregate_ebit_to_ev",
    "large_aggregate_ebit_to_ev",
    "small_median_price_to_fair_value",
    "large_median_price_to_fair_value",
    "manufacturers_median_price_to_fair_value",
    "utilities_median_price_to_fair_value",
    "everything_else_median_price_to_fair_value",
    "manufacturers_aggregate_ebit_to_ev",
    "utilities_aggregate_ebit_to_ev",
    "everything_else_aggregate_ebit_to_ev",
)


def history_point(monitor: dict[str, Any]) -> dict[str, Any]:
    """The figures of one :func:`thesis_monitor` result that the history follows (``HISTORY_COLUMNS``)."""
    row: dict[str, Any] = {"as_of": monitor["as_of"]}
    svl = monitor["small_vs_large"]
    for side in ("small", "large"):
        m = svl["latest"][side] if svl else {}
        row[f"{side}_count"] = m.get("count", 0)
        for k in ("aggregate_pe_ex_losses", "aggregate_earnings_yield", "median_pb", "aggregate_ebit_to_ev", "median_price_to_fair_value"):
            row[f"{side}_{k}"] = m.get(k, float("nan"))
    groups = monitor["groups"].set_index("group")
    for name, label in (
        ("manufacturers", "Manufacturers (SIC 2000-3999)"),
        ("utilities", "Utilities"),
        ("everything_else", "Everything else"),
    ):
        row[f"{name}_median_price_to_fair_value"] = float(groups.at[label, "median_price_to_fair_value"])
        row[f"{name}_aggregate_ebit_to_ev"] = float(groups.at[label, "aggregate_ebit_to_ev"])
    return {k: row[k] for k in HISTORY_COLUMNS}


#: The lines of the history chart: label -> history column.
CHART_SERIES = {
    "P/E small (ex losses)": "small_aggregate_pe_ex_losses",
    "P/E large (ex losses)": "large_aggregate_pe_ex_losses",
    "P/FV manufacturers": "manufacturers_median_price_to_fair_value",
    "P/FV utilities": "utilities_median_price_to_fair_value",
    "P/FV everything else": "everything_else_median_price_to_fair_value",
}


def history_chart(history: pd.DataFrame) -> dict[str, Any]:
    """The history as plain data for a chart in the app.

    Parameters
    ----------
    history : pandas.DataFrame
        One row per date, the columns of :data:`HISTORY_COLUMNS`.

    Returns
    -------
    dict
        ``dates`` (ISO strings) and ``series``: label -> list of floats (None where missing),
        one per date (the labels of :data:`CHART_SERIES`).
    """
    dates = [pd.Timestamp(d).date().isoformat() for d in history["as_of"]]
    series = {
        label: [None if pd.isna(v) else float(v) for v in history[column]]
        for label, column in CHART_SERIES.items()
    }
    return {"dates": dates, "series": series}
