"""The optimiser on the real snapshot: constraints hold, shadow prices are right, infeasible
sets are diagnosed in user terms, integer constraints are met, trades never overspend."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import run_cli

from optimizer import (
    ConstraintSettings,
    InfeasibleError,
    Limit,
    Range,
    RotationOptimizer,
    load_constraints,
    settings_to_toml,
)
from optimizer.constraints import ConstraintError
from universes.holdings import Holdings

TOL = 1e-6


@pytest.fixture(scope="module")
def setup():
    from screener import load_screen, run_screen
    from universes import load_universe

    u = load_universe("us-small-manufacturing")
    return u, run_screen(u, load_screen())


@pytest.fixture
def opt(setup):
    u, r = setup
    return RotationOptimizer(u, r)


def test_shipped_constraints_equal_the_documented_defaults() -> None:
    assert load_constraints() == ConstraintSettings()


def test_default_rotation_meets_every_constraint(opt) -> None:
    s = load_constraints()
    res = opt.solve(s)
    w = res.weights["weight_after"]
    assert res.status == "optimal"
    # costs are paid from the budget: the cash buffer holds after them
    assert abs(w.sum() + res.stats["costs"] - (1 - s.cash_buffer)) < TOL
    assert (w >= -TOL).all() and (w <= s.max_weight.value + TOL).all()
    assert res.manufacturing["after"] >= s.manufacturing.min - TOL
    util = res.sectors.set_index("sector").loc["Utilities", "after"]
    assert util <= 0.05 + TOL
    frame = next(iter(opt._frames.values()))
    assert frame.problem().is_dpp()
    t = res.trades
    assert t.cash_after >= s.cash_buffer * t.portfolio_value
    assert (t.trades["shares"] % s.lot_size == 0).all()
    assert set(t.trades["side"]) <= {"BUY", "SELL"}
    assert np.allclose(t.trades["notional"], t.trades["shares"] * t.trades["price"])


def test_a_substituted_first_solve_changes_no_bit(setup, monkeypatch) -> None:
    """A backtest solves each date's problem once, with the values substituted: the result is
    the parametrised solve's, bit for bit; a second solve goes parametrised."""
    import cvxpy as cp

    from optimizer import SolverSettings

    substituted: list[bool] = []
    solve = cp.Problem.solve
    monkeypatch.setattr(cp.Problem, "solve", lambda self, **kw: (substituted.append(kw["ignore_dpp"]), solve(self, **kw))[1])
    u, r = setup
    s = load_constraints().change(risk_aversion=3.7, costs=replace(load_constraints().costs, holding_years=1.7))
    once = RotationOptimizer(u, r, solver=SolverSettings(substitute_first=True))
    a, b = RotationOptimizer(u, r).solve(s), once.solve(s)
    pd.testing.assert_frame_equal(a.weights, b.weights, check_exact=True)
    pd.testing.assert_frame_equal(a.trades.trades, b.trades.trades, check_exact=True)
    pd.testing.assert_frame_equal(a.constraints, b.constraints, check_exact=True)
    assert a.objective == b.objective
    again = s.change(risk_aversion=2.0)
    fresh, resolved = RotationOptimizer(u, r).solve(again), once.solve(again)
    np.testing.assert_allclose(resolved.weights["weight_after"], fresh.weights["weight_after"], rtol=0, atol=1e-9)
    assert substituted == [False, True, False, False]


def test_nanmedian_is_numpys_bit_for_bit() -> None:
    from optimizer.risk import nanmedian

    rng = np.random.default_rng(3)
    for shape in ((1, 1), (7, 5), (252, 40), (30, 700)):
        a = np.round(rng.normal(size=shape), 2)
        a[rng.random(shape) < 0.3] = np.nan
        a[:, 0] = np.nan
        a[0, :] = np.nan
        for axis in (0, 1):
            with pytest.warns(RuntimeWarning, match="All-NaN slice"):
                expected = np.nanmedian(a, axis=axis)
            with pytest.warns(RuntimeWarning, match="All-NaN slice"):
                got = nanmedian(a, axis=axis)
            np.testing.assert_array_equal(np.nan_to_num(got, nan=9.0).view(np.int64), np.nan_to_num(expected, nan=9.0).view(np.int64))


