"""Percentile ranks and the 0-100 composite score.

Each factor is turned into a percentile within the company's peer group (its sector by
default, or the whole universe) with the mid-rank formula ``(rank - 0.5) / n``, so the best of
``n`` scores ``1 - 0.5/n``, the worst ``0.5/n``, and a company alone in its sector scores 0.5;
ties share their average rank. Factors where lower is better are ranked in reverse. A company
missing a factor scores 0 on it (policy ``"worst"``, the default) or 0.5 (``"neutral"``).

``composite`` = 100 x weighted mean of the factor percentiles (the screen's weights), less the
screen's penalties for the company's red flags (``flag_penalty``, at most the score itself, so
the composite stays within 0-100); ``quality`` and ``value`` are the weighted means over the
quality and value factors alone (equal weights where the screen gives that family none). Each
company's ``contribution`` of a factor is ``100 x weight x percentile / total weight``: the
contributions less ``flag_penalty`` add up to the composite, which is how the tool shows *why*
a company ranks where it does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Factor:
    """A metric the composite can weigh.

    Attributes
    ----------
    name : str
        Column of the screen table.
    family : str
        ``"value"``, ``"quality"`` or ``"rates"`` (the rate-cut tilt, in neither sub-score).
    higher_is_better : bool
    label : str
        Short human label.
    """

    name: str
    family: str
    higher_is_better: bool
    label: str


FACTORS: dict[str, Factor] = {
    f.name: f
    for f in (
        Factor("price_to_fair_value", "value", False, "Price / fair value"),
        Factor("price_to_buy_below", "value", False, "Price / fair value less margin of safety"),
        Factor("price_to_intrinsic_value", "value", False, "Price / intrinsic value (EPV, DCF)"),
        Factor("price_to_relative_value", "value", False, "Price / relative value (peers)"),
        Factor("ev_to_ebit", "value", False, "EV / EBIT"),
        Factor("implied_growth", "value", False, "Growth the price implies"),
        Factor("piotroski_f", "quality", True, "Piotroski F-score"),
        Factor("altman_z", "quality", True, "Altman Z"),
        Factor("interest_coverage", "quality", True, "Interest coverage"),
        Factor("net_debt_to_ebitda", "quality", False, "Net debt / EBITDA"),
        Factor("current_ratio", "quality", True, "Current ratio"),
        Factor("sloan_accruals", "quality", False, "Sloan accruals"),
        Factor("gross_profitability", "quality", True, "Gross profit / assets"),
        Factor("beneish_m", "quality", False, "Beneish M-score"),
        Factor("rate_cut_gain", "rates", True, "Earnings a 100 bp cut adds"),
    )
}
PEER_GROUPS = ("sector", "universe")
MISSING_POLICIES = ("worst", "neutral")


def percentile(
    values: pd.Series, groups: pd.Series | None, higher_is_better: bool, missing: str
) -> pd.Series:
    """Mid-rank percentile of ``values`` within ``groups`` (or overall), 0-1, best = high."""
    if values.dtype.kind in "iuf" and (groups is None or groups.index.equals(values.index)):
        return _percentile_arrays(values, groups, higher_is_better, missing)
    oriented = values if higher_is_better else -values
    oriented = oriented.where(np.isfinite(oriented))
    if groups is None:
        rank = oriented.rank(method="average")
        n = oriented.notna().sum()
    else:
        grouped = oriented.groupby(groups)
        rank = grouped.rank(method="average")
        n = grouped.transform("count")
    pct = (rank - 0.5) / n
    return pct.fillna(0.0 if missing == "worst" else 0.5).astype("float64")


def _percentile_arrays(
    values: pd.Series, groups: pd.Series | None, higher_is_better: bool, missing: str
) -> pd.Series:
    """:func:`percentile` of a numeric column on arrays, the same numbers (groupby's average
    ranks, ``(rank - 0.5) / n``) without pandas' grouping for every factor."""
    x = values.to_numpy(dtype="float64")
    if not higher_is_better:
        x = -x
    group = np.zeros(len(x), dtype=np.intp) if groups is None else pd.factorize(groups)[0]
    ranked = np.flatnonzero(np.isfinite(x) & (group >= 0))
    order = ranked[np.lexsort((x[ranked], group[ranked]))]
    value, code = x[order], group[order]
    position = np.arange(len(order))
    first_of_group = np.ones(len(order), dtype=bool)
    first_of_group[1:] = code[1:] != code[:-1]
    first_of_tie = first_of_group.copy()
    first_of_tie[1:] |= value[1:] != value[:-1]
    group_start = np.maximum.accumulate(np.where(first_of_group, position, 0))
    tie_start = np.maximum.accumulate(np.where(first_of_tie, position, 0))
    tie_end = np.flatnonzero(np.append(first_of_tie[1:], True))[np.cumsum(first_of_tie) - 1]
    # ties share the mean of their ranks, 1-based within the group
    rank = ((tie_start - group_start + 1) + (tie_end - group_start + 1)) / 2.0
    group_id = np.cumsum(first_of_group) - 1
    size = np.bincount(group_id)[group_id]
    pct = np.full(len(x), 0.0 if missing == "worst" else 0.5)
    pct[order] = (rank - 0.5) / size
    return pd.Series(pct, index=values.index, name=values.name)


