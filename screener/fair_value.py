"""Fair value per share: intrinsic value (EPV, DCF) and relative value (peer multiples), kept
apart and blended by a rule the user sets, with a bear / base / bull range and the growth the
price implies.

All values are per share in USD (``shares`` = weighted basic shares of the latest year, as in
the market cap); the cycle figures come from :mod:`screener.panel`, the rates from
:mod:`screener.rates`, the assumptions ``a`` from :class:`screener.ValuationAssumptions`.

Normalised inputs (shared by every method)
------------------------------------------
::

    revenue_n     = min(latest revenue, cycle-average revenue)
    margin_n      = cycle operating margin (sum of EBIT / sum of revenue)
    EBIT_n        = revenue_n x margin_n
    t             = effective tax rate of the cycle, clipped to [min_tax_rate, max_tax_rate]
                    (tax_rate when the cycle has no pretax profit)
    NOPAT         = EBIT_n x (1 - t)
    excess_cash   = max(cash - operating_cash x latest revenue, 0)
    debt          = short-term + long-term debt
    p             = parent_share (the parent's share of continuing earnings, see panel)

A record year's revenue is brought down to the cycle average; a year below the average is not
raised (a fall may last). Minority partners are assumed to own the same share ``1 - p`` of
every part of the firm as of its earnings, so each equity value is multiplied by ``p``.

Intrinsic value
---------------
**Earnings power value** (Greenwald)::

    EPV = (NOPAT / WACC + excess_cash - debt) x p / shares        (applies when NOPAT > 0)

D&A is taken as the cost of maintaining the assets (no maintenance-capex adjustment).

**Free cash flow to the firm, two stages, at the WACC** (with the net-debt bridge)::

    FCFF_0 = NOPAT + da_avg - capex_avg + wc_change_avg - acquisitions_avg
    g_0    = clip(w x revenue_growth_1y + (1 - w) x revenue_trend, min_growth, max_growth)
             (w = recent_growth_weight; either term alone when the other is missing; 0 with neither)
    g_t    = g_0 + (terminal_growth - g_0) x (t - 1) / (years - 1),      t = 1..years
    EV     = sum FCFF_t / (1 + WACC)^t + FCFF_years x (1 + terminal_growth) / (WACC - terminal_growth) / (1 + WACC)^years
    DCF    = (EV + excess_cash - debt) x p / shares                     (applies when FCFF_0 > 0)

Working capital is the cycle's average cash effect, not one year's swing; acquisitions are
reinvestment (growth bought is not free). Stock-based compensation is an operating expense
inside EBIT, so NOPAT already counts it as a cost; the data carry it only inside
``non_cash_items``, which is why the DCF starts from NOPAT, not from operating cash flow.

Relative value (peers over the fixed reference set, :mod:`screener.peers`)
--------------------------------------------------------------------------
::

    ev_to_ebit       = (market cap + debt - cash) / latest EBIT   (the usual multiple, a ranking
                       factor; not used for value)
    EV_market        = market cap / p + debt - excess_cash
    ev_to_ebit_n     = EV_market / EBIT_n              (EBIT_n > 0)
    pb_parent        = market cap / (book equity x p)  (book > 0)
    value_ev_ebit    = (peer median ev_to_ebit_n x EBIT_n + excess_cash - debt) x p / shares
    value_pb         = peer median pb_parent x book equity x p / shares    (EBIT_n > 0)
    relative         = mean of the two that apply

Both need positive normalised earnings: a company that loses money over the cycle is not worth
its profitable peers' price / book.

**Graham number**: ``sqrt(22.5 x EPS x book per share)``, EPS the mean of the parent's
continuing earnings over the last three years (``earnings_3y_avg``) per share, book per share
the parent's share of book equity; applies when both are positive. It is a ceiling for a
defensive buyer (Graham's P/E 15 x P/B 1.5), never a floor: reported beside the fair value and
applied only with ``graham_ceiling = true``.

Blend
-----
::

    intrinsic  = mean of EPV and DCF (those that apply)
    fair_value = intrinsic_weight x intrinsic + (1 - intrinsic_weight) x relative
                 (the one that exists when the other does not; missing with neither)

An equity value below zero (debt above the value of operations) counts as zero.
``price_to_fair_value`` = price / fair value (capped at 99; a fair value of zero gives 99),
``discount`` = 1 - price / fair value.

Range
-----
The bear and bull cases move every assumption against / for the company at once: margin
``margin_n -/+ op_margin_std``, WACC ``+/- rate_spread``, initial growth ``-/+ growth_spread``,
peer multiples at their lower / upper quartile instead of the median (the bull WACC stays 1
point above terminal growth). Each case keeps the base case's methods: one that stops applying
under the bear case's margin is worth zero there. So ``fair_value_bear <= fair_value <=
fair_value_bull``.

Reverse DCF
-----------
``implied_growth``: the initial growth ``g_0`` at which the DCF equals the price (SciPy's
elementwise bracketing root finder, Chandrupatla), searched in [-50%, +100%]; missing where
FCFF_0 <= 0 or the price lies outside that range (``implied_growth_note`` says which).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from screener.assumptions import ValuationAssumptions
from screener.peers import peer_multiples
from screener.rates import MIN_WACC_OVER_GROWTH, cost_of_capital

INTRINSIC_METHODS = ("fv_epv", "fv_dcf")
RELATIVE_METHODS = ("fv_ev_ebit", "fv_pb")
PTFV_CAP = 99.0
GROWTH_SEARCH = (-0.5, 1.0)

#: Arrays of one value per company, by name (the methods work on NumPy arrays: a screen of
#: every company runs them several times, and pandas' per-operation cost would dominate).
Arrays = dict[str, np.ndarray]


def column(frame: pd.DataFrame, name: str) -> np.ndarray:
    """A column as a float array (missing values as NaN)."""
    return frame[name].to_numpy(dtype="float64", na_value=np.nan)


def divide(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """``num / den``, NaN (not infinite) where ``den`` is zero or either side is missing."""
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.asarray(num, dtype=float) / np.asarray(den, dtype=float)
    return np.where(np.isfinite(out), out, np.nan)


def positive(x: np.ndarray) -> np.ndarray:
    """``x`` where it is above zero, else NaN."""
    with np.errstate(invalid="ignore"):
        return np.where(x > 0, x, np.nan)


def mean_of(*arrays: np.ndarray) -> np.ndarray:
    """Elementwise mean of the arrays that are not missing (NaN where all are)."""
    stack = np.vstack(arrays)
    ok = np.isfinite(stack)
    count = ok.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, np.where(ok, stack, 0.0).sum(axis=0) / count, np.nan)


def per_share(equity: np.ndarray, shares: np.ndarray) -> np.ndarray:
    """Equity value per share, an equity value below zero counting as zero."""
    return divide(np.maximum(equity, 0.0), positive(shares))


def initial_growth(recent: np.ndarray, trend: np.ndarray, a: ValuationAssumptions) -> Arrays:
    """The DCF's initial growth: a blend of the latest year's growth and the cycle's trend."""
    w = a.recent_growth_weight
    blend = w * recent + (1 - w) * trend
    raw = np.where(np.isfinite(blend), blend, np.where(np.isfinite(recent), recent, trend))
    raw = np.where(np.isfinite(raw), raw, 0.0)
    return {
        "growth_recent": recent,
        "growth_trend": trend,
        "growth_blend": raw,
        "growth_initial": np.clip(raw, a.min_growth, a.max_growth),
    }