def _clean_returns_as_first_written(adj_close: np.ndarray, sectors: np.ndarray) -> np.ndarray:
    """clean_returns with every day's market and sector medians taken (before they were
    taken only where a gap reads them)."""
    from optimizer.risk import nanmedian

    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.diff(np.log(adj_close), axis=0)
    r[~np.isfinite(r)] = np.nan
    med = nanmedian(r, axis=0)
    mad = nanmedian(np.abs(r - med), axis=0) * 1.4826
    mad = np.where(np.isfinite(mad) & (mad > 0), mad, np.nanmedian(mad[mad > 0]) if np.any(mad > 0) else 0.02)
    lo = np.clip(np.nan_to_num(med - 6 * mad, nan=-0.5), -0.5, None)
    hi = np.clip(np.nan_to_num(med + 6 * mad, nan=0.5), None, 0.5)
    r = np.clip(r, lo, hi)
    missing = np.isnan(r)
    if missing.any():
        market = np.nan_to_num(nanmedian(r, axis=1))
        fill = np.repeat(market[:, None], r.shape[1], axis=1)
        for s in np.unique(sectors):
            cols = sectors == s
            if cols.sum() > 1:
                sector_med = nanmedian(r[:, cols], axis=1)
                fill[:, cols] = np.where(np.isnan(sector_med), market, sector_med)[:, None]
        r = np.where(missing, fill, r)
    return r


def test_gaps_are_filled_as_with_every_median_taken() -> None:
    """The medians are taken only where a gap reads them: the same numbers, in the same order
    of memory (the factor model's sums run in it), as with every day's medians."""
    import warnings

    from optimizer.risk import clean_returns

    rng = np.random.default_rng(5)
    prices = np.exp(np.cumsum(rng.normal(0, 0.02, size=(61, 40)), axis=0))
    prices[:17, 3] = np.nan  # a listing
    prices[rng.random(prices.shape) < 0.05] = np.nan  # halts
    prices[:, 7] = np.nan  # never traded
    prices[10:14, :3] = np.nan  # a whole sector out for a few days
    prices[20, :] = np.nan  # a day without any price
    prices[5:9, 39] = np.nan  # the one name of its sector
    sectors = np.array(["A"] * 3 + ["B"] * 15 + ["C"] * 21 + ["D"])
    for layout in (prices, np.asfortranarray(prices), prices[:, :20], np.exp(rng.normal(size=(30, 6)))):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices
            got, expected = clean_returns(layout, sectors[: layout.shape[1]]), _clean_returns_as_first_written(layout, sectors[: layout.shape[1]])
        np.testing.assert_array_equal(got.view(np.int64), expected.view(np.int64))
        assert (got.flags["C_CONTIGUOUS"], got.flags["F_CONTIGUOUS"]) == (expected.flags["C_CONTIGUOUS"], expected.flags["F_CONTIGUOUS"])


def test_simple_returns_are_pandas_pct_change_bit_for_bit(opt) -> None:
    from optimizer.risk import simple_returns

    prices = opt.prices.frame("adj_close")
    for frame in (prices.iloc[-300:], prices.iloc[-300:, :50].copy(), prices.iloc[:1], prices.iloc[:0]):
        expected = frame.pct_change(fill_method=None).iloc[1:].to_numpy(float)
        got = simple_returns(frame)
        assert got.shape == expected.shape
        if len(got) > 1:  # in column order of memory, as pandas leaves it (sums across a day run in it)
            assert got.strides[0] == expected.strides[0] == got.itemsize < got.strides[1]
        np.testing.assert_array_equal(np.nan_to_num(got, nan=9.0).view(np.int64), np.nan_to_num(expected, nan=9.0).view(np.int64))


