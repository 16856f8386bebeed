"""Ranking invariants, filters, screen files and the screen command on the real snapshot."""

from __future__ import annotations

import dataclasses
import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import run_cli

from screener import CONTRACT_COLUMNS, Screen, ScreenError, load_screen, run_screen, save_screen
from screener.ranking import percentile
from screener.screens import apply_filters


@pytest.fixture(scope="module")
def small_result():
    from universes import load_universe

    return run_screen(load_universe("us-small"), load_screen())


def test_composite_quality_value_are_within_0_and_100(small_result) -> None:
    t = small_result.table
    for col in ("composite", "quality", "value"):
        assert t[col].between(0, 100).all(), col
    contribs = t[[c for c in t.columns if c.startswith("contrib_")]].sum(axis=1)
    assert np.allclose(contribs - t["flag_penalty"], t["composite"])
    assert (t["flag_penalty"] >= 0).all() and (t["flag_penalty"] > 0).any()


def test_every_factor_can_be_weighted() -> None:
    from screener import FACTORS
    from universes import load_universe

    u = load_universe("us-small-manufacturing")
    r = run_screen(u, Screen(weights=dict.fromkeys(FACTORS, 1.0)))
    for name in FACTORS:
        assert r.table[f"pct_{name}"].between(0, 1).all(), name
        assert r.table[name].notna().any(), name


def test_penalties_take_points_for_each_raised_flag(small_result) -> None:
    t = small_result.table
    penalties = small_result.screen.penalties
    expected = sum(t[f"flag_{k}"] * v for k, v in penalties.items())
    contribs = t[[c for c in t.columns if c.startswith("contrib_")]].sum(axis=1)
    assert np.allclose(t["flag_penalty"], np.minimum(expected, contribs))


def test_filters_are_respected(small_result) -> None:
    ranked = small_result.ranked
    f = small_result.screen.filters
    assert len(ranked) > 20
    assert ranked["manufacturing"].all() and not ranked["life_sciences"].any()
    assert (ranked["adv_usd"] >= f["min_adv_usd"]).all()
    assert (ranked["piotroski_f"] >= f["min_piotroski"]).all()
    assert ranked["z_zone"].isin(f["z_zones"]).all()
    assert list(ranked["rank"]) == list(range(1, len(ranked) + 1))
    assert ranked["composite"].is_monotonic_decreasing


def test_each_filter_removes_exactly_the_rows_that_fail_it(small_result) -> None:
    t = small_result.table
    cases = {
        "min_market_cap": (5e8, lambda x: x["market_cap"] >= 5e8),
        "max_market_cap": (1e9, lambda x: x["market_cap"] <= 1e9),
        "sectors": (["Industrials"], lambda x: x["sector"] == "Industrials"),
        "sic_ranges": ([[3500, 3599]], lambda x: x["sic"].astype(float).between(3500, 3599)),
        "min_quality": (60, lambda x: x["quality"] >= 60),
        "max_price_to_fair_value": (0.8, lambda x: x["price_to_fair_value"] <= 0.8),
        "z_zones": (["distress"], lambda x: x["z_zone"] == "distress"),
        "max_fundamentals_age_months": (6, lambda x: x["fundamentals_age_months"] <= 6),
        "exclude_flags": (["revenue_collapse"], lambda x: ~x["flag_revenue_collapse"]),
        "only_cheap": (True, lambda x: x["price"] <= x["buy_below"]),
        "max_uncertainty": ("medium", lambda x: x["uncertainty"].isin(["low", "medium"])),
    }
    for key, (value, expected) in cases.items():
        got = apply_filters(t, {key: value})
        assert got.equals(expected(t).fillna(False).astype(bool)), key
        assert 0 < got.sum() < len(t), key


def test_ranking_is_stable_under_row_order(small_result) -> None:
    from universes import load_universe

    u = load_universe("us-small")
    shuffled = u.companies.sample(frac=1.0, random_state=7)
    u2 = dataclasses.replace(
        u,
        companies=shuffled,
        fundamentals=u.fundamentals.sample(frac=1.0, random_state=3),
        reference_companies=u.reference_companies.sample(frac=1.0, random_state=5),
        reference_fundamentals=u.reference_fundamentals.sample(frac=1.0, random_state=9),
    )
    again = run_screen(u2, load_screen())
    a = small_result.ranked[["ticker", "rank", "composite"]].reset_index(drop=True)
    b = again.ranked[["ticker", "rank", "composite"]].reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-12)


def test_missing_values_never_sort_to_the_top() -> None:
    v = pd.Series([1.0, 2.0, np.nan, 3.0])
    worst = percentile(v, None, higher_is_better=True, missing="worst")
    neutral = percentile(v, None, higher_is_better=True, missing="neutral")
    assert worst[2] == 0.0 and neutral[2] == 0.5
    assert list(worst[[0, 1, 3]]) == pytest.approx([0.5 / 3, 1.5 / 3, 2.5 / 3])
    lower_better = percentile(v, None, higher_is_better=False, missing="worst")
    assert lower_better[0] > lower_better[3]


