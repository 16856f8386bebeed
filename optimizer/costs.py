"""Transaction cost model: commission + half spread (linear) and square-root market impact.

* **Commission**: ``commission_bps`` of the notional.
* **Half spread**: estimated from liquidity, ``half_spread_bps x sqrt(1e8 / ADV$)``, clipped to
  [``min_half_spread_bps``, ``max_half_spread_bps``]: 5 bp at $100M a day, 16 bp at $10M,
  50 bp at $1M (the usual inverse relation between spread and dollar volume).
* **Market impact** (on by default): the square-root law in cvxportfolio's form
  (``StocksTransactionCost``, exponent 1.5, coefficient ``b = 1`` by default there and here):
  cost per dollar traded ``impact_coefficient x daily volatility x sqrt(trade$ / ADV$)``; in
  weights ``impact_coefficient x sigma_daily x sqrt(V / ADV$) x |dw|^1.5``. A trade of 10% of
  a day's volume in a stock with 2% daily volatility costs about 63 bp.
* **Holding horizon**: costs are paid once, when trading, and the budget pays them in full
  (the cash buffer holds after costs); the objective charges ``1 / holding_years`` of them a
  year, as the position is meant to be held that long (3 years by default, the short end of
  the rotation thesis's 3-5 years).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class CostSettings:
    """Inputs of the cost model (the ``[costs]`` table of a constraints file)."""

    commission_bps: float = 1.0
    half_spread_bps: float = 5.0
    min_half_spread_bps: float = 2.0
    max_half_spread_bps: float = 100.0
    impact: bool = True
    impact_coefficient: float = 1.0
    holding_years: float = 3.0

    def __post_init__(self) -> None:
        for name in ("commission_bps", "half_spread_bps", "min_half_spread_bps", "max_half_spread_bps", "impact_coefficient"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
                raise ValueError(f"{name} must be a number, zero or more (got {value!r})")
        if not isinstance(self.holding_years, int | float) or isinstance(self.holding_years, bool) or not 0.1 <= self.holding_years <= 50:
            raise ValueError(f"holding_years must be a number from 0.1 to 50 (got {self.holding_years!r})")
        if self.min_half_spread_bps > self.max_half_spread_bps:
            raise ValueError("min_half_spread_bps must not exceed max_half_spread_bps")

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def half_spread(adv_usd: np.ndarray, s: CostSettings) -> np.ndarray:
    """Estimated half spread as a fraction of price."""
    adv = np.where(np.isfinite(adv_usd) & (adv_usd > 0), adv_usd, 1e4)
    bps = np.clip(s.half_spread_bps * np.sqrt(1e8 / adv), s.min_half_spread_bps, s.max_half_spread_bps)
    result: np.ndarray = bps / 1e4
    return result


def linear_cost_rate(adv_usd: np.ndarray, s: CostSettings) -> np.ndarray:
    """Commission + half spread, as a fraction of the notional traded."""
    result: np.ndarray = s.commission_bps / 1e4 + half_spread(adv_usd, s)
    return result


def impact_coefficient(daily_vol: np.ndarray, adv_usd: np.ndarray, portfolio_value: float, s: CostSettings) -> np.ndarray:
    """Coefficient ``c`` of the impact cost ``c x |dw|^1.5`` (zero when impact is off)."""
    if not s.impact:
        return np.zeros(len(adv_usd))
    adv = np.where(np.isfinite(adv_usd) & (adv_usd > 0), adv_usd, 1e4)
    result: np.ndarray = s.impact_coefficient * daily_vol * np.sqrt(portfolio_value / adv)
    return result


def trade_cost(notional: np.ndarray, adv_usd: np.ndarray, daily_vol: np.ndarray, s: CostSettings) -> np.ndarray:
    """Estimated cost in dollars of trades of ``notional`` dollars (absolute values)."""
    notional = np.abs(notional)
    cost = notional * linear_cost_rate(adv_usd, s)
    if s.impact:
        adv = np.where(np.isfinite(adv_usd) & (adv_usd > 0), adv_usd, 1e4)
        cost = cost + s.impact_coefficient * daily_vol * np.sqrt(notional / adv) * notional
    result: np.ndarray = cost
    return result