def test_the_recent_prices_are_the_history_cut(opt) -> None:
    """The risk model, betas and styles read the last sessions only, converted alone."""
    whole = opt.prices.frame("adj_close")
    for sessions in (1, 253, 506, len(whole), len(whole) + 10):
        pd.testing.assert_frame_equal(opt.prices.frame("adj_close", last=sessions), whole.iloc[-sessions:], check_exact=True)


def test_a_substituted_solve_gives_the_parametrised_answer(opt, monkeypatch) -> None:
    """Large problems with the tracking-error cone skip the parametrised compilation
    (PARAMETRISED_MAX_NAMES); both ways must give the same portfolio, duals included."""
    from optimizer.model import PARAMETRISED_MAX_NAMES, CompiledProblem

    s = load_constraints()
    opt.solve(s)
    frame = next(iter(opt._frames.values()))
    v, _ = opt.values(frame, s)
    assert frame.data.tracking_error and len(frame.tickers) <= PARAMETRISED_MAX_NAMES
    compiled, substituted = CompiledProblem(frame.data), CompiledProblem(frame.data)
    assert compiled.parametrised
    substituted.parametrised = False
    a, b = compiled.solve(v), substituted.solve(v)
    assert a.ok and b.ok
    assert b.objective == pytest.approx(a.objective, rel=1e-6, abs=1e-9)
    np.testing.assert_allclose(b.weights, a.weights, atol=1e-6)
    for name in a.duals:
        np.testing.assert_allclose(b.duals[name], a.duals[name], atol=1e-5, rtol=1e-4)
    monkeypatch.setattr("optimizer.model.PARAMETRISED_MAX_NAMES", len(frame.tickers) - 1)
    assert not CompiledProblem(frame.data).parametrised
    assert CompiledProblem(replace(frame.data, tracking_error=False)).parametrised


def test_shadow_prices_match_finite_differences(opt) -> None:
    s = load_constraints().change(sectors={"Industrials": Range(True, 0.1, 0.15)})
    base = opt.solve(s)
    c = base.constraints.set_index("name")
    h = 1e-4

    def fd(changed: ConstraintSettings) -> float:
        return (opt.solve(changed).objective - base.objective) / h * 0.01

    assert c.loc["sector:Industrials:max", "binding"]
    # 5% (the bar), or 2e-7 per point (0.002 bp) for prices that are all but zero
    assert fd(s.change(sectors={"Industrials": Range(True, 0.1, 0.15 + h)})) == pytest.approx(c.loc["sector:Industrials:max", "shadow_price"], rel=0.05, abs=2e-7)
    assert fd(s.change(max_weight=Limit(True, 0.05 + h))) == pytest.approx(c.loc["max_weight", "shadow_price"], rel=0.05, abs=2e-7)
    assert fd(s.change(cash_buffer=s.cash_buffer - h)) == pytest.approx(c.loc["budget", "shadow_price"], rel=0.05, abs=2e-7)
    assert not c.loc["sector:Industrials:min", "binding"]


def test_a_tweak_reuses_the_compiled_problem(opt) -> None:
    s = load_constraints()
    opt.solve(s)
    frame = next(iter(opt._frames.values()))
    compiled = frame.problem()
    for change in ({"risk_aversion": 5.0}, {"max_weight": Limit(True, 0.04)}, {"sectors": {"Technology": Range(True, None, 0.1)}}):
        res = opt.solve(s.change(**change))
        assert res.status == "optimal"
        assert next(iter(opt._frames.values())).problem() is compiled
    tech = res.sectors.set_index("sector").loc["Technology", "after"]
    assert tech <= 0.1 + TOL


def test_a_screen_change_moves_bounds_without_recompiling(opt, setup) -> None:
    from screener import load_screen, rescreen

    u, r = setup
    s = load_constraints()
    first = opt.solve(s)
    compiled = next(iter(opt._frames.values())).problem()
    strict = rescreen(r, load_screen().with_filters(min_piotroski=7), u)
    assert 0 < len(strict.ranked) < len(r.ranked)
    opt.set_screen(strict)
    res = opt.solve(s)
    assert next(iter(opt._frames.values())).problem() is compiled
    held = res.weights.index[res.weights["weight_after"] > TOL]
    assert set(held) <= set(strict.ranked.index)
    assert set(held) != set(first.weights.index[first.weights["weight_after"] > TOL])
    assert res.weights.loc[held, "composite"].to_numpy() == pytest.approx(strict.table.loc[held, "composite"].to_numpy())


