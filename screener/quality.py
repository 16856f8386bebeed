"""Balance-sheet quality: Piotroski F, Altman Z / Z'', coverage, leverage, liquidity, accruals,
gross profitability and the Beneish M-score, with a defined result for every edge case.

All functions take the company panel of :func:`screener.panel.build_panel` (plus market
capitalisation where needed) and return one value per company, vectorised.

Edge cases (each has a test)
----------------------------
* **Missing prior year**: the six Piotroski signals that compare two years *fail* (score 0) and
  ``piotroski_available`` says how many of the nine could be computed; the F-score itself is
  always a number 0-9 (``piotroski_f``, for filters and ranks), shown as ``"3/3"`` rather than a
  plain ``"3"`` (``piotroski_display``) whenever fewer than nine signals had their inputs; the
  Beneish M-score is missing and its flag is ``"n/a"``.
* **Negative equity**: Altman Z'' uses book equity / liabilities, so it falls (no special case);
  the Graham number and P/B value are not applicable (see :mod:`screener.fair_value`).
* **Zero revenue**: margins and turnover are missing, so the Piotroski margin and turnover
  signals fail; Beneish indexes built on sales are set to 1 (neutral), as are any Beneish
  indexes whose denominator is zero.
* **Negative EBIT**: interest coverage is negative (worse than any profitable company);
  net debt / EBITDA follows the rules in :func:`net_debt_to_ebitda`.
* Values that cannot be computed are missing, and the ranking's missing-data policy decides
  where they sort (worst by default): never to the top.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from screener.panel import prefer, safe_div

#: Piotroski's nine signals, in the order of the 2000 paper.
PIOTROSKI_SIGNALS = (
    "f_roa",
    "f_cfo",
    "f_delta_roa",
    "f_accrual",
    "f_delta_leverage",
    "f_delta_liquidity",
    "f_no_equity_issue",
    "f_delta_margin",
    "f_delta_turnover",
)
PIOTROSKI_LABELS = {
    "f_roa": "Return on assets > 0",
    "f_cfo": "Operating cash flow > 0",
    "f_delta_roa": "Return on assets up on the prior year",
    "f_accrual": "Operating cash flow > net income (accruals)",
    "f_delta_leverage": "Long-term debt / assets down (or no debt)",
    "f_delta_liquidity": "Current ratio up",
    "f_no_equity_issue": "No new shares issued",
    "f_delta_margin": "Gross margin up",
    "f_delta_turnover": "Asset turnover up",
}

#: Altman (1968) public manufacturing model.
Z_WEIGHTS = {"x1": 1.2, "x2": 1.4, "x3": 3.3, "x4": 0.6, "x5": 1.0}
Z_ZONES = (1.81, 2.99)
#: Altman Z'' (1995) for non-manufacturers: no sales/assets term, book equity in X4.
Z2_WEIGHTS = {"x1": 6.56, "x2": 3.26, "x3": 6.72, "x4": 1.05}
Z2_ZONES = (1.1, 2.6)
ZONE_ORDER = ("distress", "grey", "safe")

#: Beneish (1999) eight-variable model and its manipulation threshold.
BENEISH_WEIGHTS = {
    "dsri": 0.920,
    "gmi": 0.528,
    "aqi": 0.404,
    "sgi": 0.892,
    "depi": 0.115,
    "sgai": -0.172,
    "tata": 4.679,
    "lvgi": -0.327,
}
BENEISH_INTERCEPT = -4.84
BENEISH_THRESHOLD = -1.78

COVERAGE_CAP = 100.0
LEVERAGE_CAP = 99.0
CURRENT_RATIO_CAP = 10.0
Z_X4_CAP = 10.0


def _beginning_assets(panel: pd.DataFrame, lag: int) -> pd.Series:
    """Total assets at the start of the year ``lag`` years back (its end if the start is unknown)."""
    start = (
        panel[f"total_assets_{lag + 1}"] if lag + 1 <= 2 else pd.Series(np.nan, index=panel.index)
    )
    end = panel["total_assets"] if lag == 0 else panel[f"total_assets_{lag}"]
    return prefer(start, end)


def _average_assets(panel: pd.DataFrame, lag: int) -> pd.Series:
    """Mean of the opening and closing total assets of the year ``lag`` years back (closing
    assets alone when the opening ones are unknown)."""
    end = panel["total_assets"] if lag == 0 else panel[f"total_assets_{lag}"]
    return (_beginning_assets(panel, lag) + end) / 2


def piotroski(panel: pd.DataFrame) -> pd.DataFrame:
    """Piotroski (2000) F-score with each of its nine signals.

    Returns
    -------
    pandas.DataFrame
        One 0/1 column per signal (``PIOTROSKI_SIGNALS``), ``piotroski_f`` (0-9) and
        ``piotroski_available`` (how many signals had their inputs). A signal whose inputs are
        missing scores 0.

        ``piotroski_display`` is ``"F"`` when all nine signals had inputs, ``"F/available"``
        otherwise (``"5/6"``: five passes out of six computable signals).

    Notes
    -----
    Return on assets and asset turnover use beginning-of-year total assets (the prior year's
    closing assets), falling back to year-end assets when the prior year is missing.
    Leverage is long-term debt / average total assets of the year (Piotroski 2000), year-end
    assets when the year's opening assets are unknown; "no new shares" compares weighted basic
    shares.
    """
    p = panel
    assets0 = _beginning_assets(p, 0)
    assets1 = _beginning_assets(p, 1)
    roa = safe_div(p["net_income"], assets0)
    roa_1 = safe_div(p["net_income_1"], assets1)
    lev = safe_div(p["long_term_debt"], _average_assets(p, 0))
    lev_1 = safe_div(p["long_term_debt_1"], _average_assets(p, 1))
    cr = safe_div(p["current_assets"], p["current_liabilities"])
    cr_1 = safe_div(p["current_assets_1"], p["current_liabilities_1"])
    gm = safe_div(p["gross_profit"], p["revenue"].where(p["revenue"] > 0))
    gm_1 = safe_div(p["gross_profit_1"], p["revenue_1"].where(p["revenue_1"] > 0))
    turn = safe_div(p["revenue"], assets0)
    turn_1 = safe_div(p["revenue_1"], assets1)

    tests: dict[str, tuple[pd.Series, pd.Series]] = {
        # signal: (passes, inputs available)
        "f_roa": (roa > 0, roa.notna()),
        "f_cfo": (p["operating_cash_flow"] > 0, p["operating_cash_flow"].notna()),
        "f_delta_roa": (roa > roa_1, roa.notna() & roa_1.notna()),
        "f_accrual": (
            p["operating_cash_flow"] > p["net_income"],
            p["operating_cash_flow"].notna() & p["net_income"].notna(),
        ),
        "f_delta_leverage": (
            (lev < lev_1) | ((p["long_term_debt"] == 0) & (p["long_term_debt_1"] == 0)),
            lev.notna() & lev_1.notna(),
        ),
        "f_delta_liquidity": (cr > cr_1, cr.notna() & cr_1.notna()),
        "f_no_equity_issue": (
            p["shares_basic"] <= p["shares_basic_1"],
            p["shares_basic"].notna() & p["shares_basic_1"].notna(),
        ),
        "f_delta_margin": (gm > gm_1, gm.notna() & gm_1.notna()),
        "f_delta_turnover": (turn > turn_1, turn.notna() & turn_1.notna()),
    }
    signals: dict[str, np.ndarray] = {}
    available = np.zeros(len(p), dtype=int)
    for name in PIOTROSKI_SIGNALS:
        passes, has_inputs = tests[name]
        counted = has_inputs.to_numpy(dtype=bool)
        signals[name] = (passes.fillna(False).to_numpy(dtype=bool) & counted).astype(int)
        available += counted
    score = np.sum(list(signals.values()), axis=0)
    display = [str(f) if n == 9 else f"{f}/{n}" for f, n in zip(score.tolist(), available.tolist(), strict=True)]
    return pd.DataFrame(
        {**signals, "piotroski_f": score, "piotroski_available": available, "piotroski_display": display},
        index=p.index,
    )


def _zone(score: pd.Series, cuts: tuple[float, float]) -> pd.Series:
    zone = np.where(score > cuts[1], "safe", np.where(score >= cuts[0], "grey", "distress"))
    return pd.Series(np.where(score.isna(), "n/a", zone), index=score.index)


def altman(panel: pd.DataFrame, market_cap: pd.Series, manufacturing: pd.Series) -> pd.DataFrame:
    """Altman Z: the 1968 model for manufacturers, Z'' (1995) for everyone else.

    Parameters
    ----------
    panel : pandas.DataFrame
    market_cap : pandas.Series
        Market value of equity (the 1968 model's X4 numerator).
    manufacturing : pandas.Series
        Which model each company gets.

    Returns
    -------
    pandas.DataFrame
        ``z_x1`` .. ``z_x5`` (components; ``z_x5`` is missing under Z''), ``altman_z``,
        ``altman_model`` (``"Z"`` or ``"Z''"``) and ``z_zone`` (``safe``/``grey``/``distress``,
        ``n/a`` when an input is missing).

    Notes
    -----
    X1 = working capital / assets, X2 = retained earnings / assets, X3 = EBIT / assets,
    X4 = market cap (Z) or book equity (Z'') / total liabilities, X5 = sales / assets.

    X4 is the only capped input: at ``Z_X4_CAP`` = 10. Altman's models are linear, so a company
    with almost no liabilities would otherwise score without bound on equity / liabilities
    alone, and one with none at all would divide by zero; at the cap, X4 alone contributes 6.0
    (1968 model) or 10.5 (Z''), already above the safe cut-off of either model, so the cap
    changes no zone. Nothing else is capped.
    """
    p = panel
    ta = p["total_assets"].where(p["total_assets"] > 0)
    x1 = safe_div(p["current_assets"] - p["current_liabilities"], ta)
    x2 = safe_div(p["retained_earnings"], ta)
    x3 = safe_div(p["operating_income"], ta)
    equity = market_cap.where(manufacturing, p["total_equity"])
    liabilities = p["total_liabilities"]
    x4 = safe_div(equity, liabilities.where(liabilities > 0)).clip(upper=Z_X4_CAP)
    x4 = x4.where(~((liabilities <= 0) & equity.notna()), Z_X4_CAP)
    x5 = safe_div(p["revenue"], ta)
    z1968 = sum(w * x for w, x in zip(Z_WEIGHTS.values(), (x1, x2, x3, x4, x5), strict=True))
    z2 = sum(w * x for w, x in zip(Z2_WEIGHTS.values(), (x1, x2, x3, x4), strict=True))
    z = z1968.where(manufacturing, z2)
    zone = _zone(z1968, Z_ZONES).where(manufacturing, _zone(z2, Z2_ZONES))
    return pd.DataFrame(
        {
            "z_x1": x1,
            "z_x2": x2,
            "z_x3": x3,
            "z_x4": x4,
            "z_x5": x5.where(manufacturing),
            "altman_z": z,
            "altman_model": np.where(manufacturing, "Z", "Z''"),
            "z_zone": zone,
        },
        index=p.index,
    )


def interest_coverage(panel: pd.DataFrame) -> pd.Series:
    """EBIT / net interest expense, capped to [-100, 100].

    No net interest expense (zero, or net interest income) gives the cap, 100: nothing to cover.
    Negative EBIT with interest to pay gives a negative coverage.
    """
    ebit = panel["operating_income"]
    interest = panel["interest_expense"]
    cov = safe_div(ebit, interest.where(interest > 0)).clip(-COVERAGE_CAP, COVERAGE_CAP)
    return cov.where(~((interest <= 0) & ebit.notna()), COVERAGE_CAP)


def net_debt(panel: pd.DataFrame) -> pd.Series:
    """Short- plus long-term debt less cash and short-term investments."""
    return panel["short_term_debt"] + panel["long_term_debt"] - panel["cash"]


def net_debt_to_ebitda(panel: pd.DataFrame) -> pd.Series:
    """Net debt / EBITDA (EBIT + D&A); lower is better.

    * EBITDA > 0: the ratio (negative for net cash).
    * EBITDA <= 0 and net debt > 0: 99, the cap (debt that earnings cannot service).
    * EBITDA <= 0 and no net debt: 0.
    * D&A missing: EBITDA is EBIT.
    """
    ebitda = panel["operating_income"] + panel["da"].fillna(0.0)
    nd = net_debt(panel)
    ratio = safe_div(nd, ebitda.where(ebitda > 0)).clip(upper=LEVERAGE_CAP)
    no_earnings = (ebitda <= 0) & nd.notna()
    return ratio.where(~no_earnings, np.where(nd > 0, LEVERAGE_CAP, 0.0))


def current_ratio(panel: pd.DataFrame) -> pd.Series:
    """Current assets / current liabilities, capped at 10 (also when there are none)."""
    cl = panel["current_liabilities"]
    ratio = safe_div(panel["current_assets"], cl.where(cl > 0)).clip(upper=CURRENT_RATIO_CAP)
    return ratio.where(~((cl <= 0) & panel["current_assets"].notna()), CURRENT_RATIO_CAP)


def sloan_accruals(panel: pd.DataFrame) -> pd.Series:
    """(Net income - operating cash flow) / average total assets (Sloan 1996); lower is better."""
    avg_assets = prefer(
        (panel["total_assets"] + panel["total_assets_1"]) / 2, panel["total_assets"]
    )
    return safe_div(
        panel["net_income"] - panel["operating_cash_flow"], avg_assets.where(avg_assets > 0)
    )


def gross_profitability(panel: pd.DataFrame) -> pd.Series:
    """Gross profit / total assets (Novy-Marx 2013); missing where gross profit is not reported."""
    return safe_div(panel["gross_profit"], panel["total_assets"].where(panel["total_assets"] > 0))


def _index(num: pd.Series, den: pd.Series) -> pd.Series:
    """A Beneish index: ``num / den``, 1 (neutral) where either side cannot be computed."""
    with np.errstate(divide="ignore", invalid="ignore"):
        out = num / den
    return out.where(np.isfinite(out) & (den != 0), 1.0)


def beneish(panel: pd.DataFrame) -> pd.DataFrame:
    """Beneish (1999) eight-variable M-score.

    Returns
    -------
    pandas.DataFrame
        The eight indexes, ``beneish_m`` (missing without a prior year) and ``beneish_flag``:
        ``"likely manipulator"`` when M > -1.78, ``"unlikely"`` otherwise, ``"n/a"`` when M is
        missing. An index whose ratio has a zero or missing side is set to 1 (neutral).
    """
    p = panel
    rev = p["revenue"].where(p["revenue"] > 0)
    rev_1 = p["revenue_1"].where(p["revenue_1"] > 0)
    ta = p["total_assets"].where(p["total_assets"] > 0)
    ta_1 = p["total_assets_1"].where(p["total_assets_1"] > 0)
    gm = safe_div(p["gross_profit"], rev)
    gm_1 = safe_div(p["gross_profit_1"], rev_1)
    soft = 1 - (p["current_assets"] + p["ppe_net"] + p["long_term_investments"]) / ta
    soft_1 = 1 - (p["current_assets_1"] + p["ppe_net_1"] + p["long_term_investments_1"]) / ta_1
    dep = safe_div(p["da"], p["da"] + p["ppe_net"])
    dep_1 = safe_div(p["da_1"], p["da_1"] + p["ppe_net_1"])
    lev = (p["current_liabilities"] + p["long_term_debt"]) / ta
    lev_1 = (p["current_liabilities_1"] + p["long_term_debt_1"]) / ta_1
    indexes = {
        "dsri": _index(safe_div(p["receivables"], rev), safe_div(p["receivables_1"], rev_1)),
        "gmi": _index(gm_1, gm),
        "aqi": _index(soft, soft_1),
        "sgi": _index(rev, rev_1),
        "depi": _index(dep_1, dep),
        "sgai": _index(safe_div(p["sga"], rev), safe_div(p["sga_1"], rev_1)),
        "tata": safe_div(p["net_income"] - p["operating_cash_flow"], ta).fillna(0.0),
        "lvgi": _index(lev, lev_1),
    }
    values = {k: v.to_numpy(dtype="float64") for k, v in indexes.items()}
    m = BENEISH_INTERCEPT + sum(w * values[k] for k, w in BENEISH_WEIGHTS.items())
    has_prior = (p["total_assets_1"].notna() & p["total_assets"].notna()).to_numpy()
    m = np.where(has_prior, m, np.nan)
    flag = np.where(np.isnan(m), "n/a", np.where(m > BENEISH_THRESHOLD, "likely manipulator", "unlikely"))
    return pd.DataFrame({**values, "beneish_m": m, "beneish_flag": flag}, index=p.index)


def quality_metrics(
    panel: pd.DataFrame, market_cap: pd.Series, manufacturing: pd.Series
) -> pd.DataFrame:
    """Every balance-sheet quality metric, one row per company."""
    ratios = {
        "interest_coverage": interest_coverage(panel),
        "net_debt_to_ebitda": net_debt_to_ebitda(panel),
        "current_ratio": current_ratio(panel),
        "sloan_accruals": sloan_accruals(panel),
        "gross_profitability": gross_profitability(panel),
    }
    parts = [piotroski(panel), altman(panel, market_cap, manufacturing), beneish(panel)]
    return pd.concat([*parts, pd.DataFrame(ratios, index=panel.index)], axis=1)
