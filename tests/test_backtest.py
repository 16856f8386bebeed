"""The walk-forward backtest (tui/backtest.py, rotation backtest) on the real snapshot.

The default run is short (quarterly from 2023-03-31: four rebalances); the full monthly walk
from the first possible date is marked slow.
"""

from __future__ import annotations

import dataclasses
import json
import math
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from optimizer import ConstraintSettings, Limit
from optimizer import performance as pf
from tests.conftest import run_cli
from tui.backtest import (
    MIN_IC_PERIODS,
    BacktestError,
    BacktestResult,
    BacktestSpec,
    LookAheadError,
    PointInTime,
    SweepResult,
    app_view,
    first_possible_date,
    load_sweep,
    period_ends,
    run_backtest,
    run_sweep,
)
from tui.session import Session
from universes import load_universe, open_dataset
from universes.errors import UserError
from universes.holdings import Holdings
from universes.loader import market_frame

START = "2023-03-31"


@pytest.fixture(scope="module")
def short() -> BacktestResult:
    return run_backtest(BacktestSpec(frequency="quarterly", start=START))


@pytest.fixture(scope="module")
def closes() -> tuple[pd.DataFrame, pd.DataFrame]:
    p = open_dataset().prices
    return p.frame("close").ffill(), p.frame("adj_close").ffill()


def test_the_short_run_walks_quarter_ends_to_the_end_of_the_data(short: BacktestResult) -> None:
    assert [d.date().isoformat() for d in short.dates] == ["2023-03-31", "2023-06-30", "2023-09-29", "2023-12-29"]
    assert short.end == open_dataset().as_of
    assert list(short.metrics.index) == ["rotation", "small_ew", "small_cw", "large_cw"]
    assert np.isfinite(short.metrics.to_numpy(float)).all()
    assert (short.periods["status"] == "optimal").all()
    json.dumps(short.document())  # plain JSON types throughout


def test_first_rebalance_is_the_trade_list_of_optimize_as_of(short: BacktestResult) -> None:
    outcome = Session(as_of=START).solve()
    assert outcome.result is not None
    trades = outcome.result.trades
    held = short.holdings[short.holdings["date"] == short.dates[0]].set_index("ticker")["shares"].sort_index()
    expected = trades.trades.set_index("ticker")["shares_after"].sort_index()
    pd.testing.assert_series_equal(held, expected, check_names=False, check_index_type=False)
    first = short.periods.iloc[0]
    assert first["costs"] == pytest.approx(trades.costs, rel=1e-12)
    assert first["cash_after"] == pytest.approx(trades.cash_after, rel=1e-12)