def test_a_large_universe_is_compiled_over_its_candidates(monkeypatch) -> None:
    """us-all (2,805 names) is compiled over the names that pass the screen and those held,
    not over every name with the rest held at zero by their bounds: a sixth of the names, so
    parametrised (a tweak re-solves without compiling), and the whole universe's portfolio
    to the solver's tolerance."""
    from screener import load_screen, run_screen
    from universes import load_universe

    u = load_universe("us-all")
    r = run_screen(u, load_screen())
    s = load_constraints()
    opt = RotationOptimizer(u, r)
    res = opt.solve(s)
    frame = next(iter(opt._frames.values()))
    assert list(frame.tickers) == list(r.ranked.index)  # nothing is held
    assert len(frame.tickers) < len(u.tickers) / 4
    assert frame.problem().parametrised
    # the sector table still covers the universe (sectors with no candidate at zero)
    assert set(res.sectors["sector"]) == set(u.companies["sector"].fillna("Unclassified"))
    monkeypatch.setattr("optimizer.rotation.FULL_FRAME_NAMES", len(u.tickers))
    whole = RotationOptimizer(u, r).solve(s)
    assert len(whole.weights) == len(u.tickers)
    assert res.objective == pytest.approx(whole.objective, rel=1e-6)
    after = whole.weights["weight_after"]
    np.testing.assert_allclose(res.weights["weight_after"].reindex(after.index, fill_value=0.0), after, atol=1e-5)


def test_infeasible_names_the_conflict_in_user_terms(opt) -> None:
    good = opt.solve(load_constraints())
    s = load_constraints().change(manufacturing=Range(True, 0.6, None), max_weight=Limit(True, 0.02), max_names=Limit(True, 20))
    with pytest.raises(InfeasibleError) as err:
        opt.solve(s)
    text = str(err.value)
    assert "Manufacturing >= 60% with a 2% name cap needs 30 names, but max names is 20" in text
    names = {n for c in err.value.conflicts for n in c.constraints}
    assert {"manufacturing:min", "max_names", "max_weight"} <= names
    assert opt.last_feasible is good


def test_minimum_for_an_absent_sector(opt) -> None:
    with pytest.raises(InfeasibleError) as err:
        opt.solve(load_constraints().with_sector("Utilities", Range(True, 0.1, None)))
    assert err.value.conflicts[0].constraints == ("sector:Utilities:min",)


def test_elastic_diagnosis_names_turnover_against_the_rotation(setup) -> None:
    u, r = setup
    big_tech = Holdings(shares=pd.Series({"MSFT": 1000.0, "GOOG": 2000.0, "AMZN": 2000.0}), cash=10_000.0)
    opt = RotationOptimizer(u, r, holdings=big_tech)
    ok = opt.solve(load_constraints())
    assert ok.manufacturing["after"] >= 0.5 - TOL
    # Holdings outside the universe can be held or sold, never bought.
    w = ok.weights.loc[["MSFT", "GOOG", "AMZN"]]
    assert (w["weight_after"] <= w["weight_before"] + TOL).all()
    with pytest.raises(InfeasibleError) as err:
        opt.solve(load_constraints().change(turnover=Limit(True, 0.2)))
    names = set(err.value.conflicts[0].constraints)
    assert {"turnover", "manufacturing:min", "max_weight"} <= names
    assert "turnover limit 20%" in str(err.value)


