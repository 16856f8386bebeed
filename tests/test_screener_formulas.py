"""Each formula against a hand computation on SYNTHETIC companies (see tests/synthetic.py)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from synthetic import companies, fundamentals

from screener import Screen, ValuationAssumptions
from screener.run import compute_table


def table_for(funds: pd.DataFrame, comps: pd.DataFrame, **assumptions) -> pd.DataFrame:
    screen = Screen(
        weights={"price_to_fair_value": 1.0}, assumptions=ValuationAssumptions(**assumptions)
    )
    return compute_table(comps, funds, screen)


def two_years(
    ticker: str = "AAA", prior: dict | None = None, latest: dict | None = None
) -> pd.DataFrame:
    return fundamentals(
        {"ticker": ticker, "fiscal_year": 2022, **(prior or {})},
        {"ticker": ticker, "fiscal_year": 2023, **(latest or {})},
    )


def test_piotroski_all_nine_pass() -> None:
    f = two_years(
        prior={
            "net_income": 3.0,
            "operating_cash_flow": 5.0,
            "long_term_debt": 20.0,
            "current_assets": 40.0,
            "gross_profit": 45.0,
            "revenue": 120.0,
            "shares_basic": 11.0,
        },
        latest={
            "net_income": 6.0,
            "operating_cash_flow": 12.0,
            "long_term_debt": 15.0,
            "current_assets": 50.0,
            "gross_profit": 60.0,
            "revenue": 150.0,
            "shares_basic": 10.0,
        },
    )
    t = table_for(f, companies({"AAA": {}}))
    assert t.loc["AAA", "piotroski_f"] == 9
    assert t.loc["AAA", "piotroski_available"] == 9


def test_piotroski_all_fail() -> None:
    f = two_years(
        prior={
            "net_income": 6.0,
            "long_term_debt": 5.0,
            "current_assets": 60.0,
            "gross_profit": 70.0,
            "shares_basic": 9.0,
        },
        latest={
            "net_income": -4.0,
            "operating_cash_flow": -5.0,
            "long_term_debt": 30.0,
            "current_assets": 30.0,
            "gross_profit": 30.0,
            "revenue": 100.0,
            "shares_basic": 12.0,
        },
    )
    t = table_for(f, companies({"AAA": {}}))
    # CFO (-5) < NI (-4) also fails the accrual signal.
    assert t.loc["AAA", "piotroski_f"] == 0


def test_missing_prior_year_gives_a_defined_score() -> None:
    f = fundamentals({"ticker": "NEW", "fiscal_year": 2023})
    t = table_for(f, companies({"NEW": {}}))
    # Only ROA > 0, CFO > 0 and CFO > NI can be computed; the six comparisons score 0.
    assert t.loc["NEW", "piotroski_available"] == 3
    assert t.loc["NEW", "piotroski_f"] == 3
    assert math.isnan(t.loc["NEW", "beneish_m"])
    assert t.loc["NEW", "beneish_flag"] == "n/a"
    assert t.loc["NEW", "z_zone"] == "safe"  # Altman needs one year only


def test_altman_1968_for_manufacturers_and_z2_for_others() -> None:
    f = fundamentals({"ticker": "MFG", "fiscal_year": 2023}, {"ticker": "SVC", "fiscal_year": 2023})
    comps = companies(
        {
            "MFG": {"sic": 3560, "price": 8.0, "shares": 10.0},
            "SVC": {"sic": 7370, "price": 8.0, "shares": 10.0},
        }
    )
    t = table_for(f, comps)
    # X1 = (50-20)/100, X2 = 30/100, X3 = 10/100, X4 = 80/40 (market) or 60/40 (book), X5 = 150/100
    z = 1.2 * 0.3 + 1.4 * 0.3 + 3.3 * 0.1 + 0.6 * 2.0 + 1.0 * 1.5
    z2 = 6.56 * 0.3 + 3.26 * 0.3 + 6.72 * 0.1 + 1.05 * 1.5
    assert t.loc["MFG", "altman_z"] == pytest.approx(z)
    assert t.loc["MFG", "altman_model"] == "Z" and t.loc["MFG", "z_zone"] == "safe"
    assert t.loc["SVC", "altman_z"] == pytest.approx(z2)
    assert t.loc["SVC", "altman_model"] == "Z''"
    assert math.isnan(t.loc["SVC", "z_x5"])


def test_altman_zones_at_the_cut_offs() -> None:
    from screener.quality import _zone

    z = pd.Series([1.80, 1.81, 2.99, 3.0, np.nan])
    assert list(_zone(z, (1.81, 2.99))) == ["distress", "grey", "grey", "safe", "n/a"]


def test_ratios_by_hand() -> None:
    t = table_for(two_years(), companies({"AAA": {}}))
    row = t.loc["AAA"]
    assert row["interest_coverage"] == pytest.approx(10.0 / 2.0)
    assert row["net_debt_to_ebitda"] == pytest.approx((5 + 15 - 10) / (10 + 5))
    assert row["current_ratio"] == pytest.approx(50 / 20)
    assert row["sloan_accruals"] == pytest.approx((6 - 12) / 100)
    assert row["gross_profitability"] == pytest.approx(60 / 100)


def test_beneish_with_two_identical_years() -> None:
    t = table_for(two_years(), companies({"AAA": {}}))
    row = t.loc["AAA"]
    for index in ("dsri", "gmi", "aqi", "sgi", "depi", "sgai", "lvgi"):
        assert row[index] == pytest.approx(1.0)
    tata = (6 - 12) / 100
    expected = -4.84 + 0.920 + 0.528 + 0.404 + 0.892 + 0.115 - 0.172 - 0.327 + 4.679 * tata
    assert row["beneish_m"] == pytest.approx(expected)
    assert row["beneish_flag"] == "unlikely"


def test_earnings_power_value_by_hand() -> None:
    f = fundamentals(
        {"ticker": "AAA", "fiscal_year": 2021, "revenue": 100.0, "operating_income": 5.0},
        {"ticker": "AAA", "fiscal_year": 2022, "revenue": 120.0, "operating_income": 18.0},
        {"ticker": "AAA", "fiscal_year": 2023, "revenue": 150.0, "operating_income": 10.0},
    )
    t = table_for(f, companies({"AAA": {}}), cost_of_capital=0.10, tax_rate=0.20)
    margin = (0.05 + 0.15 + 10 / 150) / 3
    epv = margin * 150 * 0.8 / 0.10 + 10 - 20
    assert t.loc["AAA", "fv_epv"] == pytest.approx(epv / 10)


def test_dcf_with_constant_growth_equals_the_perpetuity() -> None:
    g, r = 0.03, 0.09
    t = table_for(
        two_years(),
        companies({"AAA": {}}),
        discount_rate=r,
        terminal_growth=g,
        min_growth=g,
        max_growth=g,
    )
    fcf0 = 12.0 - 4.0  # operating cash flow - average capex
    ev = fcf0 * (1 + g) / (r - g)
    assert t.loc["AAA", "fv_dcf"] == pytest.approx((ev + 10 - 20) / 10)


def test_reverse_dcf_recovers_the_growth_in_the_price() -> None:
    from screener.fair_value import _dcf_enterprise_value

    a = ValuationAssumptions()
    ev = _dcf_enterprise_value(np.array([8.0]), np.array([0.07]), a)[0]
    price = (ev + 10 - 20) / 10
    t = table_for(two_years(), companies({"AAA": {"price": price}}))
    assert t.loc["AAA", "implied_growth"] == pytest.approx(0.07, abs=1e-6)


def test_reverse_dcf_reports_when_the_price_is_out_of_range() -> None:
    t = table_for(two_years(), companies({"AAA": {"price": 1e6}}))
    assert math.isnan(t.loc["AAA", "implied_growth"])
    assert t.loc["AAA", "implied_growth_note"] == "price implies > +100%"


def test_graham_number_and_the_floor() -> None:
    t = table_for(two_years(), companies({"AAA": {}}))
    eps, bvps = 6 / 10, 60 / 10
    graham = math.sqrt(22.5 * eps * bvps)
    assert t.loc["AAA", "fv_graham"] == pytest.approx(graham)
    primary = t.loc["AAA", ["fv_epv", "fv_multiples", "fv_dcf"]].astype(float)
    assert t.loc["AAA", "fair_value"] == pytest.approx(max(np.nanmedian(primary), graham))


def test_multiples_use_peer_medians() -> None:
    # Three peers in one sector/industry, min_peers=3: medians from the three of them.
    f = fundamentals(*({"ticker": t, "fiscal_year": 2023} for t in ("P1", "P2", "P3")))
    comps = companies({"P1": {"price": 4.0}, "P2": {"price": 8.0}, "P3": {"price": 12.0}})
    t = table_for(f, comps, min_peers=3)
    ev = comps["market_cap"] + 20 - 10
    assert t.loc["P1", "peer_ev_to_ebit"] == pytest.approx(np.median(ev / 10))
    assert t.loc["P1", "peer_price_to_book"] == pytest.approx(np.median(comps["market_cap"] / 60))
    v_ev = (np.median(ev / 10) * 10 - 20 + 10) / 10
    v_pb = np.median(comps["market_cap"] / 60) * 60 / 10
    assert t.loc["P1", "fv_multiples"] == pytest.approx((v_ev + v_pb) / 2)


def test_negative_equity_has_defined_results() -> None:
    f = fundamentals(
        {
            "ticker": "NEG",
            "fiscal_year": 2023,
            "total_equity": -20.0,
            "total_liabilities": 120.0,
            "retained_earnings": -80.0,
        }
    )
    t = table_for(f, companies({"NEG": {"sic": 7370}}))
    row = t.loc["NEG"]
    assert (
        math.isnan(row["fv_graham"])
        and math.isnan(row["fv_pb"])
        and math.isnan(row["price_to_book"])
    )
    assert row["z_x4"] == pytest.approx(-20 / 120)
    assert row["z_zone"] in ("distress", "grey", "safe")


def test_zero_revenue_has_defined_results() -> None:
    f = two_years(
        ticker="ZRO",
        prior={
            "revenue": 0.0,
            "gross_profit": 0.0,
            "cogs": 0.0,
            "operating_income": -10.0,
            "net_income": -10.0,
        },
        latest={
            "revenue": 0.0,
            "gross_profit": 0.0,
            "cogs": 0.0,
            "operating_income": -12.0,
            "net_income": -12.0,
            "operating_cash_flow": -9.0,
        },
    )
    t = table_for(f, companies({"ZRO": {}}))
    row = t.loc["ZRO"]
    assert row["f_delta_margin"] == 0 and row["f_delta_turnover"] == 0
    assert row["sgi"] == 1.0 and row["dsri"] == 1.0 and row["gmi"] == 1.0
    assert not math.isnan(row["beneish_m"])
    assert math.isnan(row["fv_epv"])  # no positive normalised earnings
    assert math.isnan(row["fv_dcf"])  # negative free cash flow
    assert row["implied_growth_note"] == "FCF <= 0"


def test_negative_ebit_has_defined_results() -> None:
    f = two_years(latest={"operating_income": -5.0, "da": 2.0})
    t = table_for(f, companies({"AAA": {}}))
    row = t.loc["AAA"]
    assert row["interest_coverage"] == pytest.approx(-5.0 / 2.0)
    assert row["net_debt_to_ebitda"] == 99.0  # net debt 10 with EBITDA -3
    assert math.isnan(row["ev_to_ebit"]) and math.isnan(row["fv_ev_ebit"])


def test_no_method_applies_means_missing_fair_value_ranked_last() -> None:
    loss = {
        "operating_income": -20.0,
        "net_income": -25.0,
        "operating_cash_flow": -15.0,
        "total_equity": -5.0,
    }
    f = fundamentals(
        {"ticker": "BAD", "fiscal_year": 2023, **loss}, {"ticker": "OK", "fiscal_year": 2023}
    )
    comps = companies({"BAD": {"price": 0.5}, "OK": {}})
    t = table_for(f, comps)
    assert math.isnan(t.loc["BAD", "fair_value"]) and t.loc["BAD", "fv_methods"] == 0
    assert t.loc["BAD", "uncertainty"] == "-"
    assert t.loc["BAD", "pct_price_to_fair_value"] == 0.0
    assert t.loc["BAD", "composite"] < t.loc["OK", "composite"]


def test_debt_above_value_gives_zero_fair_value_and_capped_ratio() -> None:
    f = fundamentals(
        {
            "ticker": "DBT",
            "fiscal_year": 2023,
            "long_term_debt": 5000.0,
            "net_income": -1.0,
            "total_equity": -10.0,
        }
    )
    t = table_for(f, companies({"DBT": {}}))
    assert t.loc["DBT", "fair_value"] == 0.0
    assert t.loc["DBT", "price_to_fair_value"] == 99.0
