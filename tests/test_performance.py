"""Performance and signal statistics (optimizer.performance) against hand computations."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from optimizer import performance as pf


def curve(values: list[float], freq: str = "D") -> pd.Series:
    return pd.Series(values, index=pd.date_range("2021-01-01", periods=len(values), freq=freq))


def test_cagr_uses_calendar_days() -> None:
    values = pd.Series([100.0, 121.0], index=pd.to_datetime(["2020-01-01", "2021-12-31"]))
    days = (pd.Timestamp("2021-12-31") - pd.Timestamp("2020-01-01")).days  # 730
    assert pf.cagr(values) == pytest.approx(1.21 ** (365.25 / days) - 1)
    assert math.isnan(pf.cagr(values.iloc[:1]))


def test_volatility_sharpe_and_sortino_by_hand() -> None:
    r = np.array([0.01, -0.02, 0.03, 0.00])
    mean = 0.005
    sd = math.sqrt(((0.005**2) + (0.025**2) + (0.025**2) + (0.005**2)) / 3)
    assert pf.annualised_volatility(r, 12) == pytest.approx(sd * math.sqrt(12))
    assert pf.sharpe_ratio(r, 0.0, 12) == pytest.approx(mean / sd * math.sqrt(12))
    # excess over 0.001 a period; downside deviation over all four periods
    x = r - 0.001
    downside = math.sqrt((0.021**2 + 0.001**2) / 4)
    assert pf.sortino_ratio(r, 0.001, 12) == pytest.approx(x.mean() / downside * math.sqrt(12))


def test_drawdown_series_and_maximum() -> None:
    values = curve([100, 120, 90, 95, 130, 117])
    dd = pf.drawdowns(values)
    assert dd.tolist() == pytest.approx([0, 0, -0.25, 95 / 120 - 1, 0, -0.1])
    assert pf.max_drawdown(values) == pytest.approx(-0.25)
    assert pf.max_drawdown(curve([1, 2, 3])) == 0.0


def test_tracking_error_and_information_ratio_by_hand() -> None:
    r = np.array([0.02, 0.01, -0.01, 0.03])
    b = np.array([0.01, 0.01, 0.00, 0.01])
    active = r - b  # 0.01, 0, -0.01, 0.02
    sd = np.std(active, ddof=1)
    assert pf.tracking_error(r, b, 12) == pytest.approx(sd * math.sqrt(12))
    assert pf.information_ratio(r, b, 12) == pytest.approx(active.mean() * 12 / (sd * math.sqrt(12)))


def test_turnover_and_cost_drag_per_year() -> None:
    assert pf.annualised_turnover([0.2, 0.3, 0.5], years=2.0) == pytest.approx(0.5)
    assert pf.cost_drag([100.0, 300.0], [1e5, 1.5e5], years=0.5) == pytest.approx((0.001 + 0.002) / 0.5)


def test_brinson_fachler_by_hand_and_effects_add_up_to_the_active_return() -> None:
    sectors = pd.Series({"A": "Tech", "B": "Tech", "C": "Energy", "D": "Energy", "CASH": "Cash"})
    returns = pd.Series({"A": 0.10, "B": 0.00, "C": -0.05, "D": 0.05, "CASH": 0.001})
    wp = pd.Series({"A": 0.5, "C": 0.3, "CASH": 0.2})
    wb = pd.Series({"A": 0.25, "B": 0.25, "C": 0.25, "D": 0.25})
    out = pf.brinson_fachler(wp, wb, returns, sectors)
    rb_total = 0.25 * (0.10 + 0.0 - 0.05 + 0.05)  # 0.025
    tech, energy, cash = out.loc["Tech"], out.loc["Energy"], out.loc["Cash"]
    # Tech: wp 0.5 (rp 0.10), wb 0.5 (rb 0.05)
    assert tech["allocation"] == pytest.approx(0.0)
    assert tech["selection"] == pytest.approx(0.5 * (0.10 - 0.05))
    assert tech["interaction"] == pytest.approx(0.0)
    # Energy: wp 0.3 (rp -0.05), wb 0.5 (rb 0.0)
    assert energy["allocation"] == pytest.approx(-0.2 * (0.0 - rb_total))
    assert energy["selection"] == pytest.approx(0.5 * (-0.05 - 0.0))
    assert energy["interaction"] == pytest.approx(-0.2 * (-0.05 - 0.0))
    # Cash is not in the benchmark: all allocation
    assert cash["allocation"] == pytest.approx(0.2 * (0.001 - rb_total))
    assert cash["selection"] == 0.0 and cash["interaction"] == 0.0
    rp_total = 0.5 * 0.10 + 0.3 * -0.05 + 0.2 * 0.001
    assert out["total"].sum() == pytest.approx(rp_total - rb_total)


def test_rank_ic_is_spearman_with_shared_ranks_for_ties() -> None:
    scores = pd.Series({"a": 1.0, "b": 2.0, "c": 3.0, "d": 4.0, "e": np.nan})
    returns = pd.Series({"a": 0.01, "b": 0.03, "c": 0.02, "d": 0.05, "e": 0.9})
    # ranks 1,2,3,4 vs 1,3,2,4: d^2 = 0,1,1,0 -> 1 - 6*2/(4*15) = 0.8
    assert pf.rank_ic(scores, returns) == pytest.approx(0.8)
    tied = pd.Series({"a": 1.0, "b": 1.0, "c": 2.0})
    rets = pd.Series({"a": 0.0, "b": 0.1, "c": 0.2})
    # ranks 1.5,1.5,3 vs 1,2,3: Pearson of the ranks
    a, b = np.array([-0.5, -0.5, 1.0]), np.array([-1.0, 0.0, 1.0])
    assert pf.rank_ic(tied, rets) == pytest.approx((a @ b) / math.sqrt((a @ a) * (b @ b)))
    assert math.isnan(pf.rank_ic(scores.iloc[:2], returns.iloc[:2]))


def test_ic_summary_mean_and_t_statistic() -> None:
    ic = pd.Series([0.1, 0.0, 0.05, -0.05, np.nan])
    s = pf.ic_summary(ic)
    sd = np.std([0.1, 0.0, 0.05, -0.05], ddof=1)
    assert s["mean"] == pytest.approx(0.025)
    assert s["t_stat"] == pytest.approx(0.025 / (sd / 2))
    assert s["n"] == 4 and s["hit_rate"] == pytest.approx(0.5)


def test_quintile_returns_and_spread_by_hand() -> None:
    names = [f"n{i}" for i in range(10)]
    scores = pd.Series(range(10), index=names, dtype=float)
    returns = pd.Series([0.0, 0.02, 0.01, 0.03, 0.02, 0.04, 0.03, 0.05, 0.04, 0.08], index=names)
    q = pf.quantile_returns(scores, returns)
    assert q.tolist() == pytest.approx([0.01, 0.02, 0.03, 0.04, 0.06])
    assert pf.quantile_spread(scores, returns) == pytest.approx(0.05)
    assert math.isnan(pf.quantile_spread(scores.iloc[:3], returns.iloc[:3]))


def test_deflated_sharpe_reproduces_the_papers_example() -> None:
    """Bailey and Lopez de Prado (2014): best of 100 trials, annualised SR 2.5, V[SR] 1/2
    (annualised), 1,250 daily observations, skewness -3, kurtosis 10 -> DSR 0.9004."""
    sr0 = pf.expected_max_sharpe(100, 0.5 / 250)
    assert sr0 * math.sqrt(250) == pytest.approx(1.7894, abs=1e-4)
    dsr = pf.probabilistic_sharpe_ratio(2.5 / math.sqrt(250), sr0, 1250, -3.0, 10.0)
    assert dsr == pytest.approx(0.9004, abs=1e-4)


def test_deflated_sharpe_from_returns_by_hand() -> None:
    r = np.array([0.01, -0.005, 0.02, 0.0, 0.015, -0.01, 0.005])
    out = pf.deflated_sharpe_ratio(r, n_trials=8, sharpe_variance=0.01)
    c = r - r.mean()
    skew = np.mean(c**3) / np.mean(c**2) ** 1.5
    kurt = np.mean(c**4) / np.mean(c**2) ** 2
    sr = r.mean() / np.std(r, ddof=1)
    g = 0.5772156649015329
    from scipy.stats import norm

    sr0 = 0.1 * ((1 - g) * norm.ppf(1 - 1 / 8) + g * norm.ppf(1 - 1 / (8 * math.e)))
    z = (sr - sr0) * math.sqrt(6) / math.sqrt(1 - skew * sr + (kurt - 1) / 4 * sr**2)
    assert out["sharpe"] == pytest.approx(sr)
    assert out["benchmark_sharpe"] == pytest.approx(sr0)
    assert out["dsr"] == pytest.approx(norm.cdf(z))
    # one trial: nothing to deflate, the benchmark is a Sharpe ratio of zero
    assert pf.deflated_sharpe_ratio(r, 1, 0.0)["benchmark_sharpe"] == 0.0
