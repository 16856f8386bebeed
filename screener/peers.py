"""Peer multiples for relative valuation, over a fixed reference set.

A company's peers are the other companies of the reference set (every usable company of the
dataset, see :attr:`universes.Universe.reference_companies`) in its group, so its relative value
does not depend on which universe is screened, and a company is never its own peer.

Groups, finest first (``peer_group = "sic"``, the default): the same 4-digit SIC code, else the
same 3-digit group, else the same 2-digit major group (food, machinery, ...); a company without
a SIC code is compared with its SimFin industry. The first group with at least ``min_peers``
peers holding a positive multiple is used; with none, the company has no relative value (no
fallback crosses into other business models: no sector-wide or market-wide medians).
``peer_group = "industry"``: the SimFin industry only.

The median and the quartiles are linear-interpolation quantiles (NumPy's default) of the
peers' multiples, the company's own multiple left out.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from screener.assumptions import ValuationAssumptions

#: Quantiles reported for every multiple: bear case, base case, bull case.
PEER_QUANTILES = {"q1": 0.25, "median": 0.5, "q3": 0.75}
#: Names of the peer levels, finest first (``peer_group = "sic"``).
SIC_LEVELS = ("SIC 4-digit", "SIC 3-digit", "SIC 2-digit", "industry (no SIC)")


def peer_levels(companies: pd.DataFrame, peer_group: str) -> list[tuple[str, pd.Series]]:
    """The group key of each company at each level, finest first."""
    if peer_group == "industry":
        return [("industry", companies["industry"])]
    sic = pd.to_numeric(companies["sic"], errors="coerce")
    no_sic_industry = companies["industry"].where(sic.isna())
    return list(
        zip(
            SIC_LEVELS, (sic, np.floor(sic / 10), np.floor(sic / 100), no_sic_industry), strict=True
        )
    )


def leave_one_out_quantiles(
    ratio: np.ndarray, group: np.ndarray, quantiles: tuple[float, ...]
) -> tuple[np.ndarray, np.ndarray]:
    """Quantiles of each row's group, the row's own value left out.

    Parameters
    ----------
    ratio : numpy.ndarray
        The multiple of every row; only finite, positive values are peers.
    group : numpy.ndarray
        Integer group code of every row (-1: no group).
    quantiles : tuple of float

    Returns
    -------
    values : numpy.ndarray
        Shape ``(len(ratio), len(quantiles))``; NaN where a row has no peer.
    peers : numpy.ndarray
        Number of peers of each row.
    """
    n = len(ratio)
    with np.errstate(invalid="ignore"):
        member = np.isfinite(ratio) & (ratio > 0) & (group >= 0)
    groups = int(group.max()) + 1 if n and group.max() >= 0 else 1
    m_group, m_value = group[member], ratio[member]
    order = np.lexsort((m_value, m_group))
    sorted_values = m_value[order]
    counts = np.bincount(m_group, minlength=groups)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order)) - starts[m_group[order]]

    g = np.where(group >= 0, group, 0)
    peers = np.where(group >= 0, counts[g], 0) - member.astype(np.int64)
    own = np.full(n, np.iinfo(np.int64).max)  # sorted position of the row's own value
    own[member] = rank
    out = np.full((n, len(quantiles)), np.nan)
    has = peers >= 1
    for i, q in enumerate(quantiles):
        pos = q * np.maximum(peers - 1, 0)
        lo = np.floor(pos).astype(np.int64)
        hi = np.minimum(lo + 1, np.maximum(peers - 1, 0))
        frac = pos - lo
        lo_at = starts[g] + lo + (lo >= own)
        hi_at = starts[g] + hi + (hi >= own)
        last = max(len(sorted_values) - 1, 0)
        take = sorted_values if len(sorted_values) else np.zeros(1)
        v_lo = take[np.clip(lo_at, 0, last)]
        v_hi = take[np.clip(hi_at, 0, last)]
        out[:, i] = np.where(has, v_lo * (1 - frac) + v_hi * frac, np.nan)
    return out, peers


def peer_multiples(
    ratios: dict[str, np.ndarray], companies: pd.DataFrame, a: ValuationAssumptions
) -> pd.DataFrame:
    """Peer quantiles of each multiple for every company.

    Parameters
    ----------
    ratios : dict of numpy.ndarray
        Multiple name -> its value for every company of the reference set (in the order of
        ``companies``).
    companies : pandas.DataFrame
        ``sic`` and ``industry`` of the same companies.
    a : ValuationAssumptions
        ``peer_group`` and ``min_peers``.

    Returns
    -------
    pandas.DataFrame
        For each multiple ``m``: ``peer_<m>`` (median), ``peer_<m>_q1``, ``peer_<m>_q3``,
        ``peer_<m>_count`` (peers it rests on) and ``peer_<m>_level`` (which group level;
        '' for none).
    """
    levels = [(label, pd.factorize(key)[0]) for label, key in peer_levels(companies, a.peer_group)]
    columns: dict[str, np.ndarray] = {}
    for name, values in ratios.items():
        chosen = np.full((len(values), len(PEER_QUANTILES)), np.nan)
        count = np.zeros(len(values), dtype=np.int64)
        level = np.full(len(values), "", dtype=object)
        for label, codes in levels:
            q, peers = leave_one_out_quantiles(values, codes, tuple(PEER_QUANTILES.values()))
            use = (level == "") & (peers >= a.min_peers)
            chosen[use] = q[use]
            count[use] = peers[use]
            level[use] = label
        for i, k in enumerate(PEER_QUANTILES):
            columns[f"peer_{name}" if k == "median" else f"peer_{name}_{k}"] = chosen[:, i]
        columns[f"peer_{name}_count"] = count
        columns[f"peer_{name}_level"] = level
    return pd.DataFrame(columns, index=companies.index)


def describe_group(level: str, sic: object, industry: object) -> str:
    """The peer group a level names, for people: ``"SIC 3730"``, ``"SIC 37xx"``, ``"industry Autos"``."""
    code = pd.to_numeric(pd.Series([sic]), errors="coerce").iloc[0]
    if level == SIC_LEVELS[0]:
        return f"SIC {int(code)}"
    if level == SIC_LEVELS[1]:
        return f"SIC {int(code) // 10}x"
    if level == SIC_LEVELS[2]:
        return f"SIC {int(code) // 100}xx"
    if level:
        return f"industry {industry}"
    return "none (too few peers)"