def test_value_is_shares_at_the_close_plus_cash(short: BacktestResult, closes: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    close, _ = closes
    for k in range(1, len(short.dates)):
        when, before = short.dates[k], short.dates[k - 1]
        h = short.holdings[short.holdings["date"] == before].set_index("ticker")["shares"]
        value = float((h * close.loc[when, h.index]).sum()) + short.periods["cash_before"].iloc[k]
        assert short.equity.loc[when, "rotation"] == pytest.approx(value, rel=1e-12)
        assert short.periods["value"].iloc[k] == pytest.approx(value, rel=1e-12)


def test_dividends_and_interest_reach_cash_by_hand(tmp_path: Path) -> None:
    """One position that cannot trade (no sell, no cash): its value at the end is shares x
    close plus every dividend, each growing at the cash rate from its ex-date."""
    start, end = pd.Timestamp("2023-12-29"), pd.Timestamp("2024-03-08")
    prices = open_dataset().prices
    close, adj = prices.frame("close"), prices.frame("adj_close")
    members = load_universe("us-small-manufacturing", as_of=start).tickers
    window = slice(start, end)
    factor = (adj / close).loc[window, members]
    payer = next(t for t in members if (factor[t].dropna().pct_change() > 1e-5).any())
    shares = 1000.0
    spec = BacktestSpec(
        frequency="quarterly",
        start=start.date().isoformat(),
        holdings=Holdings(shares=pd.Series({payer: shares}), cash=0.0, source="one position"),
        capital=0.0,
        settings=ConstraintSettings(max_weight=Limit(False, 0.05), cash_buffer=0.0, no_sell=(payer,)),
        cash_rate=0.03,
    )
    result = run_backtest(spec)
    assert result.periods["trades"].iloc[0] == 0
    c, a = close[payer].loc[window].dropna(), adj[payer].loc[window].dropna()
    cash = 0.0
    for prev, day in zip(c.index[:-1], c.index[1:], strict=True):
        cash *= 1.03 ** ((day - prev).days / 365.0)
        f_prev, f = a[prev] / c[prev], a[day] / c[day]
        if f_prev / f < 1 - 1e-5:
            cash += shares * c[prev] * (1 - f_prev / f)
    assert cash > 0
    # prices are single precision (as the source gives them): agreement to 1e-6, not 1e-12
    assert result.equity["rotation"].iloc[-1] == pytest.approx(shares * c.iloc[-1] + cash, rel=1e-6)


def test_benchmarks_are_built_from_constituents(short: BacktestResult, closes: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    _, adj = closes
    t0, t1 = short.dates[0], short.dates[1]
    small = load_universe("us-small-manufacturing", as_of=t0).companies["market_cap"]
    large = load_universe("us-large", as_of=t0).companies["market_cap"]
    growth_small = adj.loc[t1, small.index] / adj.loc[t0, small.index]
    growth_large = adj.loc[t1, large.index] / adj.loc[t0, large.index]
    # single-precision prices (as the source gives them): agreement to 1e-6
    assert short.equity.loc[t1, "small_cw"] == pytest.approx(float((small * growth_small).sum() / small.sum()), rel=1e-6)
    assert short.equity.loc[t1, "small_ew"] == pytest.approx(float(growth_small.mean()), rel=1e-6)
    assert short.equity.loc[t1, "large_cw"] == pytest.approx(float((large * growth_large).sum() / large.sum()), rel=1e-6)


def test_attribution_adds_up_to_each_periods_active_return(short: BacktestResult, closes: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    _, adj = closes
    stops = [*short.dates[1:], short.end]
    for t0, t1 in zip(short.dates, stops, strict=True):
        a = short.attribution[short.attribution["date"] == t0]
        assert a["portfolio_weight"].sum() == pytest.approx(1.0, abs=1e-9)
        assert a["benchmark_weight"].sum() == pytest.approx(1.0, abs=1e-9)
        h = short.holdings[short.holdings["date"] == t0].set_index("ticker")
        cap = load_universe("us-small-manufacturing", as_of=t0).companies["market_cap"]
        r = adj.loc[t1] / adj.loc[t0] - 1
        cash = 1 - h["weight"].sum()
        portfolio = float((h["weight"] * r[h.index]).sum()) + cash * (1.02 ** ((t1 - t0).days / 365.0) - 1)
        bench = float((cap / cap.sum() * r[cap.index]).sum())
        assert a["total"].sum() == pytest.approx(portfolio - bench, abs=1e-8)  # single-precision prices


def test_ic_and_quintiles_are_computed_on_the_next_periods_returns(short: BacktestResult, closes: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    from screener import load_screen, run_screen

    _, adj = closes
    t0, t1 = short.dates[0], short.dates[1]
    table = run_screen(load_universe("us-small-manufacturing", as_of=t0), load_screen()).table
    forward = adj.loc[t1, table.index] / adj.loc[t0, table.index] - 1
    row = short.ic[(short.ic["date"] == t0) & (short.ic["signal"] == "composite")].iloc[0]
    assert row["ic"] == pytest.approx(pf.rank_ic(table["composite"], forward))
    assert row["spread"] == pytest.approx(pf.quantile_spread(table["composite"], forward))
    factor = short.ic[(short.ic["date"] == t0) & (short.ic["signal"] == "piotroski_f")].iloc[0]
    assert factor["ic"] == pytest.approx(pf.rank_ic(table["pct_piotroski_f"], forward))
    summary = short.ic_summary.loc["composite"]
    assert summary["mean"] == pytest.approx(short.ic[short.ic["signal"] == "composite"]["ic"].mean())
    assert summary["n"] == len(short.dates)
    # The same inside the names the screen passes: the only ones the optimiser may buy.
    screened = run_screen(load_universe("us-small-manufacturing", as_of=t0), load_screen())
    passing = screened.ranked.index
    assert row["ic_passing"] == pytest.approx(pf.rank_ic(table.loc[passing, "composite"], forward[passing]))
    assert row["ic_passing"] != pytest.approx(row["ic"])
    passing_ics = short.ic[short.ic["signal"] == "composite"]["ic_passing"]
    assert summary["passing_mean"] == pytest.approx(passing_ics.mean())
    assert summary["passing_t_stat"] == pytest.approx(pf.ic_summary(passing_ics)["t_stat"])


def test_the_guard_checks_the_data_not_only_the_label() -> None:
    now, later = pd.Timestamp("2023-06-30"), pd.Timestamp("2023-09-29")
    view = PointInTime(now)
    view.check_universe(load_universe("us-small-manufacturing", as_of=now))
    future = load_universe("us-small-manufacturing", as_of=later)
    with pytest.raises(LookAheadError, match="as of"):
        view.check_universe(future)
    with pytest.raises(LookAheadError, match="reached a decision of 2023-06-30"):
        view.check_universe(dataclasses.replace(future, as_of=now))
    everyone, _ = market_frame("snapshot", later)
    with pytest.raises(LookAheadError, match="market data"):
        view.check_market(everyone)


def test_the_leak_canary_fires_on_a_leaky_variant(short: BacktestResult) -> None:
    # with every backtest: each date's guard refused the next date's data
    assert short.canary["probes"] == len(short.dates) - 1
    assert short.canary["refused"] == short.canary["probes"]
    # a leak this crude would look far better than the honest signal
    assert short.canary["leaky_ic"] > short.canary["honest_ic"] + 0.3
    assert short.canary["top_cagr_uplift"] > 0.2
    # a variant that decides on the next rebalance's data is stopped
    leaky = BacktestSpec(frequency="quarterly", start="2023-09-29", look_ahead=1)
    with pytest.raises(LookAheadError, match="reached a decision of 2023-09-29"):
        run_backtest(leaky)


def test_survivorship_counts_follow_the_data(short: BacktestResult) -> None:
    data = open_dataset()
    first = data.fundamentals.groupby("ticker")["publish_date"].min()
    traded = ~np.isnan(data.prices.close)
    last = pd.Series(
        [data.prices.dates[np.flatnonzero(traded[:, j])[-1]] if traded[:, j].any() else pd.NaT for j in range(traded.shape[1])],
        index=data.prices.tickers,
    ).reindex(first.index)
    for row in short.survivorship.itertuples():
        reported = first <= row.date
        gone = reported & ~(last > row.date).fillna(False).astype(bool)
        assert row.reported == int(reported.sum())
        assert row.no_later_price == int(gone.sum())
    assert "Likely bias: upward" in short.banner


def test_a_company_that_stops_reporting_is_sold_at_the_delisting_return(closes: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    close, _ = closes
    start = pd.Timestamp("2023-12-29")
    everyone, _ = market_frame("snapshot", start)
    stopped = everyone[(everyone["fundamentals_age_months"] > 18) & everyone["price"].notna()].index.sort_values()[0]
    spec = BacktestSpec(
        frequency="quarterly",
        start=start.date().isoformat(),
        holdings=Holdings(shares=pd.Series({stopped: 100.0}), cash=0.0, source="one position"),
        capital=100_000.0,
        delisting_return=-0.3,
    )
    result = run_backtest(spec)
    first = result.periods.iloc[0]
    assert first["delisted"] == stopped
    assert first["cash_before"] == pytest.approx(100_000.0 + 100 * close.loc[start, stopped] * 0.7, rel=1e-12)
    assert stopped not in set(result.holdings["ticker"])
    assert "last close -30%" in result.banner


def test_calibrated_ic_is_the_realised_mean_scaled_to_a_year(short: BacktestResult) -> None:
    calls: list[tuple[int, int]] = []
    calibrated = run_backtest(BacktestSpec(frequency="quarterly", start=START, calibrate_ic=True), lambda done, total, when: calls.append((done, total)))
    assert calls == [(1, 4), (2, 4), (3, 4), (4, 4)]  # progress after each rebalance
    ic = short.ic[short.ic["signal"] == "composite"]["ic"].to_numpy()
    expected = min(1.0, max(0.0, float(np.mean(ic[:MIN_IC_PERIODS])) * math.sqrt(4)))
    assert calibrated.periods["alpha_ic"].tolist()[:MIN_IC_PERIODS] == [0.05] * MIN_IC_PERIODS
    assert calibrated.periods["alpha_ic"].iloc[MIN_IC_PERIODS] == pytest.approx(expected)


def test_the_first_possible_date_follows_the_data() -> None:
    spec = BacktestSpec()
    first = first_possible_date(spec)
    ends = list(period_ends(open_dataset().prices.dates, "monthly"))
    before = ends[ends.index(first) - 1]
    needed = math.ceil((1 - spec.settings.cash_buffer) / spec.settings.max_weight.value)
    from screener import run_screen

    assert len(run_screen(load_universe(spec.universe, as_of=first), spec.screen).ranked) >= needed
    try:
        u = load_universe(spec.universe, as_of=before)
    except UserError:
        return  # the data cannot form the universe yet
    assert len(run_screen(u, spec.screen).ranked) < needed


def test_cli_json_is_reproducible_bit_for_bit_and_the_workbook_has_the_charts(short: BacktestResult, tmp_path: Path) -> None:
    out = tmp_path / "bt.xlsx"
    done = run_cli("backtest", "--frequency", "quarterly", "--start", START, "--format", "json", "--out", str(out))
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc.pop("file") == str(out)
    assert json.dumps(doc, sort_keys=True) == json.dumps(short.document(), sort_keys=True)
    with zipfile.ZipFile(out) as z:
        charts = [n for n in z.namelist() if n.startswith("xl/charts/chart")]
    assert len(charts) == 2
    from openpyxl import load_workbook

    wb = load_workbook(out, read_only=True)
    assert wb.sheetnames == ["Summary", "Equity", "Drawdown", "Periods", "Holdings", "Trades", "IC", "Attribution", "Survivorship"]
    assert sum(1 for _ in wb["Holdings"].iter_rows()) == len(short.holdings) + 1
    assert sum(1 for _ in wb["Equity"].iter_rows()) == len(short.equity) + 1


def test_cli_table_shows_the_banner_metrics_and_canary() -> None:
    done = run_cli("backtest", "--frequency", "quarterly", "--start", "2023-09-29")
    assert done.returncode == 0, done.stderr
    for text in ("SURVIVORSHIP", "Likely bias: upward", "Sharpe", "information ratio", "Leak canary", "mean IC", "Brinson"):
        assert text in done.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--end", "2030-01-01"), "outside the data"),
        (("--start", "2024-03-08"), "leaves nothing to backtest"),
        (("--workers", "2"), "add --sweep"),
        (("--cash-rate", "3"), "cash rate"),
        (("--out", "x.csv"), "must end in .xlsx"),
    ],
)
def test_cli_errors_say_what_to_change(args: tuple[str, ...], message: str) -> None:
    done = run_cli("backtest", *args)
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr


def _sweep_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sweep.toml"
    path.write_text(text)
    return path


def test_sweep_file_grid_and_errors(tmp_path: Path) -> None:
    base = BacktestSpec(frequency="quarterly", start="2023-09-29")
    specs = load_sweep(_sweep_file(tmp_path, 'screens = ["shipped", "deep-value"]\n[settings]\nrisk_aversion = [1.0, 4.0]\n"max_weight.value" = [0.04, 0.05]\n'), base)
    assert len(specs) == 8
    assert specs[1].settings.max_weight.value == 0.05 and specs[2].settings.risk_aversion == 4.0
    assert specs[4].screen.name == "Deep value"
    assert specs[3].label == "shipped | shipped | risk_aversion=4.0 | max_weight.value=0.05"
    with pytest.raises(BacktestError, match="unknown key 'grid'"):
        load_sweep(_sweep_file(tmp_path, "[grid]\nrisk_aversion = [1.0]\n"), base)
    with pytest.raises(BacktestError, match=r"max_weight is a table; vary one of its fields: max_weight.enabled, max_weight.value"):
        load_sweep(_sweep_file(tmp_path, "[settings]\nmax_weight = [0.04]\n"), base)
    with pytest.raises(Exception, match=r"sweep.toml: \[settings\] risk_aversion: found -1.0"):
        load_sweep(_sweep_file(tmp_path, "[settings]\nrisk_aversion = [-1.0]\n"), base)


@pytest.fixture(scope="module")
def small_sweep(tmp_path_factory: pytest.TempPathFactory) -> list[BacktestSpec]:
    path = tmp_path_factory.mktemp("sweep") / "sweep.toml"
    path.write_text("[settings]\nrisk_aversion = [1.0, 4.0]\n")
    return load_sweep(path, BacktestSpec(frequency="quarterly", start="2023-09-29"))


def _bytes(results: list[BacktestResult]) -> list[str]:
    return [json.dumps(r.document()) for r in results]


@pytest.fixture(scope="module")
def in_process(small_sweep: list[BacktestSpec]) -> SweepResult:
    return run_sweep(small_sweep, workers=1)


def test_sweep_gives_the_same_bytes_in_process_and_in_a_process_pool(small_sweep: list[BacktestSpec], in_process: SweepResult) -> None:
    pooled = run_sweep(small_sweep, workers=2)
    assert (in_process.executor, pooled.executor) == ("in-process", "processes")
    assert _bytes(in_process.results) == _bytes(pooled.results)
    assert _bytes([run_backtest(small_sweep[1])]) == _bytes(in_process.results[1:])
    d = in_process.deflated_sharpe()
    assert d["n_trials"] == 2 and 0.0 <= d["dsr"] <= 1.0


def test_sweep_on_a_dask_local_cluster_gives_the_same_bytes(small_sweep: list[BacktestSpec], in_process: SweepResult) -> None:
    pytest.importorskip("distributed")
    on_dask = run_sweep(small_sweep, workers=2, scheduler="local")
    assert on_dask.executor == "dask"
    assert _bytes(in_process.results) == _bytes(on_dask.results)


def test_cli_sweep_and_holdings_file(tmp_path: Path, closes: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    close, _ = closes
    holdings = tmp_path / "holdings.csv"
    holdings.write_text("ticker,shares\nMCFT,1000\nPLAB,500\nCASH,25000\n")
    sweep = _sweep_file(tmp_path, "[settings]\nrisk_aversion = [2.0, 4.0]\n")
    args = ("--frequency", "quarterly", "--start", "2023-12-29", "--holdings", str(holdings), "--format", "json")
    done = run_cli("backtest", *args, "--sweep", str(sweep), "--workers", "1")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert [v["label"] for v in doc["variants"]] == ["Small-cap manufacturers: value + quality | shipped | risk_aversion=2.0", "Small-cap manufacturers: value + quality | shipped | risk_aversion=4.0"]
    assert doc["best"] in [v["label"] for v in doc["variants"]] and doc["deflated_sharpe"]["n_trials"] == 2
    single = json.loads(run_cli("backtest", *args).stdout)
    when = pd.Timestamp("2023-12-29")
    assert single["assumptions"]["start_from"] == str(holdings)
    assert single["periods"][0]["value"] == pytest.approx(1000 * close.loc[when, "MCFT"] + 500 * close.loc[when, "PLAB"] + 25000, rel=1e-12)


def test_app_view_is_plain_data_for_the_step(short: BacktestResult) -> None:
    view = app_view(short)
    json.dumps(view)
    n = len(view["dates"])
    assert n == len(short.equity)
    for key in ("rotation", "small_ew", "small_cw", "large_cw"):
        assert len(view["equity"][key]) == n and len(view["drawdown"][key]) == n
        assert view["equity"][key][0] == 1.0 and max(view["drawdown"][key]) == 0.0
    assert len(view["ic_dates"]) == len(short.dates) and "composite" in view["ic"]
    assert list(view["ic"])[1] == "composite, passing names"
    assert view["ic"]["composite, passing names"] == pytest.approx(short.ic[short.ic["signal"] == "composite"]["ic_passing"].tolist(), nan_ok=True)
    assert view["banner"].startswith("SURVIVORSHIP")
    assert "Leak canary" in view["canary"]


@pytest.mark.slow
def test_full_monthly_backtest_from_the_first_possible_date() -> None:
    spec = BacktestSpec()
    result = run_backtest(spec)
    assert result.dates[0] == first_possible_date(spec)
    assert result.end == open_dataset().as_of
    assert result.canary["refused"] == result.canary["probes"] == len(result.dates) - 1
    assert np.isfinite(result.metrics.to_numpy(float)).all()
    assert result.trading["not_rebalanced"] == 0


def test_a_session_becomes_a_backtest_spec() -> None:
    from tui.backtest import spec_from_session

    session = Session(capital=250_000.0)
    session.set_settings(session.settings.change(risk_aversion=5.0))
    spec = spec_from_session(session, frequency="quarterly", start="2023-09-29")
    assert (spec.universe, spec.frequency, spec.start) == ("us-small-manufacturing", "quarterly", "2023-09-29")
    assert spec.settings.risk_aversion == 5.0 and spec.screen == session.screen
    assert spec.starting_cash == 250_000.0 and spec.holdings is None
