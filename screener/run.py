"""Run a screen over a universe: metrics, fair values, scores, filters and ranks in one table."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from screener.assumptions import ValuationAssumptions
from screener.fair_value import fair_values
from screener.flags import data_warnings, flag_evidence, red_flags
from screener.panel import build_panel
from screener.peers import describe_group
from screener.quality import (
    PIOTROSKI_LABELS,
    PIOTROSKI_SIGNALS,
    Z2_WEIGHTS,
    Z_WEIGHTS,
    Z_X4_CAP,
    quality_metrics,
)
from screener.ranking import FACTORS, score
from screener.rate_cuts import RATE_COLUMNS, rate_metrics
from screener.rates import MIN_WACC_OVER_GROWTH, RATE_BUILD_UP
from screener.screens import Screen, apply_filters
from screener.uncertainty import COMPONENTS, business_uncertainty, margin_of_safety
from universes.tickers import isin

if TYPE_CHECKING:
    from screener.themes import ThemeTags
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
MARKET = ("price", "shares", "market_cap", "adv_usd", "fiscal_year", "fundamentals_age_months")
#: Optional universe columns carried when present (``data_flags``: the data layer's notes and
#: corrections, shown in the evidence).
OPTIONAL = ("data_flags",)
#: Latest-year statement items carried into the screen table.
REPORTED = ("revenue", "operating_income", "net_income", "total_equity", "total_assets")
#: Statement items and cycle figures the evidence and the red flags read.
CYCLE_INPUTS = (
    "revenue_1",
    "revenue_avg",
    "revenue_peak",
    "revenue_growth_1y",
    "revenue_trend",
    "revenue_volatility",
    "op_margin_avg",
    "op_margin_std",
    "interest_expense",
    "non_operating_income",
    "abnormal_gains",
    "pretax_income",
    "income_tax",
    "tax_rate_effective",
    "income_continuing_ops",
    "extraordinary_gains",
    "earnings_3y_avg",
    "loss_years",
    "da_avg",
    "capex_avg",
    "wc_change_avg",
    "acquisitions_avg",
    "cash",
    "shares_basic",
    "shares_basic_1",
    "shares_basic_2",
    "shares_diluted",
    "unit_slips",
)
#: The inputs behind the evidence: in :attr:`ScreenResult.table` (:func:`evidence` reads them)
#: but left out of :meth:`ScreenResult.top`, the ranked output (command line, workbook).
DETAIL_COLUMNS = (
    *CYCLE_INPUTS,
    "revenue_normalised",
    "op_margin_normalised",
    "ebit_normalised",
    "tax_rate_used",
    "nopat",
    "reinvestment",
    "fcff0",
    "debt",
    "operating_cash",
    "excess_cash",
    "parent_share",
    "growth_recent",
    "growth_trend",
    "growth_blend",
    *(c for c in RATE_BUILD_UP if c != "wacc"),
    "eps",
    "book_per_share",
    "ev_to_ebit_normalised",
    "price_to_book_parent",
    *(
        f"peer_{m}{part}"
        for m in ("ev_to_ebit", "price_to_book")
        for part in ("", "_q1", "_q3", "_count", "_level")
    ),
    *(f"unc_{c}{part}" for c in COMPONENTS for part in ("", "_points")),
)

#: Columns a screen's weights and ranking options make (besides ``pct_*`` and ``contrib_*``).
SCORE_COLUMNS = ("flag_penalty", "composite", "quality", "value", "passes", "rank")

#: The methods of the evidence, in order: intrinsic (EPV, DCF), relative (both peer multiples
#: together, each in ``parts``), and the Graham ceiling.
EVIDENCE_METHODS = ("fv_epv", "fv_dcf", "relative_value", "fv_graham")

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
    "flags",
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

    def top(self, n: int | None = None, details: bool = False) -> pd.DataFrame:
        """The first ``n`` ranked rows (all when ``n`` is None), contract columns first.

        Every metric, fair value, flag and score; the inputs behind the evidence
        (``DETAIL_COLUMNS``) only with ``details=True``.
        """
        ranked = self.ranked if n is None else self.ranked.head(n)
        left_out = set(CONTRACT_COLUMNS) if details else {*CONTRACT_COLUMNS, *DETAIL_COLUMNS}
        rest = [c for c in ranked.columns if c not in left_out]
        return ranked[list(CONTRACT_COLUMNS) + rest]


def valuation_set(
    companies: pd.DataFrame,
    fundamentals: pd.DataFrame,
    reference_companies: pd.DataFrame | None = None,
    reference_fundamentals: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The companies valued together (each other's peers) and their fundamentals.

    The screened companies with their own rows and fundamentals, plus the reference set's
    other companies as peers; without a reference set, the screened companies alone (then
    relative values depend on the universe).
    """
    if reference_companies is None or reference_fundamentals is None:
        return companies, fundamentals
    others = reference_companies.index.difference(companies.index)
    peers_only = isin(reference_fundamentals["ticker"], others)
    return (
        pd.concat([companies, reference_companies.loc[others]]),
        pd.concat([fundamentals, reference_fundamentals[peers_only]], ignore_index=True),
    )


