"""The integrity layer on the real snapshot: each class of error the issue found, corrected or
flagged with its evidence, point in time, and in every universe and company card."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest

from universes import company_record, integrity_report, load_universe, open_dataset
from universes.integrity import (
    INTEGRITY_COLUMNS,
    applicable_splits,
    check_fundamentals,
    corporate_actions,
    sic_by_industry,
)
from universes.loader import dataset_point_in_time, dividends_per_share, point_in_time

AS_OF = pd.Timestamp("2024-03-08")


@pytest.fixture(scope="module")
def pit():
    return dataset_point_in_time("snapshot", AS_OF)


def rows(pit, ticker: str, check: str | None = None) -> pd.DataFrame:
    t = pit.integrity
    t = t[t["ticker"] == ticker]
    return t if check is None else t[t["check"] == check]


def year(frame: pd.DataFrame, ticker: str, fiscal_year: int) -> pd.Series:
    r = frame[(frame["ticker"] == ticker) & (frame["fiscal_year"] == fiscal_year)]
    assert len(r) == 1
    return r.iloc[0]


def test_integrity_table_columns_and_actions(pit) -> None:
    t = pit.integrity
    assert list(t.columns) == list(INTEGRITY_COLUMNS)
    assert set(t["action"]) <= {"corrected", "flagged", "dropped year", "excluded"}
    assert t["evidence"].str.len().min() > 20
    flagged = pit.companies["data_flags"] != ""
    assert set(pit.companies.index[flagged]) == set(t["ticker"])


def test_belfb_one_share_class_is_replaced_by_its_total_count(pit) -> None:
    # FY2022's basic count holds class A only (2.14M); FY2021 and the diluted count say ~12.4M.
    c = pit.companies.loc["BELFB"]
    assert c["market_cap"] == pytest.approx(c["price"] * 12.5e6, rel=0.2)
    r = rows(pit, "BELFB", "share class").iloc[0]
    assert (r["action"], r["raw"], r["corrected"]) == ("corrected", 2_143_000, 12_403_000)
    assert "one share class only" in c["data_flags"]
    raw = open_dataset().fundamentals
    assert year(raw, "BELFB", 2022)["shares_basic"] == 2_143_000  # the raw figure stays reachable


def test_nvidia_is_in_us_large_at_its_real_size(snapshot_universes) -> None:
    large = snapshot_universes["us-large"].companies
    assert "NVDA" in large.index
    assert 1.5e12 <= large.loc["NVDA", "market_cap"] <= 2.5e12
    assert "10-for-1 split of 2024-06-10, corrected" in large.loc["NVDA", "data_flags"]


def test_sirius_after_its_reverse_split_is_not_a_small_cap(snapshot_universes) -> None:
    assert "SIRI" not in snapshot_universes["us-small"].tickers
    assert "SIRI" in snapshot_universes["us-large"].tickers
    assert snapshot_universes["us-large"].companies.loc["SIRI", "market_cap"] > 10e9


def test_the_other_mega_caps_are_back_in_us_large(snapshot_universes) -> None:
    large = snapshot_universes["us-large"].companies
    for ticker in ("AVGO", "LRCX", "CMG", "ORLY", "CTAS", "ANET", "AAPL", "MSFT", "AMZN", "META"):
        assert ticker in large.index, ticker
    top = large.sort_values("market_cap", ascending=False).index[:8]
    assert {"AAPL", "MSFT", "NVDA", "AMZN", "META"} <= set(top)


def test_corporate_actions_are_documented_and_agree_with_the_dividends(pit) -> None:
    actions = corporate_actions()
    manifest = open_dataset().manifest
    assert len(applicable_splits(manifest)) == len(actions)
    assert (actions["effective"] > pd.Timestamp(manifest["prices_collected"])).all()
    assert actions["source"].str.len().min() > 40
    assert actions["ticker"].is_unique
    # Where a company pays dividends, the corrected share count must match what dividends paid /
    # dividends per share read off the prices imply (within the 15% that dividend timing allows).
    hist = open_dataset().prices
    f = pit.fundamentals
    latest = f[f["ticker"].isin(actions["ticker"])].sort_values("fiscal_year").groupby("ticker").tail(1)
    latest = latest.set_index("ticker")
    dps = dividends_per_share(hist, latest.index, latest["period_end"])
    implied = latest["dividends_paid"] / dps
    # Sirius XM's restated FY2023 statements are its merged successor's, dividends included.
    payers = implied[(latest["dividends_paid"] > 0) & (dps > 0)].drop("SIRI")
    assert len(payers) >= 12
    ratio = latest.loc[payers.index, "shares_basic"] / payers
    assert ratio.between(0.85, 1.15).all(), ratio[~ratio.between(0.85, 1.15)]


def test_iiin_unit_slips_are_corrected_and_its_f_score_with_them() -> None:
    from screener import load_screen, run_screen

    u = load_universe("us-all")
    assert year(u.fundamentals, "IIIN", 2021)["total_assets"] == pytest.approx(390_710_000)
    assert year(u.fundamentals, "IIIN", 2020)["operating_cash_flow"] == pytest.approx(56_224_000)
    assert "balance sheet FY2021 1,000x (unit slip), corrected" in u.companies.loc["IIIN", "data_flags"]
    screen = load_screen()
    corrected = run_screen(u, screen).table.loc["IIIN", "piotroski_f"]
    raw = open_dataset().fundamentals
    raw = raw[(raw["publish_date"] <= AS_OF) & raw["ticker"].isin(u.tickers)].reset_index(drop=True)
    uncorrected = run_screen(dataclasses.replace(u, fundamentals=raw), screen).table
    # The slipped FY2021 assets shrink FY2022's return on assets and hand IIIN two signals.
    assert (uncorrected.loc["IIIN", "piotroski_f"], corrected) == (8, 6)


def test_no_altman_z_in_the_hundreds_from_unit_slips() -> None:
    from screener import load_screen, run_screen

    table = run_screen(load_universe("us-all"), load_screen()).table
    assert (table["altman_z"] > 100).sum() == 0, table.loc[table["altman_z"] > 100, "altman_z"]


def test_statements_in_units_that_disagree_exclude_the_company(pit) -> None:
    # Century Aluminum's FY2022 balance sheet is in thousands: revenue 1,504x total assets.
    assert "inconsistent units" in pit.companies.loc["CENX", "excluded_reason"]
    assert rows(pit, "CENX", "unit slip")["action"].tolist() == ["flagged", "excluded"]


def test_wnc_capex_is_tied_to_its_pp_and_e_roll_forward(pit) -> None:
    r = rows(pit, "WNC", "capex")
    fy2023 = r[r["fiscal_year"] == 2023].iloc[0]
    # Net PP&E 271.1M -> 325.4M with 45.3M of D&A and 2.5M of acquisitions.
    assert fy2023["raw"] == pytest.approx(5_496_000)
    assert fy2023["corrected"] == pytest.approx(325_444_000 - 271_116_000 + 45_320_000 - 2_450_000)
    assert year(pit.fundamentals, "WNC", 2023)["capex"] == pytest.approx(fy2023["corrected"])
    assert "roll-forward" in fy2023["evidence"] and "net PP&E grew 54.3M" in fy2023["evidence"]


def test_plab_parent_share_of_earnings_is_recorded(pit) -> None:
    fy = year(pit.fundamentals, "PLAB", 2023)
    assert fy["parent_share"] == pytest.approx(125_485_000 / 199_634_000)
    r = rows(pit, "PLAB", "minority interest").iloc[0]
    assert r["action"] == "flagged" and "37%" in r["evidence"]
    plain = year(pit.fundamentals, "AAPL", 2023)
    assert plain["parent_share"] == 1.0


def test_gross_profit_zero_placeholder_becomes_missing(pit) -> None:
    for fy in (2020, 2021, 2022):
        assert np.isnan(year(pit.fundamentals, "IPWR", fy)["gross_profit"])
    assert year(open_dataset().fundamentals, "IPWR", 2021)["gross_profit"] == 0


def test_altm_ticker_collision_is_excluded_with_the_reason(pit, snapshot_universes) -> None:
    assert "ticker collision" in pit.companies.loc["ALTM", "excluded_reason"]
    assert "ALTM" not in snapshot_universes["us-all"].tickers
    evidence = rows(pit, "ALTM", "identity").iloc[0]["evidence"]
    assert "KNTK" in evidence and "1692787" in evidence
    # Crane Co's statements under CR, whose prices since April 2023 are the new Crane Company's.
    assert "ticker collision" in pit.companies.loc["CR", "excluded_reason"]
    # A holding-company reorganisation (new CIK, same prices) is not a collision.
    assert pit.companies.loc["APA", "excluded_reason"] == ""


def test_non_common_lines_are_excluded(pit) -> None:
    for ticker in ("LFMDP", "DWACU"):
        assert "not the common stock" in pit.companies.loc[ticker, "excluded_reason"]


def test_age_of_the_data_on_every_company(pit) -> None:
    c = pit.companies[pit.companies["price"].notna() & pit.companies["fiscal_year"].notna()]
    latest = pit.fundamentals.sort_values("fiscal_year").groupby("ticker").tail(1).set_index("ticker")
    expected = (AS_OF - latest["period_end"].reindex(c.index)).dt.days / 30.4375
    assert np.allclose(c["fundamentals_age_months"], expected)
    stale = c.index[c["fundamentals_age_months"] > 12]
    assert set(stale) == set(pit.integrity.loc[pit.integrity["check"] == "stale", "ticker"])
    assert "months old" in c.loc[stale[0], "data_flags"]


def test_missing_sic_is_inferred_from_the_industry_and_marked(pit) -> None:
    c = pit.companies
    inferred = c[c["sic_source"] == "inferred from industry"]
    table = sic_by_industry()
    assert len(inferred) > 300
    assert (inferred["sic"] == inferred["industry"].map(lambda i: table[i][0])).all()
    assert (c["sic"].isna() == ~c["industry"].isin(list(table)) & c["sic"].isna()).all()
    raw = open_dataset().companies
    assert raw.loc[inferred.index, "sic"].isna().all()


def test_corrections_use_nothing_published_after_the_as_of_date() -> None:
    data = open_dataset()
    when = pd.Timestamp("2022-06-30")
    known = data.fundamentals[data.fundamentals["publish_date"] <= when]
    truncated = data.with_fundamentals(known)
    full = point_in_time(data, when)
    only_past = point_in_time(truncated, when)
    pd.testing.assert_frame_equal(full.fundamentals, only_past.fundamentals)
    pd.testing.assert_frame_equal(full.integrity, only_past.integrity)
    assert full.integrity["fiscal_year"].dropna().max() <= 2022
    # IIIN's FY2021 slip is already caught from the years public on that date.
    assert year(full.fundamentals, "IIIN", 2021)["total_assets"] == pytest.approx(390_710_000)


def test_check_fundamentals_corrects_a_synthetic_unit_slip() -> None:
    # A company's FY2022 balance sheet entered in thousands: the test's own figures.
    base = {c: 0.0 for c in open_dataset().fundamentals.columns if c not in ("ticker", "fiscal_year")}
    frames = []
    for fy, assets in ((2019, 100e6), (2020, 110e6), (2021, 120e6), (2022, 130e3), (2023, 140e6)):
        frames.append({
            **base, "ticker": "TEST", "fiscal_year": fy, "period_end": pd.Timestamp(f"{fy}-12-31"),
            "publish_date": pd.Timestamp(f"{fy + 1}-03-01"), "revenue": 200e6 + fy, "sga": 50e6,
            "operating_income": 20e6, "net_income": 15e6, "pretax_income": 18e6,
            "total_assets": assets, "current_assets": assets / 2, "total_liabilities": assets / 3,
            "total_equity": assets * 2 / 3, "operating_cash_flow": 25e6, "da": 8e6, "capex": 9e6,
            "shares_basic": 10e6, "shares_diluted": 10.2e6,
            "income_continuing_ops": 15e6,
        })
    checked = check_fundamentals(pd.DataFrame(frames))
    assert year(checked.fundamentals, "TEST", 2022)["total_assets"] == pytest.approx(130e6)
    assert year(checked.fundamentals, "TEST", 2022)["total_equity"] == pytest.approx(130e6 * 2 / 3)
    (r,) = checked.findings[checked.findings["check"] == "unit slip"].itertuples()
    assert (r.fiscal_year, r.action) == (2022, "corrected")


def test_universe_integrity_covers_members_and_excluded_candidates(snapshot_universes) -> None:
    u = snapshot_universes["us-small-manufacturing"]
    t = u.integrity
    assert set(t["ticker"]) - set(u.tickers)  # some rows are about companies left out
    outside = t[~t["ticker"].isin(u.tickers)]
    assert (outside.groupby("ticker")["action"].agg(lambda a: "excluded" in set(a))).all()
    assert u.companies["data_flags"].str.len().gt(0).any()


def test_integrity_report_for_data_check(snapshot_universes) -> None:
    u = snapshot_universes["us-all"]
    report = integrity_report(u)
    json.dumps(report)  # JSON-ready
    assert report["companies"] == len(u)
    assert report["counts"]["split"]["corrected"] == len(corporate_actions())
    assert sum(sum(v.values()) for v in report["counts"].values()) == len(report["rows"])
    assert {"ticker": "ALTM"}.items() <= next(e for e in report["excluded"] if e["ticker"] == "ALTM").items()
    row = report["rows"][0]
    assert set(row) == set(INTEGRITY_COLUMNS)


def test_company_record_shows_raw_corrected_and_why() -> None:
    record = company_record("belfb")
    assert record.company["ticker"] == "BELFB"
    raw = year(record.raw_fundamentals, "BELFB", 2022)
    fixed = year(record.fundamentals, "BELFB", 2022)
    assert (raw["shares_basic"], fixed["shares_basic"]) == (2_143_000, 12_403_000)
    (why,) = [r for r in record.integrity if r["check"] == "share class"]
    assert why["raw"] == 2_143_000 and why["corrected"] == 12_403_000 and "class" in why["evidence"]
    assert record.business_summary and "Bel" in record.business_summary
