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
    assert t.loc["AAA", "piotroski_display"] == "9"


def test_piotroski_leverage_uses_average_total_assets() -> None:
    # Year-end ratios fall (15/100 -> 14/100) and would pass the signal, but over average
    # assets leverage rises: 15 / ((200 + 100) / 2) = 0.10 -> 14 / ((100 + 100) / 2) = 0.14.
    f = fundamentals(
        {"ticker": "AAA", "fiscal_year": 2021, "total_assets": 200.0},
        {"ticker": "AAA", "fiscal_year": 2022, "total_assets": 100.0, "long_term_debt": 15.0},
        {"ticker": "AAA", "fiscal_year": 2023, "total_assets": 100.0, "long_term_debt": 14.0},
    )
    t = table_for(f, companies({"AAA": {}}))
    assert t.loc["AAA", "f_delta_leverage"] == 0


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
    assert t.loc["NEW", "piotroski_display"] == "3/3"  # never a plain 3
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


# The synthetic company of ``two_years()``: price 8, 10 shares (market cap 80), debt 5 + 15,
# cash 10, revenue 150, EBIT 10, interest 2, pretax 8, tax 2, D&A 5, capex 4 in both years.
A = ValuationAssumptions()


def wacc_by_hand(ebit_n: float, tax: float, market_cap: float = 80.0, debt: float = 20.0) -> float:
    """The documented build-up, step by step, for a company under $100M (full size premium)."""
    beta = 1 + (1 - tax) * debt / market_cap
    cost_of_equity = A.risk_free_rate + beta * A.equity_risk_premium + A.size_premium
    coverage = ebit_n / 2.0
    spread = {True: 0.015, False: 0.02}[4 <= coverage < 8]
    assert 3 <= coverage < 8, coverage
    cost_of_debt = A.risk_free_rate + spread
    w = debt / (debt + market_cap)
    return (1 - w) * cost_of_equity + w * cost_of_debt * (1 - tax)


def test_wacc_build_up_by_hand() -> None:
    t = table_for(two_years(), companies({"AAA": {}}))
    row = t.loc["AAA"]
    tax = 2 / 8  # effective rate, inside [min_tax_rate, max_tax_rate]
    assert row["tax_rate_used"] == pytest.approx(tax)
    assert row["beta"] == pytest.approx(1 + 0.75 * 20 / 80)
    assert row["size_premium"] == pytest.approx(A.size_premium)  # $80 is below $100M
    assert row["debt_spread"] == pytest.approx(0.015)  # coverage 10 / 2 = 5
    assert row["wacc"] == pytest.approx(wacc_by_hand(10.0, tax))


def test_earnings_power_value_by_hand() -> None:
    f = fundamentals(
        {"ticker": "AAA", "fiscal_year": 2021, "revenue": 100.0, "operating_income": 5.0},
        {"ticker": "AAA", "fiscal_year": 2022, "revenue": 120.0, "operating_income": 18.0},
        {"ticker": "AAA", "fiscal_year": 2023, "revenue": 150.0, "operating_income": 10.0},
    )
    t = table_for(f, companies({"AAA": {}}))
    revenue_n = min(150.0, (100 + 120 + 150) / 3)  # the record year brought to the average
    margin = (5 + 18 + 10) / (100 + 120 + 150)  # cycle margin: sum of EBIT / sum of revenue
    ebit_n = revenue_n * margin
    tax = 6 / 24
    nopat = ebit_n * (1 - tax)
    excess_cash = 10 - 0.02 * 150
    epv = (nopat / wacc_by_hand(ebit_n, tax) + excess_cash - 20) / 10
    assert t.loc["AAA", "ebit_normalised"] == pytest.approx(ebit_n)
    assert t.loc["AAA", "fv_epv"] == pytest.approx(epv)


def test_a_year_below_the_average_is_not_raised() -> None:
    f = fundamentals(
        {"ticker": "AAA", "fiscal_year": 2022, "revenue": 200.0},
        {"ticker": "AAA", "fiscal_year": 2023, "revenue": 150.0},
    )
    t = table_for(f, companies({"AAA": {}}))
    assert t.loc["AAA", "revenue_normalised"] == pytest.approx(150.0)


def test_dcf_with_constant_growth_equals_the_perpetuity() -> None:
    g = 0.03
    t = table_for(
        two_years(), companies({"AAA": {}}), terminal_growth=g, min_growth=g, max_growth=g
    )
    nopat = 10 * (1 - 0.25)
    fcff0 = nopat + 5.0 - 4.0  # NOPAT + average D&A - average capex
    r = wacc_by_hand(10.0, 0.25)
    ev = fcff0 * (1 + g) / (r - g)
    assert t.loc["AAA", "fcff0"] == pytest.approx(fcff0)
    assert t.loc["AAA", "fv_dcf"] == pytest.approx((ev + (10 - 3) - 20) / 10)


