"""Universe rules, point-in-time loading, custom universes and the errors users can cause."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import run_cli

from universes import UniverseError, find_company, load_universe, normalize_ticker, open_dataset
from universes.errors import DataFileError


def test_universe_counts_match_their_rules(snapshot_universes) -> None:
    everyone = snapshot_universes["us-all"].companies
    assert (everyone["fundamentals_age_months"] <= 18).all()

    eligible = snapshot_universes["us-eligible"].companies
    rules = (
        (everyone["price"] >= 1.0)
        & (everyone["market_cap"] >= 30e6)
        & (everyone["exchange"] != "OTC").fillna(True)
        & (everyone["security_type"] == "common")
        & (everyone["country"].isna() | (everyone["country"] == "US"))
    )
    assert set(eligible.index) == set(everyone.index[rules])
    by_cap = eligible.sort_values(["market_cap", "ticker"], ascending=[False, True])

    large = snapshot_universes["us-large"].companies
    assert set(large.index) == set(by_cap.index[:1000])
    small = snapshot_universes["us-small"].companies
    assert set(small.index) == set(by_cap.index[1000:3000])
    assert small["market_cap"].max() <= large["market_cap"].min()
    # Russell's eligibility floors: no micro caps below $30M, no penny stocks.
    assert small["market_cap"].min() >= 30e6 and (small["price"] >= 1.0).all()

    manufacturing = snapshot_universes["us-small-manufacturing"].companies
    expected = small[small["manufacturing"] & ~small["life_sciences"]]
    assert set(manufacturing.index) == set(expected.index)
    assert manufacturing["sic"].astype(float).between(2000, 3999).all()
    assert not manufacturing["sic"].astype(float).between(2833, 2836).any()


def test_universe_notes_document_the_deviations_from_russell() -> None:
    from universes import universe_notes

    notes = " ".join(universe_notes("us-small"))
    for words in ("$1.00", "$30 million", "banks", "banding", "float", "Nationality"):
        assert words in notes, words
    assert universe_notes("us-small") == universe_notes("us-large")
    assert len(universe_notes("us-small-manufacturing")) > len(universe_notes("us-small"))


def test_list_universes_reads_sizes_from_the_manifest_without_prices(snapshot_universes) -> None:
    from universes import list_universes, open_dataset

    data = open_dataset()
    data.__dict__.pop("prices", None)  # forget the cached prices: listing must not need them
    rows = {r["name"]: r for r in list_universes()}
    assert "prices" not in data.__dict__
    for name, u in snapshot_universes.items():
        assert rows[name]["count"] == len(u), name
        assert rows[name]["as_of"] == "2024-03-08"
    assert any("banks" in n for n in rows["us-small"]["notes"])


def test_market_data_is_consistent(snapshot_universes) -> None:
    c = snapshot_universes["us-all"].companies
    assert np.allclose(c["market_cap"], c["price"] * c["shares"])
    assert (c["adv_usd"] > 0).all()
    assert (c["excluded_reason"] == "").all()
    assert (c["price_date"] <= pd.Timestamp("2024-03-08")).all()


def test_as_of_dates_from_april_2019_load_quickly_enough_for_a_walk_forward() -> None:
    import time

    start = time.perf_counter()
    # The source's first fiscal years end in September 2019: an April 2019 universe loads, empty.
    assert len(load_universe("us-all", as_of="2019-04-05")) == 0
    assert len(load_universe("us-all", as_of="2019-10-15")) == 2  # one fiscal year per company
    early = load_universe("us-all", as_of="2020-03-31")
    assert len(early) > 1500
    assert early.fundamentals["publish_date"].max() <= pd.Timestamp("2020-03-31")
    for month in pd.date_range("2020-06-30", "2024-02-29", freq="6ME"):
        u = load_universe("us-small", as_of=month)
        assert len(u) > 500 and u.prices.dates.max() <= np.datetime64(month)
    # Eight loads; the suite's machine is slow and shared, so this only guards against minutes.
    assert time.perf_counter() - start < 60
    with pytest.raises(UniverseError, match="outside"):
        load_universe("us-all", as_of="2019-03-01")


def test_earlier_as_of_date_is_point_in_time() -> None:
    u = load_universe("us-small", as_of="2023-03-08")
    assert u.as_of == pd.Timestamp("2023-03-08")
    assert u.fundamentals["publish_date"].max() <= pd.Timestamp("2023-03-08")
    assert u.prices.dates.max() <= np.datetime64("2023-03-08")
    assert (u.companies["price_date"] <= pd.Timestamp("2023-03-08")).all()
    latest = u.fundamentals.groupby("ticker")["fiscal_year"].max()
    assert (u.companies["fiscal_year"] == latest.reindex(u.companies.index)).all()


def test_as_of_outside_the_snapshot_is_refused() -> None:
    with pytest.raises(UniverseError, match="outside"):
        load_universe("us-all", as_of="2025-01-01")
    with pytest.raises(UniverseError, match="not a date"):
        load_universe("us-all", as_of="yesterday-ish")


def test_unknown_universe_lists_valid_names() -> None:
    with pytest.raises(UniverseError) as err:
        load_universe("us-smol")
    for name in ("us-all", "us-large", "us-small", "us-small-manufacturing"):
        assert name in str(err.value)


def test_unknown_ticker_suggests_close_matches() -> None:
    with pytest.raises(UniverseError) as err:
        find_company("APPL")
    assert "AAPL" in str(err.value)


def test_ticker_normalisation() -> None:
    assert normalize_ticker(" brk.b ") == "BRK-B"
    assert normalize_ticker("BF/A") == "BF-A"
    assert normalize_ticker("aapl") == "AAPL"


def test_custom_ticker_list_csv_and_xlsx(tmp_path: Path) -> None:
    csv = tmp_path / "mine.csv"
    csv.write_text("Ticker\n aapl\nmsft\nA\n")
    u = load_universe(str(csv))
    assert set(u.tickers) == {"AAPL", "MSFT", "A"}
    xlsx = tmp_path / "mine.xlsx"
    pd.DataFrame({"symbol": ["AAPL", "A"]}).to_excel(xlsx, index=False)
    assert set(load_universe(str(xlsx)).tickers) == {"AAPL", "A"}


def test_custom_list_with_unknown_ticker_names_file_row_and_column(tmp_path: Path) -> None:
    csv = tmp_path / "mine.csv"
    csv.write_text("ticker\nAAPL\nMSFTT\n")
    with pytest.raises(DataFileError) as err:
        load_universe(str(csv))
    e = err.value
    assert (e.path, e.row, e.column) == (str(csv), 3, "ticker")
    assert "MSFT" in str(e)


def test_user_fundamentals_file_overrides_and_is_validated(tmp_path: Path) -> None:
    from universes import open_dataset

    f = open_dataset().fundamentals
    row = f[(f["ticker"] == "AAPL") & (f["fiscal_year"] == 2023)].copy()
    row["net_income"] = 1.0e11
    good = tmp_path / "fund.csv"
    row.to_csv(good, index=False)
    u = load_universe(str(_list(tmp_path, ["AAPL"])), fundamentals_file=good)
    assert u.fundamentals.set_index("fiscal_year").loc[2023, "net_income"] == 1.0e11

    bad = row.copy()
    bad["net_income"] = "lots"
    bad_path = tmp_path / "bad.csv"
    bad.to_csv(bad_path, index=False)
    with pytest.raises(DataFileError) as err:
        load_universe("us-all", fundamentals_file=bad_path)
    assert (err.value.row, err.value.column) == (2, "net_income")

    extra = row.assign(ebitda_guess=1.0)
    extra_path = tmp_path / "extra.csv"
    extra.to_csv(extra_path, index=False)
    with pytest.raises(DataFileError, match="unknown column 'ebitda_guess'"):
        load_universe("us-all", fundamentals_file=extra_path)


def _list(tmp_path: Path, tickers: list[str]) -> Path:
    p = tmp_path / "list.csv"
    p.write_text("ticker\n" + "\n".join(tickers) + "\n")
    return p


def test_users_can_define_their_own_universes(rotation_home: Path) -> None:
    (rotation_home / "universes.toml").write_text(
        '[micro-manufacturing]\ndescription = "tiny makers"\nbase = "us-all"\nmanufacturing = true\nmax_market_cap = 3e8\n'
    )
    u = load_universe("micro-manufacturing")
    assert len(u) > 0
    assert u.companies["manufacturing"].all()
    assert (u.companies["market_cap"] <= 3e8).all()
    (rotation_home / "universes.toml").write_text('[x]\nbase = "us-all"\nmax_mcap = 1\n')
    with pytest.raises(UniverseError, match="unknown setting 'max_mcap'"):
        load_universe("x")


def test_cli_universes_json_contract() -> None:
    done = run_cli("universes", "--format", "json")
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    names = {r["name"]: r for r in rows}
    assert set(names) >= {"us-all", "us-large", "us-small", "us-small-manufacturing"}
    for r in rows:
        assert set(r) >= {"name", "as_of", "count", "description"}
        assert r["as_of"] == "2024-03-08"
    assert names["us-large"]["count"] == 1000


def test_cli_show_json_contract() -> None:
    done = run_cli("show", "aapl", "--format", "json")
    assert done.returncode == 0, done.stderr
    card = json.loads(done.stdout)
    assert card["ticker"] == "AAPL" and card["sic"] == 3571
    years = {y["fiscal_year"]: y for y in card["fundamentals"]}
    assert years[2023]["revenue"] == 383_285_000_000
    assert set(years[2023]) >= {
        "fiscal_year",
        "revenue",
        "net_income",
        "total_assets",
        "publish_date",
    }


def test_cli_bad_input_exits_non_zero_and_writes_nothing(tmp_path: Path) -> None:
    done = run_cli("screen", "--universe", "nope", cwd=tmp_path)
    assert done.returncode == 2
    assert "us-small-manufacturing" in done.stderr
    done = run_cli("show", "ZZZZQ", cwd=tmp_path)
    assert done.returncode == 2 and "Unknown ticker" in done.stderr
    bad = tmp_path / "bad.csv"
    bad.write_text("name\nfoo\n")
    done = run_cli("screen", "--universe", str(bad), cwd=tmp_path)
    assert done.returncode == 2 and str(bad) in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.csv"]


def test_dividends_per_share_from_prices() -> None:
    from universes import open_dataset
    from universes.loader import dividends_per_share

    data = open_dataset()
    # Apple paid 0.24 + 0.24 + 0.24 + 0.23 + ... per share with ex-dates in FY2023 (Oct 2022 - Sep 2023):
    # 0.23 (Nov 2022) + 0.23 (Feb 2023) + 0.24 (May 2023) + 0.24 (Aug 2023) = 0.94.
    dps = dividends_per_share(
        data.prices, pd.Index(["AAPL"]), pd.Series({"AAPL": pd.Timestamp("2023-09-30")})
    )
    assert dps["AAPL"] == pytest.approx(0.94, abs=0.005)


def _user_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "mine.csv"
    path.write_text(text)
    return path


def test_user_file_publish_date_before_period_end_is_refused(tmp_path: Path) -> None:
    path = _user_file(
        tmp_path,
        "ticker,fiscal_year,period_end,publish_date,net_income\nAAPL,2023,2023-09-30,2023-09-01,1e11\n",
    )
    with pytest.raises(DataFileError, match="before the period end") as err:
        load_universe("us-all", fundamentals_file=path)
    assert (err.value.row, err.value.column) == (2, "publish_date")


def test_user_rows_published_later_keep_the_snapshot_years(tmp_path: Path) -> None:
    path = _user_file(
        tmp_path,
        "ticker,fiscal_year,period_end,publish_date,net_income\nAAPL,2023,2023-09-30,2025-01-15,1e11\n",
    )
    u = load_universe("us-all", fundamentals_file=path)
    apple = u.fundamentals[(u.fundamentals["ticker"] == "AAPL") & (u.fundamentals["fiscal_year"] == 2023)]
    assert apple["net_income"].item() == 96_995_000_000
    assert any("published after 2024-03-08 and are ignored" in n for n in u.notes)


def test_a_partial_user_row_keeps_the_rest_of_the_year(tmp_path: Path) -> None:
    path = _user_file(
        tmp_path,
        "ticker,fiscal_year,period_end,publish_date,net_income\nAAPL,2023,2023-09-30,2023-11-03,1e11\n",
    )
    u = load_universe("us-all", fundamentals_file=path)
    apple = u.fundamentals[(u.fundamentals["ticker"] == "AAPL") & (u.fundamentals["fiscal_year"] == 2023)]
    assert apple["net_income"].item() == 1e11
    assert apple["revenue"].item() == 383_285_000_000 and apple["total_assets"].item() == 352_583_000_000
    assert any("1 merged into the dataset's" in n for n in u.notes)
    # `rotation show --fundamentals` shows the figures the screen computes from.
    from universes import company_record

    record = company_record("AAPL", fundamentals_file=path)
    shown = record.fundamentals.set_index("fiscal_year")
    assert shown.loc[2023, "net_income"] == 1e11 and shown.loc[2023, "revenue"] == 383_285_000_000
    assert record.raw_fundamentals.set_index("fiscal_year").loc[2023, "net_income"] == 1e11


def test_user_costs_entered_as_negative_numbers_are_refused(tmp_path: Path) -> None:
    path = _user_file(
        tmp_path,
        "ticker,fiscal_year,period_end,publish_date,cogs\nAAPL,2023,2023-09-30,2023-11-03,-214137000000\n",
    )
    with pytest.raises(DataFileError, match="flip the sign") as err:
        load_universe("us-all", fundamentals_file=path)
    assert (err.value.row, err.value.column) == (2, "cogs")


def test_a_new_user_year_needs_the_required_figures(tmp_path: Path) -> None:
    path = _user_file(
        tmp_path,
        "ticker,fiscal_year,period_end,publish_date,revenue\nAAPL,2018,2018-09-29,2018-11-05,265595000000\n",
    )
    with pytest.raises(DataFileError, match="operating_income, net_income") as err:
        load_universe("us-all", fundamentals_file=path)
    assert err.value.row == 2


def test_a_user_year_in_thousands_is_corrected_with_a_note(tmp_path: Path) -> None:
    # Apple's FY2023 balance sheet typed in thousands of dollars (as many exports show it).
    f = open_dataset().fundamentals
    row = f[(f["ticker"] == "AAPL") & (f["fiscal_year"] == 2023)].copy()
    from universes.integrity import BALANCE_ITEMS

    for c in BALANCE_ITEMS:
        row[c] = row[c] / 1000
    path = tmp_path / "thousands.csv"
    row.to_csv(path, index=False)
    u = load_universe(str(_list(tmp_path, ["AAPL"])), fundamentals_file=path)
    assert u.fundamentals.set_index("fiscal_year").loc[2023, "total_assets"] == pytest.approx(352_583_000_000)
    assert any("AAPL FY2023 unit slip" in n for n in u.notes)


def test_readme_worked_example_of_a_simfin_export_row(tmp_path: Path) -> None:
    # The README's example: Photronics FY2023 from a SimFin-style export (costs negative, in USD),
    # converted to this schema (costs positive) and given a later publish date than SimFin's.
    path = _user_file(
        tmp_path,
        "ticker,fiscal_year,period_end,publish_date,revenue,cogs,operating_income,net_income,"
        "income_continuing_ops,total_assets,total_equity,capex,dividends_paid\n"
        "PLAB,2023,2023-10-31,2023-12-26,892076000,555914000,253050000,125485000,"
        "199634000,1526221000,1275609000,131412000,0\n",
    )
    u = load_universe("us-all", fundamentals_file=path)
    plab = u.fundamentals.set_index(["ticker", "fiscal_year"]).loc[("PLAB", 2023)]
    assert plab["gross_profit"] == 336_162_000  # blank in the file: the snapshot's figure kept
    assert plab["parent_share"] == pytest.approx(125_485_000 / 199_634_000)


def test_the_point_in_time_view_is_cached_between_runs_and_a_damaged_cache_is_rebuilt(tmp_path, monkeypatch) -> None:
    from universes.datasets import dataset_key
    from universes.loader import _point_in_time_cached, pit_cache_folder, point_in_time

    monkeypatch.setenv("ROTATION_CACHE", str(tmp_path / "cache"))
    data = open_dataset()
    fresh = point_in_time(data, data.as_of)
    _point_in_time_cached.cache_clear()
    first = _point_in_time_cached(dataset_key("snapshot"), data.as_of)  # computes and writes
    folder = pit_cache_folder(dataset_key("snapshot"), data.as_of)
    assert folder.is_relative_to(tmp_path / "cache") and (folder / "point-in-time.pickle").is_file()
    _point_in_time_cached.cache_clear()
    again = _point_in_time_cached(dataset_key("snapshot"), data.as_of)  # read back
    for part in ("companies", "fundamentals", "integrity"):
        pd.testing.assert_frame_equal(getattr(again, part), getattr(fresh, part))
        pd.testing.assert_frame_equal(getattr(first, part), getattr(fresh, part))
    (folder / "point-in-time.pickle").write_bytes(b"not a pickle")
    _point_in_time_cached.cache_clear()
    rebuilt = _point_in_time_cached(dataset_key("snapshot"), data.as_of)
    pd.testing.assert_frame_equal(rebuilt.companies, fresh.companies)
    _point_in_time_cached.cache_clear()


def test_isin_is_pandas_isin() -> None:
    from universes.tickers import isin

    values = pd.concat([pd.Series(["A", "B"], dtype="string"), pd.Series(["C", None, "A"], dtype="string")], ignore_index=True)
    wanted = [
        ["A", "C"], pd.Index(["A"], dtype=object), pd.Index(["A", "B"], dtype="string"), np.array(["A", None], dtype=object),
        {"B"}, [], [1, 2], pd.Series(["C", None], dtype="string"), pd.Series(["A"], dtype="category"),
    ]
    for w in wanted:
        for v in (values, pd.Index(values), values.astype(object)):
            np.testing.assert_array_equal(isin(v, w), np.asarray(v.isin(w), dtype=bool))
    np.testing.assert_array_equal(isin(values, (t for t in ["B"])), [False, True, False, False, False])
