"""How uncertain a company's fair value is, judged from its business, and the margin of safety
that uncertainty demands (as Morningstar's uncertainty rating sets its star thresholds).

Four things make a fair value hard to pin down (Morningstar weighs the same: sales
predictability, operating leverage, financial leverage, plus contingent events the data cannot
show). Each scores 0-3 points:

=====================  ==============================================  =====  =====  =====
component              measure (from the cycle, :mod:`screener.panel`)   1 pt   2 pt   3 pt
=====================  ==============================================  =====  =====  =====
sales predictability   std of year-on-year log revenue changes          0.08   0.15   0.30
operating leverage     std of the yearly operating margins              0.02   0.05   0.10
financial leverage     net debt / normalised EBITDA                     1.0    2.5    4.0
loss history           years of the cycle with a net loss               1      2      3
=====================  ==============================================  =====  =====  =====

A measure at or above a threshold scores its points. A revenue or margin history too short to
measure (under three years) scores 2; net debt with no normalised EBITDA scores 3, net cash 0.
Normalised EBITDA = normalised EBIT + average D&A (see :mod:`screener.fair_value`).

The points add up to 0-12: 0-1 **low**, 2-3 **medium**, 4-6 **high**, 7-9 **very high**,
10-12 **extreme**. The rating sets the margin of safety (``margin_of_safety`` assumption,
default 20 / 30 / 40 / 50 / 75%): ``buy_below = fair_value x (1 - margin)``, and the company
counts as ``cheap`` when its price is at or below that.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from screener.assumptions import UNCERTAINTY_LEVELS, ValuationAssumptions
from screener.panel import safe_div

#: component -> (label, thresholds for 1, 2 and 3 points)
COMPONENTS = {
    "sales_predictability": ("Revenue volatility (std of yearly log changes)", (0.08, 0.15, 0.30)),
    "operating_leverage": ("Operating margin swing (std of yearly margins)", (0.02, 0.05, 0.10)),
    "financial_leverage": ("Net debt / normalised EBITDA", (1.0, 2.5, 4.0)),
    "loss_history": ("Years with a net loss in the cycle", (1, 2, 3)),
}
#: Points for a measure that cannot be computed from too short a history.
UNMEASURED_POINTS = 2
#: Highest total score of each rating, in the order of ``UNCERTAINTY_LEVELS`` (the last: 12).
RATING_CUTS = (1, 3, 6, 9)


def _points(measure: pd.Series, thresholds: tuple[float, ...]) -> pd.Series:
    pts = sum((measure >= t).astype(int) for t in thresholds)
    return pd.Series(pts, index=measure.index)


def business_uncertainty(panel: pd.DataFrame, normalised: pd.DataFrame) -> pd.DataFrame:
    """Each component's measure and points, the total and the rating.

    Parameters
    ----------
    panel : pandas.DataFrame
        The company panel (cycle figures).
    normalised : pandas.DataFrame
        ``ebit_normalised`` and ``debt`` of :func:`screener.fair_value.normalise`.

    Returns
    -------
    pandas.DataFrame
        ``unc_<component>`` (measure) and ``unc_<component>_points`` for each of
        ``COMPONENTS``, ``uncertainty_score`` (0-12) and ``uncertainty`` (the rating).
    """
    ebitda = normalised["ebit_normalised"] + panel["da_avg"].fillna(0.0)
    net_debt = normalised["debt"] - panel["cash"].fillna(0.0)
    leverage = safe_div(net_debt, ebitda.where(ebitda > 0))
    leverage = leverage.where(~(net_debt <= 0), 0.0)
    leverage = leverage.where(~((ebitda <= 0) & (net_debt > 0)), np.inf)
    measures = {
        "sales_predictability": panel["revenue_volatility"],
        "operating_leverage": panel["op_margin_std"].where(panel["years"] >= 3),
        "financial_leverage": leverage,
        "loss_history": panel["loss_years"].astype("float64"),
    }
    out = pd.DataFrame(index=panel.index)
    total = pd.Series(0, index=panel.index)
    for name, (_, thresholds) in COMPONENTS.items():
        m = measures[name]
        pts = _points(m, thresholds).where(m.notna(), UNMEASURED_POINTS)
        out[f"unc_{name}"] = m
        out[f"unc_{name}_points"] = pts.astype(int)
        total += pts.astype(int)
    out["uncertainty_score"] = total
    level = np.searchsorted(np.array(RATING_CUTS), total.to_numpy(), side="left")
    out["uncertainty"] = np.array(UNCERTAINTY_LEVELS)[level]
    return out


def margin_of_safety(
    uncertainty: pd.Series, fair_value: pd.Series, price: pd.Series, a: ValuationAssumptions
) -> pd.DataFrame:
    """The discount each company needs, the price that gives it, and whether it is there.

    Returns
    -------
    pandas.DataFrame
        ``margin_required``, ``buy_below`` (fair value x (1 - margin)), ``price_to_buy_below``
        (capped at 99 like price / fair value) and ``cheap`` (price <= buy_below).
    """
    margins = dict(zip(UNCERTAINTY_LEVELS, a.margin_of_safety, strict=True))
    required = uncertainty.map(margins).astype("float64")
    buy_below = fair_value * (1 - required)
    ratio = safe_div(price, buy_below.where(buy_below > 0)).clip(upper=99.0)
    ratio = ratio.where(~((buy_below <= 0) & price.notna()), 99.0)
    return pd.DataFrame(
        {
            "margin_required": required,
            "buy_below": buy_below,
            "price_to_buy_below": ratio,
            "cheap": (price <= buy_below).fillna(False).astype(bool),
        },
        index=uncertainty.index,
    )
