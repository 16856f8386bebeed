"""Red flags: the usual reasons a cheap-looking company is a value trap, each with its evidence.

Every flag is a boolean column ``flag_<name>`` of the screen table; ``flags`` lists the raised
ones' labels ('; '-joined, '' when none) and ``flag_count`` counts them. A screen can drop
flagged companies (filter ``exclude_flags``) or take points off their composite (table
``[penalties]``, flag -> points); :func:`flag_evidence` gives the numbers behind each flag.

Rules (thresholds are the constants below)
------------------------------------------
``peak_margin``
    At least 3 fiscal years and the latest operating margin at least ``PEAK_MARGIN_GAP``
    (5 points) above the cycle margin: earnings at a cyclical high.
``record_revenue``
    At least 3 fiscal years and the latest revenue at least ``RECORD_REVENUE_RATIO`` (1.2) x
    the cycle-average revenue: a record year the valuation normalises away.
``revenue_collapse``
    Revenue down ``COLLAPSE_ONE_YEAR`` (20%) or more on the prior year, or below
    ``COLLAPSE_FROM_PEAK`` (70%) of the cycle's peak.
``one_off_gains``
    Profitable, and gains outside operations make up ``ONE_OFF_SHARE`` (25%) or more of net
    income: unusual gains (``abnormal_gains``), discontinued operations and extraordinary
    items, non-operating income other than interest (``non_operating_income +
    interest_expense``) and a tax benefit (negative ``income_tax``), each counted when positive.
``growth_at_cap``
    The DCF's growth blend lies outside [``min_growth``, ``max_growth``] and was clipped.
``stale_fiscal_year``
    The latest fiscal year ended more than ``STALE_MONTHS`` (15) months before the as-of date:
    the next annual report is overdue (12 months plus the 90 days the slowest filers have).
    (Early in March, a quarter of companies with December years still show the year before
    last: their new report is due within weeks, not late.)
``share_dilution``
    Weighted basic shares up ``DILUTION_ONE_YEAR`` (5%) or more on the prior year, or
    ``DILUTION_TWO_YEARS`` (10%) over two years.
``data_integrity``
    The data layer found a problem it could not resolve (``data_warnings``, see
    :func:`data_warnings`), or the figures contradict each other: a figure in the wrong unit (``unit_slips`` of the panel), an income
    statement that does not add up (operating income + non-operating income + unusual items
    more than ``STATEMENT_GAP`` (10%) of revenue away from pretax income), an operating margin
    of ``MAX_OPERATING_MARGIN`` (90%) or more (costs booked elsewhere), basic shares under half
    the diluted shares or half of the prior year's (a share class or unit missing?), or a fair
    value over ``IMPLAUSIBLE_DISCOUNT`` (4) x the price.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from screener.assumptions import ValuationAssumptions

PEAK_MARGIN_GAP = 0.05
RECORD_REVENUE_RATIO = 1.2
COLLAPSE_ONE_YEAR = -0.20
COLLAPSE_FROM_PEAK = 0.70
ONE_OFF_SHARE = 0.25
STALE_MONTHS = 15.0
DILUTION_ONE_YEAR = 0.05
DILUTION_TWO_YEARS = 0.10
MIN_BASIC_TO_DILUTED = 0.5
MIN_SHARES_TO_PRIOR = 0.5
IMPLAUSIBLE_DISCOUNT = 4.0
#: Income statement checks: pretax income = operating income + non-operating income + unusual
#: items, within this share of revenue; operating margin below this.
STATEMENT_GAP = 0.10
MAX_OPERATING_MARGIN = 0.9
MIN_YEARS_FOR_CYCLE = 3


@dataclass(frozen=True)
class RedFlag:
    """A red flag: its column name, short label and what raises it."""

    name: str
    label: str
    rule: str


FLAGS: dict[str, RedFlag] = {
    f.name: f
    for f in (
        RedFlag(
            "peak_margin", "peak margin", "latest operating margin 5+ points above the cycle margin"
        ),
        RedFlag("record_revenue", "record revenue", "latest revenue 1.2x+ the cycle average"),
        RedFlag(
            "revenue_collapse",
            "revenue collapse",
            "revenue down 20%+ on the year, or below 70% of the cycle peak",
        ),
        RedFlag(
            "one_off_gains", "one-off gains", "gains outside operations are 25%+ of net income"
        ),
        RedFlag(
            "growth_at_cap",
            "growth at a cap",
            "the DCF growth blend was clipped to min_growth / max_growth",
        ),
        RedFlag(
            "stale_fiscal_year", "stale fiscal year", "latest fiscal year ended over 15 months ago"
        ),
        RedFlag("share_dilution", "share dilution", "basic shares up 5%+ in a year or 10%+ in two"),
        RedFlag(
            "data_integrity",
            "data integrity",
            "a data correction or warning, or figures that contradict each other",
        ),
    )
}


def _col(table: pd.DataFrame, name: str) -> pd.Series:
    if name in table.columns:
        return table[name]
    return pd.Series(np.nan, index=table.index, dtype="float64")


def _text(table: pd.DataFrame, name: str) -> pd.Series:
    """A text column ('' where missing, or everywhere when the table has no such column)."""
    if name not in table.columns:
        return pd.Series("", index=table.index, dtype=object)
    return table[name].astype(object).where(table[name].notna(), "").astype(str)


def one_off_gains(table: pd.DataFrame) -> pd.DataFrame:
    """Each kind of gain outside operations (positive parts) and their total."""
    parts = pd.DataFrame(
        {
            "abnormal": _col(table, "abnormal_gains"),
            "discontinued_extraordinary": _col(table, "extraordinary_gains"),
            "other_non_operating": _col(table, "non_operating_income")
            + _col(table, "interest_expense").fillna(0.0),
            "tax_benefit": -_col(table, "income_tax"),
        },
        index=table.index,
    ).clip(lower=0.0)
    parts["total"] = parts.sum(axis=1)
    return parts


def statement_gap(table: pd.DataFrame) -> pd.Series:
    """Operating income + non-operating income + unusual items - pretax income (0 when the
    income statement adds up)."""
    return (
        _col(table, "operating_income")
        + _col(table, "non_operating_income").fillna(0.0)
        + _col(table, "abnormal_gains").fillna(0.0)
        - _col(table, "pretax_income")
    )


#: Checks of the data layer whose findings inform rather than warn: a minority interest (the
#: valuation takes the parent's share), an old fiscal year (the ``stale_fiscal_year`` flag has
#: its own, later threshold) and a SIC code inferred from the industry.
INFORMATIONAL_CHECKS = ("minority interest", "stale", "sic")


def data_warnings(
    tickers: pd.Index, integrity: pd.DataFrame | None, data_flags: pd.Series | None
) -> pd.Series:
    """Per company, the data problems left unresolved ('; '-joined phrases, '' when none).

    Parameters
    ----------
    tickers : pandas.Index
    integrity : pandas.DataFrame or None
        The universe's integrity findings (``ticker``, ``check``, ``action``, ``flag``): a
        finding counts when the data layer only flagged it (a correction fixed the figure) and
        its check is not one of ``INFORMATIONAL_CHECKS``.
    data_flags : pandas.Series or None
        The universe's ``data_flags``; without an integrity table every non-empty one counts.
    """
    if integrity is not None and {"ticker", "check", "action", "flag"} <= set(integrity.columns):
        found = integrity[
            (integrity["action"] == "flagged") & ~integrity["check"].isin(INFORMATIONAL_CHECKS)
        ]
        phrases = found.drop_duplicates(["ticker", "flag"]).groupby("ticker")["flag"]
        joined = phrases.agg("; ".join)
        return joined.reindex(tickers).fillna("").astype(object)
    if data_flags is not None:
        return data_flags.reindex(tickers).fillna("").astype(object)
    return pd.Series("", index=tickers, dtype=object)


def _data_problems(table: pd.DataFrame) -> pd.DataFrame:
    revenue = _col(table, "revenue")
    with np.errstate(invalid="ignore", divide="ignore"):
        basic = _col(table, "shares_basic")
        gap = (statement_gap(table)).abs()
        return pd.DataFrame(
            {
                "data_warnings": _text(table, "data_warnings").str.len() > 0,
                "unit_slips": _text(table, "unit_slips").str.len() > 0,
                "statement_gap": (gap > STATEMENT_GAP * revenue) & (gap > 1e6),
                "implausible_margin": _col(table, "operating_income")
                >= MAX_OPERATING_MARGIN * revenue.where(revenue > 0),
                "basic_below_diluted": basic < MIN_BASIC_TO_DILUTED * _col(table, "shares_diluted"),
                "shares_halved": basic < MIN_SHARES_TO_PRIOR * _col(table, "shares_basic_1"),
                "implausible_discount": _col(table, "price_to_fair_value")
                < 1 / IMPLAUSIBLE_DISCOUNT,
            },
            index=table.index,
        )


def red_flags(table: pd.DataFrame, a: ValuationAssumptions) -> pd.DataFrame:
    """Every flag for every company.

    Parameters
    ----------
    table : pandas.DataFrame
        The screen table so far: panel items (latest year, ``_1``/``_2`` lags, cycle figures),
        the fair values and, when the universe has them, ``fundamentals_age_months`` and
        ``data_warnings`` (:func:`data_warnings`; a missing column raises no flag).
    a : ValuationAssumptions
        ``min_growth`` and ``max_growth`` (growth at a cap).

    Returns
    -------
    pandas.DataFrame
        ``flag_<name>`` (bool) for each of ``FLAGS``, ``flags`` and ``flag_count``.
    """
    t = table
    cycle = _col(t, "years_of_data") >= MIN_YEARS_FOR_CYCLE
    revenue = _col(t, "revenue")
    with np.errstate(invalid="ignore", divide="ignore"):
        margin = _col(t, "operating_income") / revenue.where(revenue > 0)
    growth = _col(t, "growth_blend")
    net_income = _col(t, "net_income")
    shares = _col(t, "shares_basic")
    raised = {
        "peak_margin": cycle & (margin >= _col(t, "op_margin_avg") + PEAK_MARGIN_GAP),
        "record_revenue": cycle & (revenue >= RECORD_REVENUE_RATIO * _col(t, "revenue_avg")),
        "revenue_collapse": (_col(t, "revenue_growth_1y") <= COLLAPSE_ONE_YEAR)
        | (revenue < COLLAPSE_FROM_PEAK * _col(t, "revenue_peak")),
        "one_off_gains": (net_income > 0)
        & (one_off_gains(t)["total"] >= ONE_OFF_SHARE * net_income),
        "growth_at_cap": (growth > a.max_growth) | (growth < a.min_growth),
        "stale_fiscal_year": _col(t, "fundamentals_age_months") > STALE_MONTHS,
        "share_dilution": (shares >= (1 + DILUTION_ONE_YEAR) * _col(t, "shares_basic_1"))
        | (shares >= (1 + DILUTION_TWO_YEARS) * _col(t, "shares_basic_2")),
        "data_integrity": _data_problems(t).any(axis=1),
    }
    out = pd.DataFrame(
        {f"flag_{k}": v.fillna(False).astype(bool) for k, v in raised.items()}, index=t.index
    )
    raised_matrix = out.to_numpy()
    names = np.array([f.label for f in FLAGS.values()], dtype=object)
    labels = np.full(len(out), "", dtype=object)
    for row in np.flatnonzero(raised_matrix.any(axis=1)):
        labels[row] = "; ".join(names[raised_matrix[row]])
    out["flags"] = labels
    out["flag_count"] = out[[f"flag_{k}" for k in FLAGS]].sum(axis=1).astype(int)
    return out


def _m(x: Any) -> str:
    """A dollar amount in millions or billions."""
    if not _finite(x):
        return "n/a"
    return f"{x / 1e9:,.2f}B" if abs(x) >= 1e9 else f"{x / 1e6:,.1f}M"


def _shares(x: Any) -> str:
    return "n/a" if not _finite(x) else f"{x / 1e6:,.2f}M"


def _number(x: Any) -> str:
    return "n/a" if not _finite(x) else f"{x:.1f}"


def _finite(x: Any) -> bool:
    return isinstance(x, int | float | np.number) and bool(np.isfinite(x))


def _p(x: Any) -> str:
    return "n/a" if not _finite(x) else f"{100 * x:.1f}%"


def flag_evidence(row: pd.Series, a: ValuationAssumptions) -> list[dict[str, Any]]:
    """The numbers behind every flag of one company (raised or not).

    Returns
    -------
    list of dict
        One per flag of ``FLAGS``, in order: ``flag``, ``label``, ``raised`` (bool), ``rule``
        and ``evidence`` (a sentence with the figures).
    """
    g = row.get
    rev = g("revenue", np.nan)
    margin = g("operating_income", np.nan) / rev if rev and rev > 0 else np.nan
    gains = one_off_gains(row.to_frame().T).iloc[0]
    problems = _data_problems(row.to_frame().T).iloc[0]
    issues = []
    if problems["data_warnings"]:
        issues.append(f"the data layer warns: {g('data_warnings')}")
    if problems["unit_slips"]:
        issues.append(f"figures in the wrong unit, read as missing: {g('unit_slips')}")
    if problems["statement_gap"]:
        issues.append(
            f"the income statement does not add up: operating income {_m(g('operating_income'))} + "
            f"non-operating {_m(g('non_operating_income'))} + unusual items {_m(g('abnormal_gains'))} "
            f"vs pretax income {_m(g('pretax_income'))}"
        )
    if problems["implausible_margin"]:
        issues.append(
            f"operating income {_m(g('operating_income'))} is {_p(margin)} of revenue {_m(rev)}: "
            "costs missing from the statement?"
        )
    if problems["basic_below_diluted"]:
        issues.append(
            f"basic shares {_shares(g('shares_basic'))} are under half the diluted {_shares(g('shares_diluted'))}"
        )
    if problems["shares_halved"]:
        issues.append(
            f"basic shares fell from {_shares(g('shares_basic_1'))} to {_shares(g('shares_basic'))} in a year"
        )
    if problems["implausible_discount"]:
        issues.append(
            f"fair value {g('fair_value'):,.2f} is over {IMPLAUSIBLE_DISCOUNT:g}x the price {g('price'):,.2f}: "
            "check the share count and the statements"
        )
    texts = {
        "peak_margin": f"operating margin {_p(margin)} in the latest year vs {_p(g('op_margin_avg'))} "
        f"over the cycle ({g('years_of_data')} years)",
        "record_revenue": f"revenue {_m(rev)} vs a cycle average of {_m(g('revenue_avg'))} "
        f"({g('years_of_data')} years); the valuation uses {_m(g('revenue_normalised'))}",
        "revenue_collapse": f"revenue {_m(rev)}, {_p(g('revenue_growth_1y'))} on the prior year "
        f"({_m(g('revenue_1'))}); cycle peak {_m(g('revenue_peak'))}",
        "one_off_gains": f"net income {_m(g('net_income'))} includes {_m(gains['total'])} from outside "
        f"operations (unusual {_m(gains['abnormal'])}, discontinued/extraordinary "
        f"{_m(gains['discontinued_extraordinary'])}, other non-operating {_m(gains['other_non_operating'])}, "
        f"tax benefit {_m(gains['tax_benefit'])}); pretax income {_m(g('pretax_income'))}, "
        f"continuing operations {_m(g('income_continuing_ops'))}",
        "growth_at_cap": f"growth blend {_p(g('growth_blend'))} (latest year {_p(g('growth_recent'))}, "
        f"cycle trend {_p(g('growth_trend'))}); the DCF uses {_p(g('growth_initial'))}, within "
        f"[{_p(a.min_growth)}, {_p(a.max_growth)}]",
        "stale_fiscal_year": f"latest fiscal year {g('fiscal_year')} ended "
        f"{_number(g('fundamentals_age_months'))} months before the as-of date",
        "share_dilution": f"basic shares {_shares(g('shares_basic'))} vs {_shares(g('shares_basic_1'))} a "
        f"year earlier and {_shares(g('shares_basic_2'))} two years earlier",
        "data_integrity": "; ".join(issues) if issues else "no unresolved data problem found",
    }
    notes = str(g("data_flags") or "")
    if notes:
        texts["data_integrity"] += f" (the data layer's notes and corrections: {notes})"
    return [
        {
            "flag": name,
            "label": flag.label,
            "raised": bool(g(f"flag_{name}", False)),
            "rule": flag.rule,
            "evidence": texts[name],
        }
        for name, flag in FLAGS.items()
    ]
