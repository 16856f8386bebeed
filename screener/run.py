"""Run a screen over a universe: metrics, fair values, scores, filters and ranks in one table."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from screener.fair_value import ALL_METHODS, fair_values
from screener.panel import build_panel
from screener.quality import (
    PIOTROSKI_LABELS,
    PIOTROSKI_SIGNALS,
    Z2_WEIGHTS,
    Z_WEIGHTS,
    quality_metrics,
)
from screener.ranking import FACTORS, score
from screener.screens import Screen, apply_filters

if TYPE_CHECKING:
    from universes import Universe

IDENTITY = (
    "ticker",
    "name",
    "sector",
    "industry",
    "sic",
    "manufacturing",
    "life_sciences",
    "exchange",
)
MARKET = ("price", "shares", "market_cap", "adv_usd", "fiscal_year")
#: Latest-year statement items carried into the screen table.
REPORTED = ("revenue", "operating_income", "net_income", "total_equity", "total_assets")

#: The columns every screen output carries first (the command-line JSON contract).
CONTRACT_COLUMNS = (
    "rank",
    "ticker",
    "name",
    "sector",
    "sic",
    "market_cap",
    "price",
    "fair_value",
    "price_to_fair_value",
    "piotroski_f",
    "altman_z",
    "composite",
)


@dataclass(frozen=True)
class ScreenResult:
    """Everything a screen computed.

    Attributes
    ----------
    table : pandas.DataFrame
        Every company of the universe (indexed by ticker) with all metrics, fair values,
        percentiles, contributions, ``composite``, ``quality``, ``value``, ``passes`` (all
        filters) and ``rank`` (1 = best among those that pass; missing for the others).
    screen : Screen
    universe_name : str
    as_of : pandas.Timestamp
    """

    table: pd.DataFrame
    screen: Screen
    universe_name: str
    as_of: pd.Timestamp

    @cached_property
    def ranked(self) -> pd.DataFrame:
        """The companies that pass, best first (computed once; do not modify it)."""
        passing = self.table[self.table["passes"]]
        return passing.sort_values("rank")

    def top(self, n: int | None = None) -> pd.DataFrame:
        """The first ``n`` ranked rows (all when ``n`` is None), contract columns first."""
        ranked = self.ranked if n is None else self.ranked.head(n)
        rest = [c for c in ranked.columns if c not in CONTRACT_COLUMNS]
        return ranked[list(CONTRACT_COLUMNS) + rest]


def compute_table(
    companies: pd.DataFrame, fundamentals: pd.DataFrame, screen: Screen
) -> pd.DataFrame:
    """All metrics, fair values and scores for ``companies`` (no filtering yet)."""
    tickers = companies.index
    panel = build_panel(fundamentals, tickers)
    for col in ("price", "shares", "market_cap"):
        panel[col] = companies[col]
    quality = quality_metrics(panel, companies["market_cap"], companies["manufacturing"])
    values = fair_values(panel, companies, screen.assumptions)
    base = companies[[c for c in (*IDENTITY, *MARKET) if c in companies.columns]].copy()
    base["ticker"] = tickers
    table = pd.concat([base, values, quality], axis=1)
    for col in REPORTED:
        table[col] = panel[col]
    table["years_of_data"] = panel["years"]
    scores = score(table, screen.weights, screen.peer_group, screen.missing)
    return pd.concat([table, scores], axis=1)


def run_screen(universe: Universe, screen: Screen) -> ScreenResult:
    """Screen a universe.

    Parameters
    ----------
    universe : universes.Universe
    screen : Screen

    Returns
    -------
    ScreenResult
        Percentiles are computed over the whole universe (within sectors by default), then
        the filters select who is ranked: a company's scores do not depend on the filters.
    """
    table = compute_table(universe.companies, universe.fundamentals, screen)
    return rank_table(table, screen, universe.name, universe.as_of)


def rank_table(
    table: pd.DataFrame, screen: Screen, universe_name: str, as_of: pd.Timestamp
) -> ScreenResult:
    """Apply a screen's filters to a scored table and number the survivors."""
    table = table.copy()
    table["passes"] = apply_filters(table, screen.filters)
    order = (
        table[table["passes"]].sort_values(["composite", "ticker"], ascending=[False, True]).index
    )
    rank = pd.Series(np.nan, index=table.index)
    rank.loc[order] = np.arange(1, len(order) + 1)
    table["rank"] = rank.astype("Int64")
    return ScreenResult(table, screen, universe_name, as_of)


def rescreen(result: ScreenResult, screen: Screen, universe: Universe) -> ScreenResult:
    """Re-run after a change: re-filter only when metrics, weights and assumptions are unchanged."""
    old = result.screen
    if (old.weights, old.peer_group, old.missing, old.assumptions) == (
        screen.weights,
        screen.peer_group,
        screen.missing,
        screen.assumptions,
    ):
        return rank_table(result.table, screen, result.universe_name, result.as_of)
    return run_screen(universe, screen)