def normalise(panel: pd.DataFrame, a: ValuationAssumptions) -> Arrays:
    """The normalised inputs every method shares (see the module docstring)."""
    revenue = positive(column(panel, "revenue"))
    revenue_n = np.fmin(revenue, column(panel, "revenue_avg"))
    revenue_n = np.where(np.isfinite(revenue), revenue_n, np.nan)
    margin = column(panel, "op_margin_avg")
    ebit = revenue_n * margin
    tax = np.clip(column(panel, "tax_rate_effective"), a.min_tax_rate, a.max_tax_rate)
    tax = np.where(np.isfinite(tax), tax, a.tax_rate)
    nopat = ebit * (1 - tax)
    debt = np.nan_to_num(column(panel, "short_term_debt")) + np.nan_to_num(
        column(panel, "long_term_debt")
    )
    operating_cash = a.operating_cash * np.nan_to_num(revenue)
    excess = np.maximum(np.nan_to_num(column(panel, "cash")) - operating_cash, 0.0)
    reinvestment = (
        column(panel, "capex_avg")
        - np.nan_to_num(column(panel, "da_avg"))
        - np.nan_to_num(column(panel, "wc_change_avg"))
        + np.nan_to_num(column(panel, "acquisitions_avg"))
    )
    growth = initial_growth(column(panel, "revenue_growth_1y"), column(panel, "revenue_trend"), a)
    return {
        "revenue_normalised": revenue_n,
        "op_margin_normalised": margin,
        "ebit_normalised": ebit,
        "tax_rate_used": tax,
        "nopat": nopat,
        "reinvestment": reinvestment,
        "fcff0": nopat - reinvestment,
        "debt": debt,
        "operating_cash": operating_cash,
        "excess_cash": excess,
        "parent_share": column(panel, "parent_share"),
        **growth,
    }


