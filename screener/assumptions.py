"""The editable assumptions of the valuation (the ``[assumptions]`` table of a screen file).

Every number a valuation rests on that is not company data lives here, with its default and
the reason for it; :mod:`screener.fair_value`, :mod:`screener.rates` and
:mod:`screener.uncertainty` say how each one is used.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any

#: Business-uncertainty ratings, least to most uncertain (see :mod:`screener.uncertainty`).
UNCERTAINTY_LEVELS = ("low", "medium", "high", "very high", "extreme")
#: Peer groups for relative valuation (see :mod:`screener.peers`).
PEER_GROUPS = ("sic", "industry")
#: Assumptions of earlier versions, and what replaced them.
RETIRED = {
    "cost_of_capital": "each company now gets its own WACC from risk_free_rate, "
    "equity_risk_premium and size_premium",
    "discount_rate": "each company now gets its own WACC from risk_free_rate, "
    "equity_risk_premium and size_premium",
}


@dataclass(frozen=True)
class ValuationAssumptions:
    """Editable inputs of the fair-value methods.

    Attributes
    ----------
    risk_free_rate : float
        Yield of the 10-year U.S. Treasury note: 4.08% on 2024-03-08, the snapshot's date
        (CNBC, 8 March 2024: 4.079% after the February jobs report). Edit it for another date.
    equity_risk_premium : float
        Kroll's recommended U.S. equity risk premium on the snapshot's date: 5.5% (effective
        18 October 2022; lowered to 5.0% on 5 June 2024).
    size_premium : float
        Extra return asked of the smallest companies: the full premium at a market value of
        $100M or less, none at $10B or more, linear in log market value in between.
    tax_rate : float
        Statutory rate (21% federal plus state), used when a company has no year of positive
        pretax income to measure its effective rate.
    min_tax_rate, max_tax_rate : float
        Bounds of the effective tax rate: loss carry-forwards and one-off benefits do not last
        for ever, nor do one-off charges.
    operating_cash : float
        Cash a business needs to run, as a share of revenue; the rest of its cash is excess
        cash, added to the value of operations.
    terminal_growth : float
        Growth of cash flows after the explicit DCF years.
    dcf_years : int
        Years over which growth fades linearly from the initial growth to ``terminal_growth``.
    recent_growth_weight : float
        Weight of the latest year's revenue growth in the initial growth; the rest goes to the
        cycle's revenue trend.
    min_growth, max_growth : float
        Bounds of the initial growth (a company at a bound is flagged "growth at a cap").
    peer_group : str
        ``"sic"``: peers share the company's 4-digit SIC code, else its 3-digit, else its
        2-digit group (SimFin industry for companies without SIC); ``"industry"``: SimFin
        industry only.
    min_peers : int
        Fewest peers (the company itself never counts) a peer median may rest on.
    intrinsic_weight : float
        Weight of the intrinsic value (EPV, DCF) in the fair value; the rest goes to the
        relative value (peer multiples). 1 uses intrinsic value alone, 0 relative value alone.
    graham_ceiling : bool
        True: the fair value never exceeds the Graham number (a defensive buyer's ceiling).
    rate_spread : float
        The bear case discounts at WACC + this, the bull case at WACC - this.
    growth_spread : float
        The bear case starts growth this much lower, the bull case this much higher.
    margin_of_safety : tuple of float
        Discount to fair value a company needs to count as cheap, for each uncertainty rating
        (low, medium, high, very high, extreme): Morningstar's 5-star thresholds.
    """

    risk_free_rate: float = 0.041
    equity_risk_premium: float = 0.055
    size_premium: float = 0.03
    tax_rate: float = 0.25
    min_tax_rate: float = 0.15
    max_tax_rate: float = 0.35
    operating_cash: float = 0.02
    terminal_growth: float = 0.025
    dcf_years: int = 10
    recent_growth_weight: float = 0.5
    min_growth: float = -0.10
    max_growth: float = 0.15
    peer_group: str = "sic"
    min_peers: int = 5
    intrinsic_weight: float = 0.5
    graham_ceiling: bool = False
    rate_spread: float = 0.01
    growth_spread: float = 0.03
    margin_of_safety: tuple[float, ...] = (0.2, 0.3, 0.4, 0.5, 0.75)

    def __post_init__(self) -> None:
        object.__setattr__(self, "margin_of_safety", tuple(self.margin_of_safety))
        problems = [p for p in _problems(self) if p]
        if problems:
            raise ValueError("; ".join(problems))

    @classmethod
    def names(cls) -> list[str]:
        """The assumption names (valid keys of a screen's ``[assumptions]``)."""
        return [f.name for f in fields(cls)]

    def as_dict(self) -> dict[str, Any]:
        """The assumptions as plain values (``margin_of_safety`` as a list)."""
        out = asdict(self)
        out["margin_of_safety"] = list(self.margin_of_safety)
        return out


def _is_number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def _problems(a: ValuationAssumptions) -> list[str]:
    rates = ("risk_free_rate", "equity_risk_premium", "size_premium", "tax_rate")
    shares = ("min_tax_rate", "max_tax_rate", "operating_cash", "recent_growth_weight")
    out = [f"{k} must be a number" for k in (*rates, *shares) if not _is_number(getattr(a, k))]
    if out:
        return out
    out += [f"{k} must be between 0 and 1" for k in rates if not 0 <= getattr(a, k) < 1]
    out += [f"{k} must be between 0 and 1" for k in shares if not 0 <= getattr(a, k) <= 1]
    if not _is_number(a.intrinsic_weight) or not 0 <= a.intrinsic_weight <= 1:
        out.append("intrinsic_weight must be between 0 and 1")
    if a.min_tax_rate > a.max_tax_rate:
        out.append("min_tax_rate must not exceed max_tax_rate")
    if not _is_number(a.terminal_growth) or not -0.05 <= a.terminal_growth < a.risk_free_rate:
        out.append("terminal_growth must be at least -0.05 and below risk_free_rate")
    if not isinstance(a.dcf_years, int) or not 2 <= a.dcf_years <= 50:
        out.append("dcf_years must be a whole number 2-50")
    if not (_is_number(a.min_growth) and _is_number(a.max_growth)) or a.min_growth > a.max_growth:
        out.append("min_growth must not exceed max_growth")
    elif a.min_growth <= -1:
        out.append("min_growth must be above -1")
    if a.peer_group not in PEER_GROUPS:
        out.append(f"peer_group must be one of {', '.join(PEER_GROUPS)}")
    if not isinstance(a.min_peers, int) or a.min_peers < 1:
        out.append("min_peers must be a whole number of at least 1")
    if not isinstance(a.graham_ceiling, bool):
        out.append("graham_ceiling must be true or false")
    for k in ("rate_spread", "growth_spread"):
        if not _is_number(getattr(a, k)) or not 0 <= getattr(a, k) < 0.5:
            out.append(f"{k} must be between 0 and 0.5")
    mos = a.margin_of_safety
    if (
        len(mos) != len(UNCERTAINTY_LEVELS)
        or not all(_is_number(m) and 0 <= m < 1 for m in mos)
        or list(mos) != sorted(mos)
    ):
        out.append(
            "margin_of_safety must list 5 rising discounts between 0 and 1, one per uncertainty "
            f"rating ({', '.join(UNCERTAINTY_LEVELS)})"
        )
    return out