def _value(x: Any) -> Any:
    if isinstance(x, float | np.floating) and not np.isfinite(x):
        return None
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, np.floating):
        return float(x)
    if x is pd.NA:
        return None
    return x


def evidence(result: ScreenResult, ticker: str) -> dict[str, Any]:
    """Why a company ranks where it does: each method, signal, component and contribution.

    Returns
    -------
    dict
        ``fair_value`` (methods with values and inputs, blend, reverse DCF), ``piotroski``
        (each signal pass/fail), ``altman`` (model, components, weights, zone), ``beneish``,
        ``ratios`` and ``score`` (each weighted factor's value, percentile and contribution).
    """
    row = result.table.loc[ticker]
    a = result.screen.assumptions
    g = _value
    methods = {
        "fv_epv": {
            "label": "Earnings power value",
            "value": g(row["fv_epv"]),
            "inputs": {
                "op_margin_avg": g(row["epv_op_margin"]),
                "revenue": g(row["revenue"]),
                "normalised_after_tax_earnings": g(row["epv_normalised_earnings"]),
                "cost_of_capital": a.cost_of_capital,
                "tax_rate": a.tax_rate,
                "net_debt": g(row["net_debt"]),
            },
        },
        "fv_multiples": {
            "label": "Sector-relative multiples",
            "value": g(row["fv_multiples"]),
            "inputs": {
                "ev_to_ebit": g(row["ev_to_ebit"]),
                "peer_ev_to_ebit": g(row["peer_ev_to_ebit"]),
                "value_at_peer_ev_to_ebit": g(row["fv_ev_ebit"]),
                "price_to_book": g(row["price_to_book"]),
                "peer_price_to_book": g(row["peer_price_to_book"]),
                "value_at_peer_price_to_book": g(row["fv_pb"]),
                "peer_group": a.peer_group,
            },
        },
        "fv_dcf": {
            "label": "Free-cash-flow DCF (two stages)",
            "value": g(row["fv_dcf"]),
            "inputs": {
                "fcf0": g(row["dcf_fcf0"]),
                "capex_avg": g(row["dcf_capex_avg"]),
                "initial_growth": g(row["dcf_g0"]),
                "discount_rate": a.discount_rate,
                "terminal_growth": a.terminal_growth,
                "years": a.dcf_years,
            },
        },
        "fv_graham": {
            "label": "Graham number (floor)",
            "value": g(row["fv_graham"]),
            "inputs": {"eps": g(row["eps"]), "book_per_share": g(row["book_per_share"])},
        },
    }
    zw = Z_WEIGHTS if row["altman_model"] == "Z" else Z2_WEIGHTS
    score_rows = []
    for name, w in result.screen.weights.items():
        if w <= 0:
            continue
        score_rows.append(
            {
                "factor": name,
                "label": FACTORS[name].label,
                "value": g(row[name]),
                "weight": w,
                "percentile": g(row[f"pct_{name}"]),
                "contribution": g(row[f"contrib_{name}"]),
            }
        )
    return {
        "fair_value": {
            "methods": methods,
            "method_order": list(ALL_METHODS),
            "blend": g(row["fair_value"]),
            "methods_used": g(row["fv_methods"]),
            "price": g(row["price"]),
            "price_to_fair_value": g(row["price_to_fair_value"]),
            "discount": g(row["discount"]),
            "uncertainty": row["uncertainty"],
            "implied_growth": g(row["implied_growth"]),
            "implied_growth_note": row["implied_growth_note"],
        },
        "piotroski": {
            "score": g(row["piotroski_f"]),
            "available": g(row["piotroski_available"]),
            "signals": [
                {"signal": s, "label": PIOTROSKI_LABELS[s], "pass": bool(row[s])}
                for s in PIOTROSKI_SIGNALS
            ],
        },
        "altman": {
            "model": row["altman_model"],
            "z": g(row["altman_z"]),
            "zone": row["z_zone"],
            "components": [
                {"component": k, "value": g(row[f"z_{k}"]), "weight": w} for k, w in zw.items()
            ],
        },
        "beneish": {
            "m_score": g(row["beneish_m"]),
            "flag": row["beneish_flag"],
            "indexes": {
                k: g(row[k]) for k in ("dsri", "gmi", "aqi", "sgi", "depi", "sgai", "tata", "lvgi")
            },
        },
        "ratios": {
            k: g(row[k])
            for k in (
                "interest_coverage",
                "net_debt_to_ebitda",
                "current_ratio",
                "sloan_accruals",
                "gross_profitability",
            )
        },
        "score": {
            "composite": g(row["composite"]),
            "quality": g(row["quality"]),
            "value": g(row["value"]),
            "rank": g(row["rank"]),
            "passes": bool(row["passes"]),
            "peer_group": result.screen.peer_group,
            "factors": score_rows,
        },
    }
