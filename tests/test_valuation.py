"""The thesis monitor: every measure against a hand computation on a fixed sample, the aligned
fiscal periods, the command's JSON contract, and the monthly history."""

from __future__ import annotations

import json
import statistics

import numpy as np
import pandas as pd
import pytest
from conftest import run_cli

from screener import load_screen, run_screen
from screener.valuation import (
    CHART_SERIES,
    HISTORY_COLUMNS,
    RATIOS,
    aligned_window,
    fiscal_year_mix,
    group_measures,
    history_chart,
    valuation_inputs,
)
from universes import load_universe

#: A fixed sample of real companies (us-all on 2024-03-08): manufacturers large and small, a
#: loss-maker (ATRC) and a December filer that had not published FY2023 yet (FF).
SAMPLE = ["MCFT", "PLAB", "WNC", "FF", "TNC", "ATRC", "ROK"]


def test_measures_by_hand_on_made_up_companies() -> None:
    """Four companies with round numbers (synthetic, so that each figure can be checked by eye)."""
    inputs = pd.DataFrame(
        {
            "fiscal_year": [2023, 2023, 2023, 2022],
            "period_end": pd.to_datetime(["2023-12-31"] * 3 + ["2022-12-31"]),
            "market_cap": [100.0, 200.0, 50.0, 10.0],
            "earnings": [10.0, 10.0, -5.0, 1.0],
            "earnings_prior": [5.0, 20.0, 1.0, np.nan],
            "eps": [1.0, 2.0, -0.5, 0.1],
            "eps_prior": [0.5, 4.0, 0.1, np.nan],
            "book": [50.0, 100.0, -10.0, 5.0],
            "ebit": [12.0, 15.0, -4.0, 1.0],
            "enterprise_value": [120.0, 250.0, 60.0, -5.0],
        },
        index=list("ABCD"),
    )
    fair = pd.DataFrame(
        {"fair_value": [20.0, np.nan, 5.0, 1.0], "price_to_fair_value": [0.5, np.nan, 2.0, 1.0], "shares": [10.0, 1.0, 5.0, 10.0]},
        index=list("ABCD"),
    )
    m = group_measures(inputs, fair)
    assert m["count"] == 4 and m["loss_makers"] == 1 and m["loss_maker_share"] == 0.25
    assert m["aggregate_earnings_yield"] == pytest.approx(16 / 360)
    assert m["aggregate_pe"] == pytest.approx(360 / 16)
    assert m["aggregate_pe_ex_losses"] == pytest.approx(310 / 21)
    assert m["median_earnings_yield"] == pytest.approx((0.05 + 0.1) / 2)  # -0.1, 0.05, 0.1, 0.1
    assert m["median_pe_with_losses"] == pytest.approx(1 / 0.075)
    assert m["median_pe_ex_losses"] == pytest.approx(10.0)  # 10, 20, 10
    assert m["aggregate_pb"] == pytest.approx(310 / 155)  # C has negative book
    assert m["median_pb"] == pytest.approx(2.0)  # 2, 2, 2
    assert m["aggregate_ebit_to_ev"] == pytest.approx(23 / 430)  # D has negative EV
    assert m["median_ebit_to_ev"] == pytest.approx(0.06)  # 0.1, 0.06, -0.0667
    assert m["aggregate_eps_growth"] == pytest.approx(15 / 26 - 1)  # D has no prior year
    assert m["median_eps_growth"] == pytest.approx(-0.5)  # 1.0, -0.5, -6.0
    assert m["median_price_to_fair_value"] == pytest.approx(1.0)  # 0.5, 2.0, 1.0
    assert m["capweighted_price_to_fair_value"] == pytest.approx(160 / 235)  # B has no fair value
    assert set(RATIOS) <= set(m)


@pytest.fixture(scope="module")
def universe():
    return load_universe("us-all", as_of="2024-03-08")


def test_measures_by_hand_on_a_fixed_sample_of_real_companies(universe) -> None:
    """The same measures computed here from the raw fiscal-year rows, one company at a time."""
    companies = universe.companies.loc[SAMPLE]
    inputs = valuation_inputs(companies, universe.fundamentals)
    m = group_measures(inputs)
    f = universe.fundamentals.set_index(["ticker", "fiscal_year"])
    cap, ni, book, ebit, ev, growth, prior = {}, {}, {}, {}, {}, {}, {}
    for t in SAMPLE:
        year = int(companies.at[t, "fiscal_year"])
        row = f.loc[(t, year)]
        cap[t] = float(companies.at[t, "market_cap"])
        ni[t] = float(row["net_income"])
        book[t] = float(row["total_equity"])
        ebit[t] = float(row["operating_income"])
        debt = np.nansum([row["short_term_debt"], row["long_term_debt"]])
        ev[t] = cap[t] + debt - (0.0 if np.isnan(row["cash"]) else row["cash"])
        if (t, year - 1) in f.index:
            before = f.loc[(t, year - 1)]
            prior[t] = float(before["net_income"])
            if before["net_income"] > 0:
                eps, eps0 = row["net_income"] / row["shares_basic"], before["net_income"] / before["shares_basic"]
                growth[t] = eps / eps0 - 1
    profitable = [t for t in SAMPLE if ni[t] > 0]
    assert len(profitable) < len(SAMPLE)  # the sample has a loss-maker
    assert m["aggregate_pe_ex_losses"] == pytest.approx(sum(cap[t] for t in profitable) / sum(ni[t] for t in profitable))
    assert m["aggregate_earnings_yield"] == pytest.approx(sum(ni.values()) / sum(cap.values()))
    assert m["median_pe_ex_losses"] == pytest.approx(statistics.median(cap[t] / ni[t] for t in profitable))
    assert m["median_earnings_yield"] == pytest.approx(statistics.median(ni[t] / cap[t] for t in SAMPLE))
    assert m["median_pb"] == pytest.approx(statistics.median(cap[t] / book[t] for t in SAMPLE if book[t] > 0))
    assert m["aggregate_ebit_to_ev"] == pytest.approx(sum(ebit[t] for t in SAMPLE if ev[t] > 0) / sum(ev[t] for t in SAMPLE if ev[t] > 0))
    assert m["median_eps_growth"] == pytest.approx(statistics.median(growth.values()))
    assert m["aggregate_eps_growth"] == pytest.approx(sum(ni[t] for t in prior) / sum(prior.values()) - 1)