def test_max_names_and_min_position_by_relax_and_fix(opt) -> None:
    s = load_constraints().change(max_names=Limit(True, 25), min_position=Limit(True, 0.02))
    res = opt.solve(s)
    w = res.weights["weight_after"]
    held = w[w > 1e-7]
    assert len(held) <= 25
    assert (held >= 0.02 - TOL).all()
    assert abs(w.sum() + res.stats["costs"] - 0.98) < TOL
    # the gap to the relaxation is reported (the relaxation spreads over far more names, so it
    # is a loose bound; benchmarks/bench_optimizer.py measures the gap to the exact MIQP)
    assert res.integer is not None and res.integer.gap >= 0
    assert res.integer.relaxed_objective >= res.objective - 1e-9


def test_dense_ledoit_wolf_model_solves(opt) -> None:
    res = opt.solve(load_constraints().change(risk_model="dense"))
    assert res.status == "optimal"
    assert abs(res.weights["weight_after"].sum() + res.stats["costs"] - 0.98) < TOL


def test_trades_never_spend_cash_they_do_not_have(setup) -> None:
    u, r = setup
    opt = RotationOptimizer(u, r, capital=25_000)
    res = opt.solve(load_constraints().change(lot_size=100, min_trade_usd=0.0, cash_buffer=0.0))
    t = res.trades
    assert t.cash_after >= 0
    assert (t.trades["shares"] % 100 == 0).all()
    assert t.buys + t.costs <= 25_000 + 1e-6


def test_exits_go_through_and_reasons_are_given(setup) -> None:
    u, r = setup
    held = Holdings(shares=pd.Series({"MSFT": 10.0}), cash=500_000.0)
    res = RotationOptimizer(u, r, holdings=held).solve(load_constraints().change(max_weight=Limit(True, 0.05)))
    t = res.trades.trades.set_index("ticker")
    assert set(t["reason"].str.split(";").str[0]) <= {"enter", "exit", "increase", "decrease"}
    assert (t.loc[t["side"] == "BUY", "reason"].str.startswith(("enter", "increase"))).all()


def test_constraint_values_are_validated_with_reasons() -> None:
    with pytest.raises(ConstraintError, match="max_weight must be between"):
        ConstraintSettings(max_weight=Limit(True, 1.5))
    with pytest.raises(ConstraintError, match=r"sector Utilities min .* is above its max"):
        ConstraintSettings(sectors={"Utilities": Range(True, 0.3, 0.1)})
    with pytest.raises(ConstraintError, match=r"min_position .* is above max_weight"):
        ConstraintSettings(min_position=Limit(True, 0.1), max_weight=Limit(True, 0.05))


def test_constraints_file_round_trip_and_unknown_keys(tmp_path: Path) -> None:
    s = load_constraints().change(no_buy=("ABC",), sectors={"Industrials": Range(True, 0.1, 0.4), "Utilities": Range(False, None, 0.05)})
    p = tmp_path / "c.toml"
    p.write_text(settings_to_toml(s))
    assert load_constraints(p) == s
    p.write_text("[max_weight]\nvalue = 0.05\nenabeld = true\n")
    with pytest.raises(ConstraintError, match="unknown setting 'enabeld'"):
        load_constraints(p)


def test_cli_optimize_json_contract() -> None:
    done = run_cli("optimize", "--format", "json")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert set(doc) >= {"status", "objective", "solve_ms", "solver", "weights", "trades", "sectors", "constraints"}
    assert doc["status"] == "optimal" and doc["solver"].startswith("CLARABEL")
    for key, fields in {
        "weights": {"ticker", "sector", "weight_before", "weight_after"},
        "trades": {"ticker", "side", "shares", "price", "notional", "est_cost", "reason"},
        "sectors": {"sector", "before", "after", "min", "max"},
        "constraints": {"name", "binding", "shadow_price"},
    }.items():
        assert doc[key] and all(fields <= set(row) for row in doc[key]), key
    assert sum(t["notional"] for t in doc["trades"] if t["side"] == "BUY") <= 1_000_000


def test_cli_infeasible_exits_non_zero_with_diagnosis_and_writes_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[max_names]\nenabled = true\nvalue = 10\n")
    out = tmp_path / "trades.xlsx"
    done = run_cli("optimize", "--constraints", str(bad), "--out", str(out))
    assert done.returncode == 1
    assert "max names 10" in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.toml"]
