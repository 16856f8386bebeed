"""Each valuation method against a hand computation from REAL statements of the snapshot, the
same fair value whatever universe is screened, and the red flags on known cases.

The hand computations below read a company's statement figures from the snapshot and follow
the formulas of screener/fair_value.py, screener/rates.py and screener/panel.py step by step in
plain Python; they share no code with the screener.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from screener import FLAGS, Screen, evidence, load_screen, run_screen
from screener.run import compute_table

RF, ERP, SIZE = 0.041, 0.055, 0.03  # the shipped screen's assumptions
TERMINAL, YEARS, MIN_G, MAX_G = 0.025, 10, -0.10, 0.15
VALUATION_COLUMNS = (
    "fv_epv",
    "fv_dcf",
    "fv_ev_ebit",
    "fv_pb",
    "fv_graham",
    "intrinsic_value",
    "relative_value",
    "fair_value",
    "fair_value_bear",
    "fair_value_bull",
    "wacc",
    "implied_growth",
    "uncertainty",
    "flags",
)


@pytest.fixture(scope="module")
def small_mfg(snapshot_universes):
    return run_screen(snapshot_universes["us-small-manufacturing"], load_screen())


@pytest.fixture(scope="module")
def reference_table(snapshot_universes) -> pd.DataFrame:
    """Every company of the reference set valued (the peers of relative valuation)."""
    u = snapshot_universes["us-small-manufacturing"]
    return compute_table(
        u.reference_companies,
        u.reference_fundamentals,
        load_screen(),
        u.reference_companies,
        u.reference_fundamentals,
    )


def spread_by_hand(coverage: float) -> float:
    for floor, spread in ((8, 0.01), (4, 0.015), (3, 0.02), (2, 0.03), (1.5, 0.04), (1, 0.06)):
        if coverage >= floor:
            return spread
    return 0.10


def by_hand(universe, ticker: str) -> dict[str, float]:
    """Every input and method of one company, from its statements, step by step."""
    f = universe.fundamentals
    f = f[f["ticker"] == ticker].sort_values("fiscal_year").tail(5)
    last = f.iloc[-1]
    company = universe.companies.loc[ticker]
    price, shares = float(company["price"]), float(company["shares"])
    market_cap = price * shares

    revenue = f["revenue"].to_numpy()
    ebit = f["operating_income"].to_numpy()
    revenue_avg = revenue.mean()
    revenue_n = min(revenue[-1], revenue_avg)
    margin = ebit.sum() / revenue.sum()
    ebit_n = revenue_n * margin
    profitable = f["pretax_income"] > 0
    tax = f.loc[profitable, "income_tax"].sum() / f.loc[profitable, "pretax_income"].sum()
    tax = min(max(tax, 0.15), 0.35)
    nopat = ebit_n * (1 - tax)
    debt = last["short_term_debt"] + last["long_term_debt"]
    excess = max(last["cash"] - 0.02 * last["revenue"], 0.0)
    group = f["income_continuing_ops"] + f["extraordinary_gains"]  # the parent's share
    both = (group > 0) & (f["net_income"] > 0)
    p = min(f.loc[both, "net_income"].sum() / group[both].sum(), 1.0) if both.any() else 1.0

    equity = market_cap / p
    beta = 1 + (1 - tax) * min(debt / equity, 3.0)
    size = SIZE * min(max(math.log(1e10 / equity) / math.log(100), 0.0), 1.0)
    cost_of_equity = RF + beta * ERP + size
    interest = last["interest_expense"]
    coverage = ebit_n / interest if interest > 0 else math.inf
    cost_of_debt = RF + spread_by_hand(coverage)
    w = debt / (debt + equity)
    wacc = (1 - w) * cost_of_equity + w * cost_of_debt * (1 - tax)

    epv = (nopat / wacc + excess - debt) * p / shares

    reinvestment = (
        f["capex"].mean()
        - f["da"].mean()
        - f["working_capital_change"].mean()
        + f["acquisitions"].mean()
    )
    fcff0 = nopat - reinvestment
    recent = revenue[-1] / revenue[-2] - 1
    trend = math.exp(np.polyfit(f["fiscal_year"].to_numpy(float), np.log(revenue), 1)[0]) - 1
    g0 = min(max(0.5 * recent + 0.5 * trend, MIN_G), MAX_G)
    fcf, ev = fcff0, 0.0
    for t in range(1, YEARS + 1):
        fcf *= 1 + g0 + (TERMINAL - g0) * (t - 1) / (YEARS - 1)
        ev += fcf / (1 + wacc) ** t
    ev += fcf * (1 + TERMINAL) / (wacc - TERMINAL) / (1 + wacc) ** YEARS
    dcf = (ev + excess - debt) * p / shares if fcff0 > 0 else math.nan

    recent3 = f.tail(3)
    eps = (recent3["net_income"] - recent3["extraordinary_gains"]).mean() / shares
    bvps = last["total_equity"] * p / shares
    graham = math.sqrt(22.5 * eps * bvps) if eps > 0 and bvps > 0 else math.nan
    return {
        "revenue_normalised": revenue_n,
        "op_margin_normalised": margin,
        "ebit_normalised": ebit_n,
        "tax_rate_used": tax,
        "excess_cash": excess,
        "debt": debt,
        "parent_share": p,
        "beta": beta,
        "size_premium": size,
        "cost_of_equity": cost_of_equity,
        "cost_of_debt": cost_of_debt,
        "wacc": wacc,
        "fv_epv": epv,
        "fcff0": fcff0,
        "growth_initial": g0,
        "fv_dcf": dcf,
        "fv_graham": graham,
        "ev_to_ebit_normalised": (market_cap / p + debt - excess) / ebit_n,
        "price_to_book_parent": market_cap / (last["total_equity"] * p),
        "book": last["total_equity"],
        "shares": shares,
        "price": price,
    }


@pytest.mark.parametrize("ticker", ["MCFT", "MED", "PLAB"])
def test_intrinsic_methods_by_hand(snapshot_universes, small_mfg, ticker: str) -> None:
    hand = by_hand(snapshot_universes["us-small-manufacturing"], ticker)
    row = small_mfg.table.loc[ticker]
    for key in (
        "revenue_normalised", "op_margin_normalised", "ebit_normalised", "tax_rate_used",
        "excess_cash", "debt", "parent_share", "beta", "size_premium", "cost_of_equity",
        "cost_of_debt", "wacc", "fv_epv", "fcff0", "growth_initial", "fv_dcf", "fv_graham",
        "ev_to_ebit_normalised", "price_to_book_parent",
    ):  # fmt: skip
        assert row[key] == pytest.approx(hand[key], rel=1e-9, nan_ok=True), key


@pytest.mark.parametrize("ticker", ["MCFT", "MED", "PLAB"])
def test_relative_methods_and_blend_by_hand(
    snapshot_universes, small_mfg, reference_table, ticker: str
) -> None:
    hand = by_hand(snapshot_universes["us-small-manufacturing"], ticker)
    row = small_mfg.table.loc[ticker]
    ref = reference_table
    sic = pd.to_numeric(ref["sic"], errors="coerce")
    own_sic = int(row["sic"])
    for multiple in ("ev_to_ebit", "price_to_book"):
        own = {"ev_to_ebit": "ev_to_ebit_normalised", "price_to_book": "price_to_book_parent"}[
            multiple
        ]
        values = ref[own].where(ref[own] > 0).drop(index=ticker)  # never its own peer
        levels = {
            "SIC 4-digit": sic == own_sic,
            "SIC 3-digit": sic // 10 == own_sic // 10,
            "SIC 2-digit": sic // 100 == own_sic // 100,
        }
        level, peers = next(
            (name, values[group.drop(index=ticker)].dropna())
            for name, group in levels.items()
            if values[group.drop(index=ticker)].notna().sum() >= 5
        )
        assert row[f"peer_{multiple}_level"] == level
        assert row[f"peer_{multiple}_count"] == len(peers)
        assert row[f"peer_{multiple}"] == pytest.approx(np.median(peers))
        assert row[f"peer_{multiple}_q1"] == pytest.approx(np.quantile(peers, 0.25))
    p, shares = hand["parent_share"], hand["shares"]
    v_ev = (
        (row["peer_ev_to_ebit"] * hand["ebit_normalised"] + hand["excess_cash"] - hand["debt"])
        * p
        / shares
    )
    v_pb = row["peer_price_to_book"] * hand["book"] * p / shares
    assert row["fv_ev_ebit"] == pytest.approx(v_ev)
    assert row["fv_pb"] == pytest.approx(v_pb)
    intrinsic = np.nanmean([hand["fv_epv"], hand["fv_dcf"]])
    fair = 0.5 * intrinsic + 0.5 * (v_ev + v_pb) / 2
    assert row["fair_value"] == pytest.approx(fair)
    assert row["price_to_fair_value"] == pytest.approx(hand["price"] / fair)
    assert row["fair_value_bear"] < row["fair_value"] < row["fair_value_bull"]


def test_known_facts_of_the_three_companies(small_mfg) -> None:
    t = small_mfg.table
    # MCFT: record revenue of FY2023 (662M) valued at the cycle average instead.
    assert t.loc["MCFT", "revenue"] == pytest.approx(662.05e6, rel=1e-4)
    assert t.loc["MCFT", "revenue_normalised"] == pytest.approx(
        (363.07e6 + 465.96e6 + 641.61e6 + 662.05e6) / 4, rel=1e-4
    )
    # MED: a meal-replacement seller (SIC 2090) compared with food makers, not healthcare.
    assert t.loc["MED", "peer_ev_to_ebit_level"] == "SIC 2-digit"
    assert t.loc["MED", "growth_recent"] < -0.3 and t.loc["MED", "growth_initial"] < 0
    # PLAB: a third of continuing earnings belongs to joint-venture partners (37% in FY2023).
    parent = 29.79 + 33.82 + 55.45 + 118.79 + 125.48
    continuing = 40.49 + 40.34 + 78.82 + 179.24 + 199.63
    assert t.loc["PLAB", "parent_share"] == pytest.approx(parent / continuing, rel=1e-3)


def test_the_same_fair_value_in_every_universe(snapshot_universes) -> None:
    screen = load_screen()
    tables = {n: run_screen(u, screen).table for n, u in snapshot_universes.items()}
    everyone = tables["us-all"]
    for name, table in tables.items():
        common = table.index
        for col in VALUATION_COLUMNS:
            a, b = everyone.loc[common, col], table[col]
            same = (a == b) | (a.isna() & b.isna())
            assert same.all(), (name, col, list(common[~same][:5]))
    assert (
        tables["us-small-manufacturing"].loc["MED", "fair_value"]
        == everyone.loc["MED", "fair_value"]
    )


def test_a_universe_without_reference_frames_is_its_own_peer_set(snapshot_universes) -> None:
    u = snapshot_universes["us-small-manufacturing"]
    bare = type(u)(
        u.name, u.description, u.as_of, u.dataset, u.provider, u.companies, u.fundamentals, u.prices
    )
    r = run_screen(bare, load_screen())
    assert r.table["fair_value"].notna().sum() > 200
    assert len(r.ranked) > 50


def test_red_flags_on_known_cases(snapshot_universes, small_mfg) -> None:
    t = small_mfg.table
    everyone = run_screen(snapshot_universes["us-all"], load_screen()).table
    raised = {
        "MCFT": "record_revenue",  # 662M against a 533M cycle average
        "MED": "revenue_collapse",  # -33% in FY2023
        "PLAB": "peak_margin",  # 28% operating margin vs 18% over the cycle
        "JAKK": "one_off_gains",  # a 41M tax benefit in 91M of net income
        "SMLR": "growth_at_cap",
    }
    for ticker, flag in raised.items():
        assert t.loc[ticker, f"flag_{flag}"], (ticker, flag)
        assert FLAGS[flag].label in t.loc[ticker, "flags"]
    assert everyone.loc["MITK", "flag_stale_fiscal_year"]  # FY2022 still the latest in March 2024
    assert everyone.loc["JAKK", "flag_share_dilution"]
    assert everyone.loc["REX", "flag_data_integrity"]  # cost of revenue booked as unusual items
    assert not t.loc["EBF", "flag_count"]
    assert (t["flags"] == "").sum() > 50


def test_known_data_errors_are_flagged_or_corrected(small_mfg) -> None:
    t = small_mfg.table
    # BELFB: 2.1M class A shares reported as the whole count (10.4M diluted, 12.4M the year
    # before): flagged here unless the data layer restored the count.
    belfb = t.loc["BELFB"]
    assert belfb["flag_data_integrity"] or belfb["shares_basic"] > 10e6
    # IIIN: FY2020 cash flows 1,000x too large: read as missing here, or corrected by the data.
    iiin = t.loc["IIIN"]
    assert iiin["capex_avg"] < 30e6 and iiin["da_avg"] < 30e6
    assert "capex FY2020" in iiin["unit_slips"] or "unit slip" in str(iiin.get("data_flags", ""))
    if iiin["unit_slips"]:
        ev = evidence(small_mfg, "IIIN")
        text = next(f for f in ev["flags"] if f["flag"] == "data_integrity")["evidence"]
        assert "wrong unit" in text and "capex FY2020" in text


def test_figures_in_the_wrong_unit_are_read_as_missing_and_flagged() -> None:
    from synthetic import companies, fundamentals

    # SYNTHETIC: FY2022's capex and D&A 1,000x too large (a year read in thousands).
    f = fundamentals(
        {"ticker": "AAA", "fiscal_year": 2021},
        {"ticker": "AAA", "fiscal_year": 2022, "capex": 4000.0, "da": 5000.0},
        {"ticker": "AAA", "fiscal_year": 2023},
    )
    row = compute_table(companies({"AAA": {}}), f, load_screen()).loc["AAA"]
    assert row["unit_slips"] == "da FY2022, capex FY2022"
    assert row["capex_avg"] == pytest.approx(4.0) and row["da_avg"] == pytest.approx(5.0)
    assert row["flag_data_integrity"]


def test_evidence_has_every_method_the_rates_the_range_and_the_flags(small_mfg) -> None:
    ev = evidence(small_mfg, "PLAB")
    fv = ev["fair_value"]
    assert fv["method_order"] == ["fv_epv", "fv_dcf", "relative_value", "fv_graham"]
    for key in fv["method_order"]:
        m = fv["methods"][key]
        assert m["label"] and m["inputs"] and m["family"] in ("intrinsic", "relative", "ceiling")
    assert fv["methods"]["fv_epv"]["inputs"]["parent_share"] == pytest.approx(0.6747, abs=1e-3)
    parts = fv["methods"]["relative_value"]["parts"]
    assert parts["fv_ev_ebit"]["inputs"]["peer_group"] == "SIC 3674"
    assert np.mean([parts["fv_ev_ebit"]["value"], parts["fv_pb"]["value"]]) == pytest.approx(
        fv["methods"]["relative_value"]["value"]
    )
    r = fv["range"]
    assert r["bear"] < r["base"] < r["bull"] and len(r["assumptions"]["wacc"]) == 3
    rates = ev["rates"]
    assert rates["risk_free_rate"] == RF and rates["equity_risk_premium"] == ERP
    assert rates["wacc"] == pytest.approx(small_mfg.table.loc["PLAB", "wacc"])
    assert [f["flag"] for f in ev["flags"]] == list(FLAGS)
    peak = next(f for f in ev["flags"] if f["flag"] == "peak_margin")
    assert peak["raised"] and "28.4%" in peak["evidence"]
    assert ev["uncertainty"]["rating"] == fv["uncertainty"]
    assert len(ev["uncertainty"]["components"]) == 4
    assert ev["piotroski"]["display"] == "8"


def test_top_30_of_the_default_screen_rests_on_no_visible_data_error(small_mfg) -> None:
    top = small_mfg.top(30, details=True)
    assert len(top) == 30 and "flags" in top.columns
    assert not top["flag_data_integrity"].any()
    assert (top["unit_slips"] == "").all()
    assert (top["shares_basic"] >= 0.5 * top["shares_diluted"]).all()
    assert (top["price_to_fair_value"] > 0.25).all()
    assert (top["operating_income"] < 0.9 * top["revenue"]).all()


def test_only_cheap_needs_the_margin_of_safety_of_the_rating(small_mfg) -> None:
    screen = small_mfg.screen.with_filters(only_cheap=True)
    cheap = run_screen_table(small_mfg, screen)
    required = cheap["uncertainty"].map(
        {"low": 0.2, "medium": 0.3, "high": 0.4, "very high": 0.5, "extreme": 0.75}
    )
    assert len(cheap) > 10
    assert (cheap["price"] <= cheap["fair_value"] * (1 - required) + 1e-9).all()


def run_screen_table(result, screen: Screen) -> pd.DataFrame:
    from screener import rescreen

    return rescreen(result, screen, universe=None).ranked  # type: ignore[arg-type]


def test_ranked_output_leaves_the_evidence_inputs_out_unless_asked(small_mfg) -> None:
    from screener.run import DETAIL_COLUMNS

    lean, full = small_mfg.top(5), small_mfg.top(5, details=True)
    assert not set(DETAIL_COLUMNS) & set(lean.columns)
    assert set(DETAIL_COLUMNS) <= set(full.columns)
    for col in (
        "fair_value",
        "intrinsic_value",
        "relative_value",
        "fair_value_bear",
        "flags",
        "cheap",
    ):
        assert col in lean.columns


def test_rescreen_after_a_weight_or_penalty_change_equals_a_fresh_screen(
    snapshot_universes, small_mfg
) -> None:
    from screener import rescreen

    u = snapshot_universes["us-small-manufacturing"]
    changed = small_mfg.screen.with_weights(altman_z=3.0).with_penalties(peak_margin=20.0)
    again = rescreen(small_mfg, changed, u)
    fresh = run_screen(u, changed)
    cols = ["rank", "composite", "flag_penalty", "quality", "value", "pct_altman_z"]
    pd.testing.assert_frame_equal(again.ranked[cols], fresh.ranked[cols])
    assert set(again.table.columns) == set(fresh.table.columns)


def test_the_universe_s_own_fundamentals_value_its_companies(snapshot_universes) -> None:
    import dataclasses

    u = snapshot_universes["us-small-manufacturing"]
    f = u.fundamentals.copy()
    mcft = f["ticker"] == "MCFT"
    f.loc[mcft, "operating_income"] *= 2  # edited figures (as a --fundamentals file would)
    edited = run_screen(dataclasses.replace(u, fundamentals=f), load_screen()).table
    plain = run_screen(u, load_screen()).table
    assert edited.loc["MCFT", "ebit_normalised"] == pytest.approx(
        2 * plain.loc["MCFT", "ebit_normalised"]
    )
    assert edited.loc["MED", "fair_value"] == pytest.approx(
        plain.loc["MED", "fair_value"], rel=0.05
    )
