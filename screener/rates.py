"""Per-company discount rates: a build-up from the risk-free rate to the WACC.

::

    E      = market value of the whole firm's equity = market cap / parent_share
    D      = short-term + long-term debt (book)
    beta   = 1 + (1 - t) x min(D / E, 3)              Hamada: the market's unlevered beta of 1,
                                                      relevered at the company's debt / equity
    size   = size_premium x clip(ln(10B / E) / ln(10B / 100M), 0, 1)
    ke     = risk_free_rate + beta x equity_risk_premium + size        (cost of equity)
    kd     = risk_free_rate + spread(interest coverage)                 (pre-tax cost of debt)
    WACC   = E / (D + E) x ke + D / (D + E) x kd x (1 - t),  at least terminal_growth + 2%

``t`` is the company's normalised tax rate and the interest coverage is normalised EBIT / net
interest expense (see :mod:`screener.fair_value`). The credit spreads by coverage
(``DEBT_SPREADS``) are rounded steps in the manner of Damodaran's synthetic ratings: a company
whose earnings cover its interest many times borrows near the risk-free rate, one whose
earnings do not cover it pays a distressed spread. No interest to pay gets the lowest spread;
no operating profit the highest.
"""

from __future__ import annotations

import numpy as np

from screener.assumptions import ValuationAssumptions

#: (interest coverage at least, credit spread over the risk-free rate), best first.
DEBT_SPREADS = ((8.0, 0.010), (4.0, 0.015), (3.0, 0.020), (2.0, 0.030), (1.5, 0.040), (1.0, 0.060))
#: Spread when operating profit does not cover the interest (or there is none).
DISTRESSED_SPREAD = 0.10
#: Market values at which the size premium is full and nil.
SIZE_PREMIUM_FULL_AT = 1e8
SIZE_PREMIUM_NIL_AT = 1e10
#: Debt / equity beyond which the relevered beta stops rising.
MAX_DEBT_TO_EQUITY = 3.0
#: The WACC never comes closer to terminal growth than this (the DCF's terminal value).
MIN_WACC_OVER_GROWTH = 0.02


#: What :func:`cost_of_capital` returns for each company, in build-up order.
RATE_BUILD_UP = (
    "equity_value",
    "debt_to_equity",
    "beta",
    "size_premium",
    "cost_of_equity",
    "interest_coverage_normalised",
    "debt_spread",
    "cost_of_debt",
    "debt_weight",
    "wacc",
)


def debt_spread(coverage: np.ndarray) -> np.ndarray:
    """Credit spread over the risk-free rate for each interest coverage (``DEBT_SPREADS``)."""
    c = np.nan_to_num(np.asarray(coverage, dtype=float), nan=-np.inf)
    spread = np.full(len(c), DISTRESSED_SPREAD)
    for floor, s in reversed(DEBT_SPREADS):
        spread = np.where(c >= floor, s, spread)
    return spread


def size_premium(equity_value: np.ndarray, a: ValuationAssumptions) -> np.ndarray:
    """The size premium of each company (see the module docstring)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        position = np.log(SIZE_PREMIUM_NIL_AT / equity_value) / np.log(
            SIZE_PREMIUM_NIL_AT / SIZE_PREMIUM_FULL_AT
        )
    return a.size_premium * np.clip(position, 0.0, 1.0)


def cost_of_capital(
    market_cap: np.ndarray,
    parent_share: np.ndarray,
    debt: np.ndarray,
    ebit: np.ndarray,
    interest: np.ndarray,
    tax_rate: np.ndarray,
    a: ValuationAssumptions,
) -> dict[str, np.ndarray]:
    """The rate build-up of every company (arrays of one value per company).

    Parameters
    ----------
    market_cap : numpy.ndarray
        Market value of the parent's shares.
    parent_share : numpy.ndarray
        Share of the firm's earnings that belongs to the parent (1 without minority partners).
    debt : numpy.ndarray
        Short- plus long-term debt.
    ebit : numpy.ndarray
        Normalised operating income (for the interest coverage).
    interest : numpy.ndarray
        Net interest expense (negative = net interest income).
    tax_rate : numpy.ndarray
        Normalised tax rate.
    a : ValuationAssumptions

    Returns
    -------
    dict of numpy.ndarray
        ``equity_value`` (E), ``debt_to_equity``, ``beta``, ``size_premium``,
        ``cost_of_equity``, ``interest_coverage_normalised``, ``debt_spread``,
        ``cost_of_debt`` (pre-tax), ``debt_weight`` (D / (D + E)) and ``wacc``.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        equity = market_cap / np.where(parent_share > 0, parent_share, np.nan)
        equity = np.where(equity > 0, equity, np.nan)
        debt = np.maximum(np.nan_to_num(debt), 0.0)
        d_to_e = np.minimum(debt / equity, MAX_DEBT_TO_EQUITY)
        beta = 1.0 + (1.0 - tax_rate) * d_to_e
        size = size_premium(equity, a)
        ke = a.risk_free_rate + beta * a.equity_risk_premium + size
        earns = np.nan_to_num(ebit) > 0
        pays = np.nan_to_num(interest) > 0
        coverage = np.where(
            earns, np.where(pays, ebit / np.where(pays, interest, 1.0), np.inf), np.nan
        )
        spread = debt_spread(coverage)
        kd = a.risk_free_rate + spread
        weight = debt / (debt + equity)
        wacc = (1 - weight) * ke + weight * kd * (1 - tax_rate)
    return {
        "equity_value": equity,
        "debt_to_equity": d_to_e,
        "beta": beta,
        "size_premium": size,
        "cost_of_equity": ke,
        "interest_coverage_normalised": coverage,
        "debt_spread": spread,
        "cost_of_debt": kd,
        "debt_weight": weight,
        "wacc": np.maximum(wacc, a.terminal_growth + MIN_WACC_OVER_GROWTH),
    }