def test_growth_blends_the_latest_year_and_the_trend() -> None:
    f = fundamentals(
        {"ticker": "AAA", "fiscal_year": 2021, "revenue": 100.0},
        {"ticker": "AAA", "fiscal_year": 2022, "revenue": 121.0},
        {"ticker": "AAA", "fiscal_year": 2023, "revenue": 133.1},
    )
    t = table_for(f, companies({"AAA": {}}))
    row = t.loc["AAA"]
    assert row["growth_recent"] == pytest.approx(0.10)
    trend = math.exp(np.polyfit([2021, 2022, 2023], np.log([100.0, 121.0, 133.1]), 1)[0]) - 1
    assert row["growth_trend"] == pytest.approx(trend)
    assert row["growth_initial"] == pytest.approx(0.5 * 0.10 + 0.5 * trend)
    assert not row["flag_growth_at_cap"]


def test_reverse_dcf_recovers_the_growth_in_the_price() -> None:
    from screener.fair_value import dcf_enterprise_value

    # The WACC depends on the price (debt / equity): iterate to the price whose own WACC values
    # the DCF at 7% initial growth exactly at that price.
    price = 8.0
    for _ in range(30):
        r = wacc_by_hand(10.0, 0.25, market_cap=10 * price)
        ev = dcf_enterprise_value(np.array([8.5]), np.array([0.07]), np.array([r]), 0.025, 10)[0]
        price = (ev + 7 - 20) / 10
    t = table_for(two_years(), companies({"AAA": {"price": price}}))
    assert t.loc["AAA", "wacc"] == pytest.approx(r)
    assert t.loc["AAA", "implied_growth"] == pytest.approx(0.07, abs=1e-6)


def test_reverse_dcf_reports_when_the_price_is_out_of_range() -> None:
    t = table_for(two_years(), companies({"AAA": {"price": 1e6}}))
    assert math.isnan(t.loc["AAA", "implied_growth"])
    assert t.loc["AAA", "implied_growth_note"] == "price implies > +100%"


def test_graham_number_is_a_ceiling_never_a_floor() -> None:
    t = table_for(two_years(), companies({"AAA": {}}))
    row = t.loc["AAA"]
    assert row["fv_graham"] == pytest.approx(math.sqrt(22.5 * (6 / 10) * (60 / 10)))
    # Not part of the blend: with no relative value (no peers) the fair value is the intrinsic
    # value, left below the Graham number (a floor would have raised it).
    assert math.isnan(row["relative_value"])
    assert row["fair_value"] == pytest.approx(np.mean([row["fv_epv"], row["fv_dcf"]]))
    assert row["fair_value"] < row["fv_graham"]
    # A defensive buyer's ceiling: with graham_ceiling, a fair value above it comes down to it.
    low_eps = two_years(prior={"net_income": 1.0}, latest={"net_income": 1.0})
    graham = math.sqrt(22.5 * (1 / 10) * (60 / 10))
    free = table_for(low_eps, companies({"AAA": {}})).loc["AAA", "fair_value"]
    capped = table_for(low_eps, companies({"AAA": {}}), graham_ceiling=True).loc["AAA"]
    assert free > graham and capped["fair_value"] == pytest.approx(graham)


def test_blend_rule_weighs_intrinsic_and_relative_values() -> None:
    f = fundamentals(*({"ticker": t, "fiscal_year": 2023} for t in ("P1", "P2", "P3")))
    comps = companies({"P1": {"price": 4.0}, "P2": {"price": 8.0}, "P3": {"price": 12.0}})
    for w in (0.0, 0.3, 1.0):
        row = table_for(f, comps, min_peers=2, intrinsic_weight=w).loc["P2"]
        expected = w * row["intrinsic_value"] + (1 - w) * row["relative_value"]
        assert row["fair_value"] == pytest.approx(expected)


def test_multiples_use_peer_medians_without_the_company_itself() -> None:
    f = fundamentals(*({"ticker": t, "fiscal_year": 2023} for t in ("P1", "P2", "P3")))
    comps = companies({"P1": {"price": 4.0}, "P2": {"price": 8.0}, "P3": {"price": 12.0}})
    t = table_for(f, comps, min_peers=2)
    ev = comps["market_cap"] + 20 - (10 - 3)  # market cap + debt - excess cash
    own = ev / 10  # EV / normalised EBIT
    assert t.loc["P1", "ev_to_ebit_normalised"] == pytest.approx(own["P1"])
    assert t.loc["P1", "peer_ev_to_ebit"] == pytest.approx(np.median(own[["P2", "P3"]]))
    assert t.loc["P1", "peer_ev_to_ebit_count"] == 2
    pb = comps["market_cap"] / 60
    assert t.loc["P1", "peer_price_to_book"] == pytest.approx(np.median(pb[["P2", "P3"]]))
    v_ev = (np.median(own[["P2", "P3"]]) * 10 - 20 + 7) / 10
    v_pb = np.median(pb[["P2", "P3"]]) * 60 / 10
    assert t.loc["P1", "relative_value"] == pytest.approx((v_ev + v_pb) / 2)
    # Two peers are fewer than three: no relative value at all (no wider fallback).
    t3 = table_for(f, comps, min_peers=3)
    assert t3["peer_ev_to_ebit"].isna().all() and t3["relative_value"].isna().all()