def dcf_enterprise_value(
    fcf0: np.ndarray, g0: np.ndarray, wacc: np.ndarray, terminal_growth: float, years: int
) -> np.ndarray:
    """Two-stage DCF enterprise value; ``fcf0``, ``g0`` and ``wacc`` broadcast together."""
    t = np.arange(1, years + 1, dtype=float)
    fade = (t - 1) / (years - 1)
    g = np.asarray(g0, dtype=float)[..., None]
    r = np.asarray(wacc, dtype=float)[..., None]
    growth = g + (terminal_growth - g) * fade
    fcf = np.asarray(fcf0, dtype=float)[..., None] * np.cumprod(1 + growth, axis=-1)
    discount = (1 + r) ** -t
    terminal = fcf[..., -1] * (1 + terminal_growth) / (r[..., 0] - terminal_growth)
    result: np.ndarray = (fcf * discount).sum(axis=-1) + terminal * discount[..., -1]
    return result


def equity_per_share(operations: np.ndarray, n: Arrays, shares: np.ndarray) -> np.ndarray:
    """Value of operations + excess cash - debt, the parent's share of it, per share."""
    return per_share((operations + n["excess_cash"] - n["debt"]) * n["parent_share"], shares)


def intrinsic_values(
    n: Arrays,
    shares: np.ndarray,
    wacc: np.ndarray,
    a: ValuationAssumptions,
    margin_shift: np.ndarray | float = 0.0,
    growth_shift: float = 0.0,
) -> Arrays:
    """EPV and DCF per share, optionally with the margin and growth moved (for the range)."""
    margin = n["op_margin_normalised"] + margin_shift
    nopat = n["revenue_normalised"] * margin * (1 - n["tax_rate_used"])
    fcff0 = nopat - n["reinvestment"]
    ev = dcf_enterprise_value(
        np.nan_to_num(fcff0),
        n["growth_initial"] + growth_shift,
        wacc,
        a.terminal_growth,
        a.dcf_years,
    )
    with np.errstate(invalid="ignore"):
        epv = np.where(nopat > 0, equity_per_share(nopat / wacc, n, shares), np.nan)
        dcf = np.where(fcff0 > 0, equity_per_share(ev, n, shares), np.nan)
    return {"fv_epv": epv, "fv_dcf": dcf}


def relative_multiples(
    panel: pd.DataFrame, n: Arrays, companies: pd.DataFrame, a: ValuationAssumptions
) -> pd.DataFrame:
    """Each company's own multiples and its peers' quantiles of them."""
    market_cap = column(panel, "market_cap")
    book = column(panel, "total_equity")
    ebit_latest = column(panel, "operating_income")
    p = positive(n["parent_share"])
    ev = positive(market_cap / p + n["debt"] - n["excess_cash"])
    ev_ebit = divide(ev, positive(n["ebit_normalised"]))
    pb = divide(market_cap, positive(book) * p)
    index = panel.index
    own = pd.DataFrame(
        {
            # The market's usual multiples (all cash, latest EBIT, whole book): ranking factors.
            "ev_to_ebit": divide(
                market_cap + n["debt"] - column(panel, "cash"), positive(ebit_latest)
            ),
            "price_to_book": divide(market_cap, positive(book)),
            # The valuation's own: normalised EBIT, excess cash, the parent's share.
            "ev_to_ebit_normalised": ev_ebit,
            "price_to_book_parent": pb,
        },
        index=index,
    )
    peers = peer_multiples({"ev_to_ebit": ev_ebit, "price_to_book": pb}, companies.loc[index], a)
    return pd.concat([own, peers], axis=1)


