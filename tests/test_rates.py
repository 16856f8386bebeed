"""Rate-cut diligence: the policy-rate table, each company figure against a hand computation, and
the default screen's exposure on the real snapshot."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from screener import load_screen, run_screen
from screener.rate_cuts import (
    MAX_IMPLIED_RATE,
    POLICY_RATE_CHANGES,
    RATE_COLUMNS,
    policy_rate_average,
    portfolio_rate_sensitivity,
    rate_metrics,
)
from universes import load_universe

# Synthetic companies (this file's formula tests say so): round numbers a person can follow.
#   A: debt 100 at the end of FY2021, FY2022 and FY2023; interest 3 in FY2022, 6 in FY2023;
#      cash 20, 10 shares, net income 5, market cap 50; EBIT 12, D&A 3.
#   B: no debt, cash 40, interest -1 (net interest income), net income 4, 8 shares, cap 80.
#   C: debt 50, net interest income: no implied rate, no floating share.
YEARS = {
    "A": [(2021, 100.0, 2.0, 20.0), (2022, 100.0, 3.0, 20.0), (2023, 100.0, 6.0, 20.0)],
    "B": [(2022, 0.0, -0.5, 40.0), (2023, 0.0, -1.0, 40.0)],
    "C": [(2022, 50.0, -0.2, 60.0), (2023, 50.0, -0.4, 60.0)],
}


def synthetic() -> tuple[pd.DataFrame, pd.DataFrame]:
    rows = []
    for ticker, years in YEARS.items():
        for year, debt, interest, cash in years:
            rows.append(
                {
                    "ticker": ticker,
                    "fiscal_year": year,
                    "period_end": pd.Timestamp(f"{year}-12-31"),
                    "short_term_debt": debt * 0.2,
                    "long_term_debt": debt * 0.8,
                    "interest_expense": interest,
                    "cash": cash,
                    "operating_income": 12.0,
                    "da": 3.0,
                    "net_income": {"A": 5.0, "B": 4.0, "C": 2.0}[ticker],
                }
            )
    companies = pd.DataFrame(
        {"shares": [10.0, 8.0, 5.0], "market_cap": [50.0, 80.0, 30.0]}, index=["A", "B", "C"]
    )
    return pd.DataFrame(rows), companies


def test_policy_rate_average_by_hand() -> None:
    # 2023: 4.375% to Feb 1 (32 days), 4.625% (49), 4.875% (42), 5.125% (84), 5.375% (158).
    by_hand = (32 * 4.375 + 49 * 4.625 + 42 * 4.875 + 84 * 5.125 + 158 * 5.375) / 365 / 100
    ends = pd.Series(pd.to_datetime(["2023-12-31", "2021-12-31", "2017-12-31", "2024-12-31"]))
    got = policy_rate_average(ends)
    assert got[0] == pytest.approx(by_hand, abs=1e-12)
    assert got[1] == pytest.approx(0.00125)  # 0-0.25% all year
    assert np.isnan(got[2]) and np.isnan(got[3])  # outside the table
    assert [d for d, _, _ in POLICY_RATE_CHANGES] == sorted(d for d, _, _ in POLICY_RATE_CHANGES)


def test_company_figures_by_hand() -> None:
    fundamentals, companies = synthetic()
    r = rate_metrics(fundamentals, companies)
    assert list(r.columns) == list(RATE_COLUMNS)
    policy = policy_rate_average(pd.Series(pd.to_datetime(["2023-12-31", "2022-12-31"])))
    move = policy[0] - policy[1]
    a = r.loc["A"]
    assert a["debt"] == 100.0
    assert a["implied_rate"] == pytest.approx(0.06) and a["implied_rate_prior"] == pytest.approx(0.03)
    assert a["policy_rate_change"] == pytest.approx(move)
    assert a["floating_share"] == pytest.approx(0.03 / move)  # 0.90
    gain = 0.01 * (0.03 / move * 100 - 20) * (1 - 0.21)
    assert a["eps_gain_100bp"] == pytest.approx(gain / 10)
    assert a["eps_gain_100bp_pct"] == pytest.approx(gain / 5)
    assert a["rate_cut_gain"] == pytest.approx(gain / 50)
    assert a["interest_coverage"] == pytest.approx(2.0)  # 12 / 6
    assert a["debt_to_ebitda"] == pytest.approx(100 / 15)
    b = r.loc["B"]  # no debt: nothing floats, its cash earns 1% less
    assert b["floating_share"] == 0.0 and np.isnan(b["implied_rate"])
    assert b["rate_cut_gain"] == pytest.approx(-0.01 * 40 * 0.79 / 80)
    assert b["debt_to_ebitda"] == 0.0 and b["interest_coverage"] == 100.0
    c = r.loc["C"]  # debt but net interest income: the floating share cannot be read
    assert np.isnan(c["floating_share"]) and np.isnan(c["rate_cut_gain"])


def test_an_implausible_rate_is_not_a_rate() -> None:
    fundamentals, companies = synthetic()
    fundamentals.loc[(fundamentals["ticker"] == "A") & (fundamentals["fiscal_year"] == 2023), "interest_expense"] = 40.0
    r = rate_metrics(fundamentals, companies)
    assert MAX_IMPLIED_RATE < 40.0 / 100 and np.isnan(r.at["A", "implied_rate"])


def test_portfolio_sensitivity_by_hand() -> None:
    fundamentals, companies = synthetic()
    r = rate_metrics(fundamentals, companies)
    info = companies.assign(net_income=[5.0, 4.0, 2.0], net_debt=[80.0, -40.0, -10.0])
    weights = pd.Series({"A": 0.5, "B": 0.3, "C": 0.2})
    p = portfolio_rate_sensitivity(weights, r, info)
    gained = 0.5 * r.at["A", "rate_cut_gain"] + 0.3 * r.at["B", "rate_cut_gain"]
    earning = 0.5 * 5 / 50 + 0.3 * 4 / 80
    assert p["earnings_yield_gain"] == pytest.approx(gained)
    assert p["earnings_yield"] == pytest.approx(earning)
    assert p["earnings_change"] == pytest.approx(gained / earning)
    assert p["covered"] == pytest.approx(0.8) and p["invested"] == pytest.approx(1.0)
    assert p["net_cash_weight"] == pytest.approx(0.5) and p["net_debt_weight"] == pytest.approx(0.5)
    assert list(p["contributions"]["ticker"]) == ["A", "B", "C"]  # largest in size first, unknown last


def test_the_default_screen_is_mostly_net_cash_and_loses_from_a_cut() -> None:
    """Issue 15: the default screen's best names have almost no exposure to "rate cuts help
    indebted firms"; equal-weighted, the top 20 earn less after a cut."""
    universe = load_universe("us-small-manufacturing")
    result = run_screen(universe, load_screen())
    top = result.top(20)
    rates = rate_metrics(universe.fundamentals, universe.companies)
    p = portfolio_rate_sensitivity(pd.Series(1 / 20, index=top.index), rates, result.table)
    assert p["net_cash_weight"] >= 0.6
    assert p["earnings_yield_gain"] < 0
    everyone = rates["floating_share"].notna()
    assert everyone.mean() > 0.7  # the floating share is measured for most of the universe