def compute_table(
    companies: pd.DataFrame,
    fundamentals: pd.DataFrame,
    screen: Screen,
    reference_companies: pd.DataFrame | None = None,
    reference_fundamentals: pd.DataFrame | None = None,
    integrity: pd.DataFrame | None = None,
    tags: ThemeTags | None = None,
) -> pd.DataFrame:
    """All metrics, fair values, flags and scores for ``companies`` (no filtering yet).

    Parameters
    ----------
    companies, fundamentals : pandas.DataFrame
        The screened companies (indexed by ticker) and their point-in-time fundamentals.
    screen : Screen
    reference_companies, reference_fundamentals : pandas.DataFrame, optional
        The fixed peer set of relative valuation (see :func:`valuation_set`).
    integrity : pandas.DataFrame, optional
        The data layer's findings, for the ``data_integrity`` flag
        (:func:`screener.flags.data_warnings`).
    tags : screener.themes.ThemeTags, optional
        Theme tags: their ``theme_<id>`` booleans and ``themes`` labels join the table (without
        them the table has no theme columns). The rate-cut figures of
        :mod:`screener.rate_cuts` always join.
    """
    a = screen.assumptions
    everyone, all_fundamentals = valuation_set(
        companies, fundamentals, reference_companies, reference_fundamentals
    )
    # Tickers as plain Python strings: pandas rebuilds the lookup table of an Arrow-backed
    # index for every slice it makes, which would cost more than the arithmetic here.
    everyone = everyone.set_axis(everyone.index.astype(object))
    companies = companies.set_axis(companies.index.astype(object))
    all_fundamentals = all_fundamentals.assign(ticker=all_fundamentals["ticker"].astype(object))
    fundamentals = fundamentals.assign(ticker=fundamentals["ticker"].astype(object))
    full_panel = build_panel(all_fundamentals, everyone.index)
    for col in ("price", "shares", "market_cap"):
        full_panel[col] = everyone[col]
    tickers = companies.index
    values = fair_values(full_panel, everyone, a, tickers)
    panel = full_panel.loc[tickers]
    quality = quality_metrics(panel, companies["market_cap"], companies["manufacturing"])
    uncertainty = business_uncertainty(panel, values)
    safety = margin_of_safety(uncertainty["uncertainty"], values["fair_value"], panel["price"], a)
    carried = [c for c in (*IDENTITY, *MARKET, *OPTIONAL) if c in companies.columns]
    base = companies[carried].copy()
    base["ticker"] = tickers
    reported = panel[[c for c in (*REPORTED, *CYCLE_INPUTS) if c not in values.columns]]
    rates = rate_metrics(fundamentals, companies, tax_rate=a.tax_rate)
    # interest_coverage is quality's column (the same function), debt the valuation's (the same sum)
    table = pd.concat([base, values, uncertainty, safety, quality, reported, rates.drop(columns=["interest_coverage", "debt"])], axis=1)
    if tags is not None:
        themes = tags.table.reindex(tickers)
        columns = [t.column for t in tags.themes]
        themes[columns] = themes[columns].fillna(False).astype(bool)
        table = pd.concat([table, themes.fillna({"themes": ""})], axis=1)
    table["years_of_data"] = panel["years"]
    table["data_warnings"] = data_warnings(tickers, integrity, companies.get("data_flags"))
    table = pd.concat([table, red_flags(table, a)], axis=1)
    scores = score(table, screen.weights, screen.peer_group, screen.missing, screen.penalties)
    return pd.concat([table, scores], axis=1)