def relative_values(
    n: Arrays, shares: np.ndarray, book: np.ndarray, multiples: pd.DataFrame, quantile: str = ""
) -> Arrays:
    """Value per share at the peers' EV / normalised EBIT and P/B (``quantile``: '', '_q1', '_q3')."""
    ebit = n["ebit_normalised"]
    earns = np.nan_to_num(ebit) > 0
    at_ev = column(multiples, f"peer_ev_to_ebit{quantile}") * ebit
    v_ev = np.where(earns, equity_per_share(at_ev, n, shares), np.nan)
    at_pb = column(multiples, f"peer_price_to_book{quantile}") * positive(book)
    v_pb = np.where(earns, per_share(at_pb * n["parent_share"], shares), np.nan)
    return {"fv_ev_ebit": v_ev, "fv_pb": v_pb, "relative_value": mean_of(v_ev, v_pb)}


def graham_number(panel: pd.DataFrame, n: Arrays) -> Arrays:
    """Graham number per share from three-year average EPS and the parent's book per share."""
    shares = positive(column(panel, "shares"))
    eps = divide(column(panel, "earnings_3y_avg"), shares)
    bvps = divide(column(panel, "total_equity") * n["parent_share"], shares)
    with np.errstate(invalid="ignore"):
        value = np.sqrt(np.where((eps > 0) & (bvps > 0), 22.5 * eps * bvps, np.nan))
    return {"eps": eps, "book_per_share": bvps, "fv_graham": value}


def blend(
    intrinsic: np.ndarray, relative: np.ndarray, graham: np.ndarray, a: ValuationAssumptions
) -> np.ndarray:
    """The fair value: intrinsic and relative value weighted by ``intrinsic_weight``."""
    w = a.intrinsic_weight
    both = w * intrinsic + (1 - w) * relative
    fair = np.where(np.isfinite(both), both, np.where(np.isfinite(intrinsic), intrinsic, relative))
    if a.graham_ceiling:
        fair = np.fmin(fair, np.where(np.isfinite(fair), graham, np.nan))
    return fair


def bisect_increasing(
    f: Callable[..., np.ndarray], lo: np.ndarray, hi: np.ndarray, args: tuple[np.ndarray, ...], xtol: float = 1e-7
) -> np.ndarray:
    """Elementwise root of increasing functions with ``f(lo) < 0 < f(hi)``, to within ``xtol``."""
    lo, hi = lo.astype(float).copy(), hi.astype(float).copy()
    while len(lo) and float(np.max(hi - lo)) > xtol:
        mid = (lo + hi) / 2
        above = f(mid, *args) > 0
        hi = np.where(above, mid, hi)
        lo = np.where(above, lo, mid)
    return (lo + hi) / 2


def reverse_dcf(
    n: Arrays, market_cap: np.ndarray, wacc: np.ndarray, a: ValuationAssumptions
) -> tuple[np.ndarray, np.ndarray]:
    """The initial growth the price implies, and why it is missing where it is.

    The DCF value rises with growth, so the root is found by bisection over the whole array at
    once (about 24 halvings to 1e-7; importing SciPy's root finders costs more than solving).
    """
    target = market_cap / positive(n["parent_share"]) - n["excess_cash"] + n["debt"]
    f0 = n["fcff0"]
    ok = np.nan_to_num(f0) > 0
    solvable = ok & np.isfinite(target) & np.isfinite(wacc)
    implied = np.full(len(f0), np.nan)
    note = np.where(ok, "", "FCFF <= 0").astype(object)

    def gap(g: np.ndarray, f: np.ndarray, rate: np.ndarray, tgt: np.ndarray) -> np.ndarray:
        return dcf_enterprise_value(f, g, rate, a.terminal_growth, a.dcf_years) - tgt

    if solvable.any():
        lo_g, hi_g = GROWTH_SEARCH
        f_s, r_s, t_s = f0[solvable], wacc[solvable], target[solvable]
        lo = gap(np.full_like(f_s, lo_g), f_s, r_s, t_s)
        hi = gap(np.full_like(f_s, hi_g), f_s, r_s, t_s)
        bracketed = (lo < 0) & (hi > 0)
        sol = np.full(len(f_s), np.nan)
        if bracketed.any():
            k = int(bracketed.sum())
            sol[bracketed] = bisect_increasing(
                gap, np.full(k, lo_g), np.full(k, hi_g), (f_s[bracketed], r_s[bracketed], t_s[bracketed])
            )
        implied[solvable] = sol
        note[solvable] = np.where(
            lo >= 0, "price implies < -50%", np.where(hi <= 0, "price implies > +100%", "")
        )
    return implied, note


