"""Rate-cut diligence: what a company pays on its debt, how much of it floats, what a cut is worth.

Per company, from the latest fiscal year published by the as-of date (*t*) and the year
before (*t-1*):

* ``debt`` = short-term + long-term debt (a missing line counts as 0 when the other is given).
* ``net_debt`` = ``debt`` - cash and short-term investments (negative: net cash).
* ``implied_rate`` = net interest expense / average debt (the debt at the start and end of the
  year; the end alone when the start is missing). Missing without debt, when the company has
  net interest *income* (``interest_expense`` <= 0: it earns more on its cash than it pays),
  and above :data:`MAX_IMPLIED_RATE` (interest on debt the balance sheets do not show, such as
  debt repaid within the year: no rate can be read off them).
* ``implied_rate_change`` = ``implied_rate`` (t) - ``implied_rate`` (t-1).
* ``policy_rate_change``: the average federal funds target (the midpoint of the FOMC's range,
  :data:`POLICY_RATE_CHANGES`) over fiscal year *t* less over *t-1*, each the 365 days to the
  year's end.
* ``floating_share`` = ``implied_rate_change`` / ``policy_rate_change``, clipped to 0-1: the
  share of the debt whose rate followed the policy rate, a floating-rate proxy. Measured only
  when the policy rate moved by at least :data:`MIN_POLICY_MOVE` between the two years (else
  fixed and floating debt look alike) and both implied rates exist; 0 without debt; missing
  otherwise (never assumed).
* ``interest_coverage``: :func:`screener.quality.interest_coverage` (EBIT / net interest,
  capped at 100, the cap also when there is no net interest to pay).
* ``debt_to_ebitda`` = debt / (EBIT + D&A) when EBITDA > 0; ``LEVERAGE_CAP`` (99) with debt
  and no positive EBITDA; 0 without debt.
* The effect of a **100 bp cut** on earnings: floating debt costs 1% less, and cash (with
  short-term investments, assumed to re-price with the policy rate: ``cash_repricing`` = 1)
  earns 1% less, after tax (``tax_rate``, 21% by default)::

      gain = 0.01 x (floating_share x debt - cash_repricing x cash) x (1 - tax_rate)

  ``eps_gain_100bp`` = gain / shares (USD per share); ``eps_gain_100bp_pct`` = gain / net
  income (profitable companies only); ``rate_cut_gain`` = gain / market cap, the earnings
  yield a cut adds (defined for loss-makers too: the screen's factor). A net-cash company
  *loses* earnings on a cut.

What the data cannot see: the source's interest expense is net of interest income, so a
company with much cash shows a lower implied rate and a smaller change (its floating share is
understated); debt that changed a lot within the year distorts the average; hedges (swaps)
are invisible; a company whose fiscal years are not consecutive has no change.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from screener.panel import safe_div
from screener.quality import LEVERAGE_CAP, interest_coverage

#: Changes of the FOMC's target range for the federal funds rate: effective date, low, high (%).
#: Source: Board of Governors of the Federal Reserve System, "The Fed Explained", chart "FOMC's
#: target range for the federal funds rate" (federalreserve.gov/aboutthefed/fedexplained);
#: the range was 5.25-5.50% from 2023-07-27 to the source's last date, 2024-06-13
#: (:data:`POLICY_RATE_KNOWN_UNTIL`). Extend the table to measure later fiscal years.
POLICY_RATE_CHANGES: tuple[tuple[str, float, float], ...] = (
    ("2017-06-15", 1.00, 1.25),
    ("2017-12-14", 1.25, 1.50),
    ("2018-03-22", 1.50, 1.75),
    ("2018-06-14", 1.75, 2.00),
    ("2018-09-27", 2.00, 2.25),
    ("2018-12-20", 2.25, 2.50),
    ("2019-08-01", 2.00, 2.25),
    ("2019-09-19", 1.75, 2.00),
    ("2019-10-31", 1.50, 1.75),
    ("2020-03-04", 1.00, 1.25),
    ("2020-03-16", 0.00, 0.25),
    ("2022-03-17", 0.25, 0.50),
    ("2022-05-05", 0.75, 1.00),
    ("2022-06-16", 1.50, 1.75),
    ("2022-07-28", 2.25, 2.50),
    ("2022-09-22", 3.00, 3.25),
    ("2022-11-03", 3.75, 4.00),
    ("2022-12-15", 4.25, 4.50),
    ("2023-02-02", 4.50, 4.75),
    ("2023-03-23", 4.75, 5.00),
    ("2023-05-04", 5.00, 5.25),
    ("2023-07-27", 5.25, 5.50),
)
#: The last day the table is known to hold (a fiscal year ending later has no policy average).
POLICY_RATE_KNOWN_UNTIL = "2024-06-13"
#: The policy rate must move at least this much between two fiscal years to measure a floating share.
MIN_POLICY_MOVE = 0.01
#: An implied rate above this is not a rate (see the module docstring).
MAX_IMPLIED_RATE = 0.25
#: The cut whose effect is measured (100 basis points).
CUT = 0.01

#: The columns :func:`rate_metrics` returns.
RATE_COLUMNS = (
    "debt",
    "net_debt",
    "implied_rate",
    "implied_rate_prior",
    "implied_rate_change",
    "policy_rate_change",
    "floating_share",
    "floating_debt",
    "interest_coverage",
    "debt_to_ebitda",
    "eps_gain_100bp",
    "eps_gain_100bp_pct",
    "rate_cut_gain",
)


def policy_rate_average(period_end: pd.Series) -> pd.Series:
    """Average federal funds target midpoint (a fraction) over the 365 days to each date.

    Dates whose year the table does not cover (before mid-2018, after
    :data:`POLICY_RATE_KNOWN_UNTIL`) give missing values.
    """
    starts = pd.to_datetime([d for d, _, _ in POLICY_RATE_CHANGES]).to_numpy("datetime64[D]")
    levels = np.array([(lo + hi) / 200 for _, lo, hi in POLICY_RATE_CHANGES])
    days = np.arange(starts[0], np.datetime64(POLICY_RATE_KNOWN_UNTIL, "D") + 1)
    daily = levels[np.searchsorted(starts, days, side="right") - 1]
    cumulative = np.r_[0.0, np.cumsum(daily)]
    ends = pd.to_datetime(period_end).to_numpy("datetime64[D]")
    known = ~np.isnat(ends)
    hi = np.searchsorted(days, ends[known], side="right")
    lo = hi - 365
    out = np.full(len(ends), np.nan)
    inside = (lo >= 0) & (ends[known] <= days[-1])
    values = (cumulative[hi[inside]] - cumulative[lo[inside]]) / 365
    idx = np.flatnonzero(known)[inside]
    out[idx] = values
    return pd.Series(out, index=period_end.index)


def _total_debt(frame: pd.DataFrame) -> pd.Series:
    short, long = frame["short_term_debt"], frame["long_term_debt"]
    return short.fillna(0.0) + long.fillna(0.0)


def rate_metrics(
    fundamentals: pd.DataFrame,
    companies: pd.DataFrame,
    *,
    tax_rate: float = 0.21,
    cash_repricing: float = 1.0,
) -> pd.DataFrame:
    """Implied interest rate, its change, floating share, coverage, leverage and cut sensitivity.

    Parameters
    ----------
    fundamentals : pandas.DataFrame
        Point-in-time fiscal years in the snapshot schema (``Universe.fundamentals``).
    companies : pandas.DataFrame
        Indexed by ticker, with ``shares`` and ``market_cap``: the companies to return.
    tax_rate : float
        Tax on the interest saved (and on the interest income lost).
    cash_repricing : float
        Share of cash and short-term investments whose yield follows the policy rate.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``companies``, the columns of :data:`RATE_COLUMNS` (see the module
        docstring); rates and shares as fractions.
    """
    tickers = companies.index
    f = fundamentals[fundamentals["ticker"].isin(tickers)].sort_values(["ticker", "fiscal_year"])
    f = f.assign(debt=_total_debt(f).where(f["short_term_debt"].notna() | f["long_term_debt"].notna()))
    # Each company's years are consecutive rows of the sorted table: its first and last row,
    # and the year before each row where the company published it.
    ticker = f["ticker"].to_numpy()
    first = np.ones(len(f), dtype=bool)
    first[1:] = ticker[1:] != ticker[:-1]
    last = np.ones(len(f), dtype=bool)
    last[:-1] = first[1:]
    year = f["fiscal_year"].to_numpy(dtype="float64")
    follows = ~first & (year - np.roll(year, 1) == 1)
    f["year_start_debt"] = np.where(follows, np.roll(f["debt"].to_numpy(dtype="float64"), 1), np.nan)
    average = f[["debt", "year_start_debt"]].mean(axis=1, skipna=True).where(f["debt"].notna())
    interest = f["interest_expense"]
    rate = safe_div(interest, average.where(average > 0)).where(interest > 0)
    f["implied_rate"] = rate.where(rate <= MAX_IMPLIED_RATE)
    f["policy_rate"] = policy_rate_average(f["period_end"])
    latest = f[last].set_index("ticker")
    second_last = np.zeros(len(f), dtype=bool)
    second_last[:-1] = last[1:] & ~first[1:]
    prior_rows = f[second_last].set_index("ticker")
    prior = prior_rows[prior_rows["fiscal_year"].reindex(prior_rows.index) == latest["fiscal_year"].reindex(prior_rows.index) - 1]
    latest = latest.reindex(tickers)
    prior = prior.reindex(tickers)

    debt = latest["debt"]
    change = latest["implied_rate"] - prior["implied_rate"]
    policy_change = latest["policy_rate"] - prior["policy_rate"]
    measurable = policy_change.abs() >= MIN_POLICY_MOVE
    floating = safe_div(change, policy_change).clip(0.0, 1.0).where(measurable)
    floating = floating.where(~(debt.fillna(0.0) <= 0), 0.0)
    floating_debt = floating * debt.fillna(0.0)

    ebitda = latest["operating_income"] + latest["da"].fillna(0.0)
    leverage = safe_div(debt, ebitda.where(ebitda > 0)).clip(upper=LEVERAGE_CAP)
    leverage = leverage.where(~((ebitda <= 0) & (debt > 0)), LEVERAGE_CAP)
    leverage = leverage.where(~(debt.fillna(0.0) <= 0), 0.0)

    gain = CUT * (floating_debt - cash_repricing * latest["cash"].fillna(0.0)) * (1 - tax_rate)
    net_income = latest["net_income"]
    return pd.DataFrame(
        {
            "debt": debt,
            "net_debt": debt - latest["cash"],
            "implied_rate": latest["implied_rate"],
            "implied_rate_prior": prior["implied_rate"],
            "implied_rate_change": change,
            "policy_rate_change": policy_change,
            "floating_share": floating,
            "floating_debt": floating_debt.where(floating.notna()),
            "interest_coverage": interest_coverage(latest),
            "debt_to_ebitda": leverage,
            "eps_gain_100bp": safe_div(gain, companies["shares"]),
            "eps_gain_100bp_pct": safe_div(gain, net_income.where(net_income > 0)),
            "rate_cut_gain": safe_div(gain, companies["market_cap"]),
        },
        index=tickers,
    )


def portfolio_rate_sensitivity(weights: pd.Series, rates: pd.DataFrame, companies: pd.DataFrame) -> dict[str, Any]:
    """What a 100 bp cut does to a portfolio's look-through earnings.

    Parameters
    ----------
    weights : pandas.Series
        Portfolio weights by ticker (fractions of the portfolio's value; cash left out).
    rates : pandas.DataFrame
        :func:`rate_metrics` of (at least) the tickers held.
    companies : pandas.DataFrame
        ``net_income`` and ``market_cap`` by ticker (a screen table has them).

    Returns
    -------
    dict
        ``earnings_yield_gain``: after-tax earnings a cut adds per dollar invested, summed
        over the names with a figure (0.0003 = 3 bp); ``earnings_yield``: the same names'
        look-through earnings per dollar (net income / market cap, weighted);
        ``earnings_change``: their ratio, the change of the portfolio's earnings (missing when
        its earnings are not positive); ``invested``: the weights' sum; ``covered``: the
        weight of names with a figure; ``net_cash_weight`` and ``net_debt_weight``: the weight
        in names whose cash exceeds their debt and in those whose debt does not (names without
        a net debt figure in neither); ``floating_debt_to_value``:
        floating debt per dollar invested; ``contributions``: per name ``ticker``, ``weight``,
        ``rate_cut_gain``, ``contribution``, largest in size first.
    """
    w = weights[weights.abs() > 0].astype("float64")
    r = rates.reindex(w.index)
    c = companies.reindex(w.index)
    gain = r["rate_cut_gain"]
    covered = gain.notna()
    yield_ = safe_div(c["net_income"], c["market_cap"])
    earning = float((w[covered] * yield_[covered].fillna(0.0)).sum())
    gained = float((w[covered] * gain[covered]).sum())
    net_debt = r["net_debt"]
    contributions = pd.DataFrame(
        {"ticker": w.index, "weight": w.to_numpy(), "rate_cut_gain": gain.to_numpy(), "contribution": (w * gain).to_numpy()}
    )
    order = contributions["contribution"].abs().sort_values(ascending=False, na_position="last").index
    return {
        "earnings_yield_gain": gained,
        "earnings_yield": earning,
        "earnings_change": gained / earning if earning > 0 else float("nan"),
        "invested": float(w.sum()),
        "covered": float(w[covered].sum()),
        "net_cash_weight": float(w[net_debt < 0].sum()),
        "net_debt_weight": float(w[net_debt >= 0].sum()),
        "floating_debt_to_value": float((w * safe_div(r["floating_debt"], c["market_cap"])).sum()),
        "contributions": contributions.loc[order].reset_index(drop=True),
    }