def run_screen(universe: Universe, screen: Screen, tags: ThemeTags | None = None) -> ScreenResult:
    """Screen a universe.

    Parameters
    ----------
    universe : universes.Universe
        Its ``reference_companies`` / ``reference_fundamentals`` are the peers of relative
        valuation, so a company's fair value is the same whatever universe is screened; a
        universe built without them is its own peer set.
    screen : Screen
    tags : screener.themes.ThemeTags, optional
        Theme tags of the universe's companies (or of the whole dataset): their ``theme_<id>``
        columns and ``themes`` join the table; a screen that filters by theme needs them.

    Returns
    -------
    ScreenResult
        Percentiles are computed over the whole universe (within sectors by default), then
        the filters select who is ranked: a company's scores do not depend on the filters.
    """
    table = compute_table(
        universe.companies,
        universe.fundamentals,
        screen,
        universe.reference_companies,
        universe.reference_fundamentals,
        getattr(universe, "integrity", None),
        tags,
    )
    return rank_table(table, screen, universe.name, universe.as_of)


def rank_table(
    table: pd.DataFrame, screen: Screen, universe_name: str, as_of: pd.Timestamp
) -> ScreenResult:
    """Apply a screen's filters to a scored table and number the survivors."""
    table = table.copy()
    table["passes"] = apply_filters(table, screen.filters)
    keys = table.loc[table["passes"], ["composite", "ticker"]]
    order = keys.sort_values(["composite", "ticker"], ascending=[False, True]).index
    rank = pd.Series(np.nan, index=table.index)
    rank.loc[order] = np.arange(1, len(order) + 1)
    table["rank"] = rank.astype("Int64")
    return ScreenResult(table, screen, universe_name, as_of)


def rescreen(
    result: ScreenResult, screen: Screen, universe: Universe, tags: ThemeTags | None = None
) -> ScreenResult:
    """Re-run after a change, recomputing no more than the change needs.

    Same assumptions: the metrics and fair values are kept; with the same weights, ranking
    options and penalties too, only the filters are applied again, otherwise the scores are
    recomputed. New assumptions: the whole screen runs again.
    """
    old = result.screen
    if old.assumptions != screen.assumptions:
        return run_screen(universe, screen, tags)
    table = result.table
    if (old.weights, old.peer_group, old.missing, old.penalties) != (
        screen.weights,
        screen.peer_group,
        screen.missing,
        screen.penalties,
    ):
        kept = [
            c
            for c in table.columns
            if c not in SCORE_COLUMNS and not c.startswith(("pct_", "contrib_"))
        ]
        metrics = table[kept]
        scores = score(metrics, screen.weights, screen.peer_group, screen.missing, screen.penalties)
        table = pd.concat([metrics, scores], axis=1)
    return rank_table(table, screen, result.universe_name, result.as_of)


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


def _inputs(row: pd.Series, *names: str) -> dict[str, Any]:
    return {k: _value(row[k]) for k in names}


def _range_assumptions(row: pd.Series, a: ValuationAssumptions) -> dict[str, list[Any]]:
    """What the bear, base and bull cases assume (each a [bear, base, bull] list)."""
    margin, spread = row["op_margin_normalised"], row["op_margin_std"]
    spread = spread if np.isfinite(spread) else 0.0
    wacc, growth = row["wacc"], row["growth_initial"]
    floor = a.terminal_growth + MIN_WACC_OVER_GROWTH / 2
    return {
        "operating_margin": [_value(margin - spread), _value(margin), _value(margin + spread)],
        "wacc": [_value(wacc + a.rate_spread), _value(wacc), _value(max(wacc - a.rate_spread, floor))],
        "initial_growth": [
            _value(growth - a.growth_spread),
            _value(growth),
            _value(growth + a.growth_spread),
        ],
        "peer_multiples": ["lower quartile", "median", "upper quartile"],
    }