def _price_to(price: np.ndarray, value: np.ndarray) -> np.ndarray:
    """Price / value, capped at ``PTFV_CAP``; a value of zero or less gives the cap."""
    ratio = np.minimum(divide(price, positive(value)), PTFV_CAP)
    with np.errstate(invalid="ignore"):
        return np.where((value <= 0) & np.isfinite(price), PTFV_CAP, ratio)


def fair_values(
    panel: pd.DataFrame,
    companies: pd.DataFrame,
    a: ValuationAssumptions,
    tickers: pd.Index | None = None,
) -> pd.DataFrame:
    """Every method, the blend, the range and the reverse DCF for every company.

    Parameters
    ----------
    panel : pandas.DataFrame
        The company panel with ``shares``, ``price`` and ``market_cap`` joined in. Its
        companies are also each other's peers: pass the whole reference set.
    companies : pandas.DataFrame
        ``sic`` and ``industry`` for the peer groups.
    a : ValuationAssumptions
    tickers : pandas.Index, optional
        The companies to value (all of ``panel`` by default); the others serve as peers only.

    Returns
    -------
    pandas.DataFrame
        The normalised inputs, the rate build-up (:func:`screener.rates.cost_of_capital`),
        each method (``fv_epv``, ``fv_dcf``, ``fv_ev_ebit``, ``fv_pb``, ``fv_graham``) with its
        inputs, ``intrinsic_value``, ``relative_value``, ``fair_value``, ``fv_methods``,
        ``fair_value_bear``, ``fair_value_bull``, ``price_to_fair_value``, ``discount``,
        ``price_to_intrinsic_value``, ``price_to_relative_value``, ``implied_growth`` and
        ``implied_growth_note``.
    """
    n = normalise(panel, a)
    multiples = relative_multiples(panel, n, companies, a)
    if tickers is not None:
        rows = panel.index.get_indexer(tickers)
        n = {k: v[rows] for k, v in n.items()}
        panel, multiples = panel.iloc[rows], multiples.iloc[rows]
    market_cap, shares = column(panel, "market_cap"), column(panel, "shares")
    book, price = column(panel, "total_equity"), column(panel, "price")
    rates = cost_of_capital(
        market_cap,
        n["parent_share"],
        n["debt"],
        n["ebit_normalised"],
        column(panel, "interest_expense"),
        n["tax_rate_used"],
        a,
    )
    wacc = rates["wacc"]
    intrinsic = intrinsic_values(n, shares, wacc, a)
    relative = relative_values(n, shares, book, multiples)
    graham = graham_number(panel, n)
    out: Arrays = {**n, **rates, **intrinsic, **relative, **graham}
    out["intrinsic_value"] = mean_of(intrinsic["fv_epv"], intrinsic["fv_dcf"])
    out["fair_value"] = blend(out["intrinsic_value"], out["relative_value"], out["fv_graham"], a)
    methods = np.vstack([out[m] for m in (*INTRINSIC_METHODS, *RELATIVE_METHODS)])
    out["fv_methods"] = np.isfinite(methods).sum(axis=0)

    floor = a.terminal_growth + MIN_WACC_OVER_GROWTH / 2
    spread = np.nan_to_num(column(panel, "op_margin_std"))
    for case, sign, quantile in (("bear", -1, "_q1"), ("bull", 1, "_q3")):
        moved = intrinsic_values(
            n,
            shares,
            np.maximum(wacc - sign * a.rate_spread, floor),
            a,
            margin_shift=sign * spread,
            growth_shift=sign * a.growth_spread,
        )
        # The same methods as the base case: one that stops applying is worth nothing.
        kept = [
            np.where(np.isfinite(intrinsic[m]), np.nan_to_num(moved[m]), np.nan)
            for m in INTRINSIC_METHODS
        ]
        rel = relative_values(n, shares, book, multiples, quantile)["relative_value"]
        out[f"fair_value_{case}"] = blend(mean_of(*kept), rel, out["fv_graham"], a)

    out["price_to_fair_value"] = _price_to(price, out["fair_value"])
    out["price_to_intrinsic_value"] = _price_to(price, out["intrinsic_value"])
    out["price_to_relative_value"] = _price_to(price, out["relative_value"])
    out["discount"] = 1 - out["price_to_fair_value"]
    out["implied_growth"], out["implied_growth_note"] = reverse_dcf(n, market_cap, wacc, a)
    return pd.concat([pd.DataFrame(out, index=panel.index), multiples], axis=1)