def test_minority_interest_leaves_the_parent_its_share() -> None:
    prior = {"income_continuing_ops": 4.0, "net_income": 3.0, "extraordinary_gains": 0.0}
    latest = {"income_continuing_ops": 8.0, "net_income": 6.0, "extraordinary_gains": 0.0}
    t = table_for(two_years(prior=prior, latest=latest), companies({"AAA": {}}))
    row = t.loc["AAA"]
    p = (3 + 6) / (4 + 8)
    assert row["parent_share"] == pytest.approx(p)
    nopat = 10 * 0.75
    ev_equity = nopat / row["wacc"] + 7 - 20
    assert row["fv_epv"] == pytest.approx(ev_equity * p / 10)


def test_range_brackets_the_base_case() -> None:
    f = fundamentals(
        {"ticker": "AAA", "fiscal_year": 2021, "revenue": 100.0, "operating_income": 5.0},
        {"ticker": "AAA", "fiscal_year": 2022, "revenue": 120.0, "operating_income": 18.0},
        {"ticker": "AAA", "fiscal_year": 2023, "revenue": 150.0, "operating_income": 10.0},
    )
    row = table_for(f, companies({"AAA": {}})).loc["AAA"]
    assert row["fair_value_bear"] < row["fair_value"] < row["fair_value_bull"]


def test_uncertainty_from_the_business() -> None:
    steady = fundamentals(
        *({"ticker": "STD", "fiscal_year": y, "revenue": 100.0 * 1.03 ** (y - 2019)} for y in range(2019, 2024))
    )
    swings = [(100.0, 10.0, 5.0), (60.0, -12.0, -15.0), (110.0, 8.0, 4.0), (70.0, -9.0, -12.0), (120.0, 6.0, 3.0)]
    shaky = fundamentals(
        *(
            {"ticker": "SHK", "fiscal_year": 2019 + i, "revenue": r, "operating_income": e, "net_income": n}
            for i, (r, e, n) in enumerate(swings)
        )
    )
    t = table_for(pd.concat([steady, shaky]), companies({"STD": {}, "SHK": {}}))
    std, shk = t.loc["STD"], t.loc["SHK"]
    # STD: revenue +3% a year (no volatility), flat margin, net debt 10 / EBITDA 15, no losses.
    assert std["unc_sales_predictability_points"] == 0 and std["unc_operating_leverage_points"] == 0
    assert std["unc_financial_leverage"] == pytest.approx((20 - 10) / (ebit_n_of(std) + 5))
    assert std["uncertainty"] == "low" and std["margin_required"] == 0.2
    changes = np.diff(np.log([r for r, _, _ in swings]))
    assert shk["unc_sales_predictability"] == pytest.approx(np.std(changes, ddof=1))
    assert shk["unc_loss_history"] == 2 and shk["unc_loss_history_points"] == 2
    assert shk["uncertainty"] in ("very high", "extreme")
    assert shk["buy_below"] == pytest.approx(shk["fair_value"] * (1 - shk["margin_required"]))


def ebit_n_of(row: pd.Series) -> float:
    return float(row["ebit_normalised"])


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
    assert math.isnan(row["fv_epv"])  # no revenue: nothing to normalise
    assert math.isnan(row["fv_dcf"])
    assert row["implied_growth_note"] == "FCFF <= 0"


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
    assert not t.loc["BAD", "cheap"]
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


def test_data_integrity_counts_only_what_the_data_layer_left_unresolved() -> None:
    from screener.flags import data_warnings

    # SYNTHETIC findings in the data layer's layout (universes.integrity.INTEGRITY_COLUMNS).
    integrity = pd.DataFrame(
        {
            "ticker": ["P1", "P1", "P2", "P3"],
            "check": ["share class", "stale", "unit slip", "minority interest"],
            "action": ["flagged", "flagged", "corrected", "flagged"],
            "flag": [
                "shares: diluted 2.3x basic (other class or units?)",
                "fundamentals 14 months old",
                "cash-flow statement FY2020 1,000x (unit slip), corrected",
                "minority interest 20% of profit",
            ],
        }
    )
    tickers = pd.Index(["P1", "P2", "P3"])
    warned = data_warnings(tickers, integrity, None)
    assert list(warned) == ["shares: diluted 2.3x basic (other class or units?)", "", ""]
    # Without the findings table, every non-empty data_flags counts.
    assert list(data_warnings(tickers, None, pd.Series({"P2": "something"}))) == ["", "something", ""]

    f = fundamentals(*({"ticker": t, "fiscal_year": 2023} for t in tickers))
    screen = Screen(weights={"price_to_fair_value": 1.0})
    t = compute_table(companies({k: {} for k in tickers}), f, screen, integrity=integrity)
    assert list(t["flag_data_integrity"]) == [True, False, False]