def _fair_value_evidence(row: pd.Series, a: ValuationAssumptions) -> dict[str, Any]:
    g = _value
    bridge = ("excess_cash", "debt", "parent_share", "shares")
    ev_group = describe_group(row["peer_ev_to_ebit_level"], row["sic"], row["industry"])
    pb_group = describe_group(row["peer_price_to_book_level"], row["sic"], row["industry"])
    methods = {
        "fv_epv": {
            "label": "Earnings power value",
            "family": "intrinsic",
            "value": g(row["fv_epv"]),
            "inputs": _inputs(
                row,
                "revenue_normalised",
                "op_margin_normalised",
                "ebit_normalised",
                "tax_rate_used",
                "nopat",
                "wacc",
                *bridge,
            ),
        },
        "fv_dcf": {
            "label": "Free cash flow to the firm, two stages, at the WACC",
            "family": "intrinsic",
            "value": g(row["fv_dcf"]),
            "inputs": {
                **_inputs(
                    row,
                    "nopat",
                    "da_avg",
                    "capex_avg",
                    "wc_change_avg",
                    "acquisitions_avg",
                    "fcff0",
                    "growth_recent",
                    "growth_trend",
                    "growth_blend",
                    "growth_initial",
                    "wacc",
                ),
                "recent_growth_weight": a.recent_growth_weight,
                "terminal_growth": a.terminal_growth,
                "years": a.dcf_years,
                **_inputs(row, *bridge),
                "stock_compensation": "an expense inside EBIT (not separately in the data)",
            },
        },
        "relative_value": {
            "label": "Peers' multiples (mean of the two below)",
            "family": "relative",
            "value": g(row["relative_value"]),
            "inputs": {
                "value_at_peer_ev_to_ebit": g(row["fv_ev_ebit"]),
                "value_at_peer_price_to_book": g(row["fv_pb"]),
                "peer_ev_to_ebit": g(row["peer_ev_to_ebit"]),
                "peer_price_to_book": g(row["peer_price_to_book"]),
                "peer_group": ev_group,
            },
            "parts": {
                "fv_ev_ebit": {
                    "label": "Peers' EV / normalised EBIT",
                    "value": g(row["fv_ev_ebit"]),
                    "inputs": {
                        **_inputs(
                            row,
                            "ev_to_ebit_normalised",
                            "peer_ev_to_ebit",
                            "peer_ev_to_ebit_q1",
                            "peer_ev_to_ebit_q3",
                            "peer_ev_to_ebit_count",
                            "ebit_normalised",
                            *bridge,
                        ),
                        "peer_group": ev_group,
                    },
                },
                "fv_pb": {
                    "label": "Peers' price / book (parent's share of book)",
                    "value": g(row["fv_pb"]),
                    "inputs": {
                        **_inputs(
                            row,
                            "price_to_book_parent",
                            "peer_price_to_book",
                            "peer_price_to_book_q1",
                            "peer_price_to_book_q3",
                            "peer_price_to_book_count",
                            "total_equity",
                            "parent_share",
                            "shares",
                        ),
                        "peer_group": pb_group,
                    },
                },
            },
        },
        "fv_graham": {
            "label": "Graham number (a defensive buyer's ceiling)",
            "family": "ceiling",
            "value": g(row["fv_graham"]),
            "inputs": {
                **_inputs(row, "earnings_3y_avg", "eps", "book_per_share"),
                "applied_as_ceiling": a.graham_ceiling,
            },
        },
    }
    w = a.intrinsic_weight
    return {
        "methods": methods,
        "method_order": list(EVIDENCE_METHODS),
        "blend": g(row["fair_value"]),
        "blend_rule": f"{w:g} x intrinsic value + {1 - w:g} x relative value "
        "(either alone when the other is missing)"
        + ("; never above the Graham number" if a.graham_ceiling else ""),
        "intrinsic_weight": w,
        "methods_used": g(row["fv_methods"]),
        **_inputs(
            row,
            "intrinsic_value",
            "relative_value",
            "price",
            "price_to_fair_value",
            "price_to_intrinsic_value",
            "price_to_relative_value",
            "discount",
        ),
        "range": {
            "bear": g(row["fair_value_bear"]),
            "base": g(row["fair_value"]),
            "bull": g(row["fair_value_bull"]),
            "assumptions": _range_assumptions(row, a),
        },
        "normalised": {
            **_inputs(
                row,
                "revenue",
                "revenue_avg",
                "revenue_normalised",
                "op_margin_avg",
                "op_margin_std",
                "ebit_normalised",
                "tax_rate_effective",
                "tax_rate_used",
                "nopat",
                "cash",
                "operating_cash",
                "excess_cash",
                "debt",
                "parent_share",
            ),
        },
        "uncertainty": row["uncertainty"],
        "margin_required": g(row["margin_required"]),
        "buy_below": g(row["buy_below"]),
        "cheap": bool(row["cheap"]),
        "implied_growth": g(row["implied_growth"]),
        "implied_growth_note": row["implied_growth_note"],
    }


