"""Fair value per share by four methods, their blend, and the growth the price implies.

Methods (all per share, in USD; ``shares`` = weighted basic shares of the latest year)
-------------------------------------------------------------------------------------
**Earnings power value** (Greenwald)::

    EPV = op_margin_avg x revenue x (1 - tax_rate) / cost_of_capital + cash - debt

``op_margin_avg`` is the cycle-normalised operating margin (mean over the available years).
Not applicable when normalised earnings are zero or negative.

**Sector-relative multiples**::

    value_ev_ebit = (peer median EV/EBIT x EBIT + cash - debt)
    value_pb      = peer median P/B x book equity
    multiples     = mean of the two that apply

Peer medians come from the screened universe itself: the company's industry when it has at
least ``min_peers`` companies with a positive denominator, else its sector, else the whole
universe. EV/EBIT applies only to EBIT > 0, P/B only to book equity > 0.

**Free-cash-flow DCF**, two stages::

    FCF0 = operating cash flow - capex_avg
    g_t  = g0 + (terminal_growth - g0) x (t - 1) / (years - 1),   t = 1..years
    EV   = sum FCF_t / (1 + r)^t + FCF_years x (1 + terminal_growth) / (r - terminal_growth) / (1 + r)^years
    DCF  = EV + cash - debt

``g0`` is the historical revenue CAGR clipped to [``min_growth``, ``max_growth``]; ``r`` is
``discount_rate``. Not applicable when FCF0 <= 0.

**Graham number**: ``sqrt(22.5 x EPS x book value per share)``; applies when both are positive.

Blend
-----
``fair_value`` = median of the primary methods that apply (EPV, multiples, DCF), never below the
Graham number: the conservative floor (when it applies). With no primary method, the Graham
number alone; with none at all, missing (the ranking treats it as worst). An equity value below
zero (debt above the operating value) counts as zero: shareholders cannot be worth less.

``price_to_fair_value`` = price / fair value (capped at 99; a fair value of zero gives 99),
``discount`` = 1 - price / fair value. ``uncertainty`` grades the agreement of all the values
that apply (coefficient of variation): A (>= 3 methods, CV < 0.25), B (>= 2, CV < 0.5),
C (>= 2, CV < 1), D (one method, or CV >= 1), ``-`` (none).

Reverse DCF
-----------
``implied_growth``: the initial growth ``g0`` at which the DCF equals the price (SciPy's
elementwise bracketing root finder, Chandrupatla), searched in [-50%, +100%]; missing where
FCF0 <= 0 or the price lies outside that range (``implied_growth_note`` says which).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

import numpy as np
import pandas as pd

from screener.panel import safe_div
from screener.quality import net_debt

PRIMARY_METHODS = ("fv_epv", "fv_multiples", "fv_dcf")
ALL_METHODS = (*PRIMARY_METHODS, "fv_graham")
PTFV_CAP = 99.0
GROWTH_SEARCH = (-0.5, 1.0)


@dataclass(frozen=True)
class ValuationAssumptions:
    """Editable inputs of the fair-value methods (the ``[assumptions]`` table of a screen).

    Attributes
    ----------
    cost_of_capital : float
        Capitalisation rate of earnings power (EPV).
    tax_rate : float
        Tax on normalised operating earnings (EPV).
    discount_rate : float
        DCF discount rate.
    terminal_growth : float
        Perpetual growth after the explicit DCF years; must be below ``discount_rate``.
    dcf_years : int
        Years over which growth fades from ``g0`` to ``terminal_growth``.
    min_growth, max_growth : float
        Clip for ``g0``, the historical revenue CAGR.
    peer_group : str
        ``"industry"`` or ``"sector"``: where the multiples' medians come from.
    min_peers : int
        Fewer peers than this falls back from industry to sector to the whole universe.
    """

    cost_of_capital: float = 0.09
    tax_rate: float = 0.21
    discount_rate: float = 0.09
    terminal_growth: float = 0.025
    dcf_years: int = 10
    min_growth: float = -0.05
    max_growth: float = 0.15
    peer_group: str = "industry"
    min_peers: int = 5

    def __post_init__(self) -> None:
        problems = []
        if not 0 < self.cost_of_capital < 1:
            problems.append("cost_of_capital must be between 0 and 1")
        if not 0 <= self.tax_rate < 1:
            problems.append("tax_rate must be between 0 and 1")
        if not 0 < self.discount_rate < 1:
            problems.append("discount_rate must be between 0 and 1")
        if not self.terminal_growth < self.discount_rate:
            problems.append("terminal_growth must be below discount_rate")
        if not 2 <= self.dcf_years <= 50:
            problems.append("dcf_years must be 2-50")
        if not self.min_growth <= self.max_growth:
            problems.append("min_growth must not exceed max_growth")
        if self.peer_group not in ("industry", "sector"):
            problems.append("peer_group must be 'industry' or 'sector'")
        if self.min_peers < 1:
            problems.append("min_peers must be at least 1")
        if problems:
            raise ValueError("; ".join(problems))

    @classmethod
    def names(cls) -> list[str]:
        """The assumption names (valid keys of a screen's ``[assumptions]``)."""
        return [f.name for f in fields(cls)]

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def per_share(equity: pd.Series, shares: pd.Series) -> pd.Series:
    """Equity value per share, an equity value below zero counting as zero."""
    return safe_div(equity.clip(lower=0.0), shares.where(shares > 0))


def earnings_power_value(panel: pd.DataFrame, a: ValuationAssumptions) -> pd.DataFrame:
    """EPV per share and its inputs."""
    earnings = panel["op_margin_avg"] * panel["revenue"] * (1 - a.tax_rate)
    epv = (
        earnings / a.cost_of_capital
        + panel["cash"]
        - (panel["short_term_debt"] + panel["long_term_debt"])
    )
    value = per_share(epv, panel["shares"]).where(earnings > 0)
    return pd.DataFrame(
        {
            "epv_op_margin": panel["op_margin_avg"],
            "epv_normalised_earnings": earnings,
            "fv_epv": value,
        },
        index=panel.index,
    )


def peer_medians(ratio: pd.Series, companies: pd.DataFrame, a: ValuationAssumptions) -> pd.Series:
    """Median of ``ratio`` among each company's peers (industry, then sector, then universe).

    Only finite, positive ratios count as peers.
    """
    valid = ratio.where(np.isfinite(ratio) & (ratio > 0))
    universe_median = valid.median()
    result = pd.Series(universe_median, index=ratio.index, dtype="float64")
    levels = ["sector", "industry"] if a.peer_group == "industry" else ["sector"]
    for level in levels:  # finer levels overwrite coarser ones where they have enough peers
        groups = valid.groupby(companies[level])
        med = groups.transform("median")
        count = groups.transform("count")
        result = result.where(~(count >= a.min_peers), med)
    return result


def multiples_value(
    panel: pd.DataFrame, companies: pd.DataFrame, a: ValuationAssumptions
) -> pd.DataFrame:
    """Value at peer-median EV/EBIT and P/B, per share, with the multiples used."""
    debt = panel["short_term_debt"] + panel["long_term_debt"]
    ev = panel["market_cap"] + debt - panel["cash"]
    ebit = panel["operating_income"]
    book = panel["total_equity"]
    ev_ebit = safe_div(ev, ebit.where(ebit > 0))
    pb = safe_div(panel["market_cap"], book.where(book > 0))
    peer_ev_ebit = peer_medians(ev_ebit, companies, a)
    peer_pb = peer_medians(pb, companies, a)
    v_ev = per_share(peer_ev_ebit * ebit - debt + panel["cash"], panel["shares"]).where(ebit > 0)
    v_pb = per_share(peer_pb * book, panel["shares"]).where(book > 0)
    return pd.DataFrame(
        {
            "ev_to_ebit": ev_ebit,
            "price_to_book": pb,
            "peer_ev_to_ebit": peer_ev_ebit,
            "peer_price_to_book": peer_pb,
            "fv_ev_ebit": v_ev,
            "fv_pb": v_pb,
            "fv_multiples": pd.concat([v_ev, v_pb], axis=1).mean(axis=1, skipna=True),
        },
        index=panel.index,
    )


def _dcf_enterprise_value(fcf0: np.ndarray, g0: np.ndarray, a: ValuationAssumptions) -> np.ndarray:
    """Two-stage DCF enterprise value; ``fcf0`` and ``g0`` broadcast together."""
    n = a.dcf_years
    t = np.arange(1, n + 1, dtype=float)
    fade = (t - 1) / (n - 1)
    g = np.asarray(g0, dtype=float)[..., None]
    growth = g + (a.terminal_growth - g) * fade
    fcf = np.asarray(fcf0, dtype=float)[..., None] * np.cumprod(1 + growth, axis=-1)
    discount = (1 + a.discount_rate) ** -t
    terminal = fcf[..., -1] * (1 + a.terminal_growth) / (a.discount_rate - a.terminal_growth)
    result: np.ndarray = (fcf * discount).sum(axis=-1) + terminal * discount[-1]
    return result


def dcf_value(panel: pd.DataFrame, a: ValuationAssumptions) -> pd.DataFrame:
    """Two-stage FCF DCF per share, its inputs, and the reverse DCF (implied growth)."""
    from scipy.optimize.elementwise import find_root

    fcf0 = panel["operating_cash_flow"] - panel["capex_avg"]
    g0 = panel["revenue_cagr"].fillna(0.0).clip(a.min_growth, a.max_growth)
    cash_less_debt = panel["cash"] - panel["short_term_debt"] - panel["long_term_debt"]
    ok = (fcf0 > 0) & panel["shares"].gt(0)
    ev = pd.Series(
        _dcf_enterprise_value(fcf0.fillna(0.0).to_numpy(), g0.to_numpy(), a), index=panel.index
    )
    value = per_share(ev + cash_less_debt, panel["shares"]).where(ok)

    # Reverse DCF: g such that (EV(g) + cash - debt) / shares = price.
    target = (panel["market_cap"] - cash_less_debt).to_numpy(float)
    f0 = fcf0.to_numpy(float)
    solvable = ok.to_numpy() & np.isfinite(target)
    implied = np.full(len(panel), np.nan)
    note = np.where(ok.to_numpy(), "", "FCF <= 0").astype(object)
    if solvable.any():
        lo_g, hi_g = GROWTH_SEARCH
        f_s, t_s = f0[solvable], target[solvable]
        lo = _dcf_enterprise_value(f_s, np.full_like(f_s, lo_g), a) - t_s
        hi = _dcf_enterprise_value(f_s, np.full_like(f_s, hi_g), a) - t_s
        bracketed = (lo < 0) & (hi > 0)
        sol = np.full(len(f_s), np.nan)
        if bracketed.any():
            res = find_root(
                lambda g, f, tgt: _dcf_enterprise_value(f, g, a) - tgt,
                (np.full(bracketed.sum(), lo_g), np.full(bracketed.sum(), hi_g)),
                args=(f_s[bracketed], t_s[bracketed]),
                tolerances={"xatol": 1e-7},
            )
            sol[bracketed] = np.where(res.success, res.x, np.nan)
        implied[solvable] = sol
        sub_note = np.where(
            lo >= 0, "price implies < -50%", np.where(hi <= 0, "price implies > +100%", "")
        )
        note[solvable] = sub_note
    return pd.DataFrame(
        {
            "dcf_fcf0": fcf0,
            "dcf_capex_avg": panel["capex_avg"],
            "dcf_g0": g0,
            "fv_dcf": value,
            "implied_growth": implied,
            "implied_growth_note": note,
        },
        index=panel.index,
    )


def graham_number(panel: pd.DataFrame) -> pd.DataFrame:
    """Graham number per share: sqrt(22.5 x EPS x BVPS) where both are positive."""
    shares = panel["shares"].where(panel["shares"] > 0)
    eps = safe_div(panel["net_income"], shares)
    bvps = safe_div(panel["total_equity"], shares)
    value = np.sqrt((22.5 * eps * bvps).where((eps > 0) & (bvps > 0)))
    return pd.DataFrame({"eps": eps, "book_per_share": bvps, "fv_graham": value}, index=panel.index)


def blend(values: pd.DataFrame, price: pd.Series) -> pd.DataFrame:
    """Blend the methods into one fair value, its ratio to price and an uncertainty grade."""
    primary = values[list(PRIMARY_METHODS)]
    median = primary.median(axis=1, skipna=True)
    graham = values["fv_graham"]
    fair = pd.concat([median, graham], axis=1).max(axis=1, skipna=True)
    fair = fair.where(median.notna() | graham.notna())
    all_values = values[list(ALL_METHODS)]
    count = all_values.notna().sum(axis=1)
    mean = all_values.mean(axis=1, skipna=True)
    cv = (all_values.std(axis=1, ddof=0, skipna=True) / mean.where(mean > 0)).fillna(np.inf)
    grade = np.select(
        [
            count == 0,
            (count >= 3) & (cv < 0.25),
            (count >= 2) & (cv < 0.5),
            (count >= 2) & (cv < 1.0),
        ],
        ["-", "A", "B", "C"],
        default="D",
    )
    ptfv = safe_div(price, fair.where(fair > 0)).clip(upper=PTFV_CAP)
    ptfv = ptfv.where(~((fair <= 0) & price.notna()), PTFV_CAP)
    return pd.DataFrame(
        {
            "fair_value": fair,
            "fv_methods": count.astype(int),
            "price_to_fair_value": ptfv,
            "discount": 1 - ptfv,
            "uncertainty": grade,
        },
        index=values.index,
    )


def fair_values(
    panel: pd.DataFrame, companies: pd.DataFrame, a: ValuationAssumptions
) -> pd.DataFrame:
    """Every method, the blend and the reverse DCF for every company.

    Parameters
    ----------
    panel : pandas.DataFrame
        The company panel with ``shares``, ``price`` and ``market_cap`` joined in.
    companies : pandas.DataFrame
        ``sector`` and ``industry`` for the peer groups.
    a : ValuationAssumptions

    Returns
    -------
    pandas.DataFrame
    """
    parts = [
        earnings_power_value(panel, a),
        multiples_value(panel, companies, a),
        dcf_value(panel, a),
        graham_number(panel),
    ]
    out = pd.concat(parts, axis=1)
    out["net_debt"] = net_debt(panel)
    return out.join(blend(out, panel["price"]))