def test_percentile_is_pandas_groupby_ranks_bit_for_bit() -> None:
    """Numeric factors are ranked on arrays; the numbers are those of pandas' grouped ranks."""
    rng = np.random.default_rng(7)
    for trial in range(300):
        n = int(rng.integers(0, 80))
        pool = [0.0, -0.0, 1.0, 2.5, np.inf, -np.inf, np.nan] if trial % 2 else list(rng.normal(size=5))
        v = pd.Series(rng.choice(pool, size=n), index=pd.Index([f"T{i}" for i in range(n)], dtype=object))
        groups = pd.Series(rng.choice(["A", "B", None], size=n), index=v.index, dtype="string")
        for g in (groups, None):
            for higher, missing in ((True, "worst"), (False, "neutral")):
                oriented = (v if higher else -v).where(np.isfinite(v))
                grouped = oriented.groupby(g) if g is not None else None
                rank = grouped.rank(method="average") if grouped is not None else oriented.rank(method="average")
                n_ok = grouped.transform("count") if grouped is not None else oriented.notna().sum()
                expected = ((rank - 0.5) / n_ok).fillna(0.0 if missing == "worst" else 0.5).astype("float64")
                got = percentile(v, g, higher, missing)
                np.testing.assert_array_equal(got.to_numpy().view(np.int64), expected.to_numpy().view(np.int64))
                assert got.index.equals(v.index)


def test_peer_group_universe_ranks_across_sectors(small_result) -> None:
    from universes import load_universe

    screen = Screen(weights={"price_to_fair_value": 1.0}, peer_group="universe")
    r = run_screen(load_universe("us-small"), screen)
    t = r.table[r.table["price_to_fair_value"].notna()]
    cheapest = t["price_to_fair_value"].idxmin()
    assert r.table.loc[cheapest, "pct_price_to_fair_value"] == t["pct_price_to_fair_value"].max()


BAD_SCREENS = [
    ("[weights]\nmomentum = 1.0\n", r"unknown factor 'momentum'.*price_to_fair_value"),
    ("[assumptions]\nwacc = 0.08\n", r"unknown assumption 'wacc'.*risk_free_rate"),
    (
        "[assumptions]\ndiscount_rate = 0.09\n",
        r"'discount_rate' is no longer used.*equity_risk_premium",
    ),
    (
        "[assumptions]\nterminal_growth = 0.2\n",
        r"terminal_growth must be at least -0\.05 and below risk_free_rate",
    ),
    ("[penalties]\ncheap_look = 5.0\n", r"unknown red flag 'cheap_look'.*revenue_collapse"),
    ('[filters]\nexclude_flags = ["nope"]\n', r"exclude_flags.*data_integrity"),
    (
        "[assumptions]\nmargin_of_safety = [0.5, 0.2, 0.3, 0.4, 0.6]\n",
        "margin_of_safety must list 5 rising discounts",
    ),
]


@pytest.mark.parametrize(("text", "message"), BAD_SCREENS)
def test_screen_file_errors_name_the_culprit_and_list_valid_ones(
    tmp_path: Path, text: str, message: str
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(text)
    with pytest.raises(ScreenError, match=message) as err:
        load_screen(bad)
    assert str(bad) in str(err.value)


def test_unknown_filter_and_screen_names_list_the_valid_ones(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[filters]\nmin_mcap = 1e8\n")
    with pytest.raises(ScreenError) as err:
        load_screen(bad)
    assert (
        "min_mcap" in str(err.value)
        and "min_market_cap" in str(err.value)
        and str(bad) in str(err.value)
    )
    with pytest.raises(ScreenError, match=r"Unknown screen 'nope'.*small-cap-value-quality"):
        load_screen("nope")


def test_screen_save_and_load_round_trip(tmp_path: Path) -> None:
    s = (
        load_screen()
        .with_filters(min_market_cap=2.5e8, sectors=["Industrials", "Technology"], only_cheap=True)
        .with_weights(altman_z=2.0)
        .with_penalties(peak_margin=7.5, share_dilution=0)
    )
    assert "share_dilution" not in s.penalties
    path = save_screen(s, tmp_path / "mine.toml")
    assert load_screen(path) == s
    saved = save_screen(Screen(name="My screen"))
    assert saved.name == "my-screen.toml"
    assert load_screen("my-screen") == Screen(name="My screen")


def test_cli_screen_json_contract_and_order() -> None:
    done = run_cli("screen", "--format", "json", "--top", "30")
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert len(rows) == 30
    for r in rows:
        assert set(CONTRACT_COLUMNS) <= set(r)
    composites = [r["composite"] for r in rows]
    assert composites == sorted(composites, reverse=True)
    assert [r["rank"] for r in rows] == list(range(1, 31))


def test_cli_screen_csv_has_every_passing_row() -> None:
    done = run_cli("screen", "--format", "csv", "--universe", "us-small")
    assert done.returncode == 0, done.stderr
    frame = pd.read_csv(io.StringIO(done.stdout))
    assert list(frame.columns[: len(CONTRACT_COLUMNS)]) == list(CONTRACT_COLUMNS)
    assert frame["composite"].is_monotonic_decreasing and len(frame) > 50