def evidence(result: ScreenResult, ticker: str) -> dict[str, Any]:
    """Why a company ranks where it does: every method with its inputs, the rate build-up, the
    range, the uncertainty, the red flags, the quality signals and the factor contributions.

    Returns
    -------
    dict
        ``fair_value``: ``methods`` (``fv_epv``, ``fv_dcf``, ``relative_value`` (its two
        multiples in ``parts``: ``fv_ev_ebit``, ``fv_pb``) and ``fv_graham``; each ``label``,
        ``family``, ``value`` and ``inputs``), ``method_order``,
        ``blend`` (the fair value), ``blend_rule``, ``intrinsic_value``, ``relative_value``,
        ``range`` (``bear``, ``base``, ``bull`` and what each case assumes), ``normalised``
        (revenue, margin, tax, cash and debt as the methods use them), ``uncertainty`` (the
        rating), ``margin_required``, ``buy_below``, ``cheap``, ``implied_growth``.
        ``rates``: the build-up from the risk-free rate to the WACC.
        ``uncertainty``: ``rating``, ``score`` and each ``component`` with measure and points.
        ``flags``: every red flag with ``raised``, ``rule`` and ``evidence``; ``flag_labels``.
        ``piotroski`` (each signal; ``display`` is ``"5/6"`` when signals are missing),
        ``altman`` (model, components, weights, zone, X4 cap), ``beneish``, ``ratios`` and
        ``score`` (each weighted factor's value, percentile and contribution, the flag
        penalty), ``rate_cuts`` (what a 100 bp cut is worth: :mod:`screener.rate_cuts`) and
        ``themes`` (the company's themes, '' for none; missing without theme tags).
    """
    row = result.table.loc[ticker]
    a = result.screen.assumptions
    g = _value
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
        "fair_value": _fair_value_evidence(row, a),
        "rates": {
            "risk_free_rate": a.risk_free_rate,
            "equity_risk_premium": a.equity_risk_premium,
            **_inputs(row, "debt", "tax_rate_used", *RATE_BUILD_UP),
            "formula": "cost_of_equity = risk_free_rate + beta x equity_risk_premium + size_premium; "
            "beta = 1 + (1 - tax) x debt / equity; cost_of_debt = risk_free_rate + spread(coverage); "
            "wacc = (1 - debt_weight) x cost_of_equity + debt_weight x cost_of_debt x (1 - tax)",
        },
        "uncertainty": {
            "rating": row["uncertainty"],
            "score": g(row["uncertainty_score"]),
            "components": [
                {
                    "component": name,
                    "label": label,
                    "measure": g(row[f"unc_{name}"]),
                    "points": g(row[f"unc_{name}_points"]),
                    "thresholds": list(thresholds),
                }
                for name, (label, thresholds) in COMPONENTS.items()
            ],
            "margin_required": g(row["margin_required"]),
            "buy_below": g(row["buy_below"]),
            "cheap": bool(row["cheap"]),
        },
        "flags": flag_evidence(row, a),
        "flag_labels": row["flags"],
        "piotroski": {
            "score": g(row["piotroski_f"]),
            "available": g(row["piotroski_available"]),
            "display": row["piotroski_display"],
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
            "x4_cap": Z_X4_CAP,
        },
        "beneish": {
            "m_score": g(row["beneish_m"]),
            "flag": row["beneish_flag"],
            "indexes": {
                k: g(row[k]) for k in ("dsri", "gmi", "aqi", "sgi", "depi", "sgai", "tata", "lvgi")
            },
        },
        "ratios": _inputs(
            row,
            "interest_coverage",
            "net_debt_to_ebitda",
            "current_ratio",
            "sloan_accruals",
            "gross_profitability",
        ),
        "rate_cuts": {k: g(row[k]) for k in RATE_COLUMNS},
        "themes": row["themes"] if "themes" in row.index else None,
        "score": {
            **_inputs(row, "composite", "quality", "value", "flag_penalty", "rank"),
            "passes": bool(row["passes"]),
            "peer_group": result.screen.peer_group,
            "factors": score_rows,
        },
    }
