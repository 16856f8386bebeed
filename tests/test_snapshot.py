"""Integrity of the embedded snapshot: the files the tool ships are what the manifest says."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd
import pytest

from universes.datasets import SNAPSHOT_DIR, open_dataset
from universes.schema import COMPANY_COLUMNS, FUNDAMENTAL_COLUMNS

AS_OF = pd.Timestamp("2024-03-08")


@pytest.fixture(scope="module")
def manifest() -> dict:
    return json.loads((SNAPSHOT_DIR / "manifest.json").read_text())


@pytest.fixture(scope="module")
def data():
    return open_dataset("snapshot")


def test_manifest_checksums_and_row_counts_match_the_files(manifest: dict) -> None:
    for name, info in manifest["files"].items():
        path = SNAPSHOT_DIR / name
        assert hashlib.sha256(path.read_bytes()).hexdigest() == info["sha256"], name
        assert pd.read_parquet(path).shape[0] == info["rows"], name
    assert manifest["as_of"] == "2024-03-08"
    assert set(manifest["sources"]) >= {"fundamentals", "sic", "prices"}


def test_snapshot_is_well_under_25_mb() -> None:
    total = sum(p.stat().st_size for p in SNAPSHOT_DIR.iterdir())
    assert total < 18e6, total


def test_tickers_are_unique_and_columns_complete(data) -> None:
    companies = data.companies
    assert companies["ticker"].is_unique
    assert list(companies.columns)[: len(COMPANY_COLUMNS)] == list(COMPANY_COLUMNS)
    assert list(data.fundamentals.columns) == list(FUNDAMENTAL_COLUMNS)
    assert not data.fundamentals.duplicated(["ticker", "fiscal_year"]).any()
    assert set(data.fundamentals["ticker"]) <= set(companies["ticker"])


def test_no_fiscal_year_was_published_after_the_as_of_date(data) -> None:
    assert data.fundamentals["publish_date"].max() <= AS_OF
    assert (data.fundamentals["publish_date"] >= data.fundamentals["period_end"]).all()
    assert data.prices.dates.max() <= np.datetime64(AS_OF)


def test_most_companies_have_three_or_more_fiscal_years(data) -> None:
    years = data.fundamentals.groupby("ticker")["fiscal_year"].count()
    assert (years >= 3).mean() > 0.8


def test_prices_cover_three_years_for_every_company(data) -> None:
    p = data.prices
    assert p.dates.min() <= np.datetime64("2021-03-08")
    assert set(p.tickers) == set(data.companies["ticker"])
    assert (p.close[~np.isnan(p.close)] > 0).all()
    assert (p.adj_close[~np.isnan(p.adj_close)] > 0).all()


def test_one_sign_convention(data) -> None:
    f = data.fundamentals
    # Expenses and outflows are positive magnitudes (a handful of SimFin rows are negative).
    assert (f["cogs"].dropna() >= 0).mean() > 0.99
    assert (f["sga"].dropna() >= 0).mean() > 0.99
    assert (f["dividends_paid"] >= 0).mean() > 0.99
    assert (f["capex"] >= 0).mean() > 0.9
    # Results keep their sign: losses exist.
    assert (f["net_income"] < 0).mean() > 0.2


def test_flags_follow_sic(snapshot_universes) -> None:
    c = snapshot_universes["us-all"].companies
    sic = c["sic"].astype("float64")
    assert (c["manufacturing"] == sic.between(2000, 3999)).all()
    assert (c["life_sciences"] == sic.between(2833, 2836)).all()
    assert not (c["life_sciences"] & ~c["manufacturing"]).any()


@pytest.mark.parametrize(
    ("ticker", "year", "field", "value"),
    [
        # Apple Inc. Form 10-K for the fiscal year ended 2023-09-30 (filed 2023-11-03), USD.
        ("AAPL", 2023, "revenue", 383_285_000_000),
        ("AAPL", 2023, "operating_income", 114_301_000_000),
        ("AAPL", 2023, "net_income", 96_995_000_000),
        ("AAPL", 2023, "total_assets", 352_583_000_000),
        ("AAPL", 2023, "total_equity", 62_146_000_000),
        ("AAPL", 2023, "operating_cash_flow", 110_543_000_000),
        ("AAPL", 2023, "capex", 10_959_000_000),
        # Agilent Technologies Form 10-K for the fiscal year ended 2019-10-31.
        ("A", 2019, "revenue", 5_163_000_000),
        ("A", 2019, "net_income", 1_071_000_000),
        ("A", 2019, "total_assets", 9_452_000_000),
    ],
)
def test_figures_match_the_10k(data, ticker: str, year: int, field: str, value: int) -> None:
    f = data.fundamentals
    row = f[(f["ticker"] == ticker) & (f["fiscal_year"] == year)]
    assert len(row) == 1
    assert row[field].iloc[0] == value