def test_aligned_periods_put_every_company_on_the_same_twelve_months(universe) -> None:
    start, end = aligned_window(pd.Timestamp("2024-03-08"))
    assert (start, end) == (pd.Timestamp("2022-12-08"), pd.Timestamp("2023-12-08"))
    companies = universe.companies.loc[SAMPLE]
    latest = valuation_inputs(companies, universe.fundamentals)
    aligned = valuation_inputs(companies, universe.fundamentals, (start, end))
    assert aligned["period_end"].dropna().between(start, end).all()
    # ROK (September year) keeps FY2023; PLAB (October) too; FF (December) is on FY2022 either way.
    assert aligned.at["ROK", "fiscal_year"] == latest.at["ROK", "fiscal_year"] == 2023
    assert latest.at["FF", "fiscal_year"] == aligned.at["FF", "fiscal_year"] == 2022
    mix = fiscal_year_mix({"sample": latest})
    assert mix["share"].sum() == pytest.approx(1.0)
    assert mix.set_index("fiscal_year").at[2022, "count"] == (latest["fiscal_year"] == 2022).sum()


def test_cli_valuation_json_contract() -> None:
    done = run_cli("valuation", "--format", "json")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    sectors = {s["sector"]: s for s in doc["sectors"]}
    assert {"Utilities", "Industrials", "Technology", "All"} <= set(sectors)
    for s in doc["sectors"]:
        assert set(s) >= {"sector", "count", "median_price_to_fair_value", "capweighted_price_to_fair_value", "aggregate_ebit_to_ev", "aggregate_earnings_yield"}
    groups = [g["group"] for g in doc["groups"]]
    assert groups == ["Manufacturers (SIC 2000-3999)", "Manufacturers excl. life sciences", "Utilities", "Everything else", "All"]
    svl = doc["small_vs_large"]
    latest = svl["latest"]
    assert latest["small"]["count"] > 1000 and latest["large"]["count"] == 1000
    for k in ("aggregate_pe_ex_losses", "median_pe_ex_losses", "aggregate_pb", "median_pb", "aggregate_ebit_to_ev"):
        assert latest["spread"][k] == pytest.approx(latest["small"][k] - latest["large"][k])
    # us-small lost money in aggregate in the snapshot: P/E with losses is undefined, not a number.
    assert latest["small"]["total_net_income"] < 0
    assert latest["small"]["aggregate_pe"] is None and latest["spread"]["aggregate_pe"] is None
    assert latest["small"]["aggregate_earnings_yield"] < 0
    assert svl["aligned"]["window"] == ["2022-12-08", "2023-12-08"]
    shares = pd.DataFrame(doc["fiscal_years"]).groupby("group")["share"].sum()
    assert shares.to_dict() == pytest.approx({"small": 1.0, "large": 1.0})
    assert any("Banks and insurers" in d for d in doc["disclosures"])
    assert any("Forward estimates are absent" in d for d in doc["disclosures"])
    assert set(doc["universes"]) == {"us-all", "us-small", "us-large"}


def test_cli_valuation_table_prints_the_disclosures() -> None:
    done = run_cli("valuation", "--universe", "us-small-manufacturing")
    assert done.returncode == 0, done.stderr
    for text in ("Small (us-small", "aligned", "FY2022", "Banks and insurers are absent", "Universe rules used", "us-small-manufacturing:"):
        assert text in done.stdout


def test_history_is_point_in_time_month_by_month() -> None:
    from tui.thesis import monitor_for, monthly_history

    seen: list[pd.Timestamp] = []
    history = monthly_history("us-all", start="2024-01", progress=seen.append)
    assert list(history.columns) == list(HISTORY_COLUMNS)
    assert [d.date().isoformat() for d in history["as_of"]] == ["2024-01-31", "2024-02-29", "2024-03-08"]
    assert seen == list(history["as_of"])
    last = monitor_for("us-all", "2024-03-08")["small_vs_large"]["latest"]
    assert history["small_aggregate_pe_ex_losses"].iloc[-1] == pytest.approx(last["small"]["aggregate_pe_ex_losses"])
    assert history["large_count"].eq(1000).all()
    chart = history_chart(history)
    assert chart["dates"] == ["2024-01-31", "2024-02-29", "2024-03-08"]
    assert set(chart["series"]) == set(CHART_SERIES) and all(len(v) == 3 for v in chart["series"].values())


def test_the_screen_fair_value_feeds_the_groups(universe) -> None:
    from screener.valuation import group_valuation

    table = run_screen(universe, load_screen()).table
    groups = group_valuation(table, valuation_inputs(table, universe.fundamentals)).set_index("group")
    utilities = table[table["sector"] == "Utilities"]
    assert groups.at["Utilities", "count"] == len(utilities)
    assert groups.at["Utilities", "median_price_to_fair_value"] == pytest.approx(utilities["price_to_fair_value"].median())
