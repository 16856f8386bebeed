"""The optimiser as a notebook library: user-supplied expected returns and risk, no Universe.

Reference values: PyPortfolioOpt's published test example (tests/data/README.md)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from optimizer import PortfolioInputError, SolverSettings, optimize_portfolio

DATA = Path(__file__).resolve().parent / "data" / "pypfopt_mu_sigma.csv"


@pytest.fixture(scope="module")
def mu_sigma() -> tuple[pd.Series, pd.DataFrame]:
    table = pd.read_csv(DATA, index_col="ticker")
    return table["expected_return"], table.drop(columns="expected_return")


def test_max_quadratic_utility_matches_pypfopt(mu_sigma) -> None:
    mu, sigma = mu_sigma
    # PyPortfolioOpt maximises mu'w - delta/2 w'Sigma w with delta = 2: risk_aversion 1 here
    res = optimize_portfolio(mu, covariance=sigma, risk_aversion=1.0, solver=SolverSettings(tolerance=1e-10))
    assert res.status == "optimal"
    assert res.expected_return == pytest.approx(0.3677732711751504, abs=1e-6)
    assert res.volatility == pytest.approx(0.2921342197778279, abs=1e-6)
    assert res.weights.sum() == pytest.approx(1.0, abs=1e-9)
    assert (res.weights >= -1e-9).all()


def test_min_volatility_matches_pypfopt(mu_sigma) -> None:
    mu, sigma = mu_sigma
    res = optimize_portfolio(None, covariance=sigma, solver=SolverSettings(tolerance=1e-10))
    assert res.status == "optimal"
    w = res.weights
    assert float(mu @ w) == pytest.approx(0.15056821399482578, abs=1e-6)
    assert res.volatility == pytest.approx(0.15915084514118694, abs=1e-6)


def test_a_factor_model_gives_the_same_portfolio_as_its_covariance(mu_sigma) -> None:
    mu, sigma = mu_sigma
    # an exact factor form of the same covariance: 3 principal components plus the rest as D
    vals, vecs = np.linalg.eigh(sigma.to_numpy())
    b = vecs[:, -3:] * np.sqrt(vals[-3:])
    rest = sigma.to_numpy() - b @ b.T
    # the remainder is not diagonal, so fold it into B as further factors with F = I
    b_full = np.column_stack([b, vecs[:, :-3] * np.sqrt(np.clip(vals[:-3], 0, None))])
    assert np.allclose(b_full @ b_full.T, sigma.to_numpy(), atol=1e-12) and rest.shape == (20, 20)
    a = optimize_portfolio(mu, covariance=sigma, risk_aversion=1.0, upper=0.3)
    f = optimize_portfolio(mu, factor_model=(b_full, np.eye(20), np.zeros(20)), risk_aversion=1.0, upper=0.3)
    assert np.allclose(a.weights, f.weights, atol=1e-6)
    assert (a.weights <= 0.3 + 1e-9).all()


def test_benchmark_tracking_error_beta_and_sectors(mu_sigma) -> None:
    mu, sigma = mu_sigma
    bench = pd.Series(1 / len(mu), index=mu.index)
    sectors = pd.Series(["Tech" if t in {"GOOG", "AAPL", "FB", "AMZN", "AMD", "BABA"} else "Other" for t in mu.index], index=mu.index)
    res = optimize_portfolio(
        mu, covariance=sigma, risk_aversion=1.0, benchmark=bench, tracking_error=0.04, beta=(0.95, 1.05),
        sectors=sectors, sector_bounds={"Tech": (None, 0.35)}, upper=0.15,
    )
    assert res.status == "optimal"
    assert res.tracking_error <= 0.04 + 1e-6
    assert 0.95 - 1e-6 <= res.beta <= 1.05 + 1e-6
    assert res.weights[sectors == "Tech"].sum() <= 0.35 + 1e-6
    active = res.weights - bench
    te = float(np.sqrt(active @ sigma @ active))
    assert te == pytest.approx(res.tracking_error, rel=1e-6)


def test_bad_inputs_say_which_input(mu_sigma) -> None:
    mu, sigma = mu_sigma
    with pytest.raises(PortfolioInputError, match="exactly one risk model"):
        optimize_portfolio(mu)
    with pytest.raises(PortfolioInputError, match="need a benchmark"):
        optimize_portfolio(mu, covariance=sigma, tracking_error=0.05)
    with pytest.raises(PortfolioInputError, match="not positive semi-definite"):
        optimize_portfolio(mu, covariance=-sigma)
    with pytest.raises(PortfolioInputError, match="upper has no value"):
        optimize_portfolio(mu, covariance=sigma, upper=pd.Series({"GOOG": 0.1}))
