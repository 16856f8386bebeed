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


def test_snapshot_stays_under_30_mb() -> None:
    total = sum(p.stat().st_size for p in SNAPSHOT_DIR.iterdir())
    assert total < 30e6, total


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


def test_prices_from_2019_for_every_listed_company(data) -> None:
    p = data.prices
    assert p.dates.min() == np.datetime64("2019-01-02")
    listed = data.companies[data.companies["listed"]]
    assert set(p.tickers) == set(listed["ticker"])
    assert (p.close[~np.isnan(p.close)] > 0).all()
    assert (p.adj_close[~np.isnan(p.adj_close)] > 0).all()
    # AAPL's first close in the raw file (2019-01-02), as traded: 157.92 before the 2020 4-for-1
    # split, split-adjusted to 39.48.
    assert p.series("AAPL", "close").iloc[0] == pytest.approx(39.48, abs=0.01)


def test_price_file_is_compact(manifest: dict) -> None:
    import pyarrow.parquet as pq

    schema = pq.read_schema(SNAPSHOT_DIR / "prices.parquet")
    assert str(schema.field("close").type) == "float"
    assert str(schema.field("adj_factor").type) == "float"
    assert str(schema.field("date").type) == "date32[day]"
    meta = pq.ParquetFile(SNAPSHOT_DIR / "prices.parquet").metadata
    column = meta.row_group(0).column(0)
    assert column.path_in_schema == "ticker" and "RLE_DICTIONARY" in str(column.encodings)
    assert column.compression == "ZSTD"
    assert manifest["price_window"] == ["2019-01-02", "2024-03-08"]


def test_companies_that_stopped_trading_keep_their_last_figures(data, manifest: dict) -> None:
    c = data.companies
    gone = c[~c["listed"]]
    assert len(gone) == manifest["counts"]["companies_not_listed"] > 500
    assert not set(gone["ticker"]) & set(data.prices.tickers)
    assert set(gone["ticker"]) <= set(data.fundamentals["ticker"])
    assert "companies listed on 2024-03-08" in manifest["notes"]["survivorship"]
    # CECO Environmental's statements sit under its pre-2023 ticker, which has no prices.
    assert not c.loc["CECE", "listed"] and "CECO" in c.loc["CECE", "sec_tickers"]


def test_profile_fields(data) -> None:
    apple = data.companies.loc["AAPL"]
    assert apple["fiscal_year_end_month"] == 9
    assert apple["employees"] > 100_000
    assert apple["cik"] == 320193 and apple["country"] == "US"
    assert "personal computers" in data.profiles.loc["AAPL", "business_summary"]
    assert data.companies.loc["LFMDP", "security_type"] == "preferred"


def test_manifest_states_restatements_with_the_count(manifest: dict) -> None:
    n = manifest["counts"]["restated_after_as_of"]
    assert 1000 < n < manifest["counts"]["fundamental_rows"]
    assert f"{n:,}" in manifest["notes"]["restatements"]
    assert manifest["prices_collected"] == "2024-03-09"


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


def test_cached_price_matrices_equal_the_parquet_and_follow_the_file(tmp_path) -> None:
    """The price matrices are memory-mapped from the cache folder after the first run; they
    must be the Parquet file's numbers exactly, and a rewritten file must get a new cache."""
    import os
    import shutil

    from universes.datasets import PriceHistory, price_cache_folder

    source = SNAPSHOT_DIR / "prices.parquet"
    fresh = PriceHistory.from_parquet(source)
    fresh.write_cache(tmp_path / "c")
    cached = PriceHistory.read_cache(tmp_path / "c")
    assert cached is not None
    assert (cached.dates == fresh.dates).all() and cached.tickers.equals(fresh.tickers)
    for m in PriceHistory.MATRICES:
        np.testing.assert_array_equal(getattr(cached, m), getattr(fresh, m))
    assert PriceHistory.read_cache(tmp_path / "missing") is None
    (tmp_path / "c" / "close.npy").write_bytes(b"not an array")
    assert PriceHistory.read_cache(tmp_path / "c") is None  # a damaged cache is rebuilt, never trusted
    copy = tmp_path / "prices.parquet"
    shutil.copy2(source, copy)
    first = price_cache_folder("x", copy)
    os.utime(copy, ns=(1, 1))  # rewritten: a new modification time
    assert price_cache_folder("x", copy) != first
    assert open_dataset().prices.close.shape == fresh.close.shape


def test_a_new_price_cache_replaces_the_old_ones(tmp_path, monkeypatch) -> None:
    from universes.datasets import price_cache_folder, read_dataset_files

    monkeypatch.setenv("ROTATION_CACHE", str(tmp_path))
    stale = tmp_path / "prices" / "snapshot-0123456789abcdef"
    stale.mkdir(parents=True)
    dataset = read_dataset_files(SNAPSHOT_DIR, "snapshot")
    assert dataset.prices.close.size
    assert not stale.exists()
    assert [p.name for p in (tmp_path / "prices").iterdir()] == [price_cache_folder("snapshot", SNAPSHOT_DIR / "prices.parquet").name]