def score(
    table: pd.DataFrame,
    weights: dict[str, float],
    peer_group: str = "sector",
    missing: str = "worst",
    penalties: dict[str, float] | None = None,
) -> pd.DataFrame:
    """Factor percentiles, contributions, and the composite, quality and value scores.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per company with the factor columns and ``sector``.
    weights : dict
        Factor name -> non-negative weight (factors left out weigh 0).
    peer_group : {"sector", "universe"}
    missing : {"worst", "neutral"}
    penalties : dict, optional
        Red flag name -> points off the composite when the company's ``flag_<name>`` is set.

    Returns
    -------
    pandas.DataFrame
        ``pct_<factor>`` and ``contrib_<factor>`` for every weighted factor, ``flag_penalty``,
        ``composite``, ``quality`` and ``value`` (0-100).
    """
    groups = table["sector"] if peer_group == "sector" else None
    needed = [n for n in FACTORS if weights.get(n, 0.0) > 0]
    for family in ("quality", "value"):
        members = [n for n, f in FACTORS.items() if f.family == family]
        if not any(weights.get(n, 0.0) > 0 for n in members):
            needed += members
    columns = {
        f"pct_{name}": percentile(table[name], groups, FACTORS[name].higher_is_better, missing).to_numpy()
        for name in dict.fromkeys(needed)
    }
    out: dict[str, np.ndarray] = {}
    total = sum(w for w in weights.values() if w > 0)
    composite = np.zeros(len(table))
    for name, w in weights.items():
        if w <= 0:
            continue
        out[f"pct_{name}"] = columns[f"pct_{name}"]
        contribution = 100.0 * w * columns[f"pct_{name}"] / total
        out[f"contrib_{name}"] = contribution
        composite = composite + contribution
    if total <= 0:
        composite[:] = 0.0
    penalty = np.zeros(len(table))
    for flag, points in (penalties or {}).items():
        penalty = penalty + np.where(table[f"flag_{flag}"], points, 0.0)
    out["flag_penalty"] = np.minimum(penalty, composite)
    out["composite"] = composite - out["flag_penalty"]
    for family in ("quality", "value"):
        members = [n for n, f in FACTORS.items() if f.family == family]
        fam_weights = {n: weights.get(n, 0.0) for n in members if weights.get(n, 0.0) > 0}
        if not fam_weights:
            fam_weights = dict.fromkeys(members, 1.0)
        fam_total = sum(fam_weights.values())
        out[family] = 100.0 * sum(w * columns[f"pct_{n}"] for n, w in fam_weights.items()) / fam_total
    return pd.DataFrame(out, index=table.index)
